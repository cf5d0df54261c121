"""Benchmarks: the tables of the README, measured beside the baselines.

Every number the README quotes is measured here, in one run, side by side
with the baselines of PROTOCOL.md, by a command anyone can rerun::

    python -m sklabelfree.benchmarks semi-supervised
    python -m sklabelfree.benchmarks semi-supervised --labels 20 --seeds 0 --format rst
    python -m sklabelfree.benchmarks semi-supervised --full
    python -m sklabelfree.benchmarks speed

The same runs are available as functions that return a
:class:`BenchmarkResult` (records of every fit, a table, a report).
"""

from ._semi_supervised import Method, run_semi_supervised, semi_supervised_methods
from ._speed import SpeedResult, run_speed
from ._table import BenchmarkResult, environment_versions, format_table

__all__ = [
    "BenchmarkResult",
    "Method",
    "SpeedResult",
    "environment_versions",
    "format_table",
    "run_semi_supervised",
    "run_speed",
    "semi_supervised_methods",
]
