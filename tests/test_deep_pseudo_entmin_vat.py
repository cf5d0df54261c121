"""Deep Pseudo-Label, entropy minimisation and VAT: losses by hand, behaviours, errors."""

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from sklabelfree.nn.losses import (
    entropy_loss,
    frozen_batch_norm_stats,
    kl_div_with_logits,
    pseudo_label_loss,
    pseudo_label_weight,
    vat_loss,
    vat_perturbation,
)
from sklabelfree.semi_supervised import (
    DeepPseudoLabelClassifier,
    EntropyMinimizationClassifier,
    VATClassifier,
)

torch.set_num_threads(1)


def _np_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _tiny_data(n=60, n_labeled=20, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.rand(n, 1, 8, 8).astype(np.float32)
    y = np.full(n, -1)
    y[:n_labeled] = np.arange(n_labeled) % 2
    X[y == 1] += 0.5
    return X, y


# ----------------------------------------------------------------- Pseudo-Label
LOGITS = np.array([[2.0, 0.5, -1.0], [0.1, 0.0, 0.2], [-1.0, 3.0, 0.0],
                   [0.0, 0.0, 0.0]])


def _np_ce(logits, target):
    p = _np_softmax(logits)
    return -np.log(p[np.arange(len(target)), target])


def test_pseudo_label_loss_by_hand():
    loss, pseudo, mask = pseudo_label_loss(torch.tensor(LOGITS))
    expected_pseudo = LOGITS.argmax(axis=1)
    assert pseudo.tolist() == expected_pseudo.tolist()
    assert mask.all()
    assert float(loss) == pytest.approx(_np_ce(LOGITS, expected_pseudo).mean(), rel=1e-6)


def test_pseudo_label_threshold_masks_rows():
    conf = _np_softmax(LOGITS).max(axis=1)
    threshold = 0.6
    keep = conf >= threshold
    assert 0 < keep.sum() < len(keep)
    logits = torch.tensor(LOGITS, requires_grad=True)
    loss, _, mask = pseudo_label_loss(logits, threshold=threshold)
    assert mask.numpy().tolist() == keep.tolist()
    ce = _np_ce(LOGITS, LOGITS.argmax(axis=1))
    # Masked rows add 0; the mean still runs over every row.
    assert float(loss.detach()) == pytest.approx((ce * keep).sum() / len(ce), rel=1e-6)
    loss.backward()
    grad = logits.grad.numpy()
    assert np.all(grad[~keep] == 0)
    assert np.all(np.abs(grad[keep]).sum(axis=1) > 0)


def test_pseudo_label_targets_are_constants():
    # The pseudo label is a target: the gradient is that of CE(logits, fixed class).
    logits = torch.tensor(LOGITS[:1], requires_grad=True)
    pseudo_label_loss(logits)[0].backward()
    expected = _np_softmax(LOGITS[:1])
    expected[0, 0] -= 1
    np.testing.assert_allclose(logits.grad.numpy(), expected, rtol=1e-6)


def test_pseudo_label_weight_schedule():
    alpha_f, t1, t2 = 3.0, 10, 30
    assert pseudo_label_weight(0, alpha_f, t1, t2) == 0.0
    assert pseudo_label_weight(9.99, alpha_f, t1, t2) == 0.0
    assert pseudo_label_weight(10, alpha_f, t1, t2) == 0.0
    assert pseudo_label_weight(15, alpha_f, t1, t2) == pytest.approx(0.75)
    assert pseudo_label_weight(20, alpha_f, t1, t2) == pytest.approx(1.5)
    assert pseudo_label_weight(30, alpha_f, t1, t2) == alpha_f
    assert pseudo_label_weight(500, alpha_f, t1, t2) == alpha_f
    # t1 == t2: a step.
    assert pseudo_label_weight(4.9, 2.0, 5, 5) == 0.0
    assert pseudo_label_weight(5, 2.0, 5, 5) == 2.0


def test_deep_pseudo_label_alpha_follows_schedule_during_fit():
    X, y = _tiny_data()
    clf = DeepPseudoLabelClassifier(
        alpha_f=2.0, t1=1, t2=2, max_epochs=3, steps_per_epoch=2, batch_size=8, mu=2,
        module__width=4, module__depth=1, random_state=0).fit(X, y)
    alphas = [a for epoch in clf.history for a in
              (b["alpha"] for b in epoch["batches"])]
    # Progress at steps 0..5 is 0, 0.5, 1, 1.5, 2, 2.5 epochs.
    np.testing.assert_allclose(alphas, [0, 0, 0, 1.0, 2.0, 2.0])
    clf.n_steps_ = 3
    assert clf.alpha() == pytest.approx(1.0)


def test_deep_pseudo_label_threshold_one_gives_no_pseudo_labels():
    X, y = _tiny_data()
    clf = DeepPseudoLabelClassifier(
        threshold=1.0, t1=0, t2=0, max_epochs=1, steps_per_epoch=2, batch_size=8,
        module__width=4, module__depth=1, random_state=0).fit(X, y)
    rates = [b["mask_rate"] for b in clf.history[-1]["batches"]]
    assert rates == [0.0, 0.0]


def test_deep_pseudo_label_bad_params():
    X, y = _tiny_data()
    with pytest.raises(ValueError, match="t2 must be greater than or equal to t1"):
        DeepPseudoLabelClassifier(t1=10, t2=5).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'threshold' parameter"):
        DeepPseudoLabelClassifier(threshold=1.5).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'alpha_f' parameter"):
        DeepPseudoLabelClassifier(alpha_f=-1.0).fit(X, y)


# ----------------------------------------------------------------- Entropy minimisation
def test_entropy_loss_by_hand():
    p = _np_softmax(LOGITS)
    h = -(p * np.log(p)).sum(axis=1)
    np.testing.assert_allclose(entropy_loss(torch.tensor(LOGITS), reduction="none"), h,
                               rtol=1e-6)
    assert float(entropy_loss(torch.tensor(LOGITS))) == pytest.approx(h.mean(), rel=1e-6)


def test_entropy_zero_for_one_hot_and_log_k_for_uniform():
    one_hot = torch.tensor([[0.0, -np.inf, -np.inf], [-np.inf, 50.0, -np.inf]],
                           requires_grad=True)
    h = entropy_loss(one_hot)
    assert float(h) == 0.0
    h.backward()
    assert torch.isfinite(one_hot.grad).all()
    assert float(entropy_loss(torch.tensor([[30.0, 0.0, 0.0, 0.0]]))) < 1e-9
    for k in (2, 3, 10):
        assert float(entropy_loss(torch.full((4, k), 0.7))) == pytest.approx(np.log(k))


def test_entropy_loss_gradient_sharpens():
    logits = torch.tensor([[0.5, 0.0]], requires_grad=True)
    entropy_loss(logits).backward()
    # A gradient step raises the margin of the larger logit.
    g = logits.grad[0]
    assert float(g[0]) < 0 < float(g[1])


def test_entropy_bad_reduction():
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'none'"):
        entropy_loss(torch.zeros(2, 2), reduction="sum")


def test_entropy_minimization_records_entropy_and_bad_params():
    X, y = _tiny_data()
    clf = EntropyMinimizationClassifier(
        max_epochs=2, steps_per_epoch=2, batch_size=8, module__width=4,
        module__depth=1, random_state=0).fit(X, y)
    h = [b["entropy"] for e in clf.history for b in e["batches"]]
    assert len(h) == 4 and all(0 <= v <= np.log(2) + 1e-6 for v in h)
    with pytest.raises(InvalidParameterError, match="'lambda_u' parameter"):
        EntropyMinimizationClassifier(lambda_u=-0.1).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'rampup' parameter"):
        EntropyMinimizationClassifier(rampup=-1).fit(X, y)


# ----------------------------------------------------------------- VAT
def _linear(d, k, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    lin = torch.nn.Linear(d, k).to(dtype)
    with torch.no_grad():
        lin.weight.copy_(torch.randn(k, d, generator=g, dtype=dtype))
        lin.bias.copy_(torch.randn(k, generator=g, dtype=dtype) * 0.1)
    return lin


def test_kl_div_with_logits_by_hand():
    q_logits = LOGITS[::-1].copy()
    p, q = _np_softmax(LOGITS), _np_softmax(q_logits)
    kl = (p * (np.log(p) - np.log(q))).sum(axis=1)
    got = kl_div_with_logits(torch.tensor(LOGITS), torch.tensor(q_logits), reduction="none")
    np.testing.assert_allclose(got.numpy(), kl, rtol=1e-6)
    assert float(kl_div_with_logits(torch.tensor(LOGITS), torch.tensor(q_logits))) == \
        pytest.approx(kl.mean(), rel=1e-6)
    with pytest.raises(ValueError, match="reduction must be"):
        kl_div_with_logits(torch.tensor(LOGITS), torch.tensor(q_logits), reduction="max")


def test_vat_power_step_and_lds_by_hand():
    # One power iteration on a linear softmax model from a given start d:
    # grad_r KL(p || softmax(W(x + r) + b)) at r = xi d is W^T (q - p).
    lin = _linear(4, 3)
    W, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    rng = np.random.RandomState(0)
    x = rng.randn(5, 4)
    d0 = rng.randn(5, 4)
    xi, eps = 1e-3, 0.7
    xt = torch.tensor(x)
    r = vat_perturbation(lin, xt, lin(xt), eps=eps, xi=xi, n_power=1, d=torch.tensor(d0))
    p = _np_softmax(x @ W.T + b)
    d = d0 / np.linalg.norm(d0, axis=1, keepdims=True)
    q = _np_softmax((x + xi * d) @ W.T + b)
    g = (q - p) @ W
    expected = eps * g / np.linalg.norm(g, axis=1, keepdims=True)
    np.testing.assert_allclose(r.numpy(), expected, rtol=1e-6, atol=1e-9)
    # LDS with that r_adv.
    lds, r_adv = vat_loss(lin, xt, lin(xt), eps=eps, xi=xi, n_power=1,
                          generator=torch.Generator().manual_seed(0))
    p_adv = _np_softmax((x + r_adv.numpy()) @ W.T + b)
    kl = (p * (np.log(p) - np.log(p_adv))).sum(axis=1).mean()
    assert float(lds) == pytest.approx(kl, rel=1e-6)
    assert float(lds) > 0


def _fisher_top_eigvec(W, p):
    # Hessian of KL(p(x) || p(x + r)) at r = 0 for logits W x + b:
    # W^T (diag(p) - p p^T) W.
    H = W.T @ (np.diag(p) - np.outer(p, p)) @ W
    vals, vecs = np.linalg.eigh(H)
    return vecs[:, -1], vals


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_vat_direction_is_top_hessian_eigenvector_two_classes(dtype):
    # Two classes: the Hessian has rank one, one power iteration suffices.
    lin = _linear(6, 2, seed=1, dtype=dtype)
    W, b = lin.weight.detach().double().numpy(), lin.bias.detach().double().numpy()
    x = torch.randn(8, 6, generator=torch.Generator().manual_seed(2), dtype=dtype) * 0.3
    r = vat_perturbation(lin, x, lin(x), eps=1.0, xi=1e-2, n_power=1,
                         generator=torch.Generator().manual_seed(3))
    probs = _np_softmax(x.double().numpy() @ W.T + b)
    for i in range(x.shape[0]):
        v, _ = _fisher_top_eigvec(W, probs[i])
        cos = abs(float(r[i].double().numpy() @ v)) / float(r[i].double().norm())
        assert cos > 0.99


def test_vat_direction_is_top_hessian_eigenvector_power_iterations():
    lin = _linear(6, 4, seed=4)
    W, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    x = torch.randn(6, 6, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    x = x * 0.3
    r = vat_perturbation(lin, x, lin(x), eps=1.0, xi=1e-4, n_power=10,
                         generator=torch.Generator().manual_seed(6))
    probs = _np_softmax(x.numpy() @ W.T + b)
    for i in range(x.shape[0]):
        v, vals = _fisher_top_eigvec(W, probs[i])
        assert vals[-2] / vals[-1] < 0.8  # a gap the power method can resolve
        cos = abs(float(r[i].numpy() @ v)) / float(r[i].norm())
        assert cos > 0.9
    # One iteration from a random start already leans towards the top direction
    # far more than a random direction does (|cos| ~ 0.4 in 6 dimensions).
    r1 = vat_perturbation(lin, x, lin(x), eps=1.0, xi=1e-4, n_power=1,
                          generator=torch.Generator().manual_seed(7))
    coss = [abs(float(r1[i].numpy() @ _fisher_top_eigvec(W, probs[i])[0]))
            for i in range(x.shape[0])]
    assert np.mean(coss) > 0.8


def test_vat_perturbation_norm_is_eps_per_sample():
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.Flatten(),
                               torch.nn.Linear(3 * 4, 5))
    x = torch.rand(7, 1, 4, 4)
    for eps in (0.1, 2.5):
        r = vat_perturbation(conv, x, conv(x), eps=eps, xi=1e-2, n_power=2,
                             generator=torch.Generator().manual_seed(0))
        assert r.shape == x.shape and not r.requires_grad
        np.testing.assert_allclose(r.flatten(1).norm(dim=1).numpy(), eps, rtol=1e-5)


def test_vat_power_iteration_leaves_parameter_grads_alone():
    lin = _linear(4, 3, dtype=torch.float32)
    x = torch.randn(5, 4)
    vat_perturbation(lin, x, lin(x), eps=1.0, n_power=2)
    assert lin.weight.grad is None


def test_frozen_batch_norm_stats():
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                              torch.nn.Dropout(0.5))
    net.train()
    bn, drop = net[1], net[2]
    before = (bn.running_mean.clone(), bn.running_var.clone(), int(bn.num_batches_tracked))
    x = torch.randn(16, 3) * 3 + 2
    with frozen_batch_norm_stats(net):
        assert not drop.training and bn.training
        out = net(x)
        # Batch statistics still normalise: zero mean per feature.
        np.testing.assert_allclose(out.mean(0).detach().numpy(), bn.bias.detach().numpy(),
                                   atol=1e-5)
    torch.testing.assert_close(bn.running_mean, before[0])
    torch.testing.assert_close(bn.running_var, before[1])
    assert int(bn.num_batches_tracked) == before[2]
    assert drop.training and bn.track_running_stats
    net(x)
    assert int(bn.num_batches_tracked) == before[2] + 1


def test_vat_classifier_updates_bn_statistics_once_per_step():
    X, y = _tiny_data()
    clf = VATClassifier(max_epochs=2, steps_per_epoch=3, batch_size=8, mu=2,
                        module__width=4, module__depth=1, random_state=0,
                        entropy_weight=0.5).fit(X, y)
    bns = [m for m in clf.module_.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(int(m.num_batches_tracked) == clf.n_steps_ == 6 for m in bns)
    lds = [b["lds"] for e in clf.history for b in e["batches"]]
    assert len(lds) == 6 and all(v >= 0 for v in lds)


def test_vat_bad_params():
    X, y = _tiny_data()
    with pytest.raises(InvalidParameterError, match="'eps' parameter of VATClassifier"):
        VATClassifier(eps=0.0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'n_power' parameter"):
        VATClassifier(n_power=0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'xi' parameter"):
        VATClassifier(xi=-1.0).fit(X, y)
