"""The digits data set (shipped with scikit-learn) as images or rows."""

import numbers

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from .. import UNLABELED


def load_digits_images(as_images=True, return_X_y=True):
    """Load scikit-learn's digits, scaled to ``[0, 1]``, as float32.

    1797 images of 8x8 pixels, 10 classes. Pixels are divided by 16.

    Parameters
    ----------
    as_images : bool, default=True
        Return ``X`` of shape ``(1797, 1, 8, 8)``; otherwise ``(1797, 64)``.
    return_X_y : bool, default=True
        Return ``(X, y)``; otherwise a :class:`~sklearn.utils.Bunch` with
        ``data``, ``target``, ``target_names`` and ``images``.

    Returns
    -------
    X : ndarray of float32, shape (1797, 1, 8, 8) or (1797, 64)
    y : ndarray of int, shape (1797,)

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> X, y = load_digits_images()
    >>> X.shape, X.dtype, float(X.max())
    ((1797, 1, 8, 8), dtype('float32'), 1.0)
    >>> load_digits_images(as_images=False)[0].shape
    (1797, 64)
    """
    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    if as_images:
        X = X.reshape(-1, 1, 8, 8)
    y = digits.target.copy()
    if return_X_y:
        return X, y
    digits.data = X
    digits.images = X.reshape(-1, 8, 8)
    digits.target = y
    return digits


def digits_benchmark_split(n_labels, random_state=0, as_images=False):
    """The partially labeled digits split of sklabelfree's benchmarks.

    ``train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)``,
    then ``n_labels // 10`` labeled training rows per class drawn with
    ``np.random.RandomState(seed)``; every other training row gets ``-1``.

    Parameters
    ----------
    n_labels : int
        Total number of labels kept in the training part: a multiple of 10,
        the same number for each class.
    random_state : int, default=0
        The seed of both the split and the draw of labels.
    as_images : bool, default=False
        Images ``(n, 1, 8, 8)`` instead of rows ``(n, 64)``.

    Returns
    -------
    X_train : ndarray of float32
    y_train : ndarray of int, shape (1257,)
        With ``-1`` on the unlabeled rows.
    X_test : ndarray of float32
    y_test : ndarray of int, shape (540,)
    y_train_full : ndarray of int, shape (1257,)
        Every training label, for the fully supervised reference.

    Examples
    --------
    >>> from sklabelfree.datasets import digits_benchmark_split
    >>> X_tr, y_tr, X_te, y_te, y_full = digits_benchmark_split(20, random_state=0)
    >>> X_tr.shape, int((y_tr != -1).sum()), X_te.shape
    ((1257, 64), 20, (540, 64))
    """
    if not isinstance(random_state, numbers.Integral) or isinstance(random_state, bool):
        raise TypeError(
            f"random_state must be an int (the seed of the split and of the labels), "
            f"got {random_state!r}.")
    if (not isinstance(n_labels, numbers.Integral) or isinstance(n_labels, bool)
            or n_labels < 10 or n_labels % 10):
        raise ValueError(
            f"n_labels must be a positive multiple of 10 (the same number of labels "
            f"for each of the 10 classes), got {n_labels!r}.")
    X, y = load_digits_images(as_images=as_images)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=random_state
    )
    rng = np.random.RandomState(random_state)
    per_class = n_labels // 10
    smallest = int(np.bincount(y_tr).min())
    if per_class > smallest:
        raise ValueError(
            f"n_labels={n_labels} asks for {per_class} labels per class, but the "
            f"training part has only {smallest} rows of its smallest class: at most "
            f"{10 * smallest} labels.")
    keep = np.zeros(y_tr.shape[0], dtype=bool)
    for c in range(10):
        rows = np.flatnonzero(y_tr == c)
        keep[rng.choice(rows, per_class, replace=False)] = True
    y_partial = np.where(keep, y_tr, UNLABELED)
    return X_tr, y_partial, X_te, y_te, y_tr
