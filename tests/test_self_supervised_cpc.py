"""Contrastive Predictive Coding: the loss, its modules, the encoder and the signals."""

import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklabelfree.datasets import make_signal_classification
from sklabelfree.nn.losses import cpc_loss
from sklabelfree.nn import CPCNetwork, CPCSignalEncoder
from sklabelfree.self_supervised import CPCEncoder
from sklabelfree.utils._test_common import check_fit_on_device, device_params

torch.set_num_threads(1)

TINY = dict(latent_dim=8, context_dim=8, n_steps=2, max_epochs=2, batch_size=32,
            module__width=8, module__strides=(2,), random_state=0)


def _tiny(**kw):
    return CPCEncoder(**{**TINY, **kw})


@pytest.fixture(scope="module")
def signals():
    return make_signal_classification(n_samples=120, length=32, random_state=0)


def _rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------- the loss
def _hand_cpc(z, c, weights, negatives):
    """The loss written out with Python loops over sequences, steps and candidates."""
    n, T, _ = z.shape
    per_k = []
    for k, W in enumerate(weights, start=1):
        terms = []
        for i in range(n):
            for t in range(T - k):
                p = W @ c[i, t]
                if negatives == "all":
                    cands = [(j, s) for j in range(n) for s in range(k, T)]
                else:
                    cands = [(i, s) for s in range(k, T)]
                    cands += [(j, t + k) for j in range(n) if j != i]
                scores = [math.exp(float(z[j, s] @ p)) for j, s in cands]
                pos = math.exp(float(z[i, t + k] @ p))
                terms.append(-math.log(pos / sum(scores)))
        per_k.append(sum(terms) / len(terms))
    return sum(per_k) / len(per_k)


@pytest.mark.parametrize("negatives", ["all", "cross"])
def test_cpc_loss_matches_hand_computation(negatives):
    z, c = _rand(3, 5, 4) * 0.7, _rand(3, 5, 2, seed=1)
    weights = [_rand(4, 2, seed=2 + k) for k in range(3)]
    predictors = [lambda h, W=W: h @ W.T for W in weights]
    expected = _hand_cpc(z, c, weights, negatives)
    got = float(cpc_loss(z, c, predictors, negatives=negatives))
    assert got == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("negatives", ["all", "cross"])
def test_cpc_loss_targets_are_the_latents_k_steps_ahead(negatives):
    # z_{i,t} is the one-hot of i * T + t, c_t = z_t and W_k shifts the one-hot
    # by k: W_k c_t is 10 * z_{t+k} exactly, 0 against every other latent.
    n, T, K = 3, 6, 3
    z = torch.eye(n * T).reshape(n, T, n * T)
    shift = lambda k: (lambda h: 10 * torch.roll(h, k, dims=-1))  # noqa: E731
    right = float(cpc_loss(z, z, [shift(k) for k in range(1, K + 1)], negatives=negatives))
    # Candidates of step k: n (T - k) ('all') or (T - k) + (n - 1) ('cross').
    counts = [n * (T - k) if negatives == "all" else (T - k) + n - 1 for k in (1, 2, 3)]
    expected = np.mean([math.log(1 + (m - 1) * math.exp(-10)) for m in counts])
    assert right == pytest.approx(expected, abs=2e-6)
    assert right < 1e-3
    # Predicting one step less far (or with the steps swapped) is far worse.
    early = float(cpc_loss(z, z, [shift(k - 1) for k in range(1, K + 1)],
                           negatives=negatives))
    swapped = float(cpc_loss(z, z, [shift(k) for k in (2, 1, 3)], negatives=negatives))
    assert early > 5 and swapped > 3


def test_cpc_loss_gradient_reaches_both_sides():
    z = _rand(4, 6, 3).requires_grad_()
    c = _rand(4, 6, 2, seed=1).requires_grad_()
    W = torch.nn.Linear(2, 3, bias=False)
    cpc_loss(z, c, [W, W]).backward()
    assert z.grad.abs().sum() > 0 and c.grad.abs().sum() > 0
    # The last context predicts nothing, and z_0 is never a target nor candidate.
    assert torch.all(c.grad[:, -1] == 0) and torch.all(z.grad[:, 0] == 0)


def test_cpc_loss_errors():
    z = torch.zeros(2, 3, 4)
    with pytest.raises(ValueError, match="3 steps ahead and needs at least 4 time steps"):
        cpc_loss(z, z, [lambda h: h] * 3)
    with pytest.raises(ValueError, match="same n and T"):
        cpc_loss(z, torch.zeros(2, 4, 4), [lambda h: h])
    with pytest.raises(ValueError, match="at least one predictor"):
        cpc_loss(z, z, [])
    with pytest.raises(ValueError, match="'all' or 'cross'"):
        cpc_loss(z, z, [lambda h: h], negatives="some")


# --------------------------------------------------------------------- modules
def test_signal_encoder_lengths_and_causal_context():
    enc = CPCSignalEncoder(2, latent_dim=5, width=4, strides=(2, 3))
    for length in (6, 7, 31, 64):
        assert enc(torch.zeros(1, 2, length)).shape == (1, 5, enc.output_length(length))
        assert enc.output_length(length) == math.ceil(math.ceil(length / 2) / 3)
    with pytest.raises(ValueError, match="strides"):
        CPCSignalEncoder(1, strides=())
    torch.manual_seed(0)
    net = CPCNetwork(CPCSignalEncoder(1, latent_dim=4, width=4, strides=(2,)), 4, 3)
    x = torch.randn(2, 1, 40)
    z, c = net(x)
    assert z.shape == (2, 20, 4) and c.shape == (2, 20, 3)
    x2 = x.clone()
    x2[..., 30:] += 1.0  # changes the latents from step 14 on (kernel 5, padding 2)
    z2, c2 = net(x2)
    assert torch.equal(z2[:, :14], z[:, :14]) and not torch.allclose(z2[:, 15:], z[:, 15:])
    # The contexts before the first changed latent are unchanged: c_t sees z_{<=t}.
    assert torch.equal(c2[:, :14], c[:, :14]) and not torch.allclose(c2[:, 14:], c[:, 14:])


# --------------------------------------------------------------------- the encoder
def test_fit_transform_eval_mode_and_reproducible(signals):
    X, _ = signals
    enc = _tiny()
    Z = enc.fit(X).transform(X)
    assert Z.dtype == np.float32 and Z.shape == (len(X), 8) and np.isfinite(Z).all()
    assert enc.feature_dim_ == 8 and enc.n_latent_steps_ == 16
    assert len(enc.predictors_) == 2 and enc.n_steps_ == 2 * (len(X) // 32)
    assert enc.get_feature_names_out()[0] == "cpcencoder0"
    assert not hasattr(enc, "predict")
    # transform is in eval mode and leaves the modules in their mode.
    enc.module_.train()
    np.testing.assert_allclose(enc.transform(X[:10]), Z[:10], atol=1e-6)
    assert enc.module_.training
    # Same seed, same embedding; the training moved the weights.
    np.testing.assert_allclose(clone(enc).fit(X).transform(X[:10]), Z[:10], atol=1e-6)
    fresh = _tiny(max_epochs=0).fit(X).transform(X[:10])
    assert not np.allclose(fresh, Z[:10])
    assert not np.allclose(_tiny(random_state=1).fit(X).transform(X[:10]), Z[:10])


def test_pooling_is_last_or_mean_context(signals):
    X, _ = signals
    enc = _tiny(pooling="last").fit(X)
    with torch.no_grad():
        _, c = enc.module_.eval()(torch.as_tensor(X[:5]))
    np.testing.assert_allclose(enc.transform(X[:5]), c[:, -1].numpy(), atol=1e-6)
    enc.set_params(pooling="mean")
    np.testing.assert_allclose(enc.transform(X[:5]), c.mean(1).numpy(), atol=1e-6)


def test_training_lowers_the_loss():
    X, _ = make_signal_classification(n_samples=512, length=64, random_state=1)
    enc = CPCEncoder(latent_dim=16, context_dim=16, module__width=16, max_epochs=6,
                     batch_size=64, lr=5e-3, random_state=0).fit(X)
    losses = enc.history_[:, "train_loss"]
    # Chance level: log of the number of candidates, (T - k) + (n - 1) for 'cross'.
    chance = np.mean([math.log((8 - k) + 63) for k in range(1, 5)])
    assert losses[0] == pytest.approx(chance, abs=0.5)
    assert losses[-1] < 0.85 * losses[0]
    assert np.all(np.diff(losses) < 0)


def test_rows_are_one_channel_signals(signals):
    X, _ = signals
    rows = X[:, 0, :]
    enc = _tiny().fit(rows)
    assert enc.n_features_in_ == 32 and enc.input_shape_ == (32,)
    np.testing.assert_allclose(enc.transform(rows[:5]), _tiny().fit(X).transform(X[:5]),
                               atol=1e-6)
    with pytest.raises(ValueError, match="32 features"):
        enc.transform(rows[:, :10])


def test_custom_encoder_class_and_instance(signals):
    X, _ = signals
    enc = _tiny(module=CPCSignalEncoder, latent_dim=6).fit(X)
    assert enc.module_.latent_dim == 6 and enc.predictors_[0].out_features == 6
    conv = torch.nn.Conv1d(1, 5, 4, stride=4)
    enc = CPCEncoder(conv, context_dim=8, n_steps=2, max_epochs=1, random_state=0).fit(X)
    assert enc.n_latent_steps_ == 8 and enc.predictors_[0].out_features == 5
    with pytest.raises(ValueError, match=r"\(n, latent_dim, T\)"):
        CPCEncoder(torch.nn.Flatten(), max_epochs=1).fit(X)


def test_bad_input_and_params(signals):
    X, _ = signals
    with pytest.raises(ValueError, match="images of shape"):
        _tiny().fit(np.zeros((10, 1, 8, 8), dtype=np.float32))
    with pytest.raises(ValueError, match=r"signals of length 4 give 2 .*downsamples by 2"):
        _tiny().fit(X[:, :, :4])
    with pytest.raises(ValueError, match=r"rows of 1 feature\(s\)"):
        _tiny(module__strides=(1,)).fit(X[:, 0, :1])
    with pytest.raises(ValueError, match="at least 2 samples"):
        _tiny().fit(X[:1])
    with pytest.raises(ValueError, match="NaN"):
        bad = X[:10].copy()
        bad[0, 0, 3] = np.nan
        _tiny().fit(bad)
    with pytest.raises(ValueError, match="n_steps"):
        _tiny(n_steps=0).fit(X)
    with pytest.raises(ValueError, match="pooling"):
        _tiny(pooling="max").fit(X)
    with pytest.raises(ValueError, match="negatives"):
        _tiny(negatives="none").fit(X)
    enc = _tiny().fit(X)
    with pytest.raises(ValueError, match="fitted on samples of shape"):
        enc.transform(X[:, :, :16])
    before = X.copy()
    _tiny(augment="strong").fit(X)
    np.testing.assert_array_equal(X, before)


def test_clone_pickle_pipeline_grid_search(signals):
    X, y = signals
    enc = _tiny().fit(X)
    assert clone(enc).get_params()["module__strides"] == (2,)
    again = pickle.loads(pickle.dumps(enc))
    np.testing.assert_allclose(again.transform(X[:10]), enc.transform(X[:10]), atol=1e-6)
    pipe = make_pipeline(_tiny(max_epochs=1), LogisticRegression(max_iter=200))
    grid = GridSearchCV(pipe, {"cpcencoder__pooling": ["mean", "last"],
                               "cpcencoder__n_steps": [1, 2]}, cv=2)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"cpcencoder__pooling", "cpcencoder__n_steps"}
    assert grid.predict(X[:3]).shape == (3,)


# --------------------------------------------------------------------- the signals
def test_make_signal_classification():
    X, y = make_signal_classification(n_samples=203, n_classes=3, length=96, n_channels=2,
                                      noise=0.0, random_state=0)
    assert X.shape == (203, 2, 96) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [68, 68, 67]
    X2, y2 = make_signal_classification(n_samples=203, n_classes=3, length=96,
                                        n_channels=2, noise=0.0, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    # The class is the frequency band: the dominant frequency (in cycles per
    # signal) of almost every signal lies in its class's band.
    spectrum = np.abs(np.fft.rfft(X, axis=2)).sum(axis=1)
    peak = spectrum[:, 1:].argmax(axis=1) + 1
    edges = np.exp(np.linspace(np.log(96 / 32), np.log(96 / 6), 4))
    inside = (peak >= edges[y] - 1) & (peak <= edges[y + 1] + 1)
    assert inside.mean() > 0.95
    medians = [np.median(peak[y == k]) for k in range(3)]
    assert medians[0] < medians[1] < medians[2]
    # Noise: of the asked standard deviation.
    Xn, _ = make_signal_classification(n_samples=203, n_classes=3, length=96,
                                       n_channels=2, noise=0.5, random_state=0)
    assert np.std(Xn - X) == pytest.approx(0.5, rel=0.05)
    with pytest.raises(ValueError, match="n_classes"):
        make_signal_classification(n_classes=1)


@pytest.mark.slow
def test_cpc_probe_beats_raw_and_random_init():
    X, y = make_signal_classification(n_samples=2000, length=128, random_state=0)
    Xtr, ytr, Xte, yte = X[:1500], y[:1500], X[1500:], y[1500:]
    rng = np.random.RandomState(0)
    idx = np.concatenate([rng.choice(np.flatnonzero(ytr == c), 5, replace=False)
                          for c in range(4)])

    def probe(Ztr, Zte):
        return LogisticRegression(max_iter=1000).fit(Ztr[idx], ytr[idx]).score(Zte, yte)

    raw = probe(Xtr.reshape(1500, -1), Xte.reshape(500, -1))
    rand = CPCEncoder(max_epochs=0, random_state=0).fit(Xtr)
    cpc = CPCEncoder(random_state=0).fit(Xtr)
    random_init = probe(rand.transform(Xtr), rand.transform(Xte))
    trained = probe(cpc.transform(Xtr), cpc.transform(Xte))
    assert trained > max(raw, random_init) + 0.2


@pytest.mark.parametrize("device", device_params())
def test_fit_on_device(device, signals):
    X, _ = signals
    check_fit_on_device(_tiny(device=device), X, device)
