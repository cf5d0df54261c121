"""Multi-task loss weighting: uncertainty weights, GradNorm and PCGrad.

Small functions over tensors, so that each rule can be checked by hand; the
training loop that uses them is
:class:`sklabelfree.transfer.MultiTaskNetClassifier`.
"""

import torch

__all__ = [
    "masked_task_losses",
    "uncertainty_weighted_loss",
    "gradnorm_loss",
    "pcgrad_project",
]


def masked_task_losses(logits, y, loss_fn=None):
    """Each task's loss over the rows labeled for it (``y[:, t] >= 0``).

    Parameters
    ----------
    logits : sequence of torch.Tensor
        One ``(n, n_classes_t)`` tensor of scores per task.
    y : torch.Tensor of shape (n, n_tasks)
        Class codes, ``-1`` where a row has no label for a task.
    loss_fn : callable or None, default=None
        ``loss_fn(logits_t, y_t)`` on the labeled rows of a task, reduced to a
        scalar; None is the mean cross-entropy.

    Returns
    -------
    losses : list of torch.Tensor or None
        ``None`` for a task with no labeled row in ``y``: such a task adds
        nothing, and rows missing a task's label never enter its loss.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import masked_task_losses
    >>> logits = [torch.zeros(3, 2), torch.zeros(3, 4)]
    >>> y = torch.tensor([[0, -1], [1, -1], [-1, -1]])
    >>> losses = masked_task_losses(logits, y)
    >>> round(float(losses[0]), 4), losses[1]
    (0.6931, None)
    """
    if loss_fn is None:
        loss_fn = torch.nn.functional.cross_entropy
    if y.ndim != 2 or y.shape[1] != len(logits):
        raise ValueError(
            f"y has shape {tuple(y.shape)}; expected (n, {len(logits)}), one column "
            "per task.")
    out = []
    for t, z in enumerate(logits):
        mask = y[:, t] >= 0
        if not bool(mask.any()):
            out.append(None)
        elif bool(mask.all()):
            out.append(loss_fn(z, y[:, t]))
        else:
            out.append(loss_fn(z[mask], y[mask, t]))
    return out


def uncertainty_weighted_loss(losses, log_vars):
    """Homoscedastic-uncertainty weighting: ``sum_t exp(-s_t) L_t + s_t``.

    Kendall, Gal & Cipolla (2018) weigh each task's loss by a learned
    precision. With ``s_t = log sigma_t^2`` learned along with the network,
    each task contributes ``exp(-s_t) L_t + s_t``: a task with a large loss
    is down-weighted, and the ``+ s_t`` term keeps the weights from
    collapsing to zero. For a fixed ``L_t`` the minimum is at
    ``s_t = log L_t``.

    For classification the paper's approximation (its eq. 10, a softmax
    with temperature ``sigma^2``) gives ``exp(-s_t) L_t + s_t / 2``; this
    function uses the regulariser ``s_t`` of its regression form (eq. 7)
    for every task, as most implementations do: the same weighting rule,
    with the optimum at ``exp(-s_t) = 1 / L_t``.

    Parameters
    ----------
    losses : sequence of torch.Tensor or None
        One scalar loss per task; ``None`` for a task absent from the batch,
        which adds neither its loss nor its ``s_t`` (else ``s_t`` would be
        pushed down by the batches that do not hold the task).
    log_vars : torch.Tensor of shape (n_tasks,)
        The learned log-variances ``s_t``.

    Returns
    -------
    loss : torch.Tensor (scalar)

    References
    ----------
    A. Kendall, Y. Gal and R. Cipolla, "Multi-task learning using
    uncertainty to weigh losses for scene geometry and semantics",
    CVPR 2018.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import uncertainty_weighted_loss
    >>> losses = [torch.tensor(2.0), torch.tensor(0.5)]
    >>> s = torch.tensor([0.0, 1.0])
    >>> round(float(uncertainty_weighted_loss(losses, s)), 4)  # 2 + 0 + 0.5/e + 1
    3.1839
    """
    if len(losses) != log_vars.shape[0]:
        raise ValueError(
            f"{len(losses)} losses but {log_vars.shape[0]} log-variances.")
    terms = [torch.exp(-log_vars[t]) * L + log_vars[t]
             for t, L in enumerate(losses) if L is not None]
    if not terms:
        return log_vars.sum() * 0.0
    return torch.stack(terms).sum()


def gradnorm_loss(grad_norms, losses, initial_losses, alpha=1.5):
    """GradNorm's loss on the task weights: ``sum_t |G_t - mean(G) r_t^alpha|``.

    Chen et al. (2018). ``G_t`` is the norm of the gradient of the weighted
    task loss ``w_t L_t`` with respect to the last shared layer's weights,
    ``r_t = (L_t / L_t(0)) / mean_s (L_s / L_s(0))`` the relative inverse
    training rate (a task that has learned less has a larger ``r_t``). The
    target ``mean(G) r_t^alpha`` is a constant (no gradient flows through
    it), so differentiating this loss with respect to the weights ``w``
    moves each ``G_t`` toward it: tasks that train slowly get larger
    gradients.

    Parameters
    ----------
    grad_norms : torch.Tensor of shape (n_tasks,)
        ``G_t``, differentiable with respect to the task weights.
    losses : torch.Tensor of shape (n_tasks,)
        The current (unweighted) task losses ``L_t``.
    initial_losses : torch.Tensor of shape (n_tasks,)
        ``L_t(0)``, the losses at the start of training.
    alpha : float, default=1.5
        Strength of the pull toward equal training rates (0: equal
        gradient norms).

    Returns
    -------
    loss : torch.Tensor (scalar)

    References
    ----------
    Z. Chen, V. Badrinarayanan, C.-Y. Lee and A. Rabinovich, "GradNorm:
    Gradient normalization for adaptive loss balancing in deep multitask
    networks", ICML 2018.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import gradnorm_loss
    >>> G = torch.tensor([1.0, 3.0])                    # mean 2
    >>> L, L0 = torch.tensor([1.0, 1.0]), torch.tensor([1.0, 1.0])  # r = 1
    >>> float(gradnorm_loss(G, L, L0))                  # |1 - 2| + |3 - 2|
    2.0
    """
    with torch.no_grad():
        ratio = losses.detach() / initial_losses.detach()
        r = ratio / ratio.mean()
        target = grad_norms.detach().mean() * r ** alpha
    return (grad_norms - target).abs().sum()


def pcgrad_project(grads, generator=None):
    """PCGrad: project each task's gradient off the gradients it conflicts with.

    Yu et al. (2020). For each task ``i``, start from ``g_i`` and visit the
    other tasks ``j`` in a random order; when ``g_i . g_j < 0`` (the
    gradients conflict), remove the component along ``g_j``:
    ``g_i <- g_i - (g_i . g_j) / ||g_j||^2 g_j``. The projections are
    against the original gradients ``g_j``. The update of the shared
    parameters is the sum of the projected gradients.

    With two tasks each projected gradient is orthogonal to the other's
    gradient when they conflicted, and unchanged otherwise, so it never
    has a negative inner product with it. With more tasks the last
    projection of the sequence is exact and earlier ones may be undone in
    part, as in the paper's algorithm.

    Parameters
    ----------
    grads : sequence of torch.Tensor
        One flat gradient per task, all of the same shape.
    generator : torch.Generator or None, default=None
        Source of the random orders.

    Returns
    -------
    projected : list of torch.Tensor

    References
    ----------
    T. Yu, S. Kumar, A. Gupta, S. Levine, K. Hausman and C. Finn, "Gradient
    surgery for multi-task learning", NeurIPS 2020.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import pcgrad_project
    >>> g1, g2 = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1.0])
    >>> [p.tolist() for p in pcgrad_project([g1, g2])]  # g1 . g2 = -1 < 0
    [[0.5, 0.5], [0.0, 1.0]]
    """
    grads = list(grads)
    n = len(grads)
    out = []
    for i in range(n):
        g = grads[i].clone()
        others = [j for j in range(n) if j != i]
        if len(others) > 1:
            order = torch.randperm(len(others), generator=generator).tolist()
            others = [others[k] for k in order]
        for j in others:
            gj = grads[j]
            dot = torch.dot(g.flatten(), gj.flatten())
            if dot < 0:
                sq = torch.dot(gj.flatten(), gj.flatten())
                if sq > 0:
                    g = g - (dot / sq) * gj
        out.append(g)
    return out
