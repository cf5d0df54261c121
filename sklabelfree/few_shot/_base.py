"""What the light few-shot classifiers share: support-set checks, a frozen encoder."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.validation import check_partially_labeled, labeled_mask


def is_fitted(estimator):
    """Whether ``estimator`` is fitted (``check_is_fitted`` passes)."""
    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError):
        return False
    return True


class BaseFewShotClassifier(ClassifierMixin, BaseEstimator):
    """Base of the classifiers that adapt to a support set in ``fit``.

    The meta-learned object (an encoder, or a MAML initialisation) is the
    parameter named by ``_meta_param``. When it is fitted it is used as is:
    ``fit`` never refits it, and :func:`~sklearn.base.clone` keeps it (as
    :class:`~sklearn.frozen.FrozenEstimator` does), so that
    ``cross_val_score``, ``GridSearchCV`` over the classifier's own
    parameters and :func:`evaluate_episodes` reuse the meta-training. An
    unfitted one is an error.

    ``fit(X, y)`` takes the support set: at least two classes, labels of
    any type, kept as they are in ``classes_``; rows labeled ``-1`` are
    unlabeled (never a class). :meth:`score` refuses query labels that are
    not classes of the support set.
    """

    _meta_param = "encoder"

    def __sklearn_clone__(self):
        meta = getattr(self, self._meta_param, None)
        new = super().__sklearn_clone__()
        if meta is not None and is_fitted(meta):
            new.set_params(**{self._meta_param: meta})
        return new

    def _check_meta(self, required_attr=None):
        """The meta-learned object, checked to be fitted (or None)."""
        meta = getattr(self, self._meta_param)
        if meta is None:
            return None
        who = type(self).__name__
        if required_attr is not None and not hasattr(meta, required_attr):
            raise TypeError(
                f"{who}: {self._meta_param} must have a {required_attr} method, got "
                f"{type(meta).__name__}.")
        if not is_fitted(meta):
            raise ValueError(
                f"{who}: {self._meta_param} {type(meta).__name__} is not fitted. "
                f"Meta-train it on the base classes first ({self._meta_param}.fit("
                f"X_base, y_base)); {who}.fit only adapts to the support set and "
                f"never refits the {self._meta_param}.")
        return meta

    def _check_support(self, X, y):
        """Validate the support labels; return ``(y, labeled mask, classes)``."""
        who = type(self).__name__
        y, labeled, classes = check_partially_labeled(
            y, min_classes=1, warn_all_labeled=False, estimator_name=who)
        if len(classes) < 2:
            raise ValueError(
                f"{who}: the support set has one class ({classes.tolist()}); a "
                "few-shot classifier needs at least two classes to tell apart.")
        return y, labeled, classes

    def _embed(self, X, n_dims=None):
        """The encoder's features of ``X`` as a 2-D float64 array.

        Without an encoder, the rows themselves (images flattened). In
        ``fit`` (``n_dims=None``) the number of input features is recorded;
        afterwards the features must have the ``n_dims`` columns of fit.
        """
        who = type(self).__name__
        if self.encoder is None:
            Z = self._raw_features(X, reset=n_dims is None)
        else:
            Z = self.encoder.transform(X)
            if hasattr(Z, "toarray"):
                Z = Z.toarray()
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim != 2:
            raise ValueError(
                f"{who}: the encoder's transform returns an array of shape {Z.shape}; "
                "features of shape (n_samples, n_dims) are needed.")
        if n_dims is not None and Z.shape[1] != n_dims:
            raise ValueError(
                f"{who}: the encoder gives {Z.shape[1]} dimensions now but gave "
                f"{n_dims} in fit.")
        return Z

    def _fit_support(self, X, y):
        """Check the encoder and the support set, embed it, set ``classes_``.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_dims)
            The features of every support row.
        labeled : ndarray of bool of shape (n_samples,)
        codes : ndarray of int of shape (n_labeled,)
            The position in ``classes_`` of each labeled row's class.
        """
        self._check_meta("transform")
        y, labeled, classes = self._check_support(X, y)
        Z = self._embed(X)
        if Z.shape[0] != y.shape[0]:
            raise ValueError(
                f"X has {Z.shape[0]} rows but y has {y.shape[0]}: they must have the "
                "same number of rows.")
        lookup = {c: i for i, c in enumerate(classes.tolist())}
        codes = np.array([lookup[c] for c in y[labeled].tolist()], dtype=np.intp)
        self.classes_ = classes
        return Z, labeled, codes

    def _raw_features(self, X, reset):
        """``X`` as a 2-D float array (images flattened) when there is no encoder."""
        X_arr = X
        if isinstance(X, (list, tuple)):
            X_arr = np.asarray(X)  # nested lists of images are images too
        if getattr(X_arr, "ndim", 2) > 2:
            X_arr = np.asarray(X_arr).reshape(X_arr.shape[0], -1)
        return validate_data(self, X_arr, reset=reset, dtype=[np.float64, np.float32])

    def _check_score_labels(self, y):
        """``y`` of the queries, and its labeled mask; refuse unknown classes."""
        y = np.asarray(y)
        mask = labeled_mask(y)
        if not mask.any():
            raise ValueError("score needs at least one labeled row (y != -1).")
        known = set(self.classes_.tolist())
        unknown = sorted({v for v in y[mask].tolist() if v not in known}, key=str)
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: query labels {unknown} are not classes of "
                f"the support set {self.classes_.tolist()}: every query class needs "
                "support rows in fit.")
        return y, mask

    def score(self, X, y, sample_weight=None):
        """Accuracy on the query rows ``(X, y)``; rows labeled ``-1`` are ignored.

        Parameters
        ----------
        X : array-like
            Query rows.
        y : array-like of shape (n_samples,)
            Their labels, all classes of the support set.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        y, mask = self._check_score_labels(y)
        idx = np.flatnonzero(mask)
        if not mask.all():
            X = _safe_indexing(X, idx)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)[idx]
        return accuracy_score(y[idx], self.predict(X), sample_weight=sample_weight)
