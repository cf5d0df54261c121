"""A domain shift on digits: the same digits, moved, blurred and dimmed."""

import numpy as np
from scipy import ndimage

from .. import UNLABELED

__all__ = ["make_shifted_digits", "shift_digits"]


def shift_digits(X, *, shift=(0.0, 0.5), blur=0.8, contrast=0.8, brightness=0.0):
    """Apply a fixed, deterministic change of appearance to 8x8 digit images.

    In this order: a translation by ``shift = (down, right)`` pixels
    (bilinear interpolation, zeros enter at the border), a Gaussian blur of
    standard deviation ``blur`` pixels, then the contrast and brightness
    change ``contrast * x + brightness``, clipped to ``[0, 1]``. The
    defaults (half a pixel to the right, a soft blur, 80 % contrast: digits
    written a little to the right with a softer, dimmer pen) are those of
    the ``transfer`` benchmark: a logistic regression trained on the
    original digits falls from about 0.96 accuracy (unshifted test digits)
    to about 0.52 on them,
    while the two domains still overlap (the background stays 0, so no
    single pixel tells the domains apart), as importance weighting assumes.

    Parameters
    ----------
    X : array-like of shape (n_samples, 64) or (n_samples, 1, 8, 8)
        Digits scaled to ``[0, 1]`` (as :func:`~sklabelfree.datasets.load_digits_images`).
    shift : tuple of 2 floats, default=(0.0, 0.5)
        Translation in pixels, down and right (negative: up and left).
    blur : float >= 0, default=0.8
        Standard deviation of the Gaussian blur, in pixels; 0: none.
    contrast : float > 0, default=0.8
        Multiplies the pixel values.
    brightness : float, default=0.0
        Added to the pixel values after the contrast.

    Returns
    -------
    X_shifted : ndarray of float32, same shape as ``X``
        A new array; ``X`` is not modified.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.transfer import shift_digits
    >>> X = np.zeros((1, 64)); X[0, 27] = 1.0        # one lit pixel at (3, 3)
    >>> Z = shift_digits(X, shift=(1, 0), blur=0, contrast=1.0, brightness=0.0)
    >>> int(np.argmax(Z[0])), float(Z[0].max())      # moved one row down: (4, 3)
    (35, 1.0)
    >>> Z = shift_digits(X)                           # the defaults: softer, dimmer
    >>> round(float(Z.sum()), 3), float(Z.max()) < 0.8
    (0.8, True)
    """
    X = np.asarray(X, dtype=np.float64)
    shape = X.shape
    if X.ndim == 2 and X.shape[1] == 64:
        images = X.reshape(-1, 8, 8)
    elif X.ndim == 4 and X.shape[1:] == (1, 8, 8):
        images = X.reshape(-1, 8, 8)
    else:
        raise ValueError(
            f"shift_digits expects rows of 64 pixels or images (n, 1, 8, 8); got shape "
            f"{shape}.")
    if np.isnan(images).any():
        raise ValueError("shift_digits: X contains NaN.")
    if np.ndim(shift) != 1 or len(shift) != 2:
        raise ValueError(f"shift must be a pair (down, right); got {shift!r}.")
    if blur < 0:
        raise ValueError(f"blur must be >= 0; got {blur}.")
    if contrast <= 0:
        raise ValueError(f"contrast must be > 0; got {contrast}.")
    out = ndimage.shift(images, (0.0, float(shift[0]), float(shift[1])), order=1,
                        mode="constant", cval=0.0)
    if blur > 0:
        out = ndimage.gaussian_filter(out, sigma=(0.0, blur, blur), mode="constant")
    out = np.clip(contrast * out + brightness, 0.0, 1.0)
    return out.reshape(shape).astype(np.float32)


def make_shifted_digits(random_state=0, **shift_params):
    """The digits domain-shift problem of sklabelfree's transfer benchmark.

    The split of PROTOCOL.md (``train_test_split(test_size=0.3,
    stratify=y, random_state=random_state)`` of digits scaled to
    ``[0, 1]``): the training part, with every label, is the source; the
    test part, changed by :func:`shift_digits`, is the target. ``X`` and
    ``y`` are what a domain adaptation estimator is fitted on: the source
    rows with their labels, then the target rows with ``-1``. The target's
    true labels are returned apart, to score on.

    Parameters
    ----------
    random_state : int, default=0
        Seed of the split.
    **shift_params : dict
        Passed to :func:`shift_digits` (``shift``, ``blur``, ``contrast``,
        ``brightness``).

    Returns
    -------
    X : ndarray of float32 of shape (1797, 64)
        The 1257 source rows, then the 540 target rows.
    y : ndarray of int of shape (1797,)
        The source labels, then ``-1`` on the target rows.
    X_target : ndarray of float32 of shape (540, 64)
        The target rows (the same as ``X[1257:]``).
    y_target : ndarray of int of shape (540,)
        Their true labels, never seen by ``fit``.

    Examples
    --------
    >>> from sklabelfree.transfer import make_shifted_digits
    >>> X, y, X_target, y_target = make_shifted_digits(random_state=0)
    >>> X.shape, int((y == -1).sum()), X_target.shape, y_target[:5]
    ((1797, 64), 540, (540, 64), array([1, 4, 5, 6, 9]))
    """
    from ..datasets import digits_benchmark_split

    X_source, _, X_test, y_target, y_source = digits_benchmark_split(
        10, random_state=random_state)
    X_target = shift_digits(X_test, **shift_params)
    X = np.vstack([X_source, X_target]).astype(np.float32)
    y = np.r_[y_source, np.full(X_target.shape[0], UNLABELED, dtype=y_source.dtype)]
    return X, y, X_target, y_target
