"""Zero-shot classification with a trained CLIP encoder and prompts for the classes."""

from numbers import Number, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.extmath import softmax
from sklearn.utils.validation import check_is_fitted

from ..neural import check_net_input

__all__ = ["ZeroShotClassifier", "class_prompt_embeddings"]


def _class_names(class_prompts):
    """``(classes, names)``: the class labels and, for each, its list of names."""
    if isinstance(class_prompts, dict):
        keys = list(class_prompts)
        try:
            keys = sorted(keys)
        except TypeError:  # labels of mixed types keep their order
            pass
        items = [(k, class_prompts[k]) for k in keys]
    else:
        items = list(enumerate(class_prompts))
    if not items:
        raise ValueError("class_prompts is empty; give at least one class.")
    classes, names = [], []
    for label, value in items:
        value = [value] if isinstance(value, str) else value
        try:
            value = list(value)
        except TypeError:
            value = None
        if not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise ValueError(
                f"class_prompts[{label!r}] must be a non-empty string or a non-empty list "
                f"of non-empty strings (the class's names), got {class_prompts[label]!r}."
                if isinstance(class_prompts, dict) else
                f"class_prompts[{label}] must be a non-empty string or a non-empty list "
                f"of non-empty strings (the class's names).")
        classes.append(label)
        names.append(value)
    return classes, names


def _check_templates(templates):
    templates = [templates] if isinstance(templates, str) else list(templates)
    if not templates:
        raise ValueError("templates is empty; give at least one, such as '{}'.")
    for t in templates:
        if not isinstance(t, str) or "{}" not in t:
            raise ValueError(f"Each template must be a string with '{{}}' where the class "
                             f"name goes, got {t!r}.")
        try:
            t.format("name")
        except (IndexError, KeyError, ValueError) as exc:
            raise ValueError(
                f"The template {t!r} cannot be filled with a class name alone "
                f"({type(exc).__name__}: {exc}); write other braces as '{{{{' and "
                "'}}'.") from exc
    return templates


def class_prompt_embeddings(encode_text, names, templates):
    """One embedding per class by prompt ensembling (Radford et al. 2021, sec. 3.1.4).

    For each class, every template is formatted with every name of the
    class; the prompts are embedded with ``encode_text`` and L2-normalised,
    their mean is taken and normalised again.

    Parameters
    ----------
    encode_text : callable
        Maps a list of ``m`` strings to an ``(m, d)`` array.
    names : list of list of str
        The names of each class.
    templates : list of str
        Prompt templates with ``{}`` where the name goes.

    Returns
    -------
    embeddings : ndarray of float32 of shape (n_classes, d)
        Rows of unit norm.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.self_supervised._zero_shot import class_prompt_embeddings
    >>> table = {"a cat": [1.0, 0.0], "the cat": [3.0, 4.0],
    ...          "a dog": [0.0, 2.0], "the dog": [0.0, 1.0]}
    >>> encode = lambda texts: np.array([table[t] for t in texts])
    >>> class_prompt_embeddings(encode, [["cat"], ["dog"]], ["a {}", "the {}"]).round(3)
    array([[0.894, 0.447],
           [0.   , 1.   ]], dtype=float32)
    """
    prompts = [t.format(name) for class_names in names for name in class_names
               for t in templates]
    emb = np.asarray(encode_text(prompts), dtype=np.float64)
    emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    out, start = [], 0
    for class_names in names:
        stop = start + len(class_names) * len(templates)
        mean = emb[start:stop].mean(axis=0)
        out.append(mean / max(np.linalg.norm(mean), 1e-12))
        start = stop
    return np.stack(out).astype(np.float32)


class ZeroShotClassifier(ClassifierMixin, BaseEstimator):
    """Classify images by their similarity to text prompts of the classes (zero-shot CLIP).

    With a trained :class:`~sklabelfree.self_supervised.CLIPEncoder`, no
    labeled image is needed (Radford et al. 2021, sec. 3.1): each class is
    described by names (``class_prompts``), every template of
    ``templates`` is formatted with every name (``"a photo of the number
    {}."`` and ``"seven"`` give ``"a photo of the number seven."``), the
    prompts go through the encoder's text tower and are L2-normalised, and
    their normalised mean is the class's embedding (CLIP's prompt
    ensembling). An image's class probabilities are the softmax of the
    cosine similarities between its image embedding and the class
    embeddings, times the encoder's learned logit scale.

    ``fit(X=None, y=None)`` learns nothing from data: it checks that
    ``clip`` is fitted (:class:`~sklearn.exceptions.NotFittedError`
    otherwise), checks ``X`` when given against the encoder's input shape
    and otherwise ignores it, ignores ``y``, and computes the class
    embeddings. ``classes_`` comes from ``class_prompts``, never from ``y``.
    The encoder itself is never trained here. As a parameter it is cloned
    unfitted by :func:`~sklearn.base.clone` (in cross-validation, grid
    search...): wrap the fitted encoder in
    :class:`sklearn.frozen.FrozenEstimator` to keep it through a clone.

    Read more in the :ref:`User Guide <self_supervised>`.

    Parameters
    ----------
    clip : fitted CLIPEncoder or FrozenEstimator wrapping one
        Any object with ``encode_text(texts)`` and ``encode_image(X)`` that
        return normalised embeddings of one space, fitted.
    class_prompts : dict or list
        The names of each class: a dict ``{label: names}`` (``classes_`` are
        the labels, sorted), or a list of names in class order
        (``classes_`` is ``0 .. n-1``). ``names`` is a string or a list of
        strings (a class may have several names, e.g. ``("seven", "7")``).
    templates : str or sequence of str, default=('{}',)
        Prompt templates, ``{}`` where the name goes. The default is the
        name alone; templates in the style of the training captions help
        (CLIP uses ``"a photo of a {}."`` and an ensemble of 80 templates
        for ImageNet).
    logit_scale : float or None, default=None
        The multiplier of the cosine similarities in ``predict_proba``;
        None uses the encoder's learned ``logit_scale_()``. It changes the
        probabilities, never the predicted class.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    class_embeddings_ : ndarray of float32 of shape (n_classes, embed_dim)
        Unit rows.
    prompts_ : list of list of str
        The prompts of each class.
    logit_scale_ : float
        The multiplier used.
    n_features_in_ : int
        Only when the encoder was fitted on rows ``(n, d)``.

    See Also
    --------
    CLIPEncoder : Trains the image and text towers on images with captions.

    References
    ----------
    .. [1] A. Radford, J. W. Kim, C. Hallacy, A. Ramesh, G. Goh, S. Agarwal,
       G. Sastry, A. Askell, P. Mishkin, J. Clark, G. Krueger, I. Sutskever,
       "Learning Transferable Visual Models From Natural Language
       Supervision", ICML 2021.

    Examples
    --------
    >>> from sklabelfree.datasets import (DIGIT_CLASS_PROMPTS, DIGIT_PROMPT_TEMPLATES,
    ...                                   load_digits_images, make_digit_captions)
    >>> from sklabelfree.self_supervised import CLIPEncoder, ZeroShotClassifier
    >>> X, y = load_digits_images()
    >>> clip = CLIPEncoder(max_epochs=10, random_state=0).fit(
    ...     X[:1000], make_digit_captions(y[:1000], random_state=0))
    >>> clf = ZeroShotClassifier(clip, DIGIT_CLASS_PROMPTS,
    ...                          templates=DIGIT_PROMPT_TEMPLATES).fit()
    >>> clf.classes_
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> clf.score(X[1000:], y[1000:]) > 0.8
    True
    """

    # It holds a torch model (the encoder): persisted with pickle, not skops.
    _sklabelfree_deep = True

    _parameter_constraints: dict = {
        "clip": [HasMethods(["encode_text", "encode_image"])],
        "class_prompts": [dict, list, tuple],
        "templates": [str, list, tuple],
        "logit_scale": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(self, clip, class_prompts, templates=("{}",), logit_scale=None):
        self.clip = clip
        self.class_prompts = class_prompts
        self.templates = templates
        self.logit_scale = logit_scale

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.non_deterministic = False
        return tags

    def _check_clip_fitted(self):
        try:
            check_is_fitted(self.clip)
        except NotFittedError as exc:
            raise NotFittedError(
                f"{type(self).__name__} needs a fitted clip encoder (a CLIPEncoder fitted "
                "on images and their captions); this one is not fitted. clone() returns "
                "an unfitted copy of an encoder, as in cross-validation or grid search: "
                "wrap the fitted encoder in sklearn.frozen.FrozenEstimator to keep it."
            ) from exc

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Embed the class prompts with the encoder's text tower.

        Parameters
        ----------
        X : None or array-like, default=None
            Ignored, after a check that it has the encoder's sample shape.
        y : None
            Ignored: the classes come from ``class_prompts``.

        Returns
        -------
        self
        """
        self._check_clip_fitted()
        shape = getattr(self.clip, "input_shape_", None)
        if X is not None:
            check_net_input(X, expected_shape=shape, owner=type(self).__name__)
        n_features = getattr(self.clip, "n_features_in_", None)
        if n_features is not None:
            self.n_features_in_ = int(n_features)
        elif hasattr(self, "n_features_in_"):
            del self.n_features_in_
        classes, names = _class_names(self.class_prompts)
        templates = _check_templates(self.templates)
        self.class_embeddings_ = class_prompt_embeddings(self.clip.encode_text, names,
                                                         templates)
        self.prompts_ = [[t.format(n) for n in class_names for t in templates]
                         for class_names in names]
        labels = np.empty(len(classes), dtype=object)
        labels[:] = classes
        # One type of label: a plain array; mixed types (2 and 'z') or
        # tuples stay objects, so that predict gives the labels as given.
        kinds = {"str" if isinstance(c, str) else "number" if isinstance(c, Number)
                 else "other" for c in classes}
        as_array = np.asarray(classes) if kinds != {"other"} and len(kinds) == 1 else None
        self.classes_ = as_array if as_array is not None and as_array.ndim == 1 else labels
        if self.logit_scale is None:
            self.logit_scale_ = float(self.clip.logit_scale_().detach())
        else:
            self.logit_scale_ = float(self.logit_scale)
        return self

    def _similarities(self, X):
        check_is_fitted(self)
        self._check_clip_fitted()
        image = np.asarray(self.clip.encode_image(X), dtype=np.float64)
        image = image / np.maximum(np.linalg.norm(image, axis=1, keepdims=True), 1e-12)
        return image @ self.class_embeddings_.T.astype(np.float64)

    def predict_proba(self, X):
        """Softmax of the logit scale times the cosine similarities to the classes.

        Parameters
        ----------
        X : array-like or tensor
            Images (or rows) of the encoder's sample shape.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        similarities = self._similarities(X)
        return softmax(self.logit_scale_ * similarities)

    def predict(self, X):
        """The class whose prompts are the most similar to each image.

        Parameters
        ----------
        X : array-like or tensor

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        best = self._similarities(X).argmax(axis=1)
        return self.classes_[best]

    def score(self, X, y, sample_weight=None):
        """Accuracy of the zero-shot predictions on ``X`` against the labels ``y``.

        Parameters
        ----------
        X : array-like or tensor
        y : array-like of shape (n_samples,)
            True classes (among ``classes_``).
        sample_weight : array-like of shape (n_samples,) or None, default=None

        Returns
        -------
        score : float
        """
        return float(accuracy_score(y, self.predict(X), sample_weight=sample_weight))
