"""Shared mixins and the handling of unlabeled rows (``y == -1``).

The classes here are the base of sklabelfree's scikit-learn estimators:

- :class:`SemiSupervisedMixin` marks an estimator that accepts ``-1`` in
  ``y`` and scores on the labeled rows only;
- :class:`BaseSemiSupervisedMetaEstimator` is the base of meta-estimators that
  wrap any classifier: it validates ``y`` once, routes metadata such as
  ``sample_weight`` to the wrapped estimator with the right length and
  delegates ``predict`` / ``predict_proba`` / ``decision_function`` to the
  fitted estimator.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin
from sklearn.metrics import accuracy_score
from sklearn.model_selection._search import BaseSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, check_random_state, column_or_1d, get_tags
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _num_samples,
    check_is_fitted,
    has_fit_parameter,
    validate_data,
)

from . import UNLABELED
from .utils.validation import (
    as_label_array,
    check_partially_labeled,
    check_string_minus_one,
    labeled_mask,
)

__all__ = [
    "UNLABELED",
    "SemiSupervisedMixin",
    "BaseSemiSupervisedMetaEstimator",
    "is_semi_supervised",
]


def seed_estimator(estimator, random_state):
    """Give every unset ``random_state`` of ``estimator`` a seed drawn from ``random_state``.

    The keys ``random_state`` and ``*__random_state`` left to None, in
    sorted order, each get an int from ``check_random_state(random_state)``,
    so that a seeded meta-estimator fits the same clones every time.
    ``estimator`` is changed and returned.
    """
    rng = check_random_state(random_state)
    to_set = {
        key: int(rng.randint(np.iinfo(np.int32).max))
        for key, value in sorted(estimator.get_params(deep=True).items())
        if (key == "random_state" or key.endswith("__random_state")) and value is None
    }
    if to_set:
        estimator.set_params(**to_set)
    return estimator


def is_semi_supervised(estimator):
    """Whether an estimator learns from unlabeled rows (``y == -1``).

    True for sklabelfree's semi-supervised estimators, for scikit-learn's
    :mod:`sklearn.semi_supervised` estimators, and for a
    :class:`~sklearn.pipeline.Pipeline` or a hyper-parameter search
    (:class:`~sklearn.model_selection.GridSearchCV` and the other
    ``BaseSearchCV``) whose final estimator is one of them: those pass ``y``
    to it as it is, ``-1`` rows included. Other meta-estimators (bagging,
    one-vs-rest...) would take ``-1`` for a class, so they are not.

    Parameters
    ----------
    estimator : estimator instance or class

    Returns
    -------
    bool

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklabelfree.base import is_semi_supervised
    >>> from sklabelfree.semi_supervised import PseudoLabelClassifier
    >>> is_semi_supervised(PseudoLabelClassifier()), is_semi_supervised(
    ...     LogisticRegression())
    (True, False)
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> is_semi_supervised(make_pipeline(StandardScaler(), PseudoLabelClassifier()))
    True
    """
    if getattr(estimator, "_sklabelfree_semi_supervised", False):
        return True
    if isinstance(estimator, Pipeline):
        final = estimator.steps[-1][1] if estimator.steps else None
        return final not in (None, "passthrough") and is_semi_supervised(final)
    if isinstance(estimator, BaseSearchCV):
        return is_semi_supervised(estimator.estimator)
    module = getattr(type(estimator) if not isinstance(estimator, type) else estimator,
                     "__module__", "")
    return module.startswith("sklearn.semi_supervised")


class SemiSupervisedMixin:
    """Mixin for classifiers that learn from rows labeled ``-1``.

    It marks the estimator as semi-supervised (see :func:`is_semi_supervised`)
    and gives it a :meth:`score` that ignores unlabeled rows, so that
    ``cross_val_score`` and ``GridSearchCV`` can be given a target with
    ``-1`` in it.

    Examples
    --------
    >>> from sklabelfree.base import SemiSupervisedMixin
    >>> from sklabelfree.semi_supervised import PseudoLabelClassifier
    >>> issubclass(PseudoLabelClassifier, SemiSupervisedMixin)
    True
    """

    _sklabelfree_semi_supervised = True

    def score(self, X, y, sample_weight=None):
        """Accuracy on the labeled rows of ``(X, y)``; rows with ``y == -1`` are ignored.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Test samples.
        y : array-like of shape (n_samples,)
            True labels, ``-1`` for rows to ignore.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Accuracy of ``self.predict(X)`` on the labeled rows.
        """
        y = column_or_1d(as_label_array(y))
        check_string_minus_one(y, f"{type(self).__name__}.score: ")
        mask = labeled_mask(y)
        if not mask.any():
            raise ValueError("score needs at least one labeled row (y != -1).")
        idx = np.flatnonzero(mask)
        X_l = X if mask.all() else _safe_indexing(X, idx)
        if sample_weight is not None:
            sample_weight = column_or_1d(np.asarray(sample_weight))
            if sample_weight.shape[0] != y.shape[0]:
                raise ValueError(
                    f"sample_weight has {sample_weight.shape[0]} entries but y has "
                    f"{y.shape[0]}: they must have the same length.")
            sample_weight = sample_weight[idx]
        return accuracy_score(y[idx], self.predict(X_l), sample_weight=sample_weight)


def _estimator_has(attr):
    """``available_if`` check: the fitted estimator has ``attr``; before fit,
    the estimator that will be fitted (the default when the parameter is None,
    a teacher or student where the subclass says so) has it."""

    def check(self):
        if hasattr(self, "estimator_"):
            return hasattr(self.estimator_, attr)
        return hasattr(self._get_param_estimator(), attr)

    return check


def _slice_fit_params(params, n_samples, indices):
    """Rows ``indices`` of every per-sample entry of ``params``."""
    out = {}
    for key, value in params.items():
        if value is not None and hasattr(value, "__len__") and not isinstance(
            value, str
        ) and _num_samples(value) == n_samples:
            out[key] = _safe_indexing(value, indices)
        else:
            out[key] = value
    return out


class BaseSemiSupervisedMetaEstimator(
    SemiSupervisedMixin, ClassifierMixin, MetaEstimatorMixin, BaseEstimator
):
    """Base class of meta-estimators that make any classifier semi-supervised.

    Subclasses implement ``fit`` and leave the fitted classifier in
    ``estimator_``; this base delegates prediction to it and routes
    metadata. ``X`` is not converted here: only its number of rows, its
    number of features and its feature names are checked, so a ``Pipeline``
    that takes text or a ``DataFrame`` works inside.

    Examples
    --------
    >>> from sklabelfree.base import BaseSemiSupervisedMetaEstimator
    >>> from sklabelfree.semi_supervised import PseudoLabelClassifier
    >>> issubclass(PseudoLabelClassifier, BaseSemiSupervisedMetaEstimator)
    True
    """

    # Name of the constructor parameter that holds the wrapped classifier.
    _estimator_param = "estimator"

    # ------------------------------------------------------------------ fit helpers
    def _validate_fit_input(self, X, y):
        """Check ``X`` lightly, ``y`` fully; set feature attributes.

        Returns ``X`` (sparse matrices in a row-indexable format), ``y``
        (validated copy), the labeled mask and the classes.
        """
        if not hasattr(X, "__getitem__") and not sp.issparse(X):
            # Array-likes that cannot be indexed by rows (only __array__).
            X = np.asarray(X)
        # y and the row counts first: a refused fit leaves a fitted
        # estimator as it was (validate_data resets the feature attributes).
        y, labeled, classes = check_partially_labeled(
            y, estimator_name=type(self).__name__
        )
        n = _num_samples(X)
        if n != y.shape[0]:
            raise ValueError(
                f"X has {n} rows but y has {y.shape[0]}: they must have the same "
                "number of rows."
            )
        validate_data(self, X, skip_check_array=True, reset=True)
        if sp.issparse(X) and X.format not in ("csr", "csc"):
            X = X.tocsr()
        return X, y, labeled, classes

    def _route_fit_params(self, X, params):
        """Fit parameters for the wrapped estimator(s), full length.

        Without metadata routing only ``sample_weight`` is accepted; it is
        passed on when the wrapped estimator's ``fit`` takes it.
        """
        n = _num_samples(X)
        if _routing_enabled():
            routed = process_routing(self, "fit", **params)
            fit_params = dict(routed[self._estimator_param].fit)
        else:
            sample_weight = params.pop("sample_weight", None)
            _raise_for_params(params, self, "fit")
            fit_params = {}
            if sample_weight is not None:
                sample_weight = np.asarray(sample_weight, dtype=float)
                if sample_weight.shape != (n,):
                    raise ValueError(
                        f"sample_weight has shape {sample_weight.shape}; expected "
                        f"({n},), one weight per row of X."
                    )
                if not has_fit_parameter(self._get_param_estimator(), "sample_weight"):
                    raise ValueError(
                        f"{type(self._get_param_estimator()).__name__} does not "
                        "accept sample_weight in fit."
                    )
                fit_params["sample_weight"] = sample_weight
        return fit_params

    def _get_param_estimator(self):
        from sklearn.linear_model import LogisticRegression

        est = getattr(self, self._estimator_param)
        return LogisticRegression() if est is None else est

    @staticmethod
    def _fit_on_rows(estimator, X, y_rows, rows, fit_params, weights=None):
        """Fit ``estimator`` on rows ``rows`` of ``X`` with labels ``y_rows``.

        ``rows`` may repeat indices (soft pseudo labels); ``weights``
        multiplies the per-row ``sample_weight``.
        """
        n = _num_samples(X)
        params = _slice_fit_params(fit_params, n, rows)
        if weights is not None:
            base = params.get("sample_weight")
            params["sample_weight"] = (
                weights if base is None else np.asarray(base, dtype=float) * weights
            )
        estimator.fit(_safe_indexing(X, rows), y_rows, **params)
        return estimator

    # ------------------------------------------------------------------ delegation
    def _check_predict_input(self, X):
        check_is_fitted(self)
        if getattr(X, "ndim", None) == 1 and hasattr(self, "n_features_in_"):
            raise ValueError(
                f"Expected 2D array, got 1D array instead: {type(self).__name__} was "
                f"fitted on {self.n_features_in_} features. Reshape your data either "
                "using array.reshape(-1, 1) if your data has a single feature or "
                "array.reshape(1, -1) if it contains a single sample."
            )
        validate_data(self, X, skip_check_array=True, reset=False)

    @available_if(_estimator_has("predict"))
    def predict(self, X):
        """Predict classes with the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples, in any form the wrapped estimator accepts.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted classes (never ``-1``).
        """
        self._check_predict_input(X)
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        self._check_predict_input(X)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log of the class probabilities from the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        self._check_predict_input(X)
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        self._check_predict_input(X)
        return self.estimator_.decision_function(X)

    # ------------------------------------------------------------------ routing / tags
    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        ``fit`` metadata (``sample_weight`` and whatever the wrapped estimator
        requests) reaches the wrapped estimator, sliced to the rows each fit
        uses; what this estimator's own methods request (for example
        ``set_score_request(sample_weight=True)``) reaches them.

        Returns
        -------
        routing : MetadataRouter
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        router.add(
            **{self._estimator_param: self._get_param_estimator()},
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
        return router

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._get_param_estimator())
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.string = inner.input_tags.string
        tags.input_tags.categorical = inner.input_tags.categorical
        return tags
