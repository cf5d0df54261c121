"""Query strategies: which pool rows are worth a label.

A strategy is a small object with two methods, both called by
:class:`~sklabelfree.active.ActiveLearner` once it is fitted:

- ``score(learner, X)`` returns one number per row of ``X``: how much a
  label for that row is worth (higher is more informative);
- ``select(learner, X, n)`` returns the positions of the ``n`` rows to ask
  for and their scores. Score-based strategies take the ``n`` best scores;
  batch strategies (:class:`RankedBatchSampling`, :class:`CoreSetSampling`)
  pick the rows one after the other so that a batch is not ``n`` copies of
  the same question.

Strategies compose: :class:`DensityWeightedSampling` and
:class:`EpsilonGreedy` wrap another strategy, given by name or as an
instance. A plain function ``f(learner, X) -> scores`` is a strategy too.
Scoring goes through ``learner.predict_proba_pool`` and friends, which run
over the pool in chunks (``chunk_size``) and in parallel (``n_jobs``), so the
memory a query needs beyond the scores does not grow with the pool.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import is_semi_supervised, seed_estimator
from ..utils.validation import labeled_mask
from ._data import flat_features, n_rows, take_rows

__all__ = [
    "QueryStrategy",
    "RandomSampling",
    "UncertaintySampling",
    "DecisionBoundarySampling",
    "DensityWeightedSampling",
    "EpsilonGreedy",
    "QueryByCommittee",
    "RankedBatchSampling",
    "CoreSetSampling",
    "BALD",
    "uncertainty",
    "make_strategy",
]

_MEASURES = ("least_confident", "margin", "entropy")


# --------------------------------------------------------------------- helpers
def uncertainty(proba, measure="margin"):
    """Uncertainty of each row from its class probabilities (Settles, 2009).

    All three measures are scaled to ``[0, 1]`` (1 for a uniform
    distribution, 0 for a certain one), which leaves their ranking as in the
    survey and makes thresholds comparable across numbers of classes:

    - ``'least_confident'``: ``(1 - max_k p_k) * K / (K - 1)``;
    - ``'margin'``: ``1 - (p_(1) - p_(2))``, one minus the gap between the
      two most likely classes;
    - ``'entropy'``: ``-sum_k p_k log p_k / log K``.

    Rows whose probabilities are not finite (a graph-based estimator that
    does not reach a row returns NaN) are treated as uniform: maximally
    uncertain.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Class probabilities.
    measure : {'least_confident', 'margin', 'entropy'}, default='margin'
        The measure.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Higher is more uncertain.

    References
    ----------
    B. Settles, "Active Learning Literature Survey", Computer Sciences
    Technical Report 1648, University of Wisconsin-Madison, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.active import uncertainty
    >>> proba = np.array([[0.5, 0.5, 0.0], [0.9, 0.05, 0.05]])
    >>> uncertainty(proba, "margin").round(2)
    array([1.  , 0.15])
    >>> uncertainty(proba, "least_confident").round(2)
    array([0.75, 0.15])
    """
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {_MEASURES}, got {measure!r}.")
    P = np.asarray(proba, dtype=np.float64)
    if P.ndim != 2:
        raise ValueError(f"proba must be 2-D (n_samples, n_classes), got shape {P.shape}.")
    k = P.shape[1]
    if k < 2:
        return np.zeros(P.shape[0])
    # The hot path of a query, so the rows are scored column by column: the
    # reductions along short rows (np.partition, max or sum over axis 1) cost
    # more than the estimator's predict_proba of the chunk.
    columns = np.ascontiguousarray(P.T)
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~np.isfinite(columns).all(axis=0)  # a NaN or infinity in the row
        if measure == "least_confident":
            scores = (1.0 - columns.max(axis=0)) * (k / (k - 1))
        elif measure == "margin":
            # The two largest values in one pass: the same two values as
            # np.partition along the rows.
            top1 = columns[0].copy()
            top2 = np.full(P.shape[0], -np.inf)
            smaller = np.empty_like(top1)
            for column in columns[1:]:
                np.minimum(top1, column, out=smaller)
                np.maximum(top2, smaller, out=top2)
                np.maximum(top1, column, out=top1)
            scores = 1.0 - (top1 - top2)
        else:
            logs = np.zeros_like(columns)
            np.log(columns, out=logs, where=columns > 0)
            logs *= columns
            scores = -logs.sum(axis=0) / np.log(k)
    # Rows that are not finite are scored as the uniform distribution: 1.
    scores[bad] = 1.0
    return scores


def top_n(scores, n, random_state):
    """Positions of the ``n`` largest scores, best first; ties broken at random.

    A NaN score (a model that diverged, a function with no answer for a
    row) ranks last, as ``-inf``: it never displaces a row with a score.
    """
    scores = np.asarray(scores, dtype=np.float64)
    scores = np.where(np.isnan(scores), -np.inf, scores)
    m = scores.shape[0]
    if n >= m:
        order = np.lexsort((random_state.random_sample(m), -scores))
        return order[:n]
    # The n-th largest value; every score above it is in, ties at it are drawn.
    kth = np.partition(scores, m - n)[m - n]
    above = np.flatnonzero(scores > kth)
    ties = np.flatnonzero(scores == kth)
    need = n - above.shape[0]
    if need < ties.shape[0]:
        ties = random_state.choice(ties, size=need, replace=False)
    chosen = np.concatenate([above, ties])
    order = np.lexsort((random_state.random_sample(chosen.shape[0]), -scores[chosen]))
    return chosen[order]


def _resolve(strategy, what="base"):
    """A strategy instance from a name, an instance or a function."""
    if isinstance(strategy, QueryStrategy):
        return clone(strategy)
    if isinstance(strategy, type) and issubclass(strategy, QueryStrategy):
        raise TypeError(
            f"{what} must be a strategy instance, got the class {strategy.__name__}; "
            f"pass {strategy.__name__}() instead.")
    if isinstance(strategy, str):
        return make_strategy(strategy)
    if callable(strategy):
        return _FunctionStrategy(strategy)
    raise TypeError(
        f"{what} must be a strategy name, a QueryStrategy or a function "
        f"f(learner, X) -> scores; got {type(strategy).__name__}."
    )


def make_strategy(name):
    """The strategy registered under ``name``, with its default parameters.

    Parameters
    ----------
    name : str
        One of ``'random'``, ``'least_confident'``, ``'margin'``,
        ``'entropy'``, ``'boundary'``, ``'density'``, ``'qbc'``,
        ``'ranked_batch'``, ``'coreset'``, ``'bald'``.

    Returns
    -------
    strategy : QueryStrategy

    Examples
    --------
    >>> from sklabelfree.active import make_strategy
    >>> make_strategy("entropy")
    UncertaintySampling(measure='entropy')
    """
    factories = {
        "random": RandomSampling,
        "least_confident": lambda: UncertaintySampling("least_confident"),
        "margin": lambda: UncertaintySampling("margin"),
        "entropy": lambda: UncertaintySampling("entropy"),
        "boundary": DecisionBoundarySampling,
        "density": DensityWeightedSampling,
        "qbc": QueryByCommittee,
        "ranked_batch": RankedBatchSampling,
        "coreset": CoreSetSampling,
        "bald": BALD,
    }
    if name not in factories:
        raise ValueError(
            f"unknown query strategy {name!r}; choose one of {sorted(factories)}, "
            "or pass a QueryStrategy instance or a function f(learner, X) -> scores."
        )
    return factories[name]()


# --------------------------------------------------------------------- base
class QueryStrategy(BaseEstimator):
    """Base class of the query strategies.

    Subclasses implement :meth:`score`; batch strategies also override
    :meth:`select`. Strategies that need state from the labeled rows (a
    committee) build it in :meth:`update`, which the learner calls after
    every fit. Parameters are read with ``get_params``, so a strategy inside
    an :class:`~sklabelfree.active.ActiveLearner` is tuned by
    ``GridSearchCV`` as ``query_strategy__<param>``.

    Examples
    --------
    A strategy that prefers rows with a large first feature:

    >>> import numpy as np
    >>> from sklabelfree.active import QueryStrategy
    >>> class FirstFeature(QueryStrategy):
    ...     def score(self, learner, X):
    ...         return np.asarray(X)[:, 0]
    >>> FirstFeature().select(None, np.array([[0.], [3.], [1.]]), 2,
    ...                       np.random.RandomState(0))[0]
    array([1, 2])
    """

    #: Whether :meth:`score` is an uncertainty in [0, 1], usable by
    #: :meth:`ActiveLearner.should_query <sklabelfree.active.ActiveLearner.should_query>`.
    _stream_score = False

    def update(self, learner):
        """Prepare for the next queries after ``learner`` was (re)fitted.

        Parameters
        ----------
        learner : ActiveLearner
            The fitted learner.

        Returns
        -------
        self : QueryStrategy
        """
        return self

    def score(self, learner, X):
        """Informativeness of each row of ``X`` (higher is better).

        Parameters
        ----------
        learner : ActiveLearner
            The fitted learner.
        X : array-like
            Candidate rows.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        raise NotImplementedError

    def select(self, learner, X, n, random_state):
        """Positions of the ``n`` rows of ``X`` to ask for, and their scores.

        Parameters
        ----------
        learner : ActiveLearner
            The fitted learner.
        X : array-like
            Candidate rows.
        n : int
            How many rows to pick.
        random_state : numpy.random.RandomState
            Breaks ties.

        Returns
        -------
        indices : ndarray of shape (n,)
            Positions in ``X``, best first.
        scores : ndarray of shape (n,)
            Their scores.
        """
        scores = np.asarray(self.score(learner, X), dtype=np.float64)
        idx = top_n(scores, n, random_state)
        return idx, scores[idx]


class _FunctionStrategy(QueryStrategy):
    """A plain function ``f(learner, X) -> scores`` used as a strategy."""

    def __init__(self, func=None):
        self.func = func

    def score(self, learner, X):
        scores = np.asarray(self.func(learner, X), dtype=np.float64).ravel()
        if scores.shape[0] != n_rows(X):
            raise ValueError(
                f"the query function returned {scores.shape[0]} scores for "
                f"{n_rows(X)} rows; it must return one score per row."
            )
        return scores


class _WrapsBase(QueryStrategy):
    """A strategy built on another one, ``base`` (a name, instance or function)."""

    @property
    def _stream_score(self):
        return getattr(_resolve(self.base), "_stream_score", False)

    def update(self, learner):
        self.base_ = _resolve(self.base)
        self.base_.update(learner)
        return self

    def _base(self, learner):
        """The resolved base strategy (updated on first use)."""
        if not hasattr(self, "base_"):
            self.update(learner)
        return self.base_

    def score(self, learner, X):
        return self._base(learner).score(learner, X)


# --------------------------------------------------------------------- strategies
class RandomSampling(QueryStrategy):
    """Pick rows uniformly at random: the baseline every strategy must beat.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.active import RandomSampling
    >>> idx, _ = RandomSampling().select(None, np.zeros((10, 2)), 3,
    ...                                  np.random.RandomState(0))
    >>> len(set(idx.tolist()))
    3
    """

    def score(self, learner, X):
        rng = learner.random_state_ if learner is not None else np.random.RandomState()
        return rng.random_sample(n_rows(X))

    def select(self, learner, X, n, random_state):
        idx = random_state.choice(n_rows(X), size=n, replace=False)
        return idx, np.zeros(n)


class UncertaintySampling(QueryStrategy):
    """Ask for the rows the model is least sure of (Lewis & Gale, 1994).

    The uncertainty comes from the fitted estimator's ``predict_proba`` with
    one of the measures of Settles (2009), see :func:`uncertainty`.

    Parameters
    ----------
    measure : {'least_confident', 'margin', 'entropy'}, default='margin'
        Least confidence, the margin between the two most likely classes
        (Scheffer et al., 2001) or the entropy of the distribution.

    References
    ----------
    D. D. Lewis and W. A. Gale, "A sequential algorithm for training text
    classifiers", SIGIR 1994.
    B. Settles, "Active Learning Literature Survey", 2009.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklabelfree.active import ActiveLearner, UncertaintySampling
    >>> X, y = load_iris(return_X_y=True)
    >>> y_partial = y.copy(); y_partial[5:-5] = -1
    >>> learner = ActiveLearner(LogisticRegression(),
    ...                         UncertaintySampling("entropy"), random_state=0)
    >>> learner.fit(X, y_partial).query(n=2).shape
    (2,)
    """

    _parameter_constraints = {"measure": [StrOptions(set(_MEASURES))]}
    _stream_score = True

    def __init__(self, measure="margin"):
        self.measure = measure

    def score(self, learner, X):
        if self.measure not in _MEASURES:
            raise ValueError(f"measure must be one of {_MEASURES}, got {self.measure!r}.")
        measure = self.measure
        return learner.map_pool(lambda P: uncertainty(P, measure), X, method="predict_proba")


class DecisionBoundarySampling(QueryStrategy):
    """Ask for the rows closest to the decision boundary.

    For classifiers without probabilities (a linear SVM): the score is
    ``-|f(x)|`` for a binary ``decision_function`` and minus the gap between
    the two largest one-vs-rest decision values otherwise (Schohn & Cohn,
    2000; Tong & Koller, 2001).

    References
    ----------
    G. Schohn and D. Cohn, "Less is more: Active learning with support
    vector machines", ICML 2000.
    S. Tong and D. Koller, "Support vector machine active learning with
    applications to text classification", JMLR 2, 2001.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import LinearSVC
    >>> from sklabelfree.active import ActiveLearner
    >>> X, y = load_iris(return_X_y=True)
    >>> y_partial = y.copy(); y_partial[5:-5] = -1
    >>> learner = ActiveLearner(LinearSVC(), "boundary", random_state=0)
    >>> learner.fit(X, y_partial).query(n=3).shape
    (3,)
    """

    def score(self, learner, X):
        def gap(D):
            D = np.asarray(D, dtype=np.float64)
            if D.ndim == 1:
                return -np.abs(D)
            if D.shape[1] == 1:
                return -np.abs(D[:, 0])
            k = D.shape[1]
            top2 = np.partition(D, k - 2, axis=1)[:, k - 2:]
            return -np.abs(top2[:, 1] - top2[:, 0])

        if not hasattr(learner.estimator_, "decision_function"):
            raise TypeError(
                "DecisionBoundarySampling needs an estimator with decision_function; "
                f"{type(learner.estimator_).__name__} has none. Use an uncertainty "
                "strategy ('margin') instead."
            )
        return learner.map_pool(gap, X, method="decision_function")


class DensityWeightedSampling(_WrapsBase):
    """Information density: uncertainty times representativeness.

    Settles & Craven (2008): the score of a row is its base score times its
    average similarity to the pool, raised to ``beta``, so that outliers,
    uncertain but unlike anything else, are not asked first.

    - ``similarity='cosine'`` (the paper's choice, for non-negative features
      such as counts or pixels): the mean cosine similarity to the pool is
      ``x_hat . mean(u_hat)``, exact in one pass over the pool. Negative
      means are clipped to 0.
    - ``similarity='rbf'``: ``exp(-gamma ||x - u||^2)`` averaged over up to
      ``n_reference`` pool rows drawn at random.

    Parameters
    ----------
    base : str, QueryStrategy or callable, default='entropy'
        The informativeness measure (the paper uses entropy). Its scores are
        shifted to be non-negative before weighting.
    beta : float, default=1.0
        Weight of the density term.
    similarity : {'cosine', 'rbf'}, default='cosine'
        Similarity between rows.
    gamma : float, default=None
        RBF width; ``1 / n_features`` when None.
    n_reference : int, default=2000
        Pool rows drawn to average the RBF similarity over.

    References
    ----------
    B. Settles and M. Craven, "An analysis of active learning strategies for
    sequence labeling tasks", EMNLP 2008.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklabelfree.active import ActiveLearner, DensityWeightedSampling
    >>> X, y = load_digits(return_X_y=True)
    >>> y_partial = y.copy(); y_partial[30:] = -1
    >>> strategy = DensityWeightedSampling(base="margin", beta=1.0)
    >>> learner = ActiveLearner(LogisticRegression(max_iter=200), strategy,
    ...                         random_state=0).fit(X / 16, y_partial)
    >>> learner.query(n=5).shape
    (5,)
    """

    _parameter_constraints = {
        "base": [str, QueryStrategy, callable],
        "beta": [Interval(numbers.Real, 0, None, closed="left")],
        "similarity": [StrOptions({"cosine", "rbf"})],
        "gamma": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "n_reference": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    # The density of a row is relative to a pool: a single arriving row has
    # none, so stream-based sampling refuses this strategy.
    _stream_score = False

    def __init__(self, base="entropy", beta=1.0, similarity="cosine", gamma=None,
                 n_reference=2000):
        self.base = base
        self.beta = beta
        self.similarity = similarity
        self.gamma = gamma
        self.n_reference = n_reference

    def density(self, learner, X):
        """Average similarity of each row of ``X`` to the rows of ``X``.

        Parameters
        ----------
        learner : ActiveLearner
            The fitted learner (chunking, random state).
        X : array-like
            The pool.

        Returns
        -------
        density : ndarray of shape (n_samples,)
        """
        if self.similarity == "cosine":
            def normalised(F):
                F = flat_features(F)
                if sp.issparse(F):
                    norms = np.sqrt(np.asarray(F.multiply(F).sum(axis=1))).ravel()
                    norms[norms == 0] = 1.0
                    return sp.diags(1.0 / norms) @ F
                norms = np.linalg.norm(F, axis=1)
                norms[norms == 0] = 1.0
                return F / norms[:, None]

            sums = learner.map_pool(
                lambda F: np.asarray(normalised(F).sum(axis=0)).reshape(1, -1), X,
                method=None)
            mean = sums.sum(axis=0) / n_rows(X)
            dens = learner.map_pool(lambda F: np.asarray(normalised(F) @ mean).ravel(), X,
                                    method=None)
            return np.clip(dens, 0.0, None)
        m = n_rows(X)
        rng = learner.random_state_
        ref_rows = rng.choice(m, size=min(self.n_reference, m), replace=False)
        ref = flat_features(take_rows(X, ref_rows))
        ref = ref.toarray() if sp.issparse(ref) else ref
        gamma = self.gamma if self.gamma is not None else 1.0 / ref.shape[1]

        def mean_rbf(F):
            F = flat_features(F)
            F = F.toarray() if sp.issparse(F) else F
            d2 = (F**2).sum(1)[:, None] - 2 * F @ ref.T + (ref**2).sum(1)[None]
            return np.exp(-gamma * np.clip(d2, 0, None)).mean(axis=1)

        return learner.map_pool(mean_rbf, X, method=None)

    def score(self, learner, X):
        base = np.asarray(self._base(learner).score(learner, X), dtype=np.float64)
        base = base - min(base.min(), 0.0)
        return base * self.density(learner, X) ** self.beta


class EpsilonGreedy(_WrapsBase):
    """Mix exploration into another strategy.

    Each of the ``n`` picks of a query is, with probability ``epsilon``, a
    pool row drawn uniformly at random instead of the next best row of the
    base strategy. Exploration guards against a model that is confidently
    wrong on a region it has never seen (Bouneffouf et al., 2014).

    Parameters
    ----------
    base : str, QueryStrategy or callable, default='margin'
        The exploiting strategy.
    epsilon : float in [0, 1], default=0.1
        Probability of a random pick.

    References
    ----------
    D. Bouneffouf, R. Laroche, T. Urvoy, R. Feraud and R. Allesiardo,
    "Contextual bandit for active learning: Active Thompson Sampling",
    ICONIP 2014.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklabelfree.active import ActiveLearner, EpsilonGreedy
    >>> X, y = load_iris(return_X_y=True)
    >>> y_partial = y.copy(); y_partial[5:-5] = -1
    >>> learner = ActiveLearner(LogisticRegression(), EpsilonGreedy("entropy", 0.5),
    ...                         batch_size=4, random_state=0).fit(X, y_partial)
    >>> learner.query().shape
    (4,)
    """

    _parameter_constraints = {
        "base": [str, QueryStrategy, callable],
        "epsilon": [Interval(numbers.Real, 0, 1, closed="both")],
    }

    def __init__(self, base="margin", epsilon=0.1):
        self.base = base
        self.epsilon = epsilon

    def select(self, learner, X, n, random_state):
        base = self._base(learner)
        m = n_rows(X)
        n_random = random_state.binomial(n, self.epsilon)
        n_best = n - n_random
        if n_best:
            best, best_scores = base.select(learner, X, n_best, random_state)
        else:
            best, best_scores = np.empty(0, dtype=np.intp), np.empty(0)
        if not n_random:
            return np.asarray(best, dtype=np.intp), np.asarray(best_scores, dtype=np.float64)
        rest = np.setdiff1d(np.arange(m), best)
        picked = random_state.choice(rest, size=n_random, replace=False)
        # The explored rows' scores against the whole pool (a density, say,
        # is relative to the pool, not to the picked rows).
        pool_scores = np.asarray(base.score(learner, X), dtype=np.float64)
        idx = np.concatenate([best, picked]).astype(np.intp)
        return idx, np.concatenate([np.asarray(best_scores, dtype=np.float64),
                                    pool_scores[picked]])


def _fit_member(template, X, y, rows, unlabeled_rows):
    est = clone(template)
    if unlabeled_rows is not None:
        all_rows = np.concatenate([rows, unlabeled_rows])
        y_rows = np.concatenate([
            np.asarray(y, dtype=object)[rows] if y.dtype == object else y[rows],
            np.full(unlabeled_rows.shape[0], -1, dtype=y.dtype),
        ])
        est.fit(take_rows(X, all_rows), y_rows)
    else:
        est.fit(take_rows(X, rows), y[rows])
    return est


class QueryByCommittee(QueryStrategy):
    """Ask where a committee of models disagrees most.

    Seung et al. (1992); here the committee is ``n_members`` clones of the
    learner's estimator, each fitted on a bootstrap resample of the labeled
    rows (query by bagging, Abe & Mamitsuka, 1998), so the members' training
    sets overlap. A class missing from a resample gets one of its rows back,
    so every member knows every class. Members are fitted in parallel with
    joblib. A semi-supervised estimator also gets every unlabeled row.

    Disagreement:

    - ``'vote_entropy'``: entropy of the members' votes (Dagan & Engelson,
      1995), divided by its maximum ``log(min(n_members, n_classes))``;
    - ``'kl'``: mean Kullback-Leibler divergence of each member's
      probabilities to the committee's mean (McCallum & Nigam, 1998),
      divided by its maximum ``log(min(n_members, n_classes))``.

    Both lie in [0, 1], so both serve stream-based sampling.

    Parameters
    ----------
    n_members : int, default=5
        Committee size.
    disagreement : {'vote_entropy', 'kl'}, default='vote_entropy'
        Disagreement measure.
    n_jobs : int, default=None
        Members fitted in parallel (joblib).

    Attributes
    ----------
    members_ : list of estimators
        The fitted committee (set by :meth:`update`).

    References
    ----------
    H. S. Seung, M. Opper and H. Sompolinsky, "Query by committee",
    COLT 1992.
    A. McCallum and K. Nigam, "Employing EM and pool-based active learning
    for text classification", ICML 1998.
    N. Abe and H. Mamitsuka, "Query learning strategies using boosting and
    bagging", ICML 1998.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from sklabelfree.active import ActiveLearner, QueryByCommittee
    >>> X, y = load_iris(return_X_y=True)
    >>> y_partial = y.copy(); y_partial[5:-5] = -1
    >>> learner = ActiveLearner(DecisionTreeClassifier(random_state=0),
    ...                         QueryByCommittee(n_members=4), random_state=0)
    >>> learner.fit(X, y_partial).query(n=2).shape
    (2,)
    >>> len(learner.query_strategy_.members_)
    4
    """

    _parameter_constraints = {
        "n_members": [Interval(numbers.Integral, 2, None, closed="left")],
        "disagreement": [StrOptions({"vote_entropy", "kl"})],
        "n_jobs": [numbers.Integral, None],
    }
    _stream_score = True

    def __init__(self, n_members=5, disagreement="vote_entropy", n_jobs=None):
        self.n_members = n_members
        self.disagreement = disagreement
        self.n_jobs = n_jobs

    def update(self, learner):
        y = learner.y_
        labeled = np.flatnonzero(labeled_mask(y))
        semi = is_semi_supervised(learner.estimator_)
        unlabeled = np.flatnonzero(~labeled_mask(y)) if semi else None
        y_lab = y[labeled]
        classes = np.unique(y_lab.astype(str)) if y.dtype == object else np.unique(y_lab)
        rng = learner.random_state_
        samples = []
        for _ in range(self.n_members):
            rows = rng.randint(0, labeled.shape[0], size=labeled.shape[0])
            present = np.unique(y_lab[rows].astype(str) if y.dtype == object
                                else y_lab[rows])
            missing = np.setdiff1d(classes, present)
            extra = [rng.choice(np.flatnonzero(
                (y_lab.astype(str) if y.dtype == object else y_lab) == c))
                for c in missing]
            samples.append(labeled[np.concatenate([rows, np.asarray(extra, dtype=np.intp)])
                                   .astype(np.intp)])
        template = learner._template()
        if self.disagreement == "kl" and not hasattr(template, "predict_proba"):
            raise ValueError(
                f"QueryByCommittee(disagreement='kl') needs members with predict_proba; "
                f"{type(template).__name__} has none. Use disagreement='vote_entropy'.")
        # Each member gets its own seed from the learner's random state, so a
        # seeded learner builds the same committee every time.
        members = [seed_estimator(clone(template), rng) for _ in samples]
        self.members_ = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_fit_member)(member, learner.X_, y, rows, unlabeled)
            for member, rows in zip(members, samples)
        )
        self.classes_ = learner.classes_
        return self

    def _member_proba(self, member, F):
        """Member probabilities in the columns of the committee's classes."""
        P = np.asarray(member.predict_proba(F), dtype=np.float64)
        out = np.zeros((P.shape[0], len(self.classes_)))
        cols = np.searchsorted(self.classes_, member.classes_)
        out[:, cols] = P
        bad = ~np.isfinite(out).all(axis=1)
        out[bad] = 1.0 / len(self.classes_)
        return out

    def score(self, learner, X):
        if not hasattr(self, "members_"):
            self.update(learner)
        k = len(self.classes_)
        C = len(self.members_)
        if self.disagreement == "vote_entropy":
            def vote_entropy(F):
                votes = np.zeros((n_rows(F), k))
                for member in self.members_:
                    pred = np.searchsorted(self.classes_, np.asarray(member.predict(F)))
                    votes[np.arange(votes.shape[0]), pred] += 1
                V = votes / C
                with np.errstate(divide="ignore", invalid="ignore"):
                    H = -np.where(V > 0, V * np.log(np.where(V > 0, V, 1.0)), 0.0).sum(1)
                return H / np.log(min(C, k)) if min(C, k) > 1 else H

            return learner.map_pool(vote_entropy, X, method=None)

        def kl(F):
            probs = np.stack([self._member_proba(m, F) for m in self.members_])
            consensus = probs.mean(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(probs > 0, np.log(np.where(probs > 0, probs, 1.0))
                                 - np.log(np.where(consensus > 0, consensus, 1.0))[None],
                                 0.0)
            mean_kl = (probs * ratio).sum(axis=2).mean(axis=0)
            # At most log(min(C, k)) (consensus >= member / C; mean KL =
            # H(consensus) - mean H(member) <= log k): divided by it, as the
            # vote entropy is.
            return mean_kl / np.log(min(C, k)) if min(C, k) > 1 else mean_kl

        return learner.map_pool(kl, X, method=None)


def _unit_scores(u):
    """Scores scaled to [0, 1] over their finite range; NaN and -inf at 0, inf at 1."""
    u = np.asarray(u, dtype=np.float64)
    u = np.where(np.isnan(u), -np.inf, u)
    finite = np.isfinite(u)
    if not finite.any():
        return (u == np.inf).astype(np.float64)
    lo, hi = u[finite].min(), u[finite].max()
    if hi > lo:
        return np.clip((u - lo) / (hi - lo), 0.0, 1.0)
    return (u == np.inf).astype(np.float64)


def _pool_features(learner, X, transform):
    F = transform(X) if transform is not None else X
    try:
        return flat_features(F)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "distances need numeric rows; these rows are not (text, say): give "
            "transform= a function that maps them to features (a fitted "
            f"vectorizer's or encoder's transform). ({exc})") from exc


def _min_distances(learner, F_pool, F_ref):
    """Distance of every pool row to its nearest reference row, by chunks."""
    from sklearn.metrics import pairwise_distances_argmin_min

    if F_ref.shape[0] == 0:
        return np.full(F_pool.shape[0], np.inf)
    return learner.map_pool(
        lambda F: pairwise_distances_argmin_min(F, F_ref)[1], F_pool, method=None)


def _distances_to(F_pool, row):
    from sklearn.metrics import pairwise_distances

    return pairwise_distances(F_pool, row).ravel()


class RankedBatchSampling(_WrapsBase):
    """Batches that trade uncertainty for diversity (Cardoso et al., 2017).

    Rows are picked one at a time. Each candidate's score is
    ``alpha * (1 - s(x)) + (1 - alpha) * u(x)``, where ``u`` is the base
    strategy's uncertainty, ``s(x) = 1 / (1 + d(x))`` the similarity to the
    nearest row already labeled or picked for this batch, and ``alpha = |U|
    / (|U| + |L|)`` the share of unlabeled rows, updated after each pick
    (the pick moves from ``U`` to ``L``): early on diversity dominates,
    later uncertainty. An uncertainty in [0, 1] (the uncertainty measures,
    a committee, BALD) is used as it is; a score outside that range (the
    distance to the boundary, a function) is first scaled to [0, 1] over
    the pool.

    Parameters
    ----------
    base : str, QueryStrategy or callable, default='margin'
        The uncertainty term.
    transform : callable, default=None
        Maps rows to the features distances are measured in (an encoder's
        ``transform``); the raw (flattened) rows when None.

    References
    ----------
    T. N. C. Cardoso, R. M. Silva, S. Canuto, M. M. Moro and M. A.
    Goncalves, "Ranked batch-mode active learning", Information Sciences
    379, 2017.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklabelfree.active import ActiveLearner, RankedBatchSampling
    >>> X, y = load_iris(return_X_y=True)
    >>> y_partial = y.copy(); y_partial[5:-5] = -1
    >>> learner = ActiveLearner(LogisticRegression(), RankedBatchSampling(),
    ...                         batch_size=5, random_state=0).fit(X, y_partial)
    >>> learner.query().shape
    (5,)
    """

    _parameter_constraints = {
        "base": [str, QueryStrategy, callable],
        "transform": [callable, None],
    }

    def __init__(self, base="margin", transform=None):
        self.base = base
        self.transform = transform

    def select(self, learner, X, n, random_state):
        raw = np.asarray(self.score(learner, X), dtype=np.float64)
        finite = raw[np.isfinite(raw)]
        if finite.size and finite.min() >= 0.0 and finite.max() <= 1.0:
            # An uncertainty already in [0, 1], used as it is (the paper's u).
            u = np.where(np.isnan(raw), 0.0, np.clip(raw, 0.0, 1.0))
        else:
            u = _unit_scores(raw)
        F = _pool_features(learner, X, self.transform)
        F_lab = _pool_features(learner, learner.labeled_X(), self.transform)
        d = _min_distances(learner, F, F_lab)
        n_unl, n_lab = F.shape[0], F_lab.shape[0]
        picked = []
        taken = np.zeros(F.shape[0], dtype=bool)
        for k in range(n):
            # Each pick moves a row from the unlabeled to the labeled set.
            alpha = (n_unl - k) / (n_unl + n_lab)
            sim = 1.0 / (1.0 + d)
            s = alpha * (1.0 - sim) + (1.0 - alpha) * u
            s[taken] = -np.inf
            best = np.flatnonzero(s == s.max())
            i = int(best[0] if best.shape[0] == 1 else random_state.choice(best))
            picked.append(i)
            taken[i] = True
            d = np.minimum(d, _distances_to(F, F[i:i + 1]))
        idx = np.asarray(picked, dtype=np.intp)
        return idx, u[idx]


class CoreSetSampling(QueryStrategy):
    """Greedy k-center core set (Sener & Savarese, 2018).

    Picks, one at a time, the pool row farthest from every row labeled or
    already picked, so the batch covers the data: the greedy 2-approximation
    of the k-center problem the paper uses. It needs no model output, only
    features.

    Parameters
    ----------
    transform : callable, default=None
        Maps rows to the feature space (e.g. a fitted encoder's
        ``transform``); the raw (flattened) rows when None.

    References
    ----------
    O. Sener and S. Savarese, "Active learning for convolutional neural
    networks: A core-set approach", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklabelfree.active import ActiveLearner, CoreSetSampling
    >>> X = np.array([[0.], [0.1], [5.], [10.], [10.1], [0.2]])
    >>> y = np.array([0, 1, -1, -1, -1, -1])
    >>> learner = ActiveLearner(LogisticRegression(), CoreSetSampling(),
    ...                         batch_size=2, random_state=0).fit(X, y)
    >>> learner.query().tolist()
    [4, 2]
    """

    _parameter_constraints = {"transform": [callable, None]}

    def __init__(self, transform=None):
        self.transform = transform

    def score(self, learner, X):
        F = _pool_features(learner, X, self.transform)
        return _min_distances(learner, F, _pool_features(learner, learner.labeled_X(),
                                                         self.transform))

    def select(self, learner, X, n, random_state):
        F = _pool_features(learner, X, self.transform)
        d = _min_distances(learner, F, _pool_features(learner, learner.labeled_X(),
                                                      self.transform))
        picked, dists = [], []
        for _ in range(n):
            best = np.flatnonzero(d == d.max())
            i = int(best[0] if best.shape[0] == 1 else random_state.choice(best))
            picked.append(i)
            dists.append(d[i])
            d = np.minimum(d, _distances_to(F, F[i:i + 1]))
            d[i] = -np.inf
        return np.asarray(picked, dtype=np.intp), np.asarray(dists)


class BALD(QueryStrategy):
    """Bayesian active learning by disagreement with MC dropout (Gal et al., 2017).

    The score is the mutual information between the prediction and the
    model's weights, ``H[mean_t p_t] - mean_t H[p_t]``, estimated from
    ``n_samples`` forward passes with dropout switched on (Houlsby et al.,
    2011; Gal & Ghahramani, 2016). Only the dropout layers run in training
    mode; batch norm keeps its running statistics. The estimator must be a
    skorch net (or a ``Pipeline`` ending in one) whose module has dropout
    layers, such as sklabelfree's nets with ``module__dropout > 0``. The
    score is divided by ``log(n_classes)`` to lie in [0, 1].

    The dropout masks are drawn chunk by chunk from a seed the learner's
    ``random_state`` gives: a seeded learner asks for the same rows every
    time with the same ``chunk_size``, but another ``chunk_size`` draws
    other masks and may rank near-equal rows otherwise.

    Parameters
    ----------
    n_samples : int, default=20
        Stochastic forward passes.

    References
    ----------
    Y. Gal, R. Islam and Z. Ghahramani, "Deep Bayesian active learning with
    image data", ICML 2017.
    N. Houlsby, F. Huszar, Z. Ghahramani and M. Lengyel, "Bayesian active
    learning for classification and preference learning", arXiv:1112.5745,
    2011.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.active import ActiveLearner, BALD
    >>> from sklabelfree.semi_supervised import SupervisedNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 4).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int); y[10:] = -1
    >>> net = SupervisedNetClassifier(max_epochs=2, module__dropout=0.5,
    ...                               random_state=0)
    >>> learner = ActiveLearner(net, BALD(n_samples=5), random_state=0)
    >>> learner.fit(X, y).query(n=3).shape
    (3,)
    """

    _parameter_constraints = {
        "n_samples": [Interval(numbers.Integral, 2, None, closed="left")],
    }
    _stream_score = True

    def __init__(self, n_samples=20):
        self.n_samples = n_samples

    @staticmethod
    def _net(estimator):
        net = estimator
        if hasattr(net, "steps"):
            net = net.steps[-1][1]
        if not hasattr(net, "module_"):
            raise TypeError(
                "BALD needs a skorch net (or a Pipeline ending in one) with dropout "
                f"layers; got {type(estimator).__name__}."
            )
        return net

    @staticmethod
    def _dropouts(net):
        import torch

        found = []
        for value in vars(net).values():
            if isinstance(value, torch.nn.Module):
                found += [m for m in value.modules()
                          if isinstance(m, torch.nn.modules.dropout._DropoutNd)]
        return found

    def score(self, learner, X):
        import torch

        net = self._net(learner.estimator_)
        dropouts = self._dropouts(net)
        if not dropouts:
            raise ValueError(
                f"BALD needs dropout layers in the network; {type(net.module_).__name__} "
                "has none. Give it some (for sklabelfree's nets: module__dropout=0.3)."
            )
        seed = int(learner.random_state_.randint(np.iinfo(np.int32).max))

        def keep_dropout_on(module, inputs):
            # skorch puts the whole module in eval mode before each batch;
            # this runs after it, just before the dropout layer itself.
            module.train(True)

        calls = [0]
        # Dropout on a GPU draws from that device's generator: fork it too.
        cuda_devices = ([torch.device(net.device).index or 0]
                        if str(net.device).startswith("cuda") else [])

        def mutual_information(F):
            hooks = [m.register_forward_pre_hook(keep_dropout_on) for m in dropouts]
            # A seed per chunk (chunks run one after the other): reproducible,
            # and rows of different chunks do not share dropout masks.
            calls[0] += 1
            try:
                with torch.random.fork_rng(devices=cuda_devices):
                    torch.manual_seed(seed + calls[0])
                    probs = np.stack([
                        np.asarray(learner.estimator_.predict_proba(F), dtype=np.float64)
                        for _ in range(self.n_samples)
                    ])
            finally:
                for h in hooks:
                    h.remove()
                for m in dropouts:
                    m.train(False)
            mean = probs.mean(axis=0)

            def H(p):
                with np.errstate(divide="ignore", invalid="ignore"):
                    return -np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0).sum(-1)

            k = mean.shape[1]
            mi = H(mean) - H(probs).mean(axis=0)
            return np.clip(mi, 0.0, None) / (np.log(k) if k > 1 else 1.0)

        # One chunk at a time: the forward passes share the torch state.
        return learner.map_pool(mutual_information, X, method=None, n_jobs=1)
