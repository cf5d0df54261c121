"""CLIP (Radford et al. 2021): an image tower and a text tower trained on paired captions."""

import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from ..neural import eval_mode
from ..nn.losses.contrastive import clip_loss
from ._base import BaseSelfSupervisedEncoder

__all__ = ["CLIPEncoder", "LogitScale", "check_texts"]

# Word tokens of any length: digits ("7") and one-letter words are kept,
# which the scikit-learn default (two characters or more) would drop.
_TOKEN_PATTERN = r"(?u)\b\w+\b"


def _default_vectorizer():
    return TfidfVectorizer(token_pattern=_TOKEN_PATTERN, sublinear_tf=True)


def _is_missing(value):
    if value is None:
        return True
    try:
        return bool(isinstance(value, (float, np.floating)) and math.isnan(value))
    except TypeError:  # pragma: no cover
        return False


def check_texts(texts, n_samples=None, *, owner="CLIPEncoder", name="texts"):
    """Validate a sequence of texts; return a list of str.

    Entries that are not strings (numbers, numpy scalars) are turned into
    strings with ``str``, so that a numeric label becomes a one-word
    caption. ``None`` or NaN entries, a single string, a 2-D input or a
    length other than ``n_samples`` raise a ValueError.

    Parameters
    ----------
    texts : sequence of str, ndarray or pandas Series
    n_samples : int or None, default=None
        The number of texts expected (the rows of ``X``).
    owner : str, default='CLIPEncoder'
        Name of the estimator, for messages.
    name : str, default='texts'

    Returns
    -------
    texts : list of str

    Examples
    --------
    >>> from sklabelfree.self_supervised._clip import check_texts
    >>> check_texts(["a seven", 7], n_samples=2)
    ['a seven', '7']
    """
    if texts is None:
        raise ValueError(
            f"{owner} requires y to be passed, but the target y is None: give one "
            f"caption (a string) per row of X as y.")
    if isinstance(texts, (str, bytes)):
        raise ValueError(f"{name} must be a sequence of strings, one per row; got a "
                         "single string (wrap it in a list).")
    if hasattr(texts, "to_numpy"):
        texts = texts.to_numpy()
    if sp.issparse(texts):
        raise ValueError(f"{name} must be a 1-D sequence of strings, got a sparse "
                         "matrix.")
    if hasattr(texts, "shape") or hasattr(texts, "__array__"):
        arr = np.asarray(texts, dtype=object)
    else:
        try:
            items = list(texts)
        except TypeError:
            raise ValueError(f"{name} must be a sequence of strings, one per row; got "
                             f"{type(texts).__name__}.") from None
        if any(isinstance(v, (list, tuple, np.ndarray)) for v in items):
            raise ValueError(f"{name} must be 1-D, one caption (a string) per row; got "
                             "nested sequences.")
        arr = np.empty(len(items), dtype=object)
        arr[:] = items
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, one caption per row, got shape "
                         f"{arr.shape}.")
    if n_samples is not None and arr.shape[0] != n_samples:
        raise ValueError(f"{owner}: X has {n_samples} rows but {arr.shape[0]} texts were "
                         "given; give one caption per row of X.")
    out = []
    for i, value in enumerate(arr.tolist()):
        if _is_missing(value):
            raise ValueError(f"{name}[{i}] is missing ({value!r}); every row needs a "
                             "caption.")
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        out.append(value if isinstance(value, str) else str(value))
    return out


class LogitScale(nn.Module):
    """CLIP's learnable log inverse temperature ``t``; ``forward()`` is ``exp(t)``.

    ``t`` starts at ``log(init_scale)`` and the multiplier is capped at
    ``max_scale``: ``forward()`` returns ``exp(min(t, log(max_scale)))`` and
    :meth:`clamp_` clips ``t`` itself (CLIP clips it after every step, so
    that the logits are never scaled by more than 100).

    Parameters
    ----------
    init_scale : float, default=1 / 0.07
    max_scale : float, default=100.0

    Examples
    --------
    >>> from sklabelfree.self_supervised._clip import LogitScale
    >>> scale = LogitScale()
    >>> round(scale.log_scale.item(), 4), round(scale().item(), 4)
    (2.6593, 14.2857)
    """

    def __init__(self, init_scale=1 / 0.07, max_scale=100.0):
        super().__init__()
        self.max_log_scale = math.log(max_scale)
        self.log_scale = nn.Parameter(torch.tensor(math.log(init_scale)))

    @torch.no_grad()
    def clamp_(self):
        """Clip ``t`` at ``log(max_scale)``."""
        self.log_scale.clamp_(max=self.max_log_scale)

    def forward(self):
        return self.log_scale.clamp(max=self.max_log_scale).exp()


class CLIPEncoder(BaseSelfSupervisedEncoder):
    """An image encoder trained to match images with their captions (CLIP).

    CLIP (Radford et al. 2021) trains two towers on ``(image, text)``
    pairs. The image tower is the trunk (``module``, by default the
    network :func:`~sklabelfree.nn.default_module_for_shape` builds for
    the input shape: a ConvNet for images, an MLP for ``(n, d)`` rows)
    followed by a linear projection, without bias, to ``embed_dim``. The
    text tower turns each text into features with ``vectorizer`` (a
    scikit-learn text transformer, fitted on the training texts) and maps
    them to ``embed_dim`` with a two-layer MLP. Both embeddings are
    L2-normalised. A batch of ``n`` pairs gives an ``n x n`` matrix of
    cosine similarities, multiplied by a learned scale ``exp(t)``; the loss
    (:func:`~sklabelfree.nn.losses.clip_loss`) is the symmetric
    cross-entropy that picks each image's text among the batch's texts and
    each text's image among its images. ``t`` starts at ``log(1 / 0.07)``
    and is clipped at ``log(100)``, as in the paper.

    ``fit(X, y)`` takes the captions as ``y``, one per row of ``X``.
    ``transform`` (and :meth:`encode_image`) return the normalised image
    embeddings, in the space of :meth:`encode_text`, as CLIP does: that is
    what zero-shot classification
    (:class:`~sklabelfree.self_supervised.ZeroShotClassifier`) and
    retrieval compare; the trunk's features before the projection are
    ``features_of_trunk``.

    The default ``vectorizer`` is a bag of words,
    ``TfidfVectorizer(token_pattern=r"(?u)\\b\\w+\\b", sublinear_tf=True)``:
    for short captions word order matters little, tf-idf down-weights the
    words every caption has ("a", "the"), and the token pattern keeps
    one-character tokens, so numerals such as "7" are words. Words never
    seen in the training captions are ignored by the text tower.

    Read more in the :ref:`User Guide <self_supervised>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
        The image trunk; None picks it from the input shape (see
        :func:`~sklabelfree.nn.default_module_for_shape`), sized by
        ``module__width``, ``module__depth``...
    embed_dim : int, default=64
        Size of the joint embedding space.
    text_hidden_dim : int, default=256
        Hidden size of the text tower's MLP (Linear, ReLU, Linear).
    vectorizer : scikit-learn transformer or None, default=None
        Turns a list of texts into an ``(n, k)`` array or sparse matrix;
        cloned and fitted on the training texts. None is the tf-idf bag of
        words above.
    init_temperature : float, default=0.07
        The learned scale starts at ``1 / init_temperature``.
    max_logit_scale : float, default=100.0
        The scale is never larger.
    max_epochs : int, default=40
        Passes over the training pairs.
    batch_size : int, default=128
        Pairs per step; each image's negatives are the other texts of its
        batch. The last incomplete batch of an epoch is dropped.
    lr : float, default=2e-3
        Adam's learning rate, decayed along a cosine (``lr_schedule``).
    augment : {'weak', 'strong'}, callable or None, default='weak'
        Augmentation of the images (CLIP uses only random crops): the
        :func:`view_augmentation` of that strength, a callable
        ``augment(x, generator)`` on a batch tensor, or None.
    lr_schedule : {'cosine', 'constant'}, default='cosine'
    random_state : int or None, default=None
        Seeds the weights, the batches and the augmentations; the global
        torch random state is left as it was.
    device : str or torch.device, default='cpu'
    verbose : int, default=0
        1 prints skorch's epoch table.
    **kwargs
        Other skorch parameters (``module__width``, ``optimizer__weight_decay``...).

    Attributes
    ----------
    module_ : torch.nn.Module
        The image trunk.
    image_projection_ : torch.nn.Linear
        From the trunk's features to the joint space.
    text_encoder_ : torch.nn.Module
        The text tower's MLP.
    logit_scale_ : LogitScale
        ``logit_scale_()`` is the current multiplier ``exp(t)``.
    vectorizer_ : scikit-learn transformer
        The fitted vectorizer.
    text_dim_ : int
        Number of text features.
    trunk_dim_ : int
        Size of the trunk's features.
    feature_dim_ : int
        Size of the embeddings ``transform`` returns (``embed_dim``).
    n_steps_ : int
        Training steps taken.
    history_ : skorch History
    input_shape_ : tuple
        Shape of one training sample.
    n_features_in_ : int
        Only for rows ``(n, d)``.

    See Also
    --------
    ZeroShotClassifier : Classifies images by their similarity to class prompts.
    SimCLREncoder : Matches two augmented views of an image instead of a text.

    References
    ----------
    .. [1] A. Radford, J. W. Kim, C. Hallacy, A. Ramesh, G. Goh, S. Agarwal,
       G. Sastry, A. Askell, P. Mishkin, J. Clark, G. Krueger, I. Sutskever,
       "Learning Transferable Visual Models From Natural Language
       Supervision", ICML 2021.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.datasets import make_digit_captions
    >>> from sklabelfree.self_supervised import CLIPEncoder
    >>> X, y = load_digits_images()
    >>> captions = make_digit_captions(y[:300], random_state=0)
    >>> clip = CLIPEncoder(max_epochs=2, random_state=0).fit(X[:300], captions)
    >>> clip.transform(X[:3]).shape
    (3, 64)
    >>> clip.encode_text(["a handwritten seven", "the digit 7"]).shape
    (2, 64)
    """

    _parameter_constraints: dict = {
        "embed_dim": [Interval(Integral, 1, None, closed="left")],
        "text_hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "vectorizer": [HasMethods(["fit", "transform"]), None],
        "init_temperature": [Interval(Real, 0, None, closed="neither")],
        "max_logit_scale": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, module=None, *, embed_dim=64, text_hidden_dim=256, vectorizer=None,
                 init_temperature=0.07, max_logit_scale=100.0, max_epochs=40,
                 batch_size=128, lr=2e-3, augment="weak", lr_schedule="cosine",
                 random_state=None, device="cpu", verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.embed_dim = embed_dim
        self.text_hidden_dim = text_hidden_dim
        self.vectorizer = vectorizer
        self.init_temperature = init_temperature
        self.max_logit_scale = max_logit_scale

    # fit needs the captions (y).
    _target_required = True

    # ----------------------------------------------------------------- modules
    def initialize_module(self):
        super().initialize_module()
        self.trunk_dim_ = self.feature_dim_
        self.image_projection_ = nn.Linear(self.trunk_dim_, self.embed_dim, bias=False)
        self.text_encoder_ = nn.Sequential(
            nn.Linear(self.text_dim_, self.text_hidden_dim), nn.ReLU(),
            nn.Linear(self.text_hidden_dim, self.embed_dim))
        self.logit_scale_ = LogitScale(1.0 / self.init_temperature, self.max_logit_scale)
        self.logit_scale_.clamp_()
        self.feature_dim_ = int(self.embed_dim)
        return self

    def _embedding_dim(self):
        return int(self.embed_dim)

    # ----------------------------------------------------------------- towers
    def features_of_trunk(self, x):
        """The image trunk's features of a batch tensor ``x``, before the projection."""
        return self._features_of(self.module_, x)

    def features(self, x):
        """The normalised image embeddings of a batch tensor ``x`` (what ``transform`` gives)."""
        return F.normalize(self.image_projection_(self.features_of_trunk(x)), dim=1)

    def text_features(self, text_features):
        """The normalised text embeddings of a batch of vectorised texts (a tensor)."""
        return F.normalize(self.text_encoder_(text_features), dim=1)

    def _vectorize(self, texts):
        feats = self.vectorizer_.transform(texts)
        if sp.issparse(feats):
            return feats.tocsr().astype(np.float32)
        return np.asarray(feats, dtype=np.float32)

    def _text_tensor(self, feats, rows=None):
        if rows is not None:
            feats = feats[rows]
        if sp.issparse(feats):
            feats = feats.toarray()
        return torch.as_tensor(np.asarray(feats, dtype=np.float32)).to(self.device)

    def encode_text(self, texts):
        """Normalised embeddings of texts, in the space of the image embeddings.

        Parameters
        ----------
        texts : sequence of str of length n
            Words the vectorizer did not see in ``fit`` are ignored.

        Returns
        -------
        embeddings : ndarray of float32 of shape (n, embed_dim)
            Rows of unit norm.
        """
        check_is_fitted(self)
        texts = check_texts(texts, owner=type(self).__name__)
        if not texts:
            raise ValueError("encode_text needs at least one text, got none.")
        feats = self._vectorize(texts)
        out = []
        with eval_mode(self.text_encoder_), torch.no_grad():
            for i in range(0, len(texts), 1024):
                out.append(self.text_features(self._text_tensor(feats[i:i + 1024])).cpu())
        return torch.cat(out).numpy().astype(np.float32, copy=False)

    def encode_image(self, X):
        """Normalised embeddings of images (or rows), the same as :meth:`transform`.

        Parameters
        ----------
        X : array-like or tensor
            Same sample shape as in ``fit``.

        Returns
        -------
        embeddings : ndarray of float32 of shape (n, embed_dim)
            Rows of unit norm.
        """
        return self.transform(X)

    # ----------------------------------------------------------------- training
    def get_dataset(self, X, y=None):
        # The batches carry each row's index; compute_loss looks its text up.
        if y is None and getattr(self, "_fit_text_features", None) is not None:
            y = np.arange(len(X), dtype=np.int64)
        return super().get_dataset(X, y)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        x = batch[0].to(self.device)
        text = self._text_tensor(self._fit_text_features, np.asarray(batch[1].cpu()))
        loss = self.compute_loss(x, text_features=text, **fit_params)
        loss.backward()
        self.n_steps_ += 1
        return {"loss": loss, "y_pred": None}

    def compute_loss(self, x, text_features=None, **fit_params):
        """CLIP's symmetric loss of a batch of images and their vectorised texts.

        Parameters
        ----------
        x : torch.Tensor
            A batch of training images (or rows).
        text_features : torch.Tensor of shape (n, ``text_dim_``)
            The vectorised captions of the batch, row for row.
        **fit_params : dict
            Ignored.

        Returns
        -------
        loss : torch.Tensor (scalar)
        """
        if text_features is None:
            raise ValueError("CLIPEncoder.compute_loss needs the batch's text_features.")
        if self.augment_ is not None:
            x = self.augment_(x, self._generator)
        return clip_loss(self.features(x), self.text_features(text_features),
                         self.logit_scale_())

    def after_step(self):
        self.logit_scale_.clamp_()

    def fit(self, X, y=None, **fit_params):
        """Train both towers on the pairs ``(X[i], y[i])``.

        Parameters
        ----------
        X : array-like or tensor of shape (n, d), (n, c, L) or (n, c, h, w)
            Images (or rows, or signals); cast to float32.
        y : sequence of str of length n
            The caption of each row. Entries that are not strings are
            turned into strings (a numeric label becomes a one-word
            caption); None, NaN entries or a length other than ``n`` raise
            a ValueError.
        **fit_params : dict
            Passed to :meth:`compute_loss`.

        Returns
        -------
        self
        """
        self._check_own_params()
        X_in, X = X, self._validate_X(X, first=True)
        texts = check_texts(y, X.shape[0], owner=type(self).__name__, name="y")
        vectorizer = self.vectorizer if self.vectorizer is not None else \
            _default_vectorizer()
        self.vectorizer_ = clone(vectorizer).fit(texts)
        feats = self._vectorize(texts)
        if feats.ndim != 2 or feats.shape[0] != len(texts) or feats.shape[1] < 1:
            raise ValueError(f"The vectorizer turned {len(texts)} texts into an array of "
                             f"shape {feats.shape}; expected ({len(texts)}, k), k >= 1.")
        self.text_dim_ = int(feats.shape[1])
        self._fit_text_features = feats
        try:
            super().fit(X_in, None, **fit_params)   # as given: its column names
        finally:
            del self._fit_text_features
        return self

    def partial_fit(self, X, y=None, **fit_params):
        """Train ``max_epochs`` more epochs on new pairs, without re-initialising.

        The vectorizer keeps the vocabulary of the first fit. The first
        call (on an unfitted encoder) is :meth:`fit`.

        Parameters
        ----------
        X : array-like or tensor
            Same sample shape as in the first fit.
        y : sequence of str of length n
            The captions.
        **fit_params : dict

        Returns
        -------
        self
        """
        if not self.__sklearn_is_fitted__():
            return self.fit(X, y, **fit_params)
        self._check_own_params()
        self._check_column_names(X, reset=False)  # before the values, as fit does
        X_in, X = X, self._validate_X(X, first=False)
        texts = check_texts(y, X.shape[0], owner=type(self).__name__, name="y")
        self._fit_text_features = self._vectorize(texts)
        try:
            super().partial_fit(X_in, None, **fit_params)
        finally:
            del self._fit_text_features
        return self
