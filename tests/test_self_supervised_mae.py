"""The masked autoencoder: patches, masking, its loss, the ViT and MAEEncoder."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklabelfree.datasets import load_digits_images
from sklabelfree.nn.losses.masked import (
    masked_patch_loss,
    n_masked_patches,
    normalize_patches,
    random_masking,
)
from sklabelfree.nn.vit import (
    MAEDecoder,
    VisionTransformer,
    patchify,
    sincos_pos_embed_2d,
    unpatchify,
)
from sklabelfree.self_supervised._mae import MAEEncoder
from sklabelfree.utils._test_common import check_fit_on_device, device_params

torch.set_num_threads(1)

TINY = dict(max_epochs=1, batch_size=32, decoder_dim=8, decoder_num_heads=2,
            module__embed_dim=8, module__depth=1, module__num_heads=2, random_state=0)


def _tiny(**kw):
    return MAEEncoder(**{**TINY, **kw})


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_images()
    return X[:200], y[:200]


def _rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------- patches
def test_patchify_order_and_inverse():
    x = torch.arange(2 * 4 * 6, dtype=torch.float32).reshape(1, 2, 4, 6)
    patches = patchify(x, 2)
    assert patches.shape == (1, 6, 8)
    # Patch 1 is row 0, column 1 of the grid; pixels in (row, column, channel) order.
    expected = [x[0, c, i, 2 + j] for i in range(2) for j in range(2) for c in range(2)]
    assert patches[0, 1].tolist() == [float(v) for v in expected]
    assert torch.equal(unpatchify(patches, 2, (2, 4, 6)), x)
    y = _rand(3, 3, 8, 12)
    for p in (1, 2, 4):
        assert torch.equal(unpatchify(patchify(y, p), p, y.shape), y)
        z = _rand(3, (8 // p) * (12 // p), p * p * 3, seed=1)
        assert torch.equal(patchify(unpatchify(z, p, (3, 8, 12)), p), z)


def test_patchify_refuses_bad_sizes():
    with pytest.raises(ValueError, match="not divisible by patch_size=3"):
        patchify(torch.zeros(1, 1, 8, 8), 3)
    with pytest.raises(ValueError, match="do not make images"):
        unpatchify(torch.zeros(1, 16, 3), 2, (1, 8, 8))


def test_sincos_pos_embed():
    pos = sincos_pos_embed_2d(8, (2, 3))
    # First half codes the column, second the row: patches of a row share the second half.
    assert torch.allclose(pos[0, 4:], pos[2, 4:]) and not torch.allclose(pos[0, :4], pos[2, :4])
    assert torch.allclose(pos[0, :4], pos[3, :4]) and not torch.allclose(pos[0], pos[3])
    # Row 1, column 2: frequencies 1 and 1 / 10000^(1/2) of each half.
    col = [np.sin(2), np.sin(0.02), np.cos(2), np.cos(0.02)]
    row = [np.sin(1), np.sin(0.01), np.cos(1), np.cos(0.01)]
    np.testing.assert_allclose(pos[5].numpy(), col + row, rtol=1e-6)
    with pytest.raises(ValueError, match="divisible by 4"):
        sincos_pos_embed_2d(6, 2)


# --------------------------------------------------------------------- masking and loss
@pytest.mark.parametrize("n_patches, ratio, n_masked", [(16, 0.75, 12), (64, 0.75, 48),
                                                         (10, 0.55, 6), (16, 0.5, 8)])
def test_random_masking_masks_exactly_the_ratio(n_patches, ratio, n_masked):
    g = torch.Generator().manual_seed(0)
    ids_keep, mask, ids_restore = random_masking(50, n_patches, ratio, generator=g)
    assert n_masked_patches(n_patches, ratio) == n_masked
    assert ids_keep.shape == (50, n_patches - n_masked)
    assert (mask.sum(1) == n_masked).all()
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    # The kept patches are the visible ones, each once.
    assert (mask.gather(1, ids_keep) == 0).all()
    assert all(len(set(row.tolist())) == ids_keep.shape[1] for row in ids_keep)
    # ids_restore inverts the shuffle: restoring [kept, masked] gives the mask back.
    order = torch.cat([torch.zeros_like(ids_keep), torch.ones(50, n_masked, dtype=torch.long)],
                      dim=1).float()
    assert torch.equal(order.gather(1, ids_restore), mask)
    # Each image gets its own mask.
    assert len({tuple(row.tolist()) for row in mask}) > 1


def test_random_masking_is_seeded_and_refuses_full_masks():
    a = random_masking(4, 16, 0.75, generator=torch.Generator().manual_seed(3))
    b = random_masking(4, 16, 0.75, generator=torch.Generator().manual_seed(3))
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    with pytest.raises(ValueError, match="one stay visible"):
        random_masking(2, 16, 0.99)
    with pytest.raises(ValueError, match="at least one patch must be masked"):
        random_masking(2, 16, 0.01)


def test_masked_patch_loss_matches_hand_computation():
    pred, target = _rand(2, 5, 4), _rand(2, 5, 4, seed=1)
    mask = torch.tensor([[1.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 1.0]])
    p, t = pred.double().numpy(), target.double().numpy()
    masked = [(0, 0), (0, 2), (1, 3), (1, 4)]
    expected = np.mean([((p[i, j] - t[i, j]) ** 2).mean() for i, j in masked])
    assert float(masked_patch_loss(pred, target, mask)) == pytest.approx(expected, rel=1e-5)
    # Normalised pixels: each target patch standardised by its own mean and variance.
    tn = (t - t.mean(-1, keepdims=True)) / np.sqrt(t.var(-1, ddof=1, keepdims=True) + 1e-6)
    expected = np.mean([((p[i, j] - tn[i, j]) ** 2).mean() for i, j in masked])
    assert float(masked_patch_loss(pred, target, mask, norm_pix=True)) == pytest.approx(
        expected, rel=1e-5)
    assert torch.allclose(normalize_patches(target).double(), torch.from_numpy(tn), atol=1e-5)
    # A visible patch's prediction does not count; a masked one does.
    changed = pred.clone()
    changed[0, 1] += 10.0
    changed[1, 0] -= 3.0
    assert float(masked_patch_loss(changed, target, mask)) == pytest.approx(
        float(masked_patch_loss(pred, target, mask)), rel=1e-6)
    changed[0, 0] += 1.0
    assert float(masked_patch_loss(changed, target, mask)) != pytest.approx(
        float(masked_patch_loss(pred, target, mask)), rel=1e-3)
    # The gradient reaches only the masked predictions.
    pred.requires_grad_(True)
    masked_patch_loss(pred, target, mask).backward()
    assert torch.equal(pred.grad.abs().sum(-1) > 0, mask.bool())


def test_masked_patch_loss_refuses_bad_shapes():
    with pytest.raises(ValueError, match="same shape"):
        masked_patch_loss(torch.zeros(2, 4, 3), torch.zeros(2, 4, 2), torch.ones(2, 4))
    with pytest.raises(ValueError, match="mask must be"):
        masked_patch_loss(torch.zeros(2, 4, 3), torch.zeros(2, 4, 3), torch.ones(2, 3))


# --------------------------------------------------------------------- modules
@pytest.mark.parametrize("pool", ["mean", "cls", "flatten"])
def test_vision_transformer(pool):
    torch.manual_seed(0)
    vit = VisionTransformer(2, (8, 4), patch_size=2, embed_dim=16, depth=2, num_heads=2,
                            output_dim=3, pool=pool).eval()
    x = _rand(5, 2, 8, 4)
    assert vit.num_patches == 8 and vit.grid_size == (4, 2)
    assert vit(x).shape == (5, 3)
    feats = vit(x, return_features=True)
    dim = 8 * 16 if pool == "flatten" else 16
    assert feats.shape == (5, dim) and vit.feature_dim == dim
    assert torch.allclose(vit(x), vit.head(feats))
    # The encoder on every patch, in grid order, is the forward pass.
    all_ids = torch.arange(8).repeat(5, 1)
    tokens = vit.forward_visible(x, all_ids)
    assert tokens.shape == (5, 8 + vit.num_prefix_tokens, 16)
    assert torch.allclose(vit.pool_tokens(tokens), feats, atol=1e-5)
    if pool == "flatten":
        # Patch p's token is the p-th block of embed_dim features.
        assert torch.allclose(feats.reshape(5, 8, 16), tokens, atol=1e-5)
    # The positional embedding travels with its patch: the order of the kept
    # patches does not change their encoding.
    keep = torch.tensor([[6, 1, 3]] * 5)
    a = vit.forward_visible(x, keep)
    b = vit.forward_visible(x, keep[:, [2, 0, 1]])
    n0 = vit.num_prefix_tokens
    assert torch.allclose(a[:, n0:][:, [2, 0, 1]], b[:, n0:], atol=1e-5)
    # Fixed positional embeddings: a buffer, not a parameter.
    assert "pos_embed" in dict(vit.named_buffers())
    assert "pos_embed" not in dict(vit.named_parameters())
    with pytest.raises(ValueError, match="not divisible by patch_size=3"):
        VisionTransformer(1, 8, patch_size=3)
    with pytest.raises(ValueError, match="pool"):
        VisionTransformer(1, 8, pool="max")


def test_mae_decoder_puts_mask_tokens_at_masked_positions():
    torch.manual_seed(0)
    dec = MAEDecoder(12, (2, 2), patch_dim=4, decoder_dim=8, depth=0, num_heads=2).eval()
    ids_keep, mask, ids_restore = random_masking(3, 4, 0.5,
                                                 generator=torch.Generator().manual_seed(0))
    pred = dec(_rand(3, 2, 12), ids_restore)
    assert pred.shape == (3, 4, 4)
    # With no block, a masked patch's prediction is the mask token's (plus its position).
    expected = dec.pred(dec.norm(dec.mask_token[0] + dec.pos_embed[0]))
    for i in range(3):
        for j in range(4):
            close = torch.allclose(pred[i, j], expected[j], atol=1e-6)
            assert close == bool(mask[i, j])


# --------------------------------------------------------------------- estimator
def test_mae_fit_transform_clone_pickle(digits):
    X, _ = digits
    enc = _tiny()
    Z = enc.fit(X, y=None).transform(X)
    # 16 patches of 2x2 pixels, 8 features each, concatenated.
    assert Z.dtype == np.float32 and Z.shape == (len(X), 128) and enc.feature_dim_ == 128
    assert np.isfinite(Z).all()
    assert isinstance(enc.module_, VisionTransformer) and enc.module_.patch_size == 2
    assert enc.module_.pool == "flatten" and len(enc.module_.blocks) == 1
    default = MAEEncoder(max_epochs=0, random_state=0).fit(X[:40]).module_
    assert len(default.blocks) == 2 and default.pool == "flatten"
    assert enc.get_feature_names_out().shape == (128,)
    assert not hasattr(enc, "predict")
    # transform: no masking, eval mode, the encoded patch tokens in grid order.
    np.testing.assert_array_equal(enc.transform(X[:10]), Z[:10])
    with torch.no_grad():
        tokens = enc.module_.encode_tokens(enc.module_.embed(torch.as_tensor(X[:10])))
    np.testing.assert_allclose(tokens.reshape(10, -1).numpy(), Z[:10], atol=1e-5)
    mean = _tiny(module__pool="mean").fit(X)
    assert mean.transform(X[:4]).shape == (4, 8) and mean.feature_dim_ == 8
    assert clone(enc).get_params()["module__embed_dim"] == 8
    again = pickle.loads(pickle.dumps(enc))
    np.testing.assert_allclose(again.transform(X[:10]), Z[:10], rtol=1e-5, atol=1e-6)
    # Same seed, same embedding; another seed or no training, another one.
    np.testing.assert_allclose(clone(enc).fit(X).transform(X[:10]), Z[:10], atol=1e-5)
    assert not np.allclose(_tiny(random_state=1).fit(X).transform(X[:10]), Z[:10])
    assert not np.allclose(_tiny(max_epochs=0).fit(X).transform(X[:10]), Z[:10])


def test_mae_optimizer_is_adamw_without_decay_on_tokens_and_norms(digits):
    X, _ = digits
    enc = _tiny(module__pool="cls", max_epochs=0).fit(X)
    assert isinstance(enc.optimizer_, torch.optim.AdamW)
    decay, no_decay = enc.optimizer_.param_groups
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim >= 2 for p in decay["params"])
    ids = {id(p) for p in no_decay["params"]}
    assert id(enc.decoder_.mask_token) in ids and id(enc.module_.cls_token) in ids
    n_params = sum(1 for _ in enc.module_.parameters()) + sum(
        1 for _ in enc.decoder_.parameters())
    assert len(decay["params"]) + len(no_decay["params"]) == n_params


def test_mae_training_rebuilds_masked_patches(digits):
    X, _ = digits
    params = dict(batch_size=50, random_state=0, lr=3e-3, module__embed_dim=16,
                  module__depth=1, decoder_dim=16)
    enc = MAEEncoder(max_epochs=10, **params).fit(X)
    losses = enc.history_[:, "train_loss"]
    assert losses[-1] < 0.5 * losses[0]
    rec, mask = enc.reconstruct(X[:100], random_state=0, return_mask=True)
    assert rec.shape == X[:100].shape and rec.dtype == np.float32
    assert mask.shape == (100, 8, 8) and mask.dtype == bool
    # 12 of the 16 patches of 2x2 pixels of each image are masked.
    assert (mask.sum((1, 2)) == 48).all()
    # Visible pixels are kept as they are.
    np.testing.assert_array_equal(rec[:, 0][~mask], X[:100, 0][~mask])
    # The masked pixels are the decoder's: better than the untrained decoder's.
    untrained = MAEEncoder(max_epochs=0, **params).fit(X)
    rec0, mask0 = untrained.reconstruct(X[:100], random_state=0, return_mask=True)
    np.testing.assert_array_equal(mask0, mask)
    err = ((rec - X[:100])[:, 0][mask] ** 2).mean()
    assert err < 0.5 * ((rec0 - X[:100])[:, 0][mask] ** 2).mean()
    # Seeded masks; another seed, other masks.
    rec2, mask2 = enc.reconstruct(X[:100], random_state=0, return_mask=True)
    np.testing.assert_array_equal(rec2, rec)
    np.testing.assert_array_equal(mask2, mask)
    assert not np.array_equal(enc.reconstruct(X[:100], random_state=1, return_mask=True)[1],
                              mask)


def test_mae_norm_pix_loss_and_cls_pool(digits):
    X, _ = digits
    enc = _tiny(norm_pix_loss=True, module__pool="cls").fit(X)
    assert enc.transform(X[:4]).shape == (4, 8)
    rec, mask = enc.reconstruct(X[:4], random_state=0, return_mask=True)
    assert np.isfinite(rec).all()
    np.testing.assert_array_equal(rec[:, 0][~mask], X[:4, 0][~mask])
    # The loss is on standardised targets: not the loss of raw pixels.
    plain = _tiny(module__pool="cls").fit(X)
    assert enc.history_[0, "train_loss"] != pytest.approx(plain.history_[0, "train_loss"])


def test_mae_custom_module_class_and_instance(digits):
    X, _ = digits
    enc = _tiny(module=VisionTransformer, module__patch_size=4).fit(X[:40])
    assert enc.module_.num_patches == 4 and enc.transform(X[:3]).shape == (3, 8)
    # With 4 patches, 0.75 masks 3.
    assert (enc.reconstruct(X[:3], random_state=0, return_mask=True)[1].sum((1, 2)) == 48).all()
    vit = VisionTransformer(1, 8, patch_size=1, embed_dim=12, depth=1, num_heads=3)
    enc = MAEEncoder(module=vit, max_epochs=1, batch_size=32, decoder_dim=8,
                     decoder_num_heads=2, random_state=0).fit(X[:40])
    assert enc.transform(X[:3]).shape == (3, 12) and enc.decoder_.num_patches == 64
    with pytest.raises(TypeError, match="VisionTransformer-like.*forward_visible"):
        MAEEncoder(module=torch.nn.Linear(64, 4), max_epochs=1).fit(X[:40])


def test_mae_in_pipeline_and_grid_search(digits):
    X, y = digits
    pipe = make_pipeline(_tiny(), LogisticRegression(max_iter=200))
    assert pipe.fit(X[:100], y[:100]).predict(X[100:103]).shape == (3,)
    grid = GridSearchCV(pipe, {"maeencoder__mask_ratio": [0.5, 0.75]}, cv=2).fit(
        X[:100], y[:100])
    assert grid.best_params_["maeencoder__mask_ratio"] in (0.5, 0.75)


def test_mae_bad_input_and_params(digits):
    X, _ = digits
    with pytest.raises(ValueError, match=r"needs images \(n, c, h, w\).*tabular rows"):
        _tiny().fit(X.reshape(len(X), -1))
    with pytest.raises(ValueError, match=r"needs images \(n, c, h, w\).*signals"):
        _tiny().fit(X[:, 0])
    with pytest.raises(ValueError, match="image size 9x9 is not divisible by patch_size=2"):
        _tiny().fit(np.zeros((10, 1, 9, 9), dtype=np.float32))
    with pytest.raises(ValueError, match="mask_ratio"):
        _tiny(mask_ratio=1.0).fit(X)
    with pytest.raises(ValueError, match="one stay visible"):
        _tiny(mask_ratio=0.99).fit(X)
    with pytest.raises(ValueError, match="norm_pix_loss"):
        _tiny(norm_pix_loss="yes").fit(X)
    with pytest.raises(ValueError, match="weight_decay"):
        _tiny(weight_decay=-1.0).fit(X)
    with pytest.raises(ValueError, match="at least 2 samples"):
        _tiny().fit(X[:1])
    enc = _tiny().fit(X)
    with pytest.raises(ValueError):
        enc.transform(X[:, :, :4, :4])
    with pytest.raises(ValueError):
        enc.reconstruct(X[:, :, :4, :4])
    before = X.copy()
    enc.reconstruct(X[:5])
    np.testing.assert_array_equal(X, before)


# --------------------------------------------------------------------- sklearn checks


@pytest.mark.parametrize("device", device_params())
def test_fit_on_device(device, digits):
    X, _ = digits
    check_fit_on_device(_tiny(device=device), X, device)


def test_norm_pix_loss_needs_two_pixels_per_patch():
    from sklabelfree.nn.losses.masked import normalize_patches

    X = np.random.RandomState(0).rand(16, 1, 4, 4).astype("float32")
    enc = MAEEncoder(module__patch_size=1, norm_pix_loss=True, max_epochs=1, batch_size=8,
                     module__embed_dim=8, module__num_heads=2, decoder_dim=8,
                     decoder_num_heads=2, random_state=0)
    with pytest.raises(ValueError, match="needs at least 2 of them"):
        enc.fit(X)
    with pytest.raises(ValueError, match="at least 2 values per patch"):
        normalize_patches(torch.ones(3, 1))
