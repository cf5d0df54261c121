"""Pseudo-Label (Lee 2013): hard arg-max targets on unlabeled rows, ramped in."""

import torch
from torch.nn import functional as F

__all__ = ["pseudo_label_loss", "pseudo_label_weight"]


def pseudo_label_weight(epoch, alpha_f, t1, t2):
    """The weight ``alpha(t)`` of the unlabeled term in Lee (2013), eq. (16).

    ``0`` for ``t < T1``, ``alpha_f (t - T1) / (T2 - T1)`` for
    ``T1 <= t < T2`` and ``alpha_f`` for ``t >= T2``.

    Parameters
    ----------
    epoch : float
        Training progress ``t`` in epochs (fractions allowed).
    alpha_f : float
        Final weight.
    t1, t2 : float
        Start and end of the linear ramp, in epochs, ``t1 <= t2``.

    Returns
    -------
    alpha : float

    Examples
    --------
    >>> from sklabelfree.nn.losses import pseudo_label_weight
    >>> [pseudo_label_weight(t, 3.0, 10, 20) for t in (5, 15, 25)]
    [0.0, 1.5, 3.0]
    """
    if epoch < t1:
        return 0.0
    if epoch >= t2:
        return float(alpha_f)
    return float(alpha_f) * (epoch - t1) / (t2 - t1)


def pseudo_label_loss(logits_u, threshold=None, target_logits=None):
    """Cross-entropy of unlabeled rows against their own arg-max class.

    ``mean_b m_b * CE(logits_u_b, argmax_c p_bc)``, with ``p`` the softmax
    of ``target_logits`` (default: ``logits_u`` itself, the same forward
    pass) treated as a constant, and ``m_b = 1`` for every row when
    ``threshold`` is None (Lee 2013), else ``m_b = 1(max_c p_bc >= threshold)``.
    The mean runs over every row, masked ones included (they add 0).

    Parameters
    ----------
    logits_u : torch.Tensor of shape (n, k)
        Logits of the unlabeled rows (gradients flow through them).
    threshold : float or None, default=None
        Confidence below which a row gets no pseudo label.
    target_logits : torch.Tensor of shape (n, k) or None, default=None
        Logits the pseudo labels are read from (for instance a no-grad
        pass); ``logits_u`` when None.

    Returns
    -------
    loss : torch.Tensor (scalar)
    pseudo : torch.Tensor of int64, shape (n,)
        The pseudo labels.
    mask : torch.Tensor of bool, shape (n,)
        The rows that got one.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import pseudo_label_loss
    >>> loss, pseudo, mask = pseudo_label_loss(torch.tensor([[2.0, 0.0], [0.0, 0.1]]),
    ...                                        threshold=0.6)
    >>> pseudo.tolist(), mask.tolist()
    ([0, 1], [True, False])
    """
    if target_logits is None:
        target_logits = logits_u
    if logits_u.shape[0] == 0:
        empty = torch.zeros(0, dtype=torch.bool, device=logits_u.device)
        return logits_u.sum() * 0.0, empty.long(), empty
    probs = torch.softmax(target_logits.detach(), dim=1)
    conf, pseudo = probs.max(dim=1)
    if threshold is None:
        mask = torch.ones_like(pseudo, dtype=torch.bool)
    else:
        mask = conf >= threshold
    ce = F.cross_entropy(logits_u, pseudo, reduction="none")
    return (ce * mask.to(ce.dtype)).mean(), pseudo, mask
