"""Masked image modelling: random patch masking and the loss on the masked patches."""

import torch

__all__ = ["random_masking", "masked_patch_loss", "n_masked_patches", "normalize_patches"]


def n_masked_patches(n_patches, mask_ratio):
    """Number of patches masked per image: ``round(mask_ratio * n_patches)``.

    Python's ``round`` (halves to even). At least one patch must be masked
    and one stay visible.

    Parameters
    ----------
    n_patches : int
    mask_ratio : float

    Returns
    -------
    n_masked : int

    Examples
    --------
    >>> from sklabelfree.nn.losses.masked import n_masked_patches
    >>> n_masked_patches(16, 0.75)
    12
    """
    n_masked = int(round(float(mask_ratio) * int(n_patches)))
    if not 0 < n_masked < n_patches:
        raise ValueError(
            f"mask_ratio={mask_ratio} masks {n_masked} of the {n_patches} patches of an "
            "image; at least one patch must be masked and one stay visible.")
    return n_masked


def random_masking(n_samples, n_patches, mask_ratio=0.75, generator=None, device=None):
    """Draw which patches of each image are masked (MAE's per-sample shuffle).

    For each image, uniform noise is drawn for each patch and the patches
    are sorted by it (``argsort``): the first ``n_patches - n_masked`` of
    that random order are kept, the others masked, with ``n_masked =
    round(mask_ratio * n_patches)`` for every image (He et al. 2022,
    section 3). The whole batch is drawn at once.

    Parameters
    ----------
    n_samples : int
    n_patches : int
    mask_ratio : float, default=0.75
    generator : torch.Generator or None, default=None
        The source of the noise; None uses torch's global random state.
    device : str, torch.device or None, default=None

    Returns
    -------
    ids_keep : torch.LongTensor of shape (n_samples, n_patches - n_masked)
        Indices of the kept (visible) patches, in the random order.
    mask : torch.Tensor of shape (n_samples, n_patches)
        1.0 for a masked patch, 0.0 for a visible one (float32).
    ids_restore : torch.LongTensor of shape (n_samples, n_patches)
        Position of each patch in the random order: gathering the
        shuffled tokens (the kept ones first, then the masked ones) with
        it puts them back in the order of the patch grid.

    References
    ----------
    .. [1] K. He, X. Chen, S. Xie, Y. Li, P. Dollár, R. Girshick, "Masked
       Autoencoders Are Scalable Vision Learners", CVPR 2022.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses.masked import random_masking
    >>> g = torch.Generator().manual_seed(0)
    >>> ids_keep, mask, ids_restore = random_masking(3, 16, 0.75, generator=g)
    >>> ids_keep.shape, mask.sum(1).tolist()
    (torch.Size([3, 4]), [12.0, 12.0, 12.0])
    >>> bool((mask.gather(1, ids_keep) == 0).all())
    True
    """
    n_masked = n_masked_patches(n_patches, mask_ratio)
    if device is None and generator is not None:
        device = generator.device
    noise = torch.rand(n_samples, n_patches, generator=generator, device=device)
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    n_keep = n_patches - n_masked
    ids_keep = ids_shuffle[:, :n_keep]
    mask = torch.ones(n_samples, n_patches, device=noise.device)
    mask[:, :n_keep] = 0.0
    mask = torch.gather(mask, 1, ids_restore)
    return ids_keep, mask, ids_restore


def normalize_patches(patches, eps=1e-6):
    """Standardise each patch by its own pixels: ``(t - mean) / sqrt(var + eps)``.

    The targets of ``norm_pix_loss`` (MAE's per-patch normalised pixels;
    the variance is the unbiased one, as in the authors' code).

    Parameters
    ----------
    patches : torch.Tensor of shape (..., patch_dim)
    eps : float, default=1e-6

    Returns
    -------
    normalised : torch.Tensor, same shape

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses.masked import normalize_patches
    >>> normalize_patches(torch.tensor([[1.0, 3.0]]), eps=0.0)
    tensor([[-0.7071,  0.7071]])
    """
    if patches.shape[-1] < 2:
        raise ValueError(
            "normalize_patches needs at least 2 values per patch (their variance); "
            f"got patches of {patches.shape[-1]}.")
    mean = patches.mean(dim=-1, keepdim=True)
    var = patches.var(dim=-1, keepdim=True)
    return (patches - mean) / torch.sqrt(var + eps)


def masked_patch_loss(pred, target, mask, norm_pix=False, eps=1e-6):
    """Mean squared error on the masked patches only (MAE's loss).

    With ``e_i`` the mean over the pixels of patch ``i`` of ``(pred -
    target)^2`` and ``m_i`` its mask (1 if masked)::

        loss = sum_i m_i e_i / sum_i m_i

    over all the patches of the batch: a visible patch's prediction does
    not count. With ``norm_pix=True`` the target of each patch is first
    standardised by its own mean and variance (:func:`normalize_patches`),
    the paper's normalised pixels, which they found give better
    representations.

    Parameters
    ----------
    pred : torch.Tensor of shape (n, L, patch_dim)
        Predicted pixels of every patch (see
        :func:`~sklabelfree.nn.patchify`).
    target : torch.Tensor of shape (n, L, patch_dim)
        The true patches.
    mask : torch.Tensor of shape (n, L)
        1 for a masked patch, 0 for a visible one.
    norm_pix : bool, default=False
    eps : float, default=1e-6
        Added to each patch's variance when ``norm_pix``.

    Returns
    -------
    loss : torch.Tensor (scalar)

    References
    ----------
    .. [1] K. He, X. Chen, S. Xie, Y. Li, P. Dollár, R. Girshick, "Masked
       Autoencoders Are Scalable Vision Learners", CVPR 2022.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses.masked import masked_patch_loss
    >>> pred = torch.tensor([[[1.0, 1.0], [9.0, 9.0]]])
    >>> target = torch.zeros(1, 2, 2)
    >>> float(masked_patch_loss(pred, target, torch.tensor([[1.0, 0.0]])))
    1.0
    """
    if pred.shape != target.shape or pred.dim() != 3:
        raise ValueError(f"pred and target must be (n, L, patch_dim) of the same shape, "
                         f"got {tuple(pred.shape)} and {tuple(target.shape)}.")
    if tuple(mask.shape) != tuple(pred.shape[:2]):
        raise ValueError(f"mask must be (n, L) = {tuple(pred.shape[:2])}, got "
                         f"{tuple(mask.shape)}.")
    if norm_pix:
        target = normalize_patches(target, eps)
    per_patch = (pred - target).pow(2).mean(dim=-1)
    mask = mask.to(per_patch.dtype)
    total = mask.sum()
    if float(total) == 0:
        raise ValueError("mask masks no patch: the loss is the error on the masked patches.")
    return (per_patch * mask).sum() / total
