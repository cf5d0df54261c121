"""MultiTaskLinearClassifier: proximal operators by hand, coupling, bad input."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from sklabelfree.transfer import MultiTaskLinearClassifier, prox_l21, prox_trace


def _tasks(seed=0, n=300, d=10):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    # Logistic noise on every label: no task is separable, the optima are finite.
    noise = rng.logistic(size=(n, 3))
    y0 = (2 * X[:, 0] + X[:, 1] + noise[:, 0] > 0).astype(int)
    y1 = (2 * X[:, 0] - 2 * X[:, 1] + noise[:, 1] > 0).astype(int)
    y2 = np.digitize(2 * (X[:, 1] + X[:, 0]) + noise[:, 2], [-1.5, 1.5])  # three classes
    return X, np.column_stack([y0, y1, y2])


def test_prox_l21_by_hand():
    W = np.array([[3.0, 4.0], [0.6, 0.8], [0.0, 0.0]])
    out = prox_l21(W, 2.0)
    # Row norms 5, 1, 0: the first shrinks to 3 along its direction, the others vanish.
    np.testing.assert_allclose(out, [[1.8, 2.4], [0.0, 0.0], [0.0, 0.0]])


def test_prox_trace_by_hand():
    rng = np.random.RandomState(0)
    U, _ = np.linalg.qr(rng.randn(5, 3))
    V, _ = np.linalg.qr(rng.randn(4, 3))
    W = U @ np.diag([3.0, 1.0, 0.2]) @ V.T
    out = prox_trace(W, 0.5)
    np.testing.assert_allclose(out, U @ np.diag([2.5, 0.5, 0.0]) @ V.T, atol=1e-12)


def test_no_penalty_matches_logistic_regression():
    X, Y = _tasks()
    clf = MultiTaskLinearClassifier(penalty=None, max_iter=5000, tol=1e-12).fit(X, Y[:, 2])
    ref = LogisticRegression(C=1e8, max_iter=5000, tol=1e-10).fit(X, Y[:, 2])
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=2e-3)


def test_l21_selects_the_same_features_for_every_task():
    X, Y = _tasks()
    clf = MultiTaskLinearClassifier(penalty="l21", alpha=0.1).fit(X, Y)
    norms = np.linalg.norm(clf.joint_coef(), axis=1)
    assert (norms[:2] > 0.1).all()
    np.testing.assert_allclose(norms[2:], 0.0, atol=1e-10)
    # Without coupling, the noise features keep small non-zero weights.
    plain = MultiTaskLinearClassifier(penalty="l2", alpha=0.1).fit(X, Y)
    assert (np.linalg.norm(plain.joint_coef()[2:], axis=1) > 1e-6).all()


def test_trace_norm_lowers_the_rank():
    X, Y = _tasks()
    ranks = []
    for alpha in (0.0, 0.2, 0.5):
        W = MultiTaskLinearClassifier(penalty="trace", alpha=alpha).fit(X, Y).joint_coef()
        s = np.linalg.svd(W, compute_uv=False)
        ranks.append(int((s > 1e-6 * max(s.max(), 1e-12)).sum()))
    # Softmax columns of a task sum to zero, so without a penalty the rank is
    # sum(K_t - 1) = 1 + 1 + 2 = 4.
    assert ranks == [4, 2, 1]


def test_objective_decreases_to_its_minimum():
    X, Y = _tasks()
    short = MultiTaskLinearClassifier(penalty="l21", alpha=0.02, max_iter=5, tol=0).fit(X, Y)
    long = MultiTaskLinearClassifier(penalty="l21", alpha=0.02, max_iter=800, tol=0).fit(X, Y)
    assert long.objective_ < short.objective_
    # Optimality: a small step of prox-gradient from the solution stays put.
    W = long.joint_coef()
    assert np.isfinite(long.objective_)
    again = MultiTaskLinearClassifier(penalty="l21", alpha=0.02, max_iter=1200, tol=0).fit(X, Y)
    np.testing.assert_allclose(again.joint_coef(), W, atol=1e-3)


def test_missing_labels_only_count_for_their_task():
    X, Y = _tasks()
    Y_missing = Y.copy()
    Y_missing[150:, 1] = -1
    clf = MultiTaskLinearClassifier(penalty="l2", alpha=0.01, max_iter=3000,
                                    tol=1e-12).fit(X, Y_missing)
    sub = MultiTaskLinearClassifier(penalty="l2", alpha=0.01, max_iter=3000,
                                    tol=1e-12).fit(X[:150], Y[:150, 1])
    # Uncoupled tasks: task 1 is the single-task fit on its labeled rows.
    np.testing.assert_allclose(clf.coef_[1], sub.coef_[0], atol=1e-3)
    assert clf.predict(X).shape == (300, 3)
    assert clf.score(X, Y_missing) > 0.7


def test_string_labels_and_shapes():
    X, Y = _tasks()
    names = np.array(["low", "mid", "high"], dtype=object)[Y[:, 2]]
    Ys = np.column_stack([Y[:, 0].astype(object), names])
    clf = MultiTaskLinearClassifier().fit(X, Ys)
    pred = clf.predict(X[:5])
    assert pred.shape == (5, 2) and set(pred[:, 1]) <= {"low", "mid", "high"}
    assert [len(c) for c in clf.classes_] == [2, 3]
    proba = clf.predict_proba(X[:5])
    assert isinstance(proba, list) and proba[1].shape == (5, 3)


def test_bad_input():
    X, Y = _tasks()
    Y_bad = Y.copy()
    Y_bad[:, 1] = -1
    with pytest.raises(ValueError, match="task 1 has no labeled row"):
        MultiTaskLinearClassifier().fit(X, Y_bad)
    with pytest.raises(ValueError, match="task 0.*at least 2 classes"):
        MultiTaskLinearClassifier().fit(X, np.column_stack([np.zeros(300, int), Y[:, 1]]))
    with pytest.raises(ValueError, match="X has 300 rows but y has 299"):
        MultiTaskLinearClassifier().fit(X, Y[:-1])
    with pytest.raises(ValueError, match="use -1|Mark unlabeled rows with -1"):
        MultiTaskLinearClassifier().fit(X, np.where(Y == 0, np.nan, Y))


def test_clone_pickle_grid_search():
    X, Y = _tasks()
    clf = MultiTaskLinearClassifier(penalty="trace", alpha=0.1)
    fitted = clone(clf).fit(X, Y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    search = GridSearchCV(MultiTaskLinearClassifier(),
                          {"alpha": [0.001, 1.0], "penalty": ["l21", "trace"]}, cv=3)
    search.fit(X, Y)
    assert search.best_params_["alpha"] == 0.001


def test_off_centre_feature_does_not_stall_the_solver():
    # A column far from zero (a year) made the backtracking shrink the step to
    # ~1e-7 and the objective test stop at chance; centring is exact with an
    # intercept, so the fit equals the one on the shifted-back data.
    X, Y = _tasks()
    X_off = X.copy()
    X_off[:, 3] += 2000.0
    ref = MultiTaskLinearClassifier().fit(X, Y)
    clf = MultiTaskLinearClassifier().fit(X_off, Y)
    assert clf.n_iter_ < clf.max_iter
    for c, c_ref in zip(clf.coef_, ref.coef_):
        np.testing.assert_allclose(c, c_ref, atol=1e-4)
    for p, p_ref in zip(clf.predict_proba(X_off), ref.predict_proba(X)):
        np.testing.assert_allclose(p, p_ref, atol=1e-4)
    assert clf.score(X_off, Y) > 0.75


def test_convergence_warning_at_max_iter():
    X, Y = _tasks()
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=3"):
        clf = MultiTaskLinearClassifier(max_iter=3).fit(X, Y)
    assert clf.n_iter_ == 3


def test_l2_penalty_is_half_the_squared_frobenius_norm():
    # One binary task: the solution of LogisticRegression(C=2 / (alpha * n)).
    rng = np.random.RandomState(0)
    X = rng.randn(40, 3)
    y = (X[:, 0] + 0.5 * rng.randn(40) > 0).astype(int)
    with pytest.warns(ConvergenceWarning):
        m = MultiTaskLinearClassifier(penalty="l2", alpha=0.1, tol=0, max_iter=3000).fit(X, y)
    W = m._W
    reference = LogisticRegression(C=2 / (0.1 * 40), tol=1e-10, max_iter=5000).fit(X, y)
    np.testing.assert_allclose(W[:, 1] - W[:, 0], reference.coef_.ravel(), atol=1e-6)
    assert m.objective_ == pytest.approx(
        reference_objective(m, X, y, 0.1), rel=1e-9)


def reference_objective(model, X, y, alpha):
    W, b = model._W, model._b
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean() + 0.5 * alpha * (W**2).sum()
