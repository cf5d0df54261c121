"""Self-supervised encoders, their losses, the MoCo queue and the probe scores."""

import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklabelfree.datasets import load_digits_images
from sklabelfree.nn.losses import barlow_twins_loss, info_nce_loss, nt_xent_loss, vicreg_loss
from sklabelfree.self_supervised import (
    AutoEncoder,
    BarlowTwinsEncoder,
    DenoisingAutoEncoder,
    MoCoEncoder,
    MoCoQueue,
    SimCLREncoder,
    VICRegEncoder,
    knn_score,
    linear_probe_score,
)
from sklabelfree.self_supervised._moco import momentum_update
from sklabelfree.utils._test_common import check_fit_on_device, device_params

torch.set_num_threads(1)

ENCODERS = [SimCLREncoder, BarlowTwinsEncoder, VICRegEncoder, MoCoEncoder, AutoEncoder,
            DenoisingAutoEncoder]
TINY = dict(max_epochs=1, batch_size=32, module__width=4, random_state=0)


def _tiny(cls, **kw):
    params = dict(TINY)
    if cls in (SimCLREncoder, BarlowTwinsEncoder, VICRegEncoder, MoCoEncoder):
        params.update(projection_dim=8, hidden_dim=16)
    if cls is MoCoEncoder:
        params.update(queue_size=40)
    if cls in (AutoEncoder, DenoisingAutoEncoder):
        params.update(hidden_dim=16)
    params.update(kw)
    return cls(**params)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_images()
    return X[:200], y[:200]


# --------------------------------------------------------------------- losses
def _rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_nt_xent_matches_hand_computation():
    z1, z2, T = _rand(4, 3), _rand(4, 3, seed=1), 0.3
    z = torch.cat([z1, z2])
    z = z / z.norm(dim=1, keepdim=True)
    n2, total = 8, 0.0
    for i in range(n2):
        j = (i + 4) % n2
        num = math.exp(float(z[i] @ z[j]) / T)
        den = sum(math.exp(float(z[i] @ z[k]) / T) for k in range(n2) if k != i)
        total += -math.log(num / den)
    assert float(nt_xent_loss(z1, z2, temperature=T)) == pytest.approx(total / n2, rel=1e-5)


def test_nt_xent_is_low_for_matching_views():
    z = _rand(16, 8)
    assert nt_xent_loss(z, z, 0.1) < nt_xent_loss(z, _rand(16, 8, seed=3), 0.1)


def test_info_nce_with_queue_and_in_batch():
    q, k, queue, T = _rand(3, 4), _rand(3, 4, seed=1), _rand(5, 4, seed=2), 0.5
    qn = q / q.norm(dim=1, keepdim=True)
    kn = k / k.norm(dim=1, keepdim=True)
    nn_ = queue / queue.norm(dim=1, keepdim=True)
    expected = 0.0
    for i in range(3):
        pos = math.exp(float(qn[i] @ kn[i]) / T)
        neg = sum(math.exp(float(qn[i] @ nn_[j]) / T) for j in range(5))
        expected += -math.log(pos / (pos + neg))
    assert float(info_nce_loss(q, k, queue, temperature=T)) == pytest.approx(
        expected / 3, rel=1e-5)
    expected = 0.0
    for i in range(3):
        row = [math.exp(float(qn[i] @ kn[j]) / T) for j in range(3)]
        expected += -math.log(row[i] / sum(row))
    assert float(info_nce_loss(q, k, None, temperature=T)) == pytest.approx(
        expected / 3, rel=1e-5)
    # Queue and the batch's other keys as negatives.
    expected = 0.0
    for i in range(3):
        row = [math.exp(float(qn[i] @ kn[j]) / T) for j in range(3)]
        row += [math.exp(float(qn[i] @ nn_[j]) / T) for j in range(5)]
        expected += -math.log(row[i] / sum(row))
    assert float(info_nce_loss(q, k, queue, temperature=T, in_batch_negatives=True)
                 ) == pytest.approx(expected / 3, rel=1e-5)


def test_barlow_twins_matches_hand_computation():
    z1, z2, lam = _rand(6, 3), _rand(6, 3, seed=1), 0.1
    a = z1.numpy().astype(float)
    b = z2.numpy().astype(float)
    a = (a - a.mean(0)) / np.sqrt(a.var(0) + 1e-5)
    b = (b - b.mean(0)) / np.sqrt(b.var(0) + 1e-5)
    c = a.T @ b / 6
    expected = sum((1 - c[i, i]) ** 2 for i in range(3)) + lam * sum(
        c[i, j] ** 2 for i in range(3) for j in range(3) if i != j)
    assert float(barlow_twins_loss(z1, z2, lambda_offdiag=lam)) == pytest.approx(
        expected, rel=1e-4)


def test_vicreg_matches_hand_computation():
    z1, z2 = _rand(7, 4), _rand(7, 4, seed=1)
    a, b = z1.numpy().astype(float), z2.numpy().astype(float)
    inv = ((a - b) ** 2).mean()
    var = sum(np.maximum(0, 1 - np.sqrt(z.var(0, ddof=1) + 1e-4)).mean() / 2 for z in (a, b))
    cov = 0.0
    for z in (a, b):
        c = np.cov(z, rowvar=False)
        cov += (c ** 2).sum() - (np.diag(c) ** 2).sum()
    cov /= 4
    loss, (s, v, c) = vicreg_loss(z1, z2, return_terms=True)
    assert float(s) == pytest.approx(inv, rel=1e-5)
    assert float(v) == pytest.approx(var, rel=1e-5)
    assert float(c) == pytest.approx(cov, rel=1e-4)
    assert float(loss) == pytest.approx(25 * inv + 25 * var + cov, rel=1e-4)


def test_redundancy_losses_need_two_rows():
    with pytest.raises(ValueError, match="at least 2 rows"):
        vicreg_loss(torch.zeros(1, 3), torch.zeros(1, 3))
    with pytest.raises(ValueError, match="same shape"):
        barlow_twins_loss(torch.zeros(4, 3), torch.zeros(4, 2))


# --------------------------------------------------------------------- MoCo parts
def test_moco_queue_is_fifo_and_wraps():
    queue = MoCoQueue(5, 2)
    assert queue.negatives().shape == (0, 2)
    first = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    queue.enqueue(first * 3)  # stored normalised
    assert torch.allclose(queue.negatives(), first)
    assert int(queue.ptr) == 3 and int(queue.n_filled) == 3
    second = torch.tensor([[0.0, -1.0], [0.6, 0.8], [0.8, 0.6]])
    queue.enqueue(second)
    # Slots 3 and 4 take the first two keys, then the oldest (slot 0) is replaced.
    expected = torch.stack([second[2], first[1], first[2], second[0], second[1]])
    assert torch.allclose(queue.keys, expected)
    assert int(queue.ptr) == 1 and int(queue.n_filled) == 5
    assert queue.negatives().shape == (5, 2)
    big = torch.eye(2).repeat(4, 1)  # 8 keys > size: the last 5 are kept
    queue.enqueue(big)
    assert int(queue.n_filled) == 5


def test_momentum_update():
    torch.manual_seed(0)
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    before = a.weight.detach().clone()
    momentum_update(a, b, 0.75)
    assert torch.allclose(a.weight, 0.75 * before + 0.25 * b.weight)
    bn_a, bn_b = torch.nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2)
    bn_b.running_mean.fill_(3.0)
    momentum_update(bn_a, bn_b, 0.9)
    assert torch.allclose(bn_a.running_mean, torch.full((2,), 3.0))


def test_moco_encoder_key_encoder_follows_query(digits):
    X, _ = digits
    enc = _tiny(MoCoEncoder, momentum=0.5, max_epochs=2).fit(X)
    assert int(enc.queue_.n_filled) == 40
    # Key weights are not trained by the optimizer, but follow the query weights.
    assert all(not p.requires_grad for p in enc.key_module_.parameters())
    assert not any(p is q for p in enc.key_module_.parameters()
                   for g in enc.optimizer_.param_groups for q in g["params"])
    kq = [(k - q).abs().max().item() for k, q in
          zip(enc.key_module_.parameters(), enc.module_.parameters())]
    fresh = _tiny(MoCoEncoder, momentum=0.5, max_epochs=0).fit(X)
    k0 = [(k - q).abs().max().item() for k, q in
          zip(fresh.key_module_.parameters(), enc.module_.parameters())]
    assert max(kq) < max(k0)
    # momentum=0: after the last step the key encoder is a copy of the trunk.
    enc0 = _tiny(MoCoEncoder, momentum=0.0).fit(X)
    for k, q in zip(enc0.key_module_.parameters(), enc0.module_.parameters()):
        assert torch.equal(k, q)


# --------------------------------------------------------------------- encoders
@pytest.mark.parametrize("cls", ENCODERS)
def test_encoder_fit_transform_clone_pickle(cls, digits):
    X, _ = digits
    enc = _tiny(cls)
    Z = enc.fit(X, y=None).transform(X)
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


@pytest.mark.parametrize("device", device_params())
@pytest.mark.parametrize("cls", ENCODERS)
def test_fit_on_device(cls, device, digits):
    enc = _tiny(cls, device=device)
    assert check_fit_on_device(enc, digits[0], device).shape[1] == enc.feature_dim_


@pytest.mark.parametrize("cls", [SimCLREncoder, VICRegEncoder, DenoisingAutoEncoder])
def test_encoder_on_rows(cls, digits):
    X, _ = digits
    rows = X.reshape(len(X), -1)
    enc = _tiny(cls).fit(rows)
    assert enc.n_features_in_ == 64
    assert enc.transform(rows[:5]).shape == (5, 4)
    with pytest.raises(ValueError, match="64 features"):
        enc.transform(rows[:, :10])


def test_training_lowers_the_loss(digits):
    X, _ = digits
    rows = X.reshape(len(X), -1)
    enc = AutoEncoder(max_epochs=15, batch_size=50, module__width=32, random_state=0,
                      lr=1e-2).fit(rows)
    losses = enc.history_[:, "train_loss"]
    assert losses[-1] < 0.6 * losses[0]
    rec = enc.reconstruct(rows[:20])
    assert ((rec - rows[:20]) ** 2).mean() < ((rows[:20] - rows.mean(0)) ** 2).mean()


def test_bad_input_and_params(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="at least 2 samples"):
        _tiny(SimCLREncoder).fit(X[:1])
    with pytest.raises(ValueError, match="NaN"):
        bad = X[:10].copy()
        bad[0, 0, 0, 0] = np.nan
        _tiny(SimCLREncoder).fit(bad)
    with pytest.raises(ValueError, match="temperature"):
        _tiny(SimCLREncoder, temperature=0.0).fit(X)
    with pytest.raises(ValueError, match="train_split"):
        _tiny(VICRegEncoder, train_split=lambda ds, y: (ds, ds)).fit(X)
    before = X.copy()
    _tiny(DenoisingAutoEncoder).fit(X)
    np.testing.assert_array_equal(X, before)


def test_pipeline_and_grid_search(digits):
    X, y = digits
    pipe = make_pipeline(_tiny(SimCLREncoder), LogisticRegression(max_iter=200))
    grid = GridSearchCV(pipe, {"simclrencoder__temperature": [0.1, 0.5],
                               "logisticregression__C": [0.1, 1.0]}, cv=2)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"simclrencoder__temperature",
                                      "logisticregression__C"}
    assert grid.predict(X[:3]).shape == (3,)


def test_probe_scores(digits):
    X, y = load_digits_images(as_images=False)
    y_part = y[:1000].copy()
    y_part[100:] = -1  # only the labeled rows are used by the probe
    lin = linear_probe_score(PCA(20), X[:1000], y_part, X[1000:], y[1000:])
    knn = knn_score(PCA(20), X[:1000], y_part, X[1000:], y[1000:], n_neighbors=1)
    assert 0.6 < lin <= 1.0 and 0.6 < knn <= 1.0
    # A constant embedding is at chance level.
    from sklearn.preprocessing import FunctionTransformer
    const = FunctionTransformer(lambda Z: np.zeros((len(Z), 2))).fit(X)
    assert linear_probe_score(const, X[:1000], y[:1000], X[1000:], y[1000:]) < 0.2
    with pytest.raises(ValueError, match="no labeled row"):
        linear_probe_score(PCA(2), X[:50], np.full(50, -1), X[50:60], y[50:60])


@pytest.mark.slow
def test_vicreg_beats_raw_pixels_on_digits():
    from sklearn.model_selection import train_test_split

    X, y = load_digits_images()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    rng = np.random.RandomState(0)
    idx = np.concatenate([rng.choice(np.flatnonzero(ytr == c), 5, replace=False)
                          for c in range(10)])
    ylab = np.full_like(ytr, -1)
    ylab[idx] = ytr[idx]
    raw = LogisticRegression(max_iter=1000).fit(Xtr[idx].reshape(50, -1), ytr[idx]).score(
        Xte.reshape(len(Xte), -1), yte)
    enc = VICRegEncoder(random_state=0).fit(Xtr)
    assert linear_probe_score(enc, Xtr, ylab, Xte, yte) > raw + 0.03


# --------------------------------------------------------------------- robustness
def test_set_params_on_a_fitted_encoder_with_module_named_parameters(digits):
    from sklabelfree.self_supervised import MAEEncoder

    X, _ = digits
    moco = _tiny(MoCoEncoder).fit(X[:64])
    moco.set_params(queue_size=64, lr=1e-3)   # 'queue_size' begins like the queue_ module
    moco.fit(X[:64])
    assert moco.queue_.size == 64
    mae = MAEEncoder(max_epochs=1, batch_size=32, random_state=0).fit(X[:64])
    mae.set_params(decoder_dim=16)
    mae.fit(X[:64])
    assert mae.decoder_.embed.out_features == 16


def test_set_params_on_a_fitted_encoder_with_component_parameters(digits):
    # module__* / optimizer__* given at construction are listed as parameters
    # too; after fit they were taken for misread names and crashed.
    X, _ = digits
    enc = SimCLREncoder(max_epochs=1, batch_size=32, module__width=8,
                        optimizer__weight_decay=0.01, random_state=0).fit(X[:64])
    enc.set_params(module__width=4)
    assert enc.get_params()["module__width"] == 4
    enc.fit(X[:64])
    fresh = SimCLREncoder(max_epochs=1, batch_size=32, module__width=4,
                          optimizer__weight_decay=0.01, random_state=0).fit(X[:64])
    np.testing.assert_array_equal(enc.transform(X[:8]), fresh.transform(X[:8]))
    # skorch applies an optimizer__* value to the live optimizer of a fitted net.
    enc.set_params(optimizer__weight_decay=0.1)
    assert enc.optimizer_.param_groups[0]["weight_decay"] == 0.1


def test_a_failed_refit_leaves_the_encoder_unfitted(digits):
    from sklearn.exceptions import NotFittedError

    from sklabelfree.self_supervised import MAEEncoder

    X, _ = digits
    mae = MAEEncoder(max_epochs=1, batch_size=32, random_state=0).fit(X[:64])
    with pytest.raises(ValueError, match="patch_size"):
        mae.fit(X[:64, :, :7, :7])
    with pytest.raises(NotFittedError):
        mae.transform(X[:2])


def test_warm_start_continues_and_refuses_another_shape(digits):
    X, _ = digits
    enc = _tiny(AutoEncoder, warm_start=True).fit(X[:64])
    first = [p.detach().clone() for p in enc.module_.parameters()]
    enc.fit(X[:64])
    # Continued (not re-initialised, which the same seed would reproduce).
    fresh = _tiny(AutoEncoder).fit(X[:64])
    assert not all(torch.equal(a, b) for a, b in zip(fresh.module_.parameters(),
                                                      enc.module_.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(first, enc.module_.parameters()))
    with pytest.raises(ValueError, match="warm_start=True continues"):
        enc.fit(X[:64].reshape(64, -1))


def test_cpc_module_latent_dim_wins():
    from sklabelfree.self_supervised import CPCEncoder

    S = _rand(30, 1, 64).numpy()
    enc = CPCEncoder(max_epochs=1, batch_size=16, module__latent_dim=16, random_state=0).fit(S)
    assert enc.module_.encoder.latent_dim == 16


def test_weak_views_of_wide_images():
    # The shift is sized by the shorter side (reflection cannot exceed it).
    W = _rand(30, 1, 4, 40).numpy()
    Z = _tiny(SimCLREncoder, augment="weak").fit(W).transform(W[:3])
    assert np.isfinite(Z).all()


def test_piecewise_embedding_changes_at_the_next_fit(digits):
    from sklabelfree.self_supervised import JigsawEncoder

    X, _ = digits
    enc = JigsawEncoder(max_epochs=1, random_state=0).fit(X[:64])
    width = enc.transform(X[:2]).shape[1]
    enc.set_params(embedding="image")
    assert enc.transform(X[:2]).shape[1] == width == len(enc.get_feature_names_out())
    enc.set_output(transform="pandas")
    assert enc.transform(X[:2]).shape == (2, width)


def test_zero_shot_labels_of_mixed_types_and_bad_templates():
    from sklabelfree.self_supervised import CLIPEncoder, ZeroShotClassifier

    rng = np.random.RandomState(0)
    X = rng.rand(20, 1, 8, 8).astype("float32")
    captions = ["a two"] * 10 + ["a zed"] * 10
    clip = CLIPEncoder(max_epochs=1, batch_size=10, random_state=0).fit(X, captions)
    zs = ZeroShotClassifier(clip, {2: "two", "z": "zed"}).fit()
    assert zs.classes_.tolist() == [2, "z"]
    assert set(zs.predict(X).tolist()) <= {2, "z"}
    with pytest.raises(ValueError, match="cannot be filled with a class name alone"):
        ZeroShotClassifier(clip, ["two", "zed"], templates=["{} in {set}"]).fit()


def test_cutout_of_size_zero_cuts_nothing():
    from sklabelfree.augment import Cutout

    x = torch.ones(3, 1, 8, 8)
    assert torch.equal(Cutout(size=0.0)(x, torch.Generator().manual_seed(0)), x)


def test_dataframe_column_names_are_recorded_and_checked(digits):
    import warnings

    import pandas as pd

    from sklabelfree.few_shot import ProtoNetEncoder

    X, y = digits
    rows = pd.DataFrame(X[:64].reshape(64, -1), columns=[f"p{i}" for i in range(64)])
    for enc in (_tiny(AutoEncoder), ProtoNetEncoder(k_shot=1, n_query=1, max_epochs=1,
                                                    episodes_per_epoch=2, random_state=0)):
        enc.fit(rows, y[:64])
        assert enc.feature_names_in_.tolist() == rows.columns.tolist()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            enc.transform(rows)                          # same columns: no warning
        with pytest.raises(ValueError, match="feature names should match"):
            enc.transform(rows[rows.columns[::-1]])
        with pytest.warns(UserWarning, match="does not have valid feature names"):
            enc.transform(rows.to_numpy())
    enc = _tiny(AutoEncoder).fit(rows).fit(X[:64])       # refit on an array: names gone
    assert not hasattr(enc, "feature_names_in_")
