"""Scores of an encoder's embeddings: a linear probe and k nearest neighbours."""

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils.validation import check_is_fitted

__all__ = ["linear_probe_score", "knn_score"]


def _embed(encoder, X_train, y_train, X_test, fit):
    if fit:
        encoder = clone(encoder).fit(X_train)
    else:
        try:
            check_is_fitted(encoder)
        except NotFittedError:
            encoder = clone(encoder).fit(X_train)
    y_train = np.asarray(y_train)
    labeled = y_train != -1
    if not labeled.any():
        raise ValueError("y_train has no labeled row (every label is -1).")
    Z_train = encoder.transform(X_train)[labeled]
    return Z_train, y_train[labeled], encoder.transform(X_test)


def linear_probe_score(encoder, X_train, y_train, X_test, y_test, *, estimator=None,
                       fit=False):
    """Test accuracy of a logistic regression on an encoder's embeddings.

    The linear probe of self-supervised learning: the encoder is frozen
    (fitted on ``X_train`` without labels first if it is not fitted, or
    when ``fit=True``), ``LogisticRegression(max_iter=1000)`` is fitted on
    the embeddings of the labeled training rows (``y_train != -1``) and
    scored on those of ``X_test``.

    Parameters
    ----------
    encoder : transformer
        A fitted encoder, or one to fit (a clone is fitted; the argument is
        left as it is).
    X_train, y_train : array-like
        Training rows; ``y_train == -1`` marks rows the probe does not use.
    X_test, y_test : array-like
    estimator : classifier or None, default=None
        The probe; None is ``LogisticRegression(max_iter=1000)``.
    fit : bool, default=False
        Fit a clone of the encoder on ``X_train`` even when it is fitted.

    Returns
    -------
    score : float
        Accuracy on the test rows.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.self_supervised import linear_probe_score
    >>> X, y = load_digits_images(as_images=False)
    >>> score = linear_probe_score(PCA(20), X[:1000], y[:1000], X[1000:], y[1000:])
    >>> score > 0.85
    True
    """
    Z_train, y_l, Z_test = _embed(encoder, X_train, y_train, X_test, fit)
    probe = LogisticRegression(max_iter=1000) if estimator is None else clone(estimator)
    return float(probe.fit(Z_train, y_l).score(Z_test, np.asarray(y_test)))


def knn_score(encoder, X_train, y_train, X_test, y_test, *, n_neighbors=5,
              metric="cosine", fit=False):
    """Test accuracy of k nearest neighbours on an encoder's embeddings.

    As :func:`linear_probe_score`, with a
    :class:`~sklearn.neighbors.KNeighborsClassifier` (cosine distance by
    default, as the embeddings of contrastive encoders are compared by
    angle) in place of the logistic regression. A probe with no
    parameters: it measures how well neighbourhoods follow the classes.

    Parameters
    ----------
    encoder : transformer
    X_train, y_train, X_test, y_test : array-like
    n_neighbors : int, default=5
        At most the number of labeled training rows.
    metric : str, default='cosine'
    fit : bool, default=False

    Returns
    -------
    score : float

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.self_supervised import knn_score
    >>> X, y = load_digits_images(as_images=False)
    >>> knn_score(PCA(20), X[:1000], y[:1000], X[1000:], y[1000:]) > 0.9
    True
    """
    Z_train, y_l, Z_test = _embed(encoder, X_train, y_train, X_test, fit)
    knn = KNeighborsClassifier(n_neighbors=min(n_neighbors, len(y_l)), metric=metric)
    return float(knn.fit(Z_train, y_l).score(Z_test, np.asarray(y_test)))
