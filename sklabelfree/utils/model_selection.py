"""Model selection with unlabeled rows (scikit-learn issue #2593).

The splitters keep every unlabeled row (``y == -1``) in every training fold
and test on labeled rows only; :func:`make_labeled_scorer` wraps any scorer
so that it ignores unlabeled rows.
"""

import numbers

import numpy as np
from sklearn.metrics import check_scoring
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.model_selection._split import BaseCrossValidator
from sklearn.utils import _safe_indexing
from sklearn.utils.metadata_routing import get_routing_for_object
from sklearn.utils.validation import _num_samples

from .validation import _labeled_entries, as_label_array, labeled_mask

__all__ = [
    "SemiSupervisedKFold",
    "SemiSupervisedStratifiedKFold",
    "make_labeled_scorer",
]


class _BaseSemiSupervisedSplit(BaseCrossValidator):
    """K folds over the labeled rows; unlabeled rows train in every fold."""

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        if not isinstance(n_splits, numbers.Integral) or n_splits < 2:
            raise ValueError(f"n_splits must be an int of at least 2, got {n_splits!r}.")
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be True or False; got {shuffle!r}.")
        if not shuffle and random_state is not None:
            raise ValueError(
                "Setting a random_state has no effect since shuffle is False. "
                "Leave random_state to None or set shuffle=True."
            )
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def _labeled_splitter(self):
        raise NotImplementedError

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds.

        Parameters
        ----------
        X, y, groups : object
            Ignored, present for API compatibility.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def split(self, X, y, groups=None):
        """Yield ``(train, test)`` indices.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples (only their number is used).
        y : array-like of shape (n_samples,)
            Target with ``-1`` for unlabeled rows.
        groups : object
            Ignored.

        Yields
        ------
        train : ndarray
            Training rows: every unlabeled row and the labeled rows of the
            other folds.
        test : ndarray
            Labeled rows of this fold.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} needs y to tell labeled rows from "
                "unlabeled ones (-1)."
            )
        y = as_label_array(y)
        if y.ndim != 1 and not (y.ndim == 2 and y.shape[1] == 1):
            raise ValueError(
                f"{type(self).__name__} needs a 1-D y (one label per row, -1 for "
                f"unlabeled rows); got shape {y.shape}.")
        y = y.reshape(-1)
        if X is not None and _num_samples(X) != y.shape[0]:
            raise ValueError(
                f"X has {_num_samples(X)} rows but y has {y.shape[0]}."
            )
        mask = labeled_mask(y)
        labeled = np.flatnonzero(mask)
        unlabeled = np.flatnonzero(~mask)
        if labeled.shape[0] < self.n_splits:
            raise ValueError(
                f"Cannot make {self.n_splits} folds of labeled rows: only "
                f"{labeled.shape[0]} rows are labeled."
            )
        splitter = self._labeled_splitter()
        y_l = _labeled_entries(y[labeled])
        for train_l, test_l in splitter.split(np.zeros((labeled.shape[0], 1)), y_l):
            train = np.sort(np.concatenate([labeled[train_l], unlabeled]))
            yield train, labeled[test_l]

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        for _, test in self.split(X, y, groups):
            yield test


class SemiSupervisedKFold(_BaseSemiSupervisedSplit):
    """K-fold cross-validation that keeps unlabeled rows in every training fold.

    The labeled rows (``y != -1``) are split into ``n_splits`` folds as
    :class:`~sklearn.model_selection.KFold` would; each test fold holds only
    labeled rows and each training fold holds the other labeled rows plus
    every unlabeled row. A semi-supervised estimator is then scored on labels
    it never saw, while learning from all the unlabeled data.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=False
        Shuffle the labeled rows before splitting.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle (only with ``shuffle=True``).

    See Also
    --------
    SemiSupervisedStratifiedKFold : The same with folds stratified by class.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.utils.model_selection import SemiSupervisedKFold
    >>> y = np.array([0, 1, -1, 0, 1, -1])
    >>> for train, test in SemiSupervisedKFold(2).split(np.zeros((6, 1)), y):
    ...     print(train, test)
    [2 3 4 5] [0 1]
    [0 1 2 5] [3 4]
    """

    def _labeled_splitter(self):
        return KFold(self.n_splits, shuffle=self.shuffle, random_state=self.random_state)


class SemiSupervisedStratifiedKFold(_BaseSemiSupervisedSplit):
    """Stratified K-fold over labeled rows; unlabeled rows train in every fold.

    As :class:`SemiSupervisedKFold`, with the labeled rows split as
    :class:`~sklearn.model_selection.StratifiedKFold` would, so every test
    fold keeps the class proportions of the labeled rows. Use it as ``cv=``
    in :class:`~sklearn.model_selection.GridSearchCV` or
    :func:`~sklearn.model_selection.cross_val_score`.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2. A class with fewer labeled rows than
        this is missing from some test folds; scikit-learn's
        ``StratifiedKFold`` then warns (and refuses when every class has
        too few).
    shuffle : bool, default=False
        Shuffle each class's labeled rows before splitting.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle (only with ``shuffle=True``).

    See Also
    --------
    SemiSupervisedKFold : The same without stratification.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklabelfree.datasets import digits_benchmark_split
    >>> from sklabelfree.semi_supervised import PseudoLabelClassifier
    >>> from sklabelfree.utils.model_selection import SemiSupervisedStratifiedKFold
    >>> X, y, X_test, y_test, _ = digits_benchmark_split(50, random_state=0)
    >>> search = GridSearchCV(PseudoLabelClassifier(max_iter=3),
    ...                       {"k_best": [100, 200]},
    ...                       cv=SemiSupervisedStratifiedKFold(3)).fit(X, y)
    >>> sorted(search.best_params_)
    ['k_best']
    """

    def _labeled_splitter(self):
        return StratifiedKFold(
            self.n_splits, shuffle=self.shuffle, random_state=self.random_state
        )


class _LabeledScorer:
    """Call ``scorer`` on the labeled rows of ``(X, y)`` only."""

    def __init__(self, scorer):
        self.scorer = scorer

    def __call__(self, estimator, X, y, **kwargs):
        y = as_label_array(y)
        mask = labeled_mask(y)
        if not mask.any():
            raise ValueError("Cannot score: every row of y is unlabeled (-1).")
        idx = np.flatnonzero(mask)
        n = y.shape[0]
        kwargs = {
            k: (_safe_indexing(v, idx)
                if v is not None and hasattr(v, "__len__") and _num_samples(v) == n
                else v)
            for k, v in kwargs.items()
        }
        return self.scorer(estimator, _safe_indexing(X, idx), _labeled_entries(y[idx]),
                           **kwargs)

    def get_metadata_routing(self):
        """The wrapped scorer's requests: routed metadata reaches it, sliced."""
        return get_routing_for_object(self.scorer)

    def set_score_request(self, **kwargs):
        """Request metadata for the wrapped scorer (see its ``set_score_request``)."""
        if not hasattr(self.scorer, "set_score_request"):
            raise TypeError(
                f"The wrapped scorer {self.scorer!r} takes no metadata requests; "
                "request them on a scorer made by sklearn.metrics.make_scorer.")
        self.scorer.set_score_request(**kwargs)
        return self

    def __repr__(self):
        return f"make_labeled_scorer({self.scorer!r})"


def make_labeled_scorer(scoring=None, estimator=None):
    """Wrap a scorer so that it ignores rows with ``y == -1``.

    With a plain :class:`~sklearn.model_selection.KFold` the test folds of a
    partially labeled data set contain unlabeled rows; this scorer drops them
    before scoring, so the score is computed on the labeled rows alone.

    Parameters
    ----------
    scoring : str, callable or None, default=None
        A scorer name (``'accuracy'``, ``'f1_macro'``...), a scorer callable
        ``scorer(estimator, X, y)``, or None for the estimator's ``score``
        (then ``estimator`` must be given).
    estimator : estimator instance, default=None
        Needed only when ``scoring`` is None.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, **kwargs)``; per-row keyword arguments
        (such as ``sample_weight``) are sliced with the rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklabelfree.utils.model_selection import make_labeled_scorer
    >>> X = np.array([[0.0], [1.0], [0.1], [0.9]])
    >>> clf = LogisticRegression().fit(X, [0, 1, 0, 1])
    >>> scorer = make_labeled_scorer("accuracy")
    >>> scorer(clf, X, np.array([0, 1, -1, -1]))
    1.0
    """
    if scoring is None and estimator is None:
        raise ValueError("make_labeled_scorer needs scoring, or an estimator whose "
                         "score method to use.")
    return _LabeledScorer(check_scoring(estimator, scoring=scoring))
