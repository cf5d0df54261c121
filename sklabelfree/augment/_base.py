"""Batched, seeded tensor augmentations that run on the tensor's device.

Every augmentation is a callable ``aug(x, generator) -> x_aug`` that
transforms a whole batch at once (no Python loop over samples): random
parameters are drawn per sample with ``generator`` (a ``torch.Generator``
on the same device as ``x``), so a seeded generator gives the same
augmentations again.
"""

import functools
import math
import numbers

import torch
from torch.nn import functional as F

__all__ = [
    "Augmentation",
    "Compose",
    "RandomShift",
    "RandomFlip",
    "RandomRotation",
    "RandomAffine",
    "Cutout",
    "GaussianNoise",
    "BrightnessContrast",
    "RandomScaling",
    "FeatureMasking",
    "SwapNoise",
]


def _rand(n, generator, device):
    return torch.rand(n, generator=generator, device=device)


def _randint(low, high, n, generator, device):
    return torch.randint(low, high, (n,), generator=generator, device=device)


def _check_number(owner, name, value, low=None, high=None, *, high_open=False,
                  integer=False, finite=True):
    """Raise a ValueError unless ``value`` is a finite (whole) number in range."""
    ok = isinstance(value, numbers.Real)
    if ok:
        v = float(value)
        ok = ((math.isfinite(v) or not finite) and (low is None or v >= low)
              and (high is None or (v < high if high_open else v <= high))
              and (not integer or v.is_integer()))
    if not ok:
        if low is not None and high is not None:
            allowed = f"in [{low:g}, {high:g}{')' if high_open else ']'}"
        elif low is not None:
            allowed = f">= {low:g}"
        else:
            allowed = ""
        kind = ("a whole number" if integer else "a finite number" if finite
                else "a number")
        expected = f"{kind} {allowed}" if allowed else kind
        raise ValueError(f"{owner}: {name} must be {expected}, got {value!r}.")


def _affine_to_normalised(theta, h, w):
    """Express a pixel-space affine map in ``affine_grid``'s [-1, 1] coordinates.

    ``theta`` (n, 2, 3) maps output pixels to input pixels about the centre;
    ``affine_grid`` normalises each axis by its own side, so the
    off-diagonal terms are rescaled by the aspect ratio (else a rotation of
    a non-square image also stretches it). Square images are left as they
    are (the same tensor, bit for bit).
    """
    if h == w:
        return theta
    theta = theta.clone()
    theta[:, 0, 1] = theta[:, 0, 1] * (h / w)
    theta[:, 1, 0] = theta[:, 1, 0] * (w / h)
    return theta


def _hashable(value):
    """A hashable stand-in for a parameter, equal for parameters that compare equal."""
    if value is None or isinstance(value, (numbers.Number, str, Augmentation)):
        return value  # equal numbers hash alike (1 and 1.0)
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    try:  # scalars of other types (numpy bools, 0-d tensors) by their value
        return float(value)
    except (TypeError, ValueError, RuntimeError):
        return "<object>"  # any other object: one common stand-in


class Augmentation:
    """Base class: parameters set in ``__init__``, work in ``__call__``.

    Subclasses implement ``__call__(x, generator)``; an empty batch (a
    training step that drew no unlabeled rows) is returned as it is before
    it reaches theirs. ``repr`` shows the parameters; instances pickle and
    compare by value, so that an estimator holding one clones and compares
    as scikit-learn expects.

    Examples
    --------
    >>> from sklabelfree.augment import GaussianNoise
    >>> GaussianNoise(0.1)
    GaussianNoise(std=0.1, relative=False)
    >>> GaussianNoise(0.1) == GaussianNoise(0.1)
    True
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        call = cls.__dict__.get("__call__")
        if call is None:
            return

        @functools.wraps(call)
        def __call__(self, x, generator=None):
            if x.shape[0] == 0:
                return x
            return call(self, x, generator)

        cls.__call__ = __call__

    def _params(self):
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters
                 if p != "self"]
        return {name: getattr(self, name) for name in names}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and self._params() == other._params()

    def __hash__(self):
        # Consistent with ``__eq__``: equal parameters (1 and 1.0, [a] and
        # [a]) give equal hashes.
        params = self._params()
        return hash((type(self).__name__,
                     tuple((k, _hashable(v)) for k, v in params.items())))

    def __call__(self, x, generator=None):  # pragma: no cover - abstract
        raise NotImplementedError


class Compose(Augmentation):
    """Apply augmentations one after the other.

    Parameters
    ----------
    augmentations : list of callables

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.augment import Compose, GaussianNoise, RandomShift
    >>> aug = Compose([RandomShift(1), GaussianNoise(0.1)])
    >>> aug(torch.zeros(4, 1, 8, 8), torch.Generator().manual_seed(0)).shape
    torch.Size([4, 1, 8, 8])
    """

    def __init__(self, augmentations):
        self.augmentations = list(augmentations)

    def __call__(self, x, generator=None):
        for aug in self.augmentations:
            x = aug(x, generator)
        return x


def _apply_with_prob(x, x_aug, p, generator):
    if p >= 1:
        return x_aug
    keep = _rand(x.shape[0], generator, x.device) < p
    return torch.where(keep.view(-1, *([1] * (x.dim() - 1))), x_aug, x)


class RandomShift(Augmentation):
    """Random translation by padding and cropping, per sample.

    For images ``(n, c, h, w)`` the image is padded by ``max_shift`` pixels
    on each side and a window of the original size is cropped at a random
    offset; for signals ``(n, c, L)`` the same along time.

    Parameters
    ----------
    max_shift : int >= 0, default=1
        Largest shift in pixels (or time steps). With ``'reflect'`` it is
        capped at one less than the shorter side (a reflection cannot be
        longer), with ``'circular'`` at the shorter side.
    padding_mode : {'reflect', 'replicate', 'zeros', 'circular'}, default='reflect'
        How the border is filled: mirrored, the edge repeated, zeros, or
        the opposite side (``'circular'``: a cyclic roll).

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.augment import RandomShift
    >>> x = torch.arange(5.0).view(1, 1, 5)
    >>> RandomShift(2, padding_mode="zeros")(x, torch.Generator().manual_seed(1))
    tensor([[[0., 0., 0., 1., 2.]]])
    """

    _padding_modes = ("reflect", "replicate", "zeros", "circular")

    def __init__(self, max_shift=1, padding_mode="reflect"):
        _check_number("RandomShift", "max_shift", max_shift, 0, integer=True)
        if padding_mode not in self._padding_modes:
            raise ValueError(
                f"RandomShift: padding_mode must be one of {list(self._padding_modes)}, "
                f"got {padding_mode!r}.")
        self.max_shift = max_shift
        self.padding_mode = padding_mode

    def __call__(self, x, generator=None):
        s = int(self.max_shift)
        if self.padding_mode == "reflect" and x.dim() in (3, 4):
            # A reflection is at most one pixel shorter than the side.
            s = min(s, min(x.shape[2:]) - 1)
        if self.padding_mode == "circular" and x.dim() in (3, 4):
            # A circular pad wraps around at most once.
            s = min(s, min(x.shape[2:]))
        if s <= 0:
            return x
        n, c = x.shape[:2]
        mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
        dev = x.device
        if x.dim() == 3:
            length = x.shape[2]
            xp = F.pad(x, (s, s), mode=mode)
            off = _randint(0, 2 * s + 1, n, generator, dev)
            idx = off[:, None] + torch.arange(length, device=dev)[None, :]
            return torch.gather(xp, 2, idx[:, None, :].expand(n, c, length))
        if x.dim() == 4:
            h, w = x.shape[2:]
            xp = F.pad(x, (s, s, s, s), mode=mode)
            dy = _randint(0, 2 * s + 1, n, generator, dev)
            dx = _randint(0, 2 * s + 1, n, generator, dev)
            rows = dy[:, None] + torch.arange(h, device=dev)[None, :]
            cols = dx[:, None] + torch.arange(w, device=dev)[None, :]
            n_idx = torch.arange(n, device=dev)[:, None, None, None]
            c_idx = torch.arange(c, device=dev)[None, :, None, None]
            return xp[n_idx, c_idx, rows[:, None, :, None], cols[:, None, None, :]]
        raise ValueError(
            f"RandomShift needs signals (n, c, L) or images (n, c, h, w), got a "
            f"tensor of shape {tuple(x.shape)}.")


class RandomFlip(Augmentation):
    """Flip a random half of the samples along the last axis.

    Horizontal flip for images, time reversal for signals. Use it only where
    a flip keeps the class (natural images; not digits or text).

    Parameters
    ----------
    p : float in [0, 1], default=0.5
        Probability that a sample is flipped.
    dim : int, default=-1
        Axis to flip.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.augment import RandomFlip
    >>> RandomFlip(p=1.0)(torch.tensor([[[1.0, 2.0, 3.0]]]))
    tensor([[[3., 2., 1.]]])
    """

    def __init__(self, p=0.5, dim=-1):
        _check_number("RandomFlip", "p", p, 0, 1)
        self.p = p
        self.dim = dim

    def __call__(self, x, generator=None):
        return _apply_with_prob(x, x.flip(self.dim), self.p, generator)


class RandomAffine(Augmentation):
    """Random rotation, shear and translation of images, batched with ``grid_sample``.

    Parameters
    ----------
    degrees : float >= 0, default=10
        Largest rotation, in degrees, either way.
    shear : float in [0, 90), default=0
        Largest shear, in degrees, either way, along x.
    translate : float in [0, 1], default=0
        Largest translation as a fraction of the size.
    p : float in [0, 1], default=1.0
        Probability that a sample is transformed.

    The rotation and shear are rigid in pixels, also on non-square images.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.augment import RandomAffine
    >>> x = torch.rand(3, 1, 8, 8)
    >>> torch.allclose(RandomAffine(0)(x, torch.Generator().manual_seed(0)), x,
    ...                atol=1e-5)
    True
    """

    def __init__(self, degrees=10.0, shear=0.0, translate=0.0, p=1.0):
        owner = type(self).__name__
        _check_number(owner, "degrees", degrees, 0)
        _check_number(owner, "shear", shear, 0, 90, high_open=True)
        _check_number(owner, "translate", translate, 0, 1)
        _check_number(owner, "p", p, 0, 1)
        self.degrees = degrees
        self.shear = shear
        self.translate = translate
        self.p = p

    def _theta(self, n, generator, device, dtype, size=None):
        u = lambda: 2 * _rand(n, generator, device) - 1  # noqa: E731
        angle = u() * math.radians(self.degrees)
        shear = u() * math.radians(self.shear)
        tx, ty = u() * 2 * self.translate, u() * 2 * self.translate
        cos, sin, tan = torch.cos(angle), torch.sin(angle), torch.tan(shear)
        theta = torch.stack([
            torch.stack([cos, -sin + tan * cos, tx], dim=1),
            torch.stack([sin, cos + tan * sin, ty], dim=1),
        ], dim=1)
        if size is not None:
            theta = _affine_to_normalised(theta, *size)
        return theta.to(dtype)

    def __call__(self, x, generator=None):
        if x.dim() != 4:
            raise ValueError(
                f"{type(self).__name__} needs images (n, c, h, w), got a tensor of "
                f"shape {tuple(x.shape)}.")
        theta = self._theta(x.shape[0], generator, x.device, x.dtype,
                            size=tuple(x.shape[2:]))
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros",
                            align_corners=False)
        return _apply_with_prob(x, out, self.p, generator)


class RandomRotation(RandomAffine):
    """Small random rotations of images.

    Parameters
    ----------
    degrees : float >= 0, default=10
        Largest rotation, in degrees, either way.
    p : float in [0, 1], default=1.0
        Probability that a sample is rotated.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.augment import RandomRotation
    >>> RandomRotation(15)(torch.rand(2, 1, 8, 8), torch.Generator()).shape
    torch.Size([2, 1, 8, 8])
    """

    def __init__(self, degrees=10.0, p=1.0):
        super().__init__(degrees=degrees, p=p)

    def _params(self):
        return {"degrees": self.degrees, "p": self.p}


class Cutout(Augmentation):
    """Cutout (DeVries & Taylor 2017): zero a random square (or segment) per sample.

    Parameters
    ----------
    size : float in [0, 1], default=0.5
        Side of the square as a fraction of the image side (or length of the
        segment as a fraction of the signal); a hole has at least one
        pixel, and 0 cuts nothing.
    p : float in [0, 1], default=1.0
        Probability that a sample gets a hole.
    fill : float, default=0.0

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.augment import Cutout
    >>> out = Cutout(size=0.5)(torch.ones(2, 1, 8, 8), torch.Generator().manual_seed(0))
    >>> int((out == 0).sum(dim=(1, 2, 3)).max()) <= 16
    True
    """

    def __init__(self, size=0.5, p=1.0, fill=0.0):
        _check_number("Cutout", "size", size, 0, 1)
        _check_number("Cutout", "p", p, 0, 1)
        _check_number("Cutout", "fill", fill, finite=False)
        self.size = size
        self.p = p
        self.fill = fill

    def __call__(self, x, generator=None):
        n, dev = x.shape[0], x.device
        spatial = x.shape[2:]
        if len(spatial) not in (1, 2):
            raise ValueError(
                f"Cutout needs signals (n, c, L) or images (n, c, h, w), got "
                f"{tuple(x.shape)}.")
        if self.size <= 0:
            return x
        mask = torch.ones((n,) + tuple(spatial), dtype=torch.bool, device=dev)
        for axis, size in enumerate(spatial):
            half = max(1, int(round(self.size * size))) / 2
            centre = _rand(n, generator, dev) * size
            pos = torch.arange(size, device=dev, dtype=torch.float32) + 0.5
            inside = (pos[None, :] - centre[:, None]).abs() < half
            shape = [n] + [1] * len(spatial)
            shape[axis + 1] = size
            mask = mask & inside.view(shape)
        hole = mask.unsqueeze(1)
        if self.p < 1:
            hole = hole & (_rand(n, generator, dev) < self.p).view(
                -1, *([1] * (x.dim() - 1)))
        return torch.where(hole, torch.as_tensor(self.fill, dtype=x.dtype, device=dev), x)


class GaussianNoise(Augmentation):
    """Add Gaussian noise.

    Parameters
    ----------
    std : float >= 0, default=0.1
        Standard deviation of the noise.
    relative : bool, default=False
        Scale the noise by each feature's standard deviation in the batch
        (for tabular rows on different scales); a batch of one row, which
        has no spread, is left as it is.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.augment import GaussianNoise
    >>> out = GaussianNoise(0.5)(torch.zeros(10000, 1), torch.Generator().manual_seed(0))
    >>> round(float(out.std()), 1)
    0.5
    """

    def __init__(self, std=0.1, relative=False):
        _check_number("GaussianNoise", "std", std, 0)
        self.std = std
        self.relative = relative

    def __call__(self, x, generator=None):
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        scale = self.std
        if self.relative:
            if x.shape[0] < 2:
                return x  # one row has no spread to scale the noise by
            scale = self.std * x.std(dim=0, keepdim=True).clamp_min(1e-6)
        return x + scale * noise


class BrightnessContrast(Augmentation):
    """Random brightness (additive) and contrast (scale about each sample's mean).

    ``x' = (x - m) * c + m + b`` with ``c ~ U(1 - contrast, 1 + contrast)``
    and ``b ~ U(-brightness, brightness) * range`` per sample, where ``m``
    is the sample's mean and ``range`` its max minus min.

    Parameters
    ----------
    brightness : float >= 0, default=0.2
    contrast : float in [0, 1], default=0.2

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.augment import BrightnessContrast
    >>> x = torch.rand(3, 1, 8, 8)
    >>> torch.allclose(BrightnessContrast(0, 0)(x, torch.Generator()), x, atol=1e-6)
    True
    """

    def __init__(self, brightness=0.2, contrast=0.2):
        _check_number("BrightnessContrast", "brightness", brightness, 0)
        _check_number("BrightnessContrast", "contrast", contrast, 0, 1)
        self.brightness = brightness
        self.contrast = contrast

    def __call__(self, x, generator=None):
        n, dev = x.shape[0], x.device
        shape = (n,) + (1,) * (x.dim() - 1)
        flat = x.reshape(n, -1)
        mean = flat.mean(dim=1).view(shape)
        rng = (flat.max(dim=1).values - flat.min(dim=1).values).view(shape)
        c = 1 + (2 * _rand(n, generator, dev) - 1).view(shape) * self.contrast
        b = (2 * _rand(n, generator, dev) - 1).view(shape) * self.brightness * rng
        return ((x - mean) * c + mean + b).to(x.dtype)


class RandomScaling(Augmentation):
    """Multiply each sample by a random factor in ``[1 - scale, 1 + scale]``.

    The amplitude scaling of signal augmentation.

    Parameters
    ----------
    scale : float in [0, 1], default=0.1
        (at most 1, so that no factor is negative)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.augment import RandomScaling
    >>> out = RandomScaling(0.1)(torch.ones(100, 1, 4), torch.Generator())
    >>> bool(((out >= 0.9) & (out <= 1.1)).all())
    True
    """

    def __init__(self, scale=0.1):
        _check_number("RandomScaling", "scale", scale, 0, 1)
        self.scale = scale

    def __call__(self, x, generator=None):
        n = x.shape[0]
        f = 1 + (2 * _rand(n, generator, x.device) - 1) * self.scale
        return x * f.view((n,) + (1,) * (x.dim() - 1)).to(x.dtype)


class FeatureMasking(Augmentation):
    """Set each entry to ``fill`` with probability ``rate`` (tabular rows).

    Parameters
    ----------
    rate : float in [0, 1], default=0.2
    fill : float, default=0.0

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.augment import FeatureMasking
    >>> out = FeatureMasking(0.3)(torch.ones(1000, 10), torch.Generator().manual_seed(0))
    >>> round(float((out == 0).float().mean()), 1)
    0.3
    """

    def __init__(self, rate=0.2, fill=0.0):
        _check_number("FeatureMasking", "rate", rate, 0, 1)
        _check_number("FeatureMasking", "fill", fill, finite=False)
        self.rate = rate
        self.fill = fill

    def __call__(self, x, generator=None):
        mask = torch.rand(x.shape, generator=generator, device=x.device) < self.rate
        return torch.where(mask, torch.as_tensor(self.fill, dtype=x.dtype,
                                                 device=x.device), x)


class SwapNoise(Augmentation):
    """Swap noise: with probability ``rate`` an entry takes the same column's
    value from another random row of the batch (tabular rows).

    Parameters
    ----------
    rate : float in [0, 1], default=0.15

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.augment import SwapNoise
    >>> x = torch.arange(20.0).view(10, 2)
    >>> out = SwapNoise(0.5)(x, torch.Generator().manual_seed(0))
    >>> bool(all(set(out[:, j].tolist()) <= set(x[:, j].tolist()) for j in range(2)))
    True
    """

    def __init__(self, rate=0.15):
        _check_number("SwapNoise", "rate", rate, 0, 1)
        self.rate = rate

    def __call__(self, x, generator=None):
        n = x.shape[0]
        flat = x.reshape(n, -1)
        rows = torch.randint(0, n, flat.shape, generator=generator, device=x.device)
        swapped = torch.gather(flat, 0, rows)
        mask = torch.rand(flat.shape, generator=generator, device=x.device) < self.rate
        return torch.where(mask, swapped, flat).view_as(x)
