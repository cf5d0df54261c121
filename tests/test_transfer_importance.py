"""ImportanceWeightingClassifier and SourceOnlyClassifier: weights, domains, errors."""

import pickle
import re
import warnings

import numpy as np
import pytest
from scipy.stats import norm, spearmanr
from sklearn import config_context
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklabelfree.transfer import ImportanceWeightingClassifier, SourceOnlyClassifier
from sklabelfree.utils import estimator_checks as ec
from sklabelfree.utils.model_selection import SemiSupervisedStratifiedKFold

METHODS = ["classifier", "kmm", "kliep"]


def gaussian_shift(n_s=300, n_t=200, seed=0):
    """Source N(0, 1), target N(1, 0.5) in one dimension; labels x > 0.5 (noisy)."""
    rng = np.random.RandomState(seed)
    xs = rng.normal(0.0, 1.0, size=n_s)
    xt = rng.normal(1.0, 0.5, size=n_t)
    ys = (xs + 0.3 * rng.normal(size=n_s) > 0.5).astype(int)
    X = np.r_[xs, xt][:, None]
    y = np.r_[ys, -np.ones(n_t, dtype=int)]
    true_ratio = norm.pdf(xs, 1.0, 0.5) / norm.pdf(xs, 0.0, 1.0)
    return X, y, true_ratio


@pytest.mark.parametrize("method", METHODS)
def test_weights_rank_like_the_true_density_ratio(method):
    X, y, true_ratio = gaussian_shift()
    clf = ImportanceWeightingClassifier(method=method, random_state=0).fit(X, y)
    w = clf.weights_[:300]
    if method == "classifier":
        # The default domain classifier (C=0.01) is made for many features;
        # in one dimension it flattens the ratio: the ranking stays right.
        assert spearmanr(w, true_ratio).statistic > 0.9
        clf = ImportanceWeightingClassifier(
            method=method, domain_estimator=LogisticRegression(C=1.0)).fit(X, y)
        w = clf.weights_[:300]
    assert clf.weights_.shape == (500,)
    np.testing.assert_array_equal(clf.weights_[300:], 0.0)
    np.testing.assert_allclose(w.mean(), 1.0)
    assert w.min() >= 0
    rho = spearmanr(w, true_ratio).statistic
    assert rho > 0.9, f"{method}: Spearman {rho:.3f}"
    # Weighted source mean moves towards the target mean (1.0).
    xs = X[:300, 0]
    assert abs(np.average(xs, weights=w) - 1.0) < 0.3  # uniform weights: 1.0 off


def test_kmm_matches_the_kernel_means_better_than_uniform_weights():
    from sklearn.metrics.pairwise import rbf_kernel

    X, y, _ = gaussian_shift()
    clf = ImportanceWeightingClassifier(method="kmm", random_state=0).fit(X, y)
    Xs, Xt = X[:300], X[300:]

    def mmd2(w):
        w = w / w.sum()
        kss = rbf_kernel(Xs, Xs, gamma=clf.gamma_)
        kst = rbf_kernel(Xs, Xt, gamma=clf.gamma_)
        ktt = rbf_kernel(Xt, Xt, gamma=clf.gamma_)
        return w @ kss @ w - 2 * w @ kst.mean(axis=1) + ktt.mean()

    assert mmd2(clf.weights_[:300]) < 0.05 * mmd2(np.ones(300))
    assert clf.n_iter_ >= 1
    # The bound on the weights holds (before the scaling to mean 1, which
    # changes them by at most the tolerance on their sum).
    tight = ImportanceWeightingClassifier(method="kmm", max_weight=2.0, eps=0.05).fit(X, y)
    w = tight.weights_[:300]
    assert w.max() <= 2.0 / 0.95 + 1e-9
    assert np.sum(np.isclose(w, w.max())) > 10  # the bound is active


def test_kliep_likelihood_cross_validation_picks_a_width_from_the_grid():
    X, y, _ = gaussian_shift()
    clf = ImportanceWeightingClassifier(method="kliep", random_state=0).fit(X, y)
    assert len(clf.cv_scores_) == 5
    assert clf.gamma_ == max(clf.cv_scores_, key=clf.cv_scores_.get)
    fixed = ImportanceWeightingClassifier(method="kliep", gamma=0.5, random_state=0).fit(X, y)
    assert fixed.gamma_ == 0.5 and fixed.cv_scores_ is None


def test_kliep_skips_kernel_widths_at_which_the_domains_do_not_overlap():
    # The median heuristic follows the within-domain distances: at the wider
    # widths of the grid the source rows' kernel values at every target
    # centre underflow; those widths score -inf instead of crashing.
    rng = np.random.RandomState(0)
    X = rng.randn(80, 3)
    y = np.r_[(X[:50, 0] > 0).astype(int), -np.ones(30, dtype=int)]
    X[50:] += 40.0
    clf = ImportanceWeightingClassifier(method="kliep", random_state=0).fit(X, y)
    scores = np.array(list(clf.cv_scores_.values()))
    assert np.isneginf(scores).any() and np.isfinite(scores).any()
    assert clf.gamma_ == max(clf.cv_scores_, key=clf.cv_scores_.get)
    assert np.isfinite(clf.weights_).all()
    np.testing.assert_allclose(clf.weights_[:50].mean(), 1.0)


def test_kliep_clear_error_when_the_kernel_is_too_narrow():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 3)
    y = np.r_[(X[:50, 0] > 0).astype(int), -np.ones(30, dtype=int)]
    X[50:] += 0.5
    with pytest.raises(ValueError, match=r"with gamma=1e\+06 the source rows are too far "
                                         "from every target row"):
        ImportanceWeightingClassifier(method="kliep", gamma=1e6).fit(X, y)
    X_far = X.copy()
    X_far[50:] += 1e4
    with pytest.raises(ValueError, match="for every kernel width tried .* the domains "
                                         "do not overlap"):
        ImportanceWeightingClassifier(method="kliep", random_state=0).fit(X_far, y)


def test_classifier_weights_use_the_prior_correction():
    # Same distribution in both domains: the ratio is n_s / n_t * p_t / p_s ~= 1.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(600, 2))
    y = np.r_[rng.randint(2, size=400), -np.ones(200, dtype=int)]
    from sklabelfree.transfer._importance import _classifier_ratio

    raw, _ = _classifier_ratio(X[:400], X[400:], LogisticRegression(C=0.01),
                               np.random.RandomState(0))
    # p(t|x) / p(s|x) is about n_t / n_s = 1/2 everywhere; the factor n_s / n_t
    # brings the ratio to 1.
    assert abs(np.median(raw) - 1.0) < 0.05
    clf = ImportanceWeightingClassifier(random_state=0).fit(X, y)
    assert np.all(np.abs(clf.weights_[:400] - 1.0) < 0.5)
    np.testing.assert_array_equal(clf.domain_estimator_.classes_, [0, 1])


def test_weighting_improves_a_misspecified_model_under_covariate_shift():
    # A linear model of a curved boundary: the weights fit it where the target is.
    rng = np.random.RandomState(0)
    xs = rng.normal(0.0, 1.0, size=(600, 1))
    xt = rng.normal(1.5, 0.4, size=(400, 1))

    def label(x):
        return (np.sin(2.0 * x[:, 0]) > 0.3).astype(int)

    X = np.vstack([xs, xt])
    y = np.r_[label(xs), -np.ones(400, dtype=int)]
    yt = label(xt)
    src = SourceOnlyClassifier().fit(X, y).score(xt, yt)
    for method in METHODS:
        iw = ImportanceWeightingClassifier(method=method, random_state=0).fit(X, y)
        assert iw.score(xt, yt) > src + 0.05, method


def test_resample_keeps_every_class():
    # The target sits on class 0: class 2 gets (almost) no weight.
    rng = np.random.RandomState(0)
    centers = np.array([[0.0, 0.0], [3.0, 0.0], [8.0, 0.0]])
    ys = np.repeat([0, 1, 2], 40)
    Xs = centers[ys] + rng.normal(scale=0.5, size=(120, 2))
    Xt = rng.normal(scale=0.5, size=(100, 2))
    X = np.vstack([Xs, Xt])
    y = np.r_[ys, -np.ones(100, dtype=int)]
    clf = ImportanceWeightingClassifier(KNeighborsClassifier(1), method="kmm",
                                        random_state=0).fit(X, y)
    assert clf.resample_indices_ is not None
    np.testing.assert_array_equal(clf.estimator_.classes_, [0, 1, 2])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert np.all(clf.resample_indices_ < 120)  # source rows only
    # Class 2 is there only because it had to be: one row.
    assert np.sum(ys[clf.resample_indices_] == 2) == 1
    # A plain weighted draw would have dropped it.
    w = clf.weights_[:120]
    assert w[ys == 2].sum() / w.sum() < 1e-3
    assert clf.predict(centers[[2]])[0] == 2


def test_sample_weight_and_resample_modes():
    X, y, _ = gaussian_shift()
    a = ImportanceWeightingClassifier(method="kmm").fit(X, y)
    assert a.resample_indices_ is None
    b = ImportanceWeightingClassifier(method="kmm", weighting="resample",
                                      random_state=0).fit(X, y)
    assert b.resample_indices_.shape[0] >= 300
    with pytest.raises(ValueError, match="weighting='sample_weight' needs an estimator"):
        ImportanceWeightingClassifier(KNeighborsClassifier(),
                                      weighting="sample_weight").fit(X, y)
    # A user's sample_weight multiplies the importance weights.
    sw = np.ones(500)
    sw[:150] = 0.0
    c = ImportanceWeightingClassifier(method="kmm").fit(X, y, sample_weight=sw)
    assert not np.allclose(c.estimator_.coef_, a.estimator_.coef_)


def test_sample_weight_multiplies_the_resampling_weights():
    # KNeighborsClassifier.fit takes no sample_weight: the weights reach it
    # by resampling, and a user's sample_weight multiplies them.
    X, y, _ = gaussian_shift()
    sw = np.ones(500)
    sw[:150] = 0.0
    clf = ImportanceWeightingClassifier(KNeighborsClassifier(3), method="kmm",
                                        random_state=0).fit(X, y, sample_weight=sw)
    assert clf.resample_indices_ is not None
    assert clf.resample_indices_.min() >= 150  # zero weight: never drawn
    with pytest.raises(ValueError, match=re.escape("sample_weight has shape (10,)")):
        ImportanceWeightingClassifier(KNeighborsClassifier(3)).fit(
            X, y, sample_weight=np.ones(10))
    with pytest.raises(ValueError, match="KNeighborsClassifier does not accept sample_weight"):
        ImportanceWeightingClassifier(KNeighborsClassifier(3), weighting="sample_weight").fit(
            X, y, sample_weight=sw)


@pytest.mark.parametrize("estimator", [None, KNeighborsClassifier(3)])
def test_dataframe_predict_does_not_warn_about_feature_names(estimator):
    pd = pytest.importorskip("pandas")
    X, y, _ = gaussian_shift()
    df = pd.DataFrame(np.c_[X, -X], columns=["a", "b"])
    clf = ImportanceWeightingClassifier(estimator, random_state=0).fit(df, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.predict(df.iloc[:5])
        clf.predict_proba(df.iloc[:5])
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b"])


# ---------------------------------------------------------------------------
# Domains: -1 rows by default, sample_domain explicitly, routed as metadata.


def _digit_domains(seed=0):
    from sklabelfree.transfer import make_shifted_digits

    X, y, Xt, yt = make_shifted_digits(seed)
    rng = np.random.RandomState(seed)
    keep = np.r_[rng.choice(1257, 300, replace=False), 1257 + np.arange(200)]
    return X[keep], y[keep], Xt, yt


def test_sample_domain_gives_the_same_fit_as_minus_one():
    X, y, _, _ = _digit_domains()
    sd = np.where(y == -1, -1, 1)
    a = ImportanceWeightingClassifier(method="kliep", random_state=0).fit(X, y)
    # Target labels are ignored when sample_domain says which rows are the target.
    y_leak = y.copy()
    y_leak[y == -1] = 3
    b = ImportanceWeightingClassifier(method="kliep", random_state=0).fit(
        X, y_leak, sample_domain=sd)
    np.testing.assert_allclose(a.weights_, b.weights_)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))
    # Several source ids and target ids are one source and one target.
    sd2 = np.where(y == -1, -(np.arange(len(y)) % 3) - 1, np.arange(len(y)) % 2 + 1)
    c = ImportanceWeightingClassifier(method="kliep", random_state=0).fit(
        X, y_leak, sample_domain=sd2)
    np.testing.assert_allclose(a.weights_, c.weights_)


def test_sample_domain_is_routed_inside_a_pipeline():
    X, y, Xt, yt = _digit_domains()
    sd = np.where(y == -1, -1, 1)
    y_leak = np.where(y == -1, 0, y)  # labeled target rows: only sample_domain says so
    ref = make_pipeline(StandardScaler(), ImportanceWeightingClassifier(random_state=0))
    ref.fit(X, y)
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler(),
            ImportanceWeightingClassifier(random_state=0).set_fit_request(sample_domain=True))
        pipe.fit(X, y_leak, sample_domain=sd)
        np.testing.assert_allclose(pipe.predict_proba(Xt), ref.predict_proba(Xt))
        # Not requested: an error, not a silent source-only fit.
        plain = make_pipeline(StandardScaler(), ImportanceWeightingClassifier())
        with pytest.raises(Exception, match="sample_domain"):
            plain.fit(X, y_leak, sample_domain=sd)
    # Without routing, the step's name addresses it.
    pipe = make_pipeline(StandardScaler(), ImportanceWeightingClassifier(random_state=0))
    pipe.fit(X, y_leak, importanceweightingclassifier__sample_domain=sd)
    np.testing.assert_allclose(pipe.predict_proba(Xt), ref.predict_proba(Xt))


def test_grid_search_over_the_method():
    X, y, Xt, yt = _digit_domains()
    search = GridSearchCV(
        ImportanceWeightingClassifier(random_state=0),
        {"method": ["classifier", "kmm"], "max_weight": [5.0, 10.0]},
        cv=SemiSupervisedStratifiedKFold(3),
    ).fit(X, y)
    assert search.best_params_["method"] in ("classifier", "kmm")
    assert search.best_estimator_.weights_.shape == (500,)
    assert 0.0 <= search.score(Xt, yt) <= 1.0


def test_clone_and_pickle():
    X, y, Xt, _ = _digit_domains()
    for method in METHODS:
        est = ImportanceWeightingClassifier(method=method, random_state=0)
        assert clone(est).get_params() == est.get_params()
        est.fit(X, y)
        loaded = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(loaded.predict(Xt), est.predict(Xt))
        np.testing.assert_array_equal(loaded.weights_, est.weights_)
        assert not hasattr(clone(est), "weights_")


def test_same_seed_same_weights():
    X, y, _, _ = _digit_domains()
    a = ImportanceWeightingClassifier(method="kliep", random_state=3).fit(X, y)
    b = ImportanceWeightingClassifier(method="kliep", random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.weights_, b.weights_)


# ---------------------------------------------------------------------------
# Bad input.


@pytest.mark.parametrize("Est", [ImportanceWeightingClassifier])
def test_bad_input_gets_clear_errors(Est):
    X, y, _, _ = _digit_domains()
    with pytest.raises(ValueError, match="no target rows"):
        Est().fit(X[y != -1], y[y != -1])
    with pytest.raises(ValueError, match="no target rows"):
        Est().fit(X, np.where(y == -1, 0, y), sample_domain=np.ones(len(y), dtype=int))
    with pytest.raises(ValueError, match="every row of y is unlabeled"):
        Est().fit(X, np.full_like(y, -1))
    with pytest.raises(ValueError, match="no source rows"):
        Est().fit(X, y, sample_domain=-np.ones(len(y), dtype=int))
    with pytest.raises(ValueError, match="1 class"):
        Est().fit(X, np.where(y == -1, -1, 0))
    X_nan = X.copy()
    X_nan[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Est().fit(X_nan, y)
    y_nan = y.astype(float)
    y_nan[0] = np.nan
    with pytest.raises(ValueError, match="NaN.*-1"):
        Est().fit(X, y_nan)
    with pytest.raises(ValueError, match="same number of rows"):
        Est().fit(X, y[:-1])
    with pytest.raises(ValueError, match=re.escape("sample_domain has shape (499,)")):
        Est().fit(X, y, sample_domain=np.ones(499, dtype=int))
    with pytest.raises(ValueError, match="sample_domain contains 0"):
        Est().fit(X, y, sample_domain=np.zeros(500, dtype=int))
    with pytest.raises(ValueError, match="requires y to be passed"):
        Est().fit(X, None)
    fitted = Est().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :10])
    with pytest.raises(ValueError, match="method"):
        Est(method="ratio").fit(X, y)


def test_input_is_not_modified():
    X, y, _, _ = _digit_domains()
    X0, y0 = X.copy(), y.copy()
    sd = np.where(y == -1, -1, 1)
    ImportanceWeightingClassifier(method="kmm").fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize(
    "check",
    [c for c in ec.yield_semi_supervised_checks(ImportanceWeightingClassifier())
     if c is not ec.check_all_labeled_warns],
    ids=lambda c: c.__name__,
)
@pytest.mark.parametrize("method", METHODS)
def test_library_contract_checks(method, check):
    # check_all_labeled_warns is left out: a y without -1 has no target rows,
    # which is an error here (test_bad_input_gets_clear_errors).
    check(ImportanceWeightingClassifier(method=method, n_centers=20, random_state=0))


# ---------------------------------------------------------------------------
# SourceOnlyClassifier.


@pytest.mark.parametrize("check", list(ec.yield_semi_supervised_checks(
    SourceOnlyClassifier())), ids=lambda c: c.__name__)
def test_source_only_contract_checks(check):
    check(SourceOnlyClassifier(LogisticRegression()))


@pytest.mark.parametrize("Est", [SourceOnlyClassifier, ImportanceWeightingClassifier])
def test_sample_domain_keeps_the_label_type(Est):
    # With sample_domain, -1 is written into the target rows' labels: a bool
    # array stored True there (every target row became a labeled source row),
    # a uint8 one overflowed, booleans came back as 0 / 1, and a list's
    # integer -1 next to strings became the string '-1'.
    X, y, Xt, _ = _digit_domains()
    sd = np.where(y == -1, -1, 1)
    binary = np.where(y == -1, 0, y) % 2 == 1           # target rows: arbitrary
    ref = Est().fit(X, np.where(y == -1, -1, binary.astype(int)))
    clf = Est().fit(X, binary, sample_domain=sd)
    assert clf.classes_.dtype == bool and clf.predict(Xt[:3]).dtype == bool
    np.testing.assert_allclose(clf.predict_proba(Xt), ref.predict_proba(Xt))
    small = Est().fit(X, np.where(y == -1, 0, y).astype(np.uint8), sample_domain=sd)
    np.testing.assert_array_equal(small.classes_, np.unique(y[y != -1]))
    names = np.array(["even", "odd"])
    y_list = [-1 if (v != -1 and i % 7 == 0) else names[max(v, 0) % 2]
              for i, v in enumerate(y)]                   # a few unlabeled source rows
    listed = Est().fit(X, y_list, sample_domain=sd)
    np.testing.assert_array_equal(listed.classes_, names)


def test_source_only_fits_on_the_labeled_source_rows():
    X, y, Xt, yt = _digit_domains()
    a = SourceOnlyClassifier().fit(X, y)
    b = LogisticRegression().fit(X[y != -1], y[y != -1])
    np.testing.assert_allclose(a.predict_proba(Xt), b.predict_proba(Xt))
    y_leak = np.where(y == -1, 0, y)
    c = SourceOnlyClassifier().fit(X, y_leak, sample_domain=np.where(y == -1, -2, 1))
    np.testing.assert_allclose(c.predict_proba(Xt), b.predict_proba(Xt))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = SourceOnlyClassifier().fit(X, y_leak)  # every row labeled: all are source
    assert not np.allclose(d.predict_proba(Xt), b.predict_proba(Xt))
