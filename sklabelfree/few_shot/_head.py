"""A new linear or cosine head fitted on frozen features (Chen et al. 2019)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseFewShotClassifier

__all__ = ["FineTunedHeadClassifier"]


def _normalize(A):
    return A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)


def _softmax(logits):
    logits = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def _head_logits(Z, kind, coef, intercept, scale):
    if kind == "cosine":
        return scale * _normalize(Z) @ _normalize(coef).T
    return Z @ coef.T + intercept


def fit_head(Z, codes, n_classes, kind="linear", scale=10.0, max_iter=100, lr=0.01,
             weight_decay=1e-3):
    """Train a linear or cosine head with full-batch Adam on the cross-entropy.

    The gradients are written out, so that a few rows train in
    milliseconds: for the linear head ``W z + b``, ``dL/dW = G^T Z +
    lambda W`` with ``G = (softmax - onehot) / n``; for the cosine head
    ``s cos(z, w_c)``, the gradient with respect to the normalised weights
    ``s G^T Z_n`` projected onto the tangent of the unit sphere and divided
    by ``||w_c||``. The linear head starts at zero, the cosine head at the
    normalised class means (weight imprinting, Qi et al. 2018): no
    randomness.

    Parameters
    ----------
    Z : ndarray of shape (n, d)
    codes : ndarray of int, shape (n,)
        Classes in ``[0, n_classes)``.
    n_classes : int
    kind : {'linear', 'cosine'}, default='linear'
    scale : float, default=10.0
    max_iter : int, default=100
    lr : float, default=0.01
    weight_decay : float, default=1e-3
        L2 penalty added to the gradient (as torch's Adam does).

    Returns
    -------
    coef : ndarray of shape (n_classes, d)
    intercept : ndarray of shape (n_classes,)
        Zero for the cosine head.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.few_shot._head import fit_head
    >>> Z = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> coef, b = fit_head(Z, np.array([0, 1]), 2, max_iter=50, lr=0.1)
    >>> (Z @ coef.T + b).argmax(axis=1)
    array([0, 1])
    """
    Z = np.asarray(Z, dtype=np.float64)
    n, d = Z.shape
    Y = np.zeros((n, n_classes))
    Y[np.arange(n), codes] = 1.0
    if kind == "cosine":
        Zn = _normalize(Z)
        means = np.zeros((n_classes, d))
        np.add.at(means, codes, Zn)
        W = _normalize(means)
    else:
        Zn = Z
        W = np.zeros((n_classes, d))
    b = np.zeros(n_classes)
    m_w, v_w = np.zeros_like(W), np.zeros_like(W)
    m_b, v_b = np.zeros_like(b), np.zeros_like(b)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for t in range(1, max_iter + 1):
        if kind == "cosine":
            norms = np.maximum(np.linalg.norm(W, axis=1, keepdims=True), 1e-12)
            Wn = W / norms
            G = (_softmax(scale * Zn @ Wn.T) - Y) / n
            dWn = scale * G.T @ Zn
            g_w = (dWn - Wn * (dWn * Wn).sum(axis=1, keepdims=True)) / norms
            g_b = None
        else:
            G = (_softmax(Zn @ W.T + b) - Y) / n
            g_w = G.T @ Zn
            g_b = G.sum(axis=0)
        g_w = g_w + weight_decay * W
        m_w = beta1 * m_w + (1 - beta1) * g_w
        v_w = beta2 * v_w + (1 - beta2) * g_w * g_w
        c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
        W = W - lr * (m_w / c1) / (np.sqrt(v_w / c2) + eps)
        if g_b is not None:
            m_b = beta1 * m_b + (1 - beta1) * g_b
            v_b = beta2 * v_b + (1 - beta2) * g_b * g_b
            b = b - lr * (m_b / c1) / (np.sqrt(v_b / c2) + eps)
    return W, b


class FineTunedHeadClassifier(BaseFewShotClassifier):
    """A new head fitted on the frozen features of a support set (Baseline, Baseline++).

    The test-time step of Chen et al. (2019): the encoder (a fitted
    :class:`BaselineEncoder`, or any fitted transformer) embeds the support
    rows once; a new head is trained on the embeddings with the
    cross-entropy and ``max_iter`` full-batch Adam steps, and predicts the
    queries. With ``head='cosine'`` (Baseline++) the logits are ``scale *
    cos(h, w_c)`` and the class weights start at the normalised class
    means of the support embeddings (weight imprinting, Qi et al. 2018);
    with ``head='linear'`` (Baseline) they are ``W h + b`` from zero. Both
    starts are deterministic: ``fit`` involves no randomness, and a support
    set of a few rows trains in milliseconds (NumPy, on the CPU).

    A fitted encoder is used frozen: ``fit`` never refits it, and ``clone``
    keeps it (see :class:`PrototypeClassifier`). Labels are the user's own;
    rows labeled ``-1`` are ignored.

    Read more in the :ref:`User Guide <few_shot>`.

    Parameters
    ----------
    encoder : fitted transformer or None, default=None
        Gives the features; None uses the rows (images flattened).
    head : {'auto', 'linear', 'cosine'}, default='auto'
        'auto': the encoder's ``head`` when it has one ('linear' or
        'cosine', as :class:`BaselineEncoder`), else 'linear'.
    scale : float or None, default=None
        The cosine head's scale; None: the encoder's ``scale`` when it has
        one, else 10.
    max_iter : int, default=100
        Full-batch Adam steps (Chen et al. train the new head for 100
        epochs).
    lr : float, default=0.01
    weight_decay : float, default=1e-3
        L2 penalty on the head's weights.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (n_classes, n_dims)
        The head's class weights.
    intercept_ : ndarray of shape (n_classes,)
        Its biases (zero for the cosine head).
    head_kind_ : str
        'linear' or 'cosine'.
    scale_ : float
        The cosine head's scale.
    n_iter_ : int
        Adam steps run (``max_iter``).
    n_features_in_ : int
        Only without an encoder.

    See Also
    --------
    BaselineEncoder : The encoder trained for this classifier.
    PrototypeClassifier : Nearest class mean instead of a trained head.

    References
    ----------
    .. [1] W.-Y. Chen, Y.-C. Liu, Z. Kira, Y.-C. F. Wang, J.-B. Huang, "A
       Closer Look at Few-shot Classification", ICLR 2019.
    .. [2] H. Qi, M. Brown, D. G. Lowe, "Low-Shot Learning with Imprinted
       Weights", CVPR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.few_shot import FineTunedHeadClassifier
    >>> X = np.array([[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.2]])
    >>> clf = FineTunedHeadClassifier(head="cosine").fit(X, ["a", "a", "b", "b"])
    >>> clf.predict([[0.2, 1.0], [1.0, 0.1]])
    array(['a', 'b'], dtype=object)
    """

    _meta_param = "encoder"

    _parameter_constraints: dict = {
        "encoder": [HasMethods(["transform"]), None],
        "head": [StrOptions({"auto", "linear", "cosine"})],
        "scale": [Interval(Real, 0, None, closed="neither"), None],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, encoder=None, *, head="auto", scale=None, max_iter=100, lr=0.01,
                 weight_decay=1e-3):
        self.encoder = encoder
        self.head = head
        self.scale = scale
        self.max_iter = max_iter
        self.lr = lr
        self.weight_decay = weight_decay

    def _head_kind_and_scale(self):
        encoder = self.encoder
        kind = self.head
        if kind == "auto":
            own = getattr(encoder, "head", None) if encoder is not None else None
            kind = own if isinstance(own, str) and own in ("linear", "cosine") else "linear"
        scale = self.scale
        if scale is None:
            own = getattr(encoder, "scale", None) if encoder is not None else None
            scale = float(own) if isinstance(own, Real) and own > 0 else 10.0
        return kind, float(scale)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit a new head on the encoder's features of the support set.

        Parameters
        ----------
        X : array-like
            Support rows, in the form the encoder takes.
        y : array-like of shape (n_samples,)
            Their labels; rows labeled ``-1`` are ignored.

        Returns
        -------
        self
        """
        Z, labeled, codes = self._fit_support(X, y)
        kind, scale = self._head_kind_and_scale()
        self.coef_, self.intercept_ = fit_head(
            Z[labeled], codes, len(self.classes_), kind=kind, scale=scale,
            max_iter=self.max_iter, lr=self.lr, weight_decay=self.weight_decay)
        self.head_kind_ = kind
        self.scale_ = scale
        self.n_iter_ = self.max_iter
        return self

    def _logits(self, X):
        check_is_fitted(self)
        Z = self._embed(X, n_dims=self.coef_.shape[1])
        return _head_logits(Z, self.head_kind_, self.coef_, self.intercept_, self.scale_)

    def decision_function(self, X):
        """The head's logits for the query rows.

        Parameters
        ----------
        X : array-like

        Returns
        -------
        logits : ndarray of shape (n_samples, n_classes) or (n_samples,)
            With two classes, the logit of the second minus the first.
        """
        logits = self._logits(X)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X):
        """Softmax of the head's logits, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return _softmax(self._logits(X))

    def predict(self, X):
        """Predicted classes (labels of the support set).

        Parameters
        ----------
        X : array-like

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        logits = self._logits(X)
        return self.classes_[logits.argmax(axis=1)]
