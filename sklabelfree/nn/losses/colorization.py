"""Colorization as classification: CIE Lab, quantised ab bins, soft targets, rebalancing.

The pieces of Zhang, Isola and Efros (2016): images are converted to CIE
Lab, a network sees the lightness ``L`` and predicts, at every pixel, a
distribution over the bins of a grid of size 10 in the ``ab`` plane; the
targets are soft-encoded over the 5 nearest bins and each pixel's loss is
weighted to counter the dominance of desaturated colours.
"""

import torch
from torch.nn import functional as F

__all__ = [
    "ab_grid",
    "annealed_mean_ab",
    "class_rebalancing_weights",
    "lab_to_rgb",
    "occupied_ab_bins",
    "quantize_ab",
    "rebalanced_cross_entropy",
    "rgb_to_lab",
    "soft_encode_ab",
]

# sRGB (D65) <-> CIE XYZ, and the D65 reference white.
_RGB_TO_XYZ = torch.tensor([[0.4124564, 0.3575761, 0.1804375],
                            [0.2126729, 0.7151522, 0.0721750],
                            [0.0193339, 0.1191920, 0.9503041]], dtype=torch.float64)
_WHITE = torch.tensor([0.95047, 1.0, 1.08883], dtype=torch.float64)
_DELTA = 6.0 / 29.0


def _move_channels(x, dim, n_channels, name):
    if x.dim() == 0 or x.shape[dim] != n_channels:
        raise ValueError(f"{name} must have {n_channels} channels along dim {dim}, got "
                         f"shape {tuple(x.shape)}.")
    return x.movedim(dim, -1)


def rgb_to_lab(rgb, dim=1):
    """Convert sRGB values in ``[0, 1]`` to CIE Lab (D65 white), batched.

    The sRGB gamma is undone (``c / 12.92`` below 0.04045, else
    ``((c + 0.055) / 1.055) ** 2.4``), the linear values are mapped to XYZ
    and divided by the D65 white, and
    ``L = 116 f(Y) - 16``, ``a = 500 (f(X) - f(Y))``, ``b = 200 (f(Y) - f(Z))``
    with ``f(t) = t ** (1/3)`` above ``(6/29) ** 3``, else
    ``t / (3 (6/29) ** 2) + 4/29``. ``L`` is in ``[0, 100]``, ``a`` and
    ``b`` roughly in ``[-110, 110]``. Values outside ``[0, 1]`` are clipped.

    Parameters
    ----------
    rgb : torch.Tensor
        With 3 channels (R, G, B) along ``dim``, e.g. images ``(n, 3, h, w)``.
    dim : int, default=1
        The channel dimension.

    Returns
    -------
    lab : torch.Tensor
        Same shape and dtype, channels (L, a, b).

    References
    ----------
    .. [1] CIE 15:2004, "Colorimetry", 3rd edition; IEC 61966-2-1 (sRGB).

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses.colorization import rgb_to_lab
    >>> red = torch.tensor([1.0, 0.0, 0.0]).reshape(1, 3, 1, 1)
    >>> [round(v, 2) for v in rgb_to_lab(red).flatten().tolist()]
    [53.24, 80.09, 67.2]
    """
    x = _move_channels(rgb, dim, 3, "rgb")
    dtype = x.dtype if x.is_floating_point() else torch.float32
    x = x.to(dtype).clamp(0.0, 1.0)
    linear = torch.where(x > 0.04045, ((x + 0.055) / 1.055).pow(2.4), x / 12.92)
    xyz = linear @ _RGB_TO_XYZ.to(x.device, dtype).T / _WHITE.to(x.device, dtype)
    f = torch.where(xyz > _DELTA ** 3, xyz.clamp_min(_DELTA ** 3).pow(1.0 / 3.0),
                    xyz / (3 * _DELTA ** 2) + 4.0 / 29.0)
    fx, fy, fz = f.unbind(-1)
    lab = torch.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=-1)
    return lab.movedim(-1, dim)


def lab_to_rgb(lab, dim=1):
    """Convert CIE Lab (D65 white) to sRGB in ``[0, 1]``, batched.

    The inverse of :func:`rgb_to_lab`; colours outside the sRGB gamut are
    clipped to ``[0, 1]``.

    Parameters
    ----------
    lab : torch.Tensor
        With 3 channels (L, a, b) along ``dim``.
    dim : int, default=1

    Returns
    -------
    rgb : torch.Tensor
        Same shape and dtype, in ``[0, 1]``.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses.colorization import lab_to_rgb, rgb_to_lab
    >>> rgb = torch.tensor([0.2, 0.5, 0.9]).reshape(1, 3, 1, 1)
    >>> bool(torch.allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-5))
    True
    """
    x = _move_channels(lab, dim, 3, "lab")
    dtype = x.dtype if x.is_floating_point() else torch.float32
    x = x.to(dtype)
    L, a, b = x.unbind(-1)
    fy = (L + 16.0) / 116.0
    f = torch.stack([fy + a / 500.0, fy, fy - b / 200.0], dim=-1)
    xyz = torch.where(f > _DELTA, f.pow(3), 3 * _DELTA ** 2 * (f - 4.0 / 29.0))
    xyz = xyz * _WHITE.to(x.device, dtype)
    linear = xyz @ torch.linalg.inv(_RGB_TO_XYZ).to(x.device, dtype).T
    linear = linear.clamp(0.0, 1.0)
    rgb = torch.where(linear > 0.0031308,
                      1.055 * linear.clamp_min(0.0031308).pow(1 / 2.4) - 0.055,
                      12.92 * linear)
    return rgb.clamp(0.0, 1.0).movedim(-1, dim)


def ab_grid(grid_size=10.0, ab_max=110.0):
    """The centres of the square bins of the ``ab`` plane.

    Centres at the multiples of ``grid_size`` in ``[-ab_max, ab_max]`` on
    both axes (the paper's grid of size 10; 23 x 23 = 529 centres, of which
    the paper keeps the 313 in the sRGB gamut), ``a`` varying slowest.

    Parameters
    ----------
    grid_size : float, default=10.0
    ab_max : float, default=110.0

    Returns
    -------
    centres : torch.Tensor of shape (Q, 2), float32

    Examples
    --------
    >>> from sklabelfree.nn.losses.colorization import ab_grid
    >>> grid = ab_grid()
    >>> grid.shape, grid[0].tolist(), grid[-1].tolist()
    (torch.Size([529, 2]), [-110.0, -110.0], [110.0, 110.0])
    """
    k = int(ab_max // grid_size)
    axis = torch.arange(-k, k + 1, dtype=torch.float32) * float(grid_size)
    a, b = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([a.flatten(), b.flatten()], dim=1)


def occupied_ab_bins(ab, grid_size=10.0, ab_max=110.0):
    """The grid bins that the ``ab`` values fall in, and their counts.

    Each value goes to its nearest grid centre (rounding ``a`` and ``b``
    to the nearest multiple of ``grid_size``, clipped to ``+-ab_max``);
    the bins with at least one value are returned, in the order of
    :func:`ab_grid`.

    Parameters
    ----------
    ab : torch.Tensor of shape (n, 2, ...)
        The ``a`` and ``b`` channels (e.g. of :func:`rgb_to_lab`).
    grid_size : float, default=10.0
    ab_max : float, default=110.0

    Returns
    -------
    bins : torch.Tensor of shape (Q, 2)
        Centres of the occupied bins.
    counts : torch.Tensor of shape (Q,)
        Number of values in each.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses.colorization import occupied_ab_bins
    >>> ab = torch.tensor([[0.0, 1.0], [4.0, -3.0], [12.0, 21.0]]).reshape(3, 2, 1)
    >>> bins, counts = occupied_ab_bins(ab)
    >>> bins.tolist(), counts.tolist()
    ([[0.0, 0.0], [10.0, 20.0]], [2, 1])
    """
    if ab.dim() < 2 or ab.shape[1] != 2:
        raise ValueError(f"ab must be (n, 2, ...), got shape {tuple(ab.shape)}.")
    k = int(ab_max // grid_size)
    idx = torch.round(ab.detach().to(torch.float32) / float(grid_size))
    idx = idx.clamp(-k, k).long() + k
    flat = (idx[:, 0] * (2 * k + 1) + idx[:, 1]).flatten()
    counts = torch.bincount(flat.cpu(), minlength=(2 * k + 1) ** 2)
    keep = counts > 0
    return ab_grid(grid_size, ab_max)[keep].to(ab.device), counts[keep].to(ab.device)


def _sq_distances(ab, bins):
    """Squared distances ``(n, ..., Q)`` between each ab value and each bin."""
    values = ab.movedim(1, -1).unsqueeze(-2)          # (n, ..., 1, 2)
    return (values - bins.to(ab.device, ab.dtype)).pow(2).sum(-1)


def quantize_ab(ab, bins):
    """The index of the nearest bin of every ``ab`` value.

    Parameters
    ----------
    ab : torch.Tensor of shape (n, 2, ...)
    bins : torch.Tensor of shape (Q, 2)

    Returns
    -------
    index : torch.LongTensor of shape (n, ...)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses.colorization import quantize_ab
    >>> bins = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    >>> quantize_ab(torch.tensor([[[1.0, 7.0], [0.0, 0.0]]]), bins).tolist()
    [[0, 1]]
    """
    return _sq_distances(ab, bins).argmin(-1)


def soft_encode_ab(ab, bins, n_neighbors=5, sigma=5.0):
    """Soft-encode ``ab`` values over their nearest bins (Zhang et al. 2016).

    Each value gets weights ``exp(-d^2 / (2 sigma^2))`` on its
    ``n_neighbors`` nearest bins (``d`` the distance to the bin's centre),
    normalised to sum to 1, and 0 elsewhere: a target distribution that
    is highest at the nearest bin.

    Parameters
    ----------
    ab : torch.Tensor of shape (n, 2, ...)
    bins : torch.Tensor of shape (Q, 2)
    n_neighbors : int, default=5
        At most ``Q``.
    sigma : float, default=5.0

    Returns
    -------
    targets : torch.Tensor of shape (n, Q, ...)
        Sums to 1 over the bins.

    References
    ----------
    .. [1] R. Zhang, P. Isola, A. A. Efros, "Colorful Image Colorization",
       ECCV 2016, section 2.1.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses.colorization import soft_encode_ab
    >>> bins = torch.tensor([[0.0, 0.0], [10.0, 0.0], [50.0, 50.0]])
    >>> t = soft_encode_ab(torch.tensor([[[0.0], [0.0]]]), bins, n_neighbors=2)
    >>> [round(v, 4) for v in t.flatten().tolist()]
    [0.8808, 0.1192, 0.0]
    """
    k = min(int(n_neighbors), bins.shape[0])
    d2 = _sq_distances(ab, bins)                       # (n, ..., Q)
    near_d2, near = torch.topk(d2, k, dim=-1, largest=False)
    w = torch.softmax(-near_d2 / (2.0 * float(sigma) ** 2), dim=-1)
    targets = torch.zeros_like(d2).scatter_(-1, near, w)
    return targets.movedim(-1, 1)


def class_rebalancing_weights(counts, bins=None, lam=0.5, sigma=5.0):
    """The paper's class-rebalancing weight of each ab bin.

    The empirical distribution ``p`` of the bins (``counts`` normalised)
    is smoothed with a Gaussian kernel of width ``sigma`` in the ab plane
    (``p~_q`` proportional to ``sum_r p_r exp(-|c_q - c_r|^2 / (2 sigma^2))``),
    mixed with the uniform distribution and inverted::

        w_q proportional to 1 / ((1 - lam) p~_q + lam / Q)

    and normalised so that the expected weight ``sum_q p~_q w_q`` is 1. Rare
    (saturated) colours get large weights, the frequent greys small ones.

    Parameters
    ----------
    counts : torch.Tensor of shape (Q,)
        How often each bin occurs (or any unnormalised histogram).
    bins : torch.Tensor of shape (Q, 2) or None, default=None
        The bins' centres; needed when ``sigma > 0``.
    lam : float in [0, 1], default=0.5
        Weight of the uniform distribution.
    sigma : float, default=5.0
        Width of the smoothing kernel; 0 does not smooth.

    Returns
    -------
    weights : torch.Tensor of shape (Q,), float32

    References
    ----------
    .. [1] R. Zhang, P. Isola, A. A. Efros, "Colorful Image Colorization",
       ECCV 2016, eq. 3-4.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses.colorization import class_rebalancing_weights
    >>> w = class_rebalancing_weights(torch.tensor([3.0, 1.0]), sigma=0.0)
    >>> [round(v, 4) for v in w.tolist()]
    [0.8571, 1.4286]
    """
    if not 0.0 <= float(lam) <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam!r}.")
    p = counts.detach().to(torch.float64).flatten()
    if p.numel() == 0 or bool((p < 0).any()) or float(p.sum()) <= 0:
        raise ValueError("counts must be non-negative with a positive sum.")
    p = p / p.sum()
    if sigma and sigma > 0:
        if bins is None:
            raise ValueError("class_rebalancing_weights needs the bins' centres to "
                             "smooth (sigma > 0); pass bins or sigma=0.")
        c = bins.detach().to(torch.float64).cpu()
        kernel = torch.exp(-torch.cdist(c, c).pow(2) / (2.0 * float(sigma) ** 2))
        p = kernel @ p.cpu()
        p = (p / p.sum()).to(counts.device)
    q = p.numel()
    mix = (1.0 - lam) * p + lam / q
    # With lam=0 a bin nobody saw has no weight (its 1/0 would poison the
    # normalisation): it never appears as a target either.
    w = torch.where(mix > 0, 1.0 / torch.where(mix > 0, mix, 1.0), torch.zeros_like(mix))
    w = w / (p * w).sum()
    return w.to(torch.float32)


def rebalanced_cross_entropy(logits, targets, weights=None):
    """Multinomial cross-entropy of per-pixel bin distributions, rebalanced.

    ``-sum_q Z_q log softmax(logits)_q`` at every pixel, times the weight
    of the pixel's most likely target bin (``weights[argmax_q Z_q]``),
    averaged over the pixels (Zhang et al. 2016, eq. 2).

    Parameters
    ----------
    logits : torch.Tensor of shape (n, Q, ...)
    targets : torch.Tensor of shape (n, Q, ...)
        Distributions over the bins (e.g. :func:`soft_encode_ab`).
    weights : torch.Tensor of shape (Q,) or None, default=None
        Per-bin weights (:func:`class_rebalancing_weights`); None: 1.

    Returns
    -------
    loss : torch.Tensor (scalar)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses.colorization import rebalanced_cross_entropy
    >>> logits = torch.zeros(1, 2, 1)
    >>> targets = torch.tensor([[[1.0], [0.0]]])
    >>> round(float(rebalanced_cross_entropy(logits, targets, torch.tensor([2.0, 1.0]))), 4)
    1.3863
    """
    if logits.shape != targets.shape:
        raise ValueError(f"logits and targets must have the same shape, got "
                         f"{tuple(logits.shape)} and {tuple(targets.shape)}.")
    ce = -(targets * F.log_softmax(logits, dim=1)).sum(1)
    if weights is not None:
        ce = ce * weights.to(ce.device, ce.dtype)[targets.argmax(1)]
    return ce.mean()


def annealed_mean_ab(logits, bins, temperature=0.38):
    """The paper's annealed-mean ab prediction from per-pixel bin logits.

    The distribution ``softmax(logits)`` is re-normalised at temperature
    ``T`` (``p ** (1/T)``, i.e. ``softmax(logits / T)``) and the mean of
    the bins' centres is taken: between the mean (``T = 1``, desaturated)
    and the mode (``T -> 0``, patchy); the paper uses 0.38.

    Parameters
    ----------
    logits : torch.Tensor of shape (n, Q, ...)
    bins : torch.Tensor of shape (Q, 2)
    temperature : float, default=0.38

    Returns
    -------
    ab : torch.Tensor of shape (n, 2, ...)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses.colorization import annealed_mean_ab
    >>> bins = torch.tensor([[0.0, 0.0], [10.0, 20.0]])
    >>> annealed_mean_ab(torch.tensor([[[0.0], [0.0]]]), bins).flatten().tolist()
    [5.0, 10.0]
    """
    p = torch.softmax(logits / float(temperature), dim=1).movedim(1, -1)
    return (p @ bins.to(p.device, p.dtype)).movedim(-1, 1)
