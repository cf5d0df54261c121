"""Benchmark results and their tables: plain text, reStructuredText, Markdown."""

import importlib
import math
import platform
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "FORMATS",
    "BenchmarkConfigError",
    "BenchmarkResult",
    "format_report",
    "format_table",
]

FORMATS = ("text", "rst", "markdown")


class BenchmarkConfigError(ValueError):
    """A benchmark option is invalid; raised before any fit.

    The command line turns it into a usage error (exit status 2).
    """


def check_config_int(name, value, low):
    """``value`` as an int, refused with :class:`BenchmarkConfigError` unless an int >= ``low``.

    Examples
    --------
    >>> from sklabelfree.benchmarks._table import check_config_int
    >>> check_config_int("repeats", 3, 1)
    3
    >>> check_config_int("repeats", 0, 1)
    Traceback (most recent call last):
    ...
    sklabelfree.benchmarks._table.BenchmarkConfigError: repeats must be an int >= 1, got 0.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise BenchmarkConfigError(f"{name} must be an int >= {low}, got {value!r}.")
    return int(value)


class Default(list):
    """The default value of a list option, told apart from the same list given.

    ``argparse`` leaves the default object as is when an option is not
    given, so ``isinstance(args.seeds, Default)`` says that the user did
    not choose the seeds (a benchmark may then run its own subset).

    Examples
    --------
    >>> from sklabelfree.benchmarks._table import Default
    >>> seeds = Default([0, 1, 2])
    >>> seeds == [0, 1, 2], isinstance(seeds, Default), isinstance([0, 1, 2], Default)
    (True, True, False)
    """


def given(value):
    """``value``, or ``None`` when it is an option's :class:`Default`.

    Parameters
    ----------
    value : object
        An option's value as argparse parsed it.

    Returns
    -------
    value : object or None

    Examples
    --------
    >>> from sklabelfree.benchmarks._table import Default, given
    >>> given(Default([0, 1, 2])) is None, given([0, 1, 2])
    (True, [0, 1, 2])
    """
    return None if isinstance(value, Default) else value


@contextmanager
def limit_threads(n_threads, torch=False):
    """Limit the BLAS / OpenMP thread pools and torch's threads; restore them after.

    Parameters
    ----------
    n_threads : int or None
        Threads per pool; None or 0 leaves every pool as it is.
    torch : bool, default=False
        Import torch to limit it too; otherwise torch is limited only when
        it is already imported. Limit after the estimators are made, so that
        the libraries they import are limited as well.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> from sklabelfree.benchmarks._table import limit_threads
    >>> with limit_threads(1):
    ...     all(pool["num_threads"] == 1 for pool in threadpool_info())
    True
    """
    if not n_threads:
        yield
        return
    from threadpoolctl import threadpool_limits

    module = importlib.import_module("torch") if torch else sys.modules.get("torch")
    previous = module.get_num_threads() if module is not None else None
    limits = threadpool_limits(limits=int(n_threads))
    try:
        if module is not None:
            module.set_num_threads(int(n_threads))
        yield
    finally:
        if module is not None:
            module.set_num_threads(previous)
        limits.unregister()


def _check_format(fmt):
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(map(repr, FORMATS))}, got {fmt!r}.")


def format_table(header, rows, fmt="text"):
    """Format rows of cells as a plain text, reStructuredText or Markdown table.

    The first column is aligned left and every other column right (numbers).

    Parameters
    ----------
    header : sequence of str
        The column titles.
    rows : sequence of sequences
        One sequence of cells per row, as many as ``header``; cells are
        formatted with ``str``. With ``fmt='rst'`` the cells of the first
        column must not be empty (an empty first cell would continue the row
        above in an RST simple table).
    fmt : {'text', 'rst', 'markdown'}, default='text'
        ``'text'``: columns separated by two spaces, the header underlined.
        ``'rst'``: an RST simple table, ready to paste in the README.
        ``'markdown'``: a pipe table.

    Returns
    -------
    table : str
        The table, lines joined by newlines, without a final newline.

    Examples
    --------
    >>> from sklabelfree.benchmarks import format_table
    >>> rows = [["svc-labeled", "0.719"], ["label-spreading", "0.831"]]
    >>> print(format_table(["method", "20 labels"], rows))
    method           20 labels
    ---------------  ---------
    svc-labeled          0.719
    label-spreading      0.831
    >>> print(format_table(["method", "20 labels"], rows, fmt="rst"))
    ===============  =========
    method           20 labels
    ===============  =========
    svc-labeled          0.719
    label-spreading      0.831
    ===============  =========
    >>> print(format_table(["method", "20 labels"], rows, fmt="markdown"))
    | method          | 20 labels |
    |:----------------|----------:|
    | svc-labeled     |     0.719 |
    | label-spreading |     0.831 |
    """
    _check_format(fmt)
    header = [str(h) for h in header]
    rows = [[str(c) for c in row] for row in rows]
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(
                f"row {i} has {len(row)} cells but the header has {len(header)} columns."
            )
        if fmt == "rst" and not row[0].strip():
            raise ValueError(f"row {i}: the first cell of an RST simple table cannot be empty.")
    widths = [max(len(c) for c in col) for col in zip(header, *rows)]
    if fmt == "markdown":
        widths = [max(w, 2) for w in widths]

    def line(cells, sep="  "):
        out = [
            c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(cells, widths))
        ]
        return sep.join(out)

    if fmt == "text":
        lines = [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]
        return "\n".join(s.rstrip() for s in lines)
    if fmt == "rst":
        rule = line(["=" * w for w in widths])
        lines = [rule, line(header), rule, *(line(r) for r in rows), rule]
        return "\n".join(s.rstrip() for s in lines)
    rule = "|" + "|".join(
        (":" + "-" * (w + 1)) if j == 0 else ("-" * (w + 1) + ":") for j, w in enumerate(widths)
    ) + "|"
    lines = ["| " + line(header, " | ") + " |", rule]
    lines += ["| " + line(r, " | ") + " |" for r in rows]
    return "\n".join(lines)


def environment_versions():
    """The versions a benchmark run depends on, as a dict of name -> version.

    Returns
    -------
    versions : dict of str -> str
        ``sklabelfree``, ``numpy``, ``scikit-learn``, ``scipy``, ``python``
        and ``platform``, plus ``cpus`` (``os.cpu_count()``).

    Examples
    --------
    >>> from sklabelfree.benchmarks import environment_versions
    >>> sorted(environment_versions())
    ['cpus', 'numpy', 'platform', 'python', 'scikit-learn', 'scipy', 'sklabelfree']
    """
    import os

    import scipy
    import sklearn

    from .._version import __version__

    return {
        "sklabelfree": __version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpus": str(os.cpu_count()),
    }


def _fmt_score(mean, std=None):
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    if std is None:
        return f"{mean:.3f}"
    return f"{mean:.3f} ± {std:.3f}"


def _fmt_seconds(seconds):
    if seconds is None or math.isnan(seconds):
        return "-"
    if seconds < 10:
        return f"{seconds:.2f}"
    return f"{seconds:.1f}"


@dataclass
class BenchmarkResult:
    """The measurements of one benchmark run, and its report.

    One record per fit: a method at one label budget with one seed. Rows of
    the table are methods, columns are budgets; a cell is the mean test
    accuracy over the seeds.

    Parameters
    ----------
    name : str
        The benchmark, e.g. ``'semi-supervised'``.
    title : str
        One line saying what is measured, printed above the table.
    methods : list of str
        The methods run, in the order of the table's rows.
    budgets : list of int
        The label budgets, in the order of the table's columns.
    seeds : list of int
        The seeds of the run.
    records : list of dict
        One dict per fit with keys ``method``, ``budget``, ``seed``,
        ``accuracy`` and ``fit_seconds`` (``accuracy`` is ``nan`` where the
        fit failed).
    protocol : dict of str -> dict of int -> float, default={}
        Reference numbers from the protocol, per method and budget.
    descriptions : dict of str -> str, default={}
        One line per method for the legend below the table.
    skipped : dict of str -> str, default={}
        Methods not run, with the reason (e.g. their class is not
        importable).
    errors : dict of str -> str, default={}
        Methods whose fit raised, with the first error. A cell where one
        seed's fit failed shows ``error`` rather than the mean of the others.
    warnings : dict of str -> dict of str -> int, default={}
        Per method, each distinct warning and the number of fits that
        raised it.
    wall_seconds : float, default=nan
        Wall time of the whole run.
    versions : dict of str -> str, default={}
        Versions of the libraries (see :func:`environment_versions`).
    options : dict, default={}
        Other options of the run to print in the report (e.g. ``full``).
    notes : list of str, default=[]
        Further notes printed at the end of the report, after those on
        skipped, failed and warning methods (e.g. which fits a default run
        left out).

    Examples
    --------
    >>> from sklabelfree.benchmarks import BenchmarkResult
    >>> result = BenchmarkResult(
    ...     name="semi-supervised", title="digits", methods=["svc-labeled"],
    ...     budgets=[20], seeds=[0, 1],
    ...     records=[
    ...         dict(method="svc-labeled", budget=20, seed=0, accuracy=0.70, fit_seconds=0.01),
    ...         dict(method="svc-labeled", budget=20, seed=1, accuracy=0.74, fit_seconds=0.01),
    ...     ],
    ...     protocol={"svc-labeled": {20: 0.719}},
    ... )
    >>> round(result.mean_accuracy("svc-labeled", 20), 3)
    0.72
    >>> print(result.to_table(std=True))
    method           20 labels  fit s (20)  protocol (20)
    -----------  -------------  ----------  -------------
    svc-labeled  0.720 ± 0.020        0.01          0.719
    """

    name: str
    title: str
    methods: list
    budgets: list
    seeds: list
    records: list
    protocol: dict = field(default_factory=dict)
    descriptions: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    warnings: dict = field(default_factory=dict)
    wall_seconds: float = float("nan")
    versions: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def _select(self, method, budget, key):
        return np.array(
            [r[key] for r in self.records if r["method"] == method and r["budget"] == budget],
            dtype=float,
        )

    def mean_accuracy(self, method, budget):
        """Mean test accuracy of ``method`` at ``budget`` over the seeds.

        Parameters
        ----------
        method : str
            A method of the run.
        budget : int
            A label budget of the run.

        Returns
        -------
        accuracy : float
            ``nan`` when there is no successful fit for this cell.

        Examples
        --------
        >>> from sklabelfree.benchmarks import BenchmarkResult
        >>> records = [dict(method="m", budget=20, seed=s, accuracy=a, fit_seconds=0.0)
        ...            for s, a in [(0, 0.5), (1, 0.7)]]
        >>> r = BenchmarkResult("b", "t", ["m"], [20], [0, 1], records)
        >>> round(r.mean_accuracy("m", 20), 2)
        0.6
        """
        acc = self._select(method, budget, "accuracy")
        acc = acc[~np.isnan(acc)]
        return float(acc.mean()) if acc.size else float("nan")

    def summary(self):
        """One dict per method and budget: accuracy mean and std, fit seconds.

        The standard deviation is over the seeds, with ``ddof=0`` (numpy's
        default).

        Returns
        -------
        rows : list of dict
            Keys ``method``, ``budget``, ``accuracy_mean``, ``accuracy_std``,
            ``fit_seconds_mean`` and ``n_seeds`` (the number of successful
            fits).

        Examples
        --------
        >>> from sklabelfree.benchmarks import BenchmarkResult
        >>> records = [dict(method="m", budget=20, seed=s, accuracy=a, fit_seconds=1.0)
        ...            for s, a in [(0, 0.5), (1, 0.7)]]
        >>> row, = BenchmarkResult("b", "t", ["m"], [20], [0, 1], records).summary()
        >>> round(row["accuracy_mean"], 2), round(row["accuracy_std"], 2), row["n_seeds"]
        (0.6, 0.1, 2)
        """
        out = []
        for method in self.methods:
            for budget in self.budgets:
                acc = self._select(method, budget, "accuracy")
                sec = self._select(method, budget, "fit_seconds")
                ok = ~np.isnan(acc)
                out.append(
                    {
                        "method": method,
                        "budget": budget,
                        "accuracy_mean": float(acc[ok].mean()) if ok.any() else float("nan"),
                        "accuracy_std": float(acc[ok].std()) if ok.any() else float("nan"),
                        "fit_seconds_mean": float(sec[ok].mean()) if ok.any() else float("nan"),
                        "n_seeds": int(ok.sum()),
                    }
                )
        return out

    def to_table(self, fmt="text", std=False):
        """The table: rows are methods, columns the accuracy at each budget.

        Columns: the mean test accuracy over the seeds at each budget (with
        ``± std`` when ``std``), the mean fit seconds at the largest budget,
        and the protocol's reference numbers for the budgets of the run
        (``-`` where the protocol has none at that budget; empty for a
        method the protocol does not measure).

        Parameters
        ----------
        fmt : {'text', 'rst', 'markdown'}, default='text'
            See :func:`format_table`.
        std : bool, default=False
            Show the standard deviation over the seeds in each cell.

        Returns
        -------
        table : str

        Examples
        --------
        >>> from sklabelfree.benchmarks import BenchmarkResult
        >>> records = [dict(method="m", budget=b, seed=0, accuracy=a, fit_seconds=0.5)
        ...            for b, a in [(20, 0.5), (50, 0.75)]]
        >>> r = BenchmarkResult("b", "t", ["m"], [20, 50], [0], records,
        ...                     protocol={"m": {50: 0.7}})
        >>> print(r.to_table())
        method  20 labels  50 labels  fit s (50)  protocol (20 / 50)
        ------  ---------  ---------  ----------  ------------------
        m           0.500      0.750        0.50           - / 0.700
        """
        _check_format(fmt)
        summary = {(s["method"], s["budget"]): s for s in self.summary()}
        largest = max(self.budgets)
        header = ["method", *(f"{b} labels" for b in self.budgets), f"fit s ({largest})"]
        has_protocol = any(m in self.protocol for m in self.methods)
        if has_protocol:
            header.append(f"protocol ({' / '.join(str(b) for b in self.budgets)})")
        rows = []
        for method in self.methods:
            cells = [method]
            for budget in self.budgets:
                s = summary[method, budget]
                n_fits = self._select(method, budget, "accuracy").size
                if s["n_seeds"] < n_fits:
                    cells.append("error")
                elif s["n_seeds"] == 0:
                    cells.append("-")
                else:
                    cells.append(
                        _fmt_score(s["accuracy_mean"], s["accuracy_std"] if std else None)
                    )
            cells.append(_fmt_seconds(summary[method, largest]["fit_seconds_mean"]))
            if has_protocol:
                ref = self.protocol.get(method)
                cells.append(
                    " / ".join(_fmt_score(ref.get(b)) for b in self.budgets) if ref else ""
                )
            rows.append(cells)
        return format_table(header, rows, fmt=fmt)

    def report(self, fmt="text", std=False, command=None):
        """The full report: what was run, with which versions, the table and notes.

        Parameters
        ----------
        fmt : {'text', 'rst', 'markdown'}, default='text'
            ``'rst'`` gives valid reStructuredText (a field list, the table
            and bullet lists) that the README can paste.
        std : bool, default=False
            Show the standard deviation over the seeds in each cell.
        command : str or None, default=None
            The command line to print; ``None`` leaves it out.

        Returns
        -------
        report : str

        Examples
        --------
        >>> from sklabelfree.benchmarks import BenchmarkResult
        >>> records = [dict(method="m", budget=20, seed=0, accuracy=0.5, fit_seconds=0.1)]
        >>> r = BenchmarkResult("b", "digits", ["m"], [20], [0], records,
        ...                     skipped={"n": "not importable"}, wall_seconds=1.0)
        >>> print(r.report(command="python -m sklabelfree.benchmarks b"))
        digits
        <BLANKLINE>
        command: python -m sklabelfree.benchmarks b
        seeds: 0
        total wall time: 1.0 s
        <BLANKLINE>
        method  20 labels  fit s (20)
        ------  ---------  ----------
        m           0.500        0.10
        <BLANKLINE>
        Notes:
        - skipped n: not importable
        """
        _check_format(fmt)
        fields = report_fields(fmt, command, self.seeds, extra=self.options.items(),
                               versions=self.versions, wall_seconds=self.wall_seconds)

        notes = []
        for method, reason in self.skipped.items():
            notes.append(f"skipped {method}: {reason}")
        for method, error in self.errors.items():
            notes.append(f"{method} failed: {error}")
        for method, found in self.warnings.items():
            for message, count in found.items():
                notes.append(f"{method} warned in {count} fit(s): {message}")

        notes += list(self.notes)
        legend = [(m, self.descriptions[m]) for m in self.methods if m in self.descriptions]
        return format_report(
            self.title, fields, self.to_table(fmt=fmt, std=std), legend, notes, fmt=fmt
        )


def report_fields(fmt, command=None, seeds=(), seeds_note="", extra=(), versions=None,
                  wall_seconds=None):
    """The fields that open every benchmark report.

    Parameters
    ----------
    fmt : {'text', 'rst', 'markdown'}
        The command is a literal in reStructuredText.
    command : str or None, default=None
        The command line that produced the report.
    seeds : sequence of int, default=()
    seeds_note : str, default=''
        Appended to the seeds (what they seed).
    extra : iterable of (str, object), default=()
        Fields of the benchmark itself, after the seeds (values printed with
        ``str``).
    versions : dict of str -> str or None, default=None
    wall_seconds : float or None, default=None

    Returns
    -------
    fields : list of (str, str)
        For :func:`format_report`.

    Examples
    --------
    >>> from sklabelfree.benchmarks._table import report_fields
    >>> report_fields("rst", "python -m sklabelfree.benchmarks encoders", [0, 1],
    ...               extra=[("threads", 1)], wall_seconds=2.0)
    [('command', '``python -m sklabelfree.benchmarks encoders``'), ('seeds', '0 1'), \
('threads', '1'), ('total wall time', '2.0 s')]
    """
    fields = []
    if command is not None:
        fields.append(("command", f"``{command}``" if fmt == "rst" else command))
    fields.append(("seeds", " ".join(str(s) for s in seeds) + seeds_note))
    fields += [(key, str(value)) for key, value in extra]
    if versions:
        fields.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    if wall_seconds is not None:
        fields.append(("total wall time", f"{wall_seconds:.1f} s"))
    return fields


def format_report(title, fields, table, legend=(), notes=(), fmt="text",
                  legend_title="Methods"):
    """Lay out a benchmark report: title, fields, table, legend and notes.

    The layout every benchmark of ``python -m sklabelfree.benchmarks``
    prints, in plain text, reStructuredText (a field list, the table and
    bullet lists) or Markdown.

    Parameters
    ----------
    title : str
        One line saying what is measured.
    fields : sequence of (str, str)
        ``(name, value)`` pairs printed under the title (command, seeds,
        versions...). Values are printed as given.
    table : str
        The table, already formatted with :func:`format_table` in ``fmt``.
    legend : sequence of (str, str), default=()
        ``(row name, description)`` pairs, listed under ``legend_title``.
    notes : sequence of str, default=()
        Free text (error and warning messages), listed under "Notes:" and
        escaped for RST and Markdown.
    fmt : {'text', 'rst', 'markdown'}, default='text'
    legend_title : str, default='Methods'
        The heading of the legend.

    Returns
    -------
    report : str

    Examples
    --------
    >>> from sklabelfree.benchmarks import format_table
    >>> from sklabelfree.benchmarks._table import format_report
    >>> table = format_table(["loop", "ms"], [["torch", "1.0"]])
    >>> print(format_report("Speed", [("seeds", "0")], table, [("torch", "by hand")],
    ...                     ["first epoch not timed"]))
    Speed
    <BLANKLINE>
    seeds: 0
    <BLANKLINE>
    loop    ms
    -----  ---
    torch  1.0
    <BLANKLINE>
    Methods:
    - torch: by hand
    <BLANKLINE>
    Notes:
    - first epoch not timed
    """
    _check_format(fmt)
    lines = []
    if fmt == "rst":
        lines += [title, ""]
        lines += [f":{key}: {value}" for key, value in fields]
    elif fmt == "markdown":
        lines += [f"**{title}**", ""]
        lines += [f"- {key}: {value}" for key, value in fields]
    else:
        lines += [title, ""]
        lines += [f"{key}: {value}" for key, value in fields]
    lines += ["", table]
    legend = list(legend)
    if legend:
        heading = f"{legend_title}:"
        lines += ["", heading, ""] if fmt != "text" else ["", heading]
        if fmt == "rst":
            lines += [f"- ``{m}``: {d}" for m, d in legend]
        elif fmt == "markdown":
            lines += [f"- `{m}`: {d}" for m, d in legend]
        else:
            lines += [f"- {m}: {d}" for m, d in legend]
    notes = list(notes)
    if notes:
        lines += ["", "Notes:", ""] if fmt != "text" else ["", "Notes:"]
        lines += [f"- {_escape(n, fmt)}" for n in notes]
    return "\n".join(lines)


def _escape(text, fmt):
    """Make free text (error and warning messages) safe inside RST / Markdown."""
    text = " ".join(str(text).split())
    if fmt in ("rst", "markdown"):
        for ch in ("\\", "`", "*", "|", "_"):
            text = text.replace(ch, "\\" + ch)
    return text


def _python_command(argv):
    """``python -m sklabelfree.benchmarks ARGS`` as one shell-quoted string."""
    import shlex

    return shlex.join(["python", "-m", "sklabelfree.benchmarks", *argv])
