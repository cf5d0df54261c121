"""Pi-model, temporal ensembling and mean teacher: losses by hand, behaviours, errors."""

import math
import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.base import clone

from sklabelfree.neural import EMATeacher, RampUp
from sklabelfree.nn.losses import (
    mean_teacher_consistency_loss,
    pi_model_consistency_loss,
    softmax_mse_loss,
    temporal_ensembling_consistency_loss,
    temporal_ensembling_targets,
)
from sklabelfree.semi_supervised import (
    MeanTeacherClassifier,
    PiModelClassifier,
    TemporalEnsemblingClassifier,
)
from sklabelfree.semi_supervised._temporal_ensembling import _accumulate

torch.set_num_threads(1)

CHEAP = dict(module__width=8, lr=1e-2, batch_size=8, mu=2, random_state=0)


def _np_softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    centers = np.array([[2.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 2.0, 0]])
    y_true = np.repeat([0, 1, 2], 30)
    X = (centers[y_true] + rng.normal(scale=0.5, size=(90, 4))).astype(np.float32)
    y = np.full(90, -1)
    y[::6] = y_true[::6]
    return X, y, y_true


# --------------------------------------------------------------------------- losses
LOGITS_A = np.array([[1.0, -0.5, 0.2], [0.3, 0.3, -2.0]])
LOGITS_B = np.array([[0.1, 0.4, -0.3], [2.0, -1.0, 0.5]])


def test_softmax_mse_loss_by_hand():
    targets = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]])
    expected = ((_np_softmax(LOGITS_A) - targets) ** 2).sum() / (2 * 3)
    got = softmax_mse_loss(torch.tensor(LOGITS_A), torch.tensor(targets))
    assert float(got) == pytest.approx(expected, rel=1e-10)
    # A masked row adds 0 but still counts in |B|.
    expected_masked = ((_np_softmax(LOGITS_A)[0] - targets[0]) ** 2).sum() / (2 * 3)
    got = softmax_mse_loss(torch.tensor(LOGITS_A), torch.tensor(targets),
                           mask=torch.tensor([True, False]))
    assert float(got) == pytest.approx(expected_masked, rel=1e-10)
    assert float(softmax_mse_loss(torch.zeros(0, 3), torch.zeros(0, 3))) == 0.0


def test_pi_model_loss_by_hand_and_gradients():
    a = torch.tensor(LOGITS_A, requires_grad=True)
    b = torch.tensor(LOGITS_B, requires_grad=True)
    expected = ((_np_softmax(LOGITS_A) - _np_softmax(LOGITS_B)) ** 2).mean()
    loss = pi_model_consistency_loss(a, b)
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-10)
    loss.backward()
    # Both passes are network outputs: the gradient reaches both.
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0
    assert float(pi_model_consistency_loss(a, a).detach()) == 0.0


def test_temporal_ensembling_targets_and_loss_by_hand():
    alpha = 0.6
    preds = [_np_softmax(LOGITS_A), _np_softmax(LOGITS_B)]
    # Row 0 updated twice, row 1 once; by hand Z = sum_k alpha^(t-k) (1-alpha) z_k.
    Z = np.zeros((2, 3))
    Z[0] = alpha * (1 - alpha) * preds[0][0] + (1 - alpha) * preds[1][0]
    Z[1] = (1 - alpha) * preds[0][1]
    counts = np.array([2, 1])
    expected = Z / (1 - alpha ** counts)[:, None]
    targets, valid = temporal_ensembling_targets(
        torch.tensor(Z), torch.tensor(counts), alpha)
    np.testing.assert_allclose(targets.numpy(), expected, rtol=1e-12)
    assert valid.tolist() == [True, True]
    # Bias correction: a row seen once gets its prediction back.
    np.testing.assert_allclose(targets[1].numpy(), preds[0][1], rtol=1e-12)
    # Never-updated rows have no target.
    t0, v0 = temporal_ensembling_targets(torch.zeros(2, 3), torch.tensor([0, 0]), alpha)
    assert not v0.any() and float(t0.abs().sum()) == 0.0

    logits = torch.tensor(LOGITS_B, requires_grad=True)
    tgt = torch.tensor(expected, requires_grad=True)
    loss = temporal_ensembling_consistency_loss(logits, tgt, torch.tensor([True, False]))
    by_hand = ((_np_softmax(LOGITS_B)[0] - expected[0]) ** 2).sum() / 6
    assert float(loss.detach()) == pytest.approx(by_hand, rel=1e-10)
    loss.backward()
    assert tgt.grad is None  # targets are constants


def test_mean_teacher_loss_by_hand_and_no_teacher_gradient():
    s = torch.tensor(LOGITS_A, requires_grad=True)
    t = torch.tensor(LOGITS_B, requires_grad=True)
    loss = mean_teacher_consistency_loss(s, t)
    expected = ((_np_softmax(LOGITS_A) - _np_softmax(LOGITS_B)) ** 2).mean()
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-10)
    loss.backward()
    assert s.grad.abs().sum() > 0 and t.grad is None


def test_accumulate_matches_sequential_updates_with_duplicates():
    alpha = 0.6
    Z = torch.zeros(4, 2, dtype=torch.float64)
    t = torch.zeros(4, dtype=torch.long)
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]], dtype=torch.float64)
    _accumulate(Z, t, torch.tensor([1, 3, 1]), probs, alpha)
    Z1 = alpha * (1 - alpha) * probs[0] + (1 - alpha) * probs[2]
    assert torch.allclose(Z[1], Z1) and torch.allclose(Z[3], (1 - alpha) * probs[1])
    assert t.tolist() == [0, 2, 0, 1]


# --------------------------------------------------------------------------- ramp-up
def test_rampup_helper():
    ramp = RampUp(30.0, length=5)
    assert ramp(0) == pytest.approx(30.0 * math.exp(-5))
    assert ramp(5) == 30.0 and ramp(50) == 30.0
    assert ramp(2.5) == pytest.approx(30.0 * math.exp(-5 * 0.25))
    assert RampUp(2.0, length=4, kind="linear")(1) == 0.5
    assert RampUp(2.0, length=4, kind="constant")(0) == 2.0
    assert RampUp(2.0, length=0)(0) == 2.0
    with pytest.raises(ValueError, match="kind must be 'sigmoid', 'linear' or 'constant'"):
        RampUp(kind="cosine")(1)


@pytest.mark.parametrize("cls", [PiModelClassifier, TemporalEnsemblingClassifier,
                                 MeanTeacherClassifier])
def test_rampup_weight_in_training(cls, data):
    X, y, _ = data
    net = cls(consistency_weight=7.0, rampup_epochs=2, max_epochs=3, **CHEAP).fit(X, y)
    weights = [b["consistency_weight"] for ep in net.history for b in ep["batches"]]
    assert weights[0] == pytest.approx(7.0 * math.exp(-5))
    spe = net.steps_per_epoch_
    assert weights[2 * spe:] == [7.0] * spe
    assert all(np.diff(weights) >= 0)


# --------------------------------------------------------------------------- Pi-model
def test_pi_model_consistency_zero_without_noise(data):
    X, y, _ = data
    quiet = PiModelClassifier(max_epochs=2, augment=None, module__dropout=0.0,
                              **CHEAP).fit(X, y)
    losses = [b["consistency_loss"] for ep in quiet.history for b in ep["batches"]]
    assert losses and all(v == 0.0 for v in losses)

    noisy = PiModelClassifier(max_epochs=2, module__dropout=0.3, **CHEAP).fit(X, y)
    losses = [b["consistency_loss"] for ep in noisy.history for b in ep["batches"]]
    assert all(v > 0 for v in losses)


def test_pi_model_learns(data):
    X, y, y_true = data
    net = PiModelClassifier(max_epochs=8, **CHEAP).fit(X, y)
    assert net.score(X, y_true) > 0.9


# ------------------------------------------------------------------ temporal ensembling
class _RecordingTE(TemporalEnsemblingClassifier):
    """Keeps, for each step, the rows drawn, their targets and their predictions."""

    def infer(self, x, **fit_params):
        out = super().infer(x, **fit_params)
        self.last_logits_ = out
        return out

    def compute_loss(self, batch, **fit_params):
        idx = batch.idx_u
        before_t = self.ensemble_updates_[idx].clone()
        targets, _ = temporal_ensembling_targets(
            self.ensemble_[idx], self.ensemble_updates_[idx], self.alpha)
        result = super().compute_loss(batch, **fit_params)
        logits_u = self.last_logits_[batch.x_l.shape[0]:].detach()
        self.records_.append((idx.clone(), before_t, targets, torch.softmax(logits_u, 1)))
        return result


def test_temporal_ensembling_target_of_row_seen_once(data):
    X, y, _ = data
    net = _RecordingTE(max_epochs=2, **CHEAP)
    net.records_ = []
    net.fit(X, y)
    first_pred = {}
    checked = 0
    for idx, before_t, targets, probs in net.records_:
        for j, i in enumerate(idx.tolist()):
            if int(before_t[j]) == 1 and i in first_pred:
                # The bias-corrected target equals the row's first prediction.
                torch.testing.assert_close(targets[j], first_pred[i], rtol=1e-6,
                                           atol=1e-7)
                checked += 1
            if int(before_t[j]) == 0:
                first_pred[i] = probs[j]
    assert checked > 20
    # Each row is seen once per epoch: after 2 epochs every row has 2 updates
    # (up to the stream's wrap-around at the epoch boundary).
    assert net.ensemble_.shape == (90, 3)
    assert set(net.ensemble_updates_.tolist()) <= {1, 2, 3}
    assert int(net.ensemble_updates_.sum()) == 2 * net.steps_per_epoch_ * 16


def test_temporal_ensembling_state_reset_and_pickle(data):
    X, y, y_true = data
    net = TemporalEnsemblingClassifier(max_epochs=2, **CHEAP).fit(X, y)
    first = int(net.ensemble_updates_.sum())
    net.partial_fit(X, y)
    assert int(net.ensemble_updates_.sum()) == 2 * first  # kept by partial_fit
    net.fit(X[::2], y[::2])  # a new fit starts a new ensemble
    assert net.ensemble_.shape == (45, 3)
    assert int(net.ensemble_updates_.sum()) == 2 * net.steps_per_epoch_ * 16
    loaded = pickle.loads(pickle.dumps(net))
    np.testing.assert_allclose(loaded.predict_proba(X), net.predict_proba(X))
    assert torch.equal(loaded.ensemble_, net.ensemble_)


# --------------------------------------------------------------------------- mean teacher
class _RecordParams(Callback):
    def on_train_begin(self, net, **kwargs):
        if not hasattr(self, "history_"):
            self.history_ = [[p.detach().clone() for p in net.module_.parameters()]]

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.history_.append([p.detach().clone() for p in net.module_.parameters()])


@pytest.mark.parametrize("buffers", ["own", "copy"])
def test_teacher_is_ema_of_student_history(data, buffers):
    X, y, _ = data
    rec = _RecordParams()
    net = MeanTeacherClassifier(max_epochs=3, ema_decay=0.6, ema_decay_after_rampup=0.8,
                                rampup_epochs=1, callbacks=[("rec", rec)],
                                callbacks__ema_teacher__buffers=buffers, **CHEAP)
    net.fit(X, y)
    spe = net.steps_per_epoch_
    hist = rec.history_
    assert len(hist) == 3 * spe + 1
    teacher = [p.clone() for p in hist[0]]  # the teacher starts as a copy
    for k in range(1, len(hist)):
        decay = 0.6 if k / spe < 1 else 0.8  # ema_decay during the ramp-up
        decay = min(decay, 1 - 1 / (k + 1))  # the authors' warm-up
        teacher = [decay * t + (1 - decay) * s for t, s in zip(teacher, hist[k])]
    for t, p in zip(teacher, net.teacher_module_.parameters()):
        torch.testing.assert_close(p, t, rtol=1e-5, atol=1e-6)
    ema = dict(net.callbacks_)["ema_teacher"]
    assert isinstance(ema, EMATeacher)
    assert ema.n_updates_ == 3 * spe and ema.last_decay_ == 0.8
    # Batch-norm statistics: copied from the student, or the teacher's own.
    pairs = list(zip(net.teacher_module_.buffers(), net.module_.buffers()))
    assert pairs
    same = [torch.equal(bt, bs) for bt, bs in pairs if bt.is_floating_point()]
    assert all(same) if buffers == "copy" else not any(same)


def test_teacher_not_trained_by_gradient(data):
    X, y, _ = data
    net = MeanTeacherClassifier(max_epochs=2, **CHEAP).fit(X, y)
    teacher_ids = {id(p) for p in net.teacher_module_.parameters()}
    student_ids = {id(p) for p in net.module_.parameters()}
    optim_ids = {id(p) for g in net.optimizer_.param_groups for p in g["params"]}
    assert optim_ids == student_ids
    assert not teacher_ids & optim_ids
    assert all(not p.requires_grad and p.grad is None
               for p in net.teacher_module_.parameters())
    assert "teacher_module" in net._modules
    # Teacher and student are distinct networks that were both trained.
    assert not torch.equal(next(net.teacher_module_.parameters()),
                           next(net.module_.parameters()))


def test_mean_teacher_predict_with(data):
    X, y, y_true = data
    net = MeanTeacherClassifier(max_epochs=6, **CHEAP).fit(X, y)
    Xt = torch.as_tensor(X)
    net.module_.eval()
    net.teacher_module_.eval()
    with torch.no_grad():
        p_teacher = torch.softmax(net.teacher_module_(Xt), dim=1).numpy()
        p_student = torch.softmax(net.module_(Xt), dim=1).numpy()
    np.testing.assert_allclose(net.predict_proba(X), p_teacher, rtol=1e-5, atol=1e-6)
    net.set_params(predict_with="student")
    np.testing.assert_allclose(net.predict_proba(X), p_student, rtol=1e-5, atol=1e-6)
    assert net.score(X, y_true) > 0.9


def test_mean_teacher_pickle_and_clone(data):
    X, y, _ = data
    net = MeanTeacherClassifier(max_epochs=2, ema_decay=0.9, **CHEAP).fit(X, y)
    loaded = pickle.loads(pickle.dumps(net))
    np.testing.assert_allclose(loaded.predict_proba(X), net.predict_proba(X))
    for a, b in zip(loaded.teacher_module_.parameters(), net.teacher_module_.parameters()):
        assert torch.equal(a, b)
    fresh = clone(net)
    assert fresh.get_params()["ema_decay"] == 0.9
    assert not hasattr(fresh, "teacher_module_")
    fresh.fit(X, y)
    np.testing.assert_allclose(fresh.predict_proba(X), net.predict_proba(X), rtol=1e-5,
                               atol=1e-6)


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("cls, params, match", [
    (PiModelClassifier, dict(consistency_weight=-1.0),
     "The 'consistency_weight' parameter of PiModelClassifier must be"),
    (PiModelClassifier, dict(rampup_epochs=-2),
     "The 'rampup_epochs' parameter of PiModelClassifier must be"),
    (TemporalEnsemblingClassifier, dict(alpha=1.0),
     "The 'alpha' parameter of TemporalEnsemblingClassifier must be"),
    (MeanTeacherClassifier, dict(ema_decay=1.5),
     "The 'ema_decay' parameter of MeanTeacherClassifier must be"),
    (MeanTeacherClassifier, dict(ema_decay_after_rampup=-0.1),
     "The 'ema_decay_after_rampup' parameter of MeanTeacherClassifier must be"),
    (MeanTeacherClassifier, dict(predict_with="ensemble"),
     "The 'predict_with' parameter of MeanTeacherClassifier must be"),
])
def test_bad_parameters(cls, params, match, data):
    X, y, _ = data
    with pytest.raises(ValueError, match=match):
        cls(max_epochs=1, **CHEAP, **params).fit(X, y)


def test_bad_inputs(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="No labeled row|at least one labeled"):
        TemporalEnsemblingClassifier(max_epochs=1, **CHEAP).fit(X, np.full(90, -1))
    with pytest.raises(ValueError, match="logits and targets must have the same shape"):
        softmax_mse_loss(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"decay must be in \[0, 1\] or None"):
        MeanTeacherClassifier(max_epochs=1, callbacks__ema_teacher__decay=2.0,
                              **CHEAP).fit(X, y)
    with pytest.raises(ValueError, match="buffers must be 'own' or 'copy'"):
        MeanTeacherClassifier(max_epochs=1, callbacks__ema_teacher__buffers="mean",
                              **CHEAP).fit(X, y)
    net = MeanTeacherClassifier(max_epochs=1, **CHEAP).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but MeanTeacherClassifier"):
        net.predict(X[:, :3])
