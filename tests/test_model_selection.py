"""Splitters and scorers that work with unlabeled rows (scikit-learn #2593)."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklabelfree.datasets import digits_benchmark_split
from sklabelfree.semi_supervised import PseudoLabelClassifier
from sklabelfree.utils.model_selection import (
    SemiSupervisedKFold,
    SemiSupervisedStratifiedKFold,
    make_labeled_scorer,
)


@pytest.mark.parametrize("cv_cls", [SemiSupervisedKFold, SemiSupervisedStratifiedKFold])
def test_every_unlabeled_row_in_every_training_fold(cv_cls):
    rng = np.random.RandomState(0)
    y = rng.randint(0, 3, size=60)
    y[rng.rand(60) < 0.6] = -1
    unlabeled = set(np.flatnonzero(y == -1))
    cv = cv_cls(4, shuffle=True, random_state=0)
    tests = []
    for train, test in cv.split(np.zeros((60, 2)), y):
        assert unlabeled <= set(train)
        assert not set(test) & set(train)
        assert (y[test] != -1).all()
        tests.append(test)
    # The test folds partition the labeled rows.
    np.testing.assert_array_equal(np.sort(np.concatenate(tests)), np.flatnonzero(y != -1))
    assert cv.get_n_splits() == 4


def test_stratified_folds_keep_class_proportions():
    y = np.array([0] * 30 + [1] * 15 + [-1] * 40)
    for _, test in SemiSupervisedStratifiedKFold(3).split(None, y):
        assert np.bincount(y[test]).tolist() == [10, 5]


def test_splitter_errors():
    with pytest.raises(ValueError, match="only 2 rows are labeled"):
        list(SemiSupervisedKFold(3).split(np.zeros((5, 1)), [0, 1, -1, -1, -1]))
    with pytest.raises(ValueError, match="needs y"):
        list(SemiSupervisedKFold(2).split(np.zeros((5, 1)), None))
    with pytest.raises(ValueError, match="n_splits must be an int of at least 2"):
        SemiSupervisedKFold(1)
    with pytest.raises(ValueError, match="no effect since shuffle is False"):
        SemiSupervisedKFold(3, random_state=0)
    with pytest.raises(ValueError, match="X has 4 rows but y has 5"):
        list(SemiSupervisedKFold(2).split(np.zeros((4, 1)), [0, 1, 0, 1, -1]))


def test_labeled_scorer_ignores_unlabeled_rows():
    X = np.array([[0.0], [1.0], [0.1], [0.9], [0.2]])
    clf = LogisticRegression().fit(X[:4], [0, 1, 0, 1])
    y = np.array([0, 1, -1, -1, 1])  # the last label is wrong on purpose
    scorer = make_labeled_scorer("accuracy")
    assert scorer(clf, X, y) == pytest.approx(2 / 3)
    weights = np.array([1.0, 1.0, 5.0, 5.0, 2.0])
    assert scorer(clf, X, y, sample_weight=weights) == pytest.approx(2 / 4)
    with pytest.raises(ValueError, match="every row of y is unlabeled"):
        scorer(clf, X, np.full(5, -1))
    with pytest.raises(ValueError, match="needs scoring"):
        make_labeled_scorer()


def test_semi_supervised_score_ignores_unlabeled_rows():
    X, y, X_test, y_test, _ = digits_benchmark_split(20, random_state=0)
    clf = PseudoLabelClassifier(max_iter=2, random_state=0).fit(X, y)
    y_mixed = y_test.copy()
    y_mixed[::2] = -1
    expected = np.mean(clf.predict(X_test[1::2]) == y_test[1::2])
    assert clf.score(X_test, y_mixed) == pytest.approx(expected)


def test_grid_search_in_pipeline_selects_on_labeled_accuracy():
    X, y, _, _, _ = digits_benchmark_split(50, random_state=0)
    pipe = Pipeline([
        ("scale", StandardScaler()),
        ("clf", PseudoLabelClassifier(LogisticRegression(max_iter=200), max_iter=3,
                                      random_state=0)),
    ])
    cv = SemiSupervisedStratifiedKFold(3)
    search = GridSearchCV(pipe, {"clf__estimator__C": [1e-4, 1.0]}, cv=cv)
    search.fit(X, y)
    # A C so small that the model is near constant cannot win on labeled accuracy.
    assert search.best_params_ == {"clf__estimator__C": 1.0}
    assert 0.5 < search.best_score_ <= 1.0
    # The scores are computed on labeled rows only: recompute one fold by hand.
    train, test = next(cv.split(X, y))
    model = pipe.set_params(clf__estimator__C=1.0).fit(X[train], y[train])
    assert search.cv_results_["split0_test_score"][1] == pytest.approx(
        np.mean(model.predict(X[test]) == y[test]))


def test_plain_kfold_with_labeled_scorer():
    X, y, _, _, _ = digits_benchmark_split(50, random_state=0)
    scores = cross_val_score(PseudoLabelClassifier(max_iter=2, random_state=0), X, y,
                             cv=KFold(3, shuffle=True, random_state=0),
                             scoring=make_labeled_scorer("accuracy"))
    assert scores.shape == (3,) and (scores > 0.5).all()


def test_a_list_of_strings_keeps_its_minus_one():
    y = ["a", "b", -1, "a", "b", -1, "a", "b"]
    for cv in (SemiSupervisedKFold(2), SemiSupervisedStratifiedKFold(2)):
        for train, test in cv.split(np.zeros((8, 1)), y):
            assert {2, 5} <= set(train.tolist()) and not {2, 5} & set(test.tolist())
    X = np.array([[0.0], [1.0], [0.1], [0.2], [0.9], [0.5], [0.0], [1.0]])
    clf = LogisticRegression().fit(X[[0, 1, 3, 4]], ["a", "b", "a", "b"])
    scorer = make_labeled_scorer("accuracy")
    assert scorer(clf, X, y) == scorer(clf, X, np.array(y, dtype=object)) == 1.0


def test_all_estimators_filters():
    from sklabelfree.utils.discovery import all_estimators

    names = [name for name, _ in all_estimators("classifier")]
    assert {"ActiveLearner", "PseudoLabelClassifier", "PrototypeClassifier",
            "FixMatchClassifier", "ZeroShotClassifier"} <= set(names)
    assert "SimCLREncoder" not in names and "CORAL" not in names
    assert all_estimators("regressor") == [
        (n, c) for n, c in all_estimators() if getattr(c, "_estimator_type", None) == "regressor"]


def test_object_targets_of_numbers_and_a_float_minus_one():
    # make_partially_labeled gives an object array of booleans and -1 for a
    # boolean y, and pandas an object Series of floats: the splitters and the
    # labeled scorer read them as check_partially_labeled does (scikit-learn
    # calls an object array of numbers 'unknown'), and -1.0 is unlabeled.
    from sklabelfree.utils import labeled_mask

    y_bool = np.array([True, False] * 6 + [-1] * 4, dtype=object)
    folds = list(SemiSupervisedStratifiedKFold(3).split(None, y_bool))
    assert len(folds) == 3 and all((y_bool[test] != -1).all() for _, test in folds)
    y_float = np.array([0.0, 1.0] * 4 + [-1.0, -1.0], dtype=object)
    np.testing.assert_array_equal(labeled_mask(y_float), [True] * 8 + [False] * 2)
    tested = np.concatenate([test for _, test in SemiSupervisedKFold(2).split(None, y_float)])
    assert sorted(tested.tolist()) == list(range(8))
    X = np.arange(len(y_bool), dtype=float).reshape(-1, 1)
    clf = LogisticRegression().fit(X[:12], y_bool[:12].astype(bool))
    assert 0 <= make_labeled_scorer("accuracy")(clf, X, y_bool) <= 1


def test_splitters_refuse_a_2d_target():
    y = np.array([[0, 1], [1, -1], [0, 0], [1, 1], [-1, -1]])
    with pytest.raises(ValueError, match=r"needs a 1-D y .* shape \(5, 2\)"):
        list(SemiSupervisedKFold(2).split(None, y))
    # A column vector is one label per row.
    assert len(list(SemiSupervisedKFold(2).split(None, y[:, :1]))) == 2
