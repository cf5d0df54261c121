"""Transfer learning: adapt a model from a labeled source domain to a target domain.

The source and the target rows come in one ``fit(X, y, sample_domain=None)``:
target rows are unlabeled (``y == -1``), or marked by a negative
``sample_domain`` id (positive ids mark source rows), which is routed as
metadata inside a :class:`~sklearn.pipeline.Pipeline`.

- instance transfer: :class:`ImportanceWeightingClassifier` (a domain
  classifier's density ratio, kernel mean matching, KLIEP);
- feature transfer: :class:`CORAL`, :class:`TCA`, with
  :class:`SourceOnlyClassifier` as the classifier step of their pipelines;
- parameter transfer: :class:`FineTuningClassifier` (a pretrained network,
  frozen or at a smaller learning rate, with a new head),
  :mod:`sklabelfree.transfer.net2net` (``widen``,
  ``deepen``: function-preserving growth of a trained network) and
  :class:`Net2NetClassifier`, a network grown during training;
- multi-task learning: :class:`MultiTaskLinearClassifier` (tasks coupled by
  an L2,1 or trace-norm penalty);
- :func:`make_shifted_digits`, a digits domain-shift problem.

The torch-based estimators are imported on first use, so that importing
this package does not import torch.
"""

import importlib

from ._feature import CORAL, TCA
from ._importance import ImportanceWeightingClassifier
from ._multitask_linear import MultiTaskLinearClassifier, prox_l21, prox_trace
from ._shift import make_shifted_digits, shift_digits
from ._source_only import SourceOnlyClassifier

# Torch-based estimators: name -> private module, imported when first accessed.
_TORCH = {
    "FineTuningClassifier": "._fine_tuning",
    "Net2NetClassifier": "._net2net_classifier",
    "MultiTaskNetClassifier": "._multitask_net",
}

__all__ = [
    "CORAL",
    "TCA",
    "ImportanceWeightingClassifier",
    "SourceOnlyClassifier",
    "make_shifted_digits",
    "shift_digits",
    "MultiTaskLinearClassifier",
    "prox_l21",
    "prox_trace",
    *sorted(_TORCH),
]


def __getattr__(name):
    if name in _TORCH:
        value = getattr(importlib.import_module(_TORCH[name], __name__), name)
        globals()[name] = value
        return value
    if name == "net2net":
        return importlib.import_module(".net2net", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
