"""Net2Net: grow a trained network without changing what it computes.

Chen, Goodfellow & Shlens (2016) transfer the knowledge of a trained network
into a larger one by *function-preserving* transformations, so that the
larger network starts exactly where the smaller one stopped instead of from
scratch:

- :func:`widen` (Net2WiderNet) gives a linear or convolutional layer more
  units by replicating existing ones, and divides the replicas' outgoing
  weights by the number of copies, so the next layer sees the same sum;
- :func:`deepen` (Net2DeeperNet) inserts, after a layer followed by ReLU, a
  new layer initialised to the identity (``relu(I relu(x)) = relu(x)``).

Batch normalisation is handled: a widened layer's batch norm is replicated
with it; a deepened layer gets a batch norm that is the identity in
evaluation mode. Both functions work on the order in which a model registers
its modules, which is the order of computation for sequential models such
as :class:`~sklabelfree.nn.MLP` and :class:`~sklabelfree.nn.ConvNet2d`; name
the consuming layer explicitly for other architectures.

This module imports torch.
"""

import copy as _copy

import numpy as np
import torch
from torch import nn

__all__ = ["widen", "deepen", "widenable_layers"]

_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _units(layer):
    return layer.out_features if isinstance(layer, nn.Linear) else layer.out_channels


def _inputs(layer):
    return layer.in_features if isinstance(layer, nn.Linear) else layer.in_channels


def _check_layer(model, name):
    try:
        layer = model.get_submodule(name)
    except AttributeError:
        raise ValueError(f"the model has no layer named {name!r}.") from None
    if not isinstance(layer, _LAYERS):
        raise ValueError(
            f"layer {name!r} is a {type(layer).__name__}; Net2Net grows Linear and "
            "Conv1d/2d/3d layers.")
    if not isinstance(layer, nn.Linear) and layer.groups != 1:
        raise ValueError(f"layer {name!r} is a grouped convolution (groups="
                         f"{layer.groups}); only groups=1 can be widened.")
    return layer


def _replace(model, name, new):
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def widenable_layers(model):
    """Names of the layers :func:`widen` can grow, with their widths.

    A layer can be widened when a later Linear or convolutional layer
    consumes its output (found in registration order).

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    layers : dict
        Layer name -> number of units (output features or channels).

    Examples
    --------
    >>> from sklabelfree.nn import MLP
    >>> from sklabelfree.transfer.net2net import widenable_layers
    >>> widenable_layers(MLP(4, 3, width=8, depth=2))
    {'features.0': 8, 'features.4': 8}
    """
    names = [n for n, m in model.named_modules() if isinstance(m, _LAYERS)]
    return {n: _units(model.get_submodule(n)) for n in names[:-1]}


def _following(model, name, units):
    """The batch norm right after ``name`` (if any) and the next weight layer."""
    order = [(n, m) for n, m in model.named_modules() if n]
    idx = [n for n, _ in order].index(name)
    norm = consumer = None
    for n, m in order[idx + 1:]:
        if n.startswith(name + "."):
            continue
        if isinstance(m, _LAYERS):
            consumer = n
            break
        if isinstance(m, _NORMS) and norm is None and m.num_features == units:
            norm = n
    return norm, consumer


_PER_UNIT_NORMS = tuple(c for c in (
    nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm,
    getattr(nn, "RMSNorm", None)) if c is not None)
"""Modules that mix or rescale the units: widening is exact only through ``_NORMS``."""


def _check_between(model, layer, consumer, norm):
    """Refuse a module between ``layer`` and ``consumer`` that widening would break.

    Between them (in registration order) only parameter-free modules that act
    on each unit alone (activations, dropout, pooling, flattening) and the
    batch norm ``norm``, which :func:`widen` replicates, are carried over
    exactly. A normalisation over the units (``LayerNorm``, ``GroupNorm``...)
    or a module with per-unit parameters or buffers is not.
    """
    order = [(n, m) for n, m in model.named_modules() if n]
    names = [n for n, _ in order]
    start, stop = names.index(layer), names.index(consumer)
    if stop <= start:
        return  # a consumer registered earlier: nothing known to lie between
    for n, m in order[start + 1:stop]:
        if n == norm or n.startswith(layer + "."):
            continue
        own = [t for t in (*m.parameters(recurse=False), *m.buffers(recurse=False))
               if t.numel() > 1]
        if isinstance(m, _PER_UNIT_NORMS) or own:
            raise ValueError(
                f"cannot widen {layer!r}: {n!r} ({type(m).__name__}) sits between it "
                f"and the layer that consumes it, {consumer!r}, and widening would "
                "change what it computes. Net2WiderNet carries only a BatchNorm1d/2d/3d "
                "of the widened units and parameter-free per-unit modules (activations, "
                "dropout, pooling, flattening).")


def widen(model, layer, width, *, next_layer=None, noise_std=0.0, random_state=None,
          copy=True):
    """Net2WiderNet: give ``layer`` ``width`` units, computing the same function.

    Unit ``j`` of the new layer copies unit ``g(j)`` of the old one, with
    ``g(j) = j`` for the old units and a random old unit for each new one.
    Incoming weights and biases are copied, the batch norm that follows the
    layer (if any) is copied unit by unit (scale, shift and running
    statistics), and each copy's outgoing weights in the next layer are the
    original's divided by the number of copies of that unit (Chen et al.,
    2016, section 2.2). The next layer may be a Linear or convolutional
    layer reading the units directly, or a Linear layer reading them after
    flattening a spatial map (``in_features = units * positions``).

    With ``noise_std > 0`` the copies are made different, to break their
    symmetry: each copy's outgoing weights get Gaussian noise (of standard
    deviation ``noise_std`` times that of the next layer's weights), centred
    over the copies of a unit, so the copies' sum, and the network's
    output, are unchanged.

    Parameters
    ----------
    model : torch.nn.Module
        The network.
    layer : str
        Name of the Linear or convolutional layer to widen (as in
        ``model.named_modules()``).
    width : int
        New number of units (output features or channels); at least the
        current one.
    next_layer : str, default=None
        The layer that consumes ``layer``'s output; the next weight layer in
        registration order when None.
    noise_std : float, default=0.0
        Relative noise on the copies' outgoing weights (function preserving).
    random_state : int, RandomState instance or None, default=None
        Draws which units are copied and the noise.
    copy : bool, default=True
        Grow a deep copy (True) or ``model`` itself.

    Returns
    -------
    model : torch.nn.Module
        The widened network (new parameters: give the optimizer the new
        ``model.parameters()``).

    Raises
    ------
    ValueError
        Unknown layer, a layer that is not Linear/convolutional, ``width``
        smaller than the current width, no consuming layer, a consumer
        whose input size does not match, or, between the layer and its
        consumer, a module that widening would not carry over exactly: a
        normalisation other than the batch norm of the layer's units
        (``LayerNorm``, ``GroupNorm``...) or a module with per-unit
        parameters.

    References
    ----------
    T. Chen, I. Goodfellow and J. Shlens, "Net2Net: Accelerating learning
    via knowledge transfer", ICLR 2016.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn import MLP
    >>> from sklabelfree.transfer.net2net import widen
    >>> net = MLP(4, 3, width=8, dropout=0).eval()
    >>> wide = widen(net, "features.0", 12, random_state=0).eval()
    >>> wide.features[0]
    Linear(in_features=4, out_features=12, bias=True)
    >>> x = torch.randn(5, 4)
    >>> torch.allclose(net(x), wide(x), atol=1e-5)
    True
    """
    if copy:
        model = _copy.deepcopy(model)
    old = _check_layer(model, layer)
    n = _units(old)
    if not isinstance(width, (int, np.integer)) or isinstance(width, bool):
        raise ValueError(f"width must be an integer, got {width!r}.")
    if width < n:
        raise ValueError(
            f"cannot widen {layer!r} to {width} units: it has {n} already. Net2WiderNet "
            "only adds units.")
    norm, consumer = _following(model, layer, n)
    if next_layer is not None:
        consumer = next_layer
    if consumer is None:
        raise ValueError(
            f"no layer consumes the output of {layer!r} (it is the last weight layer); "
            "widen a hidden layer, or pass next_layer=.")
    nxt = _check_layer(model, consumer)
    _check_between(model, layer, consumer, norm)
    n_in = _inputs(nxt)
    if n_in % n != 0 or (not isinstance(nxt, nn.Linear) and n_in != n):
        raise ValueError(
            f"{consumer!r} takes {n_in} inputs, which does not match the {n} units of "
            f"{layer!r}.")
    if width == n:
        return model
    rng = np.random.RandomState(random_state) if not isinstance(
        random_state, np.random.RandomState) else random_state
    g = np.concatenate([np.arange(n), rng.randint(0, n, size=width - n)])
    counts = np.bincount(g, minlength=n)
    g_t = torch.as_tensor(g, device=old.weight.device)

    with torch.no_grad():
        # The widened layer: copy the incoming weights of unit g(j).
        if isinstance(old, nn.Linear):
            new = nn.Linear(old.in_features, width, bias=old.bias is not None)
        else:
            new = type(old)(old.in_channels, width, old.kernel_size, stride=old.stride,
                            padding=old.padding, dilation=old.dilation,
                            bias=old.bias is not None, padding_mode=old.padding_mode)
        new = new.to(device=old.weight.device, dtype=old.weight.dtype)
        new.weight.copy_(old.weight[g_t])
        if old.bias is not None:
            new.bias.copy_(old.bias[g_t])
        new.train(old.training)
        _replace(model, layer, new)

        if norm is not None:
            bn = model.get_submodule(norm)
            new_bn = type(bn)(width, eps=bn.eps, momentum=bn.momentum, affine=bn.affine,
                              track_running_stats=bn.track_running_stats)
            new_bn = new_bn.to(device=old.weight.device, dtype=old.weight.dtype)
            if bn.affine:
                new_bn.weight.copy_(bn.weight[g_t])
                new_bn.bias.copy_(bn.bias[g_t])
            if bn.track_running_stats:
                new_bn.running_mean.copy_(bn.running_mean[g_t])
                new_bn.running_var.copy_(bn.running_var[g_t])
                new_bn.num_batches_tracked.copy_(bn.num_batches_tracked)
            new_bn.train(bn.training)
            _replace(model, norm, new_bn)

        # The consumer: each copy reads its unit's outgoing weights / copies.
        positions = n_in // n
        W = nxt.weight
        scale = torch.as_tensor(1.0 / counts[g], dtype=W.dtype, device=W.device)
        if isinstance(nxt, nn.Linear):
            W3 = W.reshape(W.shape[0], n, positions)
            W_new = W3[:, g_t, :] * scale[None, :, None]
        else:
            shape = (1, width) + (1,) * (W.dim() - 2)
            W_new = W[:, g_t] * scale.reshape(shape)
        if noise_std:
            gen = torch.Generator().manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
            noise = torch.randn(W_new.shape, generator=gen, dtype=W.dtype) * (
                float(noise_std) * float(W.std()))
            noise = noise.to(W.device)
            # Centre the noise over the copies of each unit: their sum is kept.
            for unit in np.flatnonzero(counts > 1):
                cols = torch.as_tensor(np.flatnonzero(g == unit), device=W.device)
                noise[:, cols] -= noise[:, cols].mean(dim=1, keepdim=True)
            single = torch.as_tensor(np.flatnonzero(counts[g] == 1), device=W.device)
            noise[:, single] = 0
            W_new = W_new + noise
        if isinstance(nxt, nn.Linear):
            new_next = nn.Linear(width * positions, nxt.out_features,
                                 bias=nxt.bias is not None)
            new_next = new_next.to(device=W.device, dtype=W.dtype)
            new_next.weight.copy_(W_new.reshape(W.shape[0], width * positions))
        else:
            new_next = type(nxt)(width, nxt.out_channels, nxt.kernel_size,
                                 stride=nxt.stride, padding=nxt.padding,
                                 dilation=nxt.dilation, bias=nxt.bias is not None,
                                 padding_mode=nxt.padding_mode)
            new_next = new_next.to(device=W.device, dtype=W.dtype)
            new_next.weight.copy_(W_new)
        if nxt.bias is not None:
            new_next.bias.copy_(nxt.bias)
        new_next.train(nxt.training)
        _replace(model, consumer, new_next)

    if getattr(model, "feature_dim", None) == n * positions and consumer == "head":
        model.feature_dim = width * positions
    return model


def _output_statistics(model, module, data):
    """Per-unit mean and (biased) variance of ``module``'s output on ``data``.

    As training computes it: the batch norms of ``model`` normalise with the
    statistics of ``data``, while dropout and other random layers are off.
    A copy runs, so ``model``'s running statistics do not move. Units are
    the second axis (features, or channels averaged over their positions).
    """
    name = next(n for n, m in model.named_modules() if m is module)
    twin = _copy.deepcopy(model).eval()
    for m in twin.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.train()
    captured = []
    twin.get_submodule(name).register_forward_hook(
        lambda m, i, out: captured.append(out.detach()))
    with torch.no_grad():
        twin(data)
    out = captured[0]
    dims = [0] + list(range(2, out.dim()))
    return out.mean(dim=dims), out.var(dim=dims, unbiased=False)


def deepen(model, layer, *, batch_norm="auto", data=None, copy=True):
    """Net2DeeperNet: insert an identity layer after ``layer`` and its ReLU.

    ``layer`` must sit in an ``nn.Sequential`` and be followed, possibly
    after a batch norm, by a ``ReLU``. A new layer of the same kind and
    width, initialised to the identity (an identity matrix; for a
    convolution a kernel whose centre tap is 1 on its own channel, with
    "same" padding), is inserted after that ReLU, followed by a new ReLU:
    since ``relu(relu(x)) = relu(x)`` the network computes the same
    function (Chen et al., 2016, section 2.3). With ``batch_norm`` a batch
    norm sits between the new layer and its ReLU. Given ``data``, it is set
    as the paper sets it: running mean ``mu`` and variance ``var`` of the
    new layer's inputs on those rows, scale ``sqrt(var + eps)`` and shift
    ``mu`` (the statistics as training computes them: earlier batch norms
    on the batch's own statistics), so that it undoes its own normalisation
    in evaluation mode exactly and in training mode up to how far a batch's
    statistics stray from ``mu`` and ``var`` (exactly on ``data`` itself). Without ``data`` it is the identity in
    evaluation mode only (running mean 0, running variance 1, scale
    ``sqrt(1 + eps)``, shift 0); in training mode it then normalises with
    the batch statistics, which changes the function.

    Parameters
    ----------
    model : torch.nn.Module
        The network.
    layer : str
        Name of a Linear or convolutional layer inside an ``nn.Sequential``.
    batch_norm : bool or 'auto', default='auto'
        Add a batch norm to the new layer; 'auto' does when ``layer`` has
        one.
    data : torch.Tensor or None, default=None
        A batch of inputs of ``model``, to set the new batch norm from the
        statistics of the new layer's inputs (used only with a batch norm).
    copy : bool, default=True
        Grow a deep copy (True) or ``model`` itself.

    Returns
    -------
    model : torch.nn.Module
        The deeper network. The names of the modules after the insertion in
        that ``Sequential`` shift by the number of modules inserted.

    Raises
    ------
    ValueError
        Unknown layer, a layer not in an ``nn.Sequential``, or no ReLU after
        the layer (the identity trick needs an idempotent activation).

    References
    ----------
    T. Chen, I. Goodfellow and J. Shlens, "Net2Net: Accelerating learning
    via knowledge transfer", ICLR 2016.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn import MLP
    >>> from sklabelfree.transfer.net2net import deepen
    >>> net = MLP(4, 3, width=8, depth=1, dropout=0).eval()
    >>> deep = deepen(net, "features.0").eval()
    >>> [type(m).__name__ for m in deep.features]
    ['Linear', 'BatchNorm1d', 'ReLU', 'Linear', 'BatchNorm1d', 'ReLU']
    >>> x = torch.randn(5, 4)
    >>> torch.allclose(net(x), deep(x), atol=1e-5)
    True
    """
    if copy:
        model = _copy.deepcopy(model)
    old = _check_layer(model, layer)
    parent_name, _, child = layer.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    if not isinstance(parent, nn.Sequential):
        raise ValueError(
            f"deepen inserts into an nn.Sequential; {layer!r} sits in a "
            f"{type(parent).__name__}.")
    items = list(parent)
    pos = int(child)
    k = pos + 1
    has_norm = False
    while k < len(items) and isinstance(items[k], _NORMS):
        has_norm = True
        k += 1
    if k >= len(items) or not isinstance(items[k], nn.ReLU):
        found = type(items[k]).__name__ if k < len(items) else "nothing"
        raise ValueError(
            f"deepen needs a ReLU after {layer!r} (relu(relu(x)) = relu(x) makes the "
            f"new identity layer exact); found {found}.")
    if batch_norm == "auto":
        batch_norm = has_norm
    mean = var = None
    if batch_norm and data is not None:
        mean, var = _output_statistics(model, items[k], data)
    n = _units(old)
    device, dtype = old.weight.device, old.weight.dtype
    with torch.no_grad():
        if isinstance(old, nn.Linear):
            ident = nn.Linear(n, n, bias=not batch_norm)
            ident.weight.copy_(torch.eye(n))
        else:
            ks = tuple(kk if kk % 2 == 1 else kk + 1 for kk in old.kernel_size)
            ident = type(old)(n, n, ks, padding=tuple(kk // 2 for kk in ks),
                              bias=not batch_norm)
            ident.weight.zero_()
            centre = (slice(None), slice(None)) + tuple(kk // 2 for kk in ks)
            ident.weight[centre].copy_(torch.eye(n))
        if ident.bias is not None:
            ident.bias.zero_()
        new = [ident.to(device=device, dtype=dtype)]
        if batch_norm:
            if isinstance(old, nn.Conv2d):
                bn = nn.BatchNorm2d(n)
            elif isinstance(old, nn.Conv3d):
                bn = nn.BatchNorm3d(n)
            else:
                bn = nn.BatchNorm1d(n)
            if mean is None:
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0)
                bn.weight.fill_(float(np.sqrt(1.0 + bn.eps)))
                bn.bias.zero_()
            else:
                bn.running_mean.copy_(mean)
                bn.running_var.copy_(var)
                bn.weight.copy_(torch.sqrt(var + bn.eps))
                bn.bias.copy_(mean)
            new.append(bn.to(device=device, dtype=dtype))
        new.append(nn.ReLU())
        for m in new:
            m.train(old.training)
    # Rebuilt in place, so that with copy=False the model itself grows (also
    # when it is the Sequential).
    for key in list(parent._modules):
        del parent._modules[key]
    for i, m in enumerate([*items[:k + 1], *new, *items[k + 1:]]):
        parent.add_module(str(i), m)
    return model
