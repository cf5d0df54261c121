"""Behaviour of CoTrainingClassifier."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from sklabelfree.semi_supervised import CoTrainingClassifier

pd = pytest.importorskip("pandas")


# ---------------------------------------------------------------- helpers
class RecordingLR(LogisticRegression):
    """LogisticRegression that remembers the weights and rows of its last fit."""

    def fit(self, X, y, sample_weight=None):
        self.seen_weight_ = None if sample_weight is None else np.array(sample_weight)
        self.seen_n_rows_ = X.shape[0]
        self.seen_n_columns_ = X.shape[1]
        return super().fit(X, y, sample_weight=sample_weight)


class ColumnProba(ClassifierMixin, BaseEstimator):
    """Two-class stub: P(second class) = sigmoid(first column of its view)."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        p = 1 / (1 + np.exp(-np.asarray(X, dtype=float)[:, 0]))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _blobs(n=120, n_features=6, n_classes=3, seed=0, labeled_per_class=4):
    rng = np.random.RandomState(seed)
    centers = rng.uniform(-3, 3, size=(n_classes, n_features))
    y_true = np.arange(n) % n_classes
    X = centers[y_true] + rng.normal(scale=1.0, size=(n, n_features))
    y = np.full(n, -1)
    y[: labeled_per_class * n_classes] = y_true[: labeled_per_class * n_classes]
    return X, y, y_true


def _teaching_data(seed=0):
    """View 1 (column 0) separates the classes everywhere; view 2 (columns 1-2)
    sees one cluster of class-0 rows next to the class-1 labels."""
    rng = np.random.RandomState(seed)

    def block(n, x1, centre):
        return np.column_stack([
            x1 + 0.3 * rng.normal(size=n),
            centre[0] + 0.3 * rng.normal(size=(n,)),
            centre[1] + 0.3 * rng.normal(size=(n,)),
        ])

    X_a0 = block(5, -3.0, (-2.0, 0.0))   # labeled class 0
    X_a1 = block(5, +3.0, (+2.0, 0.0))   # labeled class 1
    X_b0 = block(40, -3.0, (+2.0, 4.0))  # unlabeled class 0, "looks like 1" in view 2
    X_u1 = block(40, +3.0, (+2.0, 0.0))  # unlabeled class 1
    X = np.vstack([X_a0, X_a1, X_b0, X_u1])
    y = np.r_[np.zeros(5), np.ones(5), -np.ones(80)].astype(int)
    b0 = np.arange(10, 50)
    return X, y, b0


# ---------------------------------------------------------------- co-training itself
@pytest.mark.parametrize("require_agreement", [True, False])
def test_view1_teaches_view2(require_agreement):
    X, y, b0 = _teaching_data()
    views = [[0], [1, 2]]
    before = CoTrainingClassifier(LogisticRegression(), views=views, max_iter=0,
                                  random_state=0).fit(X, y)
    # Trained on the given labels only, view 2 takes the b0 rows for class 1.
    assert np.mean(before.estimators_[1].predict(X[b0][:, [1, 2]]) == 1) > 0.9
    assert before.n_iter_ == 0 and (before.transduction_[b0] == -1).all()

    clf = CoTrainingClassifier(LogisticRegression(), views=views, k=4, pool_size=20,
                               max_iter=30, require_agreement=require_agreement,
                               random_state=0).fit(X, y)
    # View 1 labeled them (correctly) for view 2 ...
    assert (clf.labeled_iter_[b0] > 0).all()
    np.testing.assert_array_equal(clf.transduction_[b0], 0)
    # ... and view 2 has learnt that they are class 0.
    assert np.mean(clf.estimators_[1].predict(X[b0][:, [1, 2]]) == 0) > 0.9
    assert clf.termination_condition_ == "all_labeled"
    assert clf.score(X, np.r_[np.zeros(5), np.ones(5), np.zeros(40), np.ones(40)]) == 1


@pytest.mark.parametrize("first, second, expected", [
    (-2.2, 0.85, 0),  # view 1 (class 0, p=0.90) beats view 2 (class 1, p=0.70)
    (-0.85, 2.2, 1),  # view 2 (class 1, p=0.90) beats view 1 (class 0, p=0.70)
])
def test_conflicting_picks_go_to_the_more_confident_view(first, second, expected):
    # Two labeled rows, two unlabeled ones; both views pick row 2, with
    # different labels.
    X = np.array([[-5.0, 5.0], [5.0, -5.0], [first, second], [-0.1, 0.05]])
    y = np.array([0, 1, -1, -1])
    clf = CoTrainingClassifier(ColumnProba(), views=[[0], [1]], k=2, max_iter=1,
                               require_agreement=False, random_state=0).fit(X, y)
    assert clf.transduction_[2] == expected
    assert clf.labeled_iter_.tolist() == [0, 0, 1, -1]
    assert clf.transduction_[3] == -1


def test_predict_proba_is_normalised_product_of_views():
    X, y, _ = _blobs()
    clf = CoTrainingClassifier(views=[[0, 2, 4], [1, 3, 5]], k=3, pool_size=30,
                               max_iter=5, random_state=0).fit(X, y)
    p1 = clf.estimators_[0].predict_proba(X[:, [0, 2, 4]])
    p2 = clf.estimators_[1].predict_proba(X[:, [1, 3, 5]])
    expected = p1 * p2 / (p1 * p2).sum(axis=1, keepdims=True)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(expected), rtol=1e-8)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[expected.argmax(axis=1)])
    assert clf.estimator_ is clf.estimators_[0]
    assert len(clf.estimators_) == 2
    assert not hasattr(clf, "decision_function")


def test_rows_with_no_common_class_use_the_mean():
    # Hard 0/1 probabilities that disagree: the product is zero everywhere.
    X = np.array([[-5.0, 5.0], [5.0, -5.0], [-5.0, 5.0], [5.0, -5.0]])
    y = np.array([0, 1, -1, -1])
    clf = CoTrainingClassifier(KNeighborsClassifier(n_neighbors=1),
                               views=[[0], [1]], max_iter=0).fit(X, y)
    proba = clf.predict_proba(np.array([[-5.0, -5.0], [-5.0, 5.0]]))
    np.testing.assert_allclose(proba, [[0.5, 0.5], [1.0, 0.0]])


def test_agreement_labels_follow_the_combined_prediction():
    X, y, _ = _blobs(n=150, seed=3, labeled_per_class=2)
    views = [[0, 1, 2], [3, 4, 5]]
    round0 = CoTrainingClassifier(views=views, max_iter=0, random_state=0).fit(X, y)
    clf = CoTrainingClassifier(views=views, k=6, pool_size=40, max_iter=1,
                               random_state=0).fit(X, y)
    rows = np.flatnonzero(clf.labeled_iter_ == 1)
    assert rows.size > 0
    # Every row labeled in round 1 got the label the combined round-0 models
    # predict (and the picking view's own).
    np.testing.assert_array_equal(clf.transduction_[rows], round0.predict(X[rows]))


def test_per_round_picks_follow_k_pool_and_prior():
    X, y, _ = _blobs(n=200, n_classes=2, seed=1)
    clf = CoTrainingClassifier(views=[[0, 1, 2], [3, 4, 5]], k=4, pool_size=50,
                               max_iter=5, require_agreement=False,
                               random_state=0).fit(X, y)
    for it in range(1, clf.n_iter_ + 1):
        rows = clf.labeled_iter_ == it
        # k per view per round (2 per class per view, the prior being 1/2).
        assert 4 <= rows.sum() <= 8
        assert np.bincount(clf.transduction_[rows], minlength=2).max() <= 4
    # A pool of one row: at most one row per round.
    clf = CoTrainingClassifier(views=[[0, 1, 2], [3, 4, 5]], k=4, pool_size=1,
                               max_iter=6, require_agreement=False,
                               random_state=0).fit(X, y)
    counts = np.bincount(clf.labeled_iter_[clf.labeled_iter_ > 0])
    assert counts.max() <= 1 and counts.sum() >= 1


def test_labeled_iter_and_transduction_are_consistent():
    X, y, y_true = _blobs(n=150, seed=2)
    clf = CoTrainingClassifier(views=[[0, 1, 2], [3, 4, 5]], k=3, pool_size=20,
                               max_iter=7, random_state=0).fit(X, y)
    given = y != -1
    assert clf.termination_condition_ == "max_iter" and clf.n_iter_ == 7
    np.testing.assert_array_equal(clf.labeled_iter_[given], 0)
    np.testing.assert_array_equal(clf.transduction_[given], y[given])
    unl = ~given
    np.testing.assert_array_equal(clf.transduction_[unl] == -1,
                                  clf.labeled_iter_[unl] == -1)
    new = unl & (clf.labeled_iter_ > 0)
    assert new.sum() > 0
    assert clf.labeled_iter_[new].max() <= clf.n_iter_
    assert set(np.unique(clf.labeled_iter_[unl])) <= set(range(-1, 8)) - {0}
    assert np.mean(clf.transduction_[new] == y_true[new]) > 0.9
    # A later fit runs the same first rounds: more rounds only add labels.
    more = CoTrainingClassifier(views=[[0, 1, 2], [3, 4, 5]], k=3, pool_size=20,
                                max_iter=9, random_state=0).fit(X, y)
    early = clf.labeled_iter_ > 0
    np.testing.assert_array_equal(more.labeled_iter_[early], clf.labeled_iter_[early])
    np.testing.assert_array_equal(more.transduction_[early], clf.transduction_[early])


def test_termination_conditions():
    X, y, _ = _blobs(n=60, seed=0)
    views = [[0, 1, 2], [3, 4, 5]]
    clf = CoTrainingClassifier(views=views, threshold=1.0, random_state=0).fit(X, y)
    assert clf.termination_condition_ == "no_change" and clf.n_iter_ == 1
    np.testing.assert_array_equal(clf.transduction_, y)
    clf = CoTrainingClassifier(views=views, k=30, pool_size=60,
                               require_agreement=False, random_state=0).fit(X, y)
    assert clf.termination_condition_ == "all_labeled"
    assert (clf.transduction_ != -1).all() and clf.n_iter_ < 50
    clf = CoTrainingClassifier(views=views, random_state=0)
    with pytest.warns(UserWarning, match="no unlabeled rows"):
        clf.fit(X, np.arange(60) % 3)
    assert clf.n_iter_ == 0 and clf.termination_condition_ == "all_labeled"


def test_a_small_k_does_not_stop_on_a_class_without_candidates():
    # k=1 with ten classes: each round's one row goes to a random class. When
    # the views predict no pool row of that class, the row goes to a class
    # with candidates instead of ending the fit ('no_change' means that no
    # row of the pool qualified).
    rng = np.random.RandomState(0)
    classes = np.arange(300) % 10
    X = rng.randn(300, 4) + 6 * classes[:, None]
    y = np.full(300, -1)
    y[:10] = classes[:10]
    clf = CoTrainingClassifier(LogisticRegression(), k=1, max_iter=30,
                               random_state=2).fit(X, y)
    assert clf.n_iter_ == 30 and clf.termination_condition_ == "max_iter"
    # Two views, one row each per round (fewer when both pick the same row).
    assert 30 <= int((clf.labeled_iter_ > 0).sum()) <= 60


def test_reproducible_with_random_state():
    X, y, _ = _blobs(n=150, seed=4)
    a = CoTrainingClassifier(k=3, pool_size=20, max_iter=5, random_state=7).fit(X, y)
    b = CoTrainingClassifier(k=3, pool_size=20, max_iter=5, random_state=7).fit(X, y)
    for va, vb in zip(a.views_, b.views_):
        np.testing.assert_array_equal(va, vb)
    np.testing.assert_array_equal(a.transduction_, b.transduction_)
    np.testing.assert_array_equal(a.labeled_iter_, b.labeled_iter_)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))


def test_verbose_prints_one_line_per_round(capsys):
    X, y, _ = _blobs(n=90)
    CoTrainingClassifier(k=3, max_iter=3, verbose=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all("round" in line for line in lines)


# ---------------------------------------------------------------- views
def _fit_views(X, views, y):
    return CoTrainingClassifier(views=views, max_iter=0).fit(X, y).views_


def test_view_forms_resolve_to_the_same_views():
    X, y, _ = _blobs(n=60)
    df = pd.DataFrame(X, columns=list("abcdef"))
    expected = [[0, 1, 2], [3, 4, 5]]
    mask = np.array([True, True, True, False, False, False])
    forms = [
        (X, [[0, 1, 2], [3, 4, 5]]),
        (X, ([2, 0, 1], np.array([5, 4, 3]))),
        (X, [[0, 1, 2], [-3, -2, -1]]),
        (X, [mask, ~mask]),
        (X, [mask.tolist(), (~mask).tolist()]),
        (X, [slice(0, 3), slice(3, None)]),
        (df, [["a", "b", "c"], ["d", "e", "f"]]),
        (df, [["c", "a", "b"], slice(3, 6)]),
        (df, [[0, 1, 2], [3, 4, 5]]),
        (df, [mask, ~mask]),
        (sp.csr_matrix(X), [slice(0, 3), [3, 4, 5]]),
    ]
    for data, views in forms:
        resolved = _fit_views(data, views, y)
        assert [v.tolist() for v in resolved] == expected, views
        assert all(v.dtype.kind == "i" for v in resolved)
    # A single column per view, as an int or a name.
    small = pd.DataFrame(X[:, :2], columns=["left", "right"])
    assert [v.tolist() for v in _fit_views(small, ["left", "right"], y)] == [[0], [1]]
    assert [v.tolist() for v in _fit_views(X[:, :2], [1, 0], y)] == [[1], [0]]


def test_dataframe_numpy_and_sparse_fit_the_same_model():
    X, y, _ = _blobs(n=120, seed=5)
    df = pd.DataFrame(X, columns=[f"c{i}" for i in range(6)])
    views = [["c0", "c2", "c4"], ["c1", "c3", "c5"]]
    kw = dict(k=3, pool_size=30, max_iter=4, random_state=0)
    on_df = CoTrainingClassifier(views=views, **kw).fit(df, y)
    on_np = CoTrainingClassifier(views=[[0, 2, 4], [1, 3, 5]], **kw).fit(X, y)
    on_sp = CoTrainingClassifier(views=[[0, 2, 4], [1, 3, 5]], **kw).fit(
        sp.coo_matrix(X), y)
    np.testing.assert_array_equal(on_df.feature_names_in_, df.columns)
    assert on_df.n_features_in_ == 6
    np.testing.assert_array_equal(on_df.transduction_, on_np.transduction_)
    np.testing.assert_allclose(on_df.predict_proba(df), on_np.predict_proba(X))
    np.testing.assert_allclose(on_sp.predict_proba(sp.csc_matrix(X)),
                               on_np.predict_proba(X), atol=1e-3)
    # The view classifiers see the view's columns, with their names.
    assert list(on_df.estimators_[1].feature_names_in_) == ["c1", "c3", "c5"]


def test_default_views_are_a_balanced_random_partition():
    X = np.random.RandomState(0).normal(size=(40, 11))
    y = np.r_[[0, 1] * 5, [-1] * 30]
    splits = []
    for seed in range(5):
        clf = CoTrainingClassifier(max_iter=0, random_state=seed).fit(X, y)
        a, b = clf.views_
        assert {len(a), len(b)} == {5, 6}
        assert np.intersect1d(a, b).size == 0
        assert sorted(np.r_[a, b].tolist()) == list(range(11))
        again = CoTrainingClassifier(max_iter=0, random_state=seed).fit(X, y)
        np.testing.assert_array_equal(again.views_[0], a)
        splits.append(tuple(a))
    assert len(set(splits)) > 1, "the split does not depend on random_state"
    # Two columns: one each.
    clf = CoTrainingClassifier(max_iter=0, random_state=0).fit(X[:, :2], y)
    assert sorted(len(v) for v in clf.views_) == [1, 1]


class _NoFit(LogisticRegression):
    def fit(self, X, y, sample_weight=None):  # pragma: no cover - must not run
        raise AssertionError("fit was called before the views were checked")


@pytest.mark.parametrize("views, match", [
    ([[0, 1, 2], [2, 3, 4, 5]], r"overlap: column\(s\) \[2\] are in both"),
    ([[0, 1], [3, 4, 5]], r"Column\(s\) \[2\] of X are in no view"),
    ([[0, 1, 2], [3, 4, 5, 9]], r"views\[1\] refers to column\(s\) \[9\] that X does not have"),
    ([[0, 1, 2, 3, 4, 5], []], r"views\[1\] is empty"),
    ([slice(0, 6), slice(6, None)], r"views\[1\] is empty"),
    ([[0, 1, 2]], r"two column selectors, one per view; got 1"),
    ([[0, 1], [2, 3], [4, 5]], r"two column selectors, one per view; got 3"),
    ([["a", "b"], ["c"]], r"needs X to be a DataFrame with string column names"),
    ([[True, False], [False, True]], r"boolean mask of length 2, but X has 6 columns"),
    ([[0, 0, 1, 2], [3, 4, 5]], r"views\[0\] lists column\(s\) \[0\] more than once"),
    ([[0.5, 1.0], [2, 3]], r"views\[0\] must hold integer positions"),
])
def test_bad_views_raise_before_fitting(views, match):
    X, y, _ = _blobs(n=30)
    with pytest.raises(ValueError, match=match):
        CoTrainingClassifier(_NoFit(), views=views).fit(X, y)


def test_bad_view_names_on_dataframes():
    X, y, _ = _blobs(n=30)
    df = pd.DataFrame(X, columns=list("abcdef"))
    with pytest.raises(ValueError, match=r"views\[0\] refers to column\(s\) \['zz'\]"):
        CoTrainingClassifier(_NoFit(), views=[["a", "zz"], ["b", "c", "d", "e", "f"]]
                             ).fit(df, y)
    with pytest.raises(ValueError, match=r"column\(s\) \['c'\] are in both"):
        CoTrainingClassifier(_NoFit(), views=[["a", "b", "c"], ["c", "d", "e", "f"]]
                             ).fit(df, y)
    with pytest.raises(ValueError, match=r"Column\(s\) \['f'\] of X are in no view"):
        CoTrainingClassifier(_NoFit(), views=[["a", "b", "c"], ["d", "e"]]).fit(df, y)


def test_one_feature_without_views_is_a_clear_error():
    X, y, _ = _blobs(n=30)
    with pytest.raises(ValueError, match=r"1 feature\(s\) .* minimum of 2"):
        CoTrainingClassifier(_NoFit()).fit(X[:, :1], y)
    with pytest.raises(ValueError, match="Expected 2D array"):
        CoTrainingClassifier(_NoFit()).fit(X[:, 0], y)


def test_predict_checks_columns():
    X, y, _ = _blobs(n=60)
    clf = CoTrainingClassifier(max_iter=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :5])


# ---------------------------------------------------------------- sample_weight
def test_sample_weight_reaches_both_view_classifiers():
    X, y, _ = _blobs(n=120, seed=6)
    w = np.linspace(0.5, 2.0, X.shape[0])
    clf = CoTrainingClassifier(RecordingLR(), views=[[0, 1], [2, 3, 4, 5]], k=3,
                               pool_size=20, max_iter=4, random_state=0)
    clf.fit(X, y, sample_weight=w)
    rows = clf.transduction_ != -1
    assert rows.sum() > (y != -1).sum()
    for est, width in zip(clf.estimators_, (2, 4)):
        # The final fit: every labeled row, in order, with its own weight.
        np.testing.assert_array_equal(est.seen_weight_, w[rows])
        assert est.seen_n_rows_ == rows.sum() and est.seen_n_columns_ == width
    # Without weights nothing is passed.
    clf.fit(X, y)
    assert clf.estimators_[0].seen_weight_ is None


def test_sample_weight_errors():
    X, y, _ = _blobs(n=60)
    with pytest.raises(ValueError, match="one weight per row"):
        CoTrainingClassifier().fit(X, y, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match=r"estimator2\) does not accept sample_weight"):
        CoTrainingClassifier(LogisticRegression(), KNeighborsClassifier()).fit(
            X, y, sample_weight=np.ones(60))


def test_metadata_routing_to_each_view_classifier():
    X, y, _ = _blobs(n=90, seed=7)
    w = np.arange(1, 91, dtype=float)
    with config_context(enable_metadata_routing=True):
        first = RecordingLR().set_fit_request(sample_weight=True)
        second = RecordingLR().set_fit_request(sample_weight=False)
        clf = CoTrainingClassifier(first, second, k=3, max_iter=2,
                                   random_state=0).fit(X, y, sample_weight=w)
        rows = clf.transduction_ != -1
        np.testing.assert_array_equal(clf.estimators_[0].seen_weight_, w[rows])
        assert clf.estimators_[1].seen_weight_ is None
