"""Behaviour of PseudoLabelClassifier: selection, balancing, re-labeling, routing."""

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from sklearn.utils._param_validation import InvalidParameterError

from sklabelfree.datasets import digits_benchmark_split
from sklabelfree.semi_supervised import PseudoLabelClassifier
from sklabelfree.semi_supervised._selection import class_quotas, sharpen


class ScriptedClassifier(ClassifierMixin, BaseEstimator):
    """Predicts from a script: the n-th fit returns the n-th probability table.

    ``script[i]`` maps a row's first feature (its id) to its probabilities.
    The fit counter survives refits of the same instance, as in self-training.
    """

    def __init__(self, script=None):
        self.script = script

    def fit(self, X, y, sample_weight=None):
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        self.classes_ = np.unique(y)
        self.seen_ = (np.asarray(X)[:, 0].copy(), np.asarray(y).copy(),
                      None if sample_weight is None else np.asarray(sample_weight))
        self.history_ = getattr(self, "history_", []) + [self.seen_]
        return self

    def predict_proba(self, X):
        table = self.script[min(self.n_fits_, len(self.script)) - 1]
        return np.array([table[int(row_id)] for row_id in np.asarray(X)[:, 0]])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _ids(n):
    return np.arange(n, dtype=float).reshape(-1, 1)


def test_sharpen_matches_formula():
    p = np.array([[0.5, 0.3, 0.2]])
    T = 0.5
    expected = p ** (1 / T) / (p ** (1 / T)).sum()
    np.testing.assert_allclose(sharpen(p, T), expected)
    np.testing.assert_allclose(sharpen(p, None), p)
    # Very small temperatures stay finite and become one-hot.
    np.testing.assert_allclose(sharpen(p, 1e-4), [[1.0, 0.0, 0.0]])


def test_class_quotas_sum_and_proportions():
    q = class_quotas(10, [0.5, 0.25, 0.25])
    assert q.sum() == 10 and q[0] == 5
    assert class_quotas(7, [1 / 3] * 3).sum() == 7


def test_pseudo_label_flips_when_the_model_changes_its_mind():
    # Rows 0, 1 labeled; rows 2, 3 unlabeled. After the first fit row 2 looks like
    # class 0; after the second fit the model is sure it is class 1.
    first = {0: [1.0, 0.0], 1: [0.0, 1.0], 2: [0.9, 0.1], 3: [0.2, 0.8]}
    second = {0: [1.0, 0.0], 1: [0.0, 1.0], 2: [0.05, 0.95], 3: [0.2, 0.8]}
    clf = PseudoLabelClassifier(ScriptedClassifier([first, second]), criterion="k_best",
                                k_best=2, class_balance=False, max_iter=5)
    clf.fit(_ids(4), np.array([0, 1, -1, -1]))
    np.testing.assert_array_equal(clf.transduction_, [0, 1, 1, 1])
    # Row 2 got its label 0 in round 1, then 1 in round 2; row 3 kept round 1's.
    np.testing.assert_array_equal(clf.labeled_iter_, [0, 0, 2, 1])
    assert clf.termination_condition_ == "all_labeled"
    assert clf.n_iter_ == 3
    np.testing.assert_allclose(clf.label_distributions_[2], [0.05, 0.95])


def test_threshold_criterion_drops_rows_that_fall_below():
    first = {0: [1, 0], 1: [0, 1], 2: [0.9, 0.1], 3: [0.6, 0.4]}
    second = {0: [1, 0], 1: [0, 1], 2: [0.55, 0.45], 3: [0.6, 0.4]}
    clf = PseudoLabelClassifier(ScriptedClassifier([first, second]),
                                criterion="threshold", threshold=0.8,
                                class_balance=False, max_iter=4)
    clf.fit(_ids(4), np.array([0, 1, -1, -1]))
    # Round 1 labels row 2; round 2 the model is unsure again and drops it.
    np.testing.assert_array_equal(clf.transduction_, [0, 1, -1, -1])
    np.testing.assert_array_equal(clf.labeled_iter_, [0, 0, -1, -1])
    assert clf.termination_condition_ == "no_change"
    # The last fit used the labeled rows only.
    ids, labels, _ = clf.estimator_.seen_
    np.testing.assert_array_equal(ids, [0, 1])


def test_class_balance_keeps_labeled_proportions():
    # Ten unlabeled rows all lean to class 0; labeled prior is 50/50.
    table = {0: [1, 0], 1: [0, 1]}
    table.update({i: [0.9 - 0.01 * i, 0.1 + 0.01 * i] for i in range(2, 12)})
    table.update({i: [0.4, 0.6] for i in range(12, 14)})
    y = np.array([0, 1] + [-1] * 12)
    balanced = PseudoLabelClassifier(ScriptedClassifier([table]), k_best=4,
                                     max_iter=1).fit(_ids(14), y)
    pseudo = balanced.transduction_[2:]
    assert (pseudo == 0).sum() == 2 and (pseudo == 1).sum() == 2
    # Class 0 picks are the two most confident ones (rows 2 and 3).
    np.testing.assert_array_equal(np.flatnonzero(balanced.transduction_ == 0), [0, 2, 3])
    unbalanced = PseudoLabelClassifier(ScriptedClassifier([table]), k_best=4,
                                       class_balance=False, max_iter=1).fit(_ids(14), y)
    assert (unbalanced.transduction_[2:] == 0).sum() == 4


def test_k_best_fraction_grows_per_round():
    X, y, _, _, _ = digits_benchmark_split(20, random_state=0)
    clf = PseudoLabelClassifier(k_best=0.1, max_iter=3, random_state=0).fit(X, y)
    n_unlabeled = (y == -1).sum()
    per_round = round(0.1 * n_unlabeled)
    assert (clf.transduction_ != -1).sum() == 20 + 3 * per_round
    assert clf.labeled_iter_.max() <= 3
    assert set(np.unique(clf.labeled_iter_)) <= {-1, 0, 1, 2, 3}
    # Class balance: the pseudo labels follow the uniform labeled prior.
    counts = np.bincount(clf.transduction_[(y == -1) & (clf.transduction_ != -1)])
    assert counts.max() - counts.min() <= 1


def test_soft_labels_are_probability_weighted_copies():
    table = {0: [1, 0, 0], 1: [0, 1, 0], 2: [0, 0, 1],
             3: [0.7, 0.2, 0.1], 4: [0.1, 0.1, 0.8]}
    clf = PseudoLabelClassifier(ScriptedClassifier([table]), soft=True, k_best=2,
                                class_balance=False, max_iter=1)
    clf.fit(_ids(5), np.array([0, 1, 2, -1, -1]))
    ids, labels, weights = clf.estimator_.seen_
    for row, dist in ((3, table[3]), (4, table[4])):
        sel = ids == row
        assert sel.sum() == 3
        np.testing.assert_allclose(np.sort(weights[sel]), np.sort(dist))
        np.testing.assert_allclose(weights[sel][np.argsort(labels[sel])], dist)
    np.testing.assert_allclose(weights[ids < 3], 1.0)


def test_sample_weight_reaches_the_estimator_with_the_right_rows():
    table = {0: [1, 0], 1: [0, 1], 2: [0.9, 0.1], 3: [0.5, 0.5]}
    w = np.array([1.0, 2.0, 3.0, 4.0])
    clf = PseudoLabelClassifier(ScriptedClassifier([table]), k_best=1,
                                class_balance=False, max_iter=1)
    clf.fit(_ids(4), np.array([0, 1, -1, -1]), sample_weight=w)
    ids, _, weights = clf.estimator_.seen_
    np.testing.assert_array_equal(weights, w[ids.astype(int)])
    assert set(ids.astype(int)) == {0, 1, 2}
    with pytest.raises(ValueError, match=r"expected \(4,\)"):
        clf.fit(_ids(4), np.array([0, 1, -1, -1]), sample_weight=w[:3])


def test_sample_weight_with_metadata_routing():
    X, y, _, _, _ = digits_benchmark_split(20, random_state=0)
    w = np.ones(y.shape[0])
    with sklearn.config_context(enable_metadata_routing=True):
        inner = LogisticRegression().set_fit_request(sample_weight=True)
        clf = PseudoLabelClassifier(inner, max_iter=2, random_state=0)
        clf.fit(X, y, sample_weight=w)
        routed = PseudoLabelClassifier(LogisticRegression().set_fit_request(
            sample_weight=True), max_iter=2, random_state=0)
        routed.fit(X, y, sample_weight=w * 3)
    plain = PseudoLabelClassifier(max_iter=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.transduction_, plain.transduction_)
    assert routed.score(X, y) > 0.5


def test_sklearn_self_training_fails_on_sample_weight_but_we_do_not():
    from sklearn.semi_supervised import SelfTrainingClassifier

    X, y, _, _, _ = digits_benchmark_split(20, random_state=0)
    w = np.ones(y.shape[0])
    with sklearn.config_context(enable_metadata_routing=True):
        ours = PseudoLabelClassifier(
            LogisticRegression().set_fit_request(sample_weight=True), max_iter=2)
        ours.fit(X, y, sample_weight=w)
        theirs = SelfTrainingClassifier(
            LogisticRegression().set_fit_request(sample_weight=True), max_iter=2)
        with pytest.raises(ValueError):
            theirs.fit(X, y, sample_weight=w)


def test_text_pipeline_inside():
    docs = ["good movie", "great film", "bad movie", "awful film", "good film",
            "great movie", "awful movie", "bad film"]
    y = np.array([1, 1, 0, 0, -1, -1, -1, -1])
    clf = PseudoLabelClassifier(make_pipeline(TfidfVectorizer(), LogisticRegression()),
                                k_best=2, max_iter=2, random_state=0)
    clf.fit(docs, y)
    assert clf.predict(["great", "awful"]).tolist() == [1, 0]
    assert not hasattr(clf, "n_features_in_")


def test_dataframe_feature_names():
    pd = pytest.importorskip("pandas")
    X, y, _, _, _ = digits_benchmark_split(20, random_state=0)
    df = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    clf = PseudoLabelClassifier(max_iter=1, random_state=0).fit(df, y)
    assert clf.feature_names_in_[0] == "px0" and clf.n_features_in_ == 64
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(df[df.columns[::-1]])


def test_bad_parameters_and_estimators():
    X, y, _, _, _ = digits_benchmark_split(20, random_state=0)
    with pytest.raises(ValueError, match="needs an estimator whose fit takes "
                                         "sample_weight; KNeighborsClassifier"):
        PseudoLabelClassifier(KNeighborsClassifier(), soft=True).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'threshold' parameter"):
        PseudoLabelClassifier(threshold=1.5).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'estimator' parameter"):
        PseudoLabelClassifier(SVC()).fit(X, y)  # no predict_proba
    with pytest.raises(ValueError, match="X has 1257 rows but y has 1256"):
        PseudoLabelClassifier().fit(X, y[:-1])


def test_verbose_prints_rounds(capsys):
    X, y, _, _, _ = digits_benchmark_split(20, random_state=0)
    PseudoLabelClassifier(max_iter=2, verbose=True, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert "round 1" in out and "round 2" in out


def test_beats_supervised_with_few_labels():
    X, y, X_test, y_test, _ = digits_benchmark_split(20, random_state=0)
    labeled = y != -1
    supervised = LogisticRegression().fit(X[labeled], y[labeled]).score(X_test, y_test)
    ours = PseudoLabelClassifier(random_state=0).fit(X, y).score(X_test, y_test)
    assert ours > supervised + 0.05


def test_score_keeps_the_minus_one_of_a_list_and_refuses_the_string():
    X, y = _two_blobs()
    y_str = np.array(["a", "b"], dtype=object)[y]
    y_str[::2] = -1
    clf = PseudoLabelClassifier(LogisticRegression(), max_iter=2).fit(X, y_str)
    full = clf.score(X, y_str)
    assert clf.score(X, list(y_str)) == full        # a list: -1 is still unlabeled
    with pytest.raises(ValueError, match="the string '-1'"):
        clf.score(X, y_str.astype(str))
    # fit takes the list as well
    assert PseudoLabelClassifier(max_iter=1).fit(X, list(y_str)).classes_.tolist() == ["a", "b"]


def test_methods_are_offered_before_fit_by_the_estimator_to_be_fitted():
    from sklabelfree.semi_supervised import NoisyStudentClassifier

    assert hasattr(PseudoLabelClassifier(), "predict_proba")       # the default
    assert not hasattr(PseudoLabelClassifier(SVC()), "predict_proba")
    assert hasattr(NoisyStudentClassifier(), "predict_proba")
    X, y = _two_blobs()
    y_partial = y.copy()
    y_partial[::2] = -1
    teacher = PseudoLabelClassifier(max_iter=1)      # a semi-supervised teacher
    NoisyStudentClassifier(teacher=teacher, soft=False, n_generations=1).fit(X, y_partial)


def test_a_refused_refit_leaves_the_fitted_estimator_as_it_was():
    X, y = _two_blobs()
    y_partial = y.copy()
    y_partial[::2] = -1
    clf = PseudoLabelClassifier(max_iter=1).fit(X, y_partial)
    with pytest.raises(ValueError, match="every row of y is unlabeled"):
        clf.fit(X[:, :1], np.full(len(X), -1))
    assert clf.n_features_in_ == X.shape[1]
    clf.predict(X)


def _two_blobs():
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], 20)
    return rng.randn(40, 3) + 3 * y[:, None], y
