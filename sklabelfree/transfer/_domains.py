"""Which rows are the source and which the target: the domain convention.

Every estimator of :mod:`sklabelfree.transfer` takes the source and the
target rows in one ``fit(X, y, sample_domain=None)``:

- without ``sample_domain``, the labeled rows (``y != -1``) are the source
  and the unlabeled rows (``y == -1``) are the target;
- with ``sample_domain`` (one integer per row), a positive id marks a source
  row and a negative id a target row (``0`` is refused). Labels of target
  rows are ignored; source rows labeled ``-1`` count in the source
  distribution but not in a classifier's fit.
"""

import numpy as np

from .. import UNLABELED
from ..utils.validation import (
    _is_missing,
    as_label_array,
    check_partially_labeled,
    check_string_minus_one,
    labeled_mask,
)

__all__ = ["check_domains"]


def _who(estimator_name):
    return f"{estimator_name}: " if estimator_name else ""


def check_sample_domain(sample_domain, n_samples, estimator_name=None):
    """Validate ``sample_domain``: one non-zero integer per row.

    Returns a new int array, or ``None`` when ``sample_domain`` is ``None``.
    """
    who = _who(estimator_name)
    if sample_domain is None:
        return None
    sd = np.asarray(sample_domain)
    if sd.ndim != 1 or sd.shape[0] != n_samples:
        raise ValueError(
            f"{who}sample_domain has shape {sd.shape}; expected ({n_samples},), one "
            "domain id per row of X."
        )
    if sd.dtype.kind == "f":
        if not np.all(np.isfinite(sd)) or np.any(sd != np.round(sd)):
            raise ValueError(
                f"{who}sample_domain must hold integers (positive for source rows, "
                "negative for target rows); got non-integer values."
            )
    elif sd.dtype.kind not in "iu":
        raise ValueError(
            f"{who}sample_domain must hold integers (positive for source rows, "
            f"negative for target rows); got dtype {sd.dtype}."
        )
    sd = sd.astype(np.int64)
    if np.any(sd == 0):
        raise ValueError(
            f"{who}sample_domain contains 0; use positive ids for source rows and "
            "negative ids for target rows."
        )
    return sd


def unlabel_target_rows(y, target):
    """``y`` with the integer ``-1`` on the ``target`` rows; the other labels kept as they are.

    With ``sample_domain`` the target rows' labels are ignored. Writing ``-1``
    into ``y`` must not change the others: a boolean array would store
    ``True`` (and count the target rows as labeled), an unsigned one cannot
    hold -1, and a string array would store the string ``'-1'``. Booleans and
    strings go to an object array (the integer -1 beside them, as
    :func:`~sklabelfree.utils.validation.as_label_array` keeps it in a
    list); unsigned integers to int64.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    target : ndarray of bool of shape (n_samples,)

    Returns
    -------
    y : ndarray
        A new array.
    """
    y = np.array(as_label_array(y), copy=True)
    if y.dtype.kind == "u":
        y = y.astype(np.int64)
    elif y.dtype.kind in "bUS":
        y = y.astype(object)
    y[target] = UNLABELED
    return y


def check_domains(n_samples, y=None, sample_domain=None, *, require_labels=True,
                  estimator_name=None):
    """Validate the target and the domains of a domain adaptation fit.

    Parameters
    ----------
    n_samples : int
        Number of rows of ``X``.
    y : array-like of shape (n_samples,) or None
        Labels, ``-1`` for unlabeled rows. Required when ``require_labels``
        or when ``sample_domain`` is ``None``. With ``sample_domain`` and
        without ``require_labels`` its values are ignored (any target with
        ``n_samples`` rows, e.g. a regression one), except that NaN on a
        source row is an error.
    sample_domain : array-like of shape (n_samples,) or None
        Positive ids for source rows, negative ids for target rows.
    require_labels : bool, default=True
        Whether the labeled source rows must hold at least two classes
        (classifiers); transformers only need the domains, and then, without
        ``sample_domain``, ``y`` must be 1-D.
    estimator_name : str or None
        Name used in error messages.

    Returns
    -------
    y_source : ndarray of shape (n_samples,) or None
        The validated labels with ``-1`` on every target row (the labels a
        classifier may learn from); ``None`` when ``y`` is ``None``.
    source : ndarray of bool of shape (n_samples,)
        Mask of the source rows.
    classes : ndarray or None
        Classes among the labeled source rows (``None`` without ``y``).
    """
    who = _who(estimator_name)
    sd = check_sample_domain(sample_domain, n_samples, estimator_name)
    if require_labels and y is None:
        raise ValueError(
            f"{who}requires y to be passed, but the target y is None. Give the source "
            "labels, with -1 on the target rows.")
    y_source, classes = None, None
    if y is not None:
        y_arr = np.asarray(y)
        if y_arr.ndim >= 1 and y_arr.shape[0] != n_samples:
            raise ValueError(
                f"{who}X has {n_samples} rows but y has {y_arr.shape[0]}: they must have "
                "the same number of rows."
            )
    if sd is None:
        if y is None:
            raise ValueError(
                f"{who}cannot tell the source rows from the target rows: pass y with -1 "
                "on the target rows, or sample_domain (positive ids for source rows, "
                "negative ids for target rows)."
            )
        if not require_labels:
            # Transformers: only the -1 marks matter (any other target, even a
            # continuous one, passes through), but a missing value is still an
            # error, and a list's integer -1 next to strings marks a target row.
            y_checked = np.array(as_label_array(y), copy=True)
            if y_checked.ndim != 1:
                raise ValueError(
                    f"{who}y must be 1-D, of shape ({n_samples},), with -1 on the target "
                    f"rows; got shape {y_checked.shape}. To pass another target (e.g. "
                    "a multi-output one) through, give the domains as sample_domain.")
            if (y_checked.dtype.kind == "f" and np.isnan(y_checked).any()) or (
                    y_checked.dtype.kind == "O" and any(_is_missing(v) for v in y_checked)):
                raise ValueError(
                    f"{who}y contains None or NaN. Mark the target (unlabeled) rows "
                    "with -1 (sklabelfree.UNLABELED), not a missing value.")
            check_string_minus_one(y_checked, who)
            labeled = labeled_mask(y_checked)
        else:
            y_checked, labeled, classes = check_partially_labeled(
                y, warn_all_labeled=False, estimator_name=estimator_name)
        source = labeled
        y_source = y_checked
    else:
        source = sd > 0
        if not np.any(source):
            raise ValueError(
                f"{who}no source rows: every sample_domain id is negative (target). "
                "Give the source rows positive ids.")
        if y is not None:
            # Target labels are ignored (NaN there included).
            y_masked = unlabel_target_rows(y, ~source)
            if require_labels:
                y_source, _, classes = check_partially_labeled(
                    y_masked, warn_all_labeled=False, estimator_name=estimator_name)
            else:
                # Transformers ignore the values of y (a regression or
                # multi-output target passes through), NaN on a source row aside.
                if y_masked.dtype.kind == "f" and np.isnan(y_masked[source]).any():
                    raise ValueError(
                        f"{who}y contains NaN on source rows. Mark unlabeled rows with "
                        "-1 (sklabelfree.UNLABELED), not NaN.")
                y_source = y_masked
    if not np.any(~source):
        raise ValueError(
            f"{who}no target rows: nothing to adapt to. Mark the target rows with "
            "y == -1, or give sample_domain with negative ids for them."
        )
    if not np.any(source):
        raise ValueError(
            f"{who}no source rows: every row is a target row. Give labeled source rows "
            "(y != -1, or positive sample_domain ids)."
        )
    if require_labels and y_source is not None and not np.any(
        labeled_mask(y_source) & source
    ):
        raise ValueError(f"{who}the source rows have no labels.")
    return y_source, source, classes


