"""Coloured digits: a colorization task whose colours depend on the digit."""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["colorize_digits"]

STROKE_LIGHTNESS = 70.0
"""CIE ``L`` of a fully inked pixel: the same for every hue, so the lightness
channel does not tell the colour."""

BACKGROUND_LAB = (20.0, 5.0, -15.0)
"""CIE Lab of the background: a dark, slightly blue grey."""


def colorize_digits(X, y, random_state=None):
    """Colour grayscale digits: a stroke hue per class on a dark background.

    Each image ``t`` in ``[0, 1]`` (the ink of
    :func:`~sklabelfree.datasets.load_digits_images`) becomes the sRGB
    image ``(1 - t) * background + t * stroke``. The background is a
    dark blue grey (CIE Lab ``(20, 5, -15)``) shared by all images; the
    stroke colour has lightness ``L = 70``, chroma drawn uniformly in
    ``[25, 35]`` and hue angle ``36 * y + u`` degrees in the ab plane, with
    ``u`` uniform in ``[-10, 10]`` drawn per image: each class has its own
    hue, nearby classes' hues are one tenth of the wheel apart, and all
    colours are in the sRGB gamut.

    The lightness of a pixel depends on its ink, hardly on the hue, so the
    ``L`` channel is (up to a monotone map) the grayscale digit: to predict
    the colours from it a network has to recognise the digit, which is
    what makes colorization a useful pretext task here. The colours give
    the class away to a model that sees them (a linear model on the RGB
    pixels), not to one that only sees the lightness.

    Parameters
    ----------
    X : array-like of shape (n, 1, h, w) or (n, h, w)
        Grayscale images with values in ``[0, 1]``.
    y : array-like of int of shape (n,)
        Their classes (any integers; the hue is taken modulo 10 classes).
    random_state : int, RandomState instance or None, default=None
        Draws each image's chroma and hue offset.

    Returns
    -------
    X_rgb : ndarray of float32, shape (n, 3, h, w)
        sRGB images in ``[0, 1]``.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.datasets import colorize_digits
    >>> X, y = load_digits_images()
    >>> X_rgb = colorize_digits(X, y, random_state=0)
    >>> X_rgb.shape, X_rgb.dtype, bool(X_rgb.min() >= 0 and X_rgb.max() <= 1)
    ((1797, 3, 8, 8), dtype('float32'), True)
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 3:
        X = X[:, None]
    if X.ndim != 4 or X.shape[1] != 1:
        raise ValueError(f"X must be grayscale images (n, 1, h, w) or (n, h, w), got "
                         f"shape {X.shape}.")
    if X.size and (np.isnan(X).any() or X.min() < 0 or X.max() > 1):
        raise ValueError("X must have values in [0, 1] (the ink of each pixel), "
                         "with no NaN.")
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}.")
    if y.size and not (y.dtype.kind in "iu" or (
            y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0))):
        raise ValueError(
            f"y must hold the digits' integer labels (their hue), got dtype {y.dtype}"
            + (" with non-integer values." if y.dtype.kind == "f" else "."))
    # torch does the colour conversion; imported here so that the data sets do not
    # import it.
    import torch

    from ..nn.losses.colorization import lab_to_rgb

    rng = check_random_state(random_state)
    n = X.shape[0]
    chroma = rng.uniform(25.0, 35.0, n)
    hue = np.deg2rad(36.0 * (y.astype(np.int64) % 10) + rng.uniform(-10.0, 10.0, n))
    stroke_lab = np.stack([np.full(n, STROKE_LIGHTNESS), chroma * np.cos(hue),
                           chroma * np.sin(hue)], axis=1)
    stroke = lab_to_rgb(torch.as_tensor(stroke_lab), dim=1).numpy()          # (n, 3)
    background = lab_to_rgb(torch.tensor([BACKGROUND_LAB], dtype=torch.float64),
                            dim=1).numpy()                                  # (1, 3)
    t = X.astype(np.float64)
    rgb = (1.0 - t) * background[:, :, None, None] + t * stroke[:, :, None, None]
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)

