"""Column views of flattened images, for co-training."""

from numbers import Integral

import numpy as np


def image_half_views(image_shape=(8, 8), axis="width"):
    """Column indices of the two halves of flattened images.

    For images flattened row by row (``(n, h * w)``, as scikit-learn's
    digits), return the indices of the left and right halves
    (``axis='width'``) or of the top and bottom halves (``axis='height'``).
    They are disjoint and together cover every column: two views for
    :class:`~sklabelfree.semi_supervised.CoTrainingClassifier`.

    Parameters
    ----------
    image_shape : tuple of int (h, w), default=(8, 8)
        Height and width of the images.
    axis : {'width', 'height'}, default='width'
        Split the width (left / right) or the height (top / bottom).

    Returns
    -------
    views : list of two ndarrays of int

    Examples
    --------
    >>> from sklabelfree.datasets import image_half_views
    >>> left, right = image_half_views((2, 4))
    >>> left.tolist(), right.tolist()
    ([0, 1, 4, 5], [2, 3, 6, 7])
    """
    shape = tuple(image_shape) if hasattr(image_shape, "__len__") else (image_shape,)
    if len(shape) != 2 or not all(
            isinstance(v, Integral) and not isinstance(v, bool) and v > 0 for v in shape):
        raise ValueError(
            f"image_shape must be a pair of positive ints (height, width), got "
            f"{image_shape!r}.")
    h, w = (int(v) for v in shape)
    if axis not in ("width", "height"):
        raise ValueError(f"axis must be 'width' or 'height', got {axis!r}.")
    size = w if axis == "width" else h
    if size < 2:
        raise ValueError(f"an image of shape {image_shape} cannot be split along {axis}.")
    grid = np.arange(h * w).reshape(h, w)
    half = size // 2
    if axis == "width":
        first, second = grid[:, :half], grid[:, half:]
    else:
        first, second = grid[:half, :], grid[half:, :]
    return [np.sort(first.ravel()), np.sort(second.ravel())]
