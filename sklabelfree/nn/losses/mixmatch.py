"""MixMatch's losses (Berthelot et al. 2019): label guessing and the two loss terms."""

import torch
from torch.nn import functional as F

from ..functional import _check_temperature, sharpen
from .consistency import softmax_mse_loss

__all__ = ["mixmatch_guess_labels", "mixmatch_labeled_loss", "mixmatch_unlabeled_loss"]


def mixmatch_guess_labels(logits, temperature):
    """MixMatch's guessed labels: the sharpened mean prediction over K augmentations.

    ``q_b = Sharpen(1/K sum_k softmax(logits[k, b]), T)`` with
    ``Sharpen(p, T)_i = p_i^(1/T) / sum_j p_j^(1/T)`` (equations 6 and 7 of
    the paper). The result carries no gradient.

    Parameters
    ----------
    logits : torch.Tensor of shape (K, n, n_classes)
        The model's logits on the ``K`` augmentations of each of ``n`` rows.
    temperature : float
        ``T``; 1 keeps the mean prediction, towards 0 it becomes one-hot.

    Returns
    -------
    q : torch.Tensor of shape (n, n_classes)
        Rows sum to 1.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import mixmatch_guess_labels
    >>> logits = torch.log(torch.tensor([[[0.8, 0.2]], [[0.4, 0.6]]]))
    >>> mixmatch_guess_labels(logits, 0.5)  # mean (0.6, 0.4), sharpened
    tensor([[0.6923, 0.3077]])
    """
    _check_temperature(temperature)
    if logits.dim() != 3:
        raise ValueError(
            f"logits must have shape (K, n, n_classes), got {tuple(logits.shape)}.")
    probs = torch.softmax(logits.detach(), dim=-1).mean(dim=0)
    return sharpen(probs, temperature)


def mixmatch_labeled_loss(logits, targets):
    """MixMatch's ``L_X``: cross-entropy of mixed labeled rows against their mixed targets.

    ``L_X = 1/|X'| sum_b H(t_b, softmax(logits_b)) = -1/|X'| sum_b sum_c t_bc log p_bc``.

    Parameters
    ----------
    logits : torch.Tensor of shape (n, n_classes)
    targets : torch.Tensor of shape (n, n_classes)
        Soft targets (rows sum to 1).

    Returns
    -------
    torch.Tensor (scalar)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import mixmatch_labeled_loss
    >>> round(float(mixmatch_labeled_loss(torch.zeros(1, 2), torch.tensor([[1.0, 0.0]]))), 4)
    0.6931
    """
    if logits.shape[0] == 0:
        return logits.sum() * 0.0
    return -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def mixmatch_unlabeled_loss(logits, targets):
    """MixMatch's ``L_U``: squared error between probabilities and mixed guessed labels.

    ``L_U = 1/(L |U'|) sum_b ||t_b - softmax(logits_b)||_2^2`` with ``L`` the
    number of classes: the mean squared error over every entry, on
    probabilities (not logits). Bounded, hence less sensitive than
    cross-entropy to wrong guesses.

    Parameters
    ----------
    logits : torch.Tensor of shape (n, n_classes)
    targets : torch.Tensor of shape (n, n_classes)
        Mixed guessed labels (constants).

    Returns
    -------
    torch.Tensor (scalar); 0 when ``n == 0``.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import mixmatch_unlabeled_loss
    >>> float(mixmatch_unlabeled_loss(torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])))
    0.25
    """
    return softmax_mse_loss(logits, targets.detach())
