"""FixMatch and the supervised baseline: losses by hand, masking, MixUp."""

import numpy as np
import pytest
import torch

from sklabelfree.datasets import digits_benchmark_split
from sklabelfree.neural import SSLBatch
from sklabelfree.semi_supervised import FixMatchClassifier, SupervisedNetClassifier
from sklabelfree.semi_supervised._fixmatch import fixmatch_unlabeled_loss

torch.set_num_threads(1)


def test_fixmatch_loss_matches_hand_computation():
    logits_weak = torch.tensor([[4.0, 0.0, 0.0], [0.5, 0.4, 0.3], [0.0, 0.0, 5.0]])
    logits_strong = torch.tensor([[1.0, 2.0, 0.0], [3.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    loss, mask = fixmatch_unlabeled_loss(logits_weak, logits_strong, threshold=0.9)
    p = np.exp(logits_weak.numpy())
    p /= p.sum(axis=1, keepdims=True)
    keep = p.max(axis=1) >= 0.9
    np.testing.assert_array_equal(mask.numpy(), keep)
    assert keep.tolist() == [True, False, True]
    ls = logits_strong.numpy()
    log_q = ls - np.log(np.exp(ls).sum(axis=1, keepdims=True))
    ce = -log_q[np.arange(3), p.argmax(axis=1)]
    np.testing.assert_allclose(float(loss), (ce * keep).sum() / 3, rtol=1e-6)


def test_fixmatch_masks_rows_below_threshold_and_gives_no_gradient_to_weak_view():
    logits_weak = torch.tensor([[0.1, 0.0], [10.0, 0.0]], requires_grad=True)
    logits_strong = torch.tensor([[0.0, 3.0], [0.0, 3.0]], requires_grad=True)
    loss, mask = fixmatch_unlabeled_loss(logits_weak, logits_strong, 0.95)
    loss.backward()
    assert mask.tolist() == [False, True]
    # The masked row gives no gradient; the weak view is a constant target.
    assert torch.all(logits_strong.grad[0] == 0) and torch.any(logits_strong.grad[1] != 0)
    assert logits_weak.grad is None or torch.all(logits_weak.grad == 0)
    nothing, _ = fixmatch_unlabeled_loss(logits_weak, logits_strong, 1.0)
    assert float(nothing) == 0.0


class _Constant(torch.nn.Module):
    """A 'model' whose logits are given per row by its first feature."""

    def __init__(self, table):
        super().__init__()
        self.table = table
        self.bias = torch.nn.Parameter(torch.zeros(table.shape[1]))

    def forward(self, x):
        return self.table[x[:, 0].long()] + self.bias


def test_compute_loss_combines_terms_as_the_paper():
    table = torch.tensor([[3.0, 0.0], [0.0, 3.0], [4.0, 0.0], [0.1, 0.0]])
    net = FixMatchClassifier(_Constant(table), threshold=0.9, lambda_u=2.0,
                             augment=None, strong_augment=None, max_epochs=0)
    X = np.arange(4, dtype=np.float32).reshape(4, 1)
    net.fit(X, np.array([0, 1, -1, -1]))
    batch = SSLBatch(torch.tensor([[0.0], [1.0]]), torch.tensor([0, 1]),
                     torch.tensor([[2.0], [3.0]]), torch.tensor([2, 3]))
    loss, logits_l = net.compute_loss(batch)
    sup = torch.nn.functional.cross_entropy(table[:2], torch.tensor([0, 1]))
    unsup, mask = fixmatch_unlabeled_loss(table[2:], table[2:], 0.9)
    assert mask.tolist() == [True, False]
    np.testing.assert_allclose(float(loss), float(sup + 2.0 * unsup), rtol=1e-6)
    assert logits_l.shape == (2, 2)


def test_fixmatch_records_mask_rate_and_learns():
    X, y, X_test, y_test, _ = digits_benchmark_split(50, random_state=0, as_images=True)
    clf = FixMatchClassifier(max_epochs=3, module__width=8, random_state=0).fit(X, y)
    rates = clf.history_[:, "batches", :, "mask_rate"]
    assert all(0.0 <= r <= 1.0 for epoch in rates for r in epoch)
    assert clf.score(X_test, y_test) > 0.3


def test_supervised_net_ignores_unlabeled_rows():
    X, y, X_test, _, _ = digits_benchmark_split(50, random_state=0, as_images=True)
    labeled = y != -1
    params = dict(max_epochs=2, steps_per_epoch=3, module__width=8, random_state=0)
    a = SupervisedNetClassifier(**params).fit(X, y)
    b = SupervisedNetClassifier(**params).fit(X[labeled], y[labeled])
    np.testing.assert_allclose(a.predict_proba(X_test), b.predict_proba(X_test),
                               rtol=1e-5, atol=1e-6)


def test_supervised_mixup_and_cutout_train():
    X, y, X_test, y_test, _ = digits_benchmark_split(50, random_state=0, as_images=True)
    clf = SupervisedNetClassifier(mixup_alpha=0.4, cutout=0.25, max_epochs=3,
                                  module__width=8, random_state=0).fit(X, y)
    assert clf.predict(X_test).shape == y_test.shape
    with pytest.raises(ValueError, match="mixup_alpha"):
        SupervisedNetClassifier(mixup_alpha=-1.0).fit(X, y)


def test_supervised_budget_matches_the_semi_supervised_nets():
    X, y, _, _, _ = digits_benchmark_split(50, random_state=0, as_images=True)
    sup = SupervisedNetClassifier(max_epochs=1, module__width=8).fit(X, y)
    fm = FixMatchClassifier(max_epochs=1, module__width=8).fit(X, y)
    assert sup.steps_per_epoch_ == fm.steps_per_epoch_ == 10
