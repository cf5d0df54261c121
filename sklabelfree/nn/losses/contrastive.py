"""Contrastive losses: NT-Xent (SimCLR) and InfoNCE with a queue of negatives (MoCo)."""

import torch
from torch.nn import functional as F

__all__ = ["nt_xent_loss", "info_nce_loss"]


def nt_xent_loss(z1, z2, temperature=0.5):
    """Normalised temperature-scaled cross-entropy of two views (SimCLR's NT-Xent).

    The ``2N`` projections are L2-normalised. For each of them, the positive
    is the other view of the same row and the ``2N - 2`` other projections
    of the batch are the negatives (Chen et al. 2020, eq. 1)::

        l(i, j) = -log exp(s_ij / T) / sum_{k != i} exp(s_ik / T)

    with ``s`` the cosine similarity; the loss is the mean of ``l`` over the
    ``2N`` ordered positive pairs.

    Parameters
    ----------
    z1, z2 : torch.Tensor of shape (n, d)
        Projections of the two views; row ``i`` of ``z1`` and of ``z2`` come
        from the same sample.
    temperature : float, default=0.5
        ``T``.

    Returns
    -------
    loss : torch.Tensor (scalar)

    References
    ----------
    .. [1] T. Chen, S. Kornblith, M. Norouzi, G. Hinton, "A Simple Framework
       for Contrastive Learning of Visual Representations", ICML 2020.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import nt_xent_loss
    >>> z = torch.eye(2)
    >>> round(float(nt_xent_loss(z, z, temperature=1.0)), 4)
    0.5514
    """
    if z1.shape != z2.shape or z1.dim() != 2:
        raise ValueError(f"z1 and z2 must be (n, d) of the same shape, got "
                         f"{tuple(z1.shape)} and {tuple(z2.shape)}.")
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(self_mask, float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, targets)


def info_nce_loss(query, key, queue=None, temperature=0.2, in_batch_negatives=False):
    """InfoNCE of queries against their keys and a queue of negatives (MoCo).

    Queries and keys are L2-normalised; the logits of query ``i`` are its
    similarity to its own key ``k_i`` (the positive, class 0) followed by
    its similarities to the ``K`` rows of ``queue`` (the negatives), all
    divided by ``T`` (He et al. 2020, eq. 1; Oord et al. 2018)::

        l_i = -log exp(q_i.k_i / T) / (exp(q_i.k_i / T) + sum_j exp(q_i.n_j / T))

    With ``queue=None`` the other keys of the batch are the negatives; with
    a queue and ``in_batch_negatives=True``, the other keys of the batch are
    negatives too (``n - 1 + K`` of them).
    The key side gets no gradient from the queue (pass ``key.detach()``
    for MoCo's momentum encoder).

    Parameters
    ----------
    query : torch.Tensor of shape (n, d)
    key : torch.Tensor of shape (n, d)
    queue : torch.Tensor of shape (K, d) or None, default=None
        Negative keys (normalised here too).
    temperature : float, default=0.2
    in_batch_negatives : bool, default=False
        Add the batch's other keys to the queue's negatives.

    Returns
    -------
    loss : torch.Tensor (scalar)

    References
    ----------
    .. [1] K. He, H. Fan, Y. Wu, S. Xie, R. Girshick, "Momentum Contrast for
       Unsupervised Visual Representation Learning", CVPR 2020.
    .. [2] A. van den Oord, Y. Li, O. Vinyals, "Representation Learning with
       Contrastive Predictive Coding", arXiv:1807.03748, 2018.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import info_nce_loss
    >>> q = torch.tensor([[1.0, 0.0]])
    >>> round(float(info_nce_loss(q, q, queue=torch.tensor([[0.0, 1.0]]),
    ...                           temperature=1.0)), 4)
    0.3133
    """
    if query.shape != key.shape or query.dim() != 2:
        raise ValueError(f"query and key must be (n, d) of the same shape, got "
                         f"{tuple(query.shape)} and {tuple(key.shape)}.")
    q = F.normalize(query, dim=1)
    k = F.normalize(key, dim=1)
    if queue is None:
        logits = q @ k.T / temperature
        targets = torch.arange(q.shape[0], device=q.device)
        return F.cross_entropy(logits, targets)
    negatives = F.normalize(queue, dim=1)
    if in_batch_negatives:
        logits = q @ torch.cat([k, negatives]).T / temperature
        targets = torch.arange(q.shape[0], device=q.device)
        return F.cross_entropy(logits, targets)
    l_pos = (q * k).sum(dim=1, keepdim=True)
    l_neg = q @ negatives.T
    logits = torch.cat([l_pos, l_neg], dim=1) / temperature
    targets = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
    return F.cross_entropy(logits, targets)
