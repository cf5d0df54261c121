"""The source-only classifier: fit on the labeled source rows, ignore the target."""

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping

from ..base import BaseSemiSupervisedMetaEstimator
from ..utils.validation import _labeled_entries, as_label_array
from ._domains import check_sample_domain, unlabel_target_rows

__all__ = ["SourceOnlyClassifier"]


class SourceOnlyClassifier(BaseSemiSupervisedMetaEstimator):
    """Fit a classifier on the labeled source rows only; target rows are ignored.

    The last step of a domain adaptation :class:`~sklearn.pipeline.Pipeline`:
    a transformer such as :class:`CORAL` or :class:`TCA` sees the source and
    the target rows (``y == -1``) and maps them, and this step fits
    ``estimator`` on the mapped *labeled source* rows, dropping the target
    rows that a plain classifier would refuse (``-1`` is not a class)::

        make_pipeline(CORAL(), SourceOnlyClassifier(LogisticRegression()))

    On its own it is the *source-only* baseline of domain adaptation: the
    same data, no adaptation.

    Read more in the :ref:`User Guide <coral>`.

    Parameters
    ----------
    estimator : classifier or None, default=None
        Any classifier; it is cloned. ``None`` uses
        :class:`~sklearn.linear_model.LogisticRegression`.

    Attributes
    ----------
    estimator_ : classifier
        The classifier fitted on the labeled source rows.
    classes_ : ndarray of shape (n_classes,)
        Classes of the labeled source rows (``-1`` is never one).
    n_features_in_ : int
        Number of features seen in ``fit`` (when ``X`` has columns).
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features, when ``X`` is a DataFrame with string columns.

    See Also
    --------
    CORAL : Re-colour the source rows with the target covariance.
    TCA : Transfer component analysis.
    ImportanceWeightingClassifier : Weight the source rows towards the target.

    Notes
    -----
    ``fit(X, y, sample_domain=None)``: without ``sample_domain`` the labeled
    rows are the source; with it, rows with a negative id are target rows
    and are dropped even when labeled. A ``y`` with no ``-1`` and no
    ``sample_domain`` is accepted (every row is a source row, with an
    :class:`~sklabelfree.utils.AllLabeledWarning`), so the estimator is also
    an ordinary classifier for ``cross_val_score``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklabelfree.transfer import SourceOnlyClassifier
    >>> X = np.array([[0.0], [0.2], [1.0], [1.2], [5.0], [6.0]])
    >>> y = np.array([0, 0, 1, 1, -1, -1])              # the last two: target rows
    >>> clf = SourceOnlyClassifier(LogisticRegression()).fit(X, y)
    >>> clf.classes_, clf.predict([[0.1], [1.1]])
    (array([0, 1]), array([0, 1]))
    """

    _sklabelfree_semi_supervised = False

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
    }

    def __init__(self, estimator=None):
        self.estimator = estimator

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_domain=None, **fit_params):
        """Fit ``estimator`` on the labeled source rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Source and target rows, in any form ``estimator`` accepts.
        y : array-like of shape (n_samples,)
            Labels, ``-1`` on the target (unlabeled) rows.
        sample_domain : array-like of int of shape (n_samples,), default=None
            Positive ids for source rows, negative ids for target rows.
        **fit_params : dict
            ``sample_weight``, or, with metadata routing enabled, whatever
            ``estimator.fit`` requests; sliced to the rows fitted on.

        Returns
        -------
        self : SourceOnlyClassifier
        """
        if sample_domain is not None and y is not None:
            y = as_label_array(y)
            sd = check_sample_domain(sample_domain, y.shape[0], type(self).__name__)
            y = unlabel_target_rows(y, sd < 0)
        X, y, labeled, classes = self._validate_fit_input(X, y)
        routed = self._route_fit_params(X, fit_params)
        self.estimator_ = clone(self._get_param_estimator())
        rows = np.flatnonzero(labeled)
        self.classes_ = classes
        self._fit_on_rows(self.estimator_, X, _labeled_entries(y[rows]),
                          rows, routed)
        return self

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        ``sample_domain`` is consumed here (request it with
        ``set_fit_request(sample_domain=True)``); other ``fit`` metadata
        reaches ``estimator``, sliced to the labeled source rows.

        Returns
        -------
        routing : MetadataRouter
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        router.add(
            estimator=self._get_param_estimator(),
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
        return router

