"""Training speed: an epoch of sklabelfree's nets beside a hand-written torch loop.

The same module (the default ConvNet for 8x8 digits, built with the same
seed), the same rows, the same batch size, optimizer (Adam) and number of
steps; only the training loop differs:

- ``torch-loop``: the loop one writes by hand (a random permutation of the
  rows, tensor slices, forward, cross-entropy, backward, step);
- ``supervised-net``: :class:`~sklabelfree.semi_supervised.SupervisedNetClassifier`
  with ``augment=None``, no weight averaging and a constant rate, on fully
  labeled rows (skorch's loop with
  sklabelfree's tensor-slicing iterator);
- ``skorch-dataloader``: a plain ``skorch.NeuralNetClassifier``, whose
  default ``DataLoader`` gets each row with ``__getitem__`` and collates
  them, for reference.

The loops take turns, one epoch each, so that a change of load on the
machine hits them alike; the first epoch of each seed warms up and is not
timed. Each epoch is timed in wall-clock seconds and in CPU seconds of this
process (``time.process_time``): on a machine that other jobs load, the CPU
time still measures what the loop costs. A skorch epoch is one
``partial_fit`` call (its fixed costs, a few milliseconds, included).
"""

import argparse
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._table import (
    BenchmarkConfigError,
    _check_format,
    check_config_int,
    environment_versions,
    format_report,
    format_table,
    given,
    limit_threads,
    report_fields,
)

__all__ = ["SpeedResult", "measure_epoch_times", "run_speed"]

LOOPS = ("torch-loop", "supervised-net", "skorch-dataloader")
"""The training loops compared, in the order of the table's rows."""

DESCRIPTIONS = {
    "torch-loop": "a hand-written torch loop: permute the rows, slice tensors, "
    "forward, cross-entropy, backward, Adam step",
    "supervised-net": "SupervisedNetClassifier(augment=None, ema_decay=None, "
    "lr_schedule='constant', optimizer=Adam) on "
    "fully labeled rows: skorch's loop with sklabelfree's tensor-slicing iterator",
    "skorch-dataloader": "skorch NeuralNetClassifier(optimizer=Adam) with its default "
    "DataLoader (per-row __getitem__ and collation), for reference",
}

TARGET_RATIO = 1.15
"""The most an epoch of sklabelfree's nets may cost, relative to the hand loop."""

DEFAULT_SEEDS = (0,)
DEFAULT_EPOCHS = 5
FULL_EPOCHS = 20
DEFAULT_BATCH_SIZE = 32
LR = 3e-3

TITLE = (
    "Training speed on digits images (1, 8, 8): median time of an epoch, same ConvNet, "
    "data, batch size, Adam and steps"
)


def _training_rows():
    """The 1257 training images of the digits split (seed 0) and all their labels."""
    from ..datasets import digits_benchmark_split

    X, _, _, _, y_full = digits_benchmark_split(10, random_state=0, as_images=True)
    return np.ascontiguousarray(X, dtype=np.float32), y_full.astype(np.int64)


def _module(seed, input_shape, n_classes):
    """The default module for ``input_shape``, its weights drawn with ``seed``."""
    import torch

    from ..nn import default_module_for_shape

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return default_module_for_shape(input_shape, n_classes)


class _TorchLoop:
    """The hand-written loop: one call of :meth:`epoch` is one pass over the rows."""

    def __init__(self, module, X, y, batch_size, seed):
        import torch

        self.module = module
        self.X = torch.as_tensor(X)
        self.y = torch.as_tensor(y)
        self.batch_size = batch_size
        self.optimizer = torch.optim.Adam(module.parameters(), lr=LR)
        self.generator = torch.Generator().manual_seed(seed)

    def epoch(self):
        import torch
        from torch.nn import functional as F

        start, cpu = time.perf_counter(), time.process_time()
        self.module.train()
        n, bs = self.X.shape[0], self.batch_size
        order = torch.randperm(n, generator=self.generator)
        total = 0.0
        for b in range(n // bs):
            idx = order[b * bs : (b + 1) * bs]
            self.optimizer.zero_grad()
            loss = F.cross_entropy(self.module(self.X[idx]), self.y[idx])
            loss.backward()
            self.optimizer.step()
            total += loss.item()
        return time.perf_counter() - start, time.process_time() - cpu


class _SkorchLoop:
    """A skorch net trained one epoch per ``partial_fit`` call."""

    def __init__(self, net, X, y):
        self.net, self.X, self.y = net, X, y

    def epoch(self):
        from ..utils.validation import AllLabeledWarning

        with warnings.catch_warnings():
            # Every row is labeled on purpose: the loops see the same rows.
            warnings.simplefilter("ignore", AllLabeledWarning)
            start, cpu = time.perf_counter(), time.process_time()
            self.net.partial_fit(self.X, self.y)
            return time.perf_counter() - start, time.process_time() - cpu


def _make_loop(name, module, X, y, batch_size, seed):
    import torch

    if name == "torch-loop":
        return _TorchLoop(module, X, y, batch_size, seed)
    if name == "supervised-net":
        from ..semi_supervised import SupervisedNetClassifier

        net = SupervisedNetClassifier(
            module, optimizer=torch.optim.Adam, lr=LR, max_epochs=1,
            batch_size=batch_size, steps_per_epoch=X.shape[0] // batch_size,
            augment=None, ema_decay=None, lr_schedule="constant", random_state=seed,
        )
        return _SkorchLoop(net, X, y)
    if name == "skorch-dataloader":
        from skorch import NeuralNetClassifier

        net = NeuralNetClassifier(
            module, criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.Adam,
            lr=LR, max_epochs=1, batch_size=batch_size, train_split=None,
            iterator_train__shuffle=True, iterator_train__drop_last=True, verbose=0,
        )
        return _SkorchLoop(net, X, y)
    raise BenchmarkConfigError(f"unknown loop {name!r}; choose from {', '.join(LOOPS)}.")


def measure_epoch_times(loops=LOOPS, *, seeds=(0,), epochs=DEFAULT_EPOCHS,
                        batch_size=DEFAULT_BATCH_SIZE, steps=None, n_threads=1,
                        progress=None):
    """Time training epochs of the same module under different training loops.

    For each seed, every loop gets its own copy of the default ConvNet for
    ``(1, 8, 8)`` images with weights drawn from that seed, and trains it
    on the same digits training rows with Adam (``lr=3e-3``), ``steps``
    batches of ``batch_size`` rows per epoch. The loops take turns, one
    epoch each, for ``epochs + 1`` rounds; the first round warms up and is
    not timed.

    Parameters
    ----------
    loops : sequence of str, default=('torch-loop', 'supervised-net', 'skorch-dataloader')
        Among :data:`LOOPS`.
    seeds : sequence of int, default=(0,)
        One run per seed (the module's initial weights and the shuffling).
    epochs : int >= 1, default=5
        Timed epochs per seed and loop.
    batch_size : int >= 1, default=32
    steps : int >= 1 or None, default=None
        Steps per epoch; an epoch is one pass over the first
        ``steps * batch_size`` training rows. ``None``: as many full
        batches as the 1257 training rows hold.
    n_threads : int >= 1 or None, default=1
        torch threads (and BLAS / OpenMP threads) while timing; restored
        afterwards. ``None`` keeps the current settings.
    progress : callable or None, default=None
        Called with one line of text after each seed.

    Returns
    -------
    times : dict of str -> list of float
        Per loop, the timed epochs' wall-clock seconds (``len(seeds) *
        epochs`` each).
    cpu_times : dict of str -> list of float
        The same epochs' CPU seconds of this process.
    steps : int
        The steps per epoch used.

    Examples
    --------
    >>> from sklabelfree.benchmarks._speed import measure_epoch_times
    >>> times, cpu_times, steps = measure_epoch_times(
    ...     ["torch-loop", "supervised-net"], epochs=2, steps=3)
    >>> steps, {loop: len(t) for loop, t in cpu_times.items()}
    (3, {'torch-loop': 2, 'supervised-net': 2})
    """
    loops = list(dict.fromkeys(loops))
    for name in loops:
        if name not in LOOPS:
            raise BenchmarkConfigError(
                f"unknown loop {name!r}; choose from {', '.join(LOOPS)}.")
    if not loops:
        raise BenchmarkConfigError("give at least one loop.")
    seeds = list(dict.fromkeys(seeds))
    if not seeds:
        raise BenchmarkConfigError("give at least one seed.")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s < 2**32:
            raise BenchmarkConfigError(f"each seed must be an int in [0, 2**32), got {s!r}.")
    epochs = check_config_int("epochs", epochs, 1)
    batch_size = check_config_int("batch_size", batch_size, 1)
    X, y = _training_rows()
    largest = X.shape[0] // batch_size
    if largest < 1:
        raise BenchmarkConfigError(
            f"batch_size must be at most {X.shape[0]} (the training rows), got {batch_size}.")
    steps = largest if steps is None else check_config_int("steps", steps, 1)
    if steps > largest:
        raise BenchmarkConfigError(
            f"at most {largest} steps of {batch_size} rows per epoch: the training part "
            f"has {X.shape[0]} rows; got {steps}.")
    if n_threads is not None:
        n_threads = check_config_int("n_threads", n_threads, 1)
    X, y = X[: steps * batch_size], y[: steps * batch_size]
    # Few rows may miss a class: number the classes present 0, 1, ...
    classes, y = np.unique(y, return_inverse=True)
    y = y.astype(np.int64)
    n_classes = len(classes)

    say = progress if progress is not None else (lambda line: None)
    times = {name: [] for name in loops}
    cpu_times = {name: [] for name in loops}
    with limit_threads(n_threads, torch=True):
        for seed in seeds:
            runs = {
                name: _make_loop(name, _module(int(seed), X.shape[1:], n_classes),
                                 X, y, batch_size, int(seed))
                for name in loops
            }
            for round_ in range(epochs + 1):
                for name, loop in runs.items():
                    wall, cpu = loop.epoch()
                    if round_:
                        times[name].append(wall)
                        cpu_times[name].append(cpu)
            say(f"seed={seed}  CPU ms per epoch: " + "  ".join(
                f"{name}={1000 * np.median(cpu_times[name][-epochs:]):.1f}"
                for name in loops))
    return times, cpu_times, steps


def epoch_ratio(epochs=3, steps=None, n_threads=1):
    """The cost of a ``SupervisedNetClassifier`` epoch over a hand-written loop's.

    A quick measurement (seed 0, ``epochs`` timed epochs of each, CPU time)
    for the note at the end of the semi-supervised report.

    Parameters
    ----------
    epochs : int >= 1, default=3
    steps : int >= 1 or None, default=None
        Steps of 32 rows per epoch; ``None``: every full batch.
    n_threads : int >= 1 or None, default=1

    Returns
    -------
    ratio : float
        Median CPU time of the net's epochs over the hand loop's.
    torch_loop_seconds : float
        The hand loop's median epoch, CPU seconds.
    net_seconds : float
        ``SupervisedNetClassifier``'s median epoch, CPU seconds.

    Examples
    --------
    >>> from sklabelfree.benchmarks._speed import epoch_ratio
    >>> ratio, loop_s, net_s = epoch_ratio(epochs=1, steps=2)
    >>> ratio > 0
    True
    """
    _, cpu_times, _ = measure_epoch_times(["torch-loop", "supervised-net"], epochs=epochs,
                                          steps=steps, n_threads=n_threads)
    loop_s = float(np.median(cpu_times["torch-loop"]))
    net_s = float(np.median(cpu_times["supervised-net"]))
    return net_s / loop_s, loop_s, net_s


def ratio_note(ratio, loop_seconds, epochs, steps=None):
    """The one line on training speed printed at the end of a report.

    Parameters
    ----------
    ratio, loop_seconds : float
        As returned by :func:`epoch_ratio`.
    epochs : int
        The number of timed epochs.
    steps : int or None, default=None
        Their steps, when not full epochs.

    Returns
    -------
    note : str

    Examples
    --------
    >>> from sklabelfree.benchmarks._speed import ratio_note
    >>> print(ratio_note(1.04, 0.9, 3))  # doctest: +ELLIPSIS
    training loop speed: a SupervisedNetClassifier epoch took 1.04x the CPU time of ...
    """
    verdict = "within" if ratio <= TARGET_RATIO else "above"
    of_steps = "" if steps is None else f" of {steps} steps"
    return (
        f"training loop speed: a SupervisedNetClassifier epoch took {ratio:.2f}x the CPU "
        f"time of a hand-written torch loop ({1000 * loop_seconds:.0f} ms; same ConvNet, "
        f"data, batch size and Adam; median of {epochs} epochs{of_steps}), {verdict} the "
        f"{TARGET_RATIO:.2f}x target; the full comparison: python -m "
        "sklabelfree.benchmarks speed"
    )


@dataclass
class SpeedResult:
    """Epoch times of the training loops compared by ``speed``, and their report.

    Parameters
    ----------
    loops : list of str
        The loops, in the order of the table's rows.
    times : dict of str -> list of float
        Per loop, the wall-clock seconds of each timed epoch.
    cpu_times : dict of str -> list of float
        Per loop, the CPU seconds of this process over the same epochs.
    seeds : list of int
    epochs : int
        Timed epochs per seed.
    batch_size : int
    steps : int
        Steps per epoch.
    n_threads : int or None, default=1
    wall_seconds : float, default=nan
    versions : dict of str -> str, default={}
    errors : dict of str -> str, default={}
        Always empty: a loop that raises stops the run.

    Examples
    --------
    >>> from sklabelfree.benchmarks import SpeedResult
    >>> r = SpeedResult(["torch-loop", "supervised-net"],
    ...                 {"torch-loop": [0.10, 0.14, 0.11], "supervised-net": [0.12, 0.11, 0.13]},
    ...                 {"torch-loop": [0.10, 0.12, 0.11], "supervised-net": [0.12, 0.11, 0.12]},
    ...                 seeds=[0], epochs=3, batch_size=32, steps=40)
    >>> round(r.ratio("supervised-net"), 3), round(r.ratio("supervised-net", cpu=False), 3)
    (1.091, 1.091)
    >>> print(r.to_table())
    loop            epoch ms  ratio  CPU ms  CPU ratio  CPU ms / step
    --------------  --------  -----  ------  ---------  -------------
    torch-loop         110.0   1.00   110.0       1.00           2.75
    supervised-net     120.0   1.09   120.0       1.09           3.00
    """

    loops: list
    times: dict
    cpu_times: dict
    seeds: list
    epochs: int
    batch_size: int
    steps: int
    n_threads: object = 1
    wall_seconds: float = float("nan")
    versions: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)

    def median(self, loop, cpu=True):
        """Median epoch seconds of ``loop``, CPU (default) or wall-clock.

        Parameters
        ----------
        loop : str
        cpu : bool, default=True

        Returns
        -------
        seconds : float
        """
        return float(np.median((self.cpu_times if cpu else self.times)[loop]))

    def ratio(self, loop, cpu=True):
        """Median epoch of ``loop`` over the hand loop's (``nan`` without it).

        Parameters
        ----------
        loop : str
        cpu : bool, default=True
            CPU time (default) or wall-clock time.

        Returns
        -------
        ratio : float
        """
        if "torch-loop" not in self.times:
            return float("nan")
        return self.median(loop, cpu) / self.median("torch-loop", cpu)

    def to_table(self, fmt="text", std=False):
        """Rows are loops: median epoch times and their ratios to the hand loop.

        Columns: the median wall-clock epoch in ms and its ratio to the
        hand loop's, the median CPU time of an epoch and its ratio, and the
        CPU time per step.

        Parameters
        ----------
        fmt : {'text', 'rst', 'markdown'}, default='text'
        std : bool, default=False
            Show the standard deviation of the epoch times.

        Returns
        -------
        table : str
        """
        _check_format(fmt)

        def ms(loop, cpu):
            values = (self.cpu_times if cpu else self.times)[loop]
            cell = f"{1000 * self.median(loop, cpu):.1f}"
            if std:
                cell += f" ± {1000 * float(np.std(values)):.1f}"
            return cell

        def ratio(loop, cpu):
            value = self.ratio(loop, cpu)
            return "-" if math.isnan(value) else f"{value:.2f}"

        header = ["loop", "epoch ms", "ratio", "CPU ms", "CPU ratio", "CPU ms / step"]
        rows = [
            [loop, ms(loop, False), ratio(loop, False), ms(loop, True), ratio(loop, True),
             f"{1000 * self.median(loop) / self.steps:.2f}"]
            for loop in self.loops
        ]
        return format_table(header, rows, fmt=fmt)

    def report(self, fmt="text", std=False, command=None):
        """The report: what was run, the table, the loops and notes.

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
        fields = report_fields(fmt, command, self.seeds, extra=[
            ("epochs timed", f"{self.epochs} per seed and loop, after one warm-up epoch"),
            ("steps", f"{self.steps} per epoch of {self.batch_size} rows "
                      f"({self.steps * self.batch_size} rows)"),
            ("threads", "library default" if self.n_threads is None else self.n_threads),
        ], versions=self.versions, wall_seconds=self.wall_seconds)
        legend = [(loop, DESCRIPTIONS[loop]) for loop in self.loops]
        notes = [
            "epoch ms, CPU ms: medians over every timed epoch of every seed (CPU: "
            "time.process_time of this process, which other jobs on the machine do not "
            "inflate); ratios: over the hand-written loop's median",
        ]
        if "supervised-net" in self.loops and "torch-loop" in self.loops:
            ratio = self.ratio("supervised-net")
            verdict = "within" if ratio <= TARGET_RATIO else "above"
            notes.append(f"supervised-net costs {ratio:.2f}x the hand-written loop's CPU "
                         f"time, {verdict} the target of {TARGET_RATIO:.2f}x")
        return format_report(TITLE, fields, self.to_table(fmt=fmt, std=std), legend, notes,
                             fmt=fmt, legend_title="Loops")


def run_speed(loops=LOOPS, *, seeds=(0,), epochs=None, full=False,
              batch_size=DEFAULT_BATCH_SIZE, steps=None, n_threads=1, progress=None):
    """Measure the speed table: an epoch of each training loop on digits images.

    See :func:`measure_epoch_times` for what is timed.

    Parameters
    ----------
    loops : sequence of str, default=LOOPS
    seeds : sequence of int, default=(0,)
    epochs : int >= 1 or None, default=None
        Timed epochs per seed; ``None``: 5, or 20 with ``full``.
    full : bool, default=False
    batch_size : int >= 1, default=32
    steps : int >= 1 or None, default=None
        Steps per epoch; ``None``: every full batch of the training rows.
    n_threads : int >= 1 or None, default=1
    progress : callable or None, default=None

    Returns
    -------
    result : SpeedResult

    Examples
    --------
    >>> from sklabelfree.benchmarks import run_speed
    >>> result = run_speed(["torch-loop", "supervised-net"], epochs=1, steps=2)
    >>> print(result.to_table())  # doctest: +ELLIPSIS
    loop            epoch ms  ratio  CPU ms  CPU ratio  CPU ms / step
    --------------  --------  -----  ------  ---------  -------------
    torch-loop           ...   1.00     ...       1.00            ...
    supervised-net       ...    ...     ...        ...            ...
    """
    start = time.perf_counter()
    if epochs is None:
        epochs = FULL_EPOCHS if full else DEFAULT_EPOCHS
    loops = list(dict.fromkeys(loops))
    times, cpu_times, steps = measure_epoch_times(
        loops, seeds=seeds, epochs=epochs, batch_size=batch_size, steps=steps,
        n_threads=n_threads, progress=progress)
    versions = environment_versions()
    import skorch
    import torch

    versions["torch"] = torch.__version__
    versions["skorch"] = skorch.__version__
    return SpeedResult(
        loops=loops, times=times, cpu_times=cpu_times,
        seeds=list(dict.fromkeys(int(s) for s in seeds)), epochs=int(epochs),
        batch_size=int(batch_size), steps=steps, n_threads=n_threads,
        wall_seconds=time.perf_counter() - start, versions=versions,
    )


# ---------------------------------------------------------------------------
# Command line: ``python -m sklabelfree.benchmarks speed``.

HELP = ("training speed: an epoch of SupervisedNetClassifier beside a hand-written "
        "torch loop and a plain skorch net")


def _positive(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def add_arguments(parser):
    """Add the options of ``speed`` to its argparse sub-parser.

    ``--loops``, ``--epochs``, ``--batch-size`` and ``--steps``; the
    shared options are added by ``sklabelfree.benchmarks.__main__``
    (``--seeds``: one run per seed, seed 0 when not given; ``--full``: 20
    timed epochs instead of 5).

    Parameters
    ----------
    parser : argparse.ArgumentParser

    Examples
    --------
    >>> import argparse
    >>> from sklabelfree.benchmarks._speed import add_arguments
    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> parser.parse_args(["--epochs", "3", "--steps", "10"])  # doctest: +NORMALIZE_WHITESPACE
    Namespace(loops=['torch-loop', 'supervised-net', 'skorch-dataloader'], epochs=3,
              batch_size=32, steps=10)
    """
    parser.add_argument(
        "--loops", nargs="+", choices=LOOPS, default=list(LOOPS), metavar="LOOP",
        help=f"training loops to time (default: all): {', '.join(LOOPS)}",
    )
    parser.add_argument(
        "--epochs", type=_positive, default=None, metavar="N",
        help=f"timed epochs per seed, after one warm-up epoch (default: {DEFAULT_EPOCHS}; "
        f"{FULL_EPOCHS} with --full)",
    )
    parser.add_argument(
        "--batch-size", type=_positive, default=DEFAULT_BATCH_SIZE, metavar="N",
        help="rows per step (default: %(default)s)",
    )
    parser.add_argument(
        "--steps", type=_positive, default=None, metavar="N",
        help="steps per epoch (default: every full batch of the 1257 training rows)",
    )


def run_from_args(args, progress=None):
    """Run the speed comparison the parsed command line asks for.

    Parameters
    ----------
    args : argparse.Namespace
        With ``loops``, ``seeds``, ``epochs``, ``full``, ``batch_size``,
        ``steps`` and ``threads``.
    progress : callable or None, default=None

    Returns
    -------
    result : SpeedResult

    Examples
    --------
    >>> import argparse
    >>> from sklabelfree.benchmarks._speed import run_from_args
    >>> args = argparse.Namespace(loops=["torch-loop"], seeds=[0], epochs=1, full=False,
    ...                           batch_size=32, steps=2, threads=1)
    >>> run_from_args(args).steps
    2
    """
    return run_speed(
        loops=args.loops, seeds=given(args.seeds) or DEFAULT_SEEDS, epochs=args.epochs,
        full=args.full,
        batch_size=args.batch_size, steps=args.steps, n_threads=args.threads or None,
        progress=progress,
    )
