"""CORAL, TCA and the digits shift: statistics, pipelines, routing, errors."""

import pickle
import re

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklabelfree.transfer import (
    CORAL,
    TCA,
    SourceOnlyClassifier,
    make_shifted_digits,
    shift_digits,
)
from sklabelfree.utils.model_selection import SemiSupervisedStratifiedKFold


def _domains(seed=0, n_s=300, n_t=200):
    X, y, Xt, yt = make_shifted_digits(seed)
    rng = np.random.RandomState(seed)
    keep = np.r_[rng.choice(1257, n_s, replace=False), 1257 + np.arange(n_t)]
    return X[keep].astype(np.float64), y[keep], Xt, yt


# ---------------------------------------------------------------------------
# CORAL.


@pytest.mark.parametrize("reg", [1.0, 0.1])
def test_coral_source_covariance_becomes_the_target_covariance(reg):
    X, y, _, _ = _domains()
    coral = CORAL(reg=reg)
    Z = coral.fit_transform(X, y)
    src, tgt = y != -1, y == -1
    A = coral.coloring_
    d = X.shape[1]
    # A' (C_s + reg I) A = C_t + reg I exactly, so the mapped rows' covariance
    # plus reg A'A is the regularised target covariance.
    np.testing.assert_allclose(A.T @ coral.source_covariance_ @ A, coral.target_covariance_,
                               atol=1e-6)
    cov_mapped = np.cov(Z[src], rowvar=False)
    np.testing.assert_allclose(cov_mapped + reg * A.T @ A,
                               np.cov(X[tgt], rowvar=False) + reg * np.eye(d), atol=1e-6)
    np.testing.assert_allclose(Z[src].mean(axis=0), X[tgt].mean(axis=0), atol=1e-10)
    np.testing.assert_array_equal(Z[tgt], X[tgt])


def test_coral_without_regularisation_matches_the_covariance_exactly():
    rng = np.random.RandomState(0)
    Xs = rng.normal(size=(400, 3))
    Xt = rng.normal(size=(300, 3)) @ np.array([[1.0, 0.5, 0.0], [0.0, 2.0, 0.3],
                                                 [0.0, 0.0, 0.2]]) + 5.0
    X = np.vstack([Xs, Xt])
    y = np.r_[rng.randint(2, size=400), -np.ones(300, dtype=int)]
    Z = CORAL(reg=0.0).fit_transform(X, y)
    np.testing.assert_allclose(np.cov(Z[:400], rowvar=False), np.cov(Xt, rowvar=False),
                               atol=1e-6)
    # center=False is the paper's map, without moving the mean.
    coral = CORAL(reg=0.0, center=False).fit(X, y)
    np.testing.assert_allclose(coral.transform_source(Xs), Xs @ coral.coloring_)


def test_coral_transform_leaves_target_rows_and_maps_source_rows_on_request():
    X, y, Xt, _ = _domains()
    coral = CORAL().fit(X, y)
    np.testing.assert_array_equal(coral.transform(Xt), Xt)
    Z = coral.fit_transform(X, y)
    np.testing.assert_allclose(coral.transform_source(X[y != -1]), Z[y != -1], rtol=1e-6)
    assert list(coral.get_feature_names_out())[:2] == ["x0", "x1"]


def test_coral_pipeline_beats_source_only_on_shifted_digits():
    X, y, Xt, yt = make_shifted_digits(0)
    src = SourceOnlyClassifier(LogisticRegression(max_iter=1000)).fit(X, y).score(Xt, yt)
    pipe = make_pipeline(CORAL(), SourceOnlyClassifier(LogisticRegression(max_iter=1000)))
    pipe.fit(X, y)
    assert pipe.score(Xt, yt) > src + 0.1
    # The classifier learned from the re-coloured source rows only.
    clf = pipe[-1].estimator_
    ref = LogisticRegression(max_iter=1000).fit(pipe[0].transform_source(X[y != -1]),
                                                y[y != -1])
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-4, atol=1e-6)


def test_coral_routing_and_grid_search():
    X, y, Xt, yt = _domains()
    sd = np.where(y == -1, -1, 1)
    y_leak = np.where(y == -1, 0, y)
    ref = make_pipeline(CORAL(), SourceOnlyClassifier()).fit(X, y)
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(CORAL().set_fit_request(sample_domain=True),
                             SourceOnlyClassifier().set_fit_request(sample_domain=True))
        pipe.fit(X, y_leak, sample_domain=sd)
    np.testing.assert_allclose(pipe.predict_proba(Xt), ref.predict_proba(Xt))
    pipe = make_pipeline(CORAL(), SourceOnlyClassifier())
    pipe.fit(X, y_leak, coral__sample_domain=sd, sourceonlyclassifier__sample_domain=sd)
    np.testing.assert_allclose(pipe.predict_proba(Xt), ref.predict_proba(Xt))

    search = GridSearchCV(make_pipeline(CORAL(), SourceOnlyClassifier()),
                          {"coral__reg": [0.1, 1.0]},
                          cv=SemiSupervisedStratifiedKFold(3)).fit(X, y)
    assert search.best_params_["coral__reg"] in (0.1, 1.0)
    assert 0 <= search.score(Xt, yt) <= 1


# ---------------------------------------------------------------------------
# TCA.


def _mean_gap(A, B):
    """Squared distance between the domain means over the total variance."""
    both = np.vstack([A, B])
    return float(np.sum((A.mean(0) - B.mean(0)) ** 2) / np.trace(np.cov(both, rowvar=False)))


def _rbf_mmd2(A, B):
    """Biased squared MMD with a median-heuristic Gaussian kernel (scale free)."""
    from sklearn.metrics.pairwise import euclidean_distances, rbf_kernel

    both = np.vstack([A, B])
    gamma = 1.0 / np.median(euclidean_distances(both, squared=True))
    return float(rbf_kernel(A, A, gamma=gamma).mean() + rbf_kernel(B, B, gamma=gamma).mean()
                 - 2 * rbf_kernel(A, B, gamma=gamma).mean())


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_tca_reduces_the_mmd_between_domains(kernel):
    X, y, _, _ = _domains()
    src, tgt = y != -1, y == -1
    Z = TCA(n_components=10, kernel=kernel).fit_transform(X, y)
    assert Z.shape == (500, 10)
    # The linear-kernel MMD (distance between the domain means, over the
    # total variance) nearly vanishes; a Gaussian-kernel MMD drops too.
    assert _mean_gap(Z[src], Z[tgt]) < 0.01 * _mean_gap(X[src], X[tgt])
    assert _rbf_mmd2(Z[src], Z[tgt]) < 0.7 * _rbf_mmd2(X[src], X[tgt])
    # mu=1 with the Gaussian kernel is kernel PCA: the penalty is too weak.
    if kernel == "rbf":
        Z1 = TCA(n_components=10, kernel=kernel, mu=1.0).fit_transform(X, y)
        assert _mean_gap(Z1[src], Z1[tgt]) > _mean_gap(X[src], X[tgt])


def test_tca_transform_of_new_rows_uses_the_fitted_rows():
    X, y, Xt, _ = _domains()
    tca = TCA(n_components=5, kernel="rbf", gamma=0.05).fit(X, y)
    np.testing.assert_allclose(tca.transform(X), tca.fit_transform(X, y), atol=1e-8)
    from sklearn.metrics.pairwise import rbf_kernel

    np.testing.assert_allclose(tca.transform(Xt[:7]),
                               rbf_kernel(Xt[:7], X, gamma=0.05) @ tca.eigenvectors_)
    assert np.all(np.diff(tca.eigenvalues_) <= 0)
    assert list(tca.get_feature_names_out()) == [f"tca{i}" for i in range(5)]


def test_tca_pipeline_beats_source_only_and_pickles():
    X, y, Xt, yt = make_shifted_digits(1)
    src = SourceOnlyClassifier(LogisticRegression(max_iter=1000)).fit(X, y).score(Xt, yt)
    pipe = make_pipeline(TCA(n_components=30), StandardScaler(),
                         SourceOnlyClassifier(LogisticRegression(max_iter=1000)))
    pipe.fit(X, y)
    assert pipe.score(Xt, yt) > src
    loaded = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(loaded.predict(Xt), pipe.predict(Xt))
    assert not hasattr(clone(pipe)[0], "X_fit_")


def test_tca_sample_domain_is_routed():
    X, y, Xt, _ = _domains()
    sd = np.where(y == -1, -1, 1)
    ref = TCA(n_components=4).fit(X, y)
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(TCA(n_components=4).set_fit_request(sample_domain=True),
                             SourceOnlyClassifier().set_fit_request(sample_domain=True))
        pipe.fit(X, np.where(y == -1, 0, y), sample_domain=sd)
    np.testing.assert_allclose(pipe[0].transform(Xt), ref.transform(Xt), atol=1e-8)
    np.testing.assert_array_equal(pipe[0].source_mask_, y != -1)
    # Without y, sample_domain alone says which rows are which.
    only_sd = TCA(n_components=4).fit(X, sample_domain=sd)
    np.testing.assert_allclose(only_sd.transform(Xt), ref.transform(Xt), atol=1e-8)


# ---------------------------------------------------------------------------
# Bad input for the transformers.


@pytest.mark.parametrize("Est", [CORAL, TCA])
def test_transformers_bad_input(Est):
    X, y, _, _ = _domains()
    with pytest.raises(ValueError, match="no target rows"):
        Est().fit(X[y != -1], y[y != -1])
    with pytest.raises(ValueError, match="no source rows"):
        Est().fit(X, np.full_like(y, -1))
    with pytest.raises(ValueError, match="cannot tell the source rows from the target"):
        Est().fit(X)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Est().fit(X_nan, y)
    y_nan = y.astype(float)
    y_nan[0] = np.nan
    with pytest.raises(ValueError, match="NaN.*-1"):
        Est().fit(X, y_nan)
    with pytest.raises(ValueError, match="same number of rows"):
        Est().fit(X, y[:-3])
    with pytest.raises(ValueError, match=re.escape("sample_domain has shape (10,)")):
        Est().fit(X, sample_domain=np.ones(10, dtype=int))
    with pytest.raises(ValueError, match="must hold integers"):
        Est().fit(X, sample_domain=np.full(len(y), 0.5))
    fitted = Est().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(X[:, :5])


@pytest.mark.parametrize("Est", [CORAL, TCA])
def test_transformers_read_a_list_target_and_refuse_missing_labels(Est):
    # A list of string labels with the integer -1 on the target rows (the
    # library's convention, as the classifiers read it): np.array turned the
    # -1 into the string '-1', so every row looked like a source row.
    X, y, _, _ = _domains()
    names = np.array(["even", "odd"], dtype=object)
    y_list = [int(v) if v == -1 else names[v % 2] for v in y]
    ref = Est().fit(X, np.where(y == -1, -1, y % 2))
    fitted = Est().fit(X, y_list)
    np.testing.assert_allclose(fitted.transform(X[:5]), ref.transform(X[:5]))
    y_none = np.array(y_list, dtype=object)
    y_none[np.flatnonzero(y != -1)[0]] = None
    with pytest.raises(ValueError, match="None or NaN.*-1"):
        Est().fit(X, y_none)
    y_str = np.array([str(v) for v in y_list])
    with pytest.raises(ValueError, match="string '-1'"):
        Est().fit(X, y_str)


@pytest.mark.parametrize("Est", [CORAL, TCA])
def test_transformers_ignore_a_regression_target_given_sample_domain(Est):
    # The values of y are ignored when sample_domain says which rows are
    # which: a continuous (or multi-output) target passes, as without it.
    X, y, Xt, _ = _domains()
    sd = np.where(y == -1, -1, 1)
    ref = Est().fit(X, sample_domain=sd)
    y_reg = np.random.RandomState(0).randn(len(y))
    for target in (y_reg, np.column_stack([y_reg, y_reg])):
        fitted = Est().fit(X, target, sample_domain=sd)
        np.testing.assert_allclose(fitted.transform(Xt), ref.transform(Xt), atol=1e-8)
    pipe = make_pipeline(Est(), Ridge()).fit(X, y_reg, **{
        f"{Est.__name__.lower()}__sample_domain": sd})
    assert pipe.predict(Xt).shape == (Xt.shape[0],)
    # NaN on a source row is still an error; on a target row it is ignored.
    y_nan = y_reg.copy()
    y_nan[np.flatnonzero(sd < 0)[0]] = np.nan
    Est().fit(X, y_nan, sample_domain=sd)
    y_nan[0] = np.nan
    with pytest.raises(ValueError, match="NaN on source rows"):
        Est().fit(X, y_nan, sample_domain=sd)


@pytest.mark.parametrize("Est", [CORAL, TCA])
def test_transformers_need_a_1d_y_without_sample_domain(Est):
    X, y, _, _ = _domains()
    with pytest.raises(ValueError, match=re.escape(
            f"y must be 1-D, of shape ({len(y)},), with -1 on the target rows; got "
            f"shape ({len(y)}, 2)")):
        Est().fit(X, np.column_stack([y, y]))


def test_coral_needs_two_rows_per_domain_and_tca_enough_rows():
    X, y, _, _ = _domains()
    y_one = np.full_like(y, 0)
    y_one[0] = -1
    with pytest.raises(ValueError, match="at least 2 target rows"):
        CORAL().fit(X, y_one)
    with pytest.raises(ValueError, match="n_components=600 is larger"):
        TCA(n_components=600).fit(X, y)


def test_inputs_not_modified_by_the_transformers():
    X, y, _, _ = _domains()
    X0, y0 = X.copy(), y.copy()
    CORAL().fit_transform(X, y)
    TCA(n_components=3).fit_transform(X, y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


# ---------------------------------------------------------------------------
# The digits shift.


def test_shift_digits_is_deterministic_and_does_what_it_says():
    from sklabelfree.datasets import load_digits_images

    X, _ = load_digits_images(as_images=False)
    X0 = X.copy()
    a, b = shift_digits(X[:50]), shift_digits(X[:50])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(X, X0)
    assert a.dtype == np.float32 and a.shape == (50, 64)
    imgs = shift_digits(X[:50].reshape(-1, 1, 8, 8))
    np.testing.assert_allclose(imgs.reshape(50, 64), a)
    # A pure translation by whole pixels moves the ink.
    one = shift_digits(X[:1], shift=(0, 1), blur=0, contrast=1.0, brightness=0.0)
    np.testing.assert_allclose(one.reshape(8, 8)[:, 1:], X[0].reshape(8, 8)[:, :-1])
    assert np.all(one.reshape(8, 8)[:, 0] == 0)
    dim = shift_digits(X[:1], shift=(0, 0), blur=0, contrast=0.5, brightness=0.0)
    np.testing.assert_allclose(dim, 0.5 * X[:1])
    with pytest.raises(ValueError, match="64 pixels"):
        shift_digits(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="contrast must be > 0"):
        shift_digits(X[:2], contrast=0)


def test_shift_digits_refuses_a_scalar_shift():
    X = np.zeros((2, 64))
    with pytest.raises(ValueError, match=re.escape("shift must be a pair (down, right); "
                                                   "got 1.0")):
        shift_digits(X, shift=1.0)


def test_make_shifted_digits_split():
    X, y, Xt, yt = make_shifted_digits(2)
    assert X.shape == (1797, 64) and (y == -1).sum() == 540
    np.testing.assert_array_equal(X[1257:], Xt)
    assert set(np.unique(y[:1257])) == set(range(10))
    assert np.bincount(yt).min() >= 50
