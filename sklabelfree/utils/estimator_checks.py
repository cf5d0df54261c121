"""Checks of sklabelfree's own contract, beside scikit-learn's estimator checks.

:func:`check_semi_supervised_estimator` runs every check on one estimator;
each check is also a public function so that a test suite can run them one
by one (``tests/test_common.py`` does).
"""

import copy
import pickle
import warnings

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import has_fit_parameter

from .. import UNLABELED
from .validation import AllLabeledWarning

__all__ = [
    "check_semi_supervised_estimator",
    "check_unlabeled_never_a_class",
    "check_all_labeled_warns",
    "check_clone_pickle_roundtrip",
    "check_input_not_modified",
    "check_random_state_reproducible",
    "check_bad_targets",
    "check_object_labels",
    "make_check_data",
    "yield_semi_supervised_checks",
]


def make_check_data(estimator=None, n_samples=90, n_classes=3, random_state=0):
    """A small, easy, partially labeled data set for the checks.

    Well separated Gaussian blobs in six dimensions, the classes in turn
    (row ``i`` is of class ``i % n_classes``), the first third of the rows
    labeled (so every class has labeled rows when ``n_samples // 3 >=
    n_classes``); float32 when the estimator asks for it through its
    ``_check_data_dtype`` attribute.

    Parameters
    ----------
    estimator : estimator instance or None
        The estimator the data is for.
    n_samples : int, default=90
    n_classes : int, default=3
    random_state : int, default=0

    Returns
    -------
    X : ndarray of shape (n_samples, 6)
    y_partial : ndarray of shape (n_samples,)
        Labels with ``-1`` on two thirds of the rows.
    y : ndarray of shape (n_samples,)
        Every label.

    Examples
    --------
    >>> from sklabelfree.utils.estimator_checks import make_check_data
    >>> X, y_partial, y = make_check_data()
    >>> X.shape, int((y_partial == -1).sum())
    ((90, 6), 60)
    """
    rng = np.random.RandomState(random_state)
    centers = rng.uniform(-4, 4, size=(n_classes, 6))
    y = np.arange(n_samples) % n_classes
    X = centers[y] + rng.normal(scale=0.6, size=(n_samples, 6))
    y_partial = y.copy()
    y_partial[np.arange(n_samples) >= n_samples // 3] = UNLABELED
    dtype = getattr(estimator, "_check_data_dtype", np.float64)
    return X.astype(dtype), y_partial, y


def _name(estimator):
    return type(estimator).__name__


def _set_seed(estimator, seed):
    if "random_state" in estimator.get_params():
        estimator.set_params(random_state=seed)
    return estimator


def _fit_quiet(estimator, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AllLabeledWarning)
        return estimator.fit(X, y, **kw)


def check_unlabeled_never_a_class(estimator):
    """``-1`` is never in ``classes_`` and never predicted.

    Parameters
    ----------
    estimator : estimator instance
        Unfitted; it is cloned.

    Examples
    --------
    >>> from sklabelfree.semi_supervised import PseudoLabelClassifier
    >>> from sklabelfree.utils.estimator_checks import check_unlabeled_never_a_class
    >>> check_unlabeled_never_a_class(PseudoLabelClassifier(max_iter=2))
    """
    est = _set_seed(clone(estimator), 0)
    X, y_partial, y = make_check_data(est)
    est.fit(X, y_partial)
    assert UNLABELED not in est.classes_, (
        f"{_name(est)}: -1 is in classes_ {est.classes_}")
    np.testing.assert_array_equal(est.classes_, np.unique(y))
    pred = est.predict(X)
    assert not np.any(pred == UNLABELED), f"{_name(est)} predicted -1"
    if hasattr(est, "predict_proba"):
        proba = est.predict_proba(X)
        assert proba.shape == (X.shape[0], est.classes_.shape[0]), (
            f"{_name(est)}: predict_proba has shape {proba.shape}")
    accuracy = np.mean(pred == y)
    assert accuracy > 0.8, f"{_name(est)} reaches only {accuracy:.2f} on easy blobs"


def check_all_labeled_warns(estimator):
    """A target with no ``-1`` fits with an :class:`AllLabeledWarning`.

    Parameters
    ----------
    estimator : estimator instance

    Examples
    --------
    >>> from sklabelfree.semi_supervised import PseudoLabelClassifier
    >>> from sklabelfree.utils.estimator_checks import check_all_labeled_warns
    >>> check_all_labeled_warns(PseudoLabelClassifier(max_iter=2))
    """
    est = _set_seed(clone(estimator), 0)
    X, _, y = make_check_data(est)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        est.fit(X, y)
    assert any(issubclass(w.category, AllLabeledWarning) for w in record), (
        f"{_name(est)} did not warn that y has no unlabeled rows")
    accuracy = np.mean(est.predict(X) == y)
    assert accuracy > 0.8, (
        f"{_name(est)} fitted on a fully labeled y reaches only {accuracy:.2f} on "
        "easy blobs")


def _differing_params(a, b, prefix=""):
    """Names of the parameters of ``a`` and ``b`` that differ (nested estimators too).

    Values are compared by content (``joblib.hash``), not by identity or
    ``repr``: ``clone`` deep-copies parameters that are not estimators, so a
    random generator or another plain object is a new object with the same
    content.
    """
    pa, pb = a.get_params(deep=False), b.get_params(deep=False)
    if pa.keys() != pb.keys():
        return [f"{prefix}<names: {sorted(pa)} != {sorted(pb)}>"]
    differ = []
    for key, va in pa.items():
        vb = pb[key]
        if hasattr(va, "get_params") and not isinstance(va, type):
            if type(va) is not type(vb):
                differ.append(prefix + key)
            else:
                differ += _differing_params(va, vb, prefix=f"{prefix}{key}__")
        elif joblib.hash(va) != joblib.hash(vb):
            differ.append(prefix + key)
    return differ


def check_clone_pickle_roundtrip(estimator):
    """Clone keeps the parameters; a pickled fitted estimator predicts the same.

    Parameters
    ----------
    estimator : estimator instance

    Examples
    --------
    >>> from sklabelfree.semi_supervised import PseudoLabelClassifier
    >>> from sklabelfree.utils.estimator_checks import check_clone_pickle_roundtrip
    >>> check_clone_pickle_roundtrip(PseudoLabelClassifier(max_iter=2))
    """
    est = _set_seed(clone(estimator), 0)
    differ = _differing_params(clone(est), est)
    assert not differ, f"clone of {_name(est)} changed the parameters {differ}"
    X, y_partial, _ = make_check_data(est)
    est.fit(X, y_partial)
    try:
        loaded = pickle.loads(pickle.dumps(est))
    except Exception as exc:
        raise AssertionError(
            f"a fitted {_name(est)} cannot be pickled: {type(exc).__name__}: {exc}"
        ) from exc
    np.testing.assert_array_equal(
        loaded.predict(X), est.predict(X),
        err_msg=f"a pickled {_name(est)} predicts differently")
    if hasattr(est, "predict_proba"):
        np.testing.assert_allclose(
            loaded.predict_proba(X), est.predict_proba(X),
            err_msg=f"a pickled {_name(est)} gives other probabilities")
    # Cloning a fitted estimator gives an unfitted one with the same params.
    refit = clone(est)
    assert not hasattr(refit, "classes_"), f"clone of {_name(est)} kept fitted state"


def check_input_not_modified(estimator):
    """``fit`` and ``predict`` leave ``X``, ``y`` and ``sample_weight`` as they were.

    Parameters
    ----------
    estimator : estimator instance

    Examples
    --------
    >>> from sklabelfree.semi_supervised import PseudoLabelClassifier
    >>> from sklabelfree.utils.estimator_checks import check_input_not_modified
    >>> check_input_not_modified(PseudoLabelClassifier(max_iter=2))
    """
    est = _set_seed(clone(estimator), 0)
    X, y_partial, _ = make_check_data(est)
    X_copy, y_copy = X.copy(), y_partial.copy()
    est.fit(X, y_partial)
    est.predict(X)
    np.testing.assert_array_equal(X, X_copy, err_msg=f"{_name(est)} modified X")
    np.testing.assert_array_equal(y_partial, y_copy,
                                  err_msg=f"{_name(est)} modified y")
    if has_fit_parameter(est, "sample_weight"):
        weight = np.linspace(0.5, 2.0, X.shape[0])
        weight_copy = weight.copy()
        try:
            _set_seed(clone(estimator), 0).fit(X, y_partial, sample_weight=weight)
        except (TypeError, ValueError):
            # This configuration refuses weights (for example an inner
            # estimator without sample_weight): nothing to check.
            return
        np.testing.assert_array_equal(
            weight, weight_copy, err_msg=f"{_name(est)} modified sample_weight")


def check_random_state_reproducible(estimator):
    """The same ``random_state`` gives the same fitted predictions.

    Parameters
    ----------
    estimator : estimator instance

    Examples
    --------
    >>> from sklabelfree.semi_supervised import PseudoLabelClassifier
    >>> from sklabelfree.utils.estimator_checks import check_random_state_reproducible
    >>> check_random_state_reproducible(PseudoLabelClassifier(max_iter=2))
    """
    if "random_state" not in estimator.get_params():
        raise AssertionError(f"{_name(estimator)} has no random_state parameter")
    X, y_partial, _ = make_check_data(estimator)
    first = _set_seed(clone(estimator), 42).fit(X, y_partial)
    second = _set_seed(clone(estimator), 42).fit(X, y_partial)
    method = "predict_proba" if hasattr(first, "predict_proba") else "predict"
    np.testing.assert_allclose(
        getattr(first, method)(X), getattr(second, method)(X),
        err_msg=f"{_name(estimator)} is not reproducible with a fixed random_state")
    if hasattr(first, "transduction_"):
        np.testing.assert_array_equal(first.transduction_, second.transduction_)


def _assert_raises_match(estimator, X, y, fragment):
    """``fit`` raises a ValueError that mentions ``fragment`` (or one of them)."""
    fragments = (fragment,) if isinstance(fragment, str) else tuple(fragment)
    try:
        _fit_quiet(clone(estimator), X, y)
    except ValueError as exc:
        assert any(f in str(exc) for f in fragments), (
            f"{_name(estimator)} raised {exc!r}, which does not mention "
            f"{' or '.join(map(repr, fragments))}")
    else:
        raise AssertionError(
            f"{_name(estimator)} accepted a bad target ({' / '.join(fragments)})")


def check_bad_targets(estimator):
    """NaN labels, all rows unlabeled, one class, mixed types: clear errors.

    Parameters
    ----------
    estimator : estimator instance

    Examples
    --------
    >>> from sklabelfree.semi_supervised import PseudoLabelClassifier
    >>> from sklabelfree.utils.estimator_checks import check_bad_targets
    >>> check_bad_targets(PseudoLabelClassifier(max_iter=2))
    """
    X, y_partial, _ = make_check_data(estimator)
    y_nan = y_partial.astype(float)
    y_nan[-1] = np.nan
    _assert_raises_match(estimator, X, y_nan, "NaN")
    _assert_raises_match(estimator, X, y_nan, "-1")
    _assert_raises_match(estimator, X, np.full_like(y_partial, UNLABELED), "unlabeled")
    y_one = np.where(y_partial == UNLABELED, UNLABELED, 0)
    _assert_raises_match(estimator, X, y_one, "class")
    y_mixed = y_partial.astype(object)
    y_mixed[0] = "a"
    _assert_raises_match(estimator, X, y_mixed, "mixes label types")
    _assert_raises_match(estimator, X, y_partial[:-1], ("rows", "samples", "inconsistent"))


def check_object_labels(estimator):
    """String labels in an object array, with the integer ``-1`` for unlabeled rows.

    Parameters
    ----------
    estimator : estimator instance

    Examples
    --------
    >>> from sklabelfree.semi_supervised import PseudoLabelClassifier
    >>> from sklabelfree.utils.estimator_checks import check_object_labels
    >>> check_object_labels(PseudoLabelClassifier(max_iter=2))
    """
    est = _set_seed(clone(estimator), 0)
    X, y_partial, y = make_check_data(est)
    names = np.array(["ant", "bee", "cat"], dtype=object)
    y_obj = np.where(y_partial == UNLABELED, UNLABELED, names[y % 3]).astype(object)
    est.fit(X, y_obj)
    assert list(est.classes_) == ["ant", "bee", "cat"], (
        f"{_name(est)}: classes_ is {est.classes_}, expected ['ant', 'bee', 'cat']")
    pred = est.predict(X)
    assert set(pred) <= {"ant", "bee", "cat"}, (
        f"{_name(est)} predicted labels outside the classes: {set(pred)}")
    accuracy = np.mean(pred == names[y])
    assert accuracy > 0.8, (
        f"{_name(est)} reaches only {accuracy:.2f} on easy blobs with string labels")


_CHECKS = (
    check_unlabeled_never_a_class,
    check_all_labeled_warns,
    check_clone_pickle_roundtrip,
    check_input_not_modified,
    check_random_state_reproducible,
    check_bad_targets,
    check_object_labels,
)


def yield_semi_supervised_checks(estimator):
    """Yield the contract checks that apply to ``estimator``.

    Parameters
    ----------
    estimator : estimator instance

    Yields
    ------
    check : callable
        ``check(estimator)``.

    Examples
    --------
    >>> from sklabelfree.semi_supervised import PseudoLabelClassifier
    >>> from sklabelfree.utils.estimator_checks import yield_semi_supervised_checks
    >>> len(list(yield_semi_supervised_checks(PseudoLabelClassifier()))) > 3
    True
    """
    for check in _CHECKS:
        if check is check_random_state_reproducible and (
            "random_state" not in estimator.get_params()
        ):
            continue
        yield check


def check_semi_supervised_estimator(estimator):
    """Run every sklabelfree contract check on ``estimator``.

    The checks: ``-1`` is never a class; a fully labeled target works with a
    warning; clone and pickle round trips predict the same; the input is not
    modified; a fixed ``random_state`` reproduces the fit; bad targets (NaN,
    all unlabeled, one class, mixed types, wrong length) get clear errors;
    string labels in an object array work.

    Parameters
    ----------
    estimator : estimator instance
        An unfitted semi-supervised classifier.

    Raises
    ------
    AssertionError
        Naming the check and the estimator that failed it; an exception
        raised inside a check (the estimator crashed) becomes one too.

    Examples
    --------
    >>> from sklabelfree.semi_supervised import PseudoLabelClassifier
    >>> from sklabelfree.utils.estimator_checks import check_semi_supervised_estimator
    >>> check_semi_supervised_estimator(PseudoLabelClassifier(max_iter=2))
    """
    for check in yield_semi_supervised_checks(estimator):
        try:
            check(copy.deepcopy(estimator))
        except AssertionError as exc:
            raise AssertionError(f"{check.__name__} failed: {exc}") from exc
        except Exception as exc:
            raise AssertionError(
                f"{check.__name__} failed: {_name(estimator)} raised "
                f"{type(exc).__name__}: {exc}") from exc
