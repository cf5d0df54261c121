"""Entropy minimisation (Grandvalet & Bengio 2005) on unlabeled rows."""

import torch
from torch.nn import functional as F

__all__ = ["entropy_loss"]


def entropy_loss(logits, reduction="mean"):
    """Shannon entropy ``H(p) = -sum_c p_c log p_c`` of ``p = softmax(logits)``.

    Computed from ``log_softmax`` (no ``log 0``); gradients flow through
    ``p``, so minimising it pushes predictions away from the decision
    boundaries. ``0`` for a one-hot prediction, ``log k`` for a uniform one.

    Parameters
    ----------
    logits : torch.Tensor of shape (n, k)
    reduction : {'mean', 'none'}, default='mean'
        Mean over the rows, or the entropy of each row.

    Returns
    -------
    torch.Tensor
        A scalar, or shape ``(n,)`` with ``reduction='none'``.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import entropy_loss
    >>> round(float(entropy_loss(torch.zeros(3, 4))), 4)  # log 4
    1.3863
    """
    if reduction not in ("mean", "none"):
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    logp = F.log_softmax(logits, dim=1)
    # Clamped so that a probability of exactly 0 (a logit of -inf) adds 0, not NaN.
    h = -(logp.exp() * logp.clamp_min(torch.finfo(logp.dtype).min)).sum(dim=1)
    if reduction == "none":
        return h
    if h.shape[0] == 0:
        return logits.sum() * 0.0
    return h.mean()
