"""MixMatchClassifier and its losses (Berthelot et al. 2019)."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from sklabelfree.neural import SSLBatch
from sklabelfree.nn.functional import mixup
from sklabelfree.nn.losses import (
    mixmatch_guess_labels,
    mixmatch_labeled_loss,
    mixmatch_unlabeled_loss,
)
from sklabelfree.semi_supervised import MixMatchClassifier

torch.set_num_threads(1)


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class _Linear(torch.nn.Module):
    """A tiny linear model: no batch norm, no dropout."""

    def __init__(self, input_dim, output_dim):
        super().__init__()
        self.linear = torch.nn.Linear(input_dim, output_dim)

    def forward(self, x):
        return self.linear(x.flatten(1))


class _RecordingLinear(_Linear):
    """Remembers the input of its last forward pass with gradients."""

    def forward(self, x):
        if torch.is_grad_enabled():
            self.seen = x.detach().clone()
        return super().forward(x)


class _Offsets:
    """A deterministic augmentation: the i-th call adds offsets[i % len(offsets)]."""

    def __init__(self, offsets):
        self.offsets = offsets
        self.calls = 0

    def __call__(self, x, generator=None):
        off = self.offsets[self.calls % len(self.offsets)]
        self.calls += 1
        return x + off


def _fitted(X, y, **params):
    """A net initialised on (X, y) without any training step."""
    params.setdefault("module", _Linear)
    params.setdefault("augment", None)
    params.setdefault("random_state", 0)
    return MixMatchClassifier(max_epochs=0, **params).fit(X, y)


# ---------------------------------------------------------------- losses by hand
def test_guess_labels_against_numpy():
    rng = np.random.RandomState(0)
    logits = rng.randn(3, 4, 5).astype(np.float32)  # K=3 views, 4 rows, 5 classes
    T = 0.5
    p = _softmax(logits.astype(np.float64)).mean(axis=0)
    expected = p ** (1 / T) / (p ** (1 / T)).sum(axis=1, keepdims=True)
    got = mixmatch_guess_labels(torch.from_numpy(logits), T)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.sum(dim=1).numpy(), 1.0, rtol=1e-6)
    # T = 1 leaves the mean prediction unchanged.
    np.testing.assert_allclose(mixmatch_guess_labels(torch.from_numpy(logits), 1.0).numpy(),
                               p, rtol=1e-5, atol=1e-6)


def test_guess_labels_carry_no_gradient():
    logits = torch.randn(2, 3, 4, requires_grad=True)
    assert not mixmatch_guess_labels(logits, 0.5).requires_grad


def test_guess_labels_need_three_dimensions():
    with pytest.raises(ValueError, match=r"logits must have shape \(K, n, n_classes\)"):
        mixmatch_guess_labels(torch.zeros(3, 4), 0.5)


def test_labeled_loss_against_numpy():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    targets = np.array([[0.7, 0.3, 0.0], [0.0, 0.25, 0.75]])
    expected = -(targets * np.log(_softmax(logits))).sum(axis=1).mean()
    got = mixmatch_labeled_loss(torch.tensor(logits), torch.tensor(targets))
    assert float(got) == pytest.approx(expected, rel=1e-10)


def test_unlabeled_loss_against_numpy():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    targets = np.array([[0.7, 0.3, 0.0], [0.0, 0.25, 0.75]])
    # The paper's L2 loss, divided by the number of classes L and by |U'|.
    expected = ((_softmax(logits) - targets) ** 2).sum(axis=1).mean() / 3
    got = mixmatch_unlabeled_loss(torch.tensor(logits), torch.tensor(targets))
    assert float(got) == pytest.approx(expected, rel=1e-10)


def test_unlabeled_loss_is_on_probabilities_not_logits():
    logits = torch.tensor([[3.0, -2.0, 1.0], [0.0, 4.0, -1.0]])
    targets = torch.tensor([[1.0, 0.0, 0.0], [0.2, 0.8, 0.0]])
    loss = mixmatch_unlabeled_loss(logits, targets)
    # Softmax is shift invariant, so is the loss; an MSE on logits is not.
    assert float(mixmatch_unlabeled_loss(logits + 10.0, targets)) == pytest.approx(
        float(loss), rel=1e-6)
    assert float(loss) != pytest.approx(float(F.mse_loss(logits, targets)))
    assert float(loss) == pytest.approx(
        float(((torch.softmax(logits, 1) - targets) ** 2).mean()), rel=1e-6)
    # Bounded: a squared difference of probabilities is at most 1 per entry.
    assert float(mixmatch_unlabeled_loss(100 * logits, 1 - targets)) <= 1.0
    # The targets are constants.
    t = targets.clone().requires_grad_(True)
    mixmatch_unlabeled_loss(logits.clone().requires_grad_(True), t).backward()
    assert t.grad is None


def test_losses_of_empty_batches_are_zero():
    empty = torch.zeros(0, 3, requires_grad=True)
    assert mixmatch_unlabeled_loss(empty, torch.zeros(0, 3)).item() == 0.0
    assert mixmatch_labeled_loss(empty, torch.zeros(0, 3)).item() == 0.0


# ---------------------------------------------------------------- behaviours
def test_guessed_label_is_sharpened_mean_of_k_predictions():
    rng = np.random.RandomState(0)
    X = rng.randn(12, 3).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2] + [-1] * 6)
    aug = _Offsets([0.5, -1.0, 2.0])
    net = _fitted(X, y, augment=aug, n_augmentations=3, temperature=0.4)
    W = net.module_.linear.weight.detach().numpy().astype(np.float64)
    b = net.module_.linear.bias.detach().numpy().astype(np.float64)
    x_u = X[6:].astype(np.float64)
    aug.calls = 0
    views, q = net.guess_labels(torch.from_numpy(X[6:]))
    probs = [_softmax((x_u + off) @ W.T + b) for off in (0.5, -1.0, 2.0)]
    p = np.mean(probs, axis=0)
    expected = p ** (1 / 0.4) / (p ** (1 / 0.4)).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(q.numpy(), expected, rtol=1e-5, atol=1e-6)
    # The K views, view by view.
    np.testing.assert_allclose(
        views.numpy(), np.concatenate([x_u + off for off in (0.5, -1.0, 2.0)]), rtol=1e-6)
    assert not q.requires_grad


@pytest.mark.parametrize("seed", range(3))
def test_mixed_rows_stay_closer_to_their_first_input(seed):
    # Inputs are basis vectors, so a mixed row's coefficients are readable:
    # lambda' >= 0.5 is on its own row, and targets follow the same weights.
    n_l, n_u = 4, 8
    X = np.eye(n_l + n_u, dtype=np.float32)
    y = np.array(list(range(n_l)) + [-1] * n_u)
    net = _fitted(X, y, module=_RecordingLinear, n_augmentations=1, alpha=0.75,
                  random_state=seed)
    batch = SSLBatch(torch.from_numpy(X[:n_l]), torch.from_numpy(y[:n_l]),
                     torch.from_numpy(X[n_l:]), torch.arange(n_l, n_l + n_u))
    for _ in range(5):
        net.compute_loss(batch)
        mixed = net.module_.seen
        own = mixed.diagonal()
        assert bool((own >= 0.5).all())
        assert torch.equal(mixed.argmax(dim=1), torch.arange(n_l + n_u))
        assert torch.allclose(mixed.sum(dim=1), torch.ones(n_l + n_u))
    # The functional form keeps lambda' >= 0.5 on many draws.
    g = torch.Generator().manual_seed(seed)
    _, _, lam = mixup(torch.zeros(1000, 2), torch.zeros(1000, 2), 0.75, generator=g,
                      keep_first=True)
    assert bool((lam >= 0.5).all()) and bool((lam <= 1.0).all())


def test_no_mixing_no_unlabeled_weight_is_supervised_cross_entropy():
    rng = np.random.RandomState(0)
    X = rng.randn(20, 5).astype(np.float32)
    y = np.array([0, 1, 2, 1, 0, 2, 1, 0] + [-1] * 12)
    net = _fitted(X, y, alpha=0.0, lambda_u=0.0, n_augmentations=2)
    batch = SSLBatch(torch.from_numpy(X[:8]), torch.from_numpy(y[:8]),
                     torch.from_numpy(X[8:]), torch.arange(8, 20))
    loss, logits_l = net.compute_loss(batch)
    with torch.no_grad():
        expected = F.cross_entropy(net.module_(torch.from_numpy(X[:8])),
                                   torch.from_numpy(y[:8]))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert logits_l.shape == (8, 3)


def test_unlabeled_weight_ramps_up_linearly():
    X = np.random.RandomState(0).randn(10, 2).astype(np.float32)
    y = np.array([0, 1] + [-1] * 8)
    net = _fitted(X, y, lambda_u=50.0, rampup_epochs=4)
    net.steps_per_epoch_ = 10
    for steps, expected in [(0, 0.0), (10, 12.5), (20, 25.0), (40, 50.0), (100, 50.0)]:
        net.n_steps_ = steps
        assert net.current_lambda_u() == pytest.approx(expected)
    net.set_params(rampup_epochs=0)
    net.n_steps_ = 0
    assert net.current_lambda_u() == 50.0


def test_fit_records_both_terms_and_the_ramped_weight():
    from sklabelfree.datasets import digits_benchmark_split

    X, y, X_test, y_test, _ = digits_benchmark_split(20, as_images=True)
    clf = MixMatchClassifier(max_epochs=1, steps_per_epoch=4, module__width=4,
                             rampup_epochs=1, random_state=0).fit(X, y)
    batches = clf.history[-1, "batches"]
    assert len(batches) == 4
    weights = [b["lambda_u"] for b in batches]
    assert weights == pytest.approx([0.0, 75 / 4, 75 / 2, 75 * 3 / 4])
    assert all(np.isfinite(b["loss_u"]) and np.isfinite(b["loss_x"]) for b in batches)
    assert clf.predict(X_test[:5]).shape == (5,)


def test_same_seed_same_model():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 4).astype(np.float32)
    y = np.array([0, 1] * 5 + [-1] * 30)
    a = MixMatchClassifier(max_epochs=2, module__width=8, random_state=3).fit(X, y)
    b = MixMatchClassifier(max_epochs=2, module__width=8, random_state=3).fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("params, message", [
    (dict(n_augmentations=0), "'n_augmentations' parameter of MixMatchClassifier must be"),
    (dict(temperature=0.0), "'temperature' parameter of MixMatchClassifier must be"),
    (dict(temperature=1.5), "'temperature' parameter of MixMatchClassifier must be"),
    (dict(alpha=-1.0), "'alpha' parameter of MixMatchClassifier must be"),
    (dict(lambda_u=-1.0), "'lambda_u' parameter of MixMatchClassifier must be"),
    (dict(rampup_epochs=-1), "'rampup_epochs' parameter of MixMatchClassifier must be"),
    (dict(mu=-1), "'mu' parameter of MixMatchClassifier must be"),
])
def test_bad_parameters(params, message):
    X = np.zeros((6, 2), dtype=np.float32)
    y = np.array([0, 1, -1, -1, -1, -1])
    with pytest.raises(ValueError, match=message):
        MixMatchClassifier(max_epochs=1, **params).fit(X, y)


def test_no_labeled_row():
    X = np.zeros((4, 2), dtype=np.float32)
    with pytest.raises(ValueError):
        MixMatchClassifier(max_epochs=1).fit(X, np.full(4, -1))
