"""Active learning on digits (PROTOCOL.md), and what a query costs.

Two measurements, printed as two tables:

1. **Learning curves.** Digits split with seed 0 (``test_size=0.3``,
   stratified, ``X = pixels / 16``); for each seed of the run, 10 random
   training rows (``np.random.RandomState(seed)``, not stratified) start
   labeled and the learner asks for one row at a time from the rest of the
   training part, the true label answering, up to the budget (200). The
   test accuracy at 20 / 50 / 100 / 200 labels and the normalised area
   under the whole curve (AUC) are averaged over the seeds (0, 1, 2).
   Side by side in the same run:

   - ``svc-*``: :class:`~sklabelfree.active.ActiveLearner` around
     ``SVC(probability=True, random_state=0)`` with the random, least
     confident, margin and entropy strategies;
   - ``loop-*``: the same strategies written by hand the way modAL
     implements them (fit the SVC on the labeled rows in the order they
     were labeled, ``predict_proba`` on the pool, ask for the arg-max of
     the uncertainty), with the same random start: a check of the learner
     against a plain loop, and of this benchmark against the protocol
     (with this SVC the loop gives the published curves);
   - ``protocol-*``: PROTOCOL.md's published baselines (modAL's
     strategies around the same SVC), not measured here;
   - ``ls-*``: ``ActiveLearner`` around scikit-learn's
     ``LabelSpreading(kernel='knn')``, fitted on every training row (``-1``
     on the pool): active and semi-supervised learning together.

2. **Query cost.** A ``LogisticRegression`` fitted on digits scores a
   synthetic digits-like pool of float64 rows (``N x 64``): the time of
   ``learner.query(X_pool, n=100)`` against one
   ``estimator.predict_proba(X_pool)`` over the same pool, taking turns
   (A B A B ..., one warm-up round, medians), and the peak memory each
   allocates (``tracemalloc``) as the pool grows.
"""

import argparse
import math
import os
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._table import (
    BenchmarkConfigError,
    Default,
    _check_format,
    _fmt_score,
    _fmt_seconds,
    check_config_int,
    environment_versions,
    format_report,
    format_table,
    given,
    limit_threads,
    report_fields,
)

__all__ = [
    "ActiveResult",
    "active_methods",
    "measure_query_cost",
    "reference_loop",
    "run_active",
    "synthetic_pool",
]

SPLIT_SEED = 0
"""The digits split of the protocol: always seed 0; the seeds draw the random start."""

SVC_SEED = 0
"""The ``random_state`` of the protocol's ``SVC(probability=True)``, whatever the run's seed.

It seeds the SVC's internal cross-validation for Platt scaling, so it moves
the probabilities the uncertainty strategies rank by. With it, and the
labeled rows in the order they were labeled, :func:`reference_loop`
reproduces the four published curves of :data:`PROTOCOL` to the third
decimal at every checkpoint.
"""

N_INITIAL = 10
DEFAULT_BUDGET = 200
CHECKPOINTS = (20, 50, 100, 200)
DEFAULT_SEEDS = (0, 1, 2)

STRATEGIES = ("random", "least_confident", "margin", "entropy")
"""The strategies of the protocol's table, in its order."""

PROTOCOL = {
    "random": {20: 0.339, 50: 0.682, 100: 0.888, 200: 0.943},
    "least_confident": {20: 0.190, 50: 0.613, 100: 0.919, 200: 0.981},
    "margin": {20: 0.255, 50: 0.727, 100: 0.927, 200: 0.980},
    "entropy": {20: 0.147, 50: 0.427, 100: 0.823, 200: 0.967},
}
"""PROTOCOL.md's baselines: SVC(probability=True), modAL's strategies."""

TARGETS = {50: 0.95, 100: 0.975}
"""The accuracy the best combination should reach at these numbers of labels."""

DEFAULT_POOL_SIZES = (100_000, 300_000, 1_000_000)
DEFAULT_REPEATS = 5
FULL_REPEATS = 15
N_QUERY = 100
COST_RATIO_TARGET = 1.25
COST_STRATEGIES = ("margin", "entropy", "least_confident", "random")

TITLE = (
    "Active learning on digits (PROTOCOL.md): test accuracy after n labels, mean over "
    "the random starts; split seed 0, X = pixels / 16, 10 random labels to start, one "
    "query at a time"
)

_PROBABILITY_WARNING = r"The `probability` parameter was deprecated"
_NAN_WARNING = "invalid value encountered in divide"


def _dash(strategy):
    return strategy.replace("_", "-")


# ---------------------------------------------------------------------------
# The methods.


def _svc(seed):
    """``SVC(probability=True, random_state=0)``, as the protocol measured it.

    ``seed`` (the run's seed, which draws the random start) is not used: the
    SVC's own seed is the protocol's, :data:`SVC_SEED`.
    """
    from ._semi_supervised import _svc_probability

    return _svc_probability(SVC_SEED)


def _label_spreading(seed):
    from sklearn.semi_supervised import LabelSpreading

    return LabelSpreading(kernel="knn")


def _label_spreading_5nn(seed):
    from sklearn.semi_supervised import LabelSpreading

    return LabelSpreading(kernel="knn", n_neighbors=5)


def _learner(estimator_factory, strategy_factory):
    def make(seed):
        from sklabelfree.active import ActiveLearner

        strategy = strategy_factory() if callable(strategy_factory) else strategy_factory
        return ActiveLearner(estimator_factory(seed), query_strategy=strategy,
                             random_state=seed)

    return make


def _density_margin():
    from sklabelfree.active import DensityWeightedSampling

    return DensityWeightedSampling(base="margin")


def _ranked_batch_margin():
    from sklabelfree.active import RankedBatchSampling

    return RankedBatchSampling(base="margin")


@dataclass(frozen=True)
class _Method:
    """One measured row: an ``ActiveLearner`` factory, or the hand loop of a strategy."""

    key: str
    description: str
    make: object = None
    loop: str = None
    strategy: str = None
    in_default_run: bool = True


_SVC_TEXT = f"SVC(probability=True, random_state={SVC_SEED})"

_CHOSEN_ELSEWHERE = (
    "n_neighbors=5 was chosen among LabelSpreading's settings on another split (seed 1, "
    "random starts 3, 4 and 5), not on this test part"
)

_METHODS = (
    *(
        m
        for s in STRATEGIES
        for m in (
            _Method(
                f"loop-{_dash(s)}",
                f"a hand-written loop, modAL's {s.replace('_', ' ')} "
                + ("(a pool row drawn at random)" if s == "random" else
                   "(arg-max of the uncertainty of predict_proba on the pool)")
                + f" around {_SVC_TEXT}",
                loop=s,
                strategy=s,
            ),
            _Method(
                f"svc-{_dash(s)}",
                f"ActiveLearner({_SVC_TEXT}, query_strategy='{s}', random_state=seed)",
                make=_learner(_svc, s),
                strategy=s,
            ),
        )
    ),
    _Method(
        "ls-random",
        "ActiveLearner(LabelSpreading(kernel='knn'), 'random'): random queries, "
        "semi-supervised fit",
        make=_learner(_label_spreading, "random"),
    ),
    _Method(
        "ls-margin",
        "ActiveLearner(LabelSpreading(kernel='knn'), 'margin'), fitted on every "
        "training row (-1 on the pool)",
        make=_learner(_label_spreading, "margin"),
    ),
    _Method(
        "ls-entropy",
        "ActiveLearner(LabelSpreading(kernel='knn'), 'entropy')",
        make=_learner(_label_spreading, "entropy"),
    ),
    _Method(
        "ls-density",
        "ActiveLearner(LabelSpreading(kernel='knn'), "
        "DensityWeightedSampling(base='margin')): margin times the mean cosine "
        "similarity to the pool",
        make=_learner(_label_spreading, _density_margin),
        in_default_run=False,
    ),
    _Method(
        "ls-ranked-batch",
        "ActiveLearner(LabelSpreading(kernel='knn'), RankedBatchSampling(base='margin')): "
        "margin traded for distance to the labeled rows",
        make=_learner(_label_spreading, _ranked_batch_margin),
        in_default_run=False,
    ),
    _Method(
        "ls5-margin",
        "ActiveLearner(LabelSpreading(kernel='knn', n_neighbors=5), 'margin'): "
        + _CHOSEN_ELSEWHERE,
        make=_learner(_label_spreading_5nn, "margin"),
    ),
    _Method(
        "ls5-entropy",
        "ActiveLearner(LabelSpreading(kernel='knn', n_neighbors=5), 'entropy'): "
        + _CHOSEN_ELSEWHERE,
        make=_learner(_label_spreading_5nn, "entropy"),
        in_default_run=False,
    ),
)


def _listed(method, default_run):
    """Whether ``method`` is listed: always, or when in the default run."""
    return not default_run or method.in_default_run


def active_methods(default_run=False):
    """The measured rows of the learning-curve table, by key.

    Parameters
    ----------
    default_run : bool, default=False
        Only those the run without ``--full`` measures when ``--methods``
        is not given.

    Returns
    -------
    methods : dict of str -> str
        Key -> one-line description, in the order of the table's rows
        (the ``protocol-*`` rows of the published baselines are added
        beside the ``svc-*`` and ``loop-*`` rows of their strategy).

    Examples
    --------
    >>> from sklabelfree.benchmarks._active import active_methods
    >>> list(active_methods())  # doctest: +NORMALIZE_WHITESPACE
    ['loop-random', 'svc-random', 'loop-least-confident', 'svc-least-confident',
     'loop-margin', 'svc-margin', 'loop-entropy', 'svc-entropy', 'ls-random',
     'ls-margin', 'ls-entropy', 'ls-density', 'ls-ranked-batch', 'ls5-margin',
     'ls5-entropy']
    >>> [key for key in active_methods() if key not in active_methods(default_run=True)]
    ['ls-density', 'ls-ranked-batch', 'ls5-entropy']
    """
    return {m.key: m.description for m in _METHODS if _listed(m, default_run)}


def _methods_by_key():
    return {m.key: m for m in _METHODS}


# ---------------------------------------------------------------------------
# The data and the hand-written loop.


def _digits_split():
    """The protocol's split (seed 0): training rows with every label, test rows."""
    from ..datasets import digits_benchmark_split

    X_tr, _, X_te, y_te, y_tr = digits_benchmark_split(10, random_state=SPLIT_SEED)
    return X_tr, y_tr, X_te, y_te


def _uncertainty_by_hand(proba, strategy):
    """modAL's uncertainty measures, higher is more uncertain."""
    if strategy == "least_confident":
        return 1.0 - proba.max(axis=1)
    if strategy == "margin":
        top2 = -np.partition(-proba, 1, axis=1)[:, :2]
        return -(top2[:, 0] - top2[:, 1])
    if strategy == "entropy":
        from scipy.stats import entropy

        return entropy(proba.T)
    raise ValueError(f"no uncertainty measure {strategy!r}")


def reference_loop(strategy, X, y, X_test, y_test, budget, n_initial=N_INITIAL, seed=0):
    """Pool-based active learning written by hand, as modAL does it.

    Starts from the same random rows as
    :func:`~sklabelfree.active.simulate_active_learning` with
    ``random_state=seed`` (the first ``n_initial`` of
    ``np.random.RandomState(seed).permutation(len(y))``, more if they hold a
    single class), then, one row at a time: fit ``SVC(probability=True,
    random_state=0)`` on the labeled rows in the order they were labeled
    (the random start in the order drawn, then each queried row, as modAL's
    learner appends them to its training set), ``predict_proba`` on the
    pool, label the arg-max of the uncertainty (``'random'``: a pool row
    drawn with the same generator). A check of
    :class:`~sklabelfree.active.ActiveLearner` against a plain loop; it
    reproduces PROTOCOL.md's four published curves.

    Parameters
    ----------
    strategy : {'random', 'least_confident', 'margin', 'entropy'}
    X, y : ndarray
        The rows that may be labeled and their true labels.
    X_test, y_test : ndarray
    budget : int
        Labels at the end, the random start included.
    n_initial : int, default=10
    seed : int, default=0

    Returns
    -------
    curve : ActiveLearningCurve

    Examples
    --------
    >>> from sklabelfree.benchmarks._active import _digits_split, reference_loop
    >>> X, y, X_test, y_test = _digits_split()
    >>> curve = reference_loop("margin", X, y, X_test, y_test, budget=13)
    >>> curve.n_labels.tolist(), curve.queried.shape
    ([10, 11, 12, 13], (3,))
    """
    from ..active import ActiveLearningCurve

    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}.")
    rng = np.random.RandomState(seed)
    order = rng.permutation(len(y))
    n = n_initial
    while len(np.unique(y[order[:n]])) < 2:
        n += 1
    labeled = np.zeros(len(y), dtype=bool)
    labeled[order[:n]] = True
    train = list(order[:n])  # in the order labeled

    def fit():
        with warnings.catch_warnings():
            # Deprecated in scikit-learn 1.9; the protocol measured SVC(probability=True).
            warnings.filterwarnings("ignore", message=_PROBABILITY_WARNING,
                                    category=FutureWarning)
            start = time.perf_counter()
            model = _svc(seed).fit(X[train], y[train])
            return model, time.perf_counter() - start

    model, seconds = fit()
    n_labels, scores = [n], [float(np.mean(model.predict(X_test) == y_test))]
    fit_seconds, query_seconds, queried = [seconds], [0.0], []
    while labeled.sum() < budget:
        start = time.perf_counter()
        pool = np.flatnonzero(~labeled)
        if strategy == "random":
            row = pool[rng.randint(len(pool))]
        else:
            u = _uncertainty_by_hand(model.predict_proba(X[pool]), strategy)
            row = pool[int(np.argmax(u))]
        query_seconds.append(time.perf_counter() - start)
        labeled[row] = True
        train.append(row)
        queried.append(row)
        model, seconds = fit()
        fit_seconds.append(seconds)
        n_labels.append(n_labels[-1] + 1)
        scores.append(float(np.mean(model.predict(X_test) == y_test)))
    return ActiveLearningCurve(
        n_labels=np.asarray(n_labels), scores=np.asarray(scores), queried=np.asarray(queried),
        initial=order[:n], fit_seconds=np.asarray(fit_seconds),
        query_seconds=np.asarray(query_seconds), name=f"loop-{_dash(strategy)}",
    )


def _ceiling_note(n_threads):
    """The test accuracy of the estimators with every training label, as a note."""
    from sklearn.semi_supervised import LabelSpreading
    from sklearn.svm import SVC

    X, y, X_test, y_test = _digits_split()
    with limit_threads(n_threads):
        scores = [
            (name, float(np.mean(est.fit(X, y).predict(X_test) == y_test)))
            for name, est in (
                ("SVC()", SVC()),
                ("LabelSpreading(kernel='knn')", LabelSpreading(kernel="knn")),
                ("LabelSpreading(kernel='knn', n_neighbors=5)",
                 LabelSpreading(kernel="knn", n_neighbors=5)),
            )
        ]
    return ("the ceilings, fitted on all 1257 training labels: "
            + ", ".join(f"{name} {score:.3f}" for name, score in scores))


def _run_curve(method, seed, budget, n_threads):
    """One learning curve; never raises (an error comes back as text)."""
    X, y, X_test, y_test = _digits_split()
    with limit_threads(n_threads), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Deprecated in scikit-learn 1.9; the protocol measured SVC(probability=True).
        warnings.filterwarnings("ignore", message=_PROBABILITY_WARNING,
                                category=FutureWarning)
        try:
            if method.loop is not None:
                curve = reference_loop(method.loop, X, y, X_test, y_test, budget,
                                       n_initial=N_INITIAL, seed=seed)
            else:
                from ..active import simulate_active_learning

                curve = simulate_active_learning(
                    method.make(seed), X, y, X_test, y_test, budget, n_initial=N_INITIAL,
                    random_state=seed, name=method.key)
            error = None
        except Exception as exc:  # noqa: BLE001 - reported, the run goes on
            curve, error = None, f"{type(exc).__name__}: {exc}"
    messages = {f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught}
    return dict(curve=curve, error=error, messages=messages)


def _indexed_curve(i, method, seed, budget, n_threads):
    return i, _run_curve(method, seed, budget, n_threads)


# ---------------------------------------------------------------------------
# Query cost.


def synthetic_pool(n_rows, random_state=0):
    """A digits-like pool of ``n_rows`` float64 rows of 64 pixels in [0, 1].

    Each row is a digits image (``pixels / 16``) drawn at random, plus
    Gaussian noise of standard deviation 0.1, clipped to [0, 1]. Built in
    blocks, so that making it needs little more memory than the pool.

    Parameters
    ----------
    n_rows : int
    random_state : int, default=0

    Returns
    -------
    X : ndarray of float64, shape (n_rows, 64)

    Examples
    --------
    >>> from sklabelfree.benchmarks._active import synthetic_pool
    >>> X = synthetic_pool(1000)
    >>> X.shape, X.dtype, float(X.min()) >= 0.0, float(X.max()) <= 1.0
    ((1000, 64), dtype('float64'), True, True)
    """
    from sklearn.datasets import load_digits

    digits = load_digits().data / 16.0
    rng = np.random.RandomState(random_state)
    out = np.empty((n_rows, digits.shape[1]), dtype=np.float64)
    block = 100_000
    for start in range(0, n_rows, block):
        stop = min(n_rows, start + block)
        rows = digits[rng.randint(len(digits), size=stop - start)]
        rows += rng.normal(scale=0.1, size=rows.shape)
        np.clip(rows, 0.0, 1.0, out=out[start:stop])
    return out


def _peak_bytes(func):
    """Peak memory ``func()`` allocates beyond what was allocated before (tracemalloc)."""
    import gc
    import tracemalloc

    gc.collect()
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        result = func()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        if started:
            tracemalloc.stop()
    return max(0, peak - before)


def _timed(func):
    wall, cpu = time.perf_counter(), time.process_time()
    func()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure_query_cost(pool_sizes=DEFAULT_POOL_SIZES, *, strategies=("margin",),
                       n_query=N_QUERY, repeats=DEFAULT_REPEATS, n_threads=1,
                       chunk_size=None, random_state=0, progress=None):
    """Time a query beside one ``predict_proba`` over the same pool; peak memory of each.

    A ``LogisticRegression(max_iter=1000)`` is fitted, through an
    :class:`~sklabelfree.active.ActiveLearner`, on all 1797 digits
    (``pixels / 16``: 64 features, 10 classes). For each strategy and pool
    size, on a :func:`synthetic_pool` of that many rows:
    ``learner.query(X_pool, n=n_query)`` (score every row, pick the
    ``n_query`` best) and ``learner.estimator_.predict_proba(X_pool)``
    take turns, ``repeats`` times each after one untimed round (A B A B
    ...); then the peak memory each allocates is measured in one more call
    (``tracemalloc``, not timed).

    Parameters
    ----------
    pool_sizes : sequence of int, default=(100000, 300000, 1000000)
        Rows of the pools; the smaller pools are the first rows of the
        largest one.
    strategies : sequence of str, default=('margin',)
        ``query_strategy`` names of the learner.
    n_query : int, default=100
        Rows picked per query.
    repeats : int >= 1, default=5
        Timed calls of each, per strategy and size.
    n_threads : int >= 1 or None, default=1
        BLAS / OpenMP threads while measuring; ``None``: the libraries'
        defaults.
    chunk_size : int or None, default=None
        The learner's ``chunk_size``; ``None`` keeps its default.
    random_state : int, default=0
        Seeds the pool and the learner.
    progress : callable or None, default=None
        Called with one line of text per strategy and size.

    Returns
    -------
    rows : list of dict
        One per strategy and size: ``strategy``, ``pool_rows``, the median
        ``query_seconds`` and ``proba_seconds`` (wall clock),
        ``query_cpu_seconds`` and ``proba_cpu_seconds``, ``ratio`` and
        ``cpu_ratio`` (query over ``predict_proba``), ``query_peak_bytes``
        and ``proba_peak_bytes``.

    Examples
    --------
    >>> from sklabelfree.benchmarks._active import measure_query_cost
    >>> row, = measure_query_cost([5000], n_query=10, repeats=1)
    >>> row["strategy"], row["pool_rows"], row["ratio"] > 0
    ('margin', 5000, True)
    """
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    from ..active import ActiveLearner
    from ..utils.validation import AllLabeledWarning

    say = progress if progress is not None else (lambda line: None)
    sizes = sorted({int(n) for n in pool_sizes})
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    out = []
    with limit_threads(n_threads):
        pool = synthetic_pool(sizes[-1], random_state=random_state)
        for strategy in strategies:
            learner = ActiveLearner(LogisticRegression(max_iter=1000),
                                    query_strategy=strategy, random_state=random_state,
                                    chunk_size=chunk_size)
            with warnings.catch_warnings():
                # Every digit is labeled on purpose: the pools are given to query.
                warnings.simplefilter("ignore", AllLabeledWarning)
                learner.fit(X, y)
            estimator = learner.estimator_
            for size in sizes:
                X_pool = pool[:size]

                def query():
                    return learner.query(X_pool, n=n_query)

                def proba():
                    return estimator.predict_proba(X_pool)

                times = {"query": [], "proba": []}
                cpu = {"query": [], "proba": []}
                for round_ in range(repeats + 1):
                    for name, func in (("query", query), ("proba", proba)):
                        wall, used = _timed(func)
                        if round_:
                            times[name].append(wall)
                            cpu[name].append(used)
                row = {
                    "strategy": strategy,
                    "pool_rows": size,
                    "query_seconds": float(np.median(times["query"])),
                    "proba_seconds": float(np.median(times["proba"])),
                    "query_cpu_seconds": float(np.median(cpu["query"])),
                    "proba_cpu_seconds": float(np.median(cpu["proba"])),
                    "query_peak_bytes": _peak_bytes(query),
                    "proba_peak_bytes": _peak_bytes(proba),
                }
                row["ratio"] = row["query_seconds"] / row["proba_seconds"]
                row["cpu_ratio"] = row["query_cpu_seconds"] / max(
                    row["proba_cpu_seconds"], 1e-9)
                out.append(row)
                say(f"query cost  {strategy:<16} {size:>9,} rows  query "
                    f"{1000 * row['query_seconds']:.1f} ms  predict_proba "
                    f"{1000 * row['proba_seconds']:.1f} ms  ratio {row['ratio']:.2f}")
    return out


# ---------------------------------------------------------------------------
# The result and its report.


def _mib(n_bytes):
    return f"{n_bytes / 2**20:.1f}"


@dataclass
class ActiveResult:
    """The learning curves and query costs of one ``active`` run, and their report.

    Parameters
    ----------
    methods : list of str
        The measured rows, in the order of the table.
    curves : dict of str -> dict of int -> ActiveLearningCurve
        Per method, the curve of each seed (a seed whose run failed is
        missing).
    seeds : list of int
    checkpoints : list of int
        The numbers of labels of the table's columns.
    budget : int
        Labels at the end of every curve.
    descriptions : dict of str -> str, default={}
    errors : dict of str -> str, default={}
        Methods whose run raised, with the first error.
    warnings : dict of str -> dict of str -> int, default={}
        Per method, each distinct warning and the number of runs (seeds)
        that raised it.
    cost : list of dict, default=[]
        The rows of :func:`measure_query_cost`.
    cost_options : dict, default={}
        ``n_query`` and ``repeats`` of the cost measurement.
    wall_seconds : float, default=nan
    versions : dict of str -> str, default={}
    options : dict, default={}
    notes : list of str, default=[]

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.active import ActiveLearningCurve
    >>> from sklabelfree.benchmarks._active import ActiveResult
    >>> def curve(scores):
    ...     n = np.arange(10, 10 + len(scores))
    ...     return ActiveLearningCurve(n, scores, n[1:], range(10), n * 0.0, n * 0.0)
    >>> result = ActiveResult(
    ...     methods=["svc-margin"], seeds=[0, 1], checkpoints=[11, 12], budget=12,
    ...     curves={"svc-margin": {0: curve([0.2, 0.5, 0.7]), 1: curve([0.2, 0.3, 0.9])}})
    >>> round(result.mean_score("svc-margin", 12), 3), round(result.mean_auc("svc-margin"), 3)
    (0.8, 0.45)
    >>> print(result.to_table())
    method           11 labels  12 labels  AUC 10-12  run s  query ms
    ---------------  ---------  ---------  ---------  -----  --------
    protocol-margin          -          -
    svc-margin           0.400      0.800      0.450   0.00      0.00
    """

    methods: list
    curves: dict
    seeds: list
    checkpoints: list
    budget: int
    descriptions: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    warnings: dict = field(default_factory=dict)
    cost: list = field(default_factory=list)
    cost_options: dict = field(default_factory=dict)
    wall_seconds: float = float("nan")
    versions: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def _curves(self, method):
        return [c for c in self.curves.get(method, {}).values() if c is not None]

    def scores(self, method, n_labels):
        """The score of each seed's curve of ``method`` at ``n_labels``.

        Parameters
        ----------
        method : str
        n_labels : int

        Returns
        -------
        scores : ndarray of float
        """
        return np.array([c.score_at(n_labels) for c in self._curves(method)], dtype=float)

    def mean_score(self, method, n_labels):
        """Mean test accuracy of ``method`` at ``n_labels`` over the seeds (``nan``: none).

        Parameters
        ----------
        method : str
        n_labels : int

        Returns
        -------
        score : float
        """
        s = self.scores(method, n_labels)
        return float(s.mean()) if s.size else float("nan")

    def mean_auc(self, method):
        """Mean normalised area under the curves of ``method`` (``nan``: none).

        Parameters
        ----------
        method : str

        Returns
        -------
        auc : float
        """
        a = [c.auc for c in self._curves(method)]
        return float(np.mean(a)) if a else float("nan")

    def _rows(self):
        """The table's rows: measured methods, with the protocol's row before a strategy."""
        by_key = _methods_by_key()
        rows, shown = [], set()
        for key in self.methods:
            strategy = by_key[key].strategy if key in by_key else None
            if strategy in PROTOCOL and strategy not in shown:
                shown.add(strategy)
                rows.append(("protocol", f"protocol-{_dash(strategy)}", strategy))
            rows.append(("measured", key, None))
        return rows

    def to_table(self, fmt="text", std=False):
        """The learning-curve table: one row per method, a column per checkpoint.

        Columns: the mean test accuracy at each checkpoint (``± std`` over
        the seeds with ``std``), the mean normalised AUC from the first
        point to the budget, the mean seconds of one run (fits and queries,
        not scoring) and the median milliseconds of one query. The
        ``protocol-*`` rows give PROTOCOL.md's published numbers.

        Parameters
        ----------
        fmt : {'text', 'rst', 'markdown'}, default='text'
        std : bool, default=False

        Returns
        -------
        table : str
        """
        _check_format(fmt)
        starts = [int(c.n_labels[0]) for m in self.methods for c in self._curves(m)]
        first = min(starts) if starts else N_INITIAL
        header = ["method", *(f"{n} labels" for n in self.checkpoints),
                  f"AUC {first}-{self.budget}", "run s", "query ms"]
        rows = []
        for kind, key, strategy in self._rows():
            if kind == "protocol":
                ref = PROTOCOL[strategy]
                rows.append([key, *(_fmt_score(ref.get(n)) for n in self.checkpoints),
                             "", "", ""])
                continue
            curves = self._curves(key)
            cells = [key]
            if not curves:
                cells += ["error" if key in self.errors else "-"] * len(self.checkpoints)
                rows.append(cells + ["-", "-", "-"])
                continue
            failed = key in self.errors
            for n in self.checkpoints:
                s = self.scores(key, n)
                cell = _fmt_score(s.mean(), s.std() if std else None)
                cells.append("error" if failed else cell)
            auc = np.array([c.auc for c in curves])
            cells.append(_fmt_score(auc.mean(), auc.std() if std else None))
            run = np.mean([c.fit_seconds.sum() + c.query_seconds.sum() for c in curves])
            query = np.median(np.concatenate([c.query_seconds[1:] for c in curves]))
            cells += [_fmt_seconds(run), f"{1000 * query:.2f}"]
            rows.append(cells)
        return format_table(header, rows, fmt=fmt)

    def cost_table(self, fmt="text"):
        """The query-cost table: one row per strategy and pool size.

        Parameters
        ----------
        fmt : {'text', 'rst', 'markdown'}, default='text'

        Returns
        -------
        table : str
        """
        _check_format(fmt)
        header = ["strategy", "pool rows", "query ms", "predict_proba ms", "ratio",
                  "CPU ratio", "query peak MiB", "predict_proba peak MiB"]
        rows = [
            [r["strategy"], f"{r['pool_rows']:,}", f"{1000 * r['query_seconds']:.1f}",
             f"{1000 * r['proba_seconds']:.1f}", f"{r['ratio']:.2f}",
             f"{r['cpu_ratio']:.2f}", _mib(r["query_peak_bytes"]),
             _mib(r["proba_peak_bytes"])]
            for r in self.cost
        ]
        return format_table(header, rows, fmt=fmt)

    def target_notes(self):
        """The verdicts on the targets: SVC margin against the baselines, the best
        combination, the query cost and memory, the learner against the hand loop.

        Returns
        -------
        notes : list of str
        """
        notes = []
        for s in STRATEGIES:
            ours, loop = f"svc-{_dash(s)}", f"loop-{_dash(s)}"
            if ours in self.methods and loop in self.methods:
                a, b = self.curves.get(ours, {}), self.curves.get(loop, {})
                both = [seed for seed in a if seed in b and a[seed] is not None
                        and b[seed] is not None]
                same = sum(np.array_equal(a[seed].queried, b[seed].queried) for seed in both)
                if both:
                    notes.append(f"{ours} asked for the same rows in the same order as "
                                 f"{loop} on {same} of {len(both)} seeds")
        if "svc-margin" in self.methods:
            ref = PROTOCOL["margin"]
            parts = []
            for n in (50, 100):
                if n in self.checkpoints:
                    v = self.mean_score("svc-margin", n)
                    verdict = "met" if round(v, 3) >= ref[n] else "not met"
                    parts.append(f"{v:.3f} at {n} labels (baseline {ref[n]:.3f}: {verdict})")
            if parts:
                notes.append("svc-margin against the protocol's margin baseline: "
                             + "; ".join(parts))
        others = [m for m in self.methods if not m.startswith(("loop-", "svc-"))]
        for n, target in TARGETS.items():
            if n not in self.checkpoints or not others:
                continue
            scored = [(self.mean_score(m, n), m) for m in others]
            scored = [(v, m) for v, m in scored if not math.isnan(v)]
            if scored:
                v, m = max(scored)
                verdict = "met" if round(v, 3) >= target else "not met"
                notes.append(f"target >= {target:.3f} at {n} labels: best {m} {v:.3f}, "
                             f"{verdict}")
        if self.cost:
            margin = [r for r in self.cost if r["strategy"] == "margin"]
            if margin:
                r = margin[-1]
                verdict = "within" if r["ratio"] <= COST_RATIO_TARGET else "above"
                notes.append(
                    f"query cost: margin sampling of {r['pool_rows']:,} x 64 rows picking "
                    f"{self.cost_options.get('n_query', N_QUERY)} took {r['ratio']:.2f}x the "
                    f"wall time of one predict_proba over them (CPU {r['cpu_ratio']:.2f}x), "
                    f"{verdict} the {COST_RATIO_TARGET:.2f}x target")
            for strategy in dict.fromkeys(r["strategy"] for r in self.cost):
                rows = [r for r in self.cost if r["strategy"] == strategy]
                if len(rows) > 1:
                    lo, hi = rows[0], rows[-1]
                    grow = hi["pool_rows"] - lo["pool_rows"]
                    q = (hi["query_peak_bytes"] - lo["query_peak_bytes"]) / grow
                    p = (hi["proba_peak_bytes"] - lo["proba_peak_bytes"]) / grow
                    notes.append(
                        f"peak memory, {strategy}: from {lo['pool_rows']:,} to "
                        f"{hi['pool_rows']:,} pool rows a query's peak grew "
                        f"{_mib(hi['query_peak_bytes'] - lo['query_peak_bytes'])} MiB "
                        f"({q:.1f} bytes per row; the pool itself is 512 bytes per row), "
                        f"predict_proba's {_mib(hi['proba_peak_bytes'] - lo['proba_peak_bytes'])}"
                        f" MiB ({p:.1f} bytes per row)")
        return notes

    def report(self, fmt="text", std=False, command=None):
        """The report: what was run, both tables, the legend and the verdicts.

        Parameters
        ----------
        fmt : {'text', 'rst', 'markdown'}, default='text'
        std : bool, default=False
        command : str or None, default=None

        Returns
        -------
        report : str
        """
        _check_format(fmt)
        fields = report_fields(fmt, command, self.seeds,
                               seeds_note=" (the random start; the split is seed 0)",
                               extra=self.options.items(), versions=self.versions,
                               wall_seconds=self.wall_seconds)
        parts = []
        if self.methods:
            parts.append(self.to_table(fmt=fmt, std=std))
        if self.cost:
            heading = (
                f"Query cost: ActiveLearner(LogisticRegression()).query(X_pool, "
                f"n={self.cost_options.get('n_query', N_QUERY)}) beside one "
                "estimator_.predict_proba(X_pool), synthetic digits-like float64 pools of "
                f"64 columns; medians of {self.cost_options.get('repeats', '?')} calls each, "
                "taking turns; peak memory allocated during one call (tracemalloc)"
            )
            parts.append(f"**{heading}**" if fmt == "markdown" else heading)
            parts.append(self.cost_table(fmt=fmt))
        legend = []
        for kind, key, strategy in (self._rows() if self.methods else []):
            if kind == "protocol":
                legend.append((key, "PROTOCOL.md's published baseline for "
                               f"{strategy.replace('_', ' ')} (SVC(probability=True), modAL's "
                               "strategy), not measured here"))
            elif key in self.descriptions:
                legend.append((key, self.descriptions[key]))
        notes = []
        if self.methods:
            notes.append(
                "AUC: the area under the mean test accuracy from the first point to the "
                "budget, divided by its width (the mean accuracy over the curve); run s: "
                "fit and query seconds of one run, mean over the seeds; query ms: median of "
                "one query")
        for method, error in self.errors.items():
            notes.append(f"{method} failed: {error}")
        for method, found in self.warnings.items():
            for message, count in found.items():
                notes.append(f"{method} warned in {count} run(s): {message}")
        if any(m.startswith("ls") and any(_NAN_WARNING in w for w in found)
               for m, found in self.warnings.items()):
            notes.append(
                f"the ls rows' '{_NAN_WARNING}' is LabelSpreading's 0 / 0 for training "
                "rows its kNN graph does not reach from any label (NaN probabilities); "
                "ActiveLearner scores those rows as maximally uncertain")
        notes += self.target_notes()
        notes += list(self.notes)
        return format_report(TITLE, fields, "\n\n".join(parts), legend, notes, fmt=fmt)


# ---------------------------------------------------------------------------
# The run.


def check_active_config(methods=None, seeds=None, budget=DEFAULT_BUDGET, pool_sizes=None,
                        cost_strategies=("margin",), repeats=DEFAULT_REPEATS, full=False):
    """Validate the options of :func:`run_active`, before any fit.

    Parameters
    ----------
    methods : sequence of str or None, default=None
        Keys of :func:`active_methods`; ``None``: those of the default run,
        or all of them with ``full``.
    seeds : sequence of int or None, default=None
    budget : int, default=200
        From 11 (one query after the 10 random labels) to the 1257 training
        rows.
    pool_sizes : sequence of int or None, default=None
        ``None``: 100,000, 300,000 and 1,000,000; an empty sequence skips
        the query cost.
    cost_strategies : sequence of str, default=('margin',)
    repeats : int >= 1, default=5
    full : bool, default=False

    Returns
    -------
    methods : list of str
        In the order of :func:`active_methods`.
    seeds : list of int
    budget : int
    pool_sizes : list of int
    cost_strategies : list of str
    repeats : int

    Raises
    ------
    BenchmarkConfigError
        A :class:`ValueError` whose message says which option is wrong.

    Examples
    --------
    >>> from sklabelfree.benchmarks._active import check_active_config
    >>> check_active_config(["svc-margin"], [0], 50, [1000])
    (['svc-margin'], [0], 50, [1000], ['margin'], 5)
    >>> check_active_config(budget=5)
    Traceback (most recent call last):
        ...
    sklabelfree.benchmarks._table.BenchmarkConfigError: budget must be ...
    """
    known = _methods_by_key()
    if methods is None:
        methods = list(active_methods(default_run=not full))
    methods = list(methods)
    for m in methods:
        if m not in known:
            raise BenchmarkConfigError(f"unknown method {m!r}; choose from {', '.join(known)}.")
    dupes = sorted({m for m in methods if methods.count(m) > 1})
    if dupes:
        raise BenchmarkConfigError(f"methods given twice: {', '.join(dupes)}.")
    methods = [m for m in known if m in set(methods)]  # the table's order
    seeds = list(DEFAULT_SEEDS if seeds is None else seeds)
    if methods and not seeds:
        raise BenchmarkConfigError("give at least one seed.")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s < 2**32:
            raise BenchmarkConfigError(f"each seed must be an int in [0, 2**32), got {s!r}.")
    seeds = [int(s) for s in dict.fromkeys(seeds)]
    n_train = 1257
    if (isinstance(budget, bool) or not isinstance(budget, (int, np.integer))
            or not N_INITIAL < budget <= n_train):
        raise BenchmarkConfigError(
            f"budget must be an int in [{N_INITIAL + 1}, {n_train}] (the {N_INITIAL} random "
            f"labels count, and the training part has {n_train} rows), got {budget!r}.")
    pool_sizes = list(DEFAULT_POOL_SIZES if pool_sizes is None else pool_sizes)
    for n in pool_sizes:
        check_config_int("each pool size", n, N_QUERY)
    pool_sizes = sorted({int(n) for n in pool_sizes})
    cost_strategies = list(dict.fromkeys(cost_strategies))
    for s in cost_strategies:
        if s not in COST_STRATEGIES:
            raise BenchmarkConfigError(
                f"unknown cost strategy {s!r}; choose from {', '.join(COST_STRATEGIES)}.")
    if pool_sizes and not cost_strategies:
        raise BenchmarkConfigError("give at least one strategy for the query cost.")
    repeats = check_config_int("repeats", repeats, 1)
    return methods, seeds, int(budget), pool_sizes, cost_strategies, repeats


def run_active(methods=None, seeds=None, *, budget=DEFAULT_BUDGET, pool_sizes=None,
               cost_strategies=None, repeats=None, full=False, n_threads=1,
               n_jobs=1, progress=None):
    """Measure the active-learning table of PROTOCOL.md and the cost of a query.

    See the module's documentation for what is measured. The learning
    curves of each method and seed run in this process or, with
    ``n_jobs > 1``, in worker processes (each curve is seeded: the results
    do not depend on it); the query cost is measured afterwards, in this
    process alone.

    Parameters
    ----------
    methods : sequence of str or None, default=None
        Keys of :func:`active_methods`; ``None``: those of the default run
        (all but ``ls-density``, ``ls-ranked-batch`` and ``ls5-entropy``,
        the slowest and not the best), or all with ``full``. An empty list
        skips the learning curves.
    seeds : sequence of int or None, default=None
        The random starts; ``None``: 0, 1 and 2.
    budget : int, default=200
        Labels at the end of every curve (the 10 random ones included);
        the table's columns are the protocol's 20 / 50 / 100 / 200 up to
        it, and the budget itself.
    pool_sizes : sequence of int or None, default=None
        Pool rows of the query cost; ``None``: 100,000, 300,000 and
        1,000,000. An empty list skips it.
    cost_strategies : sequence of str or None, default=None
        Strategies whose query cost is measured, among ``'margin'``,
        ``'entropy'``, ``'least_confident'`` and ``'random'``; ``None``:
        margin, or all four with ``full``.
    repeats : int or None, default=None
        Timed calls per strategy and pool size; ``None``: 5, or 15 with
        ``full``.
    full : bool, default=False
        Every method, more repeats, and every strategy of the query cost.
    n_threads : int >= 1 or None, default=1
        BLAS / OpenMP threads of every fit and query; ``None``: the
        libraries' defaults.
    n_jobs : int >= 1, default=1
        Learning curves computed at once, in worker processes.
    progress : callable or None, default=None
        Called with one line of text after every curve.

    Returns
    -------
    result : ActiveResult

    Examples
    --------
    >>> from sklabelfree.benchmarks._active import run_active
    >>> result = run_active(["svc-margin", "loop-margin"], seeds=[0], budget=20,
    ...                     pool_sizes=[2000], repeats=1)
    >>> print(result.to_table())  # doctest: +ELLIPSIS
    method           20 labels  AUC 10-20  run s  query ms
    ---------------  ---------  ---------  -----  --------
    protocol-margin      0.255
    loop-margin            ...        ...    ...       ...
    svc-margin             ...        ...    ...       ...
    >>> [r["pool_rows"] for r in result.cost]
    [2000]
    """
    start = time.perf_counter()
    methods_given = methods
    if repeats is None:
        repeats = FULL_REPEATS if full else DEFAULT_REPEATS
    if cost_strategies is None:
        cost_strategies = COST_STRATEGIES if full else ("margin",)
    methods, seeds, budget, pool_sizes, cost_strategies, repeats = check_active_config(
        methods, seeds, budget, pool_sizes, cost_strategies, repeats, full=full)
    if n_threads is not None:
        n_threads = check_config_int("n_threads", n_threads, 1)
    n_jobs = check_config_int("n_jobs", n_jobs, 1)
    say = progress if progress is not None else (lambda line: None)
    checkpoints = [n for n in CHECKPOINTS if n <= budget]
    if budget not in checkpoints:
        checkpoints.append(budget)

    by_key = _methods_by_key()
    jobs = [(by_key[m], seed) for m in methods for seed in seeds]
    results = {}
    width = len(str(len(jobs)))

    def collect(i, out):
        method, seed = jobs[i]
        results[method.key, seed] = out
        if out["error"] is not None:
            say(f"{method.key} failed (seed={seed}): {out['error']}")
            return
        curve = out["curve"]
        say(f"[{len(results):>{width}}/{len(jobs)}] {method.key:<22} seed={seed}  "
            + "  ".join(f"{n}:{curve.score_at(n):.3f}" for n in checkpoints)
            + f"  auc={curve.auc:.3f}  "
            f"{curve.fit_seconds.sum() + curve.query_seconds.sum():.1f} s")

    if n_jobs == 1 or len(jobs) < 2:
        for i, (method, seed) in enumerate(jobs):
            collect(i, _run_curve(method, seed, budget, n_threads))
    else:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=min(n_jobs, len(jobs)), return_as="generator_unordered")
        for i, out in parallel(delayed(_indexed_curve)(i, m, s, budget, n_threads)
                               for i, (m, s) in enumerate(jobs)):
            collect(i, out)

    curves, errors, warned = {}, {}, {}
    for method, seed in jobs:
        out = results[method.key, seed]
        if out["error"] is not None:
            errors.setdefault(method.key, f"seed={seed}: {out['error']}")
        else:
            curves.setdefault(method.key, {})[seed] = out["curve"]
        for message in sorted(out["messages"]):
            counts = warned.setdefault(method.key, {})
            counts[message] = counts.get(message, 0) + 1

    notes = []
    if methods_given is None and not full:
        left_out = [k for k in active_methods() if k not in active_methods(default_run=True)]
        notes.append(f"not in the default run: {', '.join(left_out)} (--full or --methods "
                     "runs them)")
    if any(m.startswith("ls") for m in curves):
        notes.append(_ceiling_note(n_threads))

    cost = []
    if pool_sizes:
        cost = measure_query_cost(pool_sizes, strategies=cost_strategies, n_query=N_QUERY,
                                  repeats=repeats, n_threads=n_threads, progress=progress)

    return ActiveResult(
        methods=list(methods),
        curves=curves,
        seeds=seeds,
        checkpoints=checkpoints,
        budget=budget,
        descriptions={m: by_key[m].description for m in methods},
        errors=errors,
        warnings=warned,
        cost=cost,
        cost_options={"n_query": N_QUERY, "repeats": repeats},
        wall_seconds=time.perf_counter() - start,
        versions=environment_versions(),
        options={
            "budget": f"{budget} labels ({N_INITIAL} random, then one query at a time)",
            "pool sizes": " ".join(f"{n:,}" for n in pool_sizes) if pool_sizes else "none",
            "threads": "library default" if n_threads is None else str(n_threads),
            "jobs": str(n_jobs),
            "full": "yes" if full else "no",
        },
        notes=notes,
    )


# ---------------------------------------------------------------------------
# Command line: ``python -m sklabelfree.benchmarks active``.

HELP = (
    "active learning on digits (PROTOCOL.md): learning curves of ActiveLearner beside a "
    "hand-written modAL loop and the published baselines, and the cost of a query"
)


def _positive(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def _pool_size(text):
    try:
        n = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"a pool size must be >= 0, got {n}")
    return n


def default_n_jobs():
    """The default of ``--n-jobs``: the number of CPUs, at most 2.

    Returns
    -------
    n_jobs : int

    Examples
    --------
    >>> from sklabelfree.benchmarks._active import default_n_jobs
    >>> 1 <= default_n_jobs() <= 2
    True
    """
    return max(1, min(2, os.cpu_count() or 1))


def add_arguments(parser):
    """Add the options of ``active`` to its argparse sub-parser.

    ``--methods``, ``--budget``, ``--pool-size``, ``--cost-strategies``,
    ``--repeats`` and ``--n-jobs``; the shared options (``--seeds``,
    ``--format``, ``--std``, ``--threads``, ``--full``, ``--quiet``) are
    added by ``sklabelfree.benchmarks.__main__``.

    Parameters
    ----------
    parser : argparse.ArgumentParser

    Examples
    --------
    >>> import argparse
    >>> from sklabelfree.benchmarks._active import add_arguments
    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> args = parser.parse_args(["--methods", "svc-margin", "--budget", "50",
    ...                           "--pool-size", "10000"])
    >>> args.methods, args.budget, args.pool_size, args.cost_strategies
    (['svc-margin'], 50, [10000], ['margin'])
    """
    keys = list(active_methods())
    parser.add_argument(
        "--methods", nargs="*", choices=keys, default=None, metavar="METHOD",
        help="learning curves to measure (default: all but "
        f"{', '.join(k for k in keys if k not in active_methods(default_run=True))}; every "
        f"one with --full; none: only the query cost): {', '.join(keys)}",
    )
    parser.add_argument(
        "--budget", type=_positive, default=DEFAULT_BUDGET, metavar="N",
        help="labels at the end of each curve, the 10 random ones included "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--pool-size", nargs="+", type=_pool_size, default=None, metavar="N",
        help="pool rows of the query-cost measurement (default: 100000 300000 1000000; "
        "0: skip it)",
    )
    parser.add_argument(
        "--cost-strategies", nargs="+", choices=COST_STRATEGIES, default=Default(["margin"]),
        metavar="STRATEGY",
        help=f"strategies whose query cost is measured (default: margin; every one with "
        f"--full): {', '.join(COST_STRATEGIES)}",
    )
    parser.add_argument(
        "--repeats", type=_positive, default=None, metavar="N",
        help=f"timed calls per strategy and pool size (default: {DEFAULT_REPEATS}; "
        f"{FULL_REPEATS} with --full)",
    )
    parser.add_argument(
        "--n-jobs", type=_positive, default=default_n_jobs(), metavar="N",
        help="learning curves computed at once, in worker processes, each with --threads "
        "threads; the results do not depend on it (default: the number of CPUs, at most "
        "2: %(default)s here)",
    )


def run_from_args(args, progress=None):
    """Run the ``active`` benchmark the parsed command line asks for.

    Parameters
    ----------
    args : argparse.Namespace
        With ``methods``, ``seeds``, ``budget``, ``pool_size``,
        ``cost_strategies``, ``repeats``, ``full``, ``threads`` and,
        optionally, ``n_jobs`` (default 1).
    progress : callable or None, default=None

    Returns
    -------
    result : ActiveResult

    Examples
    --------
    >>> import argparse
    >>> from sklabelfree.benchmarks._active import run_from_args
    >>> args = argparse.Namespace(methods=["loop-margin"], seeds=[0], budget=12,
    ...                           pool_size=[0], cost_strategies=["margin"], repeats=1,
    ...                           full=False, threads=1)
    >>> run_from_args(args).curves["loop-margin"][0].n_labels.tolist()
    [10, 11, 12]
    """
    pool_sizes = args.pool_size
    if pool_sizes is not None:
        pool_sizes = [n for n in pool_sizes if n > 0]
    strategies = given(args.cost_strategies)
    return run_active(
        methods=args.methods,
        seeds=given(args.seeds),
        budget=args.budget,
        pool_sizes=pool_sizes,
        cost_strategies=strategies,
        repeats=args.repeats,
        full=args.full,
        n_threads=args.threads or None,
        n_jobs=getattr(args, "n_jobs", 1),
        progress=progress,
    )
