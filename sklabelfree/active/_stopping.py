"""Stopping criteria: when more labels are no longer worth asking for.

A stopping criterion is a small object with ``should_stop(learner, X_pool)``,
called after each round of active learning with the fitted learner and the
rows still in the pool, and ``reset()``, which forgets what earlier calls
recorded. Once it has decided to stop, ``reason`` says why. The criteria
have ``get_params`` / ``set_params`` (they are scikit-learn
``BaseEstimator`` objects without ``fit``), so they clone and show their
parameters like estimators.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ._data import n_rows, take_rows

__all__ = ["MaxUncertaintyStopping", "StabilizingPredictions"]


def _learner_pool(learner, X_pool):
    """``X_pool``, or the rows of the learner's own pool when it is None."""
    if X_pool is not None:
        return X_pool
    if not hasattr(learner, "pool_indices_"):
        raise ValueError(
            "X_pool is None and the learner has no pool_indices_: pass the "
            "rows of the pool, or a fitted ActiveLearner."
        )
    return take_rows(learner.X_, learner.pool_indices_)


def _cohen_kappa(a, b):
    """Cohen's kappa between two label vectors of the same length.

    ``(p_o - p_e) / (1 - p_e)``, with ``p_o`` the observed agreement and
    ``p_e`` the agreement expected from the two label distributions. When
    both vectors hold a single, identical label (``p_e = 1``) the agreement
    is perfect and kappa is 1.
    """
    a, b = list(a), list(b)
    if len(a) != len(b) or not a:
        raise ValueError("kappa needs two non-empty label vectors of equal length.")
    codes = {}
    ca = np.array([codes.setdefault(v, len(codes)) for v in a])
    cb = np.array([codes.setdefault(v, len(codes)) for v in b])
    n, k = len(a), len(codes)
    p_o = float(np.mean(ca == cb))
    p_e = float(np.dot(np.bincount(ca, minlength=k), np.bincount(cb, minlength=k))
                / (n * n))
    if p_e >= 1.0:
        return 1.0
    return (p_o - p_e) / (1.0 - p_e)


class _BaseStopping(BaseEstimator):
    """Shared behaviour of the stopping criteria."""

    @property
    def reason(self):
        """Why the last call of :meth:`should_stop` said stop; None otherwise."""
        return getattr(self, "reason_", None)

    def reset(self):
        """Forget what earlier calls recorded.

        Returns
        -------
        self : object
        """
        for name in list(vars(self)):
            if name.endswith("_") and not name.startswith("_"):
                delattr(self, name)
        return self

    def should_stop(self, learner, X_pool=None):  # pragma: no cover - abstract
        raise NotImplementedError


class MaxUncertaintyStopping(_BaseStopping):
    """Stop when the learner is confident about every row left in the pool.

    The uncertainty of a row is its least-confidence score, one minus its
    highest predicted class probability. Uncertainty sampling always asks
    for the most uncertain row, so when even that row's uncertainty falls
    below ``threshold`` the remaining rows have little to teach: this is the
    *maximum uncertainty* criterion of Zhu et al. [1]_ (who measure
    uncertainty by entropy; least confidence has the same ordering for two
    classes and a fixed range, ``[0, 1 - 1/n_classes]``, for any number).

    Parameters
    ----------
    threshold : float in [0, 1], default=0.05
        Stop when the largest uncertainty over the pool is below this.

    Attributes
    ----------
    max_uncertainties_ : list of float
        Largest uncertainty over the pool at each call of :meth:`should_stop`
        (calls with an empty pool record nothing).
    reason : str or None
        Why the last call said stop; None when it did not.

    See Also
    --------
    StabilizingPredictions : Stop when successive models agree.
    run_active_learning : Takes stopping criteria.

    References
    ----------
    .. [1] J. Zhu, H. Wang, E. Hovy and M. Ma, "Confidence-based stopping
       criteria for active learning for data annotation", ACM Transactions
       on Speech and Language Processing 6(3), 2010. The criterion first
       appeared in J. Zhu, H. Wang and E. Hovy, "Multi-criteria-based
       strategy to stop active learning for data annotation", COLING 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklabelfree.active import ActiveLearner, MaxUncertaintyStopping
    >>> X = np.r_[np.linspace(-6, -4, 10), np.linspace(4, 6, 10)].reshape(-1, 1)
    >>> y = np.full(20, -1); y[0], y[-1] = 0, 1
    >>> learner = ActiveLearner(LogisticRegression(C=100.0)).fit(X, y)
    >>> criterion = MaxUncertaintyStopping(threshold=0.05)
    >>> criterion.should_stop(learner, X[learner.pool_indices_])
    True
    >>> criterion.reason
    'max uncertainty ... < threshold 0.05'
    """

    _parameter_constraints: dict = {
        "threshold": [Interval(Real, 0.0, 1.0, closed="both")],
    }

    def __init__(self, threshold=0.05):
        self.threshold = threshold

    def should_stop(self, learner, X_pool=None):
        """Whether the largest uncertainty over ``X_pool`` is below ``threshold``.

        Parameters
        ----------
        learner : fitted classifier with ``predict_proba``
            Usually a fitted :class:`ActiveLearner`.
        X_pool : array-like, DataFrame, sparse matrix or tensor, default=None
            The rows still in the pool. ``None``: the learner's own pool
            (rows ``pool_indices_`` of ``learner.X_``).

        Returns
        -------
        stop : bool
            False when the pool is empty (there is nothing to measure).
        """
        self._validate_params()
        self.reason_ = None
        X_pool = _learner_pool(learner, X_pool)
        if not hasattr(self, "max_uncertainties_"):
            self.max_uncertainties_ = []
        if not hasattr(learner, "predict_proba"):
            raise ValueError(
                f"MaxUncertaintyStopping measures uncertainty with predict_proba, "
                f"which {type(getattr(learner, 'estimator_', learner)).__name__} "
                "does not have; use StabilizingPredictions or a budget.")
        if n_rows(X_pool) == 0:
            return False
        proba = np.asarray(learner.predict_proba(X_pool), dtype=float)
        worst = float(np.max(1.0 - proba.max(axis=1)))
        self.max_uncertainties_.append(worst)
        if worst < self.threshold:
            self.reason_ = (
                f"max uncertainty {worst:.4g} < threshold {self.threshold}"
            )
            return True
        return False


class StabilizingPredictions(_BaseStopping):
    """Stop when successive models predict the same labels on a stop set.

    The *stabilizing predictions* method of Bloodgood and Vijay-Shanker
    [1]_. At its first call the criterion draws a *stop set*: up to
    ``stop_set_size`` rows of the pool, chosen at random and kept for good
    (they need no labels, and they stay in the stop set after they are
    labeled). At every call it predicts the stop set with the current model
    and measures Cohen's kappa with the predictions of the previous call's
    model. It stops when the mean of the last ``window`` kappas is at least
    ``threshold``: the model has stopped changing its mind. The first call
    only records predictions, so it stops at the earliest at call
    ``window + 1``. Bloodgood and Grothendieck [2]_ show that a kappa of
    ``T`` between two models bounds the difference of their F-measures by
    ``4 (1 - T) / T``.

    Kappa is ``(p_o - p_e) / (1 - p_e)``, the observed agreement ``p_o``
    corrected for the agreement ``p_e`` expected from the two label
    distributions; when both models predict one and the same class
    everywhere it is taken to be 1.

    Parameters
    ----------
    window : int >= 1, default=3
        Number of most recent kappas that are averaged.
    threshold : float in [-1, 1], default=0.99
        Stop when the average kappa reaches this value.
    stop_set_size : int >= 1, default=1000
        Number of rows in the stop set (all rows of the pool when it has
        fewer).
    random_state : int, RandomState instance or None, default=None
        Draws the stop set.

    Attributes
    ----------
    stop_set_ : same type as ``X_pool``
        The rows of the stop set.
    stop_set_indices_ : ndarray of int
        Their positions in the ``X_pool`` of the first call.
    kappas_ : list of float
        Kappa between the predictions of each call and of the call before.
    reason : str or None
        Why the last call said stop; None when it did not.

    See Also
    --------
    MaxUncertaintyStopping : Stop when the model is confident everywhere.
    run_active_learning : Takes stopping criteria.

    References
    ----------
    .. [1] M. Bloodgood and K. Vijay-Shanker, "A method for stopping active
       learning based on stabilizing predictions and the need for
       user-adjustable stopping", CoNLL 2009, pp. 39-47.
    .. [2] M. Bloodgood and J. Grothendieck, "Analysis of stopping active
       learning based on stabilizing predictions", CoNLL 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklabelfree.active import ActiveLearner, StabilizingPredictions
    >>> X = np.r_[np.linspace(-6, -4, 10), np.linspace(4, 6, 10)].reshape(-1, 1)
    >>> y = np.full(20, -1); y[0], y[-1] = 0, 1
    >>> learner = ActiveLearner(LogisticRegression()).fit(X, y)
    >>> criterion = StabilizingPredictions(window=2, random_state=0)
    >>> [criterion.should_stop(learner, X[learner.pool_indices_])
    ...  for _ in range(3)]
    [False, False, True]
    >>> criterion.kappas_
    [1.0, 1.0]
    """

    _parameter_constraints: dict = {
        "window": [Interval(Integral, 1, None, closed="left")],
        "threshold": [Interval(Real, -1.0, 1.0, closed="both")],
        "stop_set_size": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, window=3, threshold=0.99, stop_set_size=1000,
                 random_state=None):
        self.window = window
        self.threshold = threshold
        self.stop_set_size = stop_set_size
        self.random_state = random_state

    def should_stop(self, learner, X_pool=None):
        """Predict the stop set and compare with the previous call's model.

        Parameters
        ----------
        learner : fitted classifier
            Usually a fitted :class:`ActiveLearner`.
        X_pool : array-like, DataFrame, sparse matrix or tensor, default=None
            The rows still in the pool; only the first call uses them, to
            draw the stop set. ``None``: the learner's own pool.

        Returns
        -------
        stop : bool
            Whether the mean of the last ``window`` kappas reached
            ``threshold``.
        """
        self._validate_params()
        self.reason_ = None
        if not hasattr(self, "stop_set_"):
            X_pool = _learner_pool(learner, X_pool)
            n = n_rows(X_pool)
            if n == 0:
                return False
            rng = check_random_state(self.random_state)
            size = min(self.stop_set_size, n)
            self.stop_set_indices_ = np.sort(rng.choice(n, size=size, replace=False))
            self.stop_set_ = take_rows(X_pool, self.stop_set_indices_)
            self.kappas_ = []
        predictions = np.asarray(learner.predict(self.stop_set_))
        previous = getattr(self, "_previous_predictions", None)
        self._previous_predictions = predictions
        if previous is None:
            return False
        self.kappas_.append(_cohen_kappa(previous, predictions))
        if len(self.kappas_) < self.window:
            return False
        mean = float(np.mean(self.kappas_[-self.window:]))
        if mean >= self.threshold:
            self.reason_ = (
                f"stabilizing predictions: mean kappa {mean:.4f} over the last "
                f"{self.window} rounds >= threshold {self.threshold}"
            )
            return True
        return False

    def reset(self):
        """Forget the stop set and the kappas.

        Returns
        -------
        self : StabilizingPredictions
        """
        super().reset()
        self.__dict__.pop("_previous_predictions", None)
        return self
