"""FineTuningClassifier: freezing, learning-rate groups, unfreezing, encoders."""

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from torch import nn  # noqa: E402

from sklabelfree.nn import MLP  # noqa: E402
from sklabelfree.semi_supervised import SupervisedNetClassifier  # noqa: E402
from sklabelfree.transfer import FineTuningClassifier  # noqa: E402


@pytest.fixture(scope="module")
def digits_tasks():
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype("float32")
    old, new = y < 5, y >= 5
    source = SupervisedNetClassifier(max_epochs=4, module__width=32, random_state=0)
    source.fit(X[old], y[old])
    return source, X[new], y[new]


def _trunk_state(module):
    return {k: v.detach().clone() for k, v in module.trunk.state_dict().items()}


def _changed(before, after):
    return {k for k in before if not torch.equal(before[k], after[k])}


def test_frozen_trunk_and_batch_norm_do_not_change(digits_tasks):
    source, X, y = digits_tasks
    original = {k: v.clone() for k, v in source.module_.state_dict().items()}
    clf = FineTuningClassifier(source, max_epochs=30, unfreeze_after=None, lr=1e-2,
                               random_state=0).fit(X[:60], y[:60])
    # Every trunk weight and running statistic equals the source network's.
    pretrained = source.ema_module_ if source.ema_module_ is not None else source.module_
    ref = {k: v for k, v in pretrained.state_dict().items() if not k.startswith("head.")}
    trunk = clf.module_.trunk.state_dict()
    for k, v in ref.items():
        assert torch.equal(trunk[k], v), k
    # The encoder itself is untouched.
    for k, v in source.module_.state_dict().items():
        assert torch.equal(original[k], v)
    assert clf.score(X[60:], y[60:]) > 0.5
    assert sorted(set(clf.predict(X[60:]))) == [5, 6, 7, 8, 9]


def test_learning_rate_groups_and_partial_freeze(digits_tasks):
    source, X, y = digits_tasks
    clf = FineTuningClassifier(source, freeze=["features.0"], trunk_lr_factor=0.25,
                               lr=0.01, lr_schedule="constant", max_epochs=2,
                               unfreeze_after=None,
                               random_state=0).fit(X[:80], y[:80])
    lrs = [g["lr"] for g in clf.optimizer_.param_groups]
    assert lrs == pytest.approx([0.01, 0.0025])
    trunk = clf.module_.trunk
    assert not trunk.features[0].weight.requires_grad
    assert trunk.features[4].weight.requires_grad
    pretrained = source.ema_module_ if source.ema_module_ is not None else source.module_
    assert torch.equal(trunk.features[0].weight, pretrained.features[0].weight)
    assert not torch.equal(trunk.features[4].weight, pretrained.features[4].weight)


def _pretrained_trunk_state(source):
    """A copy of the source encoder's trunk weights (the head left out)."""
    pretrained = source.ema_module_ if source.ema_module_ is not None else source.module_
    return {k: v.clone() for k, v in pretrained.state_dict().items()
            if not k.startswith("head.")}


def test_unfreeze_after(digits_tasks):
    source, X, y = digits_tasks
    before = _pretrained_trunk_state(source)
    never = FineTuningClassifier(source, unfreeze_after=2, max_epochs=2,
                                 random_state=0).fit(X[:80], y[:80])
    assert not _changed(before, {k: v for k, v in never.module_.trunk.state_dict().items()
                                 if k in before})
    later = FineTuningClassifier(source, unfreeze_after=1, max_epochs=3,
                                 random_state=0).fit(X[:80], y[:80])
    assert _changed(before, {k: v for k, v in later.module_.trunk.state_dict().items()
                             if k in before})
    assert all(p.requires_grad for p in later.module_.trunk.parameters())


def test_unfreeze_after_zero_trains_the_whole_trunk_from_the_start(digits_tasks):
    source, X, y = digits_tasks
    before = _pretrained_trunk_state(source)
    clf = FineTuningClassifier(source, unfreeze_after=0, max_epochs=1,
                               random_state=0).fit(X[:80], y[:80])
    assert clf.module_.frozen == []
    assert all(p.requires_grad for p in clf.module_.trunk.parameters())
    after = clf.module_.trunk.state_dict()
    assert _changed(before, {k: after[k] for k in before}) >= {
        k for k in before if k.endswith("weight")}
    # The trunk's group trains at the smaller rate, as with freeze='none'.
    assert clf.optimizer_.param_groups[1]["lr"] == pytest.approx(
        clf.lr * clf.trunk_lr_factor)


def test_plain_torch_module_and_cosine_head():
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype("float32")
    trunk = nn.Sequential(nn.Linear(64, 16), nn.ReLU())
    clf = FineTuningClassifier(trunk, head="cosine", freeze="none", max_epochs=3,
                               random_state=0).fit(X[:200], y[:200])
    assert clf.n_features_out_ == 16
    assert clf.embed(X[:5]).shape == (5, 16)
    assert not torch.equal(clf.module_.trunk[0].weight, trunk[0].weight)
    module = MLP(64, 10, width=8)
    clf = FineTuningClassifier(module, max_epochs=1, random_state=0).fit(X[:100], y[:100])
    assert clf.n_features_out_ == 8


def test_bad_encoders():
    X, y = load_digits(return_X_y=True)
    X = (X[:50] / 16).astype("float32")
    with pytest.raises(ValueError, match="needs an encoder"):
        FineTuningClassifier(max_epochs=1).fit(X, y[:50])
    with pytest.raises(ValueError, match="is not fitted"):
        FineTuningClassifier(SupervisedNetClassifier(), max_epochs=1).fit(X, y[:50])
    with pytest.raises(TypeError, match="put it in a Pipeline"):
        FineTuningClassifier(PCA(5).fit(X), max_epochs=1).fit(X, y[:50])
    with pytest.raises(ValueError, match="freeze prefix 'nope' matches no parameter"):
        FineTuningClassifier(MLP(64, 10, width=8), freeze=["nope"], max_epochs=1).fit(
            X, y[:50])


def test_wrong_input_width_names_the_encoders_input(digits_tasks):
    source, X, y = digits_tasks
    with pytest.raises(ValueError, match=r"cannot take samples of shape \(40,\); it "
                                         r"expects samples of shape \(64,\)"):
        FineTuningClassifier(source, max_epochs=1).fit(X[:50, :40], y[:50])
    with pytest.raises(ValueError, match=r"cannot take samples of shape \(40,\); it "
                                         "expects 64 features"):
        FineTuningClassifier(nn.Sequential(nn.Linear(64, 8), nn.ReLU()),
                             max_epochs=1).fit(X[:50, :40], y[:50])


def test_frozen_estimator_grid_search_and_pickle(digits_tasks):
    source, X, y = digits_tasks
    clf = FineTuningClassifier(FrozenEstimator(source), max_epochs=2, unfreeze_after=1,
                               random_state=0)
    search = GridSearchCV(clf, {"head": ["linear", "cosine"]}, cv=2).fit(X[:120], y[:120])
    assert search.best_params_["head"] in ("linear", "cosine")
    fitted = search.best_estimator_
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X[120:160]), fitted.predict(X[120:160]))


def test_self_supervised_encoder_as_the_pretrained_network():
    from sklabelfree.self_supervised import VICRegEncoder

    X, y = load_digits(return_X_y=True)
    X = (X[:300] / 16).astype("float32").reshape(-1, 1, 8, 8)
    encoder = VICRegEncoder(max_epochs=1, random_state=0).fit(X)
    clf = FineTuningClassifier(encoder, max_epochs=2, unfreeze_after=1,
                               random_state=0).fit(X[:100], y[:100])
    assert clf.n_features_out_ == encoder.transform(X[:2]).shape[1]
    assert clf.predict(X[100:110]).shape == (10,)
