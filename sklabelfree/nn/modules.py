"""Small torch modules for tabular rows, signals and images.

Every size is a constructor argument, so that a skorch net reaches it as
``module__<name>``. Each module can return its features instead of its
logits (``forward(x, return_features=True)``): the self-supervised, few-shot
and transfer families reuse the same trunks.
"""

import numbers

from torch import nn

__all__ = ["MLP", "ConvNet1d", "ConvNet2d", "default_module_for_shape"]


def _check_int(owner, name, value, low):
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or value < low):
        raise ValueError(f"{owner}: {name} must be an int >= {low}, got {value!r}.")


def _activation(name):
    if name == "relu":
        return nn.ReLU()
    if name == "gelu":
        return nn.GELU()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.1)
    raise ValueError(f"activation must be 'relu', 'gelu' or 'leaky_relu', got {name!r}")


class MLP(nn.Module):
    """Multilayer perceptron for ``(n, d)`` inputs.

    Parameters
    ----------
    input_dim : int
        Number of input features ``d``.
    output_dim : int
        Number of outputs (classes); 0 returns the features only.
    width : int >= 1, default=256
        Units of each hidden layer.
    depth : int >= 0, default=2
        Number of hidden layers (0: a linear model on the inputs).
    dropout : float, default=0.1
        Dropout after each hidden layer.
    batch_norm : bool, default=True
        Batch normalisation after each hidden linear layer.
    activation : {'relu', 'gelu', 'leaky_relu'}, default='relu'

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn import MLP
    >>> MLP(64, 10, width=32)(torch.zeros(5, 64)).shape
    torch.Size([5, 10])
    """

    def __init__(self, input_dim, output_dim, width=256, depth=2, dropout=0.1,
                 batch_norm=True, activation="relu"):
        super().__init__()
        _check_int("MLP", "width", width, 1)
        _check_int("MLP", "depth", depth, 0)
        layers = []
        dim = input_dim
        for _ in range(depth):
            layers.append(nn.Linear(dim, width))
            if batch_norm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(_activation(activation))
            if dropout:
                layers.append(nn.Dropout(dropout))
            dim = width
        self.features = nn.Sequential(*layers)
        self.feature_dim = dim
        self.head = nn.Linear(dim, output_dim) if output_dim else nn.Identity()

    def forward(self, x, return_features=False):
        h = self.features(x.flatten(1))
        return h if return_features else self.head(h)


def _conv_block(conv, bn, c_in, c_out, batch_norm, activation, pool):
    """Two 3-tap convolutions, each with batch norm and activation, then pooling."""
    layers = []
    for c in (c_in, c_out):
        layers.append(conv(c, c_out, 3, padding=1, bias=not batch_norm))
        if batch_norm:
            layers.append(bn(c_out))
        layers.append(_activation(activation))
    if pool is not None:
        layers.append(pool)
    return layers


class _ConvNet(nn.Module):
    _conv = _bn = _pool = _gap = None

    def __init__(self, in_channels, output_dim, width, depth, dropout, batch_norm,
                 activation, min_size, size):
        super().__init__()
        _check_int(type(self).__name__, "width", width, 1)
        _check_int(type(self).__name__, "depth", depth, 0)
        layers = []
        c = in_channels
        for i in range(depth):
            c_out = width * 2 ** min(i, 2)
            # Pool while the map stays at least min_size wide.
            pool = None
            if size is None or size // 2 >= min_size:
                pool = self._pool(2)
                size = None if size is None else size // 2
            layers += _conv_block(self._conv, self._bn, c, c_out, batch_norm,
                                  activation, pool)
            c = c_out
        layers += [self._gap(1), nn.Flatten()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        self.features = nn.Sequential(*layers)
        self.feature_dim = c
        self.head = nn.Linear(c, output_dim) if output_dim else nn.Identity()

    def forward(self, x, return_features=False):
        h = self.features(x)
        return h if return_features else self.head(h)


class ConvNet1d(_ConvNet):
    """Small 1-D ConvNet for signals ``(n, c, L)``.

    Blocks of two 3-tap convolutions with batch norm and activation, then max pooling
    (pooling stops once the signal is ``min_length`` long), global average
    pooling, dropout and a linear head.

    Parameters
    ----------
    in_channels : int
    output_dim : int
        Number of outputs; 0 returns the features only.
    width : int, default=32
        Channels of the first block; they double in the next two blocks.
    depth : int, default=3
    dropout : float, default=0.1
    batch_norm : bool, default=True
    activation : {'relu', 'gelu', 'leaky_relu'}, default='relu'
    input_length : int or None, default=None
        Signal length, used to stop pooling at ``min_length``.
    min_length : int, default=4

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn import ConvNet1d
    >>> ConvNet1d(2, 3, width=8)(torch.zeros(4, 2, 50)).shape
    torch.Size([4, 3])
    """

    _conv, _bn, _pool, _gap = nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d, nn.AdaptiveAvgPool1d

    def __init__(self, in_channels, output_dim, width=32, depth=3, dropout=0.1,
                 batch_norm=True, activation="relu", input_length=None, min_length=4):
        super().__init__(in_channels, output_dim, width, depth, dropout, batch_norm,
                         activation, min_length, input_length)


class ConvNet2d(_ConvNet):
    """Small 2-D ConvNet for images ``(n, c, h, w)`` from 8x8 to 32x32.

    Blocks of two 3x3 convolutions with batch norm and activation, then 2x2 max pooling
    (pooling stops once the map is ``min_size`` wide, so 8x8 digits keep a
    2x2 map), global average pooling, dropout and a linear head.

    Parameters
    ----------
    in_channels : int
    output_dim : int
        Number of outputs; 0 returns the features only.
    width : int, default=32
        Channels of the first block; they double in the next two blocks.
    depth : int, default=3
    dropout : float, default=0.1
    batch_norm : bool, default=True
    activation : {'relu', 'gelu', 'leaky_relu'}, default='relu'
    input_size : int or None, default=None
        Smaller side of the images, used to stop pooling at ``min_size``.
    min_size : int, default=2

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn import ConvNet2d
    >>> ConvNet2d(1, 10, width=8, input_size=8)(torch.zeros(4, 1, 8, 8)).shape
    torch.Size([4, 10])
    """

    _conv, _bn, _pool, _gap = nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d

    def __init__(self, in_channels, output_dim, width=32, depth=3, dropout=0.1,
                 batch_norm=True, activation="relu", input_size=None, min_size=2):
        super().__init__(in_channels, output_dim, width, depth, dropout, batch_norm,
                         activation, min_size, input_size)


def default_module_for_shape(input_shape, output_dim, **kwargs):
    """The default module for inputs of shape ``(n, *input_shape)``.

    An :class:`MLP` for ``(d,)``, a :class:`ConvNet1d` for ``(c, L)`` and a
    :class:`ConvNet2d` for ``(c, h, w)``, with ``width=16`` for images at
    most 16 pixels on their smaller side (the ConvNet's own default, 32,
    otherwise) unless ``width`` is given.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one sample (without the batch dimension).
    output_dim : int
        Number of outputs.
    **kwargs
        Passed to the module (``width``, ``depth``, ``dropout``...).

    Returns
    -------
    module : torch.nn.Module

    Examples
    --------
    >>> from sklabelfree.nn import default_module_for_shape
    >>> module = default_module_for_shape((1, 8, 8), 10)
    >>> type(module).__name__, module.feature_dim
    ('ConvNet2d', 64)
    """
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) == 1:
        return MLP(input_shape[0], output_dim, **kwargs)
    if len(input_shape) == 2:
        kwargs.setdefault("input_length", input_shape[1])
        return ConvNet1d(input_shape[0], output_dim, **kwargs)
    if len(input_shape) == 3:
        kwargs.setdefault("input_size", min(input_shape[1:]))
        # Images up to 16 pixels wide (8x8 digits) need fewer channels: 16,
        # 32 and 64 cost a third of 32, 64 and 128 per step and, for the
        # same time, let the semi-supervised nets train three times longer.
        kwargs.setdefault("width", 16 if kwargs["input_size"] <= 16 else 32)
        return ConvNet2d(input_shape[0], output_dim, **kwargs)
    raise ValueError(
        f"No default module for samples of shape {input_shape}: expected (d,) for "
        "tabular rows, (c, L) for signals or (c, h, w) for images."
    )
