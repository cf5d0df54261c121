"""ActiveLearner and the query strategies: behaviour, hand computations, bad input."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_digits, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.semi_supervised import LabelSpreading
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from sklabelfree.active import (
    ActiveLearner,
    CoreSetSampling,
    DecisionBoundarySampling,
    DensityWeightedSampling,
    EpsilonGreedy,
    QueryByCommittee,
    RandomSampling,
    RankedBatchSampling,
    UncertaintySampling,
    make_strategy,
    uncertainty,
)
from sklabelfree.active._strategies import top_n


@pytest.fixture
def iris_partial():
    X, y = load_iris(return_X_y=True)
    y_partial = np.full_like(y, -1)
    rng = np.random.RandomState(0)
    for c in range(3):
        y_partial[rng.choice(np.flatnonzero(y == c), 3, replace=False)] = c
    return X, y, y_partial


# ---------------------------------------------------------------- measures
def test_uncertainty_measures_by_hand():
    P = np.array([[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0]])
    lc = uncertainty(P, "least_confident")
    np.testing.assert_allclose(lc, [(1 - 0.7) * 3 / 2, 1.0, 0.0])
    mg = uncertainty(P, "margin")
    np.testing.assert_allclose(mg, [1 - 0.5, 1.0, 0.0])
    ent = uncertainty(P, "entropy")
    h = -(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1)) / np.log(3)
    np.testing.assert_allclose(ent, [h, 1.0, 0.0])
    # binary margin
    np.testing.assert_allclose(uncertainty(np.array([[0.8, 0.2]]), "margin"), [0.4])


def test_uncertainty_nan_rows_are_most_uncertain():
    P = np.array([[np.nan, np.nan], [0.9, 0.1]])
    for measure in ("least_confident", "margin", "entropy"):
        scores = uncertainty(P, measure)
        assert scores[0] == pytest.approx(1.0)
        assert scores[1] < 1.0


@pytest.mark.parametrize("k", [2, 3, 10])
def test_uncertainty_matches_the_row_formulas(k):
    # The measures are computed column by column (the hot path of a query):
    # checked here against the plain row-wise formulas, zeros and non-finite
    # rows included.
    rng = np.random.RandomState(k)
    P = rng.dirichlet(np.full(k, 0.3), 500)
    P[::7, 0] = 0.0
    P[3] = np.nan
    P[4, 1] = np.inf
    P[5, 0] = -np.inf
    bad = ~np.isfinite(P).all(axis=1)
    Q = np.where(bad[:, None], 1.0 / k, P)
    top = np.sort(Q, axis=1)
    plogp = np.array([sum(p * np.log(p) for p in row if p > 0) for row in Q])
    expected = {
        "least_confident": (1 - top[:, -1]) * k / (k - 1),
        "margin": 1 - (top[:, -1] - top[:, -2]),
        "entropy": -plogp / np.log(k),
    }
    for measure, want in expected.items():
        got = uncertainty(P, measure)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, err_msg=measure)
        np.testing.assert_array_equal(got[bad], 1.0)


def test_uncertainty_bad_measure():
    with pytest.raises(ValueError, match="measure must be one of"):
        uncertainty(np.ones((2, 2)) / 2, "variance")


def test_top_n_best_first_and_ties_at_random():
    scores = np.array([0.1, 0.9, 0.5, 0.9, 0.9, 0.2])
    picks = {tuple(top_n(scores, 2, np.random.RandomState(s))) for s in range(30)}
    assert all(set(p) <= {1, 3, 4} for p in picks)
    assert len(picks) > 1  # ties are broken at random
    np.testing.assert_array_equal(top_n(scores, 4, np.random.RandomState(0))[3:], [2])


# ---------------------------------------------------------------- learner
def test_fit_keeps_pool_and_fits_on_labeled_rows(iris_partial):
    X, _, y_partial = iris_partial
    learner = ActiveLearner(LogisticRegression(), random_state=0).fit(X, y_partial)
    np.testing.assert_array_equal(learner.pool_indices_, np.flatnonzero(y_partial == -1))
    assert learner.X_ is X
    np.testing.assert_array_equal(learner.classes_, [0, 1, 2])
    ref = LogisticRegression().fit(X[y_partial != -1], y_partial[y_partial != -1])
    np.testing.assert_allclose(learner.predict_proba(X), ref.predict_proba(X))
    assert (learner.labeled_iter_ == np.where(y_partial != -1, 0, -1)).all()


class _Spy(ClassifierMixin, BaseEstimator):
    """Records the targets it was fitted on."""

    _sklabelfree_semi_supervised = True

    def fit(self, X, y):
        self.seen_y_ = np.asarray(y).copy()
        labeled = self.seen_y_ != -1
        self.inner_ = LogisticRegression().fit(np.asarray(X)[labeled], self.seen_y_[labeled])
        self.classes_ = self.inner_.classes_
        return self

    def predict_proba(self, X):
        return self.inner_.predict_proba(X)

    def predict(self, X):
        return self.inner_.predict(X)


class _OrderSpy(LogisticRegression):
    """A supervised estimator that records the rows it was fitted on, in order."""

    def fit(self, X, y):
        self.seen_X_ = np.asarray(X).copy()
        return super().fit(X, y)


def test_estimator_is_fitted_on_the_labels_in_the_order_they_arrived(iris_partial):
    # As modAL appends each answer to its training set: fit's labeled rows in
    # row order, then each teach call's answered rows in the order given.
    X, y, y_partial = iris_partial
    start = np.flatnonzero(y_partial != -1)
    learner = ActiveLearner(_OrderSpy(), random_state=0).fit(X, y_partial)
    np.testing.assert_array_equal(learner.label_order_, start)
    np.testing.assert_array_equal(learner.estimator_.seen_X_, X[start])
    pool = learner.pool_indices_
    first = np.array([pool[40], pool[3]])      # not in row order
    learner.teach(None, y[first], pool_indices=first)
    second = np.array([pool[7], pool[90], pool[1]])
    learner.teach(None, [y[pool[7]], -1, y[pool[1]]], pool_indices=second)  # one skip
    extra = X[:2] + 10.0                         # appended rows, the second skipped
    learner.teach(extra, [y[0], -1])
    expected = np.concatenate([start, first, [pool[7], pool[1]], [150]])
    np.testing.assert_array_equal(learner.label_order_, expected)
    assert sorted(learner.label_order_) == np.flatnonzero(learner.y_ != -1).tolist()
    np.testing.assert_array_equal(learner.estimator_.seen_X_,
                                  np.vstack([X, extra])[expected])
    np.testing.assert_array_equal(learner.labeled_X(), np.vstack([X, extra])[expected])


def test_semi_supervised_estimator_sees_every_row(iris_partial):
    X, y, y_partial = iris_partial
    learner = ActiveLearner(_Spy(), random_state=0).fit(X, y_partial)
    assert learner.estimator_.seen_y_.shape == (150,)
    assert (learner.estimator_.seen_y_ == -1).sum() == (y_partial == -1).sum()
    rows = learner.query(n=2)
    learner.teach(None, y[rows], pool_indices=rows)
    assert (learner.estimator_.seen_y_ == -1).sum() == (y_partial == -1).sum() - 2


def test_margin_query_picks_the_row_at_the_boundary():
    X = np.array([[-3.0], [-2.0], [2.0], [3.0], [-6.0], [0.05], [6.0]])
    y = np.array([0, 0, 1, 1, -1, -1, -1])
    for strategy in ("margin", "entropy", "least_confident"):
        learner = ActiveLearner(LogisticRegression(), strategy, random_state=0).fit(X, y)
        assert learner.query().tolist() == [5]
    learner = ActiveLearner(LinearSVC(), "boundary", random_state=0).fit(X, y)
    idx, scores = learner.query(n=3, return_scores=True)
    assert idx[0] == 5 and (np.diff(scores) <= 0).all()


def test_query_external_pool_indices_and_scores(iris_partial):
    X, _, y_partial = iris_partial
    learner = ActiveLearner(random_state=0).fit(X, y_partial)
    pool = X[::-1]
    idx, scores = learner.query(pool, n=4, return_scores=True)
    expected = uncertainty(learner.predict_proba(pool), "margin")
    np.testing.assert_allclose(scores, expected[idx])
    assert scores[0] == pytest.approx(expected.max())


def test_teach_moves_rows_out_of_the_pool(iris_partial):
    X, y, y_partial = iris_partial
    learner = ActiveLearner(random_state=0).fit(X, y_partial)
    rows = learner.query(n=3)
    learner.teach(X[rows], y[rows], pool_indices=rows)
    assert not np.isin(rows, learner.pool_indices_).any()
    np.testing.assert_array_equal(learner.y_[rows], y[rows])
    assert (learner.labeled_iter_[rows] == 1).all() and learner.n_iter_ == 1
    assert not np.isin(learner.query(n=5), rows).any()
    with pytest.raises(ValueError, match="not in the pool"):
        learner.teach(None, y[rows], pool_indices=rows)


def test_teach_skip_leaves_row_unlabeled_and_out_of_pool(iris_partial):
    X, y, y_partial = iris_partial
    learner = ActiveLearner(random_state=0).fit(X, y_partial)
    rows = learner.query(n=2)
    learner.teach(None, [y[rows[0]], -1], pool_indices=rows)
    assert learner.y_[rows[1]] == -1 and rows[1] not in learner.pool_indices_
    assert learner.labeled_iter_[rows[1]] == -1


def test_teach_new_class_grows_classes():
    X, y = load_iris(return_X_y=True)
    y_partial = np.full_like(y, -1)
    y_partial[[0, 1, 50, 51]] = y[[0, 1, 50, 51]]
    learner = ActiveLearner(random_state=0).fit(X, y_partial)
    np.testing.assert_array_equal(learner.classes_, [0, 1])
    learner.teach(None, [2], pool_indices=[120])
    np.testing.assert_array_equal(learner.classes_, [0, 1, 2])
    assert learner.predict_proba(X).shape == (150, 3)


def test_teach_appends_rows_and_unlabeled_rows_join_the_pool(iris_partial):
    X, y, y_partial = iris_partial
    learner = ActiveLearner(random_state=0).fit(X, y_partial)
    n_pool = len(learner.pool_indices_)
    learner.teach(X[:2] + 0.01, [0, -1])
    assert learner.X_.shape == (152, 4)
    assert learner.y_[150] == 0 and learner.y_[151] == -1
    assert len(learner.pool_indices_) == n_pool + 1 and 151 in learner.pool_indices_
    assert X.shape == (150, 4)  # the user's array is untouched


def test_string_labels():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    y_partial = names.copy()
    y_partial[np.r_[5:50, 55:100, 105:150]] = -1
    learner = ActiveLearner(random_state=0).fit(X, y_partial)
    rows = learner.query(n=2)
    learner.teach(None, names[rows], pool_indices=rows)
    assert set(learner.predict(X)) <= {"setosa", "versicolor", "virginica"}


@pytest.mark.parametrize("kind", ["dataframe", "sparse", "torch"])
def test_pools_of_every_kind(kind, iris_partial):
    X, y, y_partial = iris_partial
    if kind == "dataframe":
        pd = pytest.importorskip("pandas")
        Xk = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    elif kind == "sparse":
        Xk = sp.csr_matrix(X)
    else:
        torch = pytest.importorskip("torch")
        Xk = torch.as_tensor(X)
    learner = ActiveLearner(LogisticRegression(), "margin", batch_size=3,
                            random_state=0, chunk_size=16)
    learner.fit(Xk, y_partial)
    rows = learner.query()
    learner.teach(None, y[rows], pool_indices=rows)
    learner.teach(Xk[:1] if kind != "dataframe" else Xk.iloc[:1], [y[0]])
    assert learner.X_.shape[0] == 151
    reference = ActiveLearner(LogisticRegression(), "margin", batch_size=3,
                              random_state=0).fit(X, y_partial)
    np.testing.assert_array_equal(reference.query(), rows)


def test_map_pool_chunks_and_threads_give_the_same_scores():
    X, y = load_digits(return_X_y=True)
    y_partial = np.where(np.arange(len(y)) < 40, y, -1)
    base = ActiveLearner(LogisticRegression(max_iter=300), random_state=0).fit(X / 16, y_partial)
    full = base.map_pool(lambda P: uncertainty(P), X / 16)
    for params in (dict(chunk_size=100), dict(chunk_size=77, n_jobs=2)):
        learner = clone(base).set_params(**params).fit(X / 16, y_partial)
        np.testing.assert_allclose(learner.map_pool(lambda P: uncertainty(P), X / 16), full)


def test_query_bad_input(iris_partial):
    X, y, y_partial = iris_partial
    learner = ActiveLearner(random_state=0).fit(X, y_partial)
    with pytest.raises(ValueError, match="cannot query 200 rows from a pool of 141"):
        learner.query(n=200)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        learner.query(n=0)
    with pytest.raises(ValueError, match="X_pool is empty"):
        learner.query(X[:0])
    full = ActiveLearner(random_state=0)
    with pytest.warns(UserWarning, match="no unlabeled"):
        full.fit(X, y)
    with pytest.raises(ValueError, match="the pool is empty"):
        full.query()
    assert full.query(X[:5], n=2).shape == (2,)
    with pytest.raises(ValueError, match="cannot query 3 rows from a pool of 2"):
        ActiveLearner(batch_size=3).fit(X, y_partial).query(X[:2])


def test_fit_bad_input(iris_partial):
    X, y, y_partial = iris_partial
    with pytest.raises(ValueError, match="Mark unlabeled rows with -1"):
        ActiveLearner().fit(X, np.where(y_partial == -1, np.nan, y_partial))
    with pytest.raises(ValueError, match="every row of y is unlabeled"):
        ActiveLearner().fit(X, np.full(150, -1))
    with pytest.raises(ValueError, match="X has 150 rows but y has 149"):
        ActiveLearner().fit(X, y_partial[:-1])
    learner = ActiveLearner().fit(X, y_partial)
    with pytest.raises(ValueError, match="NaN"):
        learner.teach(X[:1], [np.nan])
    with pytest.raises(ValueError, match="got 2 labels for 1 rows"):
        learner.teach(X[:1], [0, 1])
    with pytest.raises(ValueError, match="unknown query strategy 'smart'"):
        ActiveLearner(query_strategy="smart").fit(X, y_partial)


def test_clone_pickle_and_grid_search(iris_partial):
    X, y, y_partial = iris_partial
    learner = ActiveLearner(LogisticRegression(), DensityWeightedSampling(beta=2.0),
                            random_state=0)
    assert learner.get_params()["query_strategy__beta"] == 2.0
    fitted = clone(learner).fit(X, y_partial)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.query(n=3), fitted.query(n=3))
    search = GridSearchCV(
        learner, {"estimator__C": [0.01, 10.0], "query_strategy__beta": [0.5, 1.0]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["estimator__C"] == 10.0


def test_should_query_threshold_and_budget(iris_partial):
    X, _, y_partial = iris_partial
    learner = ActiveLearner(random_state=0).fit(X, y_partial)
    u = uncertainty(learner.predict_proba(X))
    confident, doubtful = int(u.argmin()), int(u.argmax())
    assert not learner.should_query(X[confident], threshold=0.5)
    assert learner.should_query(X[doubtful], threshold=u[doubtful] - 1e-9)
    assert learner.should_query(X[doubtful : doubtful + 1], threshold=0.0, budget=2)
    assert not learner.should_query(X[doubtful], threshold=0.0, budget=2)
    assert learner.n_stream_queries_ == 2
    with pytest.raises(ValueError, match="threshold must be in"):
        learner.should_query(X[0], threshold=2)
    random = ActiveLearner(query_strategy="random").fit(X, y_partial)
    with pytest.raises(ValueError, match="stream-based sampling needs"):
        random.should_query(X[0])


# ---------------------------------------------------------------- strategies
def test_make_strategy_names():
    for name in ("random", "least_confident", "margin", "entropy", "boundary",
                 "density", "qbc", "ranked_batch", "coreset", "bald"):
        assert make_strategy(name) is not None
    assert make_strategy("margin").measure == "margin"


def test_function_strategy(iris_partial):
    X, _, y_partial = iris_partial
    learner = ActiveLearner(query_strategy=lambda lrn, Xp: np.asarray(Xp)[:, 0],
                            random_state=0).fit(X, y_partial)
    rows = learner.query(n=1)
    pool = learner.pool_indices_
    assert X[rows[0], 0] == X[pool, 0].max()
    bad = ActiveLearner(query_strategy=lambda lrn, Xp: np.zeros(3)).fit(X, y_partial)
    with pytest.raises(ValueError, match="one score per row"):
        bad.query()


def test_density_cosine_matches_brute_force():
    rng = np.random.RandomState(0)
    X = rng.rand(40, 5)
    y = np.full(40, -1)
    y[:4] = [0, 1, 0, 1]
    learner = ActiveLearner(query_strategy=DensityWeightedSampling(), chunk_size=7,
                            random_state=0).fit(X, y)
    strategy = learner.query_strategy_
    pool = X[4:]
    Xn = pool / np.linalg.norm(pool, axis=1, keepdims=True)
    brute = (Xn @ Xn.T).mean(axis=1)
    np.testing.assert_allclose(strategy.density(learner, pool), brute)
    base = uncertainty(learner.predict_proba(pool), "entropy")
    np.testing.assert_allclose(strategy.score(learner, pool), base * brute)


def test_density_weighting_passes_over_an_uncertain_outlier():
    # Two tight clusters on the boundary line; one outlier exactly on it too.
    X = np.array([[0.0, 1.0], [0.0, 1.1], [1.0, 0.0], [1.1, 0.0]]
                 + [[0.5, 0.5]] * 1 + [[0.52, 0.48]] * 15 + [[-5.0, -5.0]])
    y = np.array([0, 0, 1, 1] + [-1] * 17)
    learner = ActiveLearner(LogisticRegression(), "entropy", random_state=0).fit(X, y)
    dens = ActiveLearner(LogisticRegression(),
                         DensityWeightedSampling(base="entropy", similarity="rbf",
                                                 gamma=1.0),
                         random_state=0).fit(X, y)
    u = uncertainty(learner.predict_proba(X), "entropy")
    assert u[20] > 0.99  # the outlier is as uncertain as the dense rows
    assert dens.query().item() != 20


def test_epsilon_greedy_extremes(iris_partial):
    X, _, y_partial = iris_partial
    greedy = ActiveLearner(query_strategy=EpsilonGreedy("margin", 0.0), batch_size=5,
                           random_state=0).fit(X, y_partial)
    plain = ActiveLearner(query_strategy="margin", batch_size=5, random_state=0)
    plain.fit(X, y_partial)
    assert set(greedy.query()) == set(plain.query())
    explorer = ActiveLearner(query_strategy=EpsilonGreedy("margin", 1.0), batch_size=5,
                             random_state=0).fit(X, y_partial)
    picks = explorer.query()
    assert len(set(picks)) == 5 and set(picks) != set(plain.query())


class _Fixed(ClassifierMixin, BaseEstimator):
    """A fitted member with fixed predictions and probabilities."""

    def __init__(self, pred=None, proba=None):
        self.pred = pred
        self.proba = proba
        self.classes_ = np.array([0, 1, 2])

    def predict(self, X):
        return np.asarray(self.pred)

    def predict_proba(self, X):
        return np.asarray(self.proba, dtype=float)


def test_committee_disagreement_by_hand(iris_partial):
    X, _, y_partial = iris_partial
    learner = ActiveLearner(DecisionTreeClassifier(random_state=0),
                            QueryByCommittee(n_members=5), random_state=0).fit(X, y_partial)
    strategy = learner.query_strategy_
    votes = [[0, 1], [0, 1], [1, 1], [1, 1], [2, 1]]
    strategy.members_ = [_Fixed(pred=v) for v in votes]
    scores = strategy.score(learner, X[:2])
    h = -(2 * 0.4 * np.log(0.4) + 0.2 * np.log(0.2)) / np.log(3)
    np.testing.assert_allclose(scores, [h, 0.0])

    p1 = np.array([[0.8, 0.2, 0.0]])
    p2 = np.array([[0.2, 0.6, 0.2]])
    kl = QueryByCommittee(n_members=2, disagreement="kl")
    kl.members_, kl.classes_ = [_Fixed(proba=p1), _Fixed(proba=p2)], np.array([0, 1, 2])
    mean = (p1 + p2) / 2

    def KL(p, q):
        m = p > 0
        return float((p[m] * np.log(p[m] / q[m])).sum())

    # Divided by its maximum log(min(members, classes)) = log 2.
    expected = (KL(p1, mean) + KL(p2, mean)) / 2 / np.log(2)
    np.testing.assert_allclose(kl.score(learner, X[:1]), [expected])
    # Members certain of different classes: the maximum, 1.
    kl.members_ = [_Fixed(proba=[[1.0, 0.0, 0.0]]), _Fixed(proba=[[0.0, 1.0, 0.0]])]
    np.testing.assert_allclose(kl.score(learner, X[:1]), [1.0])


def test_committee_members_overlap_and_know_every_class(iris_partial):
    X, _, y_partial = iris_partial
    learner = ActiveLearner(DecisionTreeClassifier(random_state=0),
                            QueryByCommittee(n_members=4, n_jobs=2),
                            random_state=0).fit(X, y_partial)
    members = learner.query_strategy_.members_
    assert len(members) == 4
    for m in members:
        np.testing.assert_array_equal(m.classes_, [0, 1, 2])
    preds = {tuple(m.predict(X)) for m in members}
    assert len(preds) > 1  # bootstrap resamples give different members


def test_ranked_batch_and_coreset_avoid_redundant_picks():
    # Three groups of identical, equally uncertain rows on the boundary.
    rng = np.random.RandomState(0)
    centers = np.array([[0.0, 5.0], [0.0, 0.0], [0.0, -5.0]])
    pool = np.repeat(centers, 10, axis=0) + 1e-6 * rng.randn(30, 2)
    X = np.vstack([[[-3.0, 0.0], [3.0, 0.0]], pool])
    y = np.r_[[0, 1], np.full(30, -1)]
    group = lambda rows: set(((np.asarray(rows) - 2) // 10).tolist())  # noqa: E731
    margin = ActiveLearner(LogisticRegression(), "margin", batch_size=3, random_state=0)
    assert len(group(margin.fit(X, y).query())) < 3  # plain top-n repeats itself
    for strategy in (RankedBatchSampling(), CoreSetSampling()):
        learner = ActiveLearner(LogisticRegression(), strategy, batch_size=3,
                                random_state=0).fit(X, y)
        assert group(learner.query()) == {0, 1, 2}


def test_coreset_matches_greedy_k_center():
    rng = np.random.RandomState(1)
    X = rng.randn(60, 3)
    y = np.full(60, -1)
    y[:2] = [0, 1]
    learner = ActiveLearner(LogisticRegression(), CoreSetSampling(), batch_size=6,
                            random_state=0, chunk_size=9).fit(X, y)
    picked = learner.query()
    centers = [X[0], X[1]]
    expected = []
    for _ in range(6):
        d = np.min([np.linalg.norm(X - c, axis=1) for c in centers], axis=0)
        d[:2] = -1
        d[expected] = -1
        i = int(d.argmax())
        expected.append(i)
        centers.append(X[i])
    assert picked.tolist() == expected


def test_random_sampling_is_seeded(iris_partial):
    X, _, y_partial = iris_partial
    a = ActiveLearner(query_strategy=RandomSampling(), batch_size=5, random_state=3)
    b = clone(a)
    np.testing.assert_array_equal(a.fit(X, y_partial).query(), b.fit(X, y_partial).query())


def test_active_over_label_spreading(iris_partial):
    X, y, y_partial = iris_partial
    learner = ActiveLearner(LabelSpreading(kernel="knn", n_neighbors=7),
                            UncertaintySampling("margin"), batch_size=5,
                            random_state=0).fit(X, y_partial)
    for _ in range(3):
        rows = learner.query()
        learner.teach(None, y[rows], pool_indices=rows)
    assert learner.score(X, y) > 0.9


def test_bald_mc_dropout():
    pytest.importorskip("torch")
    from sklabelfree.active import BALD
    from sklabelfree.semi_supervised import SupervisedNetClassifier

    rng = np.random.RandomState(0)
    X = rng.randn(80, 4).astype("float32")
    y = (X[:, 0] > 0).astype(int)
    y_partial = np.full(80, -1)
    y_partial[:12] = y[:12]
    net = SupervisedNetClassifier(max_epochs=5, module__dropout=0.5, ema_decay=None,
                                  random_state=0)
    learner = ActiveLearner(net, BALD(n_samples=8), random_state=0).fit(X, y_partial)
    before = learner.predict_proba(X)
    idx, scores = learner.query(n=5, return_scores=True)
    assert ((scores >= 0) & (scores <= 1)).all() and scores[0] > 0
    # Dropout is off again afterwards: predictions are deterministic and unchanged.
    np.testing.assert_allclose(learner.predict_proba(X), before, rtol=1e-6)
    # Same seed, same scores.
    again = ActiveLearner(net, BALD(n_samples=8), random_state=0).fit(X, y_partial)
    np.testing.assert_allclose(again.query(n=5, return_scores=True)[1], scores, rtol=1e-5)

    plain = ActiveLearner(
        SupervisedNetClassifier(max_epochs=1, module__dropout=0.0, random_state=0),
        "bald", random_state=0).fit(X, y_partial)
    with pytest.raises(ValueError, match="BALD needs dropout layers"):
        plain.query()
    with pytest.raises(TypeError, match="BALD needs a skorch net"):
        ActiveLearner(LogisticRegression(), "bald").fit(X, y_partial).query()


def test_boundary_needs_decision_function(iris_partial):
    X, _, y_partial = iris_partial

    class NoDecision(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.classes_ = np.unique(y)
            return self

        def predict(self, X):
            return np.full(len(X), self.classes_[0])

    learner = ActiveLearner(NoDecision(), DecisionBoundarySampling()).fit(X, y_partial)
    with pytest.raises(TypeError, match="needs an estimator with decision_function"):
        learner.query()


# ---------------------------------------------------------------- robustness
@pytest.mark.parametrize("dtype", [np.float64, np.uint8, bool])
def test_teach_keeps_numeric_labels_numeric(dtype, iris_partial):
    # Answers of another numeric dtype than y (float targets, uint8 labels
    # as image sets ship them) are promoted, never mixed into an object
    # array that the estimator refuses.
    X, y, _ = iris_partial
    keep = y < 2
    X, y = X[keep], y[keep]
    y_fit = y.astype(dtype)
    learner = ActiveLearner(LogisticRegression(), random_state=0)
    if dtype is bool:
        start = np.r_[0:5, 50:55]
        learner.fit(X[start], y_fit[start])            # an all-labeled start
        learner.teach(X[60:62], y[60:62].astype(int))  # answered as ints
        assert learner.y_.dtype.kind in "iu"
    else:
        partial = y.astype(np.int64)
        partial[10:50] = -1
        learner.fit(X, partial.astype(np.float64) if dtype is np.float64 else partial)
        rows = learner.query(n=2)
        learner.teach(None, y[rows].astype(dtype), pool_indices=rows)
        assert learner.y_.dtype.kind in "if"
    assert set(learner.classes_.tolist()) == {0, 1}


def test_simulate_with_uint8_and_float_labels():
    from sklabelfree.active import simulate_active_learning

    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    scores = []
    for labels in (y, y.astype(np.uint8), y.astype(np.float64)):
        curve = simulate_active_learning(
            ActiveLearner(LogisticRegression(max_iter=200), random_state=0),
            X[:200], labels[:200], X[200:], labels[200:], budget=25, n_initial=20,
            random_state=0)
        scores.append(curve.scores)
    np.testing.assert_allclose(scores[1], scores[0])
    np.testing.assert_allclose(scores[2], scores[0])


def test_boolean_labels_stay_booleans(iris_partial):
    # An object target of booleans and -1 (what make_partially_labeled gives
    # for a boolean y): a bool is an Integral, and the labels became 0 / 1.
    X, y, y_partial = iris_partial
    y_bool = np.array([-1 if v == -1 else bool(v == 2) for v in y_partial], dtype=object)
    learner = ActiveLearner(LogisticRegression(max_iter=300), random_state=0).fit(X, y_bool)
    np.testing.assert_array_equal(learner.classes_, [False, True])
    assert learner.classes_.dtype == bool and learner.predict(X[:3]).dtype == bool
    rows = learner.query(n=2)
    learner.teach(None, [bool(v == 2) for v in y[rows]], pool_indices=rows)
    assert learner.classes_.dtype == bool


def test_failed_teach_leaves_the_learner_as_it_was(iris_partial):
    X, y, y_partial = iris_partial
    learner = ActiveLearner(LogisticRegression(max_iter=300), random_state=0)
    learner.fit(X, y_partial)
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v)
              for k, v in vars(learner).items()}
    rows = learner.query(n=1)
    with pytest.raises(ValueError, match="mixes label types"):
        learner.teach(None, ["cat"], pool_indices=rows)
    with pytest.raises(ValueError, match="NaN"):
        learner.teach(np.full((1, 4), np.nan), [1])   # the refit itself fails
    for key in ("X_", "y_", "pool_indices_", "labeled_iter_", "label_order_"):
        np.testing.assert_array_equal(getattr(learner, key), before[key])
    assert learner.n_iter_ == 0 and learner.estimator_ is before["estimator_"]
    learner.teach(None, y[rows], pool_indices=rows)   # still usable
    assert learner.n_iter_ == 1 and rows[0] not in learner.pool_indices_


def test_skip_next_to_string_labels_and_the_string_minus_one(iris_partial):
    X, y, y_partial = iris_partial
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)
    y_str = np.where(y_partial == -1, -1, names[np.maximum(y_partial, 0)]).astype(object)
    learner = ActiveLearner(LogisticRegression(max_iter=300), batch_size=2,
                            random_state=0).fit(X, y_str)
    rows = learner.query()
    learner.teach(None, [names[y[rows[0]]], -1], pool_indices=rows)   # a list
    assert learner.classes_.tolist() == names.tolist()
    assert learner.y_[rows[1]] == -1
    with pytest.raises(ValueError, match="the string '-1'"):
        learner.teach(X[:1], np.array(["-1"]))


def test_nan_scores_rank_last_and_a_query_returns_n_rows(iris_partial):
    X, _, y_partial = iris_partial
    rs = np.random.RandomState(0)
    assert top_n(np.array([0.5, np.nan, 0.2, 0.9, np.nan]), 2, rs).tolist() == [3, 0]
    assert np.unique(top_n(np.array([np.nan, np.nan, np.nan]), 2, rs)).shape == (2,)

    def no_answer(learner, X):
        return np.full(len(X), np.nan)

    for strategy in (no_answer, RankedBatchSampling(no_answer), EpsilonGreedy(no_answer, 0.5)):
        learner = ActiveLearner(LogisticRegression(max_iter=300), strategy, batch_size=3,
                                random_state=0).fit(X, y_partial)
        assert np.unique(learner.query()).shape == (3,)

    class Short(RandomSampling):
        def select(self, learner, X, n, random_state):
            return np.array([0]), np.array([1.0])

    learner = ActiveLearner(query_strategy=Short(), batch_size=2).fit(X, y_partial)
    with pytest.raises(RuntimeError, match="returned 1 distinct rows of the 2"):
        learner.query()


def test_stream_row_is_taught_as_given(iris_partial):
    import pandas as pd

    X, y, y_partial = iris_partial
    learner = ActiveLearner(LogisticRegression(max_iter=300), random_state=0)
    learner.fit(X, y_partial)
    assert learner.should_query(X[70], threshold=0.0)
    learner.teach(X[70], y[70])                          # a 1-D row
    assert learner.X_.shape == (151, 4) and learner.y_[-1] == y[70]

    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    framed = ActiveLearner(LogisticRegression(max_iter=300), random_state=0)
    framed.fit(df, y_partial)
    assert framed.should_query(df.iloc[70], threshold=0.0)   # a Series
    framed.teach(df.iloc[70], y[70])
    assert isinstance(framed.X_, pd.DataFrame) and framed.X_.shape == (151, 4)
    np.testing.assert_allclose(framed.predict_proba(df.iloc[:5]),
                               learner.predict_proba(X[:5]))


def test_a_stream_row_of_a_list_pool(iris_partial):
    # A pool given as a list of rows: one row (a list) lacks the batch axis,
    # as a 1-D array row does; a list pool of texts keeps its strings.
    X, y, y_partial = iris_partial
    learner = ActiveLearner(LogisticRegression(max_iter=300), random_state=0)
    learner.fit(X.tolist(), y_partial)
    assert learner.should_query(X[70].tolist(), threshold=0.0)
    learner.teach(X[70].tolist(), [y[70]])
    assert len(learner.X_) == 151 and learner.y_[-1] == y[70]
    learner.teach(X[71:73].tolist(), y[71:73])            # a batch stays a batch
    assert len(learner.X_) == 153


def test_epsilon_greedy_scores_are_those_of_the_base(iris_partial):
    X, _, y_partial = iris_partial
    base = DensityWeightedSampling(base="margin")
    plain = ActiveLearner(query_strategy=base, batch_size=4, random_state=0)
    _, plain_scores = plain.fit(X, y_partial).query(return_scores=True)
    greedy = ActiveLearner(query_strategy=EpsilonGreedy(base, 0.0), batch_size=4,
                           random_state=0)
    _, greedy_scores = greedy.fit(X, y_partial).query(return_scores=True)
    np.testing.assert_allclose(greedy_scores, plain_scores)
    # Explored rows are scored against the whole pool as well.
    explorer = ActiveLearner(query_strategy=EpsilonGreedy(base, 1.0), batch_size=4,
                             random_state=0).fit(X, y_partial)
    idx, scores = explorer.query(return_scores=True)
    pool = explorer.pool_indices_
    pool_scores = base.score(explorer, X[pool])
    np.testing.assert_allclose(scores, pool_scores[np.searchsorted(pool, idx)])


def test_seeded_committee_is_reproducible(iris_partial):
    from sklearn.ensemble import RandomForestClassifier

    X, _, y_partial = iris_partial
    picks = [
        ActiveLearner(RandomForestClassifier(n_estimators=3, max_depth=2), "qbc",
                      batch_size=3, random_state=0).fit(X, y_partial).query().tolist()
        for _ in range(3)
    ]
    assert picks[0] == picks[1] == picks[2]


def test_clear_errors_for_strategies_the_estimator_cannot_serve(iris_partial):
    from sklabelfree.active import MaxUncertaintyStopping

    X, _, y_partial = iris_partial
    with pytest.raises(ValueError, match="predict_proba, which LinearSVC does not have"):
        ActiveLearner(LinearSVC(), "margin").fit(X, y_partial).query()
    with pytest.raises(ValueError, match="needs members with predict_proba"):
        ActiveLearner(LinearSVC(), QueryByCommittee(disagreement="kl")).fit(X, y_partial)
    with pytest.raises(TypeError, match=r"pass UncertaintySampling\(\) instead"):
        ActiveLearner(query_strategy=UncertaintySampling).fit(X, y_partial)
    learner = ActiveLearner(LogisticRegression(max_iter=300)).fit(X, y_partial)
    with pytest.raises(ValueError, match="pool_indices is empty"):
        learner.teach(None, [], pool_indices=[])
    dense = ActiveLearner(LogisticRegression(max_iter=300), DensityWeightedSampling())
    with pytest.raises(ValueError, match="for a single row"):
        dense.fit(X, y_partial).should_query(X[0])
    with pytest.raises(ValueError, match="MaxUncertaintyStopping measures uncertainty"):
        MaxUncertaintyStopping().should_stop(
            ActiveLearner(LinearSVC(), "boundary").fit(X, y_partial))


def test_coreset_on_text_asks_for_a_transform():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    docs = ["red apple", "green apple", "blue sky", "grey sky", "red sky", "apple pie"]
    y = np.array([0, 0, 1, 1, -1, -1])
    model = make_pipeline(TfidfVectorizer(), LogisticRegression())
    learner = ActiveLearner(model, CoreSetSampling()).fit(docs, y)
    with pytest.raises(ValueError, match="give transform="):
        learner.query()
    vectorizer = TfidfVectorizer().fit(docs)
    learner = ActiveLearner(model, CoreSetSampling(transform=lambda D: vectorizer.transform(D)
                                                   .toarray())).fit(docs, y)
    assert learner.query().shape == (1,)


def test_ranked_batch_follows_cardoso_et_al():
    # Labeled rows at 0 and 100; pool rows 50 (u=0), 1 (u=0.1), 99 (u=0.05).
    # alpha = 3/5 for the first pick: the far row 50 wins (0.588 against
    # 0.6 * 0.5 + 0.4 * 0.1 = 0.34 for row 1), then alpha = 2/5 and 1/5.
    X = np.array([[0.0], [100.0], [50.0], [1.0], [99.0]])
    y = np.array([0, 1, -1, -1, -1])
    u = {50.0: 0.0, 1.0: 0.1, 99.0: 0.05}

    def uncertainty_of(learner, P):
        return np.array([u[float(r[0])] for r in np.asarray(P)])

    learner = ActiveLearner(LogisticRegression(), RankedBatchSampling(uncertainty_of),
                            batch_size=3, random_state=0).fit(X, y)
    idx, scores = learner.query(return_scores=True)
    assert idx.tolist() == [2, 3, 4]
    np.testing.assert_allclose(scores, [0.0, 0.1, 0.05])   # the raw uncertainties
