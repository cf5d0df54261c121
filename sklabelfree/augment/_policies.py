"""RandAugment for small images and the weak / strong presets per input kind."""

import math

import torch
from torch.nn import functional as F

from ._base import (
    Augmentation,
    BrightnessContrast,
    Compose,
    Cutout,
    FeatureMasking,
    GaussianNoise,
    RandomFlip,
    RandomScaling,
    RandomShift,
    SwapNoise,
    _affine_to_normalised,
    _check_number,
    _rand,
)

__all__ = ["RandAugment", "make_augmentation", "input_kind"]


def _per_sample(v, x):
    return v.view((x.shape[0],) + (1,) * (x.dim() - 1)).to(x.dtype)


def _affine(x, theta):
    # ``theta`` is written in pixels about the centre; affine_grid wants it in
    # coordinates normalised per axis (the same on square images).
    theta = _affine_to_normalised(theta, x.shape[2], x.shape[3])
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False)


def _sign(n, generator, device):
    return torch.where(_rand(n, generator, device) < 0.5, -1.0, 1.0)


def _op_identity(x, m, g):
    return x


def _op_autocontrast(x, m, g):
    # Stretch each image to [0, max(hi, 1)], as PIL's autocontrast does for
    # pixel values (its darkest pixel becomes 0).
    flat = x.reshape(x.shape[0], -1)
    lo = _per_sample(flat.min(dim=1).values, x)
    hi = _per_sample(flat.max(dim=1).values, x)
    top = _per_sample(torch.ones(x.shape[0], device=x.device), x) * hi.clamp_min(1.0)
    return (x - lo) / (hi - lo).clamp_min(1e-6) * top


def _range(x):
    flat = x.reshape(x.shape[0], -1)
    return _per_sample(flat.max(dim=1).values - flat.min(dim=1).values, x)


def _op_brightness(x, m, g):
    return x + _per_sample(_sign(x.shape[0], g, x.device) * m * 0.5, x) * _range(x)


def _op_contrast(x, m, g):
    mean = x.mean(dim=tuple(range(1, x.dim())), keepdim=True)
    factor = 1 + _per_sample(_sign(x.shape[0], g, x.device) * m * 0.9, x)
    return (x - mean) * factor + mean


def _blur(x):
    c = x.shape[1]
    k = torch.tensor([[1.0, 1.0, 1.0], [1.0, 5.0, 1.0], [1.0, 1.0, 1.0]],
                     device=x.device, dtype=x.dtype) / 13.0
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"),
                    k.expand(c, 1, 3, 3), groups=c)


def _op_sharpness(x, m, g):
    factor = _per_sample(_sign(x.shape[0], g, x.device) * m * 0.9, x)
    return x + factor * (x - _blur(x))


def _op_solarize(x, m, g):
    flat = x.reshape(x.shape[0], -1)
    lo = _per_sample(flat.min(dim=1).values, x)
    hi = _per_sample(flat.max(dim=1).values, x)
    threshold = hi - _per_sample(m, x) * (hi - lo)
    # As PIL: invert the pixels >= threshold; magnitude 0 inverts none.
    active = (m > 0).view((x.shape[0],) + (1,) * (x.dim() - 1))
    return torch.where((x >= threshold) & active, hi + lo - x, x)


def _op_posterize(x, m, g):
    levels = _per_sample(2.0 ** (8 - 6 * m), x)
    lo = x.reshape(x.shape[0], -1).min(dim=1).values
    lo = _per_sample(lo, x)
    rng = _range(x).clamp_min(1e-6)
    return torch.floor((x - lo) / rng * levels) / levels * rng + lo


def _op_rotate(x, m, g):
    a = _sign(x.shape[0], g, x.device) * m * math.radians(30)
    cos, sin, zero = torch.cos(a), torch.sin(a), torch.zeros_like(a)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1),
                         torch.stack([sin, cos, zero], 1)], 1)
    return _affine(x, theta)


def _shear(axis):
    def op(x, m, g):
        s = _sign(x.shape[0], g, x.device) * m * 0.3
        one, zero = torch.ones_like(s), torch.zeros_like(s)
        rows = ([one, s, zero], [zero, one, zero]) if axis == 0 else (
            [one, zero, zero], [s, one, zero])
        theta = torch.stack([torch.stack(r, 1) for r in rows], 1)
        return _affine(x, theta)
    return op


def _translate(axis):
    def op(x, m, g):
        t = _sign(x.shape[0], g, x.device) * m * 0.6  # 0.3 of the size
        one, zero = torch.ones_like(t), torch.zeros_like(t)
        tx, ty = (t, zero) if axis == 0 else (zero, t)
        theta = torch.stack([torch.stack([one, zero, tx], 1),
                             torch.stack([zero, one, ty], 1)], 1)
        return _affine(x, theta)
    return op


_RANDAUGMENT_OPS = {
    "identity": _op_identity,
    "autocontrast": _op_autocontrast,
    "brightness": _op_brightness,
    "contrast": _op_contrast,
    "sharpness": _op_sharpness,
    "solarize": _op_solarize,
    "posterize": _op_posterize,
    "rotate": _op_rotate,
    "shear_x": _shear(0),
    "shear_y": _shear(1),
    "translate_x": _translate(0),
    "translate_y": _translate(1),
}


class RandAugment(Augmentation):
    """RandAugment-style strong policy for small images, batched.

    Each sample gets ``n_ops`` operations drawn uniformly from ``ops``, each
    with its own magnitude drawn uniformly in ``[0, magnitude]`` (the
    random-magnitude variant FixMatch uses; Cubuk et al., "RandAugment",
    CVPR Workshops 2020). The loop runs over operations, never over
    samples: each operation transforms at once the samples that drew it.
    Intensity operations act relative to each image's own range, so images
    need not be scaled to [0, 1]; the exception is ``autocontrast``, which
    stretches each image to ``[0, max(1, its maximum)]`` as PIL's does, so
    it moves an image standardised around 0 into non-negative values.

    Parameters
    ----------
    n_ops : int >= 0, default=2
    magnitude : float in [0, 1], default=1.0
        Largest magnitude (1 = rotations up to 30 degrees, shear 0.3,
        translation 30 %); 0 leaves the images as they are.
    ops : non-empty list of str or None, default=None
        Names from ``RandAugment.available_ops``; None uses them all.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.augment import RandAugment
    >>> aug = RandAugment(n_ops=2)
    >>> out = aug(torch.rand(16, 1, 8, 8), torch.Generator().manual_seed(0))
    >>> out.shape
    torch.Size([16, 1, 8, 8])
    >>> "rotate" in RandAugment.available_ops
    True
    """

    available_ops = tuple(_RANDAUGMENT_OPS)

    def __init__(self, n_ops=2, magnitude=1.0, ops=None):
        _check_number("RandAugment", "n_ops", n_ops, 0, integer=True)
        _check_number("RandAugment", "magnitude", magnitude, 0, 1)
        if ops is not None:
            if isinstance(ops, str) or not hasattr(ops, "__iter__"):
                raise ValueError(f"RandAugment: ops must be a list of op names or None, "
                                 f"got {ops!r}; for a single op use [{ops!r}].")
            names = list(ops)
            if not names:
                raise ValueError(
                    f"RandAugment: ops must name at least one op (or be None for all "
                    f"of them), got {ops!r}; available: {list(_RANDAUGMENT_OPS)}.")
            unknown = [name for name in names if name not in _RANDAUGMENT_OPS]
            if unknown:
                raise ValueError(f"RandAugment: unknown ops {unknown}; available: "
                                 f"{list(_RANDAUGMENT_OPS)}.")
            if not isinstance(ops, (list, tuple)):
                ops = names  # an iterator would be spent after one call
        self.n_ops = n_ops
        self.magnitude = magnitude
        self.ops = ops

    def __call__(self, x, generator=None):
        if x.dim() != 4:
            raise ValueError(
                f"RandAugment needs images (n, c, h, w), got a tensor of shape "
                f"{tuple(x.shape)}.")
        names = list(self.ops) if self.ops is not None else list(_RANDAUGMENT_OPS)
        unknown = set(names) - set(_RANDAUGMENT_OPS)
        if unknown:
            raise ValueError(f"Unknown RandAugment ops {sorted(unknown)}; "
                             f"available: {list(_RANDAUGMENT_OPS)}.")
        n, dev = x.shape[0], x.device
        out = x.clone()
        for _ in range(int(self.n_ops)):
            choice = torch.randint(0, len(names), (n,), generator=generator, device=dev)
            mag = _rand(n, generator, dev) * self.magnitude
            for k, name in enumerate(names):
                idx = (choice == k).nonzero(as_tuple=True)[0]
                if idx.numel():
                    out[idx] = _RANDAUGMENT_OPS[name](out[idx], mag[idx], generator)
        return out


def input_kind(sample_shape):
    """``'tabular'``, ``'signal'`` or ``'image'`` from the shape of one sample.

    Examples
    --------
    >>> from sklabelfree.augment import input_kind
    >>> input_kind((64,)), input_kind((2, 100)), input_kind((1, 8, 8))
    ('tabular', 'signal', 'image')
    """
    kinds = {1: "tabular", 2: "signal", 3: "image"}
    if len(sample_shape) not in kinds:
        raise ValueError(
            f"Samples of shape {tuple(sample_shape)} are neither rows (d,), signals "
            "(c, L) nor images (c, h, w).")
    return kinds[len(sample_shape)]


def make_augmentation(kind, strength="weak", *, flip=False, size=None):
    """The weak or strong augmentation preset for an input kind.

    ============  =======================================  ============================
    kind          weak                                     strong
    ============  =======================================  ============================
    ``image``     shift by 1/8 of the size (+ flip)        weak, RandAugment(2), cutout
    ``signal``    shift by 1/10 of the length, scaling,    weak, more noise,
                  small noise                              brightness/contrast, cutout
    ``tabular``   Gaussian noise (0.1 of each feature's    noise, masking, swap noise
                  spread in the batch)
    ============  =======================================  ============================

    Parameters
    ----------
    kind : {'image', 'signal', 'tabular'}
    strength : {'weak', 'strong'}, default='weak'
    flip : bool, default=False
        Add random flips (images and signals), only where a flip keeps the
        class.
    size : int or None
        Image side (the shorter one of a non-square image) or signal
        length, to size the shift; None uses 1 pixel (images) or 1 step
        (signals).

    Returns
    -------
    Compose

    Examples
    --------
    >>> from sklabelfree.augment import make_augmentation
    >>> make_augmentation("image", "weak", size=8)
    Compose(augmentations=[RandomShift(max_shift=1, padding_mode='reflect')])
    """
    if strength not in ("weak", "strong"):
        raise ValueError(f"strength must be 'weak' or 'strong', got {strength!r}.")
    if kind == "image":
        shift = max(1, int(round((size or 8) / 8)))
        weak = [RandomShift(shift)] + ([RandomFlip()] if flip else [])
        strong = weak + [RandAugment(2), Cutout(0.5)]
    elif kind == "signal":
        shift = max(1, int(round((size or 10) / 10)))
        weak = [RandomShift(shift), RandomScaling(0.1), GaussianNoise(0.02, relative=True)]
        weak += [RandomFlip()] if flip else []
        strong = weak + [GaussianNoise(0.1, relative=True), BrightnessContrast(0.1, 0.3),
                         Cutout(0.25)]
    elif kind == "tabular":
        weak = [GaussianNoise(0.1, relative=True)]
        strong = [GaussianNoise(0.2, relative=True), FeatureMasking(0.2), SwapNoise(0.15)]
    else:
        raise ValueError(f"kind must be 'image', 'signal' or 'tabular', got {kind!r}.")
    return Compose(weak if strength == "weak" else strong)
