"""Transfer learning benchmarks: ``python -m sklabelfree.benchmarks transfer``.

The run is a list of *sections*, each its own table, registered in
:data:`SECTIONS` (name -> function ``run(seeds, n_threads, progress)``
returning a :class:`TransferSection`). More sections (Net2Net, multi-task)
are added by writing such a function and one line in :data:`SECTIONS`.

**domain-shift.** Digits under a domain shift
(:func:`sklabelfree.transfer.make_shifted_digits`): for each seed, the
PROTOCOL.md split (``test_size=0.3``, stratified); the training part with
every label is the source; the test part, changed by
:func:`sklabelfree.transfer.shift_digits` with its defaults (half a pixel to
the right, Gaussian blur of 0.8 pixel, contrast 0.8), is the target,
unlabeled at fit time and scored on its true labels. Every method fits
``LogisticRegression(max_iter=1000)`` in the end; the table gives the mean
target accuracy over the seeds (0, 1, 2).
"""

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._table import (
    BenchmarkConfigError,
    _check_format,
    _fmt_score,
    _fmt_seconds,
    environment_versions,
    format_report,
    format_table,
    given,
    limit_threads,
    report_fields,
)

__all__ = ["TransferResult", "TransferSection", "run_domain_shift", "run_transfer"]

DEFAULT_SEEDS = (0, 1, 2)
MIN_GAIN = 0.05
"""The best adaptation must beat the source-only classifier by this much."""


def _lr():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def _source_only(seed):
    from ..transfer import SourceOnlyClassifier

    return SourceOnlyClassifier(_lr())


def _iw(method):
    def make(seed):
        from ..transfer import ImportanceWeightingClassifier

        return ImportanceWeightingClassifier(_lr(), method=method, random_state=seed)

    return make


def _coral(seed):
    from sklearn.pipeline import make_pipeline

    from ..transfer import CORAL, SourceOnlyClassifier

    return make_pipeline(CORAL(), SourceOnlyClassifier(_lr()))


def _tca(seed):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ..transfer import TCA, SourceOnlyClassifier

    return make_pipeline(TCA(n_components=30), StandardScaler(), SourceOnlyClassifier(_lr()))


DOMAIN_SHIFT_METHODS = {
    "source-only": (_source_only, "SourceOnlyClassifier(LogisticRegression()): the "
                    "source rows, no adaptation"),
    "iw-classifier": (_iw("classifier"), "ImportanceWeightingClassifier(method="
                      "'classifier'): weights from a domain classifier, "
                      "LogisticRegression(C=0.01)"),
    "iw-kmm": (_iw("kmm"), "ImportanceWeightingClassifier(method='kmm'): kernel mean "
               "matching, median-heuristic Gaussian kernel"),
    "iw-kliep": (_iw("kliep"), "ImportanceWeightingClassifier(method='kliep'): KLIEP, "
                 "kernel width by likelihood cross-validation on the target rows"),
    "coral": (_coral, "make_pipeline(CORAL(), SourceOnlyClassifier(LogisticRegression()))"),
    "tca": (_tca, "make_pipeline(TCA(n_components=30), StandardScaler(), "
            "SourceOnlyClassifier(LogisticRegression())); 30 components chosen on another "
            "shift (diagonal half-pixel shift, 0.1 brightness offset), not on this one"),
    "target-labeled": (None, "ceiling: LogisticRegression trained on the target rows' true "
                       "labels, 5-fold cross-validated accuracy on the target rows"),
}
"""Row name -> (factory ``make(seed)`` or ``None`` for the ceiling, description)."""


@dataclass
class TransferSection:
    """One table of the ``transfer`` report.

    Parameters
    ----------
    name : str
        The section's key in :data:`SECTIONS`.
    title : str
        One line printed above the table.
    header : list of str
    rows : list of list of str
    legend : list of (str, str), default=[]
    notes : list of str, default=[]
    scores : dict, default={}
        Raw numbers (e.g. row -> list of accuracies per seed), for tests.
    errors : dict of str -> str, default={}

    Examples
    --------
    >>> from sklabelfree.benchmarks._transfer import TransferSection
    >>> s = TransferSection("x", "A title", ["method", "acc"], [["a", "0.500"]])
    >>> print(s.table())
    method    acc
    ------  -----
    a       0.500
    """

    name: str
    title: str
    header: list
    rows: list
    legend: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    scores: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)

    def table(self, fmt="text"):
        """The section's table, formatted (see :func:`format_table`)."""
        return format_table(self.header, self.rows, fmt=fmt)


@dataclass
class TransferResult:
    """The sections of one ``transfer`` run, and their report.

    Parameters
    ----------
    sections : list of TransferSection
    seeds : list of int
    wall_seconds : float, default=nan
    versions : dict of str -> str, default={}
    options : dict, default={}

    Examples
    --------
    >>> from sklabelfree.benchmarks._transfer import TransferResult, TransferSection
    >>> s = TransferSection("x", "A title", ["method", "acc"], [["a", "0.500"]])
    >>> print(TransferResult([s], seeds=[0], wall_seconds=1.0).report())
    Transfer learning
    <BLANKLINE>
    seeds: 0
    total wall time: 1.0 s
    <BLANKLINE>
    A title
    <BLANKLINE>
    method    acc
    ------  -----
    a       0.500
    """

    sections: list
    seeds: list
    wall_seconds: float = float("nan")
    versions: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)

    @property
    def errors(self):
        """Every section's failed methods, ``'section/method' -> error``."""
        return {f"{s.name}/{m}": e for s in self.sections for m, e in s.errors.items()}

    def report(self, fmt="text", std=False, command=None):
        """The report: what was run, then each section's table, legend and notes.

        Parameters
        ----------
        fmt : {'text', 'rst', 'markdown'}, default='text'
        std : bool, default=False
            Unused here: the tables show the standard deviation when the run
            was asked for it (``run_transfer(std=True)``).
        command : str or None, default=None

        Returns
        -------
        report : str
        """
        _check_format(fmt)
        fields = report_fields(fmt, command, self.seeds, extra=self.options.items(),
                               versions=self.versions, wall_seconds=self.wall_seconds)
        parts = []
        for s in self.sections:
            title = f"**{s.title}**" if fmt == "markdown" else s.title
            parts.append(format_report(title, [], s.table(fmt), s.legend, s.notes,
                                       fmt=fmt).lstrip("\n"))
        head = format_report("Transfer learning", fields, "", fmt=fmt).rstrip()
        return head + "\n\n" + "\n\n".join(p.replace("\n\n\n", "\n\n") for p in parts)


# ---------------------------------------------------------------------------
# Section: domain shift on digits.


def _ceiling(X_target, y_target, seed):
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    return float(cross_val_score(_lr(), X_target, y_target, cv=cv).mean())


def run_domain_shift(seeds=DEFAULT_SEEDS, n_threads=1, progress=None, methods=None,
                     std=False):
    """Measure the domain-shift table: every method's target accuracy on shifted digits.

    Parameters
    ----------
    seeds : sequence of int, default=(0, 1, 2)
        Seeds of the split (and of the methods' own randomness).
    n_threads : int or None, default=1
        BLAS / OpenMP threads; ``None``: the libraries' defaults.
    progress : callable or None, default=None
        Called with one line after each fit.
    methods : sequence of str or None, default=None
        Rows of :data:`DOMAIN_SHIFT_METHODS`; ``None``: all.
    std : bool, default=False
        Show the standard deviation over the seeds.

    Returns
    -------
    section : TransferSection

    Examples
    --------
    >>> from sklabelfree.benchmarks._transfer import run_domain_shift
    >>> s = run_domain_shift(seeds=[0], methods=["source-only", "coral"])
    >>> [row[0] for row in s.rows]
    ['source-only', 'coral']
    >>> s.scores["coral"][0] > s.scores["source-only"][0] + 0.1
    True
    """
    from ..transfer import make_shifted_digits

    keys = list(DOMAIN_SHIFT_METHODS) if methods is None else list(methods)
    for k in keys:
        if k not in DOMAIN_SHIFT_METHODS:
            raise BenchmarkConfigError(
                f"unknown method {k!r}; choose among {', '.join(DOMAIN_SHIFT_METHODS)}.")
    say = progress if progress is not None else (lambda line: None)
    scores = {k: [] for k in keys}
    seconds = {k: [] for k in keys}
    warned, errors = {}, {}
    with limit_threads(n_threads):
        for seed in seeds:
            X, y, X_target, y_target = make_shifted_digits(random_state=seed)
            for key in keys:
                make = DOMAIN_SHIFT_METHODS[key][0]
                start = time.perf_counter()
                with warnings.catch_warnings(record=True) as record:
                    warnings.simplefilter("always")
                    try:
                        if make is None:
                            acc = _ceiling(X_target, y_target, seed)
                        else:
                            model = make(seed).fit(X, y)
                            acc = float(np.mean(model.predict(X_target) == y_target))
                    except Exception as exc:  # noqa: BLE001 - reported in the table
                        errors.setdefault(key, f"seed={seed}: {type(exc).__name__}: {exc}")
                        acc = float("nan")
                for w in record:
                    message = f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
                    counts = warned.setdefault(key, {})
                    counts[message] = counts.get(message, 0) + 1
                seconds[key].append(time.perf_counter() - start)
                scores[key].append(acc)
                say(f"domain-shift {key:<15} seed={seed}  target accuracy {acc:.3f}  "
                    f"{seconds[key][-1]:.1f} s")

    def mean(key):
        v = np.array(scores[key], dtype=float)
        return float(v.mean()) if not np.isnan(v).any() else float("nan")

    base = mean("source-only") if "source-only" in scores else float("nan")
    rows = []
    for key in keys:
        v = np.array(scores[key], dtype=float)
        cell = "error" if key in errors else _fmt_score(v.mean(), v.std() if std else None)
        gain = "" if key == "source-only" or np.isnan(base) else f"{mean(key) - base:+.3f}"
        rows.append([key, cell, gain, _fmt_seconds(float(np.mean(seconds[key])))])
    notes = []
    if not np.isnan(base):
        iw = [k for k in keys if k.startswith("iw-")]
        for group, members in (("importance weighting", iw), ("CORAL", ["coral"])):
            members = [m for m in members if m in scores]
            if members:
                beat = [m for m in members if mean(m) > base]
                verdict = "met" if len(beat) == len(members) else "not met"
                notes.append(f"target: {group} ({', '.join(members)}) beats source-only "
                             f"({base:.3f}): {len(beat)} of {len(members)}, {verdict}")
        adapted = [k for k in keys if k not in ("source-only", "target-labeled")]
        if adapted:
            best = max(adapted, key=lambda k: -np.inf if np.isnan(mean(k)) else mean(k))
            gain = mean(best) - base
            verdict = "met" if round(gain, 3) >= MIN_GAIN else "not met"
            notes.append(f"target: the best adaptation beats source-only by >= {MIN_GAIN}: "
                         f"{best} by {gain:+.3f}, {verdict}")
    for key, error in errors.items():
        notes.append(f"{key} failed: {error}")
    for key, found in warned.items():
        for message, count in found.items():
            notes.append(f"{key} warned in {count} fit(s): {message}")
    title = ("Domain shift on digits: source = the training part (1257 rows, every label); "
             "target = the test part (540 rows) shifted half a pixel right, blurred "
             "(sigma 0.8 pixel) and at 80 % contrast, unlabeled at fit time; accuracy on the "
             "target's true labels, mean over the seeds")
    return TransferSection(
        name="domain-shift",
        title=title,
        header=["method", "target accuracy", "vs source-only", "fit s"],
        rows=rows,
        legend=[(k, DOMAIN_SHIFT_METHODS[k][1]) for k in keys],
        notes=notes,
        scores=scores,
        errors=errors,
    )


def run_net2net_section(seeds=DEFAULT_SEEDS, n_threads=1, progress=None, std=False,
                        epochs=20, teacher_epochs=10):
    """Measure the Net2Net table: a grown ConvNet against one trained from scratch.

    See :mod:`sklabelfree.benchmarks._transfer_net2net`.

    Parameters
    ----------
    seeds : sequence of int, default=(0, 1, 2)
    n_threads : int or None, default=1
        torch and BLAS threads; ``None``: the libraries' defaults.
    progress : callable or None, default=None
    std : bool, default=False
        Unused (the curves are means over the seeds).
    epochs, teacher_epochs : int
        Epochs of the full-size network (and after growing), and of the
        narrow network before it is widened.

    Returns
    -------
    section : TransferSection

    Examples
    --------
    >>> from sklabelfree.benchmarks._transfer import run_net2net_section
    >>> s = run_net2net_section(seeds=[0], epochs=1, teacher_epochs=1)  # doctest: +SKIP
    """
    from ._transfer_net2net import NET2NET_NARROW, NET2NET_WIDTH, net2net_table, run_net2net

    with limit_threads(n_threads, torch=True):
        result = run_net2net(list(seeds), epochs=epochs, teacher_epochs=teacher_epochs,
                             progress=progress)
    header, rows, notes = net2net_table(result)
    legend = [
        (f"scratch (width {NET2NET_WIDTH})",
         f"Net2NetClassifier(schedule=(), module__width={NET2NET_WIDTH}) trained "
         f"{epochs} epochs on every training label (X as (1, 8, 8) images)"),
        (f"grown ({NET2NET_NARROW} -> {NET2NET_WIDTH})",
         f"Net2NetClassifier(module__width={NET2NET_NARROW}, schedule=(({teacher_epochs}, "
         f"'widen'),), widen_factor={NET2NET_WIDTH // NET2NET_NARROW}): the narrow net "
         f"trained {teacher_epochs} epochs, widened (function preserving), then {epochs} "
         "more; its columns count the epochs after widening"),
        ("both", "SGD(lr=0.05, momentum=0.9), batch 64, constant rate, predictions of the "
         "trained weights (ema_decay=None); test accuracy after each epoch, mean over "
         "the seeds"),
    ]
    return TransferSection(
        "net2net",
        "Net2Net on digits: test accuracy of a network grown from a narrow one and of one "
        "trained at full size from scratch, after each epoch",
        header, rows, legend=legend, notes=notes,
        scores={"scratch": result["scratch"].tolist(), "grown": result["grown"].tolist()})


# ---------------------------------------------------------------------------
# Section: multi-task learning on digits.

DIGIT_SHAPE_GROUPS = {"closed loop": (0, 6, 8, 9), "straight strokes": (1, 4, 7),
                      "open curves": (2, 3, 5)}
"""Task B of the multi-task section: a coarse grouping of the digits by their shape."""

MULTITASK_WEIGHTINGS = ("equal", "uncertainty", "gradnorm", "pcgrad")


def run_multitask_section(seeds=DEFAULT_SEEDS, n_threads=1, progress=None, std=False,
                          weightings=MULTITASK_WEIGHTINGS, max_epochs=30):
    """Measure the multi-task table: a shared trunk against the single-task net on task A.

    For each seed, the PROTOCOL.md split of digits
    (:func:`sklabelfree.datasets.digits_benchmark_split` with 20 labels):
    task A is the digit, labeled on the protocol's 20 training rows (2 per
    class); task B is the digit's shape group (:data:`DIGIT_SHAPE_GROUPS`:
    closed loop 0 6 8 9, straight strokes 1 4 7, open curves 2 3 5),
    labeled on every training row. Telling the groups apart needs the
    strokes that tell the digits apart, so the trunk B trains is useful to
    A. Each :class:`~sklabelfree.transfer.MultiTaskNetClassifier` (default
    MLP trunk and parameters, one row per ``weighting``) is fitted on both
    tasks; the single-task net is the same estimator fitted on task A alone
    (a 1-D ``y``), given as many steps as the multi-task nets
    (``steps_per_epoch`` of a pass over the 1257 rows). The table gives the
    task-A test accuracy (540 rows), mean over the seeds, and fit times.

    Parameters
    ----------
    seeds : sequence of int, default=(0, 1, 2)
    n_threads : int or None, default=1
        torch and BLAS threads; ``None``: the libraries' defaults.
    progress : callable or None, default=None
    std : bool, default=False
        Show the standard deviation over the seeds.
    weightings : sequence of str, default=MULTITASK_WEIGHTINGS
    max_epochs : int, default=30
        Epochs of every net (the estimator's default).

    Returns
    -------
    section : TransferSection

    Examples
    --------
    >>> from sklabelfree.benchmarks._transfer import run_multitask_section
    >>> s = run_multitask_section(seeds=[0], weightings=["equal"], max_epochs=2)
    >>> [row[0] for row in s.rows]
    ['single-task', 'equal']
    """
    from ..datasets import digits_benchmark_split
    from ..transfer import MultiTaskNetClassifier

    say = progress if progress is not None else (lambda line: None)
    lut = np.zeros(10, dtype=np.int64)
    for g, digits in enumerate(DIGIT_SHAPE_GROUPS.values()):
        lut[list(digits)] = g
    keys = ["single-task", *weightings]
    scores = {k: [] for k in keys}
    scores_b = {k: [] for k in weightings}
    seconds = {k: [] for k in keys}
    errors = {}
    batch_size = MultiTaskNetClassifier().batch_size
    with limit_threads(n_threads, torch=True):
        for seed in seeds:
            X, y_a, X_test, y_test, y_full = digits_benchmark_split(20, random_state=seed)
            Y = np.column_stack([y_a, lut[y_full]])
            steps = int(np.ceil(X.shape[0] / batch_size))
            for key in keys:
                start = time.perf_counter()
                acc_b = float("nan")
                try:
                    if key == "single-task":
                        net = MultiTaskNetClassifier(
                            max_epochs=max_epochs, steps_per_epoch=steps,
                            random_state=seed).fit(X, y_a)
                        acc = float(np.mean(net.predict(X_test) == y_test))
                    else:
                        net = MultiTaskNetClassifier(
                            weighting=key, max_epochs=max_epochs,
                            random_state=seed).fit(X, Y)
                        pred = net.predict(X_test)
                        acc = float(np.mean(pred[:, 0] == y_test))
                        acc_b = float(np.mean(pred[:, 1] == lut[y_test]))
                except Exception as exc:  # noqa: BLE001 - reported in the table
                    errors.setdefault(key, f"seed={seed}: {type(exc).__name__}: {exc}")
                    acc = float("nan")
                seconds[key].append(time.perf_counter() - start)
                scores[key].append(acc)
                if key in scores_b:
                    scores_b[key].append(acc_b)
                say(f"multi-task {key:<12} seed={seed}  task-A accuracy {acc:.3f}  "
                    f"{seconds[key][-1]:.1f} s")

    def mean(values):
        v = np.array(values, dtype=float)
        return float(v.mean()) if v.size and not np.isnan(v).any() else float("nan")

    base = mean(scores["single-task"])
    rows = []
    for key in keys:
        v = np.array(scores[key], dtype=float)
        cell = "error" if key in errors else _fmt_score(v.mean(), v.std() if std else None)
        gain = "" if key == "single-task" or np.isnan(base) else f"{mean(v) - base:+.3f}"
        acc_b = "" if key == "single-task" else _fmt_score(mean(scores_b[key]))
        rows.append([key, cell, gain, acc_b, _fmt_seconds(float(np.mean(seconds[key])))])
    notes = []
    if not np.isnan(base) and weightings:
        beat = [k for k in weightings if mean(scores[k]) > base]
        verdict = "met" if len(beat) == len(weightings) else "not met"
        notes.append(f"target: the shared trunk beats the single-task net ({base:.3f}) on "
                     f"task A: {len(beat)} of {len(weightings)} weightings, {verdict}")
    for key, error in errors.items():
        notes.append(f"{key} failed: {error}")
    groups = "; ".join(f"{name}: {' '.join(map(str, d))}"
                       for name, d in DIGIT_SHAPE_GROUPS.items())
    legend = [
        ("single-task", f"MultiTaskNetClassifier(max_epochs={max_epochs}, steps_per_epoch="
         f"{int(np.ceil(1257 / batch_size))}) fitted on task A only (its 20 labels), as "
         "many steps as the multi-task nets"),
        ("equal ... pcgrad", f"MultiTaskNetClassifier(weighting=..., max_epochs={max_epochs}) "
         "fitted on both tasks; defaults otherwise (MLP trunk 256-256, Adam lr 1e-3, "
         "batch 64)"),
        ("task B", f"the digit's shape group, every training label ({groups})"),
    ]
    return TransferSection(
        "multi-task",
        "Multi-task on digits: task A = the digit with 20 labels (2 per class), task B = "
        "the digit's shape group with every training label; task-A test accuracy of the "
        "shared trunk and of the single-task net, mean over the seeds",
        ["method", "task-A accuracy", "vs single-task", "task-B accuracy", "fit s"],
        rows, legend=legend, notes=notes,
        scores={**scores, **{f"{k} (task B)": v for k, v in scores_b.items()}},
        errors=errors)


SECTIONS = {
    "domain-shift": run_domain_shift,
    "net2net": run_net2net_section,
    "multi-task": run_multitask_section,
}
"""Section name -> ``run(seeds, n_threads, progress, std=...)`` returning a TransferSection."""


def run_transfer(sections=None, seeds=None, *, n_threads=1, std=False, progress=None):
    """Run the sections of the ``transfer`` benchmark.

    Parameters
    ----------
    sections : sequence of str or None, default=None
        Keys of :data:`SECTIONS`; ``None``: all.
    seeds : sequence of int or None, default=None
        ``None``: 0, 1 and 2.
    n_threads : int or None, default=1
    std : bool, default=False
    progress : callable or None, default=None

    Returns
    -------
    result : TransferResult
    """
    start = time.perf_counter()
    names = list(SECTIONS) if sections is None else list(dict.fromkeys(sections))
    for name in names:
        if name not in SECTIONS:
            raise BenchmarkConfigError(
                f"unknown section {name!r}; choose among {', '.join(SECTIONS)}.")
    seeds = list(DEFAULT_SEEDS if seeds is None else seeds)
    parts = [SECTIONS[name](seeds=seeds, n_threads=n_threads, progress=progress, std=std)
             for name in names]
    return TransferResult(
        sections=parts,
        seeds=seeds,
        wall_seconds=time.perf_counter() - start,
        versions=environment_versions(),
        options={"sections": ", ".join(names),
                 "threads": "library default" if n_threads is None else str(n_threads)},
    )


# ---------------------------------------------------------------------------
# Command line.

HELP = ("transfer learning: importance weighting, CORAL and TCA on digits under a domain "
        "shift, beside the source-only classifier and a target-labeled ceiling")


def add_arguments(parser):
    """Add the options of ``transfer`` (``--sections``) to its sub-parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser

    Examples
    --------
    >>> import argparse
    >>> from sklabelfree.benchmarks._transfer import add_arguments
    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> parser.parse_args(["--sections", "domain-shift"]).sections
    ['domain-shift']
    """
    parser.add_argument(
        "--sections", nargs="+", choices=list(SECTIONS), default=None, metavar="SECTION",
        help=f"sections to run (default: all): {', '.join(SECTIONS)}",
    )


def run_from_args(args, progress=None):
    """Run the ``transfer`` benchmark the parsed command line asks for.

    Parameters
    ----------
    args : argparse.Namespace
        With ``sections``, ``seeds``, ``threads`` and ``std``.
    progress : callable or None, default=None

    Returns
    -------
    result : TransferResult
    """
    return run_transfer(
        sections=args.sections,
        seeds=given(args.seeds),
        n_threads=args.threads or None,
        std=getattr(args, "std", False),
        progress=progress,
    )
