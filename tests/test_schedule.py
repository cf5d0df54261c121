"""EMA evaluation weights and the cosine learning-rate decay of FixMatch / MixMatch."""

import copy
import math

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklabelfree.neural import CosineDecay, cosine_decay_factor
from sklabelfree.semi_supervised import (
    FixMatchClassifier,
    MixMatchClassifier,
    SupervisedNetClassifier,
)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    centers = rng.normal(scale=3.0, size=(3, 6))
    y_true = rng.randint(0, 3, 90)
    X = (centers[y_true] + rng.normal(size=(90, 6))).astype(np.float32)
    y = np.full(90, -1)
    labeled = np.concatenate([np.flatnonzero(y_true == c)[:4] for c in range(3)])
    y[labeled] = y_true[labeled]
    return X, y


def test_cosine_decay_factor_is_fixmatch_schedule():
    for k, total in [(0, 10), (3, 10), (10, 10), (25, 10)]:
        expected = math.cos(7 * math.pi * min(k / total, 1.0) / 16)
        assert cosine_decay_factor(k, total) == pytest.approx(expected)
    assert cosine_decay_factor(5, 0) == 1.0


@pytest.mark.parametrize("cls", [FixMatchClassifier, MixMatchClassifier,
                                 SupervisedNetClassifier])
def test_cosine_schedule_sets_the_rate_of_each_step(cls, data):
    X, y = data
    seen = []

    class Spy(CosineDecay):
        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            super().on_batch_begin(net, batch=batch, training=training, **kwargs)
            if training:
                seen.append((net.n_steps_, net.optimizer_.param_groups[0]["lr"]))

    clf = cls(max_epochs=2, steps_per_epoch=3, module__width=8, lr=0.01,
              lr_schedule="cosine", callbacks__lr_schedule=Spy(), random_state=0)
    clf.fit(X, y)
    assert [k for k, _ in seen] == list(range(6))
    for k, lr in seen:
        assert lr == pytest.approx(0.01 * math.cos(7 * math.pi * k / (16 * 6)))
    # The optimizer is left at its initial rate for a later partial_fit.
    assert clf.optimizer_.param_groups[0]["lr"] == pytest.approx(0.01)

    seen.clear()
    cls(max_epochs=1, steps_per_epoch=3, module__width=8, lr=0.01,
        lr_schedule="constant", callbacks__lr_schedule=Spy(), random_state=0).fit(X, y)
    assert [lr for _, lr in seen] == [pytest.approx(0.01)] * 3


@pytest.mark.parametrize("cls", [FixMatchClassifier, MixMatchClassifier,
                                 SupervisedNetClassifier])
def test_ema_module_is_the_moving_average_of_the_trained_weights(cls, data):
    X, y = data
    snapshots = []

    clf = cls(max_epochs=1, steps_per_epoch=4, module__width=8, ema_decay=0.6,
              random_state=0)
    start = {}

    def begin(net, **kwargs):
        start.update(copy.deepcopy(net.module_.state_dict()))

    def snap(net, batch=None, training=False, **kwargs):
        if training:
            snapshots.append({k: v.clone() for k, v in net.module_.state_dict().items()})

    class Snap(Callback):
        def on_train_begin(self, net, **kwargs):
            begin(net)

        def on_batch_end(self, net, **kwargs):
            snap(net, **kwargs)

    clf.set_params(callbacks=[("snap", Snap())])
    clf.fit(X, y)
    assert len(snapshots) == 4
    # ema_0 = initial weights; ema_k = a_k ema_{k-1} + (1 - a_k) w_k with
    # a_k = min(0.6, 1 - 1 / (k + 1)).
    ema = {k: v.clone().float() for k, v in start.items()}
    for k, weights in enumerate(snapshots, start=1):
        a = min(0.6, 1 - 1 / (k + 1))
        for name, value in weights.items():
            if name in dict(clf.module_.named_parameters()):
                ema[name] = a * ema[name] + (1 - a) * value
            else:
                ema[name] = value.float()
    got = clf.ema_module_.state_dict()
    for name, value in ema.items():
        np.testing.assert_allclose(got[name].float().numpy(), value.numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=name)
    # The EMA copy is never trained by the optimizer.
    assert all(not p.requires_grad for p in clf.ema_module_.parameters())
    names = {id(p) for _, p in clf.get_all_learnable_params()}
    assert not names & {id(p) for p in clf.ema_module_.parameters()}


@pytest.mark.parametrize("cls", [FixMatchClassifier, MixMatchClassifier,
                                 SupervisedNetClassifier])
def test_predictions_come_from_the_ema_module(cls, data):
    X, y = data
    clf = cls(max_epochs=2, steps_per_epoch=3, module__width=8, ema_decay=0.9,
              random_state=0).fit(X, y)
    clf.ema_module_.eval()
    with torch.no_grad():
        expected = torch.softmax(clf.ema_module_(torch.as_tensor(X)), dim=1).numpy()
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-5, atol=1e-6)
    plain = cls(max_epochs=2, steps_per_epoch=3, module__width=8, ema_decay=None,
                random_state=0).fit(X, y)
    assert plain.ema_module_ is None


def test_bad_schedule_parameters(data):
    X, y = data
    with pytest.raises(ValueError, match="ema_decay"):
        FixMatchClassifier(ema_decay=1.0, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="lr_schedule"):
        MixMatchClassifier(lr_schedule="step", max_epochs=1).fit(X, y)
