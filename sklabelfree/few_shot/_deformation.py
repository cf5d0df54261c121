"""The image distortion model distance (Keysers et al. 2007) between images.

Each pixel of the first image is matched to the best pixel within
``warp_range`` of the same place in the second image, comparing the
``context_size x context_size`` windows around the two pixels; the distance
is the sum over the pixels of the first image of the squared differences of
their best matches. Pixels move independently of each other, which is what
makes the distance tolerate small local deformations (a stroke drawn one
pixel further right, a loop a little wider) that the Euclidean distance
between the images counts in full.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = []

# Bound on the number of floats of one block of (queries, references,
# pixels) distances; the queries are taken in chunks below it.
_BLOCK_FLOATS = 2**22


def _context_windows(images, context_size):
    """``(n, c, h, w)`` -> ``(h * w, n, c * context_size**2)``: the window of each pixel.

    Beyond the border, the windows see zeros (the background of the images
    this distance was made for).
    """
    n, c, h, w = images.shape
    r = context_size // 2
    padded = np.pad(images, ((0, 0), (0, 0), (r, r), (r, r)))
    windows = sliding_window_view(padded, (context_size, context_size), axis=(2, 3))
    # (n, c, h, w, k, k) -> (h, w, n, c, k, k)
    return np.ascontiguousarray(windows.transpose(2, 3, 0, 1, 4, 5)).reshape(
        h * w, n, c * context_size * context_size)


def _shifted_positions(h, w, warp_range):
    """For each displacement, the flat index of the displaced pixel, kept in the image."""
    rows, cols = np.divmod(np.arange(h * w), w)
    shifts = []
    seen = set()
    for dy in range(-warp_range, warp_range + 1):
        for dx in range(-warp_range, warp_range + 1):
            idx = np.clip(rows + dy, 0, h - 1) * w + np.clip(cols + dx, 0, w - 1)
            key = idx.tobytes()
            if key not in seen:
                seen.add(key)
                shifts.append(idx)
    return shifts


def image_distortion_distances(A, B, warp_range=1, context_size=3):
    """Image distortion model distances from each image of ``A`` to each of ``B``.

    Parameters
    ----------
    A : ndarray of shape (n_a, channels, height, width)
    B : ndarray of shape (n_b, channels, height, width)
    warp_range : int >= 0
        How far (in pixels, along each axis) a pixel of ``A`` may be matched
        from its place in ``B``; 0 with ``context_size=1`` is the squared
        Euclidean distance.
    context_size : odd int >= 1
        Width of the window around each pixel that is compared; zeros
        beyond the border of the image.

    Returns
    -------
    distances : ndarray of shape (n_a, n_b)
        ``sum over the pixels p of A of min over the pixels p' of B within
        warp_range of p of ||window_A(p) - window_B(p')||^2``.
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    h, w = A.shape[2:]
    WB = _context_windows(B, context_size)            # (hw, n_b, d)
    sq_b = np.einsum("pnd,pnd->pn", WB, WB)           # (hw, n_b)
    positions = _shifted_positions(h, w, warp_range)
    n_a, n_b = A.shape[0], B.shape[0]
    out = np.empty((n_a, n_b))
    # The rows of A in chunks: their windows and their block of distances
    # stay within a bounded number of floats however many rows A has.
    d_window = WB.shape[2]
    chunk = max(1, _BLOCK_FLOATS // max(1, h * w * max(n_b, d_window)))
    for start in range(0, n_a, chunk):
        stop = min(start + chunk, n_a)
        wa = _context_windows(A[start:stop], context_size)   # (hw, chunk, d)
        sq_a = np.einsum("pnd,pnd->pn", wa, wa)             # (hw, chunk)
        best = None
        for idx in positions:
            # (hw, chunk, d) @ (hw, d, n_b) -> (hw, chunk, n_b)
            d = (sq_a[:, :, None] + sq_b[idx][:, None, :]
                 - 2.0 * np.matmul(wa, WB[idx].transpose(0, 2, 1)))
            best = d if best is None else np.minimum(best, d)
        out[start:stop] = np.maximum(best, 0.0).sum(axis=0)
    return out
