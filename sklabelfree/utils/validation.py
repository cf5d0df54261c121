"""Validation of partially labeled targets and of column views."""

import numbers
import warnings

import numpy as np
from sklearn.utils import column_or_1d
from sklearn.utils.multiclass import check_classification_targets

from .. import UNLABELED

__all__ = [
    "AllLabeledWarning",
    "as_label_array",
    "check_partially_labeled",
    "check_string_minus_one",
    "labeled_mask",
]


class AllLabeledWarning(UserWarning):
    """Warning raised when a semi-supervised estimator gets no unlabeled row.

    The estimator still fits: it then learns from the labeled rows only.

    Examples
    --------
    >>> import warnings
    >>> from sklabelfree.utils.validation import (
    ...     AllLabeledWarning, check_partially_labeled)
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     _ = check_partially_labeled([0, 1, 1])
    >>> w[0].category is AllLabeledWarning
    True
    """


def _is_unlabeled_scalar(value):
    """Whether one entry of an object-dtype target is the marker ``-1``.

    Any number equal to -1 but a boolean (a float ``-1.0`` of an object
    Series included), as :func:`check_partially_labeled` reads it.
    """
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, np.bool_))
        and value == UNLABELED
    )


def as_label_array(y):
    """``y`` as an array, keeping the integer ``-1`` of a list next to strings.

    ``np.asarray(["cat", -1])`` gives the strings ``'cat'`` and ``'-1'``; a
    list (or tuple) with a string in it becomes an object array instead, so
    its ``-1`` still marks an unlabeled row. Arrays, Series and other
    array-likes are converted with ``np.asarray``.

    Parameters
    ----------
    y : array-like

    Returns
    -------
    y : ndarray

    Examples
    --------
    >>> from sklabelfree.utils.validation import as_label_array
    >>> as_label_array(["cat", -1, "dog"])
    array(['cat', -1, 'dog'], dtype=object)
    """
    if isinstance(y, (list, tuple)) and any(isinstance(v, (str, np.str_)) for v in y):
        out = np.empty(len(y), dtype=object)
        out[:] = list(y)
        return out
    if isinstance(y, (list, tuple)) and len(y) == 0:
        return np.empty(0, dtype=int)
    return np.asarray(y)


def check_string_minus_one(y, who=""):
    """Refuse a string array that holds ``'-1'`` (meant as the integer -1).

    Parameters
    ----------
    y : ndarray
    who : str, default=''
        Prefix of the message (the estimator's name and a colon).

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.utils.validation import check_string_minus_one
    >>> check_string_minus_one(np.array(["a", "-1"]))
    Traceback (most recent call last):
    ...
    ValueError: y contains the string '-1'. ...
    """
    if y.dtype.kind in "US":
        has = bool(np.any(y == str(UNLABELED)))
    elif y.dtype.kind == "O":
        has = any(isinstance(v, str) and v == str(UNLABELED) for v in y.ravel())
    else:
        has = False
    if has:
        raise ValueError(
            f"{who}y contains the string '-1'. Unlabeled rows are marked with "
            "the integer -1 (beside string labels: in a list or an object "
            "array, e.g. np.array(['cat', -1, 'dog'], dtype=object)); a class "
            "named '-1' must be renamed."
        )


def _labeled_entries(y_labeled):
    """Labeled entries of an object target of numbers or booleans as a numeric array.

    An object target of booleans (or integers) beside the integer ``-1`` (what
    :func:`~sklabelfree.datasets.make_partially_labeled` returns for a boolean
    y, or a pandas object Series) has bool (int) classes, but its labeled
    entries are still objects, which scikit-learn reads as the target type
    'unknown' and refuses. They are given to estimators, splitters and
    scorers as a bool (int, float) array; strings stay objects.
    """
    y_labeled = np.asarray(y_labeled)
    if y_labeled.dtype == object and y_labeled.size and not any(
            isinstance(v, (str, bytes)) for v in y_labeled.ravel()):
        return np.asarray(y_labeled.tolist())
    return y_labeled


def labeled_mask(y):
    """Boolean mask of the labeled rows of a partially labeled target.

    A row is unlabeled when its label is ``-1`` (:data:`sklabelfree.UNLABELED`).
    For object arrays only the integer ``-1`` marks an unlabeled row; the
    string ``"-1"`` does not.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Target with ``-1`` for unlabeled entries.

    Returns
    -------
    mask : ndarray of bool, same shape as ``y``
        ``True`` where a label is present.

    Examples
    --------
    >>> from sklabelfree.utils.validation import labeled_mask
    >>> labeled_mask([0, -1, 2])
    array([ True, False,  True])
    """
    y = as_label_array(y)
    if y.dtype.kind == "O":
        flat = np.fromiter(
            (not _is_unlabeled_scalar(v) for v in y.ravel()), dtype=bool, count=y.size
        )
        return flat.reshape(y.shape)
    if y.dtype.kind in "USb":
        return np.ones(y.shape, dtype=bool)
    return y != UNLABELED


def _is_missing(value):
    """None, NaN of any float type, or a missing-value marker (pandas' NA, NaT)."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):   # pandas.NA: its comparisons are NA
        return True


def check_partially_labeled(
    y,
    *,
    min_classes=2,
    warn_all_labeled=True,
    allow_negative_labels=True,
    estimator_name=None,
):
    """Validate a partially labeled classification target.

    Every sklabelfree estimator calls this helper on ``y`` so that the
    rules, and the messages, are the same everywhere:

    - ``-1`` marks an unlabeled row and is never a class;
    - ``NaN`` is refused with a message saying to use ``-1``;
    - at least one row must be labeled, with at least ``min_classes``
      distinct classes among the labeled rows;
    - labels are all numbers or all strings (string labels live in an
      ``object`` array, where the integer ``-1`` marks unlabeled rows);
    - a target with no unlabeled row is accepted with an
      :class:`AllLabeledWarning`.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Target, ``-1`` for unlabeled rows. A column vector is raveled with a
        ``DataConversionWarning``.
    min_classes : int, default=2
        Minimum number of distinct classes among the labeled rows.
    warn_all_labeled : bool, default=True
        Warn when no row is unlabeled.
    allow_negative_labels : bool, default=True
        Whether negative numeric labels other than ``-1`` are accepted as
        classes. Deep estimators set it to False, where ``-2`` is almost
        always a mistake.
    estimator_name : str, default=None
        Name used in error messages.

    Returns
    -------
    y : ndarray of shape (n_samples,)
        The validated target (a new array; the input is never modified).
        String arrays are returned with ``object`` dtype.
    labeled : ndarray of bool of shape (n_samples,)
        Mask of the labeled rows.
    classes : ndarray of shape (n_classes,)
        Sorted classes present among the labeled rows.

    Raises
    ------
    ValueError
        On ``None``, NaN, all rows unlabeled, fewer than ``min_classes``
        classes, mixed label types, continuous targets or the string ``"-1"``.

    Examples
    --------
    >>> from sklabelfree.utils.validation import check_partially_labeled
    >>> y, labeled, classes = check_partially_labeled([0, 1, -1, 1])
    >>> labeled
    array([ True,  True, False,  True])
    >>> classes
    array([0, 1])
    """
    who = f"{estimator_name}: " if estimator_name else ""
    if y is None:
        raise ValueError(
            f"{who}requires y to be passed, but the target y is None. "
            "Mark unlabeled rows with -1."
        )
    y = column_or_1d(as_label_array(y), warn=True)
    y = np.array(y, copy=True)
    check_string_minus_one(y, who)
    if y.dtype.kind in "US":
        y = y.astype(object)
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(
            f"{who}y contains NaN. Mark unlabeled rows with -1 "
            "(sklabelfree.UNLABELED), not NaN."
        )
    if y.dtype.kind == "c":
        raise ValueError(f"{who}complex labels are not supported.")
    labeled = labeled_mask(y)
    if y.dtype.kind == "O":
        kinds = set()
        for v in y[labeled]:
            if _is_missing(v):
                raise ValueError(
                    f"{who}y contains None or NaN. Mark unlabeled rows with -1 "
                    "(sklabelfree.UNLABELED)."
                )
            kinds.add("str" if isinstance(v, str) else
                      "bool" if isinstance(v, (bool, np.bool_)) else "number")
        if "str" in kinds and len(kinds) > 1:
            raise ValueError(
                f"{who}y mixes label types (strings and numbers). Use one type "
                "for the classes and the integer -1 for unlabeled rows."
            )
        if kinds == {"number"}:
            # Numbers in an object array (a target read as objects, a pandas
            # object Series): an ordinary numeric target.
            numeric = np.asarray(y.tolist())
            if numeric.dtype.kind in "iuf":
                y = numeric
                labeled = labeled_mask(y)
    if y.shape[0] == 0:
        raise ValueError(f"{who}y is empty: at least one labeled row is needed.")
    if not labeled.any():
        raise ValueError(
            f"{who}every row of y is unlabeled (-1): at least one labeled row "
            "of each of two classes is needed."
        )
    y_labeled = y[labeled]
    if y.dtype.kind == "O" and all(isinstance(v, str) for v in y_labeled):
        pass
    elif y.dtype.kind == "O":
        # Booleans beside the integer -1 (what make_partially_labeled gives
        # for a boolean target): checked as the boolean target they are.
        check_classification_targets(np.asarray(y_labeled.tolist()))
    else:
        check_classification_targets(y_labeled)
    if not allow_negative_labels and y.dtype.kind in "if":
        negative = np.unique(y_labeled[y_labeled < 0])
        if negative.size:
            raise ValueError(
                f"{who}y contains negative labels {negative.tolist()}; only -1 "
                "(unlabeled) may be negative."
            )
    classes = np.unique(y_labeled)
    if classes.dtype.kind == "O" and not any(isinstance(v, str) for v in classes):
        classes = np.asarray(classes.tolist())   # booleans: a boolean array
    if classes.shape[0] < min_classes:
        raise ValueError(
            f"{who}y has {classes.shape[0]} class among its labeled rows; at least "
            f"{min_classes} classes are needed. Labeled classes: {classes.tolist()}."
        )
    if warn_all_labeled and labeled.all():
        warnings.warn(
            f"{who}y contains no unlabeled rows (-1): fitting on labeled data only.",
            AllLabeledWarning,
            stacklevel=3,
        )
    return y, labeled, classes
