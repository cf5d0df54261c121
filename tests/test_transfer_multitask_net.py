"""MultiTaskNetClassifier and the multi-task loss helpers: math by hand, masking, API."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sklabelfree.nn import MLP
from sklabelfree.nn.losses import (
    gradnorm_loss,
    masked_task_losses,
    pcgrad_project,
    uncertainty_weighted_loss,
)
from sklabelfree.transfer import MultiTaskNetClassifier

torch.set_num_threads(1)

FAST = dict(max_epochs=8, lr=1e-2, module__width=16, random_state=0)


def _toy(n=160, seed=0, missing=100):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 5).astype("float32")
    Y = np.column_stack([X[:, 0] > 0, X[:, 0] + X[:, 1] > 0]).astype(int)
    Y[missing:, 0] = -1
    return X, Y


# --------------------------------------------------------------------------- PCGrad
def test_pcgrad_hand_computed_two_tasks():
    g1, g2 = torch.tensor([2.0, 0.0]), torch.tensor([-1.0, 1.0])
    p1, p2 = pcgrad_project([g1, g2])
    # g1.g2 = -2: g1 - (-2 / 2) g2 = (1, 1); g2 - (-2 / 4) g1 = (0, 1).
    assert p1.tolist() == pytest.approx([1.0, 1.0])
    assert p2.tolist() == pytest.approx([0.0, 1.0])
    # No conflict: unchanged.
    q1, q2 = pcgrad_project([g1, torch.tensor([1.0, 3.0])])
    assert q1.tolist() == [2.0, 0.0] and q2.tolist() == [1.0, 3.0]


def test_pcgrad_projected_gradients_do_not_conflict_with_the_others():
    gen = torch.Generator().manual_seed(0)
    n_conflicts = 0
    for _ in range(200):
        g = [torch.randn(7, generator=gen) for _ in range(2)]
        p = pcgrad_project(g)
        n_conflicts += int(torch.dot(g[0], g[1]) < 0)
        assert torch.dot(p[0], g[1]) >= -1e-5
        assert torch.dot(p[1], g[0]) >= -1e-5
    assert n_conflicts > 50  # the draws did exercise the projection


def test_pcgrad_three_tasks_follow_the_sequential_rule():
    g = [torch.tensor([1.0, 0.0, 0.0]), torch.tensor([-1.0, 1.0, 0.0]),
         torch.tensor([0.0, -1.0, 1.0])]
    gen = torch.Generator().manual_seed(3)
    out = pcgrad_project(g, generator=gen)
    # Replay the same random orders by hand.
    gen = torch.Generator().manual_seed(3)
    for i in range(3):
        others = [j for j in range(3) if j != i]
        others = [others[k] for k in torch.randperm(2, generator=gen).tolist()]
        v = g[i].clone()
        for j in others:
            d = float(v @ g[j])
            if d < 0:
                v = v - d / float(g[j] @ g[j]) * g[j]
        assert torch.allclose(out[i], v)
        # The last projection of the sequence holds exactly.
        assert float(out[i] @ g[others[-1]]) >= -1e-6


# --------------------------------------------------------------------------- uncertainty
def test_uncertainty_loss_matches_a_hand_computation_and_its_gradient():
    losses = [torch.tensor(2.0), torch.tensor(0.5), None]
    s = torch.tensor([0.5, -1.0, 3.0], requires_grad=True)
    total = uncertainty_weighted_loss(losses, s)
    expected = np.exp(-0.5) * 2.0 + 0.5 + np.exp(1.0) * 0.5 - 1.0  # task 2 absent
    assert float(total.detach()) == pytest.approx(expected, rel=1e-6)
    total.backward()
    # d/ds (e^-s L + s) = 1 - e^-s L; an absent task gets no gradient.
    assert s.grad.tolist() == pytest.approx(
        [1 - np.exp(-0.5) * 2.0, 1 - np.exp(1.0) * 0.5, 0.0], rel=1e-6)


def test_uncertainty_optimum_is_log_of_the_loss():
    s = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([s], lr=0.1)
    losses = [torch.tensor(4.0), torch.tensor(0.25)]
    for _ in range(500):
        opt.zero_grad()
        uncertainty_weighted_loss(losses, s).backward()
        opt.step()
    assert s.detach().tolist() == pytest.approx([np.log(4.0), np.log(0.25)], abs=1e-3)


# --------------------------------------------------------------------------- GradNorm
def test_gradnorm_loss_hand_computed():
    G = torch.tensor([1.0, 2.0, 6.0], requires_grad=True)
    L = torch.tensor([1.0, 0.5, 0.5])
    L0 = torch.tensor([2.0, 2.0, 1.0])
    ratio = np.array([0.5, 0.25, 0.5])
    r = ratio / ratio.mean()
    target = 3.0 * r ** 2.0
    loss = gradnorm_loss(G, L, L0, alpha=2.0)
    assert float(loss.detach()) == pytest.approx(np.abs(np.array([1.0, 2.0, 6.0]) - target).sum())
    loss.backward()
    # The target is a constant: the gradient is the sign of G - target.
    assert G.grad.tolist() == pytest.approx(np.sign([1.0, 2.0, 6.0] - target).tolist())


def test_gradnorm_moves_the_weights_toward_balanced_gradient_norms():
    # Two tasks whose gradients on the shared layer differ tenfold in size
    # (a toy quadratic problem), trained at equal rates (r_t = 1).
    W = torch.randn(4, 3, generator=torch.Generator().manual_seed(0), requires_grad=True)
    scales = [10.0, 1.0]
    w = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.Adam([w], lr=0.05)
    gaps = []
    for _ in range(150):
        losses = [s * (W ** 2).sum() for s in scales]
        norms = torch.stack([torch.linalg.vector_norm(
            torch.autograd.grad(L, W, retain_graph=True)[0]) for L in losses])
        G = w * norms
        gaps.append(float((G[0] - G[1]).abs().detach() / G.sum().detach()))
        current = torch.stack([L.detach() for L in losses])
        opt.zero_grad()
        w.grad = torch.autograd.grad(gradnorm_loss(G, current, current, alpha=1.5), w)[0]
        opt.step()
        with torch.no_grad():
            w.clamp_(min=1e-3)
            w.mul_(2 / w.sum())
    assert gaps[0] > 0.8 and gaps[-1] < 0.1
    # Balanced when w_0 / w_1 = 1 / 10.
    assert float(w[0].detach() / w[1].detach()) == pytest.approx(0.1, rel=0.15)
    assert float(w.detach().sum()) == pytest.approx(2.0)


def test_gradnorm_estimator_learns_normalised_task_weights():
    X, Y = _toy(missing=160)
    # The weights are learned (no longer all 1) and renormalised to sum to 2.
    net = MultiTaskNetClassifier(weighting="gradnorm", **FAST).fit(X, Y)
    assert net.task_weights_.sum() == pytest.approx(2.0, abs=1e-4)
    assert not np.allclose(net.task_weights_, 1.0)
    assert net.score(X, Y) > 0.85


# --------------------------------------------------------------------------- masking
def test_rows_missing_a_label_contribute_nothing_to_that_task():
    torch.manual_seed(0)
    z0, z1 = torch.randn(4, 3), torch.randn(4, 2)
    y = torch.tensor([[2, -1], [-1, 1], [0, 0], [-1, -1]])
    l0, l1 = masked_task_losses([z0, z1], y)
    ce = torch.nn.functional.cross_entropy
    assert float(l0) == pytest.approx(float(ce(z0[[0, 2]], torch.tensor([2, 0]))))
    assert float(l1) == pytest.approx(float(ce(z1[[1, 2]], torch.tensor([1, 0]))))
    # Changing the scores of rows without a task's label leaves that loss unchanged.
    z0b = z0.clone()
    z0b[[1, 3]] += 100.0
    assert float(masked_task_losses([z0b, z1], y)[0]) == pytest.approx(float(l0))
    assert masked_task_losses([z0[[1, 3]], z1[[1, 3]]], y[[1, 3]])[0] is None


def test_net_loss_ignores_the_rows_a_task_lacks():
    X, Y = _toy()
    net = MultiTaskNetClassifier(max_epochs=1, module__width=8, random_state=0).fit(X, Y)
    logits = net.forward(X[:6], training=False)
    y = torch.as_tensor(Y[:6].copy())
    y[3:, 0] = -1
    loss = net.get_loss(logits, y)
    ce = torch.nn.functional.cross_entropy
    expected = ce(logits[:3, :2], y[:3, 0]) + ce(logits[:, 2:], y[:, 1])
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    # The rows without task 0's labels do not move task 0's gradient.
    y_all = torch.as_tensor(Y[:6].copy())
    y_all[3:, 0] = -1
    z = logits.clone().requires_grad_(True)
    net.task_losses(z, y_all)[0].backward()
    assert torch.all(z.grad[3:] == 0)


# --------------------------------------------------------------------------- estimator
@pytest.mark.parametrize("weighting", ["equal", "uncertainty", "gradnorm", "pcgrad"])
def test_every_weighting_learns_both_tasks_and_reproduces(weighting):
    X, Y = _toy()
    net = MultiTaskNetClassifier(weighting=weighting, **FAST).fit(X, Y)
    pred = net.predict(X)
    assert pred.shape == (160, 2)
    assert net.score(X, Y) > 0.85
    again = MultiTaskNetClassifier(weighting=weighting, **FAST).fit(X, Y)
    np.testing.assert_array_equal(
        np.column_stack(net.predict_proba(X)), np.column_stack(again.predict_proba(X)))
    other = MultiTaskNetClassifier(weighting=weighting, **{**FAST, "random_state": 1})
    assert not np.allclose(net.predict_proba(X)[0], other.fit(X, Y).predict_proba(X)[0])


def test_pcgrad_step_sets_the_projected_sum_on_the_trunk():
    X, Y = _toy()
    net = MultiTaskNetClassifier(weighting="pcgrad", max_epochs=1, module__width=8,
                                 module__dropout=0.0, random_state=0).fit(X, Y)
    batch = (torch.as_tensor(X[:32]), torch.as_tensor(Y[:32]))
    net.pcgrad_generator_.manual_seed(0)
    net.optimizer_.zero_grad()
    net.train_step_single(batch)
    got = torch.cat([p.grad.flatten() for p in net.module_.trunk.parameters()
                     if p.grad is not None])
    head_grad = [p.grad.clone() for p in net.module_.heads[1].parameters()]
    # By hand: per-task gradients, projected, summed.
    net.optimizer_.zero_grad()
    losses = net.task_losses(net.infer(batch[0]), batch[1])
    shared = [p for p in net.module_.trunk.parameters()]
    flat = []
    for L in losses:
        grads = torch.autograd.grad(L, shared, retain_graph=True, allow_unused=True)
        flat.append(torch.cat([g.flatten() for g in grads if g is not None]))
    want = torch.stack(pcgrad_project(flat, torch.Generator().manual_seed(0))).sum(0)
    assert torch.allclose(got, want, atol=1e-6)
    own = torch.autograd.grad(losses[1], list(net.module_.heads[1].parameters()))
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(head_grad, own))


def test_user_labels_single_task_clone_pickle_and_grid_search():
    X, Y = _toy(missing=160)
    names = np.array(["no", "yes"], dtype=object)[Y[:, 1]]
    Yo = np.column_stack([Y[:, 0], names]).astype(object)
    Yo[100:, 1] = -1
    net = MultiTaskNetClassifier(**FAST).fit(X, Yo)
    assert [c.tolist() for c in net.classes_] == [[0, 1], ["no", "yes"]]
    assert set(net.predict(X)[:, 1]) <= {"no", "yes"}
    proba = net.predict_proba(X)
    assert [p.shape for p in proba] == [(160, 2), (160, 2)]
    np.testing.assert_allclose(proba[1].sum(1), 1.0, rtol=1e-5)
    # 1-D y is one task.
    single = MultiTaskNetClassifier(**FAST).fit(X, Y[:, 0])
    assert single.predict(X).shape == (160,) and single.classes_.tolist() == [0, 1]
    assert single.score(X, Y[:, 0]) > 0.85
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.predict(X), net.predict(X))
    assert clone(net).get_params()["module__width"] == 16
    search = GridSearchCV(MultiTaskNetClassifier(max_epochs=3, random_state=0),
                          {"module__width": [4, 8], "weighting": ["equal", "pcgrad"]},
                          cv=2).fit(X, Y[:, 0])
    assert search.best_params_["module__width"] in (4, 8)


def test_image_inputs_use_a_convnet_trunk():
    rng = np.random.RandomState(0)
    X = rng.rand(40, 1, 8, 8).astype("float32")
    Y = np.column_stack([X[:, 0, :4].mean((1, 2)) > X[:, 0, 4:].mean((1, 2)),
                         X[:, 0, :, :4].mean((1, 2)) > 0.5]).astype(int)
    net = MultiTaskNetClassifier(weighting="uncertainty", max_epochs=2,
                                 random_state=0).fit(X, Y)
    assert type(net.module_.trunk).__name__ == "ConvNet2d"
    assert net.predict(X).shape == (40, 2)
    # A user trunk class gets its input size, and its features feed the heads.
    net = MultiTaskNetClassifier(MLP, max_epochs=1, module__width=8,
                                 random_state=0).fit(X.reshape(40, -1), Y)
    assert net.module_.heads[0].in_features == 8


@pytest.mark.parametrize("y_change, message", [
    (lambda Y: np.column_stack([Y[:, 0], -np.ones(len(Y), int)]), "task 1 has no labeled row"),
    (lambda Y: np.where(np.arange(len(Y))[:, None] == 3, np.nan, Y), "NaN"),
    (lambda Y: np.column_stack([Y[:, 0], np.where(Y[:, 1] >= 0, 1, -1)]), "class"),
    (lambda Y: Y[:10], "rows"),
])
def test_bad_targets_are_refused_before_training(y_change, message):
    X, Y = _toy()
    with pytest.raises(ValueError, match=message):
        MultiTaskNetClassifier(**FAST).fit(X, y_change(Y))


def test_bad_parameters_and_trunks_are_refused():
    X, Y = _toy()
    with pytest.raises(ValueError, match="weighting"):
        MultiTaskNetClassifier(weighting="softmax").fit(X, Y)

    class NoFeatures(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(5, 2)

        def forward(self, x):
            return self.lin(x)

    with pytest.raises(ValueError, match="return_features=True"):
        MultiTaskNetClassifier(NoFeatures(), max_epochs=1).fit(X, Y)
    net = MultiTaskNetClassifier(max_epochs=1, module__width=8).fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        net.predict(X[:, :3])


def test_warm_start_refit_with_another_layout_is_refused_and_keeps_the_net():
    X, Y = _toy()
    Y3 = np.column_stack([Y, (X[:, 2] > 0).astype(int)])
    net = MultiTaskNetClassifier(warm_start=True, max_epochs=1, module__width=8,
                                 random_state=0).fit(X, Y3)
    proba = net.predict_proba(X[:5])
    with pytest.raises(ValueError, match=r"warm_start=True continues the network of the "
                                         r"previous fit \(samples of shape \(5,\), classes "
                                         r"\[\[0, 1\], \[0, 1\], \[0, 1\]\]\), but this fit "
                                         r"has samples of shape \(5,\), classes "
                                         r"\[\[0, 1\], \[0, 1\]\]"):
        net.fit(X, Y)
    with pytest.raises(ValueError, match=r"but this fit has .*\[0, 1, 2\]\]\. Set "
                                         r"warm_start=False"):
        net.fit(X, np.column_stack([Y, np.arange(len(X)) % 3]))
    with pytest.raises(ValueError, match=r"but this fit has samples of shape \(3,\)"):
        net.fit(X[:, :3], Y3)
    # The refused fits changed nothing; the same layout goes on from the weights.
    assert net.n_tasks_ == 3 and len(net.module_.heads) == 3
    for p, q in zip(net.predict_proba(X[:5]), proba):
        np.testing.assert_array_equal(p, q)
    assert net.fit(X, Y3).predict(X[:2]).shape == (2, 3)
