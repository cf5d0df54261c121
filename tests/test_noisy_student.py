"""Behaviour of NoisyStudentClassifier and of the input noises."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

from sklabelfree.datasets import digits_benchmark_split
from sklabelfree.semi_supervised import (
    FeatureDropout,
    GaussianNoise,
    NoisyStudentClassifier,
    SwapNoise,
)
from sklabelfree.utils.estimator_checks import make_check_data


class Recording(LogisticRegression):
    """LogisticRegression that keeps what its last ``fit`` was given."""

    def fit(self, X, y, sample_weight=None):
        self.fit_X_ = np.array(X, copy=True)
        self.fit_y_ = np.array(y, copy=True)
        self.fit_w_ = None if sample_weight is None else np.array(sample_weight)
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # The fits here are small: multi-threaded BLAS only adds overhead, and on a
    # loaded machine its busy-waiting threads make each fit 50x slower.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def digits20():
    X, y, X_test, y_test, y_full = digits_benchmark_split(20, random_state=0)
    return X, y, X_test, y_test, y_full


def _unlabeled(y):
    return np.flatnonzero(y == -1)


def _flip(X, random_state=None):
    """A 'noise' that would change almost every prediction: rows in reverse order."""
    return np.ascontiguousarray(X[::-1])


# --------------------------------------------------------------------------- teacher / student
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pseudo_labels_come_from_the_clean_teacher(digits20):
    X, y, *_ = digits20
    unl = _unlabeled(y)
    common = dict(n_generations=1, soft=False, threshold=0.0, class_balance=False,
                  random_state=0)
    clean = NoisyStudentClassifier(Recording(), **common).fit(X, y)
    noisy = NoisyStudentClassifier(Recording(), noise=_flip, **common).fit(X, y)
    teacher = noisy.estimators_[0]
    # The flip would change most of the teacher's predictions ...
    assert np.mean(teacher.predict(_flip(X))[unl] != teacher.predict(X)[unl]) > 0.5
    # ... but pseudo labels are made on clean inputs, by the same teacher.
    np.testing.assert_array_equal(noisy.transduction_[unl], teacher.predict(X[unl]))
    np.testing.assert_array_equal(noisy.transduction_, clean.transduction_)
    np.testing.assert_allclose(noisy.label_distributions_, clean.label_distributions_)
    # The teacher itself is fitted on clean labeled rows.
    np.testing.assert_array_equal(teacher.fit_X_, X[y != -1])


def test_student_is_trained_on_noised_inputs(digits20):
    X, y, *_ = digits20
    lab = np.flatnonzero(y != -1)
    clf = NoisyStudentClassifier(Recording(), noise=GaussianNoise(std=0.5),
                                 n_generations=2, random_state=0).fit(X, y)
    for g in (1, 2):
        student = clf.estimators_[g]
        # Labeled rows come first; they are noised too, by about std.
        diff = student.fit_X_[: lab.size] - X[lab]
        assert not np.allclose(diff, 0)
        assert abs(diff.std() - 0.5) < 0.05
    # A fresh noise draw per generation.
    assert not np.allclose(clf.estimators_[1].fit_X_[: lab.size],
                           clf.estimators_[2].fit_X_[: lab.size])
    # Without noise, the student sees X itself.
    clean = NoisyStudentClassifier(Recording(), n_generations=1,
                                   random_state=0).fit(X, y)
    np.testing.assert_array_equal(clean.estimators_[1].fit_X_[: lab.size], X[lab])


def test_soft_labels_are_probability_weighted_copies(digits20):
    X, y, *_ = digits20
    lab = np.flatnonzero(y != -1)
    clf = NoisyStudentClassifier(Recording(), n_generations=1, sharpen_temperature=None,
                                 threshold=0.0, class_balance=False,
                                 random_state=0).fit(X, y)
    student = clf.estimators_[1]
    w = student.fit_w_
    assert w is not None and w.shape[0] == student.fit_X_.shape[0]
    np.testing.assert_array_equal(w[: lab.size], 1.0)
    # Group the copies by their (unnoised) row.
    rows, inverse = np.unique(student.fit_X_[lab.size:], axis=0, return_inverse=True)
    inverse = inverse.ravel()
    assert inverse.size > 2 * rows.shape[0], "expected several copies per row"
    per_row = np.bincount(inverse, weights=w[lab.size:])
    # Copies below 1e-3 are dropped, so a row keeps at least 1 - 10e-3 of its weight.
    assert np.all(per_row <= 1 + 1e-5)
    assert np.all(per_row > 1 - 10 * 1e-3)
    # Each copy is weighted by the teacher's probability of its class.
    teacher = clf.estimators_[0]
    proba = teacher.predict_proba(student.fit_X_[lab.size:])
    codes = np.searchsorted(clf.classes_, student.fit_y_[lab.size:])
    np.testing.assert_allclose(w[lab.size:], proba[np.arange(codes.size), codes],
                               rtol=1e-5)


def test_sharpening_sharpens_the_soft_labels(digits20):
    X, y, *_ = digits20
    unl = _unlabeled(y)
    kw = dict(n_generations=1, threshold=0.0, random_state=0)
    raw = NoisyStudentClassifier(Recording(), sharpen_temperature=None, **kw).fit(X, y)
    sharp = NoisyStudentClassifier(Recording(), sharpen_temperature=0.25, **kw).fit(X, y)
    assert (sharp.label_distributions_[unl].max(axis=1).mean()
            > raw.label_distributions_[unl].max(axis=1).mean() + 0.1)
    np.testing.assert_array_equal(sharp.label_distributions_[unl].argmax(axis=1),
                                  raw.label_distributions_[unl].argmax(axis=1))


def test_threshold_drops_low_confidence_rows(digits20):
    X, y, *_ = digits20
    unl = _unlabeled(y)
    n_lab = int((y != -1).sum())
    clf = NoisyStudentClassifier(Recording(), n_generations=1, soft=False,
                                 threshold=0.4, class_balance=False,
                                 random_state=0).fit(X, y)
    confidence = clf.estimators_[0].predict_proba(X[unl]).max(axis=1)
    assert 0 < (confidence >= 0.4).sum() < unl.size
    kept = clf.transduction_[unl] != -1
    np.testing.assert_array_equal(kept, confidence >= 0.4)
    assert clf.estimators_[1].fit_X_.shape[0] == n_lab + kept.sum()
    # labeled_iter_: generation 1 for kept rows, -1 for dropped ones.
    np.testing.assert_array_equal(clf.labeled_iter_[unl], np.where(kept, 1, -1))


def test_class_balance_caps_a_dominant_class():
    rng = np.random.RandomState(0)
    centers = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    # Balanced labeled rows, an unlabeled pool that is 90% class 0.
    y_true = np.r_[np.repeat([0, 1, 2], 5), np.zeros(270, int), np.repeat([1, 2], 15)]
    X = centers[y_true] + rng.normal(scale=0.7, size=(y_true.size, 2))
    y = np.r_[y_true[:15], np.full(y_true.size - 15, -1)]
    unl = _unlabeled(y)
    kw = dict(n_generations=1, soft=False, threshold=0.5, random_state=0)
    capped = NoisyStudentClassifier(LogisticRegression(), **kw).fit(X, y)
    free = NoisyStudentClassifier(LogisticRegression(), class_balance=False,
                                  **kw).fit(X, y)
    confidence = capped.estimators_[0].predict_proba(X[unl]).max(axis=1)
    n_candidates = int((confidence >= 0.5).sum())
    n_zero_capped = int((capped.transduction_[unl] == 0).sum())
    n_zero_free = int((free.transduction_[unl] == 0).sum())
    assert n_zero_capped <= int(np.ceil(n_candidates / 3))
    assert n_zero_free > 2 * n_zero_capped
    # The most confident class-0 rows are the ones kept.
    conf0 = confidence[capped.estimators_[0].predict(X[unl]) == 0]
    kept0 = confidence[capped.transduction_[unl] == 0]
    assert kept0.min() >= np.sort(conf0)[::-1][n_zero_capped - 1] - 1e-12


def test_each_generation_is_taught_by_the_previous_student(digits20):
    X, y, *_ = digits20
    n_lab = int((y != -1).sum())
    clf = NoisyStudentClassifier(Recording(), n_generations=3, soft=False,
                                 random_state=0).fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.estimators_) == 4
    assert clf.estimator_ is clf.estimators_[-1]
    assert len({id(e) for e in clf.estimators_}) == 4
    differs_from_first = False
    for g in (1, 2, 3):
        student = clf.estimators_[g]
        rows_X, pseudo = student.fit_X_[n_lab:], student.fit_y_[n_lab:]
        np.testing.assert_array_equal(pseudo, clf.estimators_[g - 1].predict(rows_X))
        differs_from_first |= bool(
            np.any(clf.estimators_[0].predict(rows_X) != pseudo))
    assert differs_from_first
    # transduction_ holds the labels of the last student.
    np.testing.assert_array_equal(
        np.sort(clf.transduction_[clf.transduction_ != -1]),
        np.sort(clf.estimators_[-1].fit_y_))
    np.testing.assert_array_equal(clf.predict(X), clf.estimators_[-1].predict(X))


def test_students_beat_the_teacher_on_digits(digits20):
    X, y, X_test, y_test, _ = digits20
    clf = NoisyStudentClassifier(LogisticRegression(), random_state=0).fit(X, y)
    scores = [e.score(X_test, y_test) for e in clf.estimators_]
    assert clf.score(X_test, y_test) == scores[-1]
    assert scores[-1] > scores[0] + 0.03


def test_student_param_and_hard_labels_without_sample_weight(digits20):
    X, y, X_test, y_test, _ = digits20
    clf = NoisyStudentClassifier(LogisticRegression(), student=KNeighborsClassifier(3),
                                 soft=False, n_generations=2, random_state=0).fit(X, y)
    assert isinstance(clf.estimators_[0], LogisticRegression)
    assert all(isinstance(e, KNeighborsClassifier) for e in clf.estimators_[1:])
    # teacher=None with a student: the first teacher is the student's kind.
    clf = NoisyStudentClassifier(student=KNeighborsClassifier(3), soft=False,
                                 n_generations=1).fit(X, y)
    assert isinstance(clf.estimators_[0], KNeighborsClassifier)
    # Both None: LogisticRegression.
    clf = NoisyStudentClassifier(n_generations=1).fit(X, y)
    assert isinstance(clf.estimator_, LogisticRegression)


def test_termination_conditions(digits20):
    X, y, *_ = digits20
    clf = NoisyStudentClassifier(n_generations=2, threshold=0.999999).fit(X, y)
    assert clf.termination_condition_ == "no_change"
    assert clf.n_iter_ == 0 and clf.estimator_ is clf.estimators_[0]
    assert np.all(clf.transduction_[_unlabeled(y)] == -1)
    X_b, _, y_b = make_check_data()
    with pytest.warns(UserWarning, match="no unlabeled"):
        clf = NoisyStudentClassifier(n_generations=2).fit(X_b, y_b)
    assert clf.termination_condition_ == "all_labeled" and clf.n_iter_ == 0


def test_sample_weight_reaches_teacher_and_students(digits20):
    X, y, *_ = digits20
    lab = np.flatnonzero(y != -1)
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=y.size)
    clf = NoisyStudentClassifier(Recording(), n_generations=1,
                                 random_state=0).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(clf.estimators_[0].fit_w_, sw[lab])
    np.testing.assert_allclose(clf.estimators_[1].fit_w_[: lab.size], sw[lab])
    with pytest.raises(ValueError, match="does not accept sample_weight"):
        NoisyStudentClassifier(LogisticRegression(), student=KNeighborsClassifier(),
                               soft=False).fit(X, y, sample_weight=sw)


def test_metadata_routing_to_teacher_and_student(digits20):
    X, y, *_ = digits20
    lab = np.flatnonzero(y != -1)
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=y.size)
    with config_context(enable_metadata_routing=True):
        teacher = Recording().set_fit_request(sample_weight=True)
        student = Recording().set_fit_request(sample_weight=False)
        clf = NoisyStudentClassifier(teacher, student=student, soft=False,
                                     n_generations=1, random_state=0)
        clf.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(clf.estimators_[0].fit_w_, sw[lab])
    assert clf.estimators_[1].fit_w_ is None


def test_verbose_prints_one_line_per_generation(digits20, capsys):
    X, y, *_ = digits20
    NoisyStudentClassifier(n_generations=3, verbose=True, random_state=0).fit(X, y)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert len(lines) == 3 and all("generation" in ln for ln in lines)


def test_reproducible_with_noise(digits20):
    X, y, *_ = digits20
    make = lambda seed: NoisyStudentClassifier(  # noqa: E731
        noise=FeatureDropout(0.2), n_generations=2, random_state=seed).fit(X, y)
    a, b, c = make(3), make(3), make(4)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X))


def test_noise_parameter_clones_and_tunes(digits20):
    clf = NoisyStudentClassifier(noise=GaussianNoise(std=0.2))
    assert "GaussianNoise(std=0.2)" in repr(clf)
    assert clf.get_params()["noise__std"] == 0.2
    cloned = clone(clf)
    assert cloned.noise is not clf.noise and cloned.noise.std == 0.2
    cloned.set_params(noise__std=0.5)
    assert cloned.noise.std == 0.5 and clf.noise.std == 0.2
    assert pickle.loads(pickle.dumps(GaussianNoise(0.3))) == GaussianNoise(0.3)
    X, y, *_ = digits20
    grid = GridSearchCV(NoisyStudentClassifier(noise=GaussianNoise(), n_generations=1),
                        {"noise__std": [0.05, 0.3]}, cv=2)
    X_l, y_l = X[y != -1], y[y != -1]
    grid.fit(np.r_[X_l, X[:40]], np.r_[y_l, np.full(40, -1)])
    assert grid.best_params_["noise__std"] in (0.05, 0.3)


# --------------------------------------------------------------------------- bad input
def test_soft_needs_sample_weight(digits20):
    X, y, *_ = digits20
    with pytest.raises(ValueError, match="soft=True.*Use soft=False"):
        NoisyStudentClassifier(KNeighborsClassifier()).fit(X, y)
    with pytest.raises(ValueError, match="Use soft=False"):
        NoisyStudentClassifier(LogisticRegression(),
                               student=KNeighborsClassifier()).fit(X, y)


def test_bad_noise(digits20):
    X, y, *_ = digits20
    with pytest.raises(ValueError, match="'noise' parameter .* must be a callable"):
        NoisyStudentClassifier(noise="gaussian").fit(X, y)
    with pytest.raises(ValueError, match="noise must return the noised X with the shape"):
        NoisyStudentClassifier(noise=lambda X, random_state: X[:, :10]).fit(X, y)
    with pytest.raises(ValueError, match="noise must return"):
        NoisyStudentClassifier(noise=lambda X, random_state: None).fit(X, y)
    with pytest.raises(ValueError, match="std must be a finite float >= 0"):
        NoisyStudentClassifier(noise=GaussianNoise(std=-1)).fit(X, y)
    with pytest.raises(ValueError, match=r"rate must be a float in \[0, 1\)"):
        NoisyStudentClassifier(noise=FeatureDropout(rate=1.0)).fit(X, y)
    with pytest.raises(ValueError, match="does not accept sparse"):
        NoisyStudentClassifier(noise=SwapNoise()).fit(sp.csr_matrix(X), y)


# --------------------------------------------------------------------------- noises
NOISES = [GaussianNoise(0.3), FeatureDropout(0.3), SwapNoise(0.3)]


@pytest.mark.parametrize("noise", NOISES, ids=repr)
def test_noise_reproducible_and_input_unchanged(noise):
    X = np.random.RandomState(0).uniform(size=(50, 8))
    X_copy = X.copy()
    a, b, c = noise(X, 0), noise(X, 0), noise(X, 1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, X)
    np.testing.assert_array_equal(X, X_copy)
    assert a.shape == X.shape
    assert noise(X.astype(np.float32), 0).dtype == np.float32
    rs = np.random.RandomState(5)
    np.testing.assert_array_equal(noise(X, rs), noise(X, np.random.RandomState(5)))


def test_gaussian_noise_statistics():
    X = np.full((400, 500), 3.0)
    noised = GaussianNoise(std=0.3)(X, random_state=0)
    delta = noised - X
    assert abs(delta.mean()) < 0.003
    assert abs(delta.std() - 0.3) < 0.003
    assert np.array_equal(GaussianNoise(std=0.0)(X, 0), X)


@pytest.mark.parametrize("rescale", [True, False])
def test_feature_dropout_statistics(rescale):
    X = np.full((400, 500), 2.0)
    noised = FeatureDropout(rate=0.3, rescale=rescale)(X, random_state=0)
    assert abs((noised == 0).mean() - 0.3) < 0.005
    kept = noised[noised != 0]
    np.testing.assert_allclose(kept, 2.0 / 0.7 if rescale else 2.0)
    if rescale:
        assert abs(noised.mean() - 2.0) < 0.02


def test_swap_noise_statistics():
    # Distinct values in each column, so every swap is visible.
    X = np.arange(400 * 300, dtype=float).reshape(400, 300)
    noised = SwapNoise(rate=0.2)(X, random_state=0)
    assert abs((noised != X).mean() - 0.2) < 0.005
    for j in (0, 150, 299):
        assert set(noised[:, j]) <= set(X[:, j])


def test_noise_keeps_sparse_and_dataframes():
    X = sp.random(100, 40, density=0.1, format="csr", random_state=0)
    for noise in (GaussianNoise(0.2), FeatureDropout(0.5)):
        out = noise(X, 0)
        assert sp.issparse(out) and out.shape == X.shape
        # Zeros stay zero.
        assert np.all(out.toarray()[X.toarray() == 0] == 0)
        assert out is not X
    assert (FeatureDropout(0.5)(X, 0) != X).nnz > 0
    with pytest.raises(ValueError, match="does not accept sparse"):
        SwapNoise()(X, 0)
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(np.ones((10, 3)), columns=["a", "b", "c"])
    out = GaussianNoise()(df, 0)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["a", "b", "c"]
    assert (df.to_numpy() == 1).all()


def test_noise_params_and_repr():
    noise = FeatureDropout(rate=0.2)
    assert noise.get_params() == {"rate": 0.2, "rescale": True}
    assert repr(noise) == "FeatureDropout(rate=0.2)"
    assert repr(SwapNoise()) == "SwapNoise()"
    assert noise.set_params(rescale=False) is noise and not noise.rescale
    with pytest.raises(ValueError, match="Invalid parameter 'std'"):
        noise.set_params(std=1.0)
    cloned = clone(noise)
    assert cloned is not noise and cloned.get_params() == noise.get_params()
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        GaussianNoise()(np.ones(5), 0)


# --------------------------------------------------------------------------- deep students
# Imported here so that the tests above do not depend on torch.
import warnings  # noqa: E402

import torch  # noqa: E402
from sklearn.utils.validation import has_fit_parameter  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from sklabelfree.base import SemiSupervisedMixin  # noqa: E402
from sklabelfree.neural import SSLBatch  # noqa: E402
from sklabelfree.semi_supervised import SupervisedNetClassifier  # noqa: E402
from sklabelfree.utils import AllLabeledWarning, check_partially_labeled  # noqa: E402

torch.set_num_threads(1)


class SemiRecording(SemiSupervisedMixin, LogisticRegression):
    """A semi-supervised spy: records its ``fit`` target, learns from labeled rows.

    It validates ``y`` like sklabelfree's estimators, so a target without
    ``-1`` makes it emit an ``AllLabeledWarning``.
    """

    def fit(self, X, y, sample_weight=None):
        y, labeled, _ = check_partially_labeled(y)
        self.fit_y_ = y.copy()
        self.fit_w_ = None if sample_weight is None else np.array(sample_weight)
        w = None if sample_weight is None else np.asarray(sample_weight)[labeled]
        return super().fit(np.asarray(X)[labeled], y[labeled].astype(int),
                           sample_weight=w)


@pytest.fixture(scope="module")
def digits_images():
    return digits_benchmark_split(50, random_state=0, as_images=True)


def _tiny_net(**kw):
    # Few steps: with threshold=0 the soft copies make a large training set.
    params = dict(augment="strong", module__dropout=0.5, module__width=8,
                  module__depth=1, max_epochs=1, steps_per_epoch=5, random_state=0)
    params.update(kw)
    return SupervisedNetClassifier(**params)


def test_net_student_with_soft_labels_fits_and_predicts(digits_images):
    X, y, X_test, _, _ = digits_images
    student = _tiny_net()
    assert has_fit_parameter(student, "sample_weight")
    # threshold=0 without class balance keeps every unlabeled row: the
    # student's target has no -1, and its AllLabeledWarning stays inside.
    clf = NoisyStudentClassifier(student=student, n_generations=1, soft=True,
                                 threshold=0.0, class_balance=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AllLabeledWarning)
        clf.fit(X, y)
    assert clf.n_iter_ == 1 and len(clf.estimators_) == 2
    assert isinstance(clf.estimator_, SupervisedNetClassifier)
    pred = clf.predict(X_test)
    assert pred.shape == (X_test.shape[0],) and set(pred) <= set(clf.classes_)
    np.testing.assert_array_equal(clf.estimator_.classes_, clf.classes_)
    proba = clf.predict_proba(X_test[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def _weight_net():
    # No batch norm, dropout or augmentation: the loss of a row does not
    # depend on the other rows of its batch.
    rng = np.random.RandomState(0)
    X = rng.randn(30, 5).astype(np.float32)
    y = np.array([0, 1, 2] * 8 + [-1] * 6)
    net = SupervisedNetClassifier(augment=None, module__dropout=0.0,
                                  module__batch_norm=False, module__width=8,
                                  max_epochs=0, random_state=0).fit(X, y)
    return net, torch.as_tensor(X[:6]), torch.as_tensor(y[:6])


def test_sample_weight_weighs_the_labeled_loss_of_a_batch():
    net, x, y_l = _weight_net()
    empty = (x[:0], torch.zeros(0, dtype=torch.long))

    def step_loss(x, y_l, w=None):
        loss = net.train_step_single(SSLBatch(x, y_l, *empty, w))["loss"]
        return float(loss.detach())

    net.module_.train()
    with torch.no_grad():
        ce = F.cross_entropy(net.module_(x), y_l, reduction="none")
    w = torch.tensor([1.0, 0.0, 2.0, 0.0, 1.0, 0.5])
    np.testing.assert_allclose(step_loss(x, y_l, w), float((w * ce).sum() / w.sum()),
                               rtol=1e-5)
    # Zero weights are the same as leaving those rows' loss out.
    w01 = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    keep = w01 > 0
    np.testing.assert_allclose(step_loss(x, y_l, w01), float(ce[keep].mean()),
                               rtol=1e-5)
    np.testing.assert_allclose(step_loss(x, y_l, w01), step_loss(x[keep], y_l[keep]),
                               rtol=1e-5)
    # Without weights: the plain mean; with all weights 0: no supervised loss.
    np.testing.assert_allclose(step_loss(x, y_l), float(ce.mean()), rtol=1e-5)
    assert step_loss(x, y_l, torch.zeros(6)) == 0.0


def test_sample_weight_in_net_fit():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4).astype(np.float32)
    y = np.where(np.arange(60) < 30, np.arange(60) % 3, -1)
    kw = dict(module__width=8, max_epochs=2, random_state=0)
    base = SupervisedNetClassifier(**kw).fit(X, y).predict_proba(X)
    # Equal weights on the labeled rows are no weights, whatever the weights
    # of the unlabeled rows.
    w = np.where(y >= 0, 3.0, 7.0)
    same = SupervisedNetClassifier(**kw).fit(X, y, sample_weight=w).predict_proba(X)
    np.testing.assert_allclose(same, base, rtol=1e-6)
    w = rng.rand(60)
    other = SupervisedNetClassifier(**kw).fit(X, y, sample_weight=w).predict_proba(X)
    assert not np.allclose(other, base)
    # partial_fit takes them too.
    net = SupervisedNetClassifier(**kw).fit(X, y, sample_weight=w)
    net.partial_fit(X, y, sample_weight=w)


@pytest.mark.parametrize("weight, match", [
    (np.ones(59), r"sample_weight has shape \(59,\); expected \(60,\)"),
    (np.r_[-1.0, np.ones(59)], "negative values"),
    (np.r_[np.nan, np.ones(59)], "NaN or infinity"),
    (np.r_[np.zeros(30), np.ones(30)], "zero on every labeled row"),
    (["a"] * 60, "sample_weight must be numeric"),
])
def test_bad_sample_weight_in_net_fit(weight, match):
    X = np.random.RandomState(0).randn(60, 4).astype(np.float32)
    y = np.where(np.arange(60) < 30, np.arange(60) % 3, -1)
    with pytest.raises(ValueError, match=match):
        SupervisedNetClassifier(max_epochs=1).fit(X, y, sample_weight=weight)


def test_non_uniform_weights_refused_where_labeled_rows_are_mixed():
    X = np.random.RandomState(0).randn(60, 4).astype(np.float32)
    y = np.where(np.arange(60) < 30, np.arange(60) % 3, -1)
    w = np.linspace(0.5, 1.5, 60)
    net = SupervisedNetClassifier(mixup_alpha=0.5, module__width=8, max_epochs=1)
    with pytest.raises(ValueError, match="did not use it"):
        net.fit(X, y, sample_weight=w)
    # Uniform weights are fine: they are no weights.
    net.fit(X, y, sample_weight=np.ones(60))


def test_semi_supervised_teacher_gets_the_unlabeled_rows(digits20):
    X, y, *_ = digits20
    w = np.linspace(0.5, 1.5, y.shape[0])
    clf = NoisyStudentClassifier(SemiRecording(), student=Recording(), n_generations=1,
                                 random_state=0).fit(X, y, sample_weight=w)
    teacher, student = clf.estimators_
    # Every row, -1 on the unlabeled ones, with its weight ...
    np.testing.assert_array_equal(teacher.fit_y_, y)
    np.testing.assert_allclose(teacher.fit_w_, w)
    # ... while a supervised student sees labeled and pseudo-labeled rows only.
    assert (student.fit_y_ != -1).all()
    # A supervised teacher still gets the labeled rows only.
    plain = NoisyStudentClassifier(Recording(), n_generations=1, random_state=0)
    plain.fit(X, y)
    np.testing.assert_array_equal(plain.estimators_[0].fit_y_, y[y != -1])


@pytest.mark.parametrize("soft", [True, False])
def test_semi_supervised_student_gets_the_left_out_rows(digits20, soft):
    X, y, *_ = digits20
    unl = _unlabeled(y)
    clf = NoisyStudentClassifier(SemiRecording(), n_generations=1, soft=soft,
                                 threshold=0.5, random_state=0).fit(X, y)
    student = clf.estimators_[1]
    left_out = unl[clf.transduction_[unl] == -1]
    assert 0 < left_out.size < unl.size
    # The rows left out of the generation come last, labeled -1 (weight 1).
    n_left = left_out.size
    np.testing.assert_array_equal(student.fit_y_[-n_left:], -1)
    assert (student.fit_y_[:-n_left] != -1).all()
    if soft:
        np.testing.assert_array_equal(student.fit_w_[-n_left:], 1.0)
    # When every unlabeled row is kept, the student's AllLabeledWarning is
    # not passed on.
    with warnings.catch_warnings():
        warnings.simplefilter("error", AllLabeledWarning)
        kept_all = NoisyStudentClassifier(SemiRecording(), n_generations=1,
                                          threshold=0.0, class_balance=False,
                                          random_state=0).fit(X, y)
    assert (kept_all.estimators_[1].fit_y_ != -1).all()


def test_all_labeled_target_warns_once(digits20):
    X, y, *_ = digits20
    lab = y != -1
    with pytest.warns(AllLabeledWarning) as record:
        NoisyStudentClassifier(SemiRecording(), random_state=0).fit(X[lab], y[lab])
    assert sum(issubclass(w.category, AllLabeledWarning) for w in record) == 1


def test_net_student_clone_and_pickle(digits_images):
    X, y, X_test, _, _ = digits_images
    clf = NoisyStudentClassifier(student=_tiny_net(), n_generations=1, threshold=0.0,
                                 random_state=0)
    cloned = clone(clf)
    assert cloned.get_params()["student__module__dropout"] == 0.5
    assert cloned.get_params()["student__augment"] == "strong"
    clf.fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict(X_test), clf.predict(X_test))
    np.testing.assert_allclose(loaded.predict_proba(X_test), clf.predict_proba(X_test))
    # The clone was not fitted along, and fits the same way.
    assert not hasattr(cloned, "estimators_")
    np.testing.assert_allclose(cloned.fit(X, y).predict_proba(X_test),
                               clf.predict_proba(X_test), rtol=1e-5, atol=1e-6)
