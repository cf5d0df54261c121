"""Feature transfer: CORAL and transfer component analysis (TCA)."""

from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import svd_flip
from sklearn.utils.validation import check_is_fitted, validate_data

from ._domains import check_domains

__all__ = ["CORAL", "TCA"]


def _sym_power(C, power):
    """``C ** power`` of a symmetric positive definite matrix, by its eigenvalues."""
    vals, vecs = linalg.eigh(C)
    vals = np.maximum(vals, np.finfo(float).tiny)
    return (vecs * vals ** power) @ vecs.T


def _domain_rows(estimator, X, y, sample_domain):
    """Validated ``X`` (float) and the source mask, for a transformer's ``fit``."""
    X = validate_data(estimator, X, dtype=[np.float64, np.float32], reset=True)
    _, source, _ = check_domains(X.shape[0], y, sample_domain, require_labels=False,
                                 estimator_name=type(estimator).__name__)
    return X, source


class CORAL(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """CORrelation ALignment: re-colour the source rows with the target covariance.

    CORAL (Sun, Feng & Saenko 2016) aligns the second-order statistics of
    the two domains: the source rows are whitened with the source
    covariance and re-coloured with the target covariance,

    ``x_s -> (x_s - m_s) C_s^(-1/2) C_t^(1/2) + m_t``,

    with ``C_s = cov(source) + reg * I`` and ``C_t = cov(target) + reg * I``,
    so that the mapped source rows have (up to the regularisation) the
    covariance of the target rows. A classifier trained on the mapped source
    rows is then applied to the target rows *as they are*.

    Read more in the :ref:`User Guide <coral>`.

    Parameters
    ----------
    reg : float >= 0, default=1.0
        The ``lambda`` added to both diagonals (the paper's choice of 1);
        it keeps the whitening stable when the source covariance is
        singular (constant pixels) and shrinks the map towards a pure
        rescaling. Features on a very different scale than unit variance
        call for a matching value.
    center : bool, default=True
        Also move the source mean onto the target mean (first-order
        alignment). ``False`` is the paper's Algorithm 1 literally, which
        re-colours the rows without centring them.

    Attributes
    ----------
    source_mean_ : ndarray of shape (n_features,)
    target_mean_ : ndarray of shape (n_features,)
    source_covariance_ : ndarray of shape (n_features, n_features)
        ``cov(source) + reg * I``.
    target_covariance_ : ndarray of shape (n_features, n_features)
        ``cov(target) + reg * I``.
    coloring_ : ndarray of shape (n_features, n_features)
        ``C_s^(-1/2) C_t^(1/2)``: the map applied to the (centred) source
        rows on the right, ``x @ coloring_``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        When ``X`` is a DataFrame with string columns.

    See Also
    --------
    SourceOnlyClassifier : The classifier step of a CORAL pipeline.
    TCA : A shared embedding of both domains.

    Notes
    -----
    **What each method does to which rows.**

    - ``fit(X, y, sample_domain=None)`` learns the map from the source and
      the target rows (labeled rows are the source, rows with ``y == -1``
      the target, unless ``sample_domain`` says otherwise: positive ids
      for source rows, negative for target rows). ``y`` is only used to
      tell the domains apart.
    - ``fit_transform(X, y, sample_domain=None)`` returns ``X`` with the
      *source rows re-coloured* and the target rows unchanged: in a
      :class:`~sklearn.pipeline.Pipeline` the next step learns from the
      re-coloured source rows.
    - ``transform(X)`` treats ``X`` as target rows, the rows the model is
      used on: it returns them unchanged (as floats). So ``predict`` of a
      pipeline applies the classifier to the target rows as they are.
    - :meth:`transform_source` maps any rows as source rows.

    ``fit_transform`` is therefore not ``fit(...).transform(...)`` on the
    training rows: the training rows contain source rows, new rows are
    target rows. The classifier step must ignore the target rows of the
    training data (``y == -1``): use
    :class:`SourceOnlyClassifier`, or any of sklabelfree's semi-supervised
    classifiers, which also learn from them::

        make_pipeline(CORAL(), SourceOnlyClassifier(LogisticRegression()))

    The two covariances are computed with ``ddof=1``; each domain needs at
    least two rows.

    References
    ----------
    .. [1] B. Sun, J. Feng, K. Saenko, "Return of Frustratingly Easy Domain
       Adaptation", AAAI 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.transfer import CORAL
    >>> rng = np.random.RandomState(0)
    >>> X_source = rng.normal(size=(300, 2))
    >>> X_target = rng.normal(size=(300, 2)) @ np.array([[2.0, 0.0], [1.0, 0.5]])
    >>> X = np.vstack([X_source, X_target])
    >>> y = np.r_[rng.randint(2, size=300), -np.ones(300, dtype=int)]
    >>> coral = CORAL(reg=1e-9)
    >>> Z = coral.fit_transform(X, y)
    >>> np.allclose(np.cov(Z[:300], rowvar=False), np.cov(X_target, rowvar=False))
    True
    >>> np.array_equal(Z[300:], X_target), np.array_equal(coral.transform(X_target), X_target)
    (True, True)
    """

    _parameter_constraints: dict = {
        "reg": [Interval(Real, 0.0, None, closed="left")],
        "center": ["boolean"],
    }

    def __init__(self, reg=1.0, center=True):
        self.reg = reg
        self.center = center

    def _fit(self, X, y, sample_domain):
        X, source = _domain_rows(self, X, y, sample_domain)
        Xs, Xt = np.asarray(X[source], dtype=float), np.asarray(X[~source], dtype=float)
        for name, part in (("source", Xs), ("target", Xt)):
            if part.shape[0] < 2:
                raise ValueError(
                    f"CORAL needs at least 2 {name} rows to estimate a covariance; got "
                    f"{part.shape[0]}.")
        eye = np.eye(X.shape[1])
        self.source_mean_ = Xs.mean(axis=0)
        self.target_mean_ = Xt.mean(axis=0)
        self.source_covariance_ = np.atleast_2d(np.cov(Xs, rowvar=False)) + self.reg * eye
        self.target_covariance_ = np.atleast_2d(np.cov(Xt, rowvar=False)) + self.reg * eye
        self.coloring_ = (_sym_power(self.source_covariance_, -0.5)
                          @ _sym_power(self.target_covariance_, 0.5))
        return X, source

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_domain=None):
        """Learn the map from the source statistics to the target statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,) or None, default=None
            ``-1`` on the target rows; the other values are ignored. Needed
            when ``sample_domain`` is ``None`` (then 1-D). With
            ``sample_domain`` any target with one row per sample (e.g. a
            regression or multi-output one) passes, as long as its source
            rows hold no NaN.
        sample_domain : array-like of int of shape (n_samples,), default=None
            Positive ids for source rows, negative ids for target rows.

        Returns
        -------
        self : CORAL
        """
        self._fit(X, y, sample_domain)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, sample_domain=None):
        """Fit, and return ``X`` with the source rows re-coloured.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,) or None, default=None
            ``-1`` on the target rows; as in :meth:`fit`.
        sample_domain : array-like of int of shape (n_samples,), default=None
            Positive ids for source rows, negative ids for target rows.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Source rows mapped by :meth:`transform_source`; target rows
            unchanged.
        """
        X, source = self._fit(X, y, sample_domain)
        out = np.array(X, dtype=X.dtype, copy=True)
        out[source] = self._map(X[source]).astype(out.dtype, copy=False)
        return out

    def _map(self, X):
        X = np.asarray(X, dtype=float)
        if self.center:
            return (X - self.source_mean_) @ self.coloring_ + self.target_mean_
        return X @ self.coloring_

    def transform(self, X):
        """Target rows are left as they are: return ``X`` validated, as floats.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of the target domain (the rows to predict).

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            A copy of ``X``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return np.array(X, copy=True)

    def transform_source(self, X):
        """Map rows as source rows: whiten with the source, re-colour with the target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of the source domain.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return self._map(X).astype(X.dtype, copy=False)


class TCA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Transfer component analysis: an embedding where both domains look alike.

    TCA (Pan, Tsang, Kwok & Yang 2011) looks for ``n_components`` directions
    in the feature space of a kernel along which the maximum mean
    discrepancy (MMD) between the source and the target rows is small while
    the variance of all rows is kept. With ``K`` the kernel matrix of the
    ``n = n_s + n_t`` rows given to ``fit``, ``L = e e'`` where
    ``e_i = 1 / n_s`` on source rows and ``-1 / n_t`` on target rows (so
    that ``tr(K L) `` is the squared MMD), and the centring matrix
    ``H = I - 1 1' / n``, the directions ``W`` are the leading eigenvectors
    of ``(K L K + mu I)^(-1) K H K``. A row ``x`` is embedded as
    ``k(x, X_fit) W``; the rows of ``fit`` as ``K W``.

    Read more in the :ref:`User Guide <tca>`.

    Parameters
    ----------
    n_components : int >= 1, default=10
        Dimension of the embedding.
    kernel : {'linear', 'rbf', 'poly', 'sigmoid', 'cosine', 'laplacian'}, default='linear'
        The kernel, as :func:`sklearn.metrics.pairwise.pairwise_kernels`
        computes it.
    gamma : float > 0 or None, default=None
        Kernel coefficient of ``'rbf'``, ``'poly'``, ``'sigmoid'`` and
        ``'laplacian'``; ``None``: ``1 / n_features``.
    degree : int >= 1, default=3
        Degree of the ``'poly'`` kernel.
    coef0 : float, default=1.0
        Independent term of the ``'poly'`` and ``'sigmoid'`` kernels.
    mu : float > 0, default=0.01
        Trade-off between the MMD and the size of ``W``: the directions
        maximise the variance kept over ``MMD + mu * ||W||**2``. A larger
        ``mu`` keeps more variance at the price of a larger MMD. The penalty
        on the MMD must dominate: with a kernel bounded by 1 (``'rbf'``) the
        MMD term is small, and ``mu=1`` turns TCA into plain kernel PCA,
        whose leading directions may be the very ones that separate the
        domains. The default was chosen on the MMD of the embedded rows
        (TCA's own criterion, no labels) of the digits shift; with the
        linear kernel the value hardly matters.

    Attributes
    ----------
    X_fit_ : ndarray of shape (n_samples, n_features)
        The rows given to ``fit`` (the kernel of a new row is taken with them).
    eigenvectors_ : ndarray of shape (n_samples, n_components)
        ``W``.
    eigenvalues_ : ndarray of shape (n_components,)
        The leading eigenvalues, largest first.
    source_mask_ : ndarray of bool of shape (n_samples,)
        Which rows of ``X_fit_`` were source rows.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        When ``X`` is a DataFrame with string columns.

    See Also
    --------
    CORAL : Re-colour the source rows with the target covariance.
    SourceOnlyClassifier : The classifier step of a TCA pipeline.

    Notes
    -----
    Both domains are embedded by the same map, so ``fit_transform(X, y)`` is
    ``fit(X, y).transform(X)``. ``y`` (with ``-1`` on the target rows) or
    ``sample_domain`` (positive ids for source rows, negative for target
    rows) tells ``fit`` which rows are which; in a pipeline the classifier
    step must ignore the target rows of the training data:
    ``make_pipeline(TCA(), SourceOnlyClassifier(LogisticRegression()))``.

    ``fit`` solves a dense ``n x n`` generalised eigenproblem: its cost grows
    as ``n**3`` and its memory as ``n**2`` in the number of rows (a few
    seconds for two thousand rows).

    References
    ----------
    .. [1] S. J. Pan, I. W. Tsang, J. T. Kwok, Q. Yang, "Domain Adaptation
       via Transfer Component Analysis", IEEE Transactions on Neural
       Networks 22(2), 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.transfer import TCA
    >>> rng = np.random.RandomState(0)
    >>> X_source = rng.normal(size=(100, 3))
    >>> X_target = rng.normal(size=(80, 3)) + [2.0, 0.0, 0.0]  # shifted on one axis
    >>> X = np.vstack([X_source, X_target])
    >>> y = np.r_[rng.randint(2, size=100), -np.ones(80, dtype=int)]
    >>> tca = TCA(n_components=2).fit(X, y)
    >>> Z = tca.transform(X)
    >>> Z.shape
    (180, 2)
    >>> gap = lambda A, B: float(np.linalg.norm(A.mean(0) - B.mean(0)) / A.std())
    >>> bool(gap(Z[:100], Z[100:]) < 0.2 * gap(X_source, X_target))
    True
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "kernel": [StrOptions({"linear", "rbf", "poly", "sigmoid", "cosine", "laplacian"})],
        "gamma": [Interval(Real, 0.0, None, closed="neither"), None],
        "degree": [Interval(Integral, 1, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "mu": [Interval(Real, 0.0, None, closed="neither")],
    }

    def __init__(self, n_components=10, *, kernel="linear", gamma=None, degree=3, coef0=1.0,
                 mu=0.01):
        self.n_components = n_components
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.mu = mu

    def _kernel(self, X, Y):
        params = {}
        if self.kernel in ("rbf", "poly", "sigmoid", "laplacian"):
            params["gamma"] = self.gamma
        if self.kernel == "poly":
            params["degree"] = self.degree
        if self.kernel in ("poly", "sigmoid"):
            params["coef0"] = self.coef0
        return pairwise_kernels(X, Y, metric=self.kernel, filter_params=True, **params)

    def _fit(self, X, y, sample_domain):
        X, source = _domain_rows(self, X, y, sample_domain)
        n = X.shape[0]
        if self.n_components > n:
            raise ValueError(
                f"n_components={self.n_components} is larger than the number of rows "
                f"given to fit ({n}).")
        X = np.asarray(X, dtype=np.float64)
        K = self._kernel(X, X)
        n_s, n_t = int(source.sum()), int((~source).sum())
        e = np.where(source, 1.0 / n_s, -1.0 / n_t)
        Ke = K @ e
        B = np.outer(Ke, Ke) + self.mu * np.eye(n)              # K L K + mu I
        KH = K - K.mean(axis=1, keepdims=True)                  # K H
        A = KH @ K                                              # K H K
        A = 0.5 * (A + A.T)
        vals, vecs = linalg.eigh(A, B, subset_by_index=[n - self.n_components, n - 1])
        order = np.argsort(vals)[::-1]
        vals, vecs = vals[order], vecs[:, order]
        vecs, _ = svd_flip(vecs, np.zeros((vecs.shape[1], 1)), u_based_decision=True)
        self.X_fit_ = X
        self.eigenvectors_ = vecs
        self.eigenvalues_ = vals
        self.source_mask_ = source
        self._n_features_out = self.n_components
        return K

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_domain=None):
        """Find the transfer components of the source and target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,) or None, default=None
            ``-1`` on the target rows; the other values are ignored. Needed
            when ``sample_domain`` is ``None`` (then 1-D). With
            ``sample_domain`` any target with one row per sample (e.g. a
            regression or multi-output one) passes, as long as its source
            rows hold no NaN.
        sample_domain : array-like of int of shape (n_samples,), default=None
            Positive ids for source rows, negative ids for target rows.

        Returns
        -------
        self : TCA
        """
        self._fit(X, y, sample_domain)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, sample_domain=None):
        """Fit, and embed the rows of ``X`` (``K W``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or None, default=None
        sample_domain : array-like of int of shape (n_samples,), default=None

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
        """
        K = self._fit(X, y, sample_domain)
        return K @ self.eigenvectors_

    def transform(self, X):
        """Embed rows of either domain: ``k(X, X_fit_) @ eigenvectors_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return self._kernel(np.asarray(X, dtype=np.float64), self.X_fit_) @ self.eigenvectors_
