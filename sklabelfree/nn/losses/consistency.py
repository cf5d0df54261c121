"""Consistency losses: the Pi-model, temporal ensembling and the mean teacher.

Laine & Aila (2017) and Tarvainen & Valpola (2017) penalise the squared
difference between two probability vectors predicted for the same row under
different noise (augmentation, dropout): the mean over rows and classes,
``1/(C |B|) sum_b ||p_b - q_b||^2``. They differ in where ``q`` comes from:
a second stochastic pass (Pi-model), an exponential moving average of past
predictions of the row (temporal ensembling) or a teacher network whose
weights are the moving average of the student's (mean teacher).
"""

import torch

__all__ = [
    "mean_teacher_consistency_loss",
    "pi_model_consistency_loss",
    "softmax_mse_loss",
    "temporal_ensembling_consistency_loss",
    "temporal_ensembling_targets",
]


def softmax_mse_loss(logits, targets, mask=None):
    """Mean squared error between ``softmax(logits)`` and target probabilities.

    ``1/(C n) sum_b m_b ||softmax(logits_b) - t_b||^2``: the mean over
    every entry, rows with ``m_b = 0`` count as zero but still in ``n``
    (the normalisation of Laine & Aila's Algorithms 1 and 2). Gradients flow
    into ``targets`` when they carry any (detach them for fixed targets).

    Parameters
    ----------
    logits : torch.Tensor of shape (n, C)
    targets : torch.Tensor of shape (n, C)
        Probabilities.
    mask : torch.Tensor of shape (n,) or None, default=None
        Bool or float weights per row; None keeps every row.

    Returns
    -------
    torch.Tensor (scalar); 0 when ``n == 0``.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import softmax_mse_loss
    >>> float(softmax_mse_loss(torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])))
    0.25
    """
    if logits.shape != targets.shape:
        raise ValueError(
            f"logits and targets must have the same shape, got {tuple(logits.shape)} "
            f"and {tuple(targets.shape)}.")
    if logits.shape[0] == 0:
        return logits.sum() * 0.0
    sq = (torch.softmax(logits, dim=1) - targets).pow(2).mean(dim=1)
    if mask is not None:
        sq = sq * mask.to(sq.dtype)
    return sq.mean()


def pi_model_consistency_loss(logits_1, logits_2):
    """The Pi-model's unsupervised term (Laine & Aila 2017, Algorithm 1).

    ``1/(C |B|) sum_b ||softmax(logits_1_b) - softmax(logits_2_b)||^2`` for
    two stochastic passes (different augmentation and dropout) over the
    same rows. As in the paper, both passes are network outputs and the
    gradient flows through both (the term is symmetric).

    Parameters
    ----------
    logits_1, logits_2 : torch.Tensor of shape (n, C)

    Returns
    -------
    torch.Tensor (scalar); 0 when the two passes agree or ``n == 0``.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import pi_model_consistency_loss
    >>> a = torch.tensor([[0.0, 0.0]]); b = torch.log(torch.tensor([[0.75, 0.25]]))
    >>> round(float(pi_model_consistency_loss(a, b)), 6)  # ((0.25)^2 + (0.25)^2) / 2
    0.0625
    >>> float(pi_model_consistency_loss(a, a))
    0.0
    """
    return softmax_mse_loss(logits_1, torch.softmax(logits_2, dim=1))


def temporal_ensembling_targets(ensemble, n_updates, alpha):
    """Bias-corrected ensemble targets ``z~ = Z / (1 - alpha^t)`` (Laine & Aila 2017).

    ``Z`` starts at zero and is updated ``Z <- alpha Z + (1 - alpha) z``
    with each new prediction ``z``; after ``t`` updates its weights sum to
    ``1 - alpha^t``, which the division corrects (a row predicted once gets
    its prediction back). Rows never updated (``t = 0``) have no target:
    their entries are 0 and ``valid`` is False.

    Parameters
    ----------
    ensemble : torch.Tensor of shape (n, C)
        Accumulated predictions ``Z``.
    n_updates : torch.Tensor of shape (n,)
        Number of updates ``t`` of each row.
    alpha : float in [0, 1)
        Ensembling momentum.

    Returns
    -------
    targets : torch.Tensor of shape (n, C)
    valid : torch.Tensor of bool, shape (n,)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import temporal_ensembling_targets
    >>> Z = 0.4 * torch.tensor([[0.5, 0.5]])  # one update with alpha=0.6
    >>> temporal_ensembling_targets(Z, torch.tensor([1]), 0.6)[0]
    tensor([[0.5000, 0.5000]])
    """
    t = n_updates.to(ensemble.dtype)
    valid = n_updates > 0
    correction = 1.0 - torch.pow(torch.full_like(t, float(alpha)), t)
    correction = torch.where(valid, correction, torch.ones_like(correction))
    targets = ensemble / correction[:, None]
    return targets * valid[:, None].to(ensemble.dtype), valid


def temporal_ensembling_consistency_loss(logits, targets, valid=None):
    """Temporal ensembling's unsupervised term (Laine & Aila 2017, Algorithm 2).

    ``1/(C |B|) sum_b 1(valid_b) ||softmax(logits_b) - z~_b||^2`` with the
    ensemble targets ``z~`` treated as constants (no gradient).

    Parameters
    ----------
    logits : torch.Tensor of shape (n, C)
    targets : torch.Tensor of shape (n, C)
        Bias-corrected ensemble predictions
        (:func:`temporal_ensembling_targets`).
    valid : torch.Tensor of bool, shape (n,), or None, default=None
        Rows that have a target; the others add 0 (but count in ``|B|``).

    Returns
    -------
    torch.Tensor (scalar)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import temporal_ensembling_consistency_loss
    >>> logits = torch.zeros(2, 2); targets = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    >>> float(temporal_ensembling_consistency_loss(logits, targets,
    ...                                            torch.tensor([True, False])))
    0.125
    """
    return softmax_mse_loss(logits, targets.detach(), mask=valid)


def mean_teacher_consistency_loss(student_logits, teacher_logits):
    """The mean teacher's consistency cost (Tarvainen & Valpola 2017).

    ``1/(C n) sum_b ||softmax(student_b) - softmax(teacher_b)||^2``; the
    teacher's output is a constant (no gradient reaches the teacher).

    Parameters
    ----------
    student_logits, teacher_logits : torch.Tensor of shape (n, C)

    Returns
    -------
    torch.Tensor (scalar)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import mean_teacher_consistency_loss
    >>> s = torch.zeros(1, 2); t = torch.log(torch.tensor([[0.75, 0.25]]))
    >>> round(float(mean_teacher_consistency_loss(s, t)), 6)
    0.0625
    """
    return softmax_mse_loss(student_logits, torch.softmax(teacher_logits.detach(), dim=1))
