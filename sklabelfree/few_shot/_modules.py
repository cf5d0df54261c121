"""The default trunks of the few-shot estimators."""

from torch import nn

from ..nn import MLP, ConvNet1d

__all__ = ["FlatConvNet2d", "default_few_shot_module"]


def _act(name):
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.1)
    if name == "gelu":
        return nn.GELU()
    raise ValueError(f"activation must be 'relu', 'gelu' or 'leaky_relu', got {name!r}")


class FlatConvNet2d(nn.Module):
    """A ConvNet for few-shot images that keeps the spatial layout of its features.

    Blocks of two 3x3 convolutions (batch norm, activation), each block
    followed by 2x2 pooling, until the map is at most ``max_size`` wide;
    the last map is flattened, not averaged: for 8x8 digits one block and a
    4x4 map of ``width`` channels (512 numbers with ``width=32``).

    Why not :class:`~sklabelfree.nn.ConvNet2d`: its global average pooling
    keeps *which* strokes an image has but not *where*, which is what tells
    novel digits apart (measured on digits, meta-trained on 0-4 and tested
    on 5-9: prototypes of ConvNet2d features score below those of raw
    pixels, a flattened 4x4 map above). Deeper trunks fit the base classes
    better and transfer worse on such small images.

    Parameters
    ----------
    in_channels : int
    output_dim : int
        Outputs of the linear head; 0 returns the features only.
    width : int, default=32
        Channels of the first block; they double in the next two blocks.
    depth : int or None, default=None
        Number of blocks; None: as many as bring the map to at most
        ``max_size`` wide (at least one).
    pool : {'avg', 'max'}, default='avg'
    batch_norm : bool, default=True
    activation : {'relu', 'gelu', 'leaky_relu'}, default='relu'
    input_size : int or (int, int), default=8
        Side, or ``(height, width)``, of the images.
    max_size : int, default=4
    dropout : float, default=0.0
        Dropout on the flattened features.

    Attributes
    ----------
    feature_dim : int
        Length of the feature vector.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.few_shot._modules import FlatConvNet2d
    >>> net = FlatConvNet2d(1, 0, width=8, input_size=8)
    >>> net(torch.zeros(2, 1, 8, 8)).shape, net.feature_dim
    (torch.Size([2, 128]), 128)
    """

    def __init__(self, in_channels, output_dim, width=32, depth=None, pool="avg",
                 batch_norm=True, activation="relu", input_size=8, max_size=4,
                 dropout=0.0):
        super().__init__()
        if pool not in ("avg", "max"):
            raise ValueError(f"pool must be 'avg' or 'max', got {pool!r}.")
        hw = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
        if depth is None:
            depth, s = 1, min(hw) // 2
            while s > max_size:
                depth, s = depth + 1, s // 2
        layers, c = [], in_channels
        for i in range(depth):
            c_out = width * 2 ** min(i, 2)
            for c_in in (c, c_out):
                layers.append(nn.Conv2d(c_in, c_out, 3, padding=1, bias=not batch_norm))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(c_out))
                layers.append(_act(activation))
            layers.append(nn.AvgPool2d(2) if pool == "avg" else nn.MaxPool2d(2))
            c = c_out
        layers.append(nn.Flatten())
        if dropout:
            layers.append(nn.Dropout(dropout))
        self.features = nn.Sequential(*layers)
        h, w = hw
        for _ in range(depth):
            h, w = h // 2, w // 2
        if h < 1 or w < 1:
            raise ValueError(
                f"FlatConvNet2d: {depth} blocks pool images of size {hw} away; use "
                "fewer blocks (depth).")
        self.feature_dim = c * h * w
        self.head = nn.Linear(self.feature_dim, output_dim) if output_dim else nn.Identity()

    def forward(self, x, return_features=False):
        h = self.features(x)
        return h if return_features else self.head(h)


def default_few_shot_module(input_shape, output_dim, **kwargs):
    """The default trunk of the few-shot estimators for samples of ``input_shape``.

    A :class:`FlatConvNet2d` for images ``(c, h, w)``, an
    :class:`~sklabelfree.nn.ConvNet1d` for signals ``(c, L)`` and an
    :class:`~sklabelfree.nn.MLP` without dropout for rows ``(d,)``.

    Parameters
    ----------
    input_shape : tuple of int
    output_dim : int
        Outputs of the head (0: the features only).
    **kwargs
        Passed to the module (``width``, ``depth``...).

    Returns
    -------
    module : torch.nn.Module

    Examples
    --------
    >>> from sklabelfree.few_shot._modules import default_few_shot_module
    >>> module = default_few_shot_module((1, 8, 8), 0)
    >>> type(module).__name__, module.feature_dim
    ('FlatConvNet2d', 512)
    """
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) == 1:
        kwargs.setdefault("dropout", 0.0)
        return MLP(input_shape[0], output_dim, **kwargs)
    if len(input_shape) == 2:
        kwargs.setdefault("input_length", input_shape[1])
        kwargs.setdefault("dropout", 0.0)
        return ConvNet1d(input_shape[0], output_dim, **kwargs)
    if len(input_shape) == 3:
        kwargs.setdefault("input_size", input_shape[1:])
        return FlatConvNet2d(input_shape[0], output_dim, **kwargs)
    raise ValueError(
        f"No default module for samples of shape {input_shape}: expected (d,) for "
        "tabular rows, (c, L) for signals or (c, h, w) for images.")
