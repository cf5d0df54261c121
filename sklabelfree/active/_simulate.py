"""Simulated active learning: learning curves with an oracle that knows every label.

:func:`simulate_active_learning` replays an active-learning session on a
fully labeled data set, the true labels playing the oracle, and records the
test score after every query: an :class:`ActiveLearningCurve`.
:class:`ActiveLearningCurveDisplay` draws such curves (matplotlib is imported
only when a display plots).
"""

import numbers
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.metrics import check_scoring, get_scorer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.validation import _num_samples

from .. import UNLABELED
from ..base import seed_estimator
from ._data import take_rows

__all__ = [
    "ActiveLearningCurve",
    "ActiveLearningCurveDisplay",
    "simulate_active_learning",
]


def _trapezoid_auc(n_labels, scores):
    """Area under ``scores`` over ``n_labels`` divided by the range of ``n_labels``."""
    n_labels = np.asarray(n_labels, dtype=float)
    scores = np.asarray(scores, dtype=float)
    if n_labels.size == 0:
        return float("nan")
    if n_labels.size == 1:
        return float(scores[0])
    width = n_labels[-1] - n_labels[0]
    area = np.sum(np.diff(n_labels) * (scores[1:] + scores[:-1]) / 2.0)
    return float(area / width)


@dataclass(frozen=True, eq=False)
class ActiveLearningCurve:
    """The test score of an active learner after each query of a simulation.

    Returned by :func:`simulate_active_learning`. Entry ``i`` of every array
    describes the learner once it held ``n_labels[i]`` labels: the first
    entry is the random start, every later one follows a query and the
    refit on its answer.

    Parameters
    ----------
    n_labels : ndarray of int, shape (n_steps,)
        Labeled rows after each step, increasing; ``n_labels[0]`` is the
        size of the random start.
    scores : ndarray of float, shape (n_steps,)
        The test score after each step.
    queried : ndarray of int, shape (n_labels[-1] - n_labels[0],)
        The rows the learner queried, in order (positions in the ``X`` of
        the simulation).
    initial : ndarray of int, shape (n_labels[0],)
        The rows of the random start.
    fit_seconds : ndarray of float, shape (n_steps,)
        Wall-clock seconds of the fit of each step (the initial ``fit``,
        then each ``teach``, which refits).
    query_seconds : ndarray of float, shape (n_steps,)
        Wall-clock seconds of each step's ``query``; ``0.0`` for the random
        start.
    name : str or None, default=None
        The label of the curve in plots and tables.
    scoring : str, default='accuracy'
        What ``scores`` measure.

    Attributes
    ----------
    auc : float
        The normalised area under the curve (see :attr:`auc`).

    See Also
    --------
    simulate_active_learning : Make such curves.
    ActiveLearningCurveDisplay : Plot them.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.active import ActiveLearningCurve
    >>> curve = ActiveLearningCurve(
    ...     n_labels=np.array([10, 11, 12]), scores=np.array([0.5, 0.7, 0.8]),
    ...     queried=np.array([4, 7]), initial=np.arange(10),
    ...     fit_seconds=np.zeros(3), query_seconds=np.zeros(3), name="margin")
    >>> curve.auc  # ((0.5 + 0.7) / 2 + (0.7 + 0.8) / 2) / (12 - 10)
    0.675
    >>> curve.score_at(11), curve.score_at(100)
    (0.7, 0.8)
    """

    n_labels: np.ndarray
    scores: np.ndarray
    queried: np.ndarray
    initial: np.ndarray
    fit_seconds: np.ndarray
    query_seconds: np.ndarray
    name: object = None
    scoring: str = "accuracy"
    _auc: float = field(init=False, repr=False, default=float("nan"))

    def __post_init__(self):
        n_labels = np.asarray(self.n_labels, dtype=np.int64)
        scores = np.asarray(self.scores, dtype=float)
        if n_labels.ndim != 1 or n_labels.size == 0:
            raise ValueError("n_labels must be a non-empty 1-D array.")
        if scores.shape != n_labels.shape:
            raise ValueError(
                f"scores has shape {scores.shape} but n_labels has shape {n_labels.shape}."
            )
        if np.any(np.diff(n_labels) <= 0):
            raise ValueError("n_labels must be strictly increasing.")
        object.__setattr__(self, "n_labels", n_labels)
        object.__setattr__(self, "scores", scores)
        for name in ("queried", "initial"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.int64))
        for name in ("fit_seconds", "query_seconds"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=float))
        object.__setattr__(self, "_auc", _trapezoid_auc(n_labels, scores))

    @property
    def auc(self):
        """Normalised area under the curve, in the units of the score.

        The trapezoid rule over ``n_labels`` divided by the range of
        ``n_labels`` (``n_labels[-1] - n_labels[0]``): the mean score over
        the budget, so that curves over the same range compare whatever
        their length. A curve of one point has the score of that point.

        Returns
        -------
        auc : float
        """
        return self._auc

    def score_at(self, n):
        """The score of the learner with ``n`` labels (at most ``n`` labels).

        Parameters
        ----------
        n : int
            A number of labeled rows, at least ``n_labels[0]``.

        Returns
        -------
        score : float
            The score at the last step with at most ``n`` labels: the
            score at ``n`` itself when the curve has that point (every
            number of labels when the learner queried one row at a time).

        Raises
        ------
        ValueError
            When ``n`` is below the curve's first point.

        Examples
        --------
        >>> from sklabelfree.active import ActiveLearningCurve
        >>> curve = ActiveLearningCurve([10, 20, 30], [0.5, 0.6, 0.9], [], [], [], [])
        >>> curve.score_at(20), curve.score_at(25)
        (0.6, 0.6)
        """
        if isinstance(n, bool) or not isinstance(n, numbers.Real):
            raise TypeError(f"n must be a number of labels, got {n!r}.")
        i = int(np.searchsorted(self.n_labels, n, side="right")) - 1
        if i < 0:
            raise ValueError(
                f"the curve starts at {self.n_labels[0]} labels; no score at {n} labels."
            )
        return float(self.scores[i])

    def __repr__(self):
        return (
            f"{type(self).__name__}(name={self.name!r}, n_labels={self.n_labels[0]}.."
            f"{self.n_labels[-1]}, final {self.scoring}={self.scores[-1]:.3f}, "
            f"auc={self.auc:.3f})"
        )


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}.")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}.")
    return int(value)


def _draw_initial(y, n_initial, rng):
    """``n_initial`` random rows, extended one at a time until two classes hold.

    The rows are a prefix of ``rng.permutation(len(y))``: the same rows as
    ``rng.choice(len(y), n_initial, replace=False)`` when two classes are
    drawn at once.
    """
    order = rng.permutation(len(y))
    n = n_initial
    while len(np.unique(y[order[:n]])) < 2:
        n += 1
    return order[:n]


def _default_name(learner):
    strategy = getattr(learner, "query_strategy", None)
    if isinstance(strategy, str):
        return strategy
    if strategy is None:
        return type(learner).__name__
    return getattr(strategy, "__name__", type(strategy).__name__)


def simulate_active_learning(
    learner,
    X,
    y,
    X_test,
    y_test,
    budget,
    n_initial=10,
    random_state=None,
    scoring=None,
    verbose=False,
    name=None,
):
    """Replay active learning on labeled data and record the learning curve.

    The true labels ``y`` play the oracle. A clone of ``learner`` starts from
    ``n_initial`` rows of ``X`` drawn at random (not stratified) with their
    labels, every other row of ``X`` forming the pool (``y == -1``), and is
    fitted; then it queries rows of the pool, gets their labels from ``y``
    and refits (``teach``), until it holds ``budget`` labels. The test
    score is measured after the fit and after every ``teach``.

    The learner is fitted on the rows of ``X`` reordered as a modAL user
    passes them: the random start first, in the order drawn, then the pool
    in its order. With :class:`ActiveLearner`, which fits a supervised
    estimator on the labeled rows in the order their labels arrived, an
    estimator sensitive to row order (``SVC(probability=True)``) is then
    fitted on the same data in the same order as in modAL's loop, and the
    curve is modAL's. The rows of the returned curve (``initial``,
    ``queried``) are positions in ``X`` as given.

    Parameters
    ----------
    learner : ActiveLearner
        The learner to simulate; it is cloned, never fitted itself. Any
        object with ``fit(X, y)``, ``query(n=...)`` returning row positions
        of the ``X`` it was fitted on, ``teach(None, y, pool_indices=...)``
        and ``predict`` works. Its ``batch_size`` rows are queried per step
        (the last step fewer, so that the curve ends at ``budget``).
    X : array-like of shape (n_samples, n_features)
        The rows the learner may label: the random start and the pool.
    y : array-like of shape (n_samples,)
        The true label of every row of ``X`` (no ``-1``): the oracle.
    X_test : array-like of shape (n_test, n_features)
        Rows to score the learner on after every step.
    y_test : array-like of shape (n_test,)
    budget : int
        Labeled rows at the end, the random start included (the last
        point of the curve's x axis). Must exceed ``n_initial`` and be at
        most ``n_samples``.
    n_initial : int, default=10
        Rows of the random start. When they hold fewer than two classes,
        rows are drawn one at a time (in the same random order) until two
        classes are present, and the curve starts at that larger number.
    random_state : int, RandomState instance or None, default=None
        Draws the random start (the first ``n_initial`` rows of
        ``check_random_state(random_state).permutation(n_samples)``, which
        with an int seed are the rows of
        ``np.random.RandomState(seed).choice(n_samples, n_initial,
        replace=False)``), then seeds every ``random_state`` parameter of the
        learner's clone (its own and its estimator's, nested ones included)
        left to ``None``, so that the same ``random_state`` gives the same
        curve. Parameters set to an int or a ``RandomState`` are kept.
    scoring : str, callable or None, default=None
        The test score, as :func:`sklearn.metrics.check_scoring` takes it;
        ``None``: accuracy.
    verbose : bool, default=False
        Show a progress bar (tqdm).
    name : str or None, default=None
        The curve's name; ``None``: the learner's ``query_strategy`` when it
        is a string, else the strategy's class or function name.

    Returns
    -------
    curve : ActiveLearningCurve
        ``n_labels`` from the random start to ``budget``, the test score
        after each step, the rows queried in order, and the fit and query
        times.

    Raises
    ------
    ValueError
        ``budget`` larger than the rows of ``X`` or not larger than
        ``n_initial``; ``y`` with ``-1`` or fewer than two classes; a
        random start that needed more rows than ``budget`` to hold two
        classes; lengths that do not match.

    See Also
    --------
    ActiveLearningCurveDisplay : Plot the curves of several learners.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import train_test_split
    >>> from sklabelfree.active import ActiveLearner, simulate_active_learning
    >>> X, y = load_iris(return_X_y=True)
    >>> X_pool, X_test, y_pool, y_test = train_test_split(X, y, random_state=0)
    >>> learner = ActiveLearner(LogisticRegression(), query_strategy="margin")
    >>> curve = simulate_active_learning(learner, X_pool, y_pool, X_test, y_test,
    ...                                  budget=15, n_initial=5, random_state=0)
    >>> curve.n_labels
    array([ 5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15])
    >>> len(curve.queried), curve.name
    (10, 'margin')
    >>> 0 <= curve.auc <= 1
    True
    """
    budget = _check_int("budget", budget, 1)
    n_initial = _check_int("n_initial", n_initial, 1)
    n_samples = _num_samples(X)
    y = column_or_1d(y, warn=True)
    if y.shape[0] != n_samples:
        raise ValueError(f"X has {n_samples} rows but y has {y.shape[0]} labels.")
    if _num_samples(X_test) != _num_samples(y_test):
        raise ValueError(
            f"X_test has {_num_samples(X_test)} rows but y_test has "
            f"{_num_samples(y_test)} labels."
        )
    if budget > n_samples:
        raise ValueError(
            f"budget={budget} is larger than the {n_samples} rows of X that can be labeled."
        )
    if budget <= n_initial:
        raise ValueError(
            f"budget={budget} must be larger than n_initial={n_initial}: the budget "
            "counts the rows of the random start, and at least one row must be queried."
        )
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError("y holds NaN: the oracle needs the true label of every row.")
    if y.dtype.kind in "iuf":
        unlabeled = y == UNLABELED
    else:
        unlabeled = np.array([isinstance(v, numbers.Integral) and v == UNLABELED for v in y])
    if unlabeled.any():
        raise ValueError(
            f"y has {int(unlabeled.sum())} rows labeled -1 (unlabeled): the oracle needs "
            "the true label of every row of X."
        )
    if len(np.unique(y)) < 2:
        raise ValueError("y holds a single class: active learning needs at least two.")

    rng = check_random_state(random_state)
    initial = _draw_initial(y, n_initial, rng)
    if len(initial) >= budget:
        raise ValueError(
            f"the random start needed {len(initial)} rows to hold two classes, which "
            f"leaves nothing to query within budget={budget}; raise the budget."
        )
    learner = seed_estimator(clone(learner), rng)
    scorer = get_scorer("accuracy") if scoring is None else check_scoring(learner, scoring)
    scoring_name = scoring if isinstance(scoring, str) else (
        "accuracy" if scoring is None else getattr(scoring, "__name__", "score"))

    if y.dtype.kind in "if":
        y_work = np.full(n_samples, UNLABELED, dtype=y.dtype)
    elif y.dtype.kind == "u":
        y_work = np.full(n_samples, UNLABELED, dtype=np.int64)
    else:
        y_work = np.full(n_samples, UNLABELED, dtype=object)
    # The random start first, in the order drawn, then the pool in its order:
    # positions in X_work are mapped back to X through `order`.
    rest = np.ones(n_samples, dtype=bool)
    rest[initial] = False
    order = np.concatenate([initial, np.flatnonzero(rest)]).astype(np.intp)
    X_work = take_rows(X, order)
    y_work[:len(initial)] = y[initial]

    n_labels, scores, fit_seconds, query_seconds, queried = [], [], [], [], []
    start = time.perf_counter()
    learner.fit(X_work, y_work)
    fit_seconds.append(time.perf_counter() - start)
    query_seconds.append(0.0)
    n_labels.append(len(initial))
    scores.append(float(scorer(learner, X_test, y_test)))

    batch_size = getattr(learner, "batch_size", 1) or 1
    progress = None
    if verbose:
        from tqdm.auto import tqdm

        progress = tqdm(total=budget - len(initial), desc=name or _default_name(learner),
                        unit="label")
    labeled = np.zeros(n_samples, dtype=bool)
    labeled[initial] = True
    try:
        while n_labels[-1] < budget:
            n_query = int(min(batch_size, budget - n_labels[-1]))
            start = time.perf_counter()
            asked = np.asarray(learner.query(n=n_query), dtype=np.int64).ravel()
            query_seconds.append(time.perf_counter() - start)
            if (asked.size != n_query or len(np.unique(asked)) != n_query
                    or asked.min() < 0 or asked.max() >= n_samples
                    or labeled[order[asked]].any()):
                raise RuntimeError(
                    f"the learner's query(n={n_query}) returned {asked.tolist()[:10]}: "
                    f"expected {n_query} distinct rows of the pool."
                )
            rows = order[asked]
            labeled[rows] = True
            start = time.perf_counter()
            learner.teach(None, y[rows], pool_indices=asked)
            fit_seconds.append(time.perf_counter() - start)
            queried.append(rows)
            n_labels.append(n_labels[-1] + n_query)
            scores.append(float(scorer(learner, X_test, y_test)))
            if progress is not None:
                progress.update(n_query)
                progress.set_postfix({scoring_name: f"{scores[-1]:.3f}"})
    finally:
        if progress is not None:
            progress.close()

    return ActiveLearningCurve(
        n_labels=np.asarray(n_labels),
        scores=np.asarray(scores),
        queried=np.concatenate(queried) if queried else np.empty(0, dtype=np.int64),
        initial=initial,
        fit_seconds=np.asarray(fit_seconds),
        query_seconds=np.asarray(query_seconds),
        name=_default_name(learner) if name is None else name,
        scoring=str(scoring_name),
    )


def _mean_std(curves):
    """Mean and standard deviation of curves over the numbers of labels they share."""
    common = curves[0].n_labels
    for c in curves[1:]:
        common = np.intersect1d(common, c.n_labels)
    if common.size == 0:
        raise ValueError("the curves to average share no number of labels.")
    stacked = np.array([c.scores[np.searchsorted(c.n_labels, common)] for c in curves])
    return common, stacked.mean(axis=0), stacked.std(axis=0)


class ActiveLearningCurveDisplay:
    """Learning curves of active learners: score against number of labels.

    In the style of scikit-learn's displays: build it from curves, then
    :meth:`plot` (or use :meth:`from_curves` for both at once). Several
    curves of one name (several seeds of a simulation) are drawn as their
    mean with a band of one standard deviation; the legend gives each
    name's normalised area under the curve (the mean of its curves' AUC).

    Parameters
    ----------
    curves : dict of str -> ActiveLearningCurve or list of them, list or ActiveLearningCurve
        ``name -> curve`` or ``name -> [curves]``; a list of curves or a
        single curve is grouped by each curve's ``name``.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.
    lines_ : dict of str -> matplotlib Line2D
        The mean curve of each name.
    bands_ : dict of str -> matplotlib PolyCollection
        The standard-deviation band of each name drawn from several curves.

    See Also
    --------
    simulate_active_learning : Make the curves.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklabelfree.active import ActiveLearningCurve, ActiveLearningCurveDisplay
    >>> def curve(scores, name):
    ...     n = len(scores)
    ...     return ActiveLearningCurve(range(10, 10 + n), scores, range(n - 1),
    ...                                range(10), [0.0] * n, [0.0] * n, name=name)
    >>> curves = {"random": [curve([0.3, 0.5, 0.6], "random"),
    ...                      curve([0.4, 0.5, 0.7], "random")],
    ...           "margin": curve([0.3, 0.6, 0.8], "margin")}
    >>> display = ActiveLearningCurveDisplay.from_curves(curves)
    >>> sorted(display.lines_), sorted(display.bands_)
    (['margin', 'random'], ['random'])
    >>> display.ax_.get_legend().get_texts()[1].get_text()
    'margin (AUC 0.575)'
    """

    def __init__(self, curves):
        self.curves = curves

    def _groups(self):
        curves = self.curves
        if isinstance(curves, ActiveLearningCurve):
            curves = [curves]
        groups = {}
        if isinstance(curves, dict):
            for key, value in curves.items():
                group = [value] if isinstance(value, ActiveLearningCurve) else list(value)
                groups[str(key)] = group
        else:
            for c in curves:
                groups.setdefault(str(c.name), []).append(c)
        for key, group in groups.items():
            if not group or not all(isinstance(c, ActiveLearningCurve) for c in group):
                raise TypeError(
                    f"curves[{key!r}] must be an ActiveLearningCurve or a non-empty list "
                    "of them."
                )
        if not groups:
            raise ValueError("no curve to plot.")
        return groups

    def plot(self, ax=None, *, std=True, **kwargs):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Where to draw; ``None``: new axes of a new figure.
        std : bool, default=True
            Shade one standard deviation around names of several curves.
        **kwargs : dict
            Passed to ``ax.plot`` for every line (e.g. ``linewidth``).

        Returns
        -------
        display : ActiveLearningCurveDisplay
            ``self``, with ``ax_``, ``figure_``, ``lines_`` and ``bands_``.
        """
        import matplotlib.pyplot as plt

        groups = self._groups()
        if ax is None:
            _, ax = plt.subplots()
        self.lines_, self.bands_ = {}, {}
        scorings = set()
        for key, group in groups.items():
            x, mean, sd = _mean_std(group)
            auc = float(np.mean([c.auc for c in group]))
            (line,) = ax.plot(x, mean, label=f"{key} (AUC {auc:.3f})", **kwargs)
            self.lines_[key] = line
            if std and len(group) > 1:
                self.bands_[key] = ax.fill_between(
                    x, mean - sd, mean + sd, color=line.get_color(), alpha=0.2, linewidth=0)
            scorings.update(c.scoring for c in group)
        ax.set_xlabel("labeled rows")
        ax.set_ylabel(f"test {scorings.pop()}" if len(scorings) == 1 else "test score")
        ax.legend(loc="lower right")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_curves(cls, curves, ax=None, *, std=True, **kwargs):
        """Build a display from curves and draw it.

        Parameters
        ----------
        curves : dict, list or ActiveLearningCurve
            As the class takes them.
        ax : matplotlib Axes or None, default=None
        std : bool, default=True
        **kwargs : dict
            Passed to ``ax.plot``.

        Returns
        -------
        display : ActiveLearningCurveDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklabelfree.active import ActiveLearningCurve, ActiveLearningCurveDisplay
        >>> curve = ActiveLearningCurve([10, 20], [0.5, 0.7], range(10), range(10),
        ...                             [0.0, 0.0], [0.0, 0.0], name="entropy")
        >>> ActiveLearningCurveDisplay.from_curves(curve).ax_.get_xlabel()
        'labeled rows'
        """
        return cls(curves).plot(ax=ax, std=std, **kwargs)
