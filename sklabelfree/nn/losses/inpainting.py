"""Inpainting (context encoders): region masks and the masked reconstruction loss."""

import torch
from torch.nn import functional as F

__all__ = ["inpainting_loss_weights", "masked_reconstruction_loss", "region_masks"]

_REGIONS = ("center", "random", "blocks")
N_BLOCKS = 4
"""Number of squares of the ``'blocks'`` region."""


def _side(size, extent):
    return max(1, min(extent, int(round(float(size) * extent))))


def _squares(n, h, w, side_h, side_w, generator, device):
    """Boolean masks ``(n, h, w)`` of one random square each (uniform position)."""
    top = torch.randint(0, h - side_h + 1, (n,), generator=generator, device=device)
    left = torch.randint(0, w - side_w + 1, (n,), generator=generator, device=device)
    rows = torch.arange(h, device=device)
    cols = torch.arange(w, device=device)
    in_rows = (rows >= top[:, None]) & (rows < top[:, None] + side_h)
    in_cols = (cols >= left[:, None]) & (cols < left[:, None] + side_w)
    return in_rows[:, :, None] & in_cols[:, None, :]


def region_masks(n, height, width, region="center", size=0.5, generator=None,
                 device=None):
    """Masks of the regions that a context encoder drops, one per image.

    With ``s_h = round(size * height)`` and ``s_w = round(size * width)``
    (at least 1 pixel):

    - ``'center'``: the central ``s_h x s_w`` rectangle, the same for every
      image (Pathak et al.'s central region; ``size=0.5`` is their choice,
      a quarter of the pixels);
    - ``'random'``: one ``s_h x s_w`` rectangle at a uniformly random
      position in each image;
    - ``'blocks'``: the union of 4 rectangles of half that side at random
      positions, possibly overlapping, so at most as many pixels as the
      other two (their "random block" masks).

    Parameters
    ----------
    n, height, width : int
    region : {'center', 'random', 'blocks'}, default='center'
    size : float in (0, 1], default=0.5
        Side of the region as a fraction of the image's side.
    generator : torch.Generator or None, default=None
        Draws the random positions.
    device : str or torch.device or None, default=None

    Returns
    -------
    mask : torch.BoolTensor of shape (n, 1, height, width)
        True on the dropped pixels.

    References
    ----------
    .. [1] D. Pathak, P. Krahenbuhl, J. Donahue, T. Darrell, A. A. Efros,
       "Context Encoders: Feature Learning by Inpainting", CVPR 2016, section 3.3.

    Examples
    --------
    >>> from sklabelfree.nn.losses.inpainting import region_masks
    >>> region_masks(1, 4, 4)[0, 0].int().tolist()
    [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]
    """
    if region not in _REGIONS:
        raise ValueError(f"region must be one of {_REGIONS}, got {region!r}.")
    if not 0 < float(size) <= 1:
        raise ValueError(f"size must be in (0, 1], got {size!r}.")
    if device is None and generator is not None:
        device = generator.device
    n, h, w = int(n), int(height), int(width)
    side_h, side_w = _side(size, h), _side(size, w)
    if region == "center":
        mask = torch.zeros((n, h, w), dtype=torch.bool, device=device)
        top, left = (h - side_h) // 2, (w - side_w) // 2
        mask[:, top:top + side_h, left:left + side_w] = True
    elif region == "random":
        mask = _squares(n, h, w, side_h, side_w, generator, device)
    else:
        bh, bw = _side(size / 2, h), _side(size / 2, w)
        mask = _squares(n * N_BLOCKS, h, w, bh, bw, generator, device)
        mask = mask.view(n, N_BLOCKS, h, w).any(1)
    return mask[:, None]


def inpainting_loss_weights(mask, overlap=0, overlap_weight=10.0):
    """Per-pixel weights of the reconstruction loss: the region and its border.

    1 on the dropped pixels, ``overlap_weight`` on the visible pixels within
    ``overlap`` pixels of them (a square neighbourhood) and 0 elsewhere.
    Pathak et al. predict a patch that overlaps the context by a few pixels
    and weigh the loss 10 times more there, which helps the filled-in
    region agree with its surroundings.

    Parameters
    ----------
    mask : torch.BoolTensor of shape (n, 1, h, w)
        True on the dropped pixels (:func:`region_masks`).
    overlap : int, default=0
        Width of the border, in pixels; 0: the region only.
    overlap_weight : float, default=10.0

    Returns
    -------
    weights : torch.Tensor of shape (n, 1, h, w), float32

    Examples
    --------
    >>> from sklabelfree.nn.losses.inpainting import inpainting_loss_weights, region_masks
    >>> inpainting_loss_weights(region_masks(1, 4, 4), overlap=1)[0, 0, 0].tolist()
    [10.0, 10.0, 10.0, 10.0]
    """
    m = mask.to(torch.float32)
    if not overlap:
        return m
    k = 2 * int(overlap) + 1
    grown = F.max_pool2d(m, k, stride=1, padding=int(overlap))
    return m + float(overlap_weight) * (grown - m)


def masked_reconstruction_loss(reconstruction, target, weights):
    """Weighted mean squared error over the masked pixels (the inpainting L2 loss).

    ``sum(weights * (reconstruction - target) ** 2) / (c * sum(weights))``
    with ``c`` the number of channels: pixels of weight 0 (the visible
    context) do not count. The paper's loss is the squared L2 norm over the
    dropped region; the mean over its pixels keeps the scale independent
    of the region's size.

    Parameters
    ----------
    reconstruction, target : torch.Tensor of shape (n, c, h, w)
    weights : torch.Tensor of shape (n, 1, h, w)
        E.g. :func:`inpainting_loss_weights`.

    Returns
    -------
    loss : torch.Tensor (scalar)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses.inpainting import masked_reconstruction_loss
    >>> target = torch.zeros(1, 1, 2, 2)
    >>> rec = torch.tensor([[[[1.0, 5.0], [0.0, 0.0]]]])
    >>> weights = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]])
    >>> float(masked_reconstruction_loss(rec, target, weights))
    0.5
    """
    if reconstruction.shape != target.shape:
        raise ValueError(f"reconstruction and target must have the same shape, got "
                         f"{tuple(reconstruction.shape)} and {tuple(target.shape)}.")
    if weights.dim() != reconstruction.dim() or weights.shape[1] != 1:
        raise ValueError(
            f"weights must have one channel, shape (n, 1, h, w), got {tuple(weights.shape)}"
            " (the same weight for every channel of a pixel).")
    err = (reconstruction - target).pow(2) * weights
    denom = weights.sum() * reconstruction.shape[1]
    return err.sum() / denom.clamp_min(1e-12)
