"""The semi-supervised digits benchmark of PROTOCOL.md, ours beside scikit-learn's.

Each method is a :class:`Method`: a factory ``make(seed) -> estimator`` and
the rows it trains on (``'labeled'``: the labeled rows only; ``'partial'``:
every training row, ``-1`` on the unlabeled ones; ``'all'``: every training
row with its true label). A new method, a deep one included, plugs in by
adding one :class:`Method` to ``_METHODS`` (or by passing it to
:func:`run_semi_supervised`).
"""

import argparse
import importlib
import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from sklearn.metrics import accuracy_score
from threadpoolctl import threadpool_limits

from ..datasets import digits_benchmark_split
from ._table import BenchmarkConfigError, BenchmarkResult, environment_versions

__all__ = ["Method", "run_semi_supervised", "semi_supervised_methods"]

TRAIN_ON = ("labeled", "partial", "all")

DEFAULT_LABELS = (20, 50, 100)
DEFAULT_SEEDS = (0, 1, 2)

TITLE = (
    "Semi-supervised digits (PROTOCOL.md): test accuracy, mean over seeds; "
    "X = pixels / 16, 64 columns"
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
    """

    key: str
    make: Callable
    train_on: str
    description: str = ""
    protocol: dict = field(default_factory=dict)
    requires: tuple = ()
    as_images: bool = False

    def __post_init__(self):
        if self.train_on not in TRAIN_ON:
            raise ValueError(
                f"train_on must be one of {', '.join(map(repr, TRAIN_ON))}, "
                f"got {self.train_on!r}."
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


_SSL = "sklabelfree.semi_supervised"

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
     'svc-all-labels']
    >>> semi_supervised_methods()["svc-labeled"].protocol
    {20: 0.719, 50: 0.834, 100: 0.919}
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


def check_semi_supervised_config(labels, seeds, methods):
    """Validate the options of :func:`run_semi_supervised`, before any fit.

    Parameters
    ----------
    labels : sequence of int
        Label budgets: multiples of 10, at most 10 times the smallest class
        of the training part.
    seeds : sequence of int
        Seeds in ``[0, 2**32)``.
    methods : sequence of str or Method, str, Method or None
        Keys of :func:`semi_supervised_methods` or :class:`Method` instances;
        ``None`` for all.

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
    ([20, 50], [1, 0], 8)
    >>> check_semi_supervised_config([25], [0], None)
    Traceback (most recent call last):
        ...
    sklabelfree.benchmarks._table.BenchmarkConfigError: each label budget must be ...
    """
    known = semi_supervised_methods()
    labels = list(labels)
    seeds = list(seeds)
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
        methods = list(known.values())
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


# ---------------------------------------------------------------------------
# The run.


def _fit_score(method, seed, X_tr, y_fit, X_te, y_te, n_threads):
    """Fit one estimator; return (accuracy, fit seconds, warning messages)."""
    estimator = method.make(seed)
    # After make(): libraries that make() imported are limited too.
    limits = nullcontext() if n_threads is None else threadpool_limits(limits=n_threads)
    with limits, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        estimator.fit(X_tr, y_fit)
        fit_seconds = time.perf_counter() - start
        accuracy = accuracy_score(y_te, estimator.predict(X_te))
    messages = {f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught}
    return float(accuracy), fit_seconds, messages


def run_semi_supervised(
    labels=DEFAULT_LABELS,
    seeds=DEFAULT_SEEDS,
    methods=None,
    *,
    full=False,
    n_threads=1,
    progress=None,
):
    """Measure the semi-supervised digits table of PROTOCOL.md.

    For each label budget and seed, split digits as the protocol says
    (:func:`~sklabelfree.datasets.digits_benchmark_split`, ``X = pixels /
    16``), fit every method on its rows (see :class:`Method`), and score
    test accuracy; fit time is measured with :func:`time.perf_counter`
    around ``fit`` alone. A method whose class is not importable is skipped
    with a note; a method whose fit raises is recorded as an error and the
    run goes on.

    Parameters
    ----------
    labels : sequence of int, default=(20, 50, 100)
        Label budgets, each a multiple of 10 (``n_labels // 10`` per class).
    seeds : sequence of int, default=(0, 1, 2)
        Seeds of the split and of every estimator.
    methods : sequence of str or Method, or None, default=None
        Keys of :func:`semi_supervised_methods`, or :class:`Method`
        instances (to benchmark a method of your own); ``None`` runs all.
    full : bool, default=False
        Reserved for larger runs of the deep methods; the same as the
        default for the methods measured now.
    n_threads : int >= 1 or None, default=1
        Limit of the BLAS and OpenMP threads during each fit and predict
        (``threadpoolctl.threadpool_limits``); ``None`` leaves the
        libraries' defaults. These problems are small (at most 1257 x 64):
        one thread is as fast on an idle machine, and on a loaded one
        multi-threaded OpenBLAS can be 10 to 50 times slower.
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
    labels, seeds, methods = check_semi_supervised_config(labels, seeds, methods)
    if n_threads is not None and (
        isinstance(n_threads, bool)
        or not isinstance(n_threads, (int, np.integer))
        or n_threads < 1
    ):
        raise BenchmarkConfigError(f"n_threads must be an int >= 1 or None, got {n_threads!r}.")
    say = progress if progress is not None else (lambda line: None)

    skipped = {}
    runnable = []
    for m in methods:
        reason = m.missing()
        if reason is None:
            runnable.append(m)
        else:
            skipped[m.key] = reason
            say(f"skipping {m.key}: {reason}")

    records, errors, warned = [], {}, {}
    full_cache = {}  # (key, seed) -> (accuracy, seconds): 'all' fits do not depend on the budget
    total = len(labels) * len(seeds) * len(runnable)
    done = 0
    for n_labels in labels:
        for seed in seeds:
            splits = {}
            for m in runnable:
                done += 1
                if m.as_images not in splits:
                    splits[m.as_images] = digits_benchmark_split(
                        n_labels, random_state=seed, as_images=m.as_images
                    )
                X_tr, y_tr, X_te, y_te, y_full = splits[m.as_images]
                cache_key = (m.key, seed)
                if m.train_on == "all" and cache_key in full_cache:
                    accuracy, seconds = full_cache[cache_key]
                else:
                    if m.train_on == "labeled":
                        mask = y_tr != -1
                        X_fit, y_fit = X_tr[mask], y_tr[mask]
                    elif m.train_on == "partial":
                        X_fit, y_fit = X_tr, y_tr
                    else:
                        X_fit, y_fit = X_tr, y_full
                    try:
                        accuracy, seconds, messages = _fit_score(
                            m, seed, X_fit, y_fit, X_te, y_te, n_threads
                        )
                    except Exception as exc:  # noqa: BLE001 - reported, the run goes on
                        error = f"{type(exc).__name__}: {exc}"
                        errors.setdefault(m.key, f"labels={n_labels}, seed={seed}: {error}")
                        say(f"{m.key} failed (labels={n_labels}, seed={seed}): {error}")
                        accuracy, seconds, messages = float("nan"), float("nan"), set()
                    for message in messages:
                        counts = warned.setdefault(m.key, {})
                        counts[message] = counts.get(message, 0) + 1
                    if m.train_on == "all" and not np.isnan(accuracy):
                        full_cache[cache_key] = (accuracy, seconds)
                records.append(
                    dict(
                        method=m.key,
                        budget=n_labels,
                        seed=seed,
                        accuracy=accuracy,
                        fit_seconds=seconds,
                    )
                )
                width = len(str(total))
                say(
                    f"[{done:>{width}}/{total}] {m.key:<26} labels={n_labels:<4} seed={seed}  "
                    f"accuracy={accuracy:.3f}  fit={seconds:.2f} s"
                )

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
        versions=environment_versions(),
        options={
            "labels": " ".join(map(str, labels)),
            "threads": "library default" if n_threads is None else str(n_threads),
            "full": "yes" if full else "no",
        },
    )


# ---------------------------------------------------------------------------
# Command line: ``python -m sklabelfree.benchmarks semi-supervised``.

HELP = "the semi-supervised digits table (PROTOCOL.md), ours beside scikit-learn's"


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


def add_arguments(parser):
    """Add the options of ``semi-supervised`` to its argparse sub-parser.

    The options every benchmark shares (``--seeds``, ``--format``...) are
    added by ``sklabelfree.benchmarks.__main__``; these are
    ``--labels`` and ``--methods``.

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
    >>> parser.parse_args(["--labels", "20", "50", "--methods", "svc-labeled"])
    Namespace(labels=[20, 50], methods=['svc-labeled'])
    """
    keys = list(semi_supervised_methods())
    parser.add_argument(
        "--labels",
        nargs="+",
        type=_label_budget,
        default=list(DEFAULT_LABELS),
        metavar="N",
        help="label budgets, multiples of 10 (default: %(default)s)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=keys,
        default=None,
        metavar="METHOD",
        help=f"methods to run (default: all): {', '.join(keys)}",
    )


def run_from_args(args, progress=None):
    """Run the benchmark the parsed command line asks for.

    Parameters
    ----------
    args : argparse.Namespace
        With ``labels``, ``methods``, ``seeds``, ``full`` and ``threads``
        (``0``: the libraries' default number of threads).
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
        labels=args.labels,
        seeds=args.seeds,
        methods=args.methods,
        full=args.full,
        n_threads=args.threads or None,
        progress=progress,
    )
