"""The semi-supervised digits benchmark of PROTOCOL.md, ours beside scikit-learn's.

Each method is a :class:`Method`: a factory ``make(seed) -> estimator`` and
the rows it trains on (``'labeled'``: the labeled rows only; ``'partial'``:
every training row, ``-1`` on the unlabeled ones; ``'all'``: every training
row with its true label). A new method, a deep one included, plugs in by
adding one :class:`Method` to ``_METHODS`` (or by passing it to
:func:`run_semi_supervised`).

The deep nets (skorch, on ``(n, 1, 8, 8)`` images) take a minute or more
per fit on one core, so the default run measures them on a subset (see
``Method.quick``); ``full=True`` (``--full``) runs every method, budget and
seed. Fits run in parallel processes with ``n_jobs`` (joblib), one thread
each; torch is imported only when a deep method runs.
"""

import argparse
import functools
import importlib
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from sklearn.metrics import accuracy_score

from ..datasets import digits_benchmark_split
from ._table import (
    BenchmarkConfigError,
    BenchmarkResult,
    Default,
    environment_versions,
    given,
    limit_threads,
)

__all__ = ["Method", "run_semi_supervised", "semi_supervised_methods"]

TRAIN_ON = ("labeled", "partial", "all")

DEFAULT_LABELS = (20, 50, 100)
DEFAULT_SEEDS = (0, 1, 2)

TITLE = (
    "Semi-supervised digits (PROTOCOL.md): test accuracy, mean over seeds; "
    "X = pixels / 16, 64 columns (the deep nets: (1, 8, 8) images)"
)


@dataclass(frozen=True)
class Method:
    """One method of a benchmark: how to build it, and what it trains on.

    Parameters
    ----------
    key : str
        Short name, used on the command line and as the table's row.
    make : callable
        ``make(seed) -> estimator``: a fresh, unfitted estimator whose
        randomness is seeded with ``seed``. Import optional or not yet
        written classes inside ``make``.
    train_on : {'labeled', 'partial', 'all'}
        ``'labeled'``: fit on the labeled rows only; ``'partial'``: fit on
        every training row, ``-1`` on the unlabeled ones; ``'all'``: fit on
        every training row with its true label (the fully supervised
        reference; fitted once per seed and reused for every budget).
    description : str, default=''
        One line for the legend below the table.
    protocol : dict of int -> float, default={}
        The protocol's published accuracy per label budget, if any.
    requires : tuple of str, default=()
        ``'module:attribute'`` names the method needs; when one is not
        importable the method is skipped with a note instead of failing.
    as_images : bool, default=False
        Give ``X`` as images ``(n, 1, 8, 8)`` instead of rows ``(n, 64)``
        (for the convolutional estimators).
    quick : dict, default={}
        The budgets and seeds the method runs at without ``full`` when the
        run's ``labels`` / ``seeds`` are left to their defaults: ``{}``
        every one; ``{'labels': (20, 100), 'seeds': (0,)}`` (either key may
        be left out) only those, for slow methods. Options given explicitly
        win: ``seeds=[0, 1, 2]`` runs every seed.
    in_default_run : bool, default=True
        Whether the run without ``full`` includes the method when
        ``methods`` is not given; naming it runs it anyway.

    Examples
    --------
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklabelfree.benchmarks import Method
    >>> knn = Method("knn-labeled", lambda seed: KNeighborsClassifier(1), "labeled",
    ...              description="1-NN on the labeled rows")
    >>> knn.make(0)
    KNeighborsClassifier(n_neighbors=1)
    >>> knn.missing() is None
    True
    >>> print(Method("x", None, "partial", requires=("sklearn:NoSuchThing",)).missing())
    sklearn.NoSuchThing is not importable (AttributeError: ...)
    >>> slow = Method("slow", None, "partial", quick={"seeds": (0,)}, in_default_run=False)
    >>> slow.quick, slow.in_default_run
    ({'seeds': (0,)}, False)
    """

    key: str
    make: Callable
    train_on: str
    description: str = ""
    protocol: dict = field(default_factory=dict)
    requires: tuple = ()
    as_images: bool = False
    quick: dict = field(default_factory=dict)
    in_default_run: bool = True

    def __post_init__(self):
        if self.train_on not in TRAIN_ON:
            raise ValueError(
                f"train_on must be one of {', '.join(map(repr, TRAIN_ON))}, "
                f"got {self.train_on!r}."
            )
        if not isinstance(self.quick, dict) or set(self.quick) - {"labels", "seeds"}:
            raise ValueError(
                "quick must be a dict with the keys 'labels' and / or 'seeds', "
                f"got {self.quick!r}."
            )

    def missing(self):
        """Why the method cannot run here, or ``None`` when it can.

        Returns
        -------
        reason : str or None
            The first name of ``requires`` that cannot be imported, with the
            error; ``None`` when every name imports.

        Examples
        --------
        >>> from sklabelfree.benchmarks import semi_supervised_methods
        >>> semi_supervised_methods()["pseudo-label-lr"].missing() is None
        True
        """
        for name in self.requires:
            module, _, attr = name.partition(":")
            try:
                obj = importlib.import_module(module)
                if attr:
                    obj = getattr(obj, attr)
            except (ImportError, AttributeError) as exc:
                shown = f"{module}.{attr}" if attr else module
                return f"{shown} is not importable ({type(exc).__name__}: {exc})"
        return None


# ---------------------------------------------------------------------------
# The methods. Factories import lazily so that the module imports fast and a
# method whose class is not written yet does not break the others.


def _svc(seed):
    from sklearn.svm import SVC

    return SVC()


def _svc_probability(seed):
    from sklearn.svm import SVC

    if "probability" in SVC().get_params():
        # As the protocol measured it; deprecated in scikit-learn 1.9.
        return SVC(probability=True, random_state=seed)
    # scikit-learn >= 1.11: the replacement its deprecation message gives.
    from sklearn.calibration import CalibratedClassifierCV

    return CalibratedClassifierCV(SVC(random_state=seed), ensemble=False)


def _self_training_svc(seed):
    from sklearn.semi_supervised import SelfTrainingClassifier

    return SelfTrainingClassifier(_svc_probability(seed))


def _label_spreading(seed):
    from sklearn.semi_supervised import LabelSpreading

    return LabelSpreading(kernel="knn")


def _lr(seed):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression()


def _pseudo_label_lr(seed):
    from sklearn.linear_model import LogisticRegression

    from ..semi_supervised import PseudoLabelClassifier

    return PseudoLabelClassifier(LogisticRegression(), random_state=seed)


def _co_training_lr(seed):
    from sklearn.linear_model import LogisticRegression

    from ..datasets import image_half_views
    from ..semi_supervised import CoTrainingClassifier

    return CoTrainingClassifier(
        LogisticRegression(), views=image_half_views((8, 8)), random_state=seed
    )


def _noisy_student_lr(seed):
    from sklearn.linear_model import LogisticRegression

    from ..semi_supervised import NoisyStudentClassifier

    return NoisyStudentClassifier(LogisticRegression(), random_state=seed)


def _deep_net(class_name, seed):
    """A deep net of ``sklabelfree.semi_supervised`` with its defaults (imports torch)."""
    from .. import semi_supervised

    return getattr(semi_supervised, class_name)(random_state=seed)


def _deep_method(key, class_name, description, in_default_run=False):
    return Method(
        key,
        functools.partial(_deep_net, class_name),
        "partial",
        f"{class_name}(random_state=seed), default ConvNet on the (1, 8, 8) images: "
        + description,
        requires=(f"{_SSL}:{class_name}",),
        as_images=True,
        quick=dict(QUICK_DEEP),
        in_default_run=in_default_run,
    )


_SSL = "sklabelfree.semi_supervised"

QUICK_DEEP = {"labels": (20,), "seeds": (0,)}
"""The budgets and seeds of the deep nets without ``full`` (a minute or more a fit)."""

_METHODS = (
    Method(
        "svc-labeled",
        _svc,
        "labeled",
        "sklearn SVC() on the labeled rows only",
        protocol={20: 0.719, 50: 0.834, 100: 0.919},
    ),
    Method(
        "sklearn-self-training-svc",
        _self_training_svc,
        "partial",
        "sklearn SelfTrainingClassifier(SVC(probability=True, random_state=seed))",
        protocol={20: 0.719, 50: 0.834, 100: 0.951},
    ),
    Method(
        "sklearn-label-spreading",
        _label_spreading,
        "partial",
        "sklearn LabelSpreading(kernel='knn')",
        protocol={20: 0.831, 50: 0.935, 100: 0.965},
    ),
    Method(
        "lr-labeled",
        _lr,
        "labeled",
        "sklearn LogisticRegression() on the labeled rows only "
        "(all 64 columns: both co-training views)",
    ),
    Method(
        "pseudo-label-lr",
        _pseudo_label_lr,
        "partial",
        "PseudoLabelClassifier(LogisticRegression(), random_state=seed)",
        requires=(f"{_SSL}:PseudoLabelClassifier",),
    ),
    Method(
        "co-training-lr",
        _co_training_lr,
        "partial",
        "CoTrainingClassifier(LogisticRegression(), "
        "views=image_half_views((8, 8)), random_state=seed)",
        requires=(f"{_SSL}:CoTrainingClassifier",),
    ),
    Method(
        "noisy-student-lr",
        _noisy_student_lr,
        "partial",
        "NoisyStudentClassifier(LogisticRegression(), random_state=seed)",
        requires=(f"{_SSL}:NoisyStudentClassifier",),
    ),
    _deep_method(
        "supervised-net",
        "SupervisedNetClassifier",
        "the same net on the labeled rows only (it ignores the -1 rows)",
        in_default_run=True,
    ),
    _deep_method(
        "fixmatch",
        "FixMatchClassifier",
        "confident pseudo labels of weak views taught to strong views",
        in_default_run=True,
    ),
    _deep_method(
        "mixmatch",
        "MixMatchClassifier",
        "sharpened guesses over augmentations, MixUp of labeled and unlabeled rows",
        in_default_run=True,
    ),
    _deep_method(
        "mean-teacher",
        "MeanTeacherClassifier",
        "consistency with an exponential moving average of the weights",
    ),
    _deep_method("pi-model", "PiModelClassifier", "consistency between two noisy passes"),
    _deep_method(
        "temporal-ensembling",
        "TemporalEnsemblingClassifier",
        "consistency with a moving average of past predictions",
    ),
    _deep_method(
        "deep-pseudo-label",
        "DeepPseudoLabelClassifier",
        "the net's own arg-max labels on unlabeled rows, weight ramped up",
    ),
    _deep_method(
        "entropy-minimization",
        "EntropyMinimizationClassifier",
        "low-entropy predictions on unlabeled rows",
    ),
    _deep_method("vat", "VATClassifier", "virtual adversarial training"),
    Method(
        "svc-all-labels",
        _svc,
        "all",
        "sklearn SVC() on all 1257 training labels (the ceiling)",
        protocol={b: 0.987 for b in DEFAULT_LABELS},
    ),
)


def semi_supervised_methods():
    """The methods of the semi-supervised benchmark, by key.

    Returns
    -------
    methods : dict of str -> Method
        In the order of the table's rows. A new dict on every call.

    Examples
    --------
    >>> from sklabelfree.benchmarks import semi_supervised_methods
    >>> list(semi_supervised_methods())  # doctest: +NORMALIZE_WHITESPACE
    ['svc-labeled', 'sklearn-self-training-svc', 'sklearn-label-spreading',
     'lr-labeled', 'pseudo-label-lr', 'co-training-lr', 'noisy-student-lr',
     'supervised-net', 'fixmatch', 'mixmatch', 'mean-teacher', 'pi-model',
     'temporal-ensembling', 'deep-pseudo-label', 'entropy-minimization', 'vat',
     'svc-all-labels']
    >>> semi_supervised_methods()["svc-labeled"].protocol
    {20: 0.719, 50: 0.834, 100: 0.919}
    >>> fixmatch = semi_supervised_methods()["fixmatch"]
    >>> fixmatch.train_on, fixmatch.as_images, fixmatch.quick
    ('partial', True, {'labels': (20,), 'seeds': (0,)})
    >>> semi_supervised_methods()["vat"].in_default_run  # named or with full only
    False
    """
    return {m.key: m for m in _METHODS}


# ---------------------------------------------------------------------------
# Validation (before any fit).


def _max_labels(seeds):
    """10 times the smallest class of the training part over ``seeds``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    y = load_digits().target
    smallest = min(
        np.bincount(train_test_split(y, test_size=0.3, stratify=y, random_state=s)[0]).min()
        for s in seeds
    )
    return 10 * int(smallest)


def check_semi_supervised_config(labels=None, seeds=None, methods=None, full=False):
    """Validate the options of :func:`run_semi_supervised`, before any fit.

    Parameters
    ----------
    labels : sequence of int or None, default=None
        Label budgets: multiples of 10, at most 10 times the smallest class
        of the training part. ``None``: 20, 50 and 100.
    seeds : sequence of int or None, default=None
        Seeds in ``[0, 2**32)``. ``None``: 0, 1 and 2.
    methods : sequence of str or Method, str, Method or None, default=None
        Keys of :func:`semi_supervised_methods` or :class:`Method` instances;
        ``None``: every method with ``full``, else those of the default run
        (``Method.in_default_run``).
    full : bool, default=False

    Returns
    -------
    labels : list of int
        Sorted, without duplicates.
    seeds : list of int
        In the given order, without duplicates.
    methods : list of Method

    Raises
    ------
    BenchmarkConfigError
        A :class:`ValueError` whose message says which option is wrong.

    Examples
    --------
    >>> from sklabelfree.benchmarks._semi_supervised import check_semi_supervised_config
    >>> labels, seeds, methods = check_semi_supervised_config([50, 20, 50], [1, 0], None)
    >>> labels, seeds, len(methods)
    ([20, 50], [1, 0], 11)
    >>> len(check_semi_supervised_config(full=True)[2])
    17
    >>> check_semi_supervised_config([25], [0], None)
    Traceback (most recent call last):
        ...
    sklabelfree.benchmarks._table.BenchmarkConfigError: each label budget must be ...
    """
    known = semi_supervised_methods()
    labels = list(DEFAULT_LABELS if labels is None else labels)
    seeds = list(DEFAULT_SEEDS if seeds is None else seeds)
    if not labels:
        raise BenchmarkConfigError("give at least one label budget.")
    if not seeds:
        raise BenchmarkConfigError("give at least one seed.")
    for n in labels:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 10 or n % 10:
            raise BenchmarkConfigError(
                "each label budget must be a positive multiple of 10 "
                f"(n_labels // 10 labels per class, 10 classes), got {n!r}."
            )
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s < 2**32:
            raise BenchmarkConfigError(f"each seed must be an int in [0, 2**32), got {s!r}.")
    labels = sorted({int(n) for n in labels})
    seeds = [int(s) for s in dict.fromkeys(seeds)]
    largest = _max_labels(seeds)
    if labels[-1] > largest:
        raise BenchmarkConfigError(
            f"at most {largest} labels: the smallest class has {largest // 10} training rows "
            f"with these seeds; got {labels[-1]}."
        )

    if methods is None:
        methods = [m for m in known.values() if full or m.in_default_run]
    else:
        if isinstance(methods, (str, Method)):
            methods = [methods]
        resolved = []
        for m in methods:
            if isinstance(m, Method):
                resolved.append(m)
            elif m in known:
                resolved.append(known[m])
            else:
                raise BenchmarkConfigError(
                    f"unknown method {m!r}; choose from {', '.join(known)}."
                )
        methods = resolved
        if not methods:
            raise BenchmarkConfigError("give at least one method.")
    keys = [m.key for m in methods]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise BenchmarkConfigError(f"methods given twice: {', '.join(dupes)}.")
    return labels, seeds, methods


def plan_runs(methods, labels, seeds, *, restrict_labels=True, restrict_seeds=True):
    """The budgets and seeds each method runs at, after ``Method.quick``.

    Parameters
    ----------
    methods : list of Method
    labels, seeds : list of int
        The budgets and seeds of the run.
    restrict_labels, restrict_seeds : bool, default=True
        Apply the ``'labels'`` / ``'seeds'`` of ``Method.quick`` (the
        default run); ``False`` where the option was given or with
        ``full``.

    Returns
    -------
    plan : dict of str -> (list of int, list of int)
        Method key -> its budgets and seeds (possibly empty when the run's
        budgets or seeds miss the method's subset).

    Examples
    --------
    >>> from sklabelfree.benchmarks._semi_supervised import plan_runs
    >>> from sklabelfree.benchmarks import semi_supervised_methods
    >>> known = semi_supervised_methods()
    >>> plan = plan_runs([known["svc-labeled"], known["fixmatch"]], [20, 50, 100], [0, 1, 2])
    >>> plan["svc-labeled"], plan["fixmatch"]
    (([20, 50, 100], [0, 1, 2]), ([20], [0]))
    >>> plan_runs([known["fixmatch"]], [20, 50], [0, 1, 2], restrict_seeds=False)
    {'fixmatch': ([20], [0, 1, 2])}
    """
    plan = {}
    for m in methods:
        quick = m.quick
        budgets = list(labels)
        if restrict_labels and "labels" in quick:
            budgets = [b for b in labels if b in set(quick["labels"])]
        run_seeds = list(seeds)
        if restrict_seeds and "seeds" in quick:
            run_seeds = [s for s in seeds if s in set(quick["seeds"])]
        plan[m.key] = (budgets, run_seeds)
    return plan


def _subset_notes(methods, plan, labels, seeds, left_out):
    """Notes on what the default run left out, grouped by identical subsets."""
    groups = {}
    for m in methods:
        budgets, run_seeds = plan[m.key]
        if budgets != labels or run_seeds != seeds:
            groups.setdefault((tuple(budgets), tuple(run_seeds)), []).append(m.key)
    notes = []
    for (budgets, run_seeds), keys in groups.items():
        if not budgets or not run_seeds:
            notes.append(f"{', '.join(keys)}: not run (the default subset of these "
                         "methods misses the budgets or seeds given)")
            continue
        seeds_text = "seed" + ("s " if len(run_seeds) > 1 else " ") + " ".join(
            map(str, run_seeds))
        notes.append(
            f"{', '.join(keys)}: {seeds_text} at {' '.join(map(str, budgets))} labels only, "
            "their subset without --full (a deep fit takes a minute or more on one "
            "core); '-' where not run; --full, --labels or --seeds runs more"
        )
    if left_out:
        notes.append(
            f"not in the default run: {', '.join(left_out)} (--full or --methods runs them)"
        )
    return notes


# ---------------------------------------------------------------------------
# The run.


def _fit_score(method, seed, X_tr, y_fit, X_te, y_te, n_threads):
    """Fit one estimator; return (accuracy, fit seconds, warning messages, deep)."""
    estimator = method.make(seed)
    if "torch" in sys.modules:
        # torch imports torch._dynamo at the first optimizer step of a
        # process (seconds): not part of any fit, so before the clock starts.
        try:
            importlib.import_module("torch._dynamo")
        except ImportError:  # pragma: no cover - older or trimmed torch
            pass
    # After make(): libraries that make() imported (torch) are limited too.
    with limit_threads(n_threads), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        estimator.fit(X_tr, y_fit)
        fit_seconds = time.perf_counter() - start
        accuracy = accuracy_score(y_te, estimator.predict(X_te))
    messages = {f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught}
    deep = bool(getattr(estimator, "_sklabelfree_deep", False))
    return float(accuracy), fit_seconds, messages, deep


@functools.lru_cache(maxsize=8)
def _split(n_labels, seed, as_images):
    return digits_benchmark_split(n_labels, random_state=seed, as_images=as_images)


def _run_fit(method, n_labels, seed, n_threads):
    """One fit of a method at a budget and seed, in this process or a worker.

    Never raises: a failing fit comes back as ``error``.
    """
    X_tr, y_tr, X_te, y_te, y_full = _split(n_labels, seed, method.as_images)
    if method.train_on == "labeled":
        mask = y_tr != -1
        X_fit, y_fit = X_tr[mask], y_tr[mask]
    elif method.train_on == "partial":
        X_fit, y_fit = X_tr, y_tr
    else:
        X_fit, y_fit = X_tr, y_full
    try:
        accuracy, seconds, messages, deep = _fit_score(
            method, seed, X_fit, y_fit, X_te, y_te, n_threads
        )
        error = None
    except Exception as exc:  # noqa: BLE001 - reported, the run goes on
        accuracy, seconds, messages, deep = float("nan"), float("nan"), set(), False
        error = f"{type(exc).__name__}: {exc}"
    return dict(accuracy=accuracy, fit_seconds=seconds, messages=messages, deep=deep,
                error=error)


_SPEED_CHECK = {"epochs": 5}
"""Options of the quick training-speed measurement noted after a deep run."""


def _check_n(name, value, allow_none):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        more = " or None" if allow_none else ""
        raise BenchmarkConfigError(f"{name} must be an int >= 1{more}, got {value!r}.")
    return int(value)


def run_semi_supervised(
    labels=None,
    seeds=None,
    methods=None,
    *,
    full=False,
    n_threads=1,
    n_jobs=1,
    speed_check=True,
    progress=None,
):
    """Measure the semi-supervised digits table of PROTOCOL.md.

    For each label budget and seed, split digits as the protocol says
    (:func:`~sklabelfree.datasets.digits_benchmark_split`, ``X = pixels /
    16``, images ``(n, 1, 8, 8)`` for the deep nets), fit every method on
    its rows (see :class:`Method`), and score test accuracy; fit time is
    measured with :func:`time.perf_counter` around ``fit`` alone. A method
    whose class is not importable is skipped with a note; a method whose
    fit raises is recorded as an error and the run goes on.

    Without ``full``, the options left to ``None`` follow the default run:
    the methods with ``Method.in_default_run`` (the scikit-learn-based ones,
    ``supervised-net``, ``fixmatch`` and ``mixmatch``), each at the budgets
    and seeds of its ``Method.quick`` subset (the deep nets: seed 0 at 20
    labels; the notes below the table say so). Options given
    explicitly always win. ``full=True`` runs every method at every budget
    and seed.

    Parameters
    ----------
    labels : sequence of int or None, default=None
        Label budgets, each a multiple of 10 (``n_labels // 10`` per class).
        ``None``: 20, 50 and 100.
    seeds : sequence of int or None, default=None
        Seeds of the split and of every estimator. ``None``: 0, 1 and 2.
    methods : sequence of str or Method, or None, default=None
        Keys of :func:`semi_supervised_methods`, or :class:`Method`
        instances (to benchmark a method of your own); ``None``: the
        default run's methods, or all of them with ``full``.
    full : bool, default=False
        Run every method, budget and seed (about an hour on two cores:
        the deep nets take a minute or more per fit).
    n_threads : int >= 1 or None, default=1
        Limit of the BLAS, OpenMP and torch threads during each fit and
        predict (``threadpoolctl.threadpool_limits``,
        ``torch.set_num_threads``); ``None`` leaves the libraries'
        defaults. These problems are small (at most 1257 x 64): one thread
        is as fast on an idle machine, and on a loaded one multi-threaded
        OpenBLAS can be 10 to 50 times slower.
    n_jobs : int >= 1, default=1
        Fits run at once, in worker processes (joblib) when above 1 and the
        run is worth their start (a deep net, or 20 fits or more). The
        results do not depend on it: each fit is seeded, its threads
        limited by ``n_threads``.
    speed_check : bool, default=True
        When a deep net was fitted, time a few training epochs of
        ``SupervisedNetClassifier`` beside a hand-written torch loop and add
        the ratio to the notes (see ``python -m sklabelfree.benchmarks speed``).
    progress : callable or None, default=None
        Called with one line of text after every fit (e.g. ``print``).

    Returns
    -------
    result : BenchmarkResult
        The records of every fit; ``result.report()`` prints the table.

    Raises
    ------
    ValueError
        On invalid options, before any fit: a budget that is not a multiple
        of 10 or is larger than the smallest class allows, a negative seed,
        an unknown method.

    Examples
    --------
    >>> from sklabelfree.benchmarks import run_semi_supervised
    >>> result = run_semi_supervised(labels=[20], seeds=[0],
    ...                              methods=["svc-labeled", "svc-all-labels"])
    >>> [(s["method"], round(s["accuracy_mean"], 3)) for s in result.summary()]
    [('svc-labeled', 0.689), ('svc-all-labels', 0.987)]
    >>> print(result.to_table())  # doctest: +ELLIPSIS
    method          20 labels  fit s (20)  protocol (20)
    --------------  ---------  ----------  -------------
    svc-labeled         0.689        ...           0.719
    svc-all-labels      0.987        ...           0.987
    """
    start = time.perf_counter()
    labels_given, seeds_given, methods_given = (
        labels is not None, seeds is not None, methods is not None)
    labels, seeds, methods = check_semi_supervised_config(labels, seeds, methods, full=full)
    n_threads = _check_n("n_threads", n_threads, allow_none=True)
    n_jobs = _check_n("n_jobs", n_jobs, allow_none=False)
    say = progress if progress is not None else (lambda line: None)

    plan = plan_runs(methods, labels, seeds, restrict_labels=not (full or labels_given),
                     restrict_seeds=not (full or seeds_given))
    left_out = []
    if not (full or methods_given):
        left_out = [k for k, m in semi_supervised_methods().items() if not m.in_default_run]
    notes = _subset_notes(methods, plan, labels, seeds, left_out)

    skipped = {}
    runnable = []
    for m in methods:
        reason = m.missing()
        if reason is None:
            runnable.append(m)
        else:
            skipped[m.key] = reason
            say(f"skipping {m.key}: {reason}")

    # One job per fit; an 'all' method is fitted once per seed (its fit does
    # not depend on the budget) and its result reused for every budget.
    jobs = []
    for m in runnable:
        budgets, run_seeds = plan[m.key]
        for seed in run_seeds:
            for n_labels in budgets[:1] if m.train_on == "all" else budgets:
                jobs.append((m, n_labels, seed))
    # The costly ones (the deep nets, on images) first, so that two workers
    # end together; the order does not change the results.
    order = sorted(range(len(jobs)), key=lambda i: not jobs[i][0].as_images)
    results = {}
    width = len(str(len(jobs)))

    def collect(i, out):
        m, n_labels, seed = jobs[i]
        results[m.key, n_labels, seed] = out
        if out["error"] is not None:
            say(f"{m.key} failed (labels={n_labels}, seed={seed}): {out['error']}")
        say(
            f"[{len(results):>{width}}/{len(jobs)}] {m.key:<26} labels={n_labels:<4} "
            f"seed={seed}  accuracy={out['accuracy']:.3f}  fit={out['fit_seconds']:.2f} s"
        )

    # Starting worker processes costs seconds (each imports scikit-learn, the
    # deep ones torch): worth it for the deep nets (a minute a fit) or for
    # many fits, not for a few quick ones.
    use_workers = n_jobs > 1 and len(jobs) > 1 and (
        len(jobs) >= 20 or any(m.as_images for m, _, _ in jobs)
    )
    if not use_workers:
        for i in range(len(jobs)):
            collect(i, _run_fit(*jobs[i], n_threads))
    else:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=min(n_jobs, len(jobs)), return_as="generator_unordered")
        for i, out in parallel(delayed(_indexed_fit)(i, *jobs[i], n_threads) for i in order):
            collect(i, out)

    records, errors, warned = [], {}, {}
    deep_ran = False
    for n_labels in labels:
        for seed in seeds:
            for m in runnable:
                budgets, run_seeds = plan[m.key]
                if n_labels not in budgets or seed not in run_seeds:
                    continue
                fitted_at = budgets[0] if m.train_on == "all" else n_labels
                out = results[m.key, fitted_at, seed]
                if fitted_at == n_labels:
                    if out["error"] is not None:
                        errors.setdefault(
                            m.key, f"labels={n_labels}, seed={seed}: {out['error']}")
                    for message in sorted(out["messages"]):
                        counts = warned.setdefault(m.key, {})
                        counts[message] = counts.get(message, 0) + 1
                    deep_ran = deep_ran or (out["deep"] and out["error"] is None)
                records.append(
                    dict(
                        method=m.key,
                        budget=n_labels,
                        seed=seed,
                        accuracy=out["accuracy"],
                        fit_seconds=out["fit_seconds"],
                    )
                )

    if deep_ran and speed_check:
        from ._speed import epoch_ratio, ratio_note

        say("timing a few training epochs: SupervisedNetClassifier and a torch loop")
        ratio, loop_s, _ = epoch_ratio(n_threads=n_threads, **_SPEED_CHECK)
        notes.append(ratio_note(ratio, loop_s, _SPEED_CHECK["epochs"],
                                _SPEED_CHECK.get("steps")))

    versions = environment_versions()
    for name in ("torch", "skorch") if deep_ran else ():
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = module.__version__

    return BenchmarkResult(
        name="semi-supervised",
        title=TITLE,
        methods=[m.key for m in runnable],
        budgets=labels,
        seeds=seeds,
        records=records,
        protocol={m.key: dict(m.protocol) for m in runnable if m.protocol},
        descriptions={m.key: m.description for m in runnable if m.description},
        skipped=skipped,
        errors=errors,
        warnings=warned,
        wall_seconds=time.perf_counter() - start,
        versions=versions,
        options={
            "labels": " ".join(map(str, labels)),
            "threads": "library default" if n_threads is None else str(n_threads),
            "jobs": str(n_jobs),
            "full": "yes" if full else "no",
        },
        notes=notes,
    )


def _indexed_fit(i, method, n_labels, seed, n_threads):
    return i, _run_fit(method, n_labels, seed, n_threads)


# ---------------------------------------------------------------------------
# Command line: ``python -m sklabelfree.benchmarks semi-supervised``.

HELP = (
    "the semi-supervised digits table (PROTOCOL.md), ours beside scikit-learn's; "
    "the deep nets on a subset unless --full"
)


def _label_budget(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 10 or n % 10:
        raise argparse.ArgumentTypeError(
            f"{n} is not a positive multiple of 10 (n_labels // 10 labels per class, "
            "10 classes)"
        )
    return n


def _n_jobs(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"n-jobs must be >= 1, got {n}")
    return n


def default_n_jobs():
    """The default of ``--n-jobs``: the number of CPUs, at most 2.

    Returns
    -------
    n_jobs : int

    Examples
    --------
    >>> from sklabelfree.benchmarks._semi_supervised import default_n_jobs
    >>> 1 <= default_n_jobs() <= 2
    True
    """
    return max(1, min(2, os.cpu_count() or 1))


def add_arguments(parser):
    """Add the options of ``semi-supervised`` to its argparse sub-parser.

    The options every benchmark shares (``--seeds``, ``--format``...) are
    added by ``sklabelfree.benchmarks.__main__``; these are
    ``--labels``, ``--methods`` and ``--n-jobs``. The defaults of
    ``--labels`` (and of the shared ``--seeds``) are
    :class:`~sklabelfree.benchmarks._table.Default` lists, so that the run
    knows which options were given.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-parser of the ``semi-supervised`` command.

    Examples
    --------
    >>> import argparse
    >>> from sklabelfree.benchmarks._semi_supervised import add_arguments
    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> parser.parse_args(["--labels", "20", "50", "--methods", "svc-labeled",
    ...                    "--n-jobs", "1"])
    Namespace(labels=[20, 50], methods=['svc-labeled'], n_jobs=1)
    >>> type(parser.parse_args([]).labels).__name__
    'Default'
    """
    keys = list(semi_supervised_methods())
    quick = [k for k, m in semi_supervised_methods().items() if m.in_default_run]
    parser.add_argument(
        "--labels",
        nargs="+",
        type=_label_budget,
        default=Default(DEFAULT_LABELS),
        metavar="N",
        help="label budgets, multiples of 10 (default: 20 50 100, with the deep nets "
        "at 20 only unless --full)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=keys,
        default=None,
        metavar="METHOD",
        help=f"methods to run (default: {', '.join(quick)}; every method with --full): "
        f"{', '.join(keys)}",
    )
    parser.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=default_n_jobs(),
        metavar="N",
        help="fits run at once, in worker processes, each with --threads threads; "
        "the results do not depend on it (default: the number of CPUs, at most 2: "
        "%(default)s here)",
    )


def run_from_args(args, progress=None):
    """Run the benchmark the parsed command line asks for.

    Parameters
    ----------
    args : argparse.Namespace
        With ``labels``, ``methods``, ``seeds``, ``full``, ``threads``
        (``0``: the libraries' default number of threads) and, optionally,
        ``n_jobs`` (default 1). A ``labels`` or ``seeds`` that is a
        :class:`~sklabelfree.benchmarks._table.Default` counts as not given.

    progress : callable or None, default=None
        Called with one line of text after every fit.

    Returns
    -------
    result : BenchmarkResult

    Examples
    --------
    >>> import argparse
    >>> from sklabelfree.benchmarks._semi_supervised import run_from_args
    >>> args = argparse.Namespace(labels=[20], methods=["svc-labeled"], seeds=[0],
    ...                           full=False, threads=1)
    >>> round(run_from_args(args).mean_accuracy("svc-labeled", 20), 3)
    0.689
    """
    return run_semi_supervised(
        labels=given(args.labels),
        seeds=given(args.seeds),
        methods=args.methods,
        full=args.full,
        n_threads=args.threads or None,
        n_jobs=getattr(args, "n_jobs", 1),
        progress=progress,
    )
