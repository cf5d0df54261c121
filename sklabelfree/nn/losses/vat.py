"""Virtual adversarial training (Miyato et al. 2018): the LDS and its power iteration."""

import contextlib

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["kl_div_with_logits", "vat_perturbation", "vat_loss", "frozen_batch_norm_stats"]


def _l2_normalize(d):
    """Each sample of ``d`` divided by its L2 norm (over every non-batch axis).

    As the authors' code, ``d`` is first divided by its largest absolute
    value, so that tiny gradients (``xi`` small, confident predictions) are
    normalised without underflow; an all-zero sample stays zero.
    """
    shape = (d.shape[0],) + (1,) * (d.dim() - 1)
    flat = d.reshape(d.shape[0], -1)
    d = d / (flat.abs().amax(dim=1).view(shape) + 1e-12)
    norm = d.reshape(d.shape[0], -1).norm(dim=1).view(shape)
    return d / norm.clamp_min(1e-12)


def kl_div_with_logits(p_logits, q_logits, reduction="mean"):
    """``KL(p || q) = sum_c p_c (log p_c - log q_c)`` with ``p, q`` softmaxes of logits.

    Parameters
    ----------
    p_logits, q_logits : torch.Tensor of shape (n, k)
        Gradients flow through both; detach ``p_logits`` for a fixed target.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        Over the rows.

    Returns
    -------
    torch.Tensor

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import kl_div_with_logits
    >>> float(kl_div_with_logits(torch.zeros(2, 3), torch.zeros(2, 3)))
    0.0
    """
    logp = F.log_softmax(p_logits, dim=1)
    logq = F.log_softmax(q_logits, dim=1)
    kl = (logp.exp() * (logp - logq)).sum(dim=1)
    if reduction == "none":
        return kl
    if reduction == "sum":
        return kl.sum()
    if reduction == "mean":
        return kl.mean() if kl.shape[0] else kl.sum()
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def vat_perturbation(model, x, logits, *, eps, xi=1e-2, n_power=1, generator=None,
                     d=None):
    """The virtual adversarial perturbation ``r_adv`` of each sample (Algorithm 1).

    Starting from a random unit vector ``d`` per sample, ``n_power`` power
    iterations ``d <- normalize(grad_d KL(p(x) || p(x + xi d)))`` approximate
    the dominant eigenvector of the Hessian of ``KL(p(x) || p(x + r))`` at
    ``r = 0``; ``r_adv = eps * normalize(d)``, of L2 norm ``eps`` per sample.

    Parameters
    ----------
    model : callable
        ``model(x) -> logits``. The caller decides its mode (batch-norm
        statistics, dropout), see :func:`frozen_batch_norm_stats`.
    x : torch.Tensor of shape (n, ...)
        Inputs (treated as constants).
    logits : torch.Tensor of shape (n, k)
        ``model(x)``, the target ``p(x)`` (detached here).
    eps : float
        Norm of the perturbation.
    xi : float, default=1e-2
        Finite-difference step of the power iteration (norm of ``xi d``).
        The paper's 1e-6 falls below the resolution of float32 inputs of
        order 1: ``x + xi d`` then equals ``x`` and the perturbation is
        zero; 1e-2 is small against ``eps`` and the input scale.
    n_power : int, default=1
        Number of power iterations.
    generator : torch.Generator or None, default=None
        Seeds the random start (must live on ``x``'s device).
    d : torch.Tensor or None, default=None
        Start direction instead of a random one.

    Returns
    -------
    r_adv : torch.Tensor, shape of ``x``, no gradient

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import vat_perturbation
    >>> model = torch.nn.Linear(4, 3)
    >>> x = torch.randn(5, 4)
    >>> r = vat_perturbation(model, x, model(x), eps=2.0, xi=1e-3)
    >>> torch.allclose(r.norm(dim=1), torch.full((5,), 2.0))
    True
    """
    x = x.detach()
    target = logits.detach()
    if d is None:
        d = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    d = _l2_normalize(d)
    for _ in range(int(n_power)):
        d = d.detach().requires_grad_(True)
        with torch.enable_grad():
            # Summed over rows: each sample's gradient does not shrink with n.
            kl = kl_div_with_logits(target, model(x + xi * d), reduction="sum")
            (grad,) = torch.autograd.grad(kl, d)
        d = _l2_normalize(grad.detach())
    return eps * _l2_normalize(d).detach()


def vat_loss(model, x, logits, *, eps, xi=1e-2, n_power=1, generator=None):
    """The local distributional smoothness ``LDS = mean_b KL(p(x_b) || p(x_b + r_adv_b))``.

    ``p(x)`` (from ``logits``) is a constant; gradients flow through the
    perturbed pass only. ``r_adv`` comes from :func:`vat_perturbation`.

    Parameters
    ----------
    model : callable
        ``model(x) -> logits``.
    x : torch.Tensor of shape (n, ...)
    logits : torch.Tensor of shape (n, k)
        ``model(x)``.
    eps, xi, n_power, generator
        As in :func:`vat_perturbation`.

    Returns
    -------
    lds : torch.Tensor (scalar)
    r_adv : torch.Tensor, shape of ``x``

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import vat_loss
    >>> model = torch.nn.Linear(4, 3)
    >>> x = torch.randn(5, 4)
    >>> lds, r = vat_loss(model, x, model(x), eps=1.0, xi=1e-3)
    >>> float(lds.detach()) >= 0, tuple(r.shape)
    (True, (5, 4))
    """
    r_adv = vat_perturbation(model, x, logits, eps=eps, xi=xi, n_power=n_power,
                             generator=generator)
    lds = kl_div_with_logits(logits.detach(), model(x.detach() + r_adv))
    return lds, r_adv


_DROPOUT = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
            nn.FeatureAlphaDropout)


@contextlib.contextmanager
def frozen_batch_norm_stats(module, disable_dropout=True):
    """Forward passes that neither update batch-norm statistics nor drop units.

    Inside the context, batch-norm layers in training mode still normalise
    with the statistics of the batch (as in the authors' code, whose
    perturbed passes run with ``update_batch_stats=False``), but their
    running mean, variance and batch counter are left unchanged
    (``track_running_stats`` is switched off for the duration). With
    ``disable_dropout`` the dropout layers are put in eval mode, so that
    ``p(x)`` and ``p(x + r)`` differ by the perturbation only. Everything
    is restored on exit.

    Parameters
    ----------
    module : torch.nn.Module
    disable_dropout : bool, default=True

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import frozen_batch_norm_stats
    >>> bn = torch.nn.BatchNorm1d(2)
    >>> with frozen_batch_norm_stats(bn):
    ...     _ = bn(torch.randn(8, 2) + 5)
    >>> bn.running_mean.tolist(), int(bn.num_batches_tracked)
    ([0.0, 0.0], 0)
    """
    saved_bn, saved_drop = [], []
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
            saved_bn.append(m)
            m.track_running_stats = False
        elif disable_dropout and isinstance(m, _DROPOUT) and m.training:
            saved_drop.append(m)
            m.training = False
    try:
        yield module
    finally:
        for m in saved_bn:
            m.track_running_stats = True
        for m in saved_drop:
            m.training = True
