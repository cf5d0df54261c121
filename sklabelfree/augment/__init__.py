"""Batched tensor augmentations that run on the model's device.

Each augmentation transforms a whole batch with per-sample random
parameters drawn from a ``torch.Generator``: no Python loop over samples.
Images ``(n, c, h, w)``: shift, flip, rotation and affine, cutout, noise,
brightness/contrast and a RandAugment-style strong policy; signals
``(n, c, L)``: shift, flip, scaling, noise, cutout; tabular rows ``(n, d)``:
Gaussian noise, feature masking, swap noise. :func:`make_augmentation`
gives the weak and strong presets.
"""

from ._base import (
    Augmentation,
    BrightnessContrast,
    Compose,
    Cutout,
    FeatureMasking,
    GaussianNoise,
    RandomAffine,
    RandomFlip,
    RandomRotation,
    RandomScaling,
    RandomShift,
    SwapNoise,
)
from ._policies import RandAugment, input_kind, make_augmentation

__all__ = [
    "Augmentation",
    "BrightnessContrast",
    "Compose",
    "Cutout",
    "FeatureMasking",
    "GaussianNoise",
    "RandAugment",
    "RandomAffine",
    "RandomFlip",
    "RandomRotation",
    "RandomScaling",
    "RandomShift",
    "SwapNoise",
    "input_kind",
    "make_augmentation",
]
