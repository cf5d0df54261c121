"""Discovery of sklabelfree's public estimators."""

import importlib
import inspect
import re
import pkgutil

from sklearn.base import BaseEstimator

__all__ = ["all_estimators"]

# Subpackages whose public names are not estimators to be checked.
_SKIP = {"sklabelfree.benchmarks", "sklabelfree.utils", "sklabelfree.datasets"}


def all_estimators(type_filter=None):
    """Every public estimator class of sklabelfree.

    Walks the subpackages and collects the classes that are exported in a
    subpackage's ``__all__`` and derive from
    :class:`~sklearn.base.BaseEstimator` and have a ``fit`` method. Abstract
    bases (names starting with ``Base``) are left out, and so are parameter
    objects without ``fit`` (query strategies, stopping criteria), which
    derive from ``BaseEstimator`` only to be cloned and tuned. (``Base``
    followed by a capital letter marks an abstract base: ``BaselineEncoder``
    is an estimator.)

    Parameters
    ----------
    type_filter : {'classifier', 'transformer', 'regressor'} or None, default=None
        Keep only estimators of this kind.

    Returns
    -------
    estimators : list of (name, class) tuples
        Sorted by name.

    Examples
    --------
    >>> from sklabelfree.utils.discovery import all_estimators
    >>> names = [name for name, _ in all_estimators()]
    >>> "PseudoLabelClassifier" in names
    True
    """
    import sklabelfree

    found = {}
    for info in pkgutil.walk_packages(sklabelfree.__path__, prefix="sklabelfree."):
        name = info.name
        if not info.ispkg or any(name == s or name.startswith(s + ".") for s in _SKIP):
            continue
        if any(part.startswith("_") for part in name.split(".")):
            continue
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and hasattr(obj, "fit")
                and not re.match(r"Base[A-Z]", attr)
                and not inspect.isabstract(obj)
            ):
                found[attr] = obj
    items = sorted(found.items())
    if type_filter is not None:
        from sklearn.base import ClassifierMixin, RegressorMixin

        def keep(cls):
            if type_filter == "classifier":
                return issubclass(cls, ClassifierMixin)
            if type_filter == "regressor":
                return issubclass(cls, RegressorMixin)
            if type_filter == "transformer":
                return hasattr(cls, "transform")
            raise ValueError(f"unknown type_filter {type_filter!r}")

        items = [(n, c) for n, c in items if keep(c)]
    return items
