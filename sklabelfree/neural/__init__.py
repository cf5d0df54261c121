"""The skorch layer: base nets for partially labeled data, fast iterators,
callbacks. Imports torch and skorch."""

from ._base import BaseSemiSupervisedNet, SeededNetMixin, build_module, check_net_input
from ._embedding import EmbeddingNetMixin, eval_mode, forward_takes_return_features
from ._iterators import LabeledUnlabeledIterator, SSLBatch, TensorBatchIterator
from ._schedule import CosineDecay, EMAEvalMixin, cosine_decay_factor
from .callbacks import EMATeacher, RampUp

__all__ = [
    "BaseSemiSupervisedNet",
    "CosineDecay",
    "EMAEvalMixin",
    "EMATeacher",
    "EmbeddingNetMixin",
    "LabeledUnlabeledIterator",
    "RampUp",
    "SSLBatch",
    "SeededNetMixin",
    "TensorBatchIterator",
    "build_module",
    "check_net_input",
    "cosine_decay_factor",
    "eval_mode",
    "forward_takes_return_features",
]
