"""Self-supervised encoders: learn a representation from unlabeled rows.

Each encoder is a scikit-learn transformer (a skorch ``NeuralNet``):
``fit(X)`` trains a trunk on every row of ``X`` without labels, and
``transform(X)`` returns the trunk's features, so that
``make_pipeline(SimCLREncoder(), LogisticRegression())`` learns a
classifier from a few labels on top of what the encoder learned:

- joint-embedding methods, two augmented views of each row:
  :class:`SimCLREncoder` (contrastive, NT-Xent), :class:`MoCoEncoder`
  (contrastive, momentum encoder and a queue of negatives),
  :class:`BarlowTwinsEncoder` (cross-correlation to the identity),
  :class:`VICRegEncoder` (variance, invariance, covariance);
- reconstruction: :class:`AutoEncoder` and :class:`DenoisingAutoEncoder`;
- evaluation: :func:`linear_probe_score` and :func:`knn_score`.

The torch estimators are imported on first use, so that importing this
package does not import torch.
"""

import importlib

# Torch-based names: name -> private module, imported when first accessed.
_TORCH = {
    "AutoEncoder": "._autoencoder",
    "BarlowTwinsEncoder": "._joint",
    "CLIPEncoder": "._clip",
    "CPCEncoder": "._cpc",
    "ColorizationEncoder": "._colorization",
    "DenoisingAutoEncoder": "._autoencoder",
    "InpaintingEncoder": "._inpainting",
    "JigsawEncoder": "._pretext",
    "MAEEncoder": "._mae",
    "MoCoEncoder": "._moco",
    "MoCoQueue": "._moco",
    "RelativePatchEncoder": "._pretext",
    "RotationEncoder": "._pretext",
    "SimCLREncoder": "._joint",
    "VICRegEncoder": "._joint",
    "ZeroShotClassifier": "._zero_shot",
    "view_augmentation": "._base",
}

from ._scores import knn_score, linear_probe_score  # noqa: E402

__all__ = ["knn_score", "linear_probe_score", *sorted(_TORCH)]


def __getattr__(name):
    if name in _TORCH:
        value = getattr(importlib.import_module(_TORCH[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
