"""Hide labels to make a partially labeled target."""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state, column_or_1d

from .. import UNLABELED
from ..utils.validation import _is_missing, check_string_minus_one, labeled_mask


def make_partially_labeled(y, n_labeled, per_class=True, random_state=None):
    """Keep ``n_labeled`` labels of ``y`` and mark every other row ``-1``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Fully labeled target. It is not modified.
    n_labeled : int
        Number of labels to keep. With ``per_class=True`` it must be a
        multiple of the number of classes and ``n_labeled // n_classes``
        rows of each class are kept (drawn at random within the class);
        otherwise ``n_labeled`` rows are drawn at random from all rows.
    per_class : bool, default=True
        Keep the same number of labels in every class.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw.

    Returns
    -------
    y_partial : ndarray of shape (n_samples,)
        A copy of ``y`` with ``-1`` on the rows whose label was hidden. An
        array of strings is returned with ``object`` dtype so that it can
        hold the integer ``-1``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.datasets import make_partially_labeled
    >>> y = np.array([0, 0, 0, 1, 1, 1])
    >>> y_partial = make_partially_labeled(y, 2, random_state=0)
    >>> int((y_partial == -1).sum()), sorted(y_partial[y_partial != -1].tolist())
    (4, [0, 1])
    """
    y = column_or_1d(y)
    if not isinstance(n_labeled, Integral) or isinstance(n_labeled, bool):
        raise TypeError(f"n_labeled must be an int, got {type(n_labeled).__name__}.")
    if n_labeled < 1:
        raise ValueError(f"n_labeled must be at least 1, got {n_labeled}.")
    if n_labeled > y.shape[0]:
        raise ValueError(
            f"n_labeled={n_labeled} is larger than the number of rows ({y.shape[0]})."
        )
    if (y.dtype.kind == "f" and np.isnan(y).any()) or (
            y.dtype.kind == "O" and any(_is_missing(v) for v in y)):
        raise ValueError(
            "y contains None or NaN; make_partially_labeled needs a full target.")
    check_string_minus_one(y, "make_partially_labeled: ")
    if not isinstance(per_class, (bool, np.bool_)):
        raise TypeError(f"per_class must be True or False, got {per_class!r}.")
    if not labeled_mask(y).all():
        raise ValueError(
            "y already contains -1 (unlabeled rows); make_partially_labeled needs a "
            "full target, with every row labeled.")
    rng = check_random_state(random_state)
    if y.dtype.kind in "US":
        out = y.astype(object)
    else:
        out = np.array(y, copy=True)
    keep = np.zeros(y.shape[0], dtype=bool)
    if per_class:
        classes = np.unique(y)
        if n_labeled % classes.shape[0]:
            raise ValueError(
                f"n_labeled={n_labeled} is not a multiple of the {classes.shape[0]} "
                "classes; use per_class=False to draw labels over all rows."
            )
        k = n_labeled // classes.shape[0]
        for c in classes:
            rows = np.flatnonzero(y == c)
            if rows.shape[0] < k:
                raise ValueError(
                    f"class {c!r} has {rows.shape[0]} rows, fewer than the {k} "
                    "labels per class asked for."
                )
            keep[rng.choice(rows, size=k, replace=False)] = True
    else:
        keep[rng.choice(y.shape[0], size=n_labeled, replace=False)] = True
    if out.dtype.kind == "u":
        out = out.astype(np.int64)
    elif out.dtype.kind not in "ifO":
        out = out.astype(object)
    out[~keep] = UNLABELED
    return out
