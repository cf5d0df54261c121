"""The nine deep semi-supervised nets under one contract.

For every net: model selection in a ``Pipeline`` with ``GridSearchCV`` and
the semi-supervised splitter, bad input refused with a clear message before
any training step, float64 cast, clone, pickle, ``partial_fit``, and (where
a GPU is present) ``device='cuda'``. Settings are tiny: the point is the
contract, not the accuracy.
"""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sklabelfree.datasets import digits_benchmark_split
from sklabelfree.neural import BaseSemiSupervisedNet
from sklabelfree.nn import MLP
from sklabelfree.semi_supervised import (
    DeepPseudoLabelClassifier,
    EntropyMinimizationClassifier,
    FixMatchClassifier,
    MeanTeacherClassifier,
    MixMatchClassifier,
    PiModelClassifier,
    SupervisedNetClassifier,
    TemporalEnsemblingClassifier,
    VATClassifier,
)
from sklabelfree.utils.model_selection import (
    SemiSupervisedStratifiedKFold,
    make_labeled_scorer,
)

torch.set_num_threads(1)

NETS = [
    SupervisedNetClassifier,
    FixMatchClassifier,
    MixMatchClassifier,
    MeanTeacherClassifier,
    PiModelClassifier,
    TemporalEnsemblingClassifier,
    DeepPseudoLabelClassifier,
    EntropyMinimizationClassifier,
    VATClassifier,
]
NET_IDS = [cls.__name__ for cls in NETS]

# Two values of a parameter of each method, for the grid search.
METHOD_GRID = {
    SupervisedNetClassifier: {"net__mixup_alpha": [0.0, 0.5]},
    FixMatchClassifier: {"net__threshold": [0.8, 0.95]},
    MixMatchClassifier: {"net__lambda_u": [10.0, 100.0]},
    MeanTeacherClassifier: {"net__ema_decay": [0.9, 0.95]},
    PiModelClassifier: {"net__consistency_weight": [1.0, 10.0]},
    TemporalEnsemblingClassifier: {"net__alpha": [0.5, 0.6]},
    DeepPseudoLabelClassifier: {"net__threshold": [None, 0.9]},
    EntropyMinimizationClassifier: {"net__lambda_u": [0.1, 0.3]},
    VATClassifier: {"net__eps": [0.5, 1.0]},
}

TINY = dict(max_epochs=1, steps_per_epoch=2, batch_size=16, module__width=8)


def tiny(cls, **params):
    return cls(**{**TINY, "random_state": 0, **params})


@pytest.fixture(scope="module")
def digits():
    """200 rows of digits (50 labeled, 5 per class), as 1x8x8 images and as rows."""
    X, y, X_test, y_test, _ = digits_benchmark_split(50, random_state=0, as_images=True)
    rng = np.random.RandomState(0)
    unlabeled = rng.choice(np.flatnonzero(y == -1), 150, replace=False)
    idx = np.sort(np.concatenate([np.flatnonzero(y != -1), unlabeled]))
    images, y = X[idx], y[idx]
    return images, images.reshape(len(images), -1), y, X_test[:60]


@pytest.fixture
def no_training(monkeypatch):
    """Fail loudly if a training step runs (a spy on ``train_step``)."""
    calls = []

    def spy(self, batch, **fit_params):
        calls.append(type(self).__name__)
        raise AssertionError("a training step ran on input that should be refused")

    monkeypatch.setattr(BaseSemiSupervisedNet, "train_step", spy)
    return calls


def _not_trained(net):
    return not getattr(net, "initialized_", False) or len(net.history_) == 0


# ---------------------------------------------------------------- model selection
@pytest.mark.parametrize("cls", NETS, ids=NET_IDS)
def test_grid_search_in_pipeline_with_semi_supervised_splitter(cls, digits):
    _, X, y, _ = digits
    pipe = Pipeline([("scale", StandardScaler()), ("net", tiny(cls))])
    grid = {**METHOD_GRID[cls], "net__module__width": [4, 8],
            "net__optimizer__lr": [1e-3, 1e-2]}
    search = GridSearchCV(pipe, grid, cv=SemiSupervisedStratifiedKFold(n_splits=2),
                          scoring=make_labeled_scorer("accuracy"), n_jobs=1,
                          error_score="raise")
    search.fit(X, y)

    assert set(search.best_params_) == set(grid)
    for name, value in search.best_params_.items():
        assert value in grid[name]
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (8,) and np.isfinite(scores).all()
    assert search.best_score_ == pytest.approx(scores.max())
    # Test folds are the 25 labeled rows of a fold, never an unlabeled row.
    for k in range(2):
        split = search.cv_results_[f"split{k}_test_score"] * 25
        np.testing.assert_allclose(split, np.round(split), atol=1e-9)

    # The refitted net got the best parameters, down to the module and optimizer.
    net = search.best_estimator_.named_steps["net"]
    best = search.best_params_
    assert net.module_.features[0].out_features == best["net__module__width"]
    assert net.optimizer_.param_groups[0]["lr"] == best["net__optimizer__lr"]
    (method_param,) = METHOD_GRID[cls]
    assert getattr(net, method_param[len("net__"):]) == best[method_param]
    assert list(net.classes_) == list(range(10))
    pred = search.predict(X[:20])
    assert pred.shape == (20,) and set(pred) <= set(range(10))
    assert search.predict_proba(X[:5]).shape == (5, 10)


def _center(X):
    return X - 0.5


def test_grid_search_on_images_with_function_transformer(digits):
    X, _, y, X_test = digits
    pipe = Pipeline([("center", FunctionTransformer(_center)),
                     ("net", tiny(FixMatchClassifier))])
    grid = {"net__threshold": [0.8, 0.95], "net__module__width": [4, 8]}
    # scoring=None: the pipeline's score, i.e. the net's accuracy on labeled rows.
    search = GridSearchCV(pipe, grid, cv=SemiSupervisedStratifiedKFold(n_splits=2),
                          n_jobs=1, error_score="raise").fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (4,) and np.isfinite(scores).all()
    assert search.best_params_["net__threshold"] in (0.8, 0.95)
    net = search.best_estimator_.named_steps["net"]
    assert net.input_shape_ == (1, 8, 8)
    assert set(search.predict(X_test)) <= set(range(10))
    # The labeled scorer and the estimator's score agree on these folds.
    labeled = make_labeled_scorer("accuracy")
    assert labeled(search.best_estimator_, X, y) == search.best_estimator_.score(X, y)


# --------------------------------------------------------------------------- bad input
def _bad_fit_cases(images, rows, y):
    """``(id, X, y, params, match)``: fits that must fail before training."""
    nan_img = images.copy()
    nan_img[3, 0, 2, 2] = np.nan
    inf_rows = rows.copy()
    inf_rows[5, 7] = np.inf
    y_neg = y.copy()
    y_neg[np.flatnonzero(y == -1)[0]] = -2
    y_one_class = np.where(y == 0, 0, -1)
    y_str = np.where(y == -1, "-1", "d" + y.astype(str))
    classes_extra = list(range(11))  # 10 has no labeled row
    return [
        ("nan-in-X", nan_img, y, {}, "Input X contains NaN or infinity"),
        ("inf-in-X", inf_rows, y, {}, "Input X contains NaN or infinity"),
        ("negative-label", images, y_neg, {},
         r"negative labels \[-2\]; only -1 \(unlabeled\) may be negative"),
        ("all-unlabeled", images, np.full(len(y), -1), {},
         r"every row of y is unlabeled \(-1\)"),
        ("one-labeled-class", rows, y_one_class, {}, "at least 2 classes are needed"),
        ("nan-in-y", rows, np.where(y == -1, np.nan, y), {},
         r"y contains NaN. Mark unlabeled rows with -1"),
        ("string-minus-one", rows, y_str, {}, "y contains the string '-1'"),
        ("y-wrong-length", images, y[:-1], {},
         "X has 200 rows but y has 199: they must have the same number of rows"),
        ("1d-X", rows[:, 0], y, {}, "Expected 2D array, got 1D array"),
        ("5d-X", images[:, :, None], y, {}, r"expected rows \(n, d\), signals"),
        ("sparse-X", sp.csr_matrix(rows), y, {}, "sparse matrix"),
        ("module-input-size", rows, y,
         {"module": MLP, "module__input_dim": 32},
         r"the module cannot take samples of shape \(64,\).*check its input size"),
        ("module-output-size", images, y,
         {"module": MLP, "module__input_dim": 64, "module__output_dim": 5},
         r"outputs of shape \(2, 5\) for 2 samples, but y has 10 classes"),
        ("class-without-labeled-row", rows, y, {"classes": classes_extra},
         r"classes \[10\] have no labeled row in y"),
        ("label-not-in-classes", rows, y, {"classes": list(range(9))},
         r"y has labels \[9\] that are not in classes"),
        ("minus-one-in-classes", rows, y, {"classes": [-1, *range(10)]},
         "must be distinct labels, without -1"),
    ]


BAD_FIT_IDS = [case[0] for case in _bad_fit_cases(
    np.zeros((200, 1, 8, 8), np.float32), np.zeros((200, 64), np.float32),
    np.r_[np.arange(50) % 10, np.full(150, -1)])]


@pytest.mark.parametrize("case", BAD_FIT_IDS)
@pytest.mark.parametrize("cls", NETS, ids=NET_IDS)
def test_bad_input_is_refused_before_training(cls, case, digits, no_training):
    images, rows, y, _ = digits
    cases = {c[0]: c[1:] for c in _bad_fit_cases(images, rows, y)}
    X_bad, y_bad, params, match = cases[case]
    net = tiny(cls, **params)
    error = TypeError if case == "sparse-X" else ValueError
    with pytest.raises(error, match=match):
        net.fit(X_bad, y_bad)
    assert no_training == [] and _not_trained(net)


def test_module_instance_with_wrong_input_size_is_refused(digits, no_training):
    _, rows, y, _ = digits
    net = SupervisedNetClassifier(MLP(32, 10, width=8), max_epochs=1, steps_per_epoch=2)
    with pytest.raises(ValueError, match=r"cannot take samples of shape \(64,\)"):
        net.fit(rows, y)
    assert no_training == [] and len(net.history_) == 0
    net = MeanTeacherClassifier(MLP(64, 3, width=8), max_epochs=1, steps_per_epoch=2)
    with pytest.raises(ValueError, match=r"outputs of shape \(2, 3\).*10 classes"):
        net.fit(rows, y)
    assert no_training == [] and len(net.history_) == 0


@pytest.mark.parametrize("cls", NETS, ids=NET_IDS)
def test_predict_and_partial_fit_refuse_other_shapes(cls, digits):
    images, rows, y, _ = digits
    net = tiny(cls).fit(images, y)
    with pytest.raises(ValueError, match=r"samples of shape \(64,\), but the net was "
                                         r"fitted on samples of shape \(1, 8, 8\)"):
        net.predict(rows)
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(1, 8, 8\)"):
        net.predict_proba(images[:, :, :4, :4])
    with pytest.raises(ValueError, match="NaN or infinity"):
        net.predict(np.full((2, 1, 8, 8), np.nan, np.float32))
    n_epochs = len(net.history_)
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(1, 8, 8\)"):
        net.partial_fit(rows, y)
    assert len(net.history_) == n_epochs

    net_rows = tiny(cls).fit(rows, y)
    with pytest.raises(ValueError,
                       match=f"X has 32 features, but {cls.__name__} is expecting 64"):
        net_rows.predict(rows[:, :32])


@pytest.mark.parametrize("cls", NETS, ids=NET_IDS)
def test_float64_and_other_dtypes_are_cast(cls, digits):
    images, rows, y, X_test = digits
    for X32, X64, X_new in [
            (images, images.astype(np.float64), X_test),
            (rows, torch.as_tensor(rows, dtype=torch.float64), rows[:30])]:
        ref = tiny(cls).fit(X32, y)
        expected = ref.predict_proba(X_new)
        net = tiny(cls).fit(X64, y)
        np.testing.assert_array_equal(net.predict_proba(X_new), expected)
        # float64 at predict time is cast too.
        np.testing.assert_array_equal(ref.predict_proba(X_new.astype(np.float64)),
                                      expected)
    assert images.dtype == np.float32  # the input is never modified


@pytest.mark.parametrize("cls", NETS, ids=NET_IDS)
def test_string_labels_with_integer_minus_one(cls, digits):
    _, rows, y, _ = digits
    names = np.array([f"digit{i}" for i in range(10)], dtype=object)
    y_str = np.array([-1 if v == -1 else names[v] for v in y], dtype=object)
    net = tiny(cls).fit(rows, y_str)
    assert list(net.classes_) == sorted(names)
    assert set(net.predict(rows[:30])) <= set(names)
    # A class with no labeled row is not a class (and never predicted).
    y_missing = np.array([-1 if v == "digit3" else v for v in y_str], dtype=object)
    net = tiny(cls).fit(rows, y_missing)
    assert "digit3" not in set(net.classes_) and len(net.classes_) == 9
    assert "digit3" not in set(net.predict(rows))


@pytest.mark.parametrize("cls", NETS, ids=NET_IDS)
def test_classes_parameter_sets_the_output_order(cls, digits):
    _, rows, y, _ = digits
    order = list(range(9, -1, -1))
    net = tiny(cls, classes=order).fit(rows, y)
    assert list(net.classes_) == order
    proba = net.predict_proba(rows[:20])
    np.testing.assert_array_equal(net.predict(rows[:20]),
                                  np.asarray(order)[proba.argmax(axis=1)])


# ------------------------------------------------------ clone, pickle, partial_fit
@pytest.mark.parametrize("cls", NETS, ids=NET_IDS)
def test_clone_pickle_and_partial_fit(cls, digits):
    images, _, y, X_test = digits
    net = tiny(cls).fit(images, y)
    proba = net.predict_proba(X_test)

    loaded = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(loaded.predict_proba(X_test), proba)
    np.testing.assert_array_equal(loaded.predict(X_test), net.predict(X_test))

    fresh = clone(net)
    assert not hasattr(fresh, "module_") and not hasattr(fresh, "classes_inferred_")
    assert fresh.get_params()["module__width"] == 8
    fresh.fit(images, y)
    np.testing.assert_allclose(fresh.predict_proba(X_test), proba, rtol=1e-5, atol=1e-6)

    # partial_fit continues: same module and optimizer, more epochs and steps.
    module, optimizer = net.module_, net.optimizer_
    steps = net.n_steps_
    weights = [p.detach().clone() for p in module.parameters()]
    net.partial_fit(images, y)
    assert net.module_ is module and net.optimizer_ is optimizer
    assert len(net.history_) == 2 and net.n_steps_ == 2 * steps
    assert any(not torch.equal(w, p) for w, p in zip(weights, module.parameters()))
    # The loaded copy continues from the same point, to the same weights.
    loaded.partial_fit(images, y)
    np.testing.assert_allclose(loaded.predict_proba(X_test), net.predict_proba(X_test),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", NETS, ids=NET_IDS)
def test_partial_fit_classes(cls, digits, no_training):
    _, rows, y, _ = digits
    # First call: classes listing a class with no labeled row is refused.
    net = tiny(cls)
    with pytest.raises(ValueError, match=r"classes \[10\] have no labeled row"):
        net.partial_fit(rows, y, classes=list(range(11)))
    assert no_training == [] and _not_trained(net)
    with pytest.raises(ValueError, match=r"y has labels \[9\] that are not in classes"):
        net.partial_fit(rows, y, classes=list(range(9)))


@pytest.mark.parametrize("cls", NETS, ids=NET_IDS)
def test_partial_fit_later_batches(cls, digits):
    _, rows, y, _ = digits
    net = tiny(cls).partial_fit(rows, y, classes=list(range(10)))
    assert list(net.classes_) == list(range(10)) and len(net.history_) == 1
    # A later batch may lack classes (here 5..9 have no labeled row)...
    net.partial_fit(rows, np.where(y >= 5, -1, y))
    assert len(net.history_) == 2 and list(net.classes_) == list(range(10))
    # ... but may not bring new ones, change the classes, or mismatch X.
    with pytest.raises(ValueError, match=r"y has labels \[12\] that are not in classes"):
        net.partial_fit(rows, np.where(y == 3, 12, y))
    with pytest.raises(ValueError, match=r"partial_fit got classes \[0, 1\]"):
        net.partial_fit(rows, y, classes=[0, 1])
    with pytest.raises(ValueError, match="X has 200 rows but y has 150"):
        net.partial_fit(rows, y[:150])
    assert len(net.history_) == 2


# --------------------------------------------------------------------------- CUDA
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("cls", NETS, ids=NET_IDS)
def test_cuda_fit_predict_reproducible(cls, digits):
    images, _, y, X_test = digits
    net = tiny(cls, max_epochs=2, device="cuda").fit(images, y)
    assert all(p.is_cuda for p in net.module_.parameters())
    if cls is MeanTeacherClassifier:
        assert all(p.is_cuda for p in net.teacher_module_.parameters())
    if cls is TemporalEnsemblingClassifier:
        assert net.ensemble_.is_cuda
    proba = net.predict_proba(X_test)
    assert isinstance(proba, np.ndarray) and proba.shape == (len(X_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert set(net.predict(X_test)) <= set(range(10))
    again = tiny(cls, max_epochs=2, device="cuda").fit(images, y)
    np.testing.assert_allclose(again.predict_proba(X_test), proba, rtol=1e-4, atol=1e-5)
    loaded = pickle.loads(pickle.dumps(net))
    np.testing.assert_allclose(loaded.predict_proba(X_test), proba, rtol=1e-5, atol=1e-6)
    net.partial_fit(images, y)
    assert len(net.history_) == 4


# ---------------------------------------------------------------- robustness
def test_failed_warm_start_refit_leaves_the_net_as_it_was(digits):
    _, rows, y, _ = digits
    net = tiny(SupervisedNetClassifier, warm_start=True).fit(rows, y)
    expected = net.predict(rows[:20])
    merged = np.where(y == 9, 8, y)          # nine classes: the 10-logit module refuses
    with pytest.raises(ValueError, match="class"):
        net.fit(rows, merged)
    assert net.classes_.tolist() == list(range(10))
    np.testing.assert_array_equal(net.predict(rows[:20]), expected)


@pytest.mark.parametrize("cls", [FixMatchClassifier, SupervisedNetClassifier])
def test_ema_decay_set_to_none_after_fit(cls, digits):
    _, rows, y, _ = digits
    net = tiny(cls, ema_decay=0.9).fit(rows, y)
    net.set_params(ema_decay=None)
    with torch.no_grad():
        plain = torch.softmax(net.module_.eval()(torch.as_tensor(rows[:5])), dim=1).numpy()
    np.testing.assert_allclose(net.predict_proba(rows[:5]), plain, rtol=1e-5, atol=1e-6)
    net.partial_fit(rows, y)                  # trains without the average
    assert np.isfinite(net.predict_proba(rows[:5])).all()


def test_fixmatch_without_unlabeled_rows_per_step(digits):
    _, rows, y, _ = digits
    net = tiny(FixMatchClassifier, mu=0).fit(rows, y)
    assert np.isfinite(net.predict_proba(rows[:5])).all()


def test_batch_of_one_row_trains_to_finite_weights(digits):
    _, rows, y, _ = digits
    net = tiny(SupervisedNetClassifier, batch_size=1, module__batch_norm=False).fit(rows, y)
    assert np.isfinite(net.predict_proba(rows[:5])).all()
