"""Functional helpers shared by the deep methods: sharpening, MixUp, EMA, ramps."""

import math

import torch

__all__ = ["sharpen", "mixup", "sample_beta", "ema_update", "sigmoid_rampup", "linear_rampup",
           "one_hot"]


def _check_temperature(temperature, owner=None):
    """Refuse a temperature that is not a positive number (NaN included).

    Dividing by such a temperature makes a softmax NaN or flips its order.
    """
    if not float(temperature) > 0:  # ``not > 0`` also refuses NaN
        prefix = f"{owner}: " if owner else ""
        raise ValueError(
            f"{prefix}temperature must be positive, got {float(temperature)!r}.")


def sharpen(p, temperature):
    """Temperature sharpening ``p_i^(1/T) / sum_j p_j^(1/T)`` along the last axis.

    Parameters
    ----------
    p : torch.Tensor of shape (n, k)
        Probabilities.
    temperature : float > 0
        ``T``; below 1 sharpens, 1 leaves ``p`` as it is.

    Returns
    -------
    torch.Tensor of shape (n, k)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.functional import sharpen
    >>> sharpen(torch.tensor([[0.6, 0.4]]), 0.5)
    tensor([[0.6923, 0.3077]])
    """
    _check_temperature(temperature, "sharpen")
    if temperature == 1:
        return p
    logp = torch.log(p.clamp_min(1e-12)) / temperature
    return torch.softmax(logp, dim=-1)


def one_hot(y, n_classes, dtype=torch.float32):
    """One-hot encoding of integer targets.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.functional import one_hot
    >>> one_hot(torch.tensor([1, 0]), 3)
    tensor([[0., 1., 0.],
            [1., 0., 0.]])
    """
    return torch.nn.functional.one_hot(y.long(), n_classes).to(dtype)


def mixup(x, targets, alpha, generator=None, keep_first=False, perm=None):
    """MixUp (Zhang et al. 2018): convex combinations of rows and of their targets.

    ``lambda ~ Beta(alpha, alpha)`` per row; with ``keep_first=True``
    ``lambda' = max(lambda, 1 - lambda)`` so that the mixed row stays closer
    to the first row (MixMatch, Berthelot et al. 2019).

    Parameters
    ----------
    x : torch.Tensor of shape (n, ...)
    targets : torch.Tensor of shape (n, k)
        Soft (or one-hot) targets; integer labels must be one-hot encoded
        first (:func:`one_hot`).
    alpha : float
        Beta distribution parameter; 0 disables mixing.
    generator : torch.Generator, default=None
    keep_first : bool, default=False
    perm : torch.Tensor of int of shape (n,), default=None
        Partner of each row; a random permutation when None.

    Returns
    -------
    x_mixed, targets_mixed : torch.Tensor
    lam : torch.Tensor of shape (n,)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.functional import mixup
    >>> x = torch.tensor([[0.0], [1.0]]); t = torch.eye(2)
    >>> xm, tm, lam = mixup(x, t, 1.0, perm=torch.tensor([1, 0]),
    ...                     generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(xm, lam[:, None] * x + (1 - lam[:, None]) * x.flip(0)))
    True
    >>> bool(torch.allclose(tm, lam[:, None] * t + (1 - lam[:, None]) * t.flip(0)))
    True
    """
    n = x.shape[0]
    if targets.dim() != 2 or targets.shape[0] != n:
        raise ValueError(
            f"mixup needs targets of shape (n, k) = ({n}, k): one-hot or soft labels, "
            f"one row per row of x; got shape {tuple(targets.shape)} (encode integer "
            f"labels with one_hot first).")
    if perm is None:
        perm = torch.randperm(n, generator=generator, device="cpu").to(x.device)
    if alpha <= 0:
        lam = torch.ones(n, device=x.device, dtype=x.dtype)
    else:
        lam = sample_beta(alpha, n, generator).to(device=x.device, dtype=x.dtype)
    if keep_first:
        lam = torch.maximum(lam, 1 - lam)
    shape = (n,) + (1,) * (x.dim() - 1)
    x_mixed = lam.view(shape) * x + (1 - lam.view(shape)) * x[perm]
    t_mixed = lam.view(n, 1) * targets + (1 - lam.view(n, 1)) * targets[perm]
    return x_mixed, t_mixed, lam


def sample_beta(alpha, n, generator=None):
    """``n`` draws of ``Beta(alpha, alpha)`` on the CPU, seeded by ``generator``.

    torch's Beta sampler takes no generator, so the draws come from a forked
    global stream seeded from ``generator``: the result depends on the
    generator only.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.functional import sample_beta
    >>> a = sample_beta(0.75, 3, torch.Generator().manual_seed(0))
    >>> b = sample_beta(0.75, 3, torch.Generator().manual_seed(0))
    >>> bool(torch.equal(a, b)), bool(((a > 0) & (a < 1)).all())
    (True, True)
    """
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.distributions.Beta(float(alpha), float(alpha)).sample((n,))


@torch.no_grad()
def ema_update(target, source, decay):
    """``target <- decay * target + (1 - decay) * source``, parameter by parameter.

    Buffers (batch-norm statistics) are copied from ``source``.

    Parameters
    ----------
    target, source : torch.nn.Module
        Modules with the same structure.
    decay : float in [0, 1]
        1 keeps ``target``, 0 copies ``source``.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.functional import ema_update
    >>> a, b = torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)
    >>> with torch.no_grad():
    ...     _ = a.weight.fill_(1.0); _ = b.weight.fill_(0.0)
    >>> ema_update(a, b, 0.9); round(a.weight.item(), 6)
    0.9
    """
    if not 0 <= float(decay) <= 1:  # also refuses NaN
        raise ValueError(f"ema_update: decay must be in [0, 1], got {decay!r}.")
    for t, s in zip(target.parameters(), source.parameters()):
        t.mul_(decay).add_(s.detach(), alpha=1 - decay)
    for t, s in zip(target.buffers(), source.buffers()):
        t.copy_(s)


def sigmoid_rampup(current, length):
    """``exp(-5 (1 - t)^2)`` with ``t = current / length`` clipped to [0, 1].

    The ramp-up of Laine & Aila (2017) and Tarvainen & Valpola (2017).

    Examples
    --------
    >>> from sklabelfree.nn.functional import sigmoid_rampup
    >>> sigmoid_rampup(0, 10) < 0.01, sigmoid_rampup(10, 10)
    (True, 1.0)
    """
    if length <= 0:
        return 1.0
    t = min(max(current / length, 0.0), 1.0)
    return float(math.exp(-5.0 * (1.0 - t) ** 2))


def linear_rampup(current, length):
    """``min(current / length, 1)``: the linear ramp of Lee (2013) and MixMatch.

    Examples
    --------
    >>> from sklabelfree.nn.functional import linear_rampup
    >>> linear_rampup(5, 10), linear_rampup(20, 10)
    (0.5, 1.0)
    """
    if length <= 0:
        return 1.0
    return float(min(max(current / length, 0.0), 1.0))
