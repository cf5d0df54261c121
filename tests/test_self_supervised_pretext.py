"""Pretext-task encoders (rotation, jigsaw, relative patch) and their batch builders."""

import itertools
import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklabelfree.datasets import load_digits_images
from sklabelfree.neural import eval_mode
from sklabelfree.nn.losses import (
    RELATIVE_POSITIONS,
    crop_patches,
    extract_tiles,
    hamming_distances,
    jigsaw_permutations,
    relative_patch_pairs,
    rotate_batch,
    shuffle_tiles,
)
from sklabelfree.self_supervised import (
    JigsawEncoder,
    RelativePatchEncoder,
    RotationEncoder,
)
from sklabelfree.utils._test_common import check_fit_on_device, device_params

torch.set_num_threads(1)

ENCODERS = [RotationEncoder, JigsawEncoder, RelativePatchEncoder]
TINY = dict(max_epochs=1, batch_size=32, module__width=4, random_state=0)


def _tiny(cls, **kw):
    params = dict(TINY)
    if cls is not RotationEncoder:
        params.update(hidden_dim=16)
    params.update(kw)
    return cls(**params)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_images()
    return X[:200], y[:200]


# --------------------------------------------------------------------- rotations
def test_rotate_batch_hand_example():
    x = torch.arange(4.0).reshape(1, 1, 2, 2)  # [[0, 1], [2, 3]]
    rotated, labels = rotate_batch(x)
    expected = [[[0, 1], [2, 3]],   # 0 degrees
                [[1, 3], [0, 2]],   # 90 degrees counter-clockwise
                [[3, 2], [1, 0]],   # 180
                [[2, 0], [3, 1]]]   # 270
    assert rotated.shape == (4, 1, 2, 2)
    np.testing.assert_array_equal(rotated[:, 0].numpy(), np.array(expected, dtype=float))
    assert labels.tolist() == [0, 1, 2, 3]


def test_rotate_batch_layout_and_labels():
    x = torch.randn(3, 2, 5, 5, generator=torch.Generator().manual_seed(0))
    rotated, labels = rotate_batch(x)
    assert rotated.shape == (12, 2, 5, 5) and labels.dtype == torch.int64
    for k in range(4):
        for i in range(3):
            assert labels[k * 3 + i] == k
            # k quarter turns counter-clockwise, numpy's convention.
            np.testing.assert_array_equal(rotated[k * 3 + i].numpy(),
                                          np.rot90(x[i].numpy(), k, axes=(1, 2)))
    with pytest.raises(ValueError, match="square"):
        rotate_batch(torch.zeros(2, 1, 4, 6))


# --------------------------------------------------------------------- jigsaw
def test_extract_and_shuffle_tiles():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    tiles = extract_tiles(x, 2)
    assert tiles.shape == (1, 4, 1, 2, 2)
    expected = [[[0, 1], [4, 5]], [[2, 3], [6, 7]], [[8, 9], [12, 13]],
                [[10, 11], [14, 15]]]
    np.testing.assert_array_equal(tiles[0, :, 0].numpy(), np.array(expected, dtype=float))
    # A 5x5 image with grid 2: the last row and column are dropped.
    assert extract_tiles(torch.zeros(2, 3, 5, 5), 2).shape == (2, 4, 3, 2, 2)
    perms = torch.tensor([[2, 0, 3, 1], [1, 2, 3, 0]])
    batch = torch.cat([tiles, tiles + 100])
    shuffled = shuffle_tiles(batch, perms)
    for i in range(2):
        for k in range(4):  # position k holds tile perms[i, k]
            assert torch.equal(shuffled[i, k], batch[i, perms[i, k]])
    # The inverse permutation puts the tiles back.
    inverse = torch.argsort(perms, dim=1)
    assert torch.equal(shuffle_tiles(shuffled, inverse), batch)
    with pytest.raises(ValueError, match="permutations must be"):
        shuffle_tiles(batch, torch.tensor([[0, 1, 2, 3]] * 3))


def test_jigsaw_permutations_are_distinct_and_far_apart():
    perms = jigsaw_permutations(7, 30, random_state=0)
    assert perms.shape == (30, 7) and perms.dtype == np.int64
    assert len({tuple(p) for p in perms}) == 30
    assert all(sorted(p) == list(range(7)) for p in perms.tolist())
    d = hamming_distances(perms, perms)
    off = ~np.eye(30, dtype=bool)
    rng = np.random.RandomState(0)
    random_set = np.array([rng.permutation(7) for _ in range(30)])
    dr = hamming_distances(random_set, random_set)
    assert d[off].min() >= dr[off].min()
    assert d[off].min() >= 4  # nowhere near a swap of two tiles
    # Seeded; the first permutation is the random one.
    np.testing.assert_array_equal(perms, jigsaw_permutations(7, 30, random_state=0))
    assert not np.array_equal(perms, jigsaw_permutations(7, 30, random_state=1))
    # The paper's criterion (largest mean distance) gives distinct ones too.
    mean = jigsaw_permutations(7, 30, random_state=0, criterion="mean")
    assert len({tuple(p) for p in mean}) == 30
    assert hamming_distances(mean, mean)[off].mean() >= dr[off].mean()


def test_jigsaw_permutations_small_cases():
    # 4 tiles: 4 permutations pairwise different at every position exist,
    # and the max-min selection finds them; all 24 is every permutation.
    perms = jigsaw_permutations(4, 4, random_state=3)
    d = hamming_distances(perms, perms)
    assert d[~np.eye(4, dtype=bool)].min() == 4
    every = jigsaw_permutations(4, 24, random_state=0)
    assert {tuple(p) for p in every} == set(itertools.permutations(range(4)))
    with pytest.raises(ValueError, match="n_permutations must be in"):
        jigsaw_permutations(4, 25)
    with pytest.raises(ValueError, match="criterion"):
        jigsaw_permutations(4, 3, criterion="max")


# --------------------------------------------------------------------- patches
def test_crop_patches_hand_example():
    x = torch.arange(32.0).reshape(2, 1, 4, 4)
    out = crop_patches(x, torch.tensor([0, 2]), torch.tensor([1, 0]), 2)
    np.testing.assert_array_equal(out[0, 0].numpy(), [[1, 2], [5, 6]])
    np.testing.assert_array_equal(out[1, 0].numpy(), [[24, 25], [28, 29]])


def _coordinate_images(n, size):
    # Channel 0 holds the row of each pixel, channel 1 its column.
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    return torch.stack([rows, cols]).float().expand(n, 2, size, size).contiguous()


@pytest.mark.parametrize("size, patch, gap, jitter", [(8, 2, 1, 0), (13, 3, 1, 1)])
def test_relative_patch_positions_and_labels(size, patch, gap, jitter):
    n = 400
    x = _coordinate_images(n, size)
    centre, neighbour, labels = relative_patch_pairs(
        x, patch, gap=gap, jitter=jitter, generator=torch.Generator().manual_seed(0))
    assert centre.shape == neighbour.shape == (n, 2, patch, patch)
    assert set(labels.tolist()) == set(range(8))
    # The top-left pixel of each patch gives its position.
    c_pos = centre[:, :, 0, 0].long()
    n_pos = neighbour[:, :, 0, 0].long()
    # Patches are contiguous crops.
    assert torch.equal(centre[:, 0, -1, 0].long(), c_pos[:, 0] + patch - 1)
    offsets = torch.tensor(RELATIVE_POSITIONS)[labels]
    move = n_pos - c_pos - offsets * (patch + gap)
    assert move.abs().max() <= 2 * jitter
    if jitter == 0:
        assert torch.equal(move, torch.zeros_like(move))
        # patch 2, gap 1 on 8x8 images: the grid fills the image, centre fixed.
        assert (c_pos == 3).all()
    else:
        assert move.abs().max() > 0
    with pytest.raises(ValueError, match="too small"):
        relative_patch_pairs(x, patch + 1, gap=gap, jitter=jitter)


# --------------------------------------------------------------------- encoders
@pytest.mark.parametrize("cls", ENCODERS)
def test_encoder_fit_transform_and_reproducible(cls, digits):
    X, _ = digits
    enc = _tiny(cls)
    Z = enc.fit(X, y=None).transform(X)
    assert Z.dtype == np.float32 and Z.shape == (len(X), enc.feature_dim_)
    assert np.isfinite(Z).all()
    assert enc.get_feature_names_out().shape == (enc.feature_dim_,)
    assert not hasattr(enc, "predict")
    # Same seed, same embedding; the training moved the weights.
    np.testing.assert_allclose(clone(enc).fit(X).transform(X[:10]), Z[:10], atol=1e-5)
    assert not np.allclose(_tiny(cls, random_state=1).fit(X).transform(X[:10]), Z[:10])
    fresh = _tiny(cls, max_epochs=0).fit(X).transform(X[:10])
    assert not np.allclose(fresh, Z[:10])


@pytest.mark.parametrize("cls, kw", [
    (RotationEncoder, {}),
    (JigsawEncoder, dict(n_permutations=12)),
    (RelativePatchEncoder, {}),
])
def test_training_lowers_the_pretext_loss(cls, kw, digits):
    X, _ = digits
    enc = cls(max_epochs=6, batch_size=50, module__width=8, lr=1e-2,
              random_state=0, **kw).fit(X)
    losses = enc.history_[:, "train_loss"]
    assert losses[-1] < 0.85 * losses[0]
    # Better than chance on the pretext task.
    chance = {RotationEncoder: math.log(4), JigsawEncoder: math.log(12),
              RelativePatchEncoder: math.log(8)}[cls]
    assert losses[-1] < 0.9 * chance


def test_jigsaw_head_sees_tiles_in_permuted_order(digits):
    X, _ = digits
    enc = _tiny(JigsawEncoder, n_permutations=6).fit(X)
    assert enc.permutations_.shape == (6, 4)
    first = next(m for m in enc.head_.modules() if isinstance(m, torch.nn.Linear))
    assert first.in_features == 4 * enc.piece_dim_
    x = torch.as_tensor(X[:5])
    tiles = extract_tiles(x, 2)
    perm = torch.as_tensor(enc.permutations_[2])
    with eval_mode(enc.module_), torch.no_grad():
        f = enc.piece_features(shuffle_tiles(tiles, perm))
        each = [enc.module_(tiles[:, perm[k]], return_features=True) for k in range(4)]
    torch.testing.assert_close(f, torch.cat(each, dim=1))
    # The same seed gives the same permutation set.
    np.testing.assert_array_equal(clone(enc).fit(X).permutations_, enc.permutations_)


@pytest.mark.parametrize("cls", [JigsawEncoder, RelativePatchEncoder])
def test_grid_embedding(cls, digits):
    X, _ = digits
    enc = _tiny(cls, embedding="grid").fit(X)
    n_pieces = 4 if cls is JigsawEncoder else 9
    assert enc.feature_dim_ == n_pieces * enc.piece_dim_
    assert enc.transform(X[:3]).shape == (3, enc.feature_dim_)


def test_image_embedding_needs_a_trunk_for_both_sizes(digits):
    from sklabelfree.nn import MLP

    X, _ = digits
    # A flattening MLP built for 16-pixel tiles cannot take 64-pixel images.
    with pytest.raises(ValueError, match="embedding='grid'"):
        _tiny(JigsawEncoder, module=MLP, module__input_dim=16, embedding="image").fit(X)
    # The default trunk takes both: features of the whole image.
    enc = _tiny(RelativePatchEncoder, embedding="image").fit(X)
    assert enc.feature_dim_ == enc.piece_dim_
    assert enc.transform(X[:2]).shape == (2, enc.piece_dim_)
    enc = _tiny(JigsawEncoder, module=MLP, module__input_dim=16, embedding="grid").fit(X)
    assert enc.transform(X[:2]).shape == (2, 4 * 4)


def test_clone_pickle_pipeline_grid_search(digits):
    X, y = digits
    enc = _tiny(RotationEncoder).fit(X)
    assert clone(enc).get_params()["module__width"] == 4
    again = pickle.loads(pickle.dumps(enc))
    np.testing.assert_allclose(again.transform(X[:10]), enc.transform(X[:10]),
                               rtol=1e-5, atol=1e-6)
    pipe = make_pipeline(_tiny(JigsawEncoder), LogisticRegression(max_iter=200))
    grid = GridSearchCV(pipe, {"jigsawencoder__n_permutations": [4, 8]}, cv=2)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"jigsawencoder__n_permutations"}
    assert grid.predict(X[:3]).shape == (3,)


@pytest.mark.parametrize("cls", ENCODERS)
def test_refuses_rows_and_signals(cls, digits):
    X, _ = digits
    with pytest.raises(ValueError, match=r"needs images \(n, c, h, w\).*tabular rows"):
        _tiny(cls).fit(X.reshape(len(X), -1))
    with pytest.raises(ValueError, match=r"needs images \(n, c, h, w\).*signals"):
        _tiny(cls).fit(X.reshape(len(X), 1, -1))
    with pytest.raises(ValueError, match="at least 2 samples"):
        _tiny(cls).fit(X[:1])
    enc = _tiny(cls).fit(X)
    with pytest.raises(ValueError, match="shape"):
        enc.transform(X.reshape(len(X), -1))


def test_bad_image_sizes_and_params(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="square images"):
        _tiny(RotationEncoder).fit(X[:, :, :, :6])
    with pytest.raises(ValueError, match="more than the 24 permutations"):
        _tiny(JigsawEncoder, n_permutations=25).fit(X)
    with pytest.raises(ValueError, match="too small for a 3x3 grid"):
        _tiny(RelativePatchEncoder, jitter=1).fit(X)
    with pytest.raises(ValueError, match="too small for a 3x3 grid"):
        _tiny(JigsawEncoder, grid=3).fit(X[:, :, :2, :2])
    with pytest.raises(ValueError, match="grid"):
        _tiny(JigsawEncoder, grid=4).fit(X)
    with pytest.raises(ValueError, match="embedding"):
        _tiny(RelativePatchEncoder, embedding="tiles").fit(X)
    with pytest.raises(ValueError, match="gap"):
        _tiny(RelativePatchEncoder, gap=-1).fit(X)
    # Non-square images are fine for the jigsaw and the patches; a 3x3 grid too.
    enc = _tiny(JigsawEncoder, grid=3).fit(X)
    assert enc.transform(X[:2]).shape == (2, 9 * enc.piece_dim_)
    wide = np.concatenate([X, X], axis=3)
    enc = _tiny(RelativePatchEncoder).fit(wide)
    assert enc.transform(wide[:2]).shape == (2, 9 * enc.piece_dim_)
    before = X.copy()
    _tiny(RotationEncoder, augment="weak").fit(X)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("device", device_params())
@pytest.mark.parametrize("cls", ENCODERS)
def test_fit_on_device(cls, device, digits):
    check_fit_on_device(_tiny(cls, device=device), digits[0], device)
