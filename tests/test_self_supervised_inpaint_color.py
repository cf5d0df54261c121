"""Context encoders (inpainting) and colorization: losses, masks, encoders, data."""

import pickle

import numpy as np
import pytest
import torch
from torch.nn import functional as F
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklabelfree.datasets import load_digits_images
from sklabelfree.datasets._color import colorize_digits
from sklabelfree.nn.losses.colorization import (
    ab_grid,
    annealed_mean_ab,
    class_rebalancing_weights,
    lab_to_rgb,
    occupied_ab_bins,
    quantize_ab,
    rebalanced_cross_entropy,
    rgb_to_lab,
    soft_encode_ab,
)
from sklabelfree.nn.losses.inpainting import (
    inpainting_loss_weights,
    masked_reconstruction_loss,
    region_masks,
)
from sklabelfree.self_supervised._colorization import ColorizationEncoder
from sklabelfree.self_supervised._inpainting import InpaintingEncoder
from sklabelfree.utils._test_common import check_fit_on_device, device_params

torch.set_num_threads(1)

TINY = dict(max_epochs=1, batch_size=32, module__width=4, hidden_dim=16, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_images()
    return X[:200], y[:200]


@pytest.fixture(scope="module")
def colour(digits):
    X, y = digits
    return colorize_digits(X, y, random_state=0), y


# --------------------------------------------------------------------- Lab
def _px(*rgb):
    return torch.tensor(rgb, dtype=torch.float64).reshape(1, 3, 1, 1)


@pytest.mark.parametrize("rgb, lab", [
    ((1.0, 1.0, 1.0), (100.0, 0.0, 0.0)),
    ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
    ((1.0, 0.0, 0.0), (53.24, 80.09, 67.20)),
])
def test_rgb_to_lab_hand_values(rgb, lab):
    got = rgb_to_lab(_px(*rgb)).flatten().tolist()
    np.testing.assert_allclose(got, lab, atol=0.01)
    # float32 and channels on another axis give the same values.
    got32 = rgb_to_lab(torch.tensor(rgb).reshape(1, 1, 3), dim=-1).flatten().tolist()
    np.testing.assert_allclose(got32, lab, atol=0.02)


def test_rgb_to_lab_mid_grey_and_round_trip():
    # sRGB 0.5 -> linear ((0.5 + 0.055) / 1.055) ** 2.4 = 0.21404, L = 116 Y^(1/3) - 16.
    y_lin = ((0.5 + 0.055) / 1.055) ** 2.4
    lab = rgb_to_lab(_px(0.5, 0.5, 0.5)).flatten()
    assert float(lab[0]) == pytest.approx(116 * y_lin ** (1 / 3) - 16, abs=1e-4)
    assert abs(float(lab[1])) < 1e-3 and abs(float(lab[2])) < 1e-3
    rgb = torch.rand(4, 3, 5, 6, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-4)
    with pytest.raises(ValueError, match="3 channels"):
        rgb_to_lab(torch.zeros(2, 1, 4, 4))


# --------------------------------------------------------------------- ab bins
def test_grid_quantisation_and_occupied_bins():
    grid = ab_grid()
    assert grid.shape == (529, 2)
    assert set(grid[:, 0].tolist()) == {10.0 * k for k in range(-11, 12)}
    ab = torch.tensor([[4.9, -5.1], [-14.0, 26.0], [3.0, 2.0]]).T.reshape(1, 2, 3)
    bins, counts = occupied_ab_bins(ab)
    assert bins.tolist() == [[-10.0, 30.0], [0.0, -10.0], [0.0, 0.0]]
    assert counts.tolist() == [1, 1, 1]
    assert quantize_ab(ab, bins).tolist() == [[1, 0, 2]]


def test_soft_encoding_sums_to_one_and_peaks_at_nearest_bin():
    grid = ab_grid()
    ab = torch.empty(3, 2, 4, 4).uniform_(-100, 100,
                                          generator=torch.Generator().manual_seed(0))
    t = soft_encode_ab(ab, grid)
    assert t.shape == (3, 529, 4, 4)
    np.testing.assert_allclose(t.sum(1), 1.0, atol=1e-5)
    assert torch.equal(t.argmax(1), quantize_ab(ab, grid))
    assert int((t > 0).sum(1).max()) == 5
    # Hand value: a value on a bin centre, its 4 neighbours at distance 10.
    t = soft_encode_ab(torch.tensor([[[20.0], [30.0]]]), grid).flatten()
    w_far = np.exp(-100 / 50)
    near = grid.tolist().index([20.0, 30.0])
    assert float(t[near]) == pytest.approx(1 / (1 + 4 * w_far), rel=1e-5)
    assert float(t.sort(descending=True).values[1]) == pytest.approx(
        w_far / (1 + 4 * w_far), rel=1e-5)


def test_rebalancing_weights_hand_computation():
    counts = torch.tensor([6.0, 3.0, 1.0])
    lam = 0.5
    p = np.array([0.6, 0.3, 0.1])
    w = 1 / ((1 - lam) * p + lam / 3)
    w /= (p * w).sum()
    np.testing.assert_allclose(class_rebalancing_weights(counts, sigma=0.0, lam=lam), w,
                               rtol=1e-6)
    # With smoothing: bins 10 apart, kernel exp(-d^2 / 50).
    bins = torch.tensor([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]])
    d = np.array([[0, 10, 20], [10, 0, 10], [20, 10, 0]], dtype=float)
    ps = np.exp(-d ** 2 / 50) @ p
    ps /= ps.sum()
    ws = 1 / ((1 - lam) * ps + lam / 3)
    ws /= (ps * ws).sum()
    got = class_rebalancing_weights(counts, bins, lam=lam, sigma=5.0)
    np.testing.assert_allclose(got, ws, rtol=1e-6)
    assert float((torch.as_tensor(ps) * got).sum()) == pytest.approx(1.0, rel=1e-6)
    # Rare bins weigh more; lam=1 is no rebalancing.
    assert got[2] > got[1] > got[0]
    np.testing.assert_allclose(class_rebalancing_weights(counts, bins, lam=1.0), 1.0,
                               rtol=1e-6)
    with pytest.raises(ValueError, match="bins"):
        class_rebalancing_weights(counts, sigma=5.0)


def test_rebalanced_cross_entropy_uses_the_nearest_bin_weight():
    logits = torch.randn(2, 3, 2, 2, generator=torch.Generator().manual_seed(0))
    targets = torch.softmax(torch.randn(2, 3, 2, 2), 1)
    weights = torch.tensor([0.5, 1.0, 3.0])
    ce = -(targets * torch.log_softmax(logits, 1)).sum(1)
    expected = (ce * weights[targets.argmax(1)]).mean()
    assert float(rebalanced_cross_entropy(logits, targets, weights)) == pytest.approx(
        float(expected), rel=1e-6)
    assert float(rebalanced_cross_entropy(logits, targets)) == pytest.approx(
        float(ce.mean()), rel=1e-6)


def test_annealed_mean_tends_to_the_mode():
    bins = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 50.0]])
    logits = torch.tensor([0.0, 1.0, 0.5]).reshape(1, 3, 1)
    cold = annealed_mean_ab(logits, bins, temperature=0.01).flatten()
    np.testing.assert_allclose(cold, [10.0, 0.0], atol=1e-3)
    mean = annealed_mean_ab(logits, bins, temperature=1.0).flatten()
    p = torch.softmax(logits.flatten(), 0)
    np.testing.assert_allclose(mean, p @ bins, rtol=1e-6)


# --------------------------------------------------------------------- masks
def test_region_masks_cover_the_stated_region():
    m = region_masks(3, 8, 8, "center", 0.5)
    assert m.shape == (3, 1, 8, 8) and m.dtype == torch.bool
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[2:6, 2:6] = True
    assert all(torch.equal(m[i, 0], expected) for i in range(3))
    g = torch.Generator().manual_seed(0)
    m = region_masks(500, 8, 10, "random", 0.5, generator=g)
    assert (m.sum((1, 2, 3)) == 4 * 5).all()           # one 4 x 5 rectangle each
    rows, cols = m.any(3)[:, 0], m.any(2)[:, 0]
    assert (rows.sum(1) == 4).all() and (cols.sum(1) == 5).all()
    # Contiguous rows and columns (a rectangle, not scattered pixels).
    assert torch.equal(m[:, 0], rows[:, :, None] & cols[:, None, :])
    assert len({tuple(r.nonzero().flatten().tolist()) for r in rows}) == 5  # 5 positions
    m = region_masks(500, 8, 8, "blocks", 0.5, generator=g)
    covered = m.sum((1, 2, 3))
    assert covered.max() <= 16 and covered.min() >= 4
    assert len(set(covered.tolist())) > 3
    with pytest.raises(ValueError, match="region"):
        region_masks(1, 8, 8, "ring")


def test_loss_weights_and_loss_count_the_region_only():
    mask = region_masks(2, 6, 6, "center", 0.34)         # 2 x 2 centre
    w = inpainting_loss_weights(mask, overlap=1, overlap_weight=10.0)
    assert int((w == 1).sum()) == 2 * 4 and int((w == 10).sum()) == 2 * (16 - 4)
    assert int((w == 0).sum()) == 2 * (36 - 16)
    g = torch.Generator().manual_seed(0)
    target = torch.rand(2, 3, 6, 6, generator=g)
    rec = torch.rand(2, 3, 6, 6, generator=g)
    w0 = inpainting_loss_weights(mask)
    loss = masked_reconstruction_loss(rec, target, w0)
    m = mask.expand_as(target)
    assert float(loss) == pytest.approx(float(((rec - target)[m] ** 2).mean()), rel=1e-6)
    # Changing the reconstruction or the target outside the region changes nothing.
    rec2, target2 = rec.clone(), target.clone()
    rec2[~m] += 5.0
    target2[~m] -= 3.0
    assert float(masked_reconstruction_loss(rec2, target2, w0)) == float(loss)
    rec2[m] += 1.0
    assert float(masked_reconstruction_loss(rec2, target2, w0)) != float(loss)


# --------------------------------------------------------------------- data
def test_colorize_digits(digits):
    X, y = digits
    R = colorize_digits(X, y, random_state=0)
    assert R.shape == (200, 3, 8, 8) and R.dtype == np.float32
    assert R.min() >= 0 and R.max() <= 1
    np.testing.assert_array_equal(R, colorize_digits(X, y, random_state=0))
    lab = rgb_to_lab(torch.as_tensor(R).double()).numpy()
    # The lightness is a monotone function of the ink; the colour is the class's hue.
    assert np.corrcoef(lab[:, 0].flatten(), X.flatten())[0, 1] > 0.99
    ink = X[:, 0] == 1.0
    np.testing.assert_allclose(lab[:, 0][ink], 70.0, atol=0.01)
    a, b = lab[:, 1][ink], lab[:, 2][ink]
    hue = np.degrees(np.arctan2(b, a)) % 360
    cls = np.broadcast_to(y[:, None, None], ink.shape)[ink]
    diff = (hue - 36.0 * cls + 180) % 360 - 180
    assert np.abs(diff).max() <= 10.01 and diff.std() > 3
    np.testing.assert_allclose(np.hypot(a, b).min(), 25, atol=1)
    background = lab[:, :, 0, 0][X[:, 0, 0, 0] == 0]
    np.testing.assert_allclose(background.mean(0), [20.0, 5.0, -15.0], atol=0.05)
    with pytest.raises(ValueError, match="grayscale"):
        colorize_digits(R, y)


# --------------------------------------------------------------------- encoders
def _tiny(cls, **kw):
    return cls(**{**TINY, **kw})


@pytest.mark.parametrize("cls", [InpaintingEncoder, ColorizationEncoder])
def test_encoder_fit_transform_clone_pickle(cls, digits, colour):
    X = digits[0] if cls is InpaintingEncoder else colour[0]
    enc = _tiny(cls)
    Z = enc.fit(X).transform(X)
    assert Z.dtype == np.float32 and Z.shape == (len(X), enc.feature_dim_)
    assert np.isfinite(Z).all()
    assert enc.get_feature_names_out().shape == (enc.feature_dim_,)
    assert not hasattr(enc, "predict")
    assert clone(enc).get_params()["module__width"] == 4
    again = pickle.loads(pickle.dumps(enc))
    np.testing.assert_allclose(again.transform(X[:10]), Z[:10], rtol=1e-5, atol=1e-6)
    # Same seed, same embedding; the training moved the weights.
    np.testing.assert_allclose(clone(enc).fit(X).transform(X[:10]), Z[:10], atol=1e-5)
    fresh = _tiny(cls, max_epochs=0).fit(X).transform(X[:10])
    assert not np.allclose(fresh, Z[:10])
    other = _tiny(cls, random_state=1).fit(X).transform(X[:10])
    assert not np.allclose(other, Z[:10])
    enc.partial_fit(X)
    assert enc.n_steps_ == 2 * (len(X) // 32)


@pytest.mark.parametrize("cls", [InpaintingEncoder, ColorizationEncoder])
def test_pipeline_and_grid_search(cls, digits, colour):
    X, y = (digits if cls is InpaintingEncoder else colour)
    pipe = make_pipeline(_tiny(cls), LogisticRegression(max_iter=200))
    assert pipe.fit(X[:100], y[:100]).predict(X[100:110]).shape == (10,)
    search = GridSearchCV(pipe, {f"{cls.__name__.lower()}__hidden_dim": [8, 16]}, cv=2)
    search.fit(X[:100], y[:100])
    assert search.best_params_[f"{cls.__name__.lower()}__hidden_dim"] in (8, 16)


def test_inpainting_input_hides_the_region_and_reconstruct(digits):
    X, _ = digits
    enc = _tiny(InpaintingEncoder, region="center", max_epochs=2).fit(X)
    np.testing.assert_allclose(enc.fill_value_, [X.mean()], rtol=1e-5)
    x = torch.as_tensor(X[:20])
    mask = enc.draw_masks(20)
    changed = x.clone()
    changed[mask.expand_as(x)] = 0.77
    # Pixels inside the region do not reach the trunk.
    assert torch.equal(enc.drop_region(x, mask), enc.drop_region(changed, mask))
    assert torch.equal(enc.drop_region(x, mask)[mask.expand_as(x)],
                       torch.full((20 * 16,), float(X.mean())))
    filled, masks = enc.reconstruct(X[:20], return_mask=True)
    assert filled.shape == (20, 1, 8, 8) and masks.shape == (20, 1, 8, 8)
    # Outside the region the images are kept; inside they are predicted.
    np.testing.assert_array_equal(filled[~masks], X[:20][~masks])
    assert not np.allclose(filled[masks], X[:20][masks])
    np.testing.assert_array_equal(enc.reconstruct(X[:20]), filled)
    own = np.zeros((1, 1, 8, 8), dtype=bool)
    own[..., :2] = True
    by_hand = enc.reconstruct(X[:5], mask=own)
    np.testing.assert_array_equal(by_hand[..., 2:], X[:5, ..., 2:])
    with pytest.raises(ValueError, match="mask must have shape"):
        enc.reconstruct(X[:5], mask=np.ones((1, 8, 8), dtype=bool))


def test_inpainting_learns_to_fill(digits):
    X, _ = digits
    enc = InpaintingEncoder(max_epochs=15, batch_size=50, module__width=8, hidden_dim=64,
                            lr=1e-2, random_state=0).fit(X)
    losses = enc.history_[:, "train_loss"]
    assert losses[-1] < 0.6 * losses[0]
    filled, masks = enc.reconstruct(X, return_mask=True)
    err = ((filled - X)[masks] ** 2).mean()
    mean_fill = ((X - X.mean(0))[masks] ** 2).mean()
    assert err < mean_fill


@pytest.mark.parametrize("region", ["random", "center"])
def test_inpainting_random_regions_and_overlap(region, digits):
    X, _ = digits
    enc = _tiny(InpaintingEncoder, region=region, overlap=1).fit(X)
    _, m1 = enc.reconstruct(X[:50], return_mask=True)
    n_masks = len({m.tobytes() for m in m1})
    assert n_masks == 1 if region == "center" else n_masks > 10   # per image if random
    Z = enc.transform(X[:5])
    assert np.isfinite(Z).all()


def test_inpainting_adversarial_path_trains(digits):
    X, _ = digits
    assert _tiny(InpaintingEncoder).fit(X).discriminator_ is None
    enc = _tiny(InpaintingEncoder, adversarial_weight=0.5, max_epochs=3,
                module__dropout=0.0)
    fresh = _tiny(InpaintingEncoder, adversarial_weight=0.5, max_epochs=0,
                  module__dropout=0.0).fit(X)
    enc.fit(X)
    disc = enc.discriminator_
    assert disc is not None
    # The discriminator has its own parameter group (a tenth of lr), not the trunk's.
    groups = enc.optimizer_.param_groups
    assert len(groups) == 2
    assert {id(p) for p in groups[1]["params"]} == {id(p) for p in disc.parameters()}
    assert not {id(p) for p in groups[0]["params"]} & {id(p) for p in disc.parameters()}
    assert groups[1]["lr"] == pytest.approx(0.1 * groups[0]["lr"])
    moved = [not torch.equal(a, b) for a, b in
             zip(disc.parameters(), fresh.discriminator_.parameters())]
    assert all(moved)
    batch = enc.history_[-1, "batches"][-1]
    assert np.isfinite(batch["adversarial_loss"])
    assert np.isfinite(batch["discriminator_loss"])
    # The adversarial term changes what the trunk learns.
    plain = _tiny(InpaintingEncoder, max_epochs=3).fit(X)
    assert not np.allclose(plain.transform(X[:5]), enc.transform(X[:5]))
    # One step by hand: the discriminator's gradient is that of its own loss
    # only; the trunk's is that of (1 - w) * reconstruction + w * adversarial.
    x = torch.as_tensor(X[:32])
    enc._generator = torch.Generator().manual_seed(5)
    loss = enc.compute_loss(x)
    enc.optimizer_.zero_grad()
    loss.backward()
    assert all(p.requires_grad for p in disc.parameters())
    got_d = [p.grad.clone() for p in disc.parameters()]
    got_t = [p.grad.clone() for p in enc.module_.parameters()]
    mask = enc.draw_masks(32, torch.Generator().manual_seed(5))
    decoded, composite = enc.inpaint(x, mask)
    ones = torch.ones(32)
    d_loss = F.binary_cross_entropy_with_logits(
        disc(torch.cat([x, composite.detach()])), torch.cat([ones, 0 * ones]))
    want_d = torch.autograd.grad(d_loss, list(disc.parameters()))
    rec = masked_reconstruction_loss(decoded, x, mask.float())
    adv = F.binary_cross_entropy_with_logits(disc(composite), ones)
    want_t = torch.autograd.grad(0.5 * rec + 0.5 * adv, list(enc.module_.parameters()))
    for g, w in zip(got_d + got_t, list(want_d) + list(want_t)):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-6)
    del enc._generator
    with pytest.raises(ValueError, match="adversarial_weight"):
        _tiny(InpaintingEncoder, adversarial_weight=1.0).fit(X)


def test_colorization_bins_weights_and_colorize(colour):
    R, _ = colour
    enc = _tiny(ColorizationEncoder, max_epochs=3).fit(R)
    ab = rgb_to_lab(torch.as_tensor(R))[:, 1:]
    bins, counts = occupied_ab_bins(ab)
    assert torch.equal(enc.ab_bins_, bins) and torch.equal(enc.bin_counts_, counts)
    np.testing.assert_allclose(
        enc.bin_weights_, class_rebalancing_weights(counts, bins, 0.5, 5.0), rtol=1e-6)
    # The background bin is the most frequent and weighs least.
    assert int(enc.bin_weights_.argmin()) == int(counts.argmax())
    assert enc.module_.features[0].in_channels == 1          # the trunk sees L only
    out = enc.colorize(R[:10])
    assert out.shape == (10, 3, 8, 8) and out.min() >= 0 and out.max() <= 1
    # colorize keeps the lightness.
    np.testing.assert_allclose(rgb_to_lab(torch.as_tensor(out))[:, 0],
                               rgb_to_lab(torch.as_tensor(R[:10]))[:, 0], atol=0.5)
    # transform depends on the lightness only.
    lab = rgb_to_lab(torch.as_tensor(R[:10]).double())
    lab[:, 1:] = 0.0
    grey = lab_to_rgb(lab).float().numpy()
    np.testing.assert_allclose(enc.transform(grey), enc.transform(R[:10]), atol=1e-4)


def test_colorization_learns(colour):
    R, _ = colour
    enc = ColorizationEncoder(max_epochs=15, batch_size=50, module__width=8, hidden_dim=64,
                              lr=1e-2, random_state=0).fit(R)
    losses = enc.history_[:, "train_loss"]
    assert losses[-1] < 0.7 * losses[0]
    # The prediction beats a constant: the mean colour of every training pixel.
    lab = rgb_to_lab(torch.as_tensor(R))
    pred = rgb_to_lab(torch.as_tensor(enc.colorize(R)))
    err = ((pred[:, 1:] - lab[:, 1:]) ** 2).mean()
    const = ((lab[:, 1:] - lab[:, 1:].mean((0, 2, 3), keepdim=True)) ** 2).mean()
    assert float(err) < float(const)


# --------------------------------------------------------------------- bad input
@pytest.mark.parametrize("cls", [InpaintingEncoder, ColorizationEncoder])
def test_refuses_rows_and_signals(cls, digits):
    X, _ = digits
    what = "RGB images" if cls is ColorizationEncoder else "needs images"
    with pytest.raises(ValueError, match=f"{what}.*tabular rows of shape \\(n, 64\\)"):
        _tiny(cls).fit(X.reshape(len(X), -1))
    with pytest.raises(ValueError, match=f"{what}.*signals of shape \\(n, 8, 8\\)"):
        _tiny(cls).fit(X[:, 0])


def test_colorization_refuses_grayscale_and_out_of_range(digits, colour):
    X, _ = digits
    with pytest.raises(ValueError, match="RGB images .*in colour.*1-channel images"):
        _tiny(ColorizationEncoder).fit(X)
    R, _ = colour
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        _tiny(ColorizationEncoder).fit(R * 255)
    enc = _tiny(ColorizationEncoder).fit(R)
    with pytest.raises(ValueError, match="expected|shape"):
        enc.transform(X)


def test_bad_params(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="region"):
        _tiny(InpaintingEncoder, region="ring").fit(X)
    with pytest.raises(ValueError, match="region_size"):
        _tiny(InpaintingEncoder, region_size=0.0).fit(X)
    with pytest.raises(ValueError, match="rebalancing_lambda"):
        _tiny(ColorizationEncoder, rebalancing_lambda=1.5).fit(X)
    before = X.copy()
    _tiny(InpaintingEncoder).fit(X)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("device", device_params())
def test_fit_on_device(device, digits, colour):
    check_fit_on_device(InpaintingEncoder(device=device, **TINY), digits[0], device)
    check_fit_on_device(ColorizationEncoder(device=device, **TINY), colour[0], device)


def test_rebalancing_weights_with_an_empty_bin_and_lam_out_of_range():
    from sklabelfree.nn.losses.colorization import class_rebalancing_weights

    w = class_rebalancing_weights(torch.tensor([3.0, 0.0, 1.0]), sigma=0, lam=0.0)
    assert torch.isfinite(w).all() and float(w[1]) == 0.0
    # The expectation over the empirical distribution is 1 (the paper's normalisation).
    assert float((torch.tensor([0.75, 0.0, 0.25]) * w).sum()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"lam must be in \[0, 1\]"):
        class_rebalancing_weights(torch.tensor([3.0, 1.0]), sigma=0, lam=1.5)


def test_masked_reconstruction_loss_needs_one_weight_channel():
    from sklabelfree.nn.losses.inpainting import masked_reconstruction_loss

    ones, zeros = torch.ones(1, 3, 2, 2), torch.zeros(1, 3, 2, 2)
    assert float(masked_reconstruction_loss(ones, zeros, torch.ones(1, 1, 2, 2))) == 1.0
    with pytest.raises(ValueError, match="weights must have one channel"):
        masked_reconstruction_loss(ones, zeros, torch.ones(1, 3, 2, 2))
