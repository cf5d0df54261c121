"""Semi-supervised classifiers: learn from labeled rows and rows labeled ``-1``.

Meta-estimators that make any scikit-learn classifier semi-supervised:
self-training with pseudo labels, co-training over two views, and noisy
student training. The deep classifiers (skorch nets) are imported on first
use, so that importing this package does not import torch.
"""

import importlib

from ._co_training import CoTrainingClassifier
from ._noise import FeatureDropout, GaussianNoise, SwapNoise
from ._noisy_student import NoisyStudentClassifier
from ._pseudo_label import PseudoLabelClassifier

# Deep classifiers: name -> private module, imported when first accessed.
_DEEP = {
    "DeepPseudoLabelClassifier": "._deep_pseudo_label",
    "EntropyMinimizationClassifier": "._entropy_minimization",
    "VATClassifier": "._vat",
    "FixMatchClassifier": "._fixmatch",
    "MixMatchClassifier": "._mixmatch",
    "SupervisedNetClassifier": "._deep_supervised",
    "PiModelClassifier": "._pi_model",
    "TemporalEnsemblingClassifier": "._temporal_ensembling",
    "MeanTeacherClassifier": "._mean_teacher",
}

__all__ = [
    "CoTrainingClassifier",
    "FeatureDropout",
    "GaussianNoise",
    "NoisyStudentClassifier",
    "SwapNoise",
    "PseudoLabelClassifier",
    *sorted(_DEEP),
]


def __getattr__(name):
    if name in _DEEP:
        value = getattr(importlib.import_module(_DEEP[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
