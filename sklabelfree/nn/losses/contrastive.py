"""Contrastive losses: NT-Xent (SimCLR), InfoNCE with a queue of negatives (MoCo),
Contrastive Predictive Coding's InfoNCE over future steps (CPC) and the symmetric
image-text InfoNCE of CLIP."""

import torch
from torch.nn import functional as F

from ..functional import _check_temperature

__all__ = ["nt_xent_loss", "info_nce_loss", "cpc_loss", "clip_loss"]


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
    _check_temperature(temperature)
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
    _check_temperature(temperature)
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


def cpc_loss(z, c, predictors, negatives="all"):
    """Contrastive Predictive Coding's InfoNCE, averaged over the prediction steps.

    For each step ``k = 1 .. K`` (``K = len(predictors)``) the ``k``-th
    predictor ``W_k`` maps each context ``c_t`` to a prediction of the
    latent ``k`` steps ahead, scored against a candidate latent ``z'`` by
    the bilinear ``f_k = exp(z'^T W_k c_t)`` (van den Oord et al. 2018,
    eq. 3, 4)::

        L_k = - mean_{i, t} log f_k(z_{i,t+k}, c_{i,t})
                              / sum_{z' in candidates(i, t)} f_k(z', c_{i,t})

    The positive of sequence ``i`` at step ``t`` is ``z_{i,t+k}``; ``t``
    runs over ``0 .. T-1-k`` (the contexts that have a step ``k`` ahead).
    Its candidates (the positive and the negatives) are, with
    ``negatives='all'``, the latents ``z_{j,s}`` of every sequence ``j`` of
    the batch at every step ``s = k .. T-1`` (the steps that are targets
    ``k`` ahead): ``n (T - k) - 1`` negatives, the other steps of its own
    sequence and all those steps of the other sequences. With
    ``negatives='cross'``, they are the latents ``z_{i,s}`` of its own
    sequence at every step ``s = k .. T-1`` and the latents ``z_{j,t+k}``
    of the other sequences at the same step: ``(T - k - 1) + (n - 1)``
    negatives, for ``O(n T (n + T))`` instead of ``O(n^2 T^2)`` work.
    The loss is the mean of ``L_k`` over ``k``. Latents and predictions are
    not normalised and there is no temperature, as in the paper.

    Parameters
    ----------
    z : torch.Tensor of shape (n, T, d)
        Latents ``z_t`` of ``n`` sequences.
    c : torch.Tensor of shape (n, T, h)
        Contexts; ``c_t`` must depend on no latent after ``t``.
    predictors : sequence of callables
        ``predictors[k - 1]`` maps contexts ``(..., h)`` to predictions
        ``(..., d)`` of the latents ``k`` steps ahead (``W_k``, e.g. a
        ``torch.nn.Linear(h, d, bias=False)``).
    negatives : {'all', 'cross'}, default='all'
        The candidates of each prediction, as above.

    Returns
    -------
    loss : torch.Tensor (scalar)

    References
    ----------
    .. [1] A. van den Oord, Y. Li, O. Vinyals, "Representation Learning with
       Contrastive Predictive Coding", arXiv:1807.03748, 2018.

    Examples
    --------
    Two sequences of two steps; predicting one step ahead. Swapping the
    two coordinates of ``c_0`` gives each sequence's next latent:

    >>> import torch
    >>> from sklabelfree.nn.losses.contrastive import cpc_loss
    >>> z = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]])
    >>> round(float(cpc_loss(z, z, [lambda h: h.flip(-1)])), 4)
    0.3133
    >>> round(float(cpc_loss(z, z, [lambda h: h])), 4)
    1.3133
    """
    if z.dim() != 3 or c.dim() != 3 or z.shape[:2] != c.shape[:2]:
        raise ValueError(f"z and c must be (n, T, d) and (n, T, h) with the same n and "
                         f"T, got {tuple(z.shape)} and {tuple(c.shape)}.")
    if negatives not in ("all", "cross"):
        raise ValueError(f"negatives must be 'all' or 'cross', got {negatives!r}.")
    n_steps = len(predictors)
    n, length, d = z.shape
    if n_steps < 1:
        raise ValueError("cpc_loss needs at least one predictor.")
    if length < n_steps + 1:
        raise ValueError(f"cpc_loss predicts up to {n_steps} steps ahead and needs at "
                         f"least {n_steps + 1} time steps, got {length}.")
    other_rows = torch.eye(n, dtype=torch.bool, device=z.device)[:, None, :]
    total = z.new_zeros(())
    for k, predictor in enumerate(predictors, start=1):
        pred = predictor(c[:, :length - k])  # (n, T - k, d): predictions from c_t
        target = z[:, k:]  # (n, T - k, d): z_{t+k}, aligned with pred
        steps = length - k
        if negatives == "all":
            logits = pred.reshape(-1, d) @ target.reshape(-1, d).T
            labels = torch.arange(n * steps, device=z.device)
        else:
            # [i, t, s]: own sequence at every step; [i, t, j]: step t of sequence j.
            own = pred @ target.transpose(1, 2)
            across = torch.einsum("itd,jtd->itj", pred, target)
            across = across.masked_fill(other_rows, float("-inf"))
            logits = torch.cat([own, across], dim=2).reshape(n * steps, steps + n)
            labels = torch.arange(steps, device=z.device).repeat(n)
        total = total + F.cross_entropy(logits, labels)
    return total / n_steps


def clip_loss(image_emb, text_emb, logit_scale):
    """Symmetric InfoNCE over a batch of image-text pairs (CLIP's loss).

    Both embeddings are L2-normalised; the logits are the ``n x n`` cosine
    similarities times ``logit_scale``, row ``i`` of the images against
    every text of the batch. Image ``i``'s positive is text ``i``; the
    other ``n - 1`` texts are its negatives, and the same the other way
    (Radford et al. 2021, Figure 3)::

        logits = logit_scale * I @ T.T
        loss = (cross_entropy(logits, arange(n))
                + cross_entropy(logits.T, arange(n))) / 2

    Parameters
    ----------
    image_emb : torch.Tensor of shape (n, d)
    text_emb : torch.Tensor of shape (n, d)
        Row ``i`` describes image ``i``.
    logit_scale : float or torch.Tensor (scalar)
        The multiplier of the cosine similarities, ``exp(t)`` of CLIP's
        learned log-scale ``t`` (an inverse temperature), not ``t`` itself.

    Returns
    -------
    loss : torch.Tensor (scalar)

    References
    ----------
    .. [1] A. Radford, J. W. Kim, C. Hallacy, A. Ramesh, G. Goh, S. Agarwal,
       G. Sastry, A. Askell, P. Mishkin, J. Clark, G. Krueger, I. Sutskever,
       "Learning Transferable Visual Models From Natural Language
       Supervision", ICML 2021.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import clip_loss
    >>> image = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    >>> text = torch.tensor([[3.0, 0.0], [1.0, 1.0]])
    >>> round(float(clip_loss(image, text, logit_scale=1.0)), 4)
    0.4912
    """
    if image_emb.dim() != 2 or image_emb.shape != text_emb.shape:
        raise ValueError(f"image_emb and text_emb must be (n, d) of the same shape, got "
                         f"{tuple(image_emb.shape)} and {tuple(text_emb.shape)}.")
    image = F.normalize(image_emb, dim=1)
    text = F.normalize(text_emb, dim=1)
    logits = logit_scale * (image @ text.T)
    targets = torch.arange(image.shape[0], device=image.device)
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2
