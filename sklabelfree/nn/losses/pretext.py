"""Pretext tasks on images: rotations, jigsaw puzzles and relative patch positions.

Pure functions that build the inputs and the labels of the three pretext
tasks (batched tensor operations, no loop over the rows); the loss of each
task is a cross-entropy over the labels they return.
"""

import itertools
import math

import numpy as np
import torch

__all__ = ["rotate_batch", "extract_tiles", "shuffle_tiles", "jigsaw_permutations",
           "hamming_distances", "crop_patches", "relative_patch_pairs",
           "RELATIVE_POSITIONS"]

RELATIVE_POSITIONS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
"""The 8 neighbours of the centre of a 3x3 grid, as (row, column) offsets.

Label ``k`` of :func:`relative_patch_pairs` is the neighbour
``RELATIVE_POSITIONS[k]``: row-major order, the centre skipped (0 is the
top-left neighbour, 1 the one above, 4 the one on the right, 7 the
bottom-right one)."""


def _check_images(x, who):
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
        raise ValueError(f"{who} needs a tensor of images (n, c, h, w), got {shape}.")


def rotate_batch(x):
    """Each image of a batch rotated by 0, 90, 180 and 270 degrees, with its label.

    The rotations are counter-clockwise (``torch.rot90`` over the last two
    dimensions) and laid out rotation by rotation: rows ``k * n`` to
    ``(k + 1) * n - 1`` of the output are the ``n`` images rotated by
    ``90 * k`` degrees, and their label is ``k`` (Gidaris et al. 2018 feed
    the four rotations of every image in the same batch).

    Parameters
    ----------
    x : torch.Tensor of shape (n, c, h, h)
        Square images (a rotation by 90 degrees swaps height and width).

    Returns
    -------
    rotated : torch.Tensor of shape (4 n, c, h, h)
    labels : torch.Tensor of int64, shape (4 n,)

    References
    ----------
    .. [1] S. Gidaris, P. Singh, N. Komodakis, "Unsupervised Representation
       Learning by Predicting Image Rotations", ICLR 2018.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import rotate_batch
    >>> x = torch.arange(4.0).reshape(1, 1, 2, 2)
    >>> rotated, labels = rotate_batch(x)
    >>> rotated[1, 0]
    tensor([[1., 3.],
            [0., 2.]])
    >>> labels
    tensor([0, 1, 2, 3])
    """
    _check_images(x, "rotate_batch")
    if x.shape[2] != x.shape[3]:
        raise ValueError(f"rotate_batch needs square images (a rotation by 90 degrees "
                         f"swaps height and width), got {x.shape[2]}x{x.shape[3]}.")
    rotated = torch.cat([torch.rot90(x, k, dims=(2, 3)) for k in range(4)])
    labels = torch.arange(4, device=x.device).repeat_interleave(x.shape[0])
    return rotated, labels


def extract_tiles(x, grid):
    """Cut each image into a ``grid x grid`` grid of tiles, in row-major order.

    The tiles are ``h // grid`` by ``w // grid`` pixels; when the size is not
    a multiple of ``grid`` the last rows and columns are dropped.

    Parameters
    ----------
    x : torch.Tensor of shape (n, c, h, w)
    grid : int
        Tiles per side.

    Returns
    -------
    tiles : torch.Tensor of shape (n, grid * grid, c, h // grid, w // grid)
        ``tiles[:, i * grid + j]`` is the tile of row ``i`` and column ``j``.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import extract_tiles
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> extract_tiles(x, 2)[0, 1, 0]
    tensor([[2., 3.],
            [6., 7.]])
    """
    _check_images(x, "extract_tiles")
    n, c, h, w = x.shape
    th, tw = h // grid, w // grid
    if th < 1 or tw < 1:
        raise ValueError(f"Images of {h}x{w} pixels are too small for a {grid}x{grid} "
                         "grid of tiles.")
    x = x[:, :, :th * grid, :tw * grid]
    tiles = x.reshape(n, c, grid, th, grid, tw).permute(0, 2, 4, 1, 3, 5)
    return tiles.reshape(n, grid * grid, c, th, tw)


def shuffle_tiles(tiles, permutations):
    """Reorder the tiles of each image: position ``k`` gets tile ``permutation[k]``.

    Parameters
    ----------
    tiles : torch.Tensor of shape (n, T, ...)
        The ``T`` tiles of each image (see :func:`extract_tiles`).
    permutations : torch.Tensor of int64, shape (n, T) or (T,)
        One permutation of ``range(T)`` per image (or one for every image).

    Returns
    -------
    shuffled : torch.Tensor of shape (n, T, ...)
        ``shuffled[i, k] = tiles[i, permutations[i, k]]``.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import shuffle_tiles
    >>> tiles = torch.tensor([[10.0, 11.0, 12.0]])
    >>> shuffle_tiles(tiles, torch.tensor([2, 0, 1]))
    tensor([[12., 10., 11.]])
    """
    permutations = torch.as_tensor(permutations, device=tiles.device).long()
    if permutations.dim() == 1:
        permutations = permutations.expand(tiles.shape[0], -1)
    if permutations.shape != tiles.shape[:2]:
        raise ValueError(f"permutations must be (n, T) = {tuple(tiles.shape[:2])}, got "
                         f"{tuple(permutations.shape)}.")
    index = permutations.reshape(*permutations.shape, *([1] * (tiles.dim() - 2)))
    return torch.gather(tiles, 1, index.expand_as(tiles))


def hamming_distances(a, b):
    """Hamming distances between two sets of permutations (positions that differ).

    Parameters
    ----------
    a : array-like of int, shape (p, T)
    b : array-like of int, shape (q, T)

    Returns
    -------
    distances : ndarray of int, shape (p, q)

    Examples
    --------
    >>> from sklabelfree.nn.losses import hamming_distances
    >>> hamming_distances([[0, 1, 2]], [[0, 1, 2], [1, 0, 2], [1, 2, 0]])
    array([[0, 2, 3]])
    """
    a, b = np.asarray(a), np.asarray(b)
    return (a[:, None, :] != b[None, :, :]).sum(axis=2)


def jigsaw_permutations(n_tiles, n_permutations, random_state=None, criterion="min"):
    """A set of tile permutations far apart in Hamming distance (greedy, seeded).

    Noroozi and Favaro (2016, Algorithm 1) start from a random permutation
    of the ``n_tiles!`` and repeatedly add the remaining permutation that is
    farthest from those already chosen; the farther apart the permutations,
    the less ambiguous the puzzle. With ``criterion='min'`` (the default)
    "farthest" is the largest minimal Hamming distance to the chosen set
    (a max-min, or farthest-point, selection; ties go to the largest total
    distance, then to the first in lexicographic order), which keeps close
    permutations apart far better than the mean does, though greedily, not
    optimally (for 4 tiles its sets of 5 to 12 reach a minimal distance of
    2, where the 12 even permutations are 3 apart); ``criterion='mean'`` is
    the paper's Algorithm 1 as written, the largest total (mean) distance.

    Parameters
    ----------
    n_tiles : int
        Tiles of the puzzle (4 for a 2x2 grid, 9 for 3x3); at most 10, as
        every permutation is enumerated.
    n_permutations : int
        Size of the set, at most ``n_tiles!``.
    random_state : int, numpy.random.RandomState or None, default=None
        Draws the first permutation.
    criterion : {'min', 'mean'}, default='min'

    Returns
    -------
    permutations : ndarray of int64, shape (n_permutations, n_tiles)
        Distinct permutations of ``range(n_tiles)``.

    References
    ----------
    .. [1] M. Noroozi, P. Favaro, "Unsupervised Learning of Visual
       Representations by Solving Jigsaw Puzzles", ECCV 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.nn.losses import hamming_distances, jigsaw_permutations
    >>> perms = jigsaw_permutations(4, 4, random_state=0)
    >>> perms.shape
    (4, 4)
    >>> d = hamming_distances(perms, perms)
    >>> int(d[~np.eye(4, dtype=bool)].min())
    4
    """
    from sklearn.utils import check_random_state

    if not 2 <= int(n_tiles) <= 10:
        raise ValueError(f"n_tiles must be in [2, 10], got {n_tiles}.")
    total = math.factorial(int(n_tiles))
    if not 1 <= int(n_permutations) <= total:
        raise ValueError(f"n_permutations must be in [1, {total}] (= {n_tiles}!, every "
                         f"permutation of {n_tiles} tiles), got {n_permutations}.")
    if criterion not in ("min", "mean"):
        raise ValueError(f"criterion must be 'min' or 'mean', got {criterion!r}.")
    rng = check_random_state(random_state)
    candidates = np.array(list(itertools.permutations(range(int(n_tiles)))),
                          dtype=np.int8)
    chosen = [int(rng.randint(total))]
    available = np.ones(total, dtype=bool)
    available[chosen[0]] = False
    d = (candidates != candidates[chosen[0]]).sum(axis=1).astype(np.int64)
    min_d, sum_d = d.copy(), d.copy()
    # Any key of the min criterion ranks by min, then by sum (sum < total * n_tiles).
    scale = int(n_permutations) * int(n_tiles) + 1
    for _ in range(int(n_permutations) - 1):
        score = min_d * scale + sum_d if criterion == "min" else sum_d.copy()
        score[~available] = -1
        j = int(np.argmax(score))
        chosen.append(j)
        available[j] = False
        d = (candidates != candidates[j]).sum(axis=1)
        np.minimum(min_d, d, out=min_d)
        sum_d += d
    return candidates[chosen].astype(np.int64)


def crop_patches(x, top, left, size):
    """Square patches of ``size`` pixels at a per-image position (batched).

    Parameters
    ----------
    x : torch.Tensor of shape (n, c, h, w)
    top, left : torch.Tensor of int64, shape (n,)
        Top-left corner of each image's patch (the patch must fit).
    size : int

    Returns
    -------
    patches : torch.Tensor of shape (n, c, size, size)
        ``patches[i] = x[i, :, top[i]:top[i] + size, left[i]:left[i] + size]``.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import crop_patches
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> crop_patches(x, torch.tensor([1]), torch.tensor([2]), 2)[0, 0]
    tensor([[ 6.,  7.],
            [10., 11.]])
    """
    _check_images(x, "crop_patches")
    n = x.shape[0]
    offsets = torch.arange(size, device=x.device)
    rows = (top.to(x.device).long()[:, None] + offsets)[:, :, None]   # (n, s, 1)
    cols = (left.to(x.device).long()[:, None] + offsets)[:, None, :]  # (n, 1, s)
    index = torch.arange(n, device=x.device)[:, None, None]
    # Advanced indexing on (n, h, w, c): (n, s, s, c), then channels first.
    return x.permute(0, 2, 3, 1)[index, rows, cols].permute(0, 3, 1, 2)


def relative_patch_pairs(x, patch_size, gap=0, jitter=0, generator=None):
    """A centre patch and one of its 8 neighbours per image, with the neighbour's label.

    Doersch et al. (2015) lay a 3x3 grid of ``patch_size`` patches over the
    image, ``gap`` pixels apart, move each patch by up to ``jitter``
    pixels in each direction (so that the network cannot continue lines
    across the boundary), and ask which of the 8 positions the second patch
    is in. Here the grid is placed at a random position where every
    (jittered) patch fits, the neighbour is drawn uniformly and the centre
    and the neighbour are jittered independently.

    Parameters
    ----------
    x : torch.Tensor of shape (n, c, h, w)
        ``h`` and ``w`` at least ``3 * patch_size + 2 * gap + 2 * jitter``.
    patch_size : int
    gap : int, default=0
        Pixels between neighbouring patches of the grid.
    jitter : int, default=0
        Largest move of a patch, in pixels, along each axis.
    generator : torch.Generator or None, default=None

    Returns
    -------
    centre : torch.Tensor of shape (n, c, patch_size, patch_size)
    neighbour : torch.Tensor of shape (n, c, patch_size, patch_size)
    labels : torch.Tensor of int64, shape (n,)
        Index in :data:`RELATIVE_POSITIONS` of the neighbour.

    References
    ----------
    .. [1] C. Doersch, A. Gupta, A. A. Efros, "Unsupervised Visual
       Representation Learning by Context Prediction", ICCV 2015.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import relative_patch_pairs
    >>> x = torch.arange(64.0).reshape(1, 1, 8, 8)
    >>> centre, neighbour, labels = relative_patch_pairs(
    ...     x, patch_size=2, gap=1, generator=torch.Generator().manual_seed(0))
    >>> centre[0, 0]  # with patch 2, gap 1 and an 8x8 image the grid is fixed
    tensor([[27., 28.],
            [35., 36.]])
    >>> centre.shape, neighbour.shape, labels.shape
    (torch.Size([1, 1, 2, 2]), torch.Size([1, 1, 2, 2]), torch.Size([1]))
    """
    _check_images(x, "relative_patch_pairs")
    n, _, h, w = x.shape
    need = 3 * patch_size + 2 * gap + 2 * jitter
    if h < need or w < need:
        raise ValueError(
            f"Images of {h}x{w} pixels are too small for a 3x3 grid of patches of "
            f"{patch_size} pixels with gap {gap} and jitter {jitter} (they need at "
            f"least {need}x{need}).")
    dev = x.device
    step = patch_size + gap

    def draw(high, size):
        # Uniform integers in [0, high] on the generator's device, then moved.
        gdev = generator.device if generator is not None else "cpu"
        return torch.randint(0, high + 1, size, generator=generator, device=gdev).to(dev)

    # Top-left corner of the grid's top-left cell (before jitter).
    top = draw(h - need, (n,)) + jitter
    left = draw(w - need, (n,)) + jitter
    labels = draw(7, (n,))
    offsets = torch.tensor(RELATIVE_POSITIONS, device=dev)[labels]  # (n, 2)
    moves = draw(2 * jitter, (4, n)) - jitter
    c_top, c_left = top + step + moves[0], left + step + moves[1]
    n_top = top + step * (1 + offsets[:, 0]) + moves[2]
    n_left = left + step * (1 + offsets[:, 1]) + moves[3]
    centre = crop_patches(x, c_top, c_left, patch_size)
    neighbour = crop_patches(x, n_top, n_left, patch_size)
    return centre, neighbour, labels
