"""sklabelfree: learning with few labels, as scikit-learn estimators.

Unlabeled rows are marked with ``y == -1`` (:data:`UNLABELED`), as in
:mod:`sklearn.semi_supervised`. Importing the package is cheap: it imports
neither torch nor the estimator families; each subpackage is imported the
first time it is used (``sklabelfree.semi_supervised``, ``sklabelfree.datasets``
and so on).
"""

import importlib

from ._version import __version__

UNLABELED = -1
"""The label that marks an unlabeled row: ``-1``, never a class."""

_SUBMODULES = (
    "active",
    "base",
    "benchmarks",
    "datasets",
    "few_shot",
    "self_supervised",
    "semi_supervised",
    "transfer",
    "utils",
)

__all__ = ["UNLABELED", "__version__", *_SUBMODULES]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
