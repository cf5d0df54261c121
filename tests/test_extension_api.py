"""The extension and composition API: checks for third-party estimators,
metadata routing through the meta-estimators and scorers, is_semi_supervised
on composite estimators, targets read as objects."""

import threading
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, make_scorer
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelSpreading
from sklearn.utils.validation import check_consistent_length, check_is_fitted, validate_data

from sklabelfree.active import ActiveLearner
from sklabelfree.base import SemiSupervisedMixin, is_semi_supervised
from sklabelfree.datasets import make_partially_labeled
from sklabelfree.semi_supervised import PseudoLabelClassifier
from sklabelfree.utils import AllLabeledWarning, check_partially_labeled
from sklabelfree.utils.estimator_checks import (
    check_bad_targets,
    check_clone_pickle_roundtrip,
    check_input_not_modified,
    check_semi_supervised_estimator,
    make_check_data,
)
from sklabelfree.utils.model_selection import (
    SemiSupervisedKFold,
    SemiSupervisedStratifiedKFold,
    make_labeled_scorer,
)


class _LabeledOnly(SemiSupervisedMixin, ClassifierMixin, BaseEstimator):
    """A correct third-party estimator validated with scikit-learn's own helpers."""

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y, sample_weight=None):
        y, labeled, self.classes_ = check_partially_labeled(y, estimator_name="LabeledOnly")
        X = validate_data(self, X)
        check_consistent_length(X, y)   # scikit-learn's wording for a length mismatch
        w = None if sample_weight is None else np.asarray(sample_weight)[labeled]
        self.est_ = LogisticRegression(C=self.C).fit(X[labeled], y[labeled], sample_weight=w)
        return self

    def predict(self, X):
        check_is_fitted(self)
        return self.est_.predict(validate_data(self, X, reset=False))

    def predict_proba(self, X):
        check_is_fitted(self)
        return self.est_.predict_proba(validate_data(self, X, reset=False))


class _ScalesWeightsInPlace(_LabeledOnly):
    def fit(self, X, y, sample_weight=None):
        if sample_weight is not None:
            sample_weight /= sample_weight.sum()
        return super().fit(X, y, sample_weight=sample_weight)


class _Unpicklable(_LabeledOnly):
    def fit(self, X, y, sample_weight=None):
        self.lock_ = threading.Lock()
        return super().fit(X, y, sample_weight=sample_weight)


def test_checks_pass_an_estimator_using_sklearn_length_check():
    # check_consistent_length says "inconsistent numbers of samples", not "rows".
    check_semi_supervised_estimator(_LabeledOnly())


def test_check_input_not_modified_catches_sample_weight_scaled_in_place():
    with pytest.raises(AssertionError, match="modified sample_weight"):
        check_input_not_modified(_ScalesWeightsInPlace())


def test_check_semi_supervised_estimator_names_the_check_of_a_crash():
    with pytest.raises(AssertionError, match=r"check_clone_pickle_roundtrip failed: .*"
                                             r"cannot be pickled: TypeError"):
        check_semi_supervised_estimator(_Unpicklable())


def test_clone_check_compares_parameters_by_content():
    # clone deep-copies a RandomState parameter: a new object, the same state.
    est = PseudoLabelClassifier(
        RandomForestClassifier(n_estimators=5, random_state=np.random.RandomState(0)),
        max_iter=2)
    check_clone_pickle_roundtrip(est)


def test_check_bad_targets_still_refuses_a_silent_length_mismatch():
    class Truncates(_LabeledOnly):
        def fit(self, X, y, sample_weight=None):
            n = min(len(X), len(y))
            return super().fit(np.asarray(X)[:n], np.asarray(y)[:n])

    with pytest.raises(AssertionError, match="accepted a bad target"):
        check_bad_targets(Truncates())


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _weight_spy():
    seen = []

    def acc(y_true, y_pred, sample_weight=None):
        seen.append(sample_weight)
        return accuracy_score(y_true, y_pred, sample_weight=sample_weight)

    return seen, acc


def test_labeled_scorer_receives_routed_sample_weight(routing):
    X, y_partial, _ = make_check_data()
    seen, acc = _weight_spy()
    scorer = make_labeled_scorer(make_scorer(acc).set_score_request(sample_weight=True))
    est = PseudoLabelClassifier(LogisticRegression().set_fit_request(sample_weight=True),
                                max_iter=2, random_state=0)
    w = np.linspace(0.5, 2.0, len(y_partial))
    cross_validate(est, X, y_partial, cv=KFold(3, shuffle=True, random_state=0),
                   scoring=scorer, params={"sample_weight": w}, error_score="raise")
    assert len(seen) == 3 and all(s is not None for s in seen)
    # Sliced to the labeled rows of each test fold.
    for s in seen:
        assert np.all(np.isin(s, w[y_partial != -1]))
    # Requests can also be made on the wrapper.
    seen.clear()
    wrapped = make_labeled_scorer(make_scorer(acc)).set_score_request(sample_weight=True)
    cross_validate(est, X, y_partial, cv=KFold(3, shuffle=True, random_state=0),
                   scoring=wrapped, params={"sample_weight": w}, error_score="raise")
    assert all(s is not None for s in seen)


def test_meta_estimator_score_receives_routed_sample_weight(routing):
    X, y_partial, _ = make_check_data()
    seen = []

    class Spy(PseudoLabelClassifier):
        def score(self, X, y, sample_weight=None):
            seen.append(sample_weight)
            return super().score(X, y, sample_weight=sample_weight)

    est = Spy(LogisticRegression().set_fit_request(sample_weight=True), max_iter=2,
              random_state=0).set_score_request(sample_weight=True)
    w = np.linspace(0.5, 2.0, len(y_partial))
    cross_validate(est, X, y_partial, cv=SemiSupervisedStratifiedKFold(3),
                   params={"sample_weight": w}, error_score="raise")
    assert len(seen) == 3 and all(s is not None for s in seen)


def test_is_semi_supervised_sees_through_pipelines_and_searches():
    pseudo = make_pipeline(StandardScaler(), PseudoLabelClassifier(max_iter=2))
    assert is_semi_supervised(pseudo)
    assert is_semi_supervised(make_pipeline(StandardScaler(), LabelSpreading()))
    assert is_semi_supervised(GridSearchCV(PseudoLabelClassifier(), {"max_iter": [1, 2]}))
    assert not is_semi_supervised(make_pipeline(StandardScaler(), LogisticRegression()))
    assert not is_semi_supervised(make_pipeline(PseudoLabelClassifier(), "passthrough"))
    # ActiveLearner fits such a pipeline on every row, the pool with -1.
    X, y_partial, _ = make_check_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", AllLabeledWarning)
        learner = ActiveLearner(pseudo, random_state=0).fit(X, y_partial)
    assert learner.estimator_[-1].transduction_.shape[0] == X.shape[0]


def test_numbers_and_booleans_in_object_arrays_are_ordinary_targets():
    pd = pytest.importorskip("pandas")
    X, y_partial, y = make_check_data()
    for target in (y_partial.astype(object), pd.Series(y_partial, dtype=object)):
        clf = PseudoLabelClassifier(max_iter=2, random_state=0).fit(X, target)
        assert clf.classes_.tolist() == [0, 1, 2] and clf.classes_.dtype.kind == "i"
    y_bool = make_partially_labeled(y == 0, 30, random_state=0)   # object: bools and -1
    clf = PseudoLabelClassifier(max_iter=2, random_state=0).fit(X, y_bool)
    assert clf.classes_.dtype == bool and clf.predict(X).dtype == bool
    assert clf.score(X, y == 0) > 0.9


def test_missing_values_of_any_kind_in_object_targets_get_the_missing_message():
    pd = pytest.importorskip("pandas")
    X, y_partial, _ = make_check_data()
    for missing in (pd.NA, np.float32("nan"), None):
        target = y_partial.astype(object)
        target[0] = missing
        with pytest.raises(ValueError, match="None or NaN"):
            check_partially_labeled(target)


def test_refused_refit_leaves_the_fitted_estimator_as_it_was():
    pd = pytest.importorskip("pandas")
    X, y_partial, _ = make_check_data()
    Xd = pd.DataFrame(X, columns=list("abcdef"))
    clf = PseudoLabelClassifier(max_iter=2, random_state=0).fit(Xd, y_partial)
    before = clf.predict(Xd)
    with pytest.raises(ValueError, match="X has 90 rows but y has 89"):
        clf.fit(X[:, :4], y_partial[:-1])
    assert clf.n_features_in_ == 6 and list(clf.feature_names_in_) == list("abcdef")
    np.testing.assert_array_equal(clf.predict(Xd), before)


def test_score_checks_the_length_of_sample_weight():
    X, y_partial, y = make_check_data()
    clf = PseudoLabelClassifier(max_iter=2, random_state=0).fit(X, y_partial)
    for w in (np.ones(len(y) + 5), np.ones(len(y) - 1)):
        with pytest.raises(ValueError, match="sample_weight has .* entries but y has 90"):
            clf.score(X, y, sample_weight=w)


@pytest.mark.parametrize("cls", [SemiSupervisedKFold, SemiSupervisedStratifiedKFold])
def test_splitters_refuse_a_shuffle_that_is_not_a_bool(cls):
    with pytest.raises(TypeError, match="shuffle must be True or False"):
        cls(3, shuffle="yes")
