"""Parameter checks and geometry of the augmentations, batch iterators,
functional helpers and nn constructors."""

import copy
import math
import pickle

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset
from torch.nn import functional as F

from sklabelfree.augment import (
    BrightnessContrast,
    Compose,
    Cutout,
    FeatureMasking,
    GaussianNoise,
    RandAugment,
    RandomAffine,
    RandomFlip,
    RandomRotation,
    RandomScaling,
    RandomShift,
    SwapNoise,
    make_augmentation,
)
from sklabelfree.augment._policies import _RANDAUGMENT_OPS
from sklabelfree.neural import LabeledUnlabeledIterator, TensorBatchIterator
from sklabelfree.nn import MLP, ConvNet2d
from sklabelfree.nn.functional import ema_update, mixup, sharpen
from sklabelfree.nn.vit import TransformerBlock, VisionTransformer


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _moments(img):
    """Weighted centre and covariance (rows, cols) of a 2-D intensity map."""
    w = img.clamp_min(0)
    ys, xs = torch.meshgrid(torch.arange(img.shape[0], dtype=img.dtype),
                            torch.arange(img.shape[1], dtype=img.dtype), indexing="ij")
    m = w.sum()
    cy, cx = (w * ys).sum() / m, (w * xs).sum() / m
    cyy = (w * (ys - cy) ** 2).sum() / m
    cxx = (w * (xs - cx) ** 2).sum() / m
    cxy = (w * (ys - cy) * (xs - cx)).sum() / m
    return float(cyy), float(cxx), float(cxy)


# ------------------------------------------------------------ 1. rigid rotation and shear


def _horizontal_bar(h=16, w=64, length=12):
    x = torch.zeros(1, 1, h, w)
    c = w // 2
    x[0, 0, h // 2 - 1:h // 2 + 1, c - length // 2:c + length // 2] = 1.0
    return x


def test_rotation_of_a_non_square_image_is_rigid():
    x = _horizontal_bar()  # 2 rows x 12 cols, centred in a 16x64 image
    for seed in range(5000):  # a draw within a degree of +-90
        angle = (2 * torch.rand(1, generator=_gen(seed)) - 1) * 90
        if abs(abs(float(angle)) - 90) < 1:
            break
    out = RandomRotation(90)(x, _gen(seed))[0, 0]
    ys, xs = (out > 0.25).nonzero(as_tuple=True)
    rows, cols = int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)
    # A vertical bar of the same length (was 12 * 16/64 = 3 rows).
    assert 10 <= rows <= 14, (rows, cols)
    assert cols <= 4, (rows, cols)
    assert abs(float(out.sum()) - float(x.sum())) < 0.1 * float(x.sum())


def test_randaugment_rotate_and_shear_are_rigid_on_non_square_images():
    m = torch.tensor([1.0])  # rotation 30 degrees, shear 0.3, either sign
    x = _horizontal_bar()
    cyy, cxx, cxy = _moments(_RANDAUGMENT_OPS["rotate"](x, m, _gen())[0, 0])
    angle = math.degrees(0.5 * math.atan2(2 * cxy, cxx - cyy))
    assert abs(abs(angle) - 30) < 3, angle
    # shear_x of a vertical bar: slope dx/dy of 0.3 (was 0.3 * 64/16).
    v = torch.zeros(1, 1, 16, 64)
    v[0, 0, 2:14, 31:33] = 1.0
    cyy, cxx, cxy = _moments(_RANDAUGMENT_OPS["shear_x"](v, m, _gen())[0, 0])
    assert abs(abs(cxy / cyy) - 0.3) < 0.05, cxy / cyy
    # shear_y of a horizontal bar: slope dy/dx of 0.3 (was 0.3 * 16/64).
    cyy, cxx, cxy = _moments(_RANDAUGMENT_OPS["shear_y"](x, m, _gen())[0, 0])
    assert abs(abs(cxy / cxx) - 0.3) < 0.05, cxy / cxx


def test_square_images_rotate_exactly_as_before():
    # The normalised matrix of a square image is the pixel matrix itself.
    x = torch.rand(16, 1, 8, 8, generator=_gen(3))
    aug = RandomAffine(20, shear=10, translate=0.1)
    g = _gen(0)
    u = lambda: 2 * torch.rand(16, generator=g) - 1  # noqa: E731
    angle, shear = u() * math.radians(20), u() * math.radians(10)
    tx, ty = u() * 0.2, u() * 0.2
    cos, sin, tan = torch.cos(angle), torch.sin(angle), torch.tan(shear)
    theta = torch.stack([torch.stack([cos, -sin + tan * cos, tx], 1),
                         torch.stack([sin, cos + tan * sin, ty], 1)], 1)
    expected = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False),
                             mode="bilinear", padding_mode="zeros", align_corners=False)
    assert torch.equal(aug(x, _gen(0)), expected)


# ------------------------------------------------------------------- 2. solarize at 0


def test_solarize_magnitude_zero_is_the_identity():
    x = torch.tensor([[[[0.0, 0.5], [0.5, 1.0]]]])
    out = RandAugment(n_ops=1, magnitude=0.0, ops=["solarize"])(x, _gen())
    assert torch.equal(out, x)
    solarize = _RANDAUGMENT_OPS["solarize"]
    assert torch.equal(solarize(x, torch.tensor([0.0]), _gen()), x)
    # Magnitudes > 0 keep PIL's rule: pixels >= threshold are inverted.
    out = solarize(x, torch.tensor([0.5]), _gen())  # threshold 0.5
    assert torch.equal(out, torch.tensor([[[[0.0, 0.5], [0.5, 0.0]]]]))


# ------------------------------------------------------------ 3. parameter validation


@pytest.mark.parametrize("make, name", [
    (lambda: RandomScaling(-2), "scale"),
    (lambda: RandomScaling(1.5), "scale"),
    (lambda: FeatureMasking(1.5), "rate"),
    (lambda: FeatureMasking(-0.1), "rate"),
    (lambda: SwapNoise(2), "rate"),
    (lambda: RandomFlip(p=2), "p"),
    (lambda: RandomFlip(p=-0.5), "p"),
    (lambda: Cutout(p=-1), "p"),
    (lambda: Cutout(size=-0.5), "size"),
    (lambda: Cutout(size=3.0), "size"),
    (lambda: GaussianNoise(-1.0), "std"),
    (lambda: GaussianNoise(float("nan")), "std"),
    (lambda: BrightnessContrast(-1, 0.2), "brightness"),
    (lambda: BrightnessContrast(0.2, 2), "contrast"),
    (lambda: RandomAffine(degrees=-10), "degrees"),
    (lambda: RandomAffine(shear=90), "shear"),
    (lambda: RandomAffine(translate=-0.5), "translate"),
    (lambda: RandomAffine(p=1.5), "p"),
    (lambda: RandomRotation(p=1.5), "p"),
    (lambda: RandAugment(magnitude=5.0), "magnitude"),
    (lambda: RandAugment(magnitude=-1.0), "magnitude"),
    (lambda: RandAugment(n_ops=-1), "n_ops"),
    (lambda: RandAugment(n_ops=1.5), "n_ops"),
    (lambda: RandAugment(ops=[]), "ops"),
    (lambda: RandAugment(ops="rotate"), "ops"),
    (lambda: RandAugment(ops=["spin"]), "unknown ops"),
    (lambda: RandomShift(2.7), "max_shift"),
    (lambda: RandomShift(-3), "max_shift"),
    (lambda: RandomShift(2, padding_mode="wrap"), "padding_mode"),
    (lambda: RandomShift("2"), "max_shift"),
])
def test_out_of_range_parameters_are_refused(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_valid_parameters_are_still_accepted():
    img = torch.rand(4, 1, 8, 8)
    for aug in (RandomShift(2.0), RandomShift(np.int64(2), "zeros"),
                RandomShift(0), RandomScaling(1.0), FeatureMasking(0.0), Cutout(0.0),
                Cutout(1.0, p=0.0), RandomFlip(p=np.float64(1.0)), GaussianNoise(0),
                RandAugment(n_ops=0), RandAugment(magnitude=0.0, ops=("rotate",)),
                RandomAffine(0, shear=45, translate=1.0), BrightnessContrast(0.5, 1.0)):
        assert aug(img, _gen()).shape == img.shape
        assert pickle.loads(pickle.dumps(aug)) == aug == copy.deepcopy(aug)
    assert torch.equal(RandomShift(0)(img, _gen()), img)


def test_circular_padding_is_a_cyclic_roll():
    x = torch.arange(5.0).view(1, 1, 5).repeat(50, 1, 1)
    out = RandomShift(2, padding_mode="circular")(x, _gen())
    for row in out[:, 0]:
        k = int(row[0])
        assert torch.equal(row, torch.roll(x[0, 0], -k))
    # Shifts beyond the side are capped (a circular pad wraps once at most).
    img = torch.rand(3, 1, 2, 4)
    assert RandomShift(9, padding_mode="circular")(img, _gen()).shape == img.shape


def test_presets_still_build():
    for kind in ("image", "signal", "tabular"):
        for strength in ("weak", "strong"):
            make_augmentation(kind, strength, flip=True, size=8)


# ------------------------------------------------------------------- 4. autocontrast


def test_autocontrast_stretches_to_zero_as_pil_does():
    # Documented: the darkest pixel becomes 0, whatever the image's range.
    x = torch.linspace(-1, 1, 64).view(1, 1, 8, 8)
    out = _RANDAUGMENT_OPS["autocontrast"](x, torch.tensor([1.0]), _gen())
    assert float(out.min()) == pytest.approx(0.0)
    assert float(out.max()) == pytest.approx(1.0)


def test_autocontrast_of_non_negative_images_is_unchanged():
    x = torch.rand(32, 3, 8, 8, generator=_gen(1)) * torch.rand(32, 1, 1, 1, generator=_gen(2))
    x[:4] *= 16  # above 1 too
    flat = x.reshape(32, -1)
    lo = flat.min(1).values.view(-1, 1, 1, 1)
    hi = flat.max(1).values.view(-1, 1, 1, 1)
    expected = (x - lo) / (hi - lo).clamp_min(1e-6) * hi.clamp_min(1.0)
    out = _RANDAUGMENT_OPS["autocontrast"](x, torch.ones(32), _gen())
    assert torch.equal(out, expected)


# ---------------------------------------------------------------------- 5. hash vs eq


def test_hash_is_consistent_with_eq():
    a, b = GaussianNoise(1), GaussianNoise(1.0)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    c, d = Compose([RandomShift(1), Cutout(1)]), Compose([RandomShift(1.0), Cutout(1.0)])
    assert c == d and hash(c) == hash(d)
    e, f = RandAugment(2, 1, ops=["rotate"]), RandAugment(2.0, 1.0, ops=["rotate"])
    assert e == f and hash(e) == hash(f)
    assert len({GaussianNoise(0.1), GaussianNoise(0.2), RandomFlip()}) == 3


# ------------------------------------------------------------------------ 6. iterators


def _data():
    y = np.array([0, 1] * 5 + [-1] * 30)
    return Dataset(np.zeros((40, 3), "float32"), y)


@pytest.mark.parametrize("kwargs, name", [
    (dict(mu=-1), "mu"), (dict(mu=float("nan")), "mu"), (dict(batch_size=0), "batch_size"),
    (dict(batch_size=-1), "batch_size"), (dict(batch_size=2.5), "batch_size"),
])
def test_labeled_unlabeled_iterator_validates(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LabeledUnlabeledIterator(_data(), **kwargs)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5])
def test_tensor_batch_iterator_validates(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        TensorBatchIterator(_data(), batch_size=batch_size)


def test_iterators_accept_mu_zero_and_whole_batch_sizes():
    it = LabeledUnlabeledIterator(_data(), batch_size=4, mu=0, seed=0)
    batch = next(iter(it))
    assert tuple(batch.x_l.shape) == (4, 3) and batch.x_u.shape[0] == 0
    assert len(TensorBatchIterator(_data(), batch_size=np.int64(16))) == 3
    assert len(TensorBatchIterator(_data(), batch_size=16.0)) == 3


# ----------------------------------------------------------------- 7. functional helpers


@pytest.mark.parametrize("t", [0.0, -1.0, float("nan")])
def test_sharpen_refuses_non_positive_temperatures(t):
    with pytest.raises(ValueError, match="temperature"):
        sharpen(torch.tensor([[0.6, 0.3, 0.1]]), t)


@pytest.mark.parametrize("decay", [-0.1, 1.5, float("nan")])
def test_ema_update_refuses_decay_outside_unit_interval(decay):
    a, b = torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)
    with pytest.raises(ValueError, match="decay"):
        ema_update(a, b, decay)


def test_mixup_refuses_one_dimensional_targets():
    x = torch.rand(4, 3)
    with pytest.raises(ValueError, match="targets"):
        mixup(x, torch.tensor([0.0, 1.0, 1.0, 0.0]), 1.0, generator=_gen())
    with pytest.raises(ValueError, match="targets"):
        mixup(x, torch.eye(3), 1.0, generator=_gen())  # 3 rows for 4
    xm, tm, lam = mixup(x, torch.eye(4), 1.0, generator=_gen())
    assert tm.shape == (4, 4)


# ------------------------------------------------------------------- 8. nn constructors


@pytest.mark.parametrize("make, name", [
    (lambda: TransformerBlock(8, num_heads=0), "num_heads"),
    (lambda: VisionTransformer(1, 8, embed_dim=16, num_heads=0), "num_heads"),
    (lambda: VisionTransformer(1, 8, embed_dim=16, depth=0, num_heads=0), "num_heads"),
    (lambda: MLP(5, 3, width=0), "width"),
    (lambda: MLP(5, 3, depth=-1), "depth"),
    (lambda: ConvNet2d(1, 3, width=0), "width"),
])
def test_nn_constructors_validate_sizes(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_nn_constructors_still_accept_edge_sizes():
    assert MLP(5, 3, depth=0)(torch.rand(2, 5)).shape == (2, 3)
    assert MLP(5, 3, width=1)(torch.rand(2, 5)).shape == (2, 3)
    assert TransformerBlock(8, num_heads=np.int64(2))(torch.zeros(1, 3, 8)).shape == (1, 3, 8)


def test_signal_strong_preset_documents_brightness_contrast():
    strong = make_augmentation("signal", "strong", size=50)
    assert any(isinstance(a, BrightnessContrast) for a in strong.augmentations)
    assert "brightness/contrast" in make_augmentation.__doc__
