"""Torch building blocks: modules, heads, losses and functional helpers.

This subpackage imports torch and never scikit-learn.
"""

from . import functional, losses
from .heads import CosineHead, LinearHead, ProjectionHead
from .modules import MLP, ConvNet1d, ConvNet2d, default_module_for_shape
from .sequence import CPCNetwork, CPCSignalEncoder
from .vit import MAEDecoder, TransformerBlock, VisionTransformer, patchify, unpatchify

__all__ = [
    "MLP",
    "ConvNet1d",
    "ConvNet2d",
    "CPCNetwork",
    "CPCSignalEncoder",
    "CosineHead",
    "LinearHead",
    "MAEDecoder",
    "ProjectionHead",
    "TransformerBlock",
    "VisionTransformer",
    "default_module_for_shape",
    "functional",
    "losses",
    "patchify",
    "unpatchify",
]
