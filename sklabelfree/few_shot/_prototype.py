"""Nearest class mean of the support embeddings (prototypical networks)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.base import _fit_context
from sklearn.utils.validation import check_is_fitted

from ._base import BaseFewShotClassifier
from ._deformation import image_distortion_distances

__all__ = ["PrototypeClassifier"]


def _logits(Z, prototypes, metric, temperature, deformation=None):
    """Minus the distances (or the cosines) of the rows of ``Z`` to the prototypes.

    ``deformation`` is ``(image_shape, warp_range, context_size)`` for
    ``metric='deformation'``.
    """
    if metric == "deformation":
        shape, warp_range, context_size = deformation
        d = image_distortion_distances(
            Z.reshape((Z.shape[0],) + shape), prototypes.reshape((prototypes.shape[0],) + shape),
            warp_range=warp_range, context_size=context_size)
        return -d / temperature
    if metric == "cosine":
        Zn = Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)
        Pn = prototypes / np.maximum(np.linalg.norm(prototypes, axis=1, keepdims=True), 1e-12)
        return (Zn @ Pn.T) / temperature
    d = ((Z * Z).sum(1)[:, None] - 2 * Z @ prototypes.T + (prototypes * prototypes).sum(1)[None])
    return -np.maximum(d, 0) / temperature


def _softmax(logits):
    logits = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


class PrototypeClassifier(BaseFewShotClassifier):
    """Predict the class whose mean support embedding (prototype) is nearest.

    The classifier of prototypical networks (Snell et al. 2017): ``fit`` on
    a support set computes one prototype per class, the mean of the
    embeddings of its rows, and ``predict`` gives each query the class of
    the nearest prototype; ``predict_proba`` is the softmax of minus the
    distances. ``fit`` costs one pass of the encoder over the support rows
    and a mean: a new class needs no training.

    ``encoder`` is any fitted transformer whose ``transform`` gives
    embeddings: a :class:`ProtoNetEncoder` or :class:`BaselineEncoder`
    meta-trained on base classes, a ``Pipeline`` of scikit-learn
    transformers, or None for the rows themselves (images are flattened),
    which is the nearest-centroid classifier. A fitted encoder is used
    frozen: ``fit`` never refits it, and ``clone`` keeps it (as
    :class:`~sklearn.frozen.FrozenEstimator` does), so that
    :func:`evaluate_episodes`, ``cross_val_score`` and ``GridSearchCV``
    over ``metric`` or ``soft_kmeans_steps`` reuse the meta-training. The
    same classifier is ``make_pipeline(FrozenEstimator(encoder),
    PrototypeClassifier())``.

    Labels are the user's own (strings, or integers such as 5..9), never
    remapped. Rows labeled ``-1`` in ``fit`` are unlabeled support rows:
    they take part only in the soft k-means refinement below.

    **Soft k-means refinement** (Ren et al. 2018), on request with
    ``soft_kmeans_steps > 0``: each step gives every unlabeled row a soft
    class assignment (the softmax of its logits) and recomputes each
    prototype as the weighted mean of the class's support rows (weight 1)
    and the unlabeled rows (their soft assignment). The unlabeled rows are
    those labeled ``-1`` in ``fit`` and, with ``transductive=True``, the
    rows given to ``predict`` / ``predict_proba``, which are then
    classified together: a query's prediction depends on the other queries
    of the call (the fitted prototypes do not change).

    **Deformation distance** (``metric='deformation'``): the image
    distortion model of Keysers et al. (2007) compares a query image with a
    prototype image pixel by pixel, but lets each pixel of the query match
    the best pixel within ``warp_range`` of its place in the prototype,
    comparing the ``context_size x context_size`` windows around the two
    pixels; the distance is the sum of the
    squared differences of the best matches. Pixels move independently, so
    a stroke drawn a pixel further along costs little, where the Euclidean
    distance counts it in full. It needs no training: on new digits it is a
    stronger nearest-centroid rule than the Euclidean distance on the
    pixels or on the embeddings of encoders meta-trained on five base
    classes (see the User Guide). The features must be images: the support
    rows themselves as ``(n, channels, height, width)`` without an encoder,
    or flattened feature maps whose shape ``image_shape`` gives. Windows at
    the border see zeros beyond the image, which suits images on a zero
    background. Its cost grows with ``(2 * warp_range + 1)**2 *
    context_size**2``.

    Read more in the :ref:`User Guide <few_shot>`.

    Parameters
    ----------
    encoder : fitted transformer or None, default=None
        Gives the embeddings; None uses the rows as they are.
    metric : {'sqeuclidean', 'cosine', 'deformation'}, default='sqeuclidean'
        Squared Euclidean distance (Snell et al. found it better than the
        cosine), cosine similarity, or the image distortion model distance
        (above) to the prototypes.
    temperature : float > 0, default=1.0
        The logits (minus the distances, or the cosine similarities) are
        divided by it; it changes ``predict_proba`` and the soft k-means
        weights, never ``predict`` without refinement.
    soft_kmeans_steps : int >= 0, default=0
        Refinement steps of the prototypes with unlabeled rows; 0: none.
    transductive : bool, default=False
        Use the rows given to ``predict`` as unlabeled rows for the
        refinement (only with ``soft_kmeans_steps > 0``).
    warp_range : int >= 0, default=1
        ``metric='deformation'`` only: how many pixels (along each axis) a
        pixel of the query may be matched away from its place in the
        prototype.
    context_size : odd int >= 1, default=3
        ``metric='deformation'`` only: the width of the window compared
        around each pixel. With ``warp_range=0`` and ``context_size=1`` the
        distance is the squared Euclidean distance.
    image_shape : tuple of int or None, default=None
        ``metric='deformation'`` only: ``(channels, height, width)`` (or
        ``(height, width)``) of the features. None: the shape of the support
        images, given as ``(n, channels, height, width)`` or ``(n, height,
        width)`` without an encoder.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The support set's classes, sorted.
    prototypes_ : ndarray of shape (n_classes, n_dims)
        One prototype per class (refined with the ``-1`` rows of ``fit``
        when ``soft_kmeans_steps > 0``).
    support_embeddings_ : ndarray of shape (n_support, n_dims)
        Embeddings of the labeled support rows.
    support_codes_ : ndarray of int, shape (n_support,)
        Their classes, as positions in ``classes_``.
    unlabeled_embeddings_ : ndarray of shape (n_unlabeled, n_dims)
        Embeddings of the support rows labeled ``-1``.
    image_shape_ : tuple of int
        ``(channels, height, width)`` of the features; only with
        ``metric='deformation'``.
    n_features_in_ : int
        Only without an encoder.

    See Also
    --------
    ProtoNetEncoder : The encoder trained for this classifier.
    sklearn.neighbors.NearestCentroid : The same rule on the rows.

    References
    ----------
    .. [1] J. Snell, K. Swersky, R. Zemel, "Prototypical Networks for
       Few-shot Learning", NeurIPS 2017.
    .. [2] M. Ren, E. Triantafillou, S. Ravi, J. Snell, K. Swersky, J. B.
       Tenenbaum, H. Larochelle, R. S. Zemel, "Meta-Learning for
       Semi-Supervised Few-Shot Classification", ICLR 2018.
    .. [3] D. Keysers, T. Deselaers, C. Gollan, H. Ney, "Deformation Models
       for Image Recognition", IEEE TPAMI 29(8), 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.few_shot import PrototypeClassifier
    >>> X_support = np.array([[0.0, 0.0], [0.2, 0.0], [5.0, 5.0]])
    >>> y_support = np.array(["cat", "cat", "dog"])
    >>> clf = PrototypeClassifier().fit(X_support, y_support)
    >>> clf.predict([[4.0, 4.5], [0.5, 0.1]])
    array(['dog', 'cat'], dtype=object)
    >>> clf.prototypes_
    array([[0.1, 0. ],
           [5. , 5. ]])

    With the deformation distance, an image whose stroke sits one pixel to
    the right of a prototype's is still nearest to it:

    >>> bar = np.zeros((2, 1, 5, 5))
    >>> bar[0, 0, :, 1] = 1.0                    # a vertical bar, class "|"
    >>> bar[1, 0, 2, :] = 1.0                    # a horizontal bar, class "-"
    >>> moved = np.zeros((1, 1, 5, 5))
    >>> moved[0, 0, :, 2] = 1.0                  # the vertical bar, one pixel on
    >>> PrototypeClassifier().fit(bar, ["|", "-"]).predict(moved)
    array(['-'], dtype=object)
    >>> clf = PrototypeClassifier(metric="deformation").fit(bar, ["|", "-"])
    >>> clf.predict(moved)
    array(['|'], dtype=object)
    """

    _meta_param = "encoder"

    _parameter_constraints: dict = {
        "encoder": [HasMethods(["transform"]), None],
        "metric": [StrOptions({"sqeuclidean", "cosine", "deformation"})],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "soft_kmeans_steps": [Interval(Integral, 0, None, closed="left")],
        "transductive": ["boolean"],
        "warp_range": [Interval(Integral, 0, None, closed="left")],
        "context_size": [Interval(Integral, 1, None, closed="left")],
        "image_shape": [tuple, list, None],
    }

    def __init__(self, encoder=None, *, metric="sqeuclidean", temperature=1.0,
                 soft_kmeans_steps=0, transductive=False, warp_range=1,
                 context_size=3, image_shape=None):
        self.encoder = encoder
        self.metric = metric
        self.temperature = temperature
        self.soft_kmeans_steps = soft_kmeans_steps
        self.transductive = transductive
        self.warp_range = warp_range
        self.context_size = context_size
        self.image_shape = image_shape

    def _logits(self, Z, prototypes):
        deformation = None
        if self.metric == "deformation":
            deformation = (self.image_shape_, self.warp_range, self.context_size)
        return _logits(Z, prototypes, self.metric, self.temperature, deformation)

    def _check_image_shape(self, X):
        """The ``(channels, height, width)`` of the features for the deformation metric.

        From ``image_shape``, else from the support images themselves when
        there is no encoder. Checked before any embedding.
        """
        who = type(self).__name__
        if self.context_size % 2 == 0:
            raise ValueError(
                f"{who}: context_size must be odd (a window centred on its pixel), "
                f"got {self.context_size}.")
        if self.image_shape is not None:
            shape = tuple(int(v) for v in self.image_shape)
            if len(shape) == 2:
                shape = (1,) + shape
            if len(shape) != 3 or min(shape) < 1:
                raise ValueError(
                    f"{who}: image_shape must be (channels, height, width) or (height, "
                    f"width) of positive sizes, got {self.image_shape!r}.")
            return shape
        if self.encoder is None and len(np.shape(X)) in (3, 4):
            shape = tuple(np.shape(X)[1:])
            return shape if len(shape) == 3 else (1,) + shape
        raise ValueError(
            f"{who}: metric='deformation' compares images pixel by pixel, so it must "
            "know their shape: give the support rows as (n_samples, channels, height, "
            "width) images without an encoder, or image_shape=(channels, height, width) "
            "for features of channels * height * width columns (an encoder's feature "
            "maps, flattened).")

    def _refine(self, prototypes, unlabeled):
        """Soft k-means steps (Ren et al. 2018) with the rows of ``unlabeled``."""
        if self.soft_kmeans_steps == 0 or unlabeled.shape[0] == 0:
            return prototypes
        n_classes = prototypes.shape[0]
        sums = np.zeros_like(prototypes)
        np.add.at(sums, self.support_codes_, self.support_embeddings_)
        counts = np.bincount(self.support_codes_, minlength=n_classes).astype(float)
        for _ in range(self.soft_kmeans_steps):
            w = _softmax(self._logits(unlabeled, prototypes))
            prototypes = (sums + w.T @ unlabeled) / (counts + w.sum(axis=0))[:, None]
        return prototypes

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Compute the prototypes of the support set's classes.

        Parameters
        ----------
        X : array-like
            Support rows, in the form the encoder takes.
        y : array-like of shape (n_samples,)
            Their labels; ``-1`` marks unlabeled rows (used by the
            refinement only).

        Returns
        -------
        self
        """
        if self.metric == "deformation":
            shape = self._check_image_shape(X)
        Z, labeled, codes = self._fit_support(X, y)
        if self.metric == "deformation":
            if int(np.prod(shape)) != Z.shape[1]:
                raise ValueError(
                    f"{type(self).__name__}: image_shape {shape} holds "
                    f"{int(np.prod(shape))} values but the features have {Z.shape[1]} "
                    "columns.")
            self.image_shape_ = shape
        self.support_embeddings_ = Z[labeled]
        self.support_codes_ = codes
        self.unlabeled_embeddings_ = Z[~labeled]
        sums = np.zeros((len(self.classes_), Z.shape[1]))
        np.add.at(sums, self.support_codes_, self.support_embeddings_)
        prototypes = sums / np.bincount(self.support_codes_)[:, None]
        self.prototypes_ = self._refine(prototypes, self.unlabeled_embeddings_)
        return self

    def _query_logits(self, X):
        check_is_fitted(self)
        Z = self._embed(X, n_dims=self.prototypes_.shape[1])
        prototypes = self.prototypes_
        if self.transductive and self.soft_kmeans_steps > 0:
            # Refine from the support set afresh, with the fit's unlabeled rows
            # and these queries.
            sums = np.zeros_like(prototypes)
            np.add.at(sums, self.support_codes_, self.support_embeddings_)
            start = sums / np.bincount(self.support_codes_)[:, None]
            prototypes = self._refine(start, np.vstack([self.unlabeled_embeddings_, Z]))
        return self._logits(Z, prototypes)

    def decision_function(self, X):
        """Logits of the queries: minus the distances (or the cosine) to each prototype.

        Parameters
        ----------
        X : array-like
            Query rows.

        Returns
        -------
        logits : ndarray of shape (n_samples, n_classes) or (n_samples,)
            Divided by ``temperature``; columns in the order of ``classes_``.
            With two classes, as scikit-learn's binary classifiers, the
            logit of the second class minus that of the first.
        """
        logits = self._query_logits(X)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X):
        """Softmax of the logits over the classes of the support set.

        Parameters
        ----------
        X : array-like
            Query rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return _softmax(self._query_logits(X))

    def predict(self, X):
        """The class of the nearest prototype (labels of the support set).

        Parameters
        ----------
        X : array-like
            Query rows.

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        logits = self._query_logits(X)
        return self.classes_[logits.argmax(axis=1)]
