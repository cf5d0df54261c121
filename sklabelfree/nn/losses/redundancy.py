"""Redundancy-reduction losses: Barlow Twins and VICReg (no negatives needed)."""

import torch
from torch.nn import functional as F

__all__ = ["barlow_twins_loss", "vicreg_loss"]


def _check_pair(z1, z2):
    if z1.shape != z2.shape or z1.dim() != 2:
        raise ValueError(f"z1 and z2 must be (n, d) of the same shape, got "
                         f"{tuple(z1.shape)} and {tuple(z2.shape)}.")
    if z1.shape[0] < 2:
        raise ValueError("These losses use batch statistics: they need at least 2 rows, "
                         f"got {z1.shape[0]}.")


def barlow_twins_loss(z1, z2, lambda_offdiag=5e-3, eps=1e-5):
    """Barlow Twins: drive the cross-correlation of two views to the identity.

    Each dimension is standardised over the batch (mean 0, variance 1, the
    biased variance as batch normalisation computes it), the
    cross-correlation matrix is ``C = z1n.T @ z2n / n`` and the loss is
    (Zbontar et al. 2021, eq. 1)::

        sum_i (1 - C_ii)^2 + lambda_offdiag * sum_{i != j} C_ij^2

    The first term makes the views agree, the second decorrelates the
    dimensions, which keeps the embedding from collapsing.

    Parameters
    ----------
    z1, z2 : torch.Tensor of shape (n, d)
    lambda_offdiag : float, default=5e-3
        Weight of the redundancy term (the paper's ``lambda``).
    eps : float, default=1e-5
        Added to the variance before the square root.

    Returns
    -------
    loss : torch.Tensor (scalar)

    References
    ----------
    .. [1] J. Zbontar, L. Jing, I. Misra, Y. LeCun, S. Deny, "Barlow Twins:
       Self-Supervised Learning via Redundancy Reduction", ICML 2021.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import barlow_twins_loss
    >>> z = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])
    >>> round(float(barlow_twins_loss(z, z, lambda_offdiag=0.5)), 3)
    1.0
    """
    _check_pair(z1, z2)
    n = z1.shape[0]

    def standardise(z):
        return (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + eps)

    c = standardise(z1).T @ standardise(z2) / n
    diag = torch.diagonal(c)
    on = (1 - diag).pow(2).sum()
    off = c.pow(2).sum() - diag.pow(2).sum()
    return on + lambda_offdiag * off


def _off_diagonal_sq_sum(m):
    return m.pow(2).sum() - torch.diagonal(m).pow(2).sum()


def vicreg_loss(z1, z2, sim_weight=25.0, var_weight=25.0, cov_weight=1.0, eps=1e-4,
                return_terms=False):
    """VICReg: variance, invariance and covariance regularisation of two views.

    With ``d`` dimensions (Bardes et al. 2022, section 3)::

        invariance  s = mean squared distance between z1 and z2
        variance    v = mean_j relu(1 - sqrt(Var(z_j) + eps)), averaged over the 2 views
        covariance  c = sum_{i != j} Cov(z)_ij^2 / d, summed over the 2 views
        loss = sim_weight * s + var_weight * v + cov_weight * c

    (unbiased variance and covariance over the batch). The variance hinge
    keeps each dimension's standard deviation near 1 and the covariance
    term decorrelates the dimensions; no negatives, no momentum encoder.

    Parameters
    ----------
    z1, z2 : torch.Tensor of shape (n, d)
    sim_weight, var_weight, cov_weight : float, default=25, 25, 1
        The paper's ``lambda``, ``mu`` and ``nu``.
    eps : float, default=1e-4
    return_terms : bool, default=False
        Also return the three unweighted terms ``(s, v, c)``.

    Returns
    -------
    loss : torch.Tensor (scalar)
    terms : tuple of 3 torch.Tensor
        Only with ``return_terms=True``.

    References
    ----------
    .. [1] A. Bardes, J. Ponce, Y. LeCun, "VICReg: Variance-Invariance-Covariance
       Regularization for Self-Supervised Learning", ICLR 2022.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import vicreg_loss
    >>> z = torch.tensor([[2.0, 0.0], [-2.0, 0.0]])
    >>> loss, (s, v, c) = vicreg_loss(z, z, eps=0.0, return_terms=True)
    >>> float(s), float(v), float(c)
    (0.0, 0.5, 0.0)
    """
    _check_pair(z1, z2)
    n, d = z1.shape
    inv = F.mse_loss(z1, z2)
    var = 0.0
    cov = 0.0
    for z in (z1, z2):
        zc = z - z.mean(0)
        std = torch.sqrt(zc.pow(2).sum(0) / (n - 1) + eps)
        var = var + F.relu(1 - std).mean() / 2
        cov = cov + _off_diagonal_sq_sum(zc.T @ zc / (n - 1)) / d
    loss = sim_weight * inv + var_weight * var + cov_weight * cov
    if return_terms:
        return loss, (inv, var, cov)
    return loss
