"""Heads that sit on a trunk's features: linear, cosine, projection MLP."""

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["LinearHead", "CosineHead", "ProjectionHead"]


class LinearHead(nn.Linear):
    """A linear classifier on features: ``W h + b``.

    Parameters
    ----------
    in_features : int
    n_classes : int
    bias : bool, default=True

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn import LinearHead
    >>> LinearHead(8, 3)(torch.zeros(2, 8)).shape
    torch.Size([2, 3])
    """

    def __init__(self, in_features, n_classes, bias=True):
        super().__init__(in_features, n_classes, bias=bias)


class CosineHead(nn.Module):
    """Cosine-similarity classifier: ``scale * cos(h, w_c)`` for each class ``c``.

    The logits are the cosine similarities between the feature vector and a
    learned weight vector per class, multiplied by ``scale``; the head of
    Baseline++ (Chen et al., "A Closer Look at Few-shot Classification",
    ICLR 2019), which reduces intra-class variation.

    Parameters
    ----------
    in_features : int
    n_classes : int
    scale : float or None, default=None
        Temperature multiplier; None uses 2 for up to 200 classes and 10
        above, as Chen et al. do.
    learn_scale : bool, default=False
        Learn the scale.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn import CosineHead
    >>> head = CosineHead(4, 2, scale=1.0)
    >>> logits = head(torch.randn(3, 4))
    >>> bool((logits.abs() <= 1.0 + 1e-6).all())
    True
    """

    def __init__(self, in_features, n_classes, scale=None, learn_scale=False):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_classes, in_features))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if scale is None:
            scale = 2.0 if n_classes <= 200 else 10.0
        scale = torch.tensor(float(scale))
        if learn_scale:
            self.scale = nn.Parameter(scale)
        else:
            self.register_buffer("scale", scale)

    def forward(self, h):
        return self.scale * F.linear(F.normalize(h, dim=1), F.normalize(self.weight, dim=1))


class ProjectionHead(nn.Module):
    """Projection MLP: ``Linear - [BatchNorm] - ReLU`` blocks, then ``Linear``.

    The head that contrastive and redundancy-reduction methods (SimCLR,
    Barlow Twins, VICReg) put between the encoder and the loss.

    Parameters
    ----------
    in_features : int
    out_features : int, default=128
    hidden_features : int, default=256
    n_layers : int, default=2
        Number of linear layers (at least 1).
    batch_norm : bool, default=True
        Batch norm after each hidden linear layer.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn import ProjectionHead
    >>> ProjectionHead(16, 8, hidden_features=32)(torch.randn(4, 16)).shape
    torch.Size([4, 8])
    """

    def __init__(self, in_features, out_features=128, hidden_features=256, n_layers=2,
                 batch_norm=True):
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be at least 1, got {n_layers}.")
        layers = []
        dim = in_features
        for _ in range(n_layers - 1):
            layers.append(nn.Linear(dim, hidden_features, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden_features))
            layers.append(nn.ReLU())
            dim = hidden_features
        layers.append(nn.Linear(dim, out_features))
        self.net = nn.Sequential(*layers)

    def forward(self, h):
        return self.net(h)
