"""Instance transfer: importance weighting of the source rows."""

from numbers import Integral, Real

import numpy as np
from scipy.sparse.linalg import eigsh
from sklearn.base import _fit_context, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import euclidean_distances, rbf_kernel
from sklearn.model_selection import KFold
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, _routing_enabled
from sklearn.utils.validation import has_fit_parameter, validate_data

from ..base import BaseSemiSupervisedMetaEstimator
from ..utils.validation import _labeled_entries, labeled_mask
from ._domains import check_domains

__all__ = ["ImportanceWeightingClassifier"]

_GAMMA_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)
"""Multiples of the median heuristic tried by KLIEP's likelihood cross-validation."""


# ---------------------------------------------------------------------------
# Kernel widths.


def _median_gamma(X, rng, max_rows=1000):
    """``1 / median`` of the squared distances between rows (a subsample)."""
    if X.shape[0] > max_rows:
        X = X[rng.choice(X.shape[0], max_rows, replace=False)]
    d2 = euclidean_distances(X, squared=True)
    d2 = d2[np.triu_indices_from(d2, k=1)]
    d2 = d2[d2 > 0]
    if d2.size == 0:
        return 1.0
    return 1.0 / float(np.median(d2))


# ---------------------------------------------------------------------------
# The domain classifier's density ratio.


def _classifier_ratio(X_source, X_target, domain_estimator, rng):
    """``p(target | x) / p(source | x) * n_s / n_t`` on the source rows, and the
    fitted domain classifier."""
    X = np.vstack([X_source, X_target])
    d = np.r_[np.zeros(X_source.shape[0], dtype=int), np.ones(X_target.shape[0], dtype=int)]
    est = clone(domain_estimator)
    if "random_state" in est.get_params() and est.get_params()["random_state"] is None:
        est.set_params(random_state=rng.randint(np.iinfo(np.int32).max))
    est.fit(X, d)
    proba = est.predict_proba(X_source)
    col = int(np.flatnonzero(np.asarray(est.classes_) == 1)[0])
    p = np.clip(proba[:, col], 1e-6, 1 - 1e-6)
    return p / (1.0 - p) * (X_source.shape[0] / X_target.shape[0]), est


# ---------------------------------------------------------------------------
# Kernel mean matching.


def _project_box_slab(v, upper, low_sum, high_sum):
    """Euclidean projection of ``v`` on ``{0 <= w <= upper, low_sum <= sum(w) <= high_sum}``.

    The projection is ``clip(v - tau, 0, upper)`` for the scalar ``tau``
    (0 when the clipped vector already satisfies the sum constraint) that
    puts the sum on the violated bound; ``sum(clip(v - tau))`` decreases
    with ``tau``, so bisection finds it.
    """
    w = np.clip(v, 0.0, upper)
    total = w.sum()
    if low_sum <= total <= high_sum:
        return w
    goal = high_sum if total > high_sum else low_sum
    lo, hi = float(v.min()) - upper, float(v.max())
    for _ in range(100):
        tau = 0.5 * (lo + hi)
        s = np.clip(v - tau, 0.0, upper).sum()
        if s > goal:
            lo = tau
        else:
            hi = tau
        if hi - lo < 1e-12 * max(1.0, abs(tau)):
            break
    return np.clip(v - 0.5 * (lo + hi), 0.0, upper)


def _kmm_weights(X_source, X_target, gamma, upper, eps, max_iter, tol):
    """Kernel mean matching (Huang et al. 2007), solved by accelerated projected gradient.

    Minimises ``1/2 w' K w - kappa' w`` with ``K = k(X_s, X_s)`` and
    ``kappa_i = n_s / n_t * sum_j k(x_i, x'_j)`` (the QP of the paper, up to
    a constant and a factor ``1 / n_s**2``) over ``0 <= w <= upper``,
    ``|sum(w) - n_s| <= n_s * eps``. Returns ``(w, n_iter)``.
    """
    n_s, n_t = X_source.shape[0], X_target.shape[0]
    K = rbf_kernel(X_source, X_source, gamma=gamma)
    kappa = rbf_kernel(X_source, X_target, gamma=gamma).sum(axis=1) * (n_s / n_t)
    if n_s > 2:
        lipschitz = float(eigsh(K, k=1, which="LA", tol=1e-4,
                                return_eigenvectors=False, v0=np.ones(n_s))[0])
    else:
        lipschitz = float(np.linalg.eigvalsh(K)[-1])
    lipschitz = max(lipschitz * 1.01, 1e-12)
    low, high = n_s * (1.0 - eps), n_s * (1.0 + eps)
    w = _project_box_slab(np.ones(n_s), upper, low, high)
    z, t = w.copy(), 1.0
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        grad = K @ z - kappa
        w_new = _project_box_slab(z - grad / lipschitz, upper, low, high)
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        z = w_new + ((t - 1.0) / t_new) * (w_new - w)
        change = np.max(np.abs(w_new - w))
        w, t = w_new, t_new
        if change < tol:
            break
    return w, n_iter


# ---------------------------------------------------------------------------
# KLIEP.


def _project_weighted_simplex(v, b):
    """Euclidean projection of ``v`` on ``{alpha >= 0, b' alpha = 1}`` (``b > 0``).

    The projection is ``max(v - tau * b, 0)`` with ``tau`` such that
    ``b' max(v - tau * b, 0) = 1``; the left side decreases with ``tau``.
    """
    ratio = v / b
    lo, hi = float(ratio.min()) - 1.0 / float(b @ b) - 1.0, float(ratio.max())
    for _ in range(200):
        tau = 0.5 * (lo + hi)
        s = b @ np.maximum(v - tau * b, 0.0)
        if s > 1.0:
            lo = tau
        else:
            hi = tau
        if hi - lo < 1e-14 * max(1.0, abs(tau)):
            break
    alpha = np.maximum(v - 0.5 * (lo + hi) * b, 0.0)
    s = b @ alpha
    return alpha / s if s > 0 else alpha


def _kliep_alpha(A, b, max_iter, tol):
    """Maximise ``mean(log(A alpha))`` over ``alpha >= 0, b' alpha = 1``.

    Projected gradient ascent with a backtracking step (Sugiyama et al.
    2008). ``A``: kernel values of the target rows at the centres; ``b``:
    mean kernel value of the source rows at each centre. Returns
    ``(alpha, n_iter)``.
    """
    b = np.maximum(b, 1e-300)
    alpha = np.full(A.shape[1], 1.0 / b.sum())
    floor = 1e-300

    def objective(a):
        return float(np.mean(np.log(np.maximum(A @ a, floor))))

    value = objective(alpha)
    step = 1.0 / max(float(np.mean(b)), 1e-12)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        grad = A.T @ (1.0 / np.maximum(A @ alpha, floor)) / A.shape[0]
        improved = False
        for _ in range(50):
            candidate = _project_weighted_simplex(alpha + step * grad, b)
            new_value = objective(candidate)
            if new_value >= value:
                improved = True
                break
            step *= 0.5
        if not improved:
            break
        gain = new_value - value
        alpha, value = candidate, new_value
        step *= 2.0
        if gain < tol * max(1.0, abs(value)):
            break
    return alpha, n_iter


class _KliepNoOverlapError(ValueError):
    """The source rows' kernel values at every KLIEP centre underflow."""


_KLIEP_MIN_B = float(np.sqrt(np.finfo(np.float64).tiny))
"""Below this for every centre, ``b' alpha = 1`` is out of floating-point reach."""


def _kliep_fit(X_source, X_target, gamma, n_centers, rng, max_iter, tol):
    """Centres (target rows), their coefficients and the number of iterations.

    Raises ``_KliepNoOverlapError`` (a ``ValueError``) when the source rows
    are, for this kernel width, too far from every centre for the constraint
    ``mean(w) = 1`` on the source rows to be met in floating point.
    """
    n_c = min(n_centers, X_target.shape[0])
    centers = X_target[np.sort(rng.choice(X_target.shape[0], n_c, replace=False))]
    A = rbf_kernel(X_target, centers, gamma=gamma)
    b = rbf_kernel(X_source, centers, gamma=gamma).mean(axis=0)
    if not np.any(b > _KLIEP_MIN_B):
        raise _KliepNoOverlapError(
            f"ImportanceWeightingClassifier(method='kliep'): with gamma={gamma:.4g} the "
            "source rows are too far from every target row for the Gaussian kernel "
            "(their kernel values underflow), so the importance weights cannot be "
            "estimated: the domains do not overlap at this kernel width. Use a wider "
            "kernel (smaller gamma) or method='classifier'.")
    alpha, n_iter = _kliep_alpha(A, b, max_iter, tol)
    return centers, alpha, n_iter


def _kliep_cv(X_source, X_target, gammas, n_centers, n_folds, rng, max_iter, tol):
    """Held-out mean log ``w`` on the target rows for each kernel width.

    A width for which the source rows are too far from the centres of some
    fold scores ``-inf``.
    """
    n_folds = min(n_folds, X_target.shape[0])
    folds = list(KFold(n_folds, shuffle=True,
                       random_state=rng.randint(np.iinfo(np.int32).max)).split(X_target))
    scores = {}
    for gamma in gammas:
        fold_scores = []
        for train, test in folds:
            try:
                centers, alpha, _ = _kliep_fit(X_source, X_target[train], gamma,
                                               n_centers, rng, max_iter, tol)
            except _KliepNoOverlapError:
                fold_scores = [-np.inf]
                break
            w = rbf_kernel(X_target[test], centers, gamma=gamma) @ alpha
            fold_scores.append(float(np.mean(np.log(np.maximum(w, 1e-300)))))
        scores[float(gamma)] = float(np.mean(fold_scores))
    return scores


# ---------------------------------------------------------------------------
# The estimator.


def _class_preserving_resample(rows, y_rows, weights, rng):
    """Draw ``len(rows)`` rows with replacement, with probability ``weights``.

    A class that the draw misses gets its highest-weight row added, so that
    the resample keeps every class of ``y_rows``.
    """
    p = weights / weights.sum()
    picked = rng.choice(rows.shape[0], size=rows.shape[0], replace=True, p=p)
    present = set(y_rows[picked].tolist())
    extra = []
    for c in dict.fromkeys(y_rows.tolist()):
        if c not in present:
            members = np.flatnonzero(y_rows == c)
            extra.append(members[np.argmax(weights[members])])
    if extra:
        picked = np.concatenate([picked, np.asarray(extra, dtype=picked.dtype)])
    return rows[picked]


class ImportanceWeightingClassifier(BaseSemiSupervisedMetaEstimator):
    """Instance transfer: fit a classifier on source rows weighted towards the target.

    Under covariate shift the class of a row depends on the row in the same
    way in both domains, but the rows are drawn from different densities.
    Weighting each labeled source row by the density ratio
    ``w(x) = p_target(x) / p_source(x)`` makes the weighted source loss an
    estimate of the target loss (Shimodaira 2000). The ratio is estimated
    from the rows alone, without target labels, by one of three methods:

    - ``'classifier'``: a probabilistic classifier learns to tell target
      rows from source rows; ``w(x) = p(t | x) / p(s | x) * n_s / n_t``
      (the second factor corrects for the sizes of the two samples);
    - ``'kmm'``: kernel mean matching (Huang et al. 2007) chooses weights
      ``0 <= w_i <= max_weight`` whose weighted source mean in the feature
      space of a Gaussian kernel matches the target mean, with
      ``|sum(w) - n_s| <= n_s * eps``; the quadratic program is solved by
      accelerated projected gradient;
    - ``'kliep'``: KLIEP (Sugiyama et al. 2008) models
      ``w(x) = sum_l alpha_l k(x, c_l)`` with Gaussian kernels on
      ``n_centers`` target rows, and maximises the mean of ``log w`` on the
      target rows under ``mean(w) = 1`` on the source rows and
      ``alpha >= 0``, by projected gradient ascent.

    The estimated weights are clipped to ``[0, max_weight]`` and scaled to
    mean 1 over the source rows. ``estimator`` is then fitted on the labeled
    source rows with ``sample_weight`` equal to the weights, or, when its
    ``fit`` takes no ``sample_weight``, on a weighted resample of them that
    keeps at least one row of every class.

    Read more in the :ref:`User Guide <importance_weighting>`.

    Parameters
    ----------
    estimator : classifier or None, default=None
        The classifier fitted on the weighted source rows; it is cloned.
        ``None`` uses :class:`~sklearn.linear_model.LogisticRegression`.
    method : {'classifier', 'kmm', 'kliep'}, default='classifier'
        How the density ratio is estimated.
    domain_estimator : classifier or None, default=None
        With ``method='classifier'``: the probabilistic classifier that tells
        target rows (class 1) from source rows (class 0); it is cloned.
        ``None`` uses ``LogisticRegression(C=0.01)``: a strongly regularised
        classifier gives smoother ratios than one that separates the domains.
    gamma : float > 0 or 'auto', default='auto'
        Width of the Gaussian kernel ``exp(-gamma * ||x - x'||**2)`` of
        ``'kmm'`` and ``'kliep'``. ``'auto'``: for KMM the median heuristic
        (one over the median squared distance between rows); for KLIEP the
        multiple of it in (0.1, 0.3, 1, 3, 10) with the highest held-out
        likelihood of the target rows (likelihood cross-validation, ``cv``
        folds of the target rows).
    max_weight : float > 0, default=10.0
        Upper bound of every weight before the scaling to mean 1 (the bound
        ``B`` of KMM's quadratic program).
    eps : float >= 0 or None, default=None
        With ``method='kmm'``: the tolerance on the sum of the weights.
        ``None`` uses ``(sqrt(n_s) - 1) / sqrt(n_s)`` as the paper.
    n_centers : int >= 1, default=100
        With ``method='kliep'``: number of target rows used as kernel
        centres (all of them when there are fewer).
    cv : int >= 2, default=5
        With ``method='kliep'`` and ``gamma='auto'``: folds of the
        likelihood cross-validation.
    weighting : {'auto', 'sample_weight', 'resample'}, default='auto'
        How the weights reach ``estimator``: as ``sample_weight``, by a
        class-preserving weighted resample, or ``'auto'``: ``sample_weight``
        when ``estimator.fit`` takes it, a resample otherwise.
    max_iter : int >= 1, default=1000
        Iterations of the KMM and KLIEP solvers.
    tol : float > 0, default=1e-6
        Stopping tolerance of the KMM and KLIEP solvers.
    random_state : int, RandomState instance or None, default=None
        Draws KLIEP's centres and folds, the resample, and seeds an unset
        ``random_state`` of the domain classifier.

    Attributes
    ----------
    estimator_ : classifier
        The fitted classifier.
    classes_ : ndarray of shape (n_classes,)
        Classes of the labeled source rows (``-1`` is never one).
    weights_ : ndarray of shape (n_samples,)
        The importance weight of each row of ``X`` given to ``fit``: mean 1
        over the source rows, 0 on the target rows.
    gamma_ : float or None
        The kernel width used (``None`` for ``method='classifier'``).
    cv_scores_ : dict of float -> float or None
        With ``method='kliep'`` and ``gamma='auto'``: the held-out mean log
        weight of the target rows for each kernel width tried.
    domain_estimator_ : classifier or None
        The fitted domain classifier (``method='classifier'``).
    n_iter_ : int
        Iterations of the KMM or KLIEP solver (0 for the classifier).
    resample_indices_ : ndarray of int or None
        Rows of ``X`` (with repeats) that ``estimator_`` was fitted on when
        the weights were applied by resampling; ``None`` otherwise.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features, when ``X`` is a DataFrame with string columns.

    See Also
    --------
    SourceOnlyClassifier : The same classifier without weights.
    CORAL : Align the second-order statistics of the source to the target.
    TCA : Embed both domains in a space where their distributions are close.

    Notes
    -----
    **Domains.** ``fit(X, y, sample_domain=None)`` takes the source and the
    target rows together. Without ``sample_domain`` the labeled rows are the
    source and the rows with ``y == -1`` the target. ``sample_domain`` (one
    integer per row: positive for source, negative for target) can say it
    explicitly; it is passed directly, or routed as metadata inside a
    :class:`~sklearn.pipeline.Pipeline` after
    ``set_fit_request(sample_domain=True)``. Labels on target rows are
    ignored. Nothing about the data is stored in the constructor, so the
    estimator clones and is tuned by ``GridSearchCV`` like any other.

    Importance weighting assumes that every target row could have been a
    source row (the target density is 0 where the source density is): it
    re-weights the source, it cannot move it. When the domains barely
    overlap, the weights concentrate on few rows and help little; a feature
    transformation (:class:`CORAL`, :class:`TCA`) is then the better tool.

    The rows are converted to a dense float array: the kernels and the
    domain classifier need numbers. ``estimator`` gets the rows of a
    DataFrame as a DataFrame, so that it keeps the feature names and
    predicting on DataFrames does not warn.

    References
    ----------
    .. [1] H. Shimodaira, "Improving predictive inference under covariate
       shift by weighting the log-likelihood function", Journal of
       Statistical Planning and Inference 90(2), 2000.
    .. [2] J. Huang, A. J. Smola, A. Gretton, K. M. Borgwardt, B. Schölkopf,
       "Correcting Sample Selection Bias by Unlabeled Data", NIPS 2006
       (published 2007).
    .. [3] M. Sugiyama, S. Nakajima, H. Kashima, P. von Bünau, M. Kawanabe,
       "Direct Importance Estimation with Model Selection and Its
       Application to Covariate Shift Adaptation", NIPS 2007 (published
       2008).
    .. [4] S. Bickel, M. Brückner, T. Scheffer, "Discriminative Learning
       Under Covariate Shift", JMLR 10, 2009 (the domain classifier's ratio).

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.transfer import ImportanceWeightingClassifier
    >>> rng = np.random.RandomState(0)
    >>> X_source = rng.normal(0.0, 1.0, size=(200, 1))
    >>> y_source = (X_source[:, 0] + 0.3 * rng.normal(size=200) > 0.5).astype(int)
    >>> X_target = rng.normal(1.0, 0.5, size=(100, 1))
    >>> X = np.vstack([X_source, X_target])
    >>> y = np.r_[y_source, -np.ones(100, dtype=int)]      # -1: target rows
    >>> clf = ImportanceWeightingClassifier(method="kmm").fit(X, y)
    >>> clf.weights_.shape, round(float(clf.weights_[:200].mean()), 6)
    ((300,), 1.0)
    >>> bool(clf.weights_[np.argmax(X_source[:, 0])] > clf.weights_[np.argmin(X_source[:, 0])])
    True
    >>> clf.predict([[-2.0], [2.0]])
    array([0, 1])
    """

    _sklabelfree_semi_supervised = False

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "method": [StrOptions({"classifier", "kmm", "kliep"})],
        "domain_estimator": [HasMethods(["fit", "predict_proba"]), None],
        "gamma": [Interval(Real, 0.0, None, closed="neither"), StrOptions({"auto"})],
        "max_weight": [Interval(Real, 0.0, None, closed="neither")],
        "eps": [Interval(Real, 0.0, None, closed="left"), None],
        "n_centers": [Interval(Integral, 1, None, closed="left")],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "weighting": [StrOptions({"auto", "sample_weight", "resample"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        method="classifier",
        *,
        domain_estimator=None,
        gamma="auto",
        max_weight=10.0,
        eps=None,
        n_centers=100,
        cv=5,
        weighting="auto",
        max_iter=1000,
        tol=1e-6,
        random_state=None,
    ):
        self.estimator = estimator
        self.method = method
        self.domain_estimator = domain_estimator
        self.gamma = gamma
        self.max_weight = max_weight
        self.eps = eps
        self.n_centers = n_centers
        self.cv = cv
        self.weighting = weighting
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _estimate_ratio(self, X_source, X_target, rng):
        """Raw density-ratio estimates on the source rows (before clipping)."""
        self.gamma_, self.cv_scores_, self.domain_estimator_ = None, None, None
        self.n_iter_ = 0
        if self.method == "classifier":
            domain = (LogisticRegression(C=0.01) if self.domain_estimator is None
                      else self.domain_estimator)
            ratio, self.domain_estimator_ = _classifier_ratio(X_source, X_target, domain,
                                                              rng)
            return ratio
        pooled = np.vstack([X_source, X_target])
        if self.method == "kmm":
            gamma = (_median_gamma(pooled, rng) if self.gamma == "auto"
                     else float(self.gamma))
            n_s = X_source.shape[0]
            eps = (np.sqrt(n_s) - 1.0) / np.sqrt(n_s) if self.eps is None else self.eps
            w, self.n_iter_ = _kmm_weights(X_source, X_target, gamma, self.max_weight,
                                           eps, self.max_iter, self.tol)
            self.gamma_ = gamma
            return w
        if self.gamma == "auto":
            base = _median_gamma(pooled, rng)
            if X_target.shape[0] >= 2:
                self.cv_scores_ = _kliep_cv(X_source, X_target,
                                            [base * m for m in _GAMMA_GRID],
                                            self.n_centers, self.cv, rng, self.max_iter,
                                            self.tol)
                if not np.isfinite(max(self.cv_scores_.values())):
                    raise ValueError(
                        f"{type(self).__name__}(method='kliep'): for every kernel width "
                        f"tried ({', '.join(f'{g:.4g}' for g in self.cv_scores_)}) the "
                        "source rows are too far from the target rows (their kernel "
                        "values underflow): the domains do not overlap. Pass a smaller "
                        "gamma or use method='classifier'.")
                gamma = max(self.cv_scores_, key=self.cv_scores_.get)
            else:
                gamma = base
        else:
            gamma = float(self.gamma)
        centers, alpha, self.n_iter_ = _kliep_fit(X_source, X_target, gamma,
                                                  self.n_centers, rng, self.max_iter,
                                                  self.tol)
        self.gamma_ = gamma
        return rbf_kernel(X_source, centers, gamma=gamma) @ alpha

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_domain=None, **fit_params):
        """Estimate the weights of the source rows, then fit the weighted classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,)
            Labels of the source rows, ``-1`` on the target rows.
        sample_domain : array-like of int of shape (n_samples,), default=None
            Positive ids for source rows, negative ids for target rows;
            ``None``: the labeled rows are the source, the others the target.
        **fit_params : dict
            ``sample_weight`` (one weight per row, multiplied with the
            importance weights, also when these are applied by resampling to
            an estimator whose ``fit`` takes no ``sample_weight``), or, with
            metadata routing enabled, whatever ``estimator.fit`` requests.
            The estimator gets the source rows' part.

        Returns
        -------
        self : ImportanceWeightingClassifier
        """
        X_in = X
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=True)
        # A DataFrame reaches estimator_ as a DataFrame, so that its feature
        # names match those of the DataFrames given to predict.
        X_est = X_in if getattr(self, "feature_names_in_", None) is not None else X
        n = X.shape[0]
        y_source, source, classes = check_domains(
            n, y, sample_domain, estimator_name=type(self).__name__)
        routed = self._route_fit_params(X, fit_params)
        rng = check_random_state(self.random_state)
        X64 = np.asarray(X, dtype=np.float64)
        ratio = np.asarray(self._estimate_ratio(X64[source], X64[~source], rng), dtype=float)
        ratio = np.clip(ratio, 0.0, self.max_weight)
        mean = ratio.mean()
        if not np.isfinite(mean) or mean <= 0:
            raise ValueError(
                f"{type(self).__name__}: every importance weight is 0: the source rows "
                "are far from every target row for this kernel. Use a wider kernel "
                "(smaller gamma) or another method.")
        weights = np.zeros(n)
        weights[source] = ratio / mean
        self.weights_ = weights
        self.classes_ = classes

        train = np.flatnonzero(source & labeled_mask(y_source))
        w_train = weights[train]
        base_weight = routed.get("sample_weight")
        if base_weight is not None:
            w_train = w_train * np.asarray(base_weight, dtype=float)[train]
            routed = {k: v for k, v in routed.items() if k != "sample_weight"}
        base = self._get_param_estimator()
        mode = self.weighting
        if mode == "auto":
            mode = "sample_weight" if has_fit_parameter(base, "sample_weight") else "resample"
        elif mode == "sample_weight" and not has_fit_parameter(base, "sample_weight"):
            raise ValueError(
                f"weighting='sample_weight' needs an estimator whose fit takes "
                f"sample_weight; {type(base).__name__} does not. Use weighting='resample'.")
        self.estimator_ = clone(base)
        if mode == "sample_weight":
            self.resample_indices_ = None
            self._fit_on_rows(self.estimator_, X_est, _labeled_entries(y_source[train]),
                              train, routed, weights=w_train)
        else:
            if not np.any(w_train > 0):
                w_train = np.ones_like(w_train)
            rows = _class_preserving_resample(train, y_source[train], w_train, rng)
            self.resample_indices_ = rows
            self._fit_on_rows(self.estimator_, X_est, _labeled_entries(y_source[rows]),
                              rows, routed)
        return self

    def _route_fit_params(self, X, params):
        """Fit parameters for ``estimator``, full length.

        As the base class, except that without metadata routing a
        ``sample_weight`` is also kept when ``estimator.fit`` does not take
        it but the weights reach it by resampling (``weighting='auto'`` or
        ``'resample'``): it then multiplies the resampling probabilities.
        """
        sample_weight = params.get("sample_weight")
        if (_routing_enabled() or sample_weight is None
                or self.weighting == "sample_weight"
                or has_fit_parameter(self._get_param_estimator(), "sample_weight")):
            return super()._route_fit_params(X, params)
        params = {k: v for k, v in params.items() if k != "sample_weight"}
        routed = super()._route_fit_params(X, params)
        sample_weight = np.asarray(sample_weight, dtype=float)
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(
                f"sample_weight has shape {sample_weight.shape}; expected "
                f"({X.shape[0]},), one weight per row of X.")
        routed["sample_weight"] = sample_weight
        return routed

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        ``sample_domain`` is consumed by this estimator (request it with
        ``set_fit_request(sample_domain=True)`` inside a pipeline); other
        ``fit`` metadata reaches ``estimator``, sliced to the rows it is
        fitted on.

        Returns
        -------
        routing : MetadataRouter
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        router.add(
            estimator=self._get_param_estimator(),
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
        return router

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.input_tags.string = False
        tags.input_tags.categorical = False
        return tags
