"""Contrastive Predictive Coding (van den Oord et al. 2018) for signals."""

import math
from numbers import Integral

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ..neural import build_module
from ..nn.losses.contrastive import cpc_loss
from ..nn.sequence import CPCNetwork, CPCSignalEncoder
from ._base import BaseSelfSupervisedEncoder

__all__ = ["CPCEncoder"]


def _default_signal_encoder(signal_shape, output_dim, **kwargs):
    """The encoder of ``module=None``: ``latent_dim`` is ``output_dim`` (the
    estimator's ``latent_dim``) unless ``module__latent_dim`` is given."""
    kwargs.setdefault("latent_dim", output_dim)
    return CPCSignalEncoder(signal_shape[0], **kwargs)


class CPCEncoder(BaseSelfSupervisedEncoder):
    """A signal encoder trained to predict its own future latents (CPC).

    Contrastive Predictive Coding (van den Oord, Li and Vinyals 2018) encodes
    a signal with a strided convolutional encoder ``g_enc`` into a shorter
    sequence of latents ``z_1 .. z_T``, and summarises ``z_1 .. z_t`` with an
    autoregressive GRU ``g_ar`` into a context ``c_t``. For each step
    ``k = 1 .. n_steps`` a linear map ``W_k`` (no bias) predicts the latent
    ``k`` steps ahead: the InfoNCE loss (the paper's eq. 4, see
    :func:`~sklabelfree.nn.losses.cpc_loss`) scores ``W_k c_t``
    against ``z_{t+k}`` by the bilinear ``z^T W_k c_t``, and asks the true
    future latent to win over negatives from other time steps and other
    signals of the batch (``negatives``): by default the latents of the
    other steps ``s >= k`` of the same signal and those of the other
    signals at the same step ``t + k`` (``(T - k - 1) + (batch_size - 1)``
    negatives); with ``negatives='all'`` every step ``s >= k`` of every
    signal of the batch (``batch_size * (T - k) - 1`` negatives, quadratic
    in ``batch_size * T``: on 1500 signals of length 128, one seed, it took three
    times as long and its linear probe scored 0.87 against 0.91). The loss is
    averaged over the contexts ``t`` and then over ``k``. To predict several
    steps ahead, the latents and the context must keep what varies slowly in a
    signal (its frequency, its shape), not the local noise.

    ``transform`` returns, in eval mode, the context at the last step
    ``c_T`` (``pooling='last'``) or the mean of the contexts over the steps
    (``pooling='mean'``, the default); the paper trains its linear
    classifiers on ``c_t``. On
    :func:`~sklabelfree.datasets.make_signal_classification` (1500
    signals of length 128, 4 classes, a linear probe on 5 labels per
    class, 2 seeds) the mean of the contexts scored 0.91 and 0.97, the
    last context 0.55 and 0.70: over short signals the last context
    depends much on the last few samples, the mean does not.

    Input kinds: signals ``(n, c, L)``; rows ``(n, d)`` are read as
    one-channel signals of length ``d``, which makes sense only when the
    order of the columns is a time (or space) order, as for sampled
    series or spectra (for unordered features use another encoder). Images
    ``(n, c, h, w)`` are refused with a ``ValueError`` (the paper's image
    version predicts a grid of patches with a PixelCNN context, which this
    estimator does not implement); to read the rows of an image as time
    steps, reshape it to a signal, ``X.transpose(0, 1, 3, 2).reshape(n,
    c * w, h)``. Signals too short to give ``n_steps + 1`` latent steps are
    refused with a ``ValueError``.

    Read more in the :ref:`User Guide <self_supervised>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
        The encoder ``g_enc``, mapping a batch ``(n, c, L)`` to latents
        ``(n, latent_dim, T)``. None builds a
        :class:`~sklabelfree.nn.CPCSignalEncoder` (strided
        convolutions, downsampling by 8 with the default ``strides=(2,
        2, 2)``), sized by ``module__width`` and ``module__strides``; a class
        gets ``in_channels`` and ``latent_dim`` when it takes them; an
        instance is used as is (its ``latent_dim`` is found by a forward
        pass).
    latent_dim : int, default=64
        Size of each latent ``z_t`` (of the default encoder).
    context_dim : int, default=64
        Size of the GRU's state, the contexts ``c_t``, and of the
        embeddings ``transform`` returns.
    n_steps : int, default=4
        ``K``, the number of steps ahead predicted; the signals must give
        at least ``n_steps + 1`` latent steps.
    pooling : {'mean', 'last'}, default='mean'
        The embedding: the mean of the contexts ``c_1 .. c_T`` or the last
        one, ``c_T``.
    negatives : {'cross', 'all'}, default='cross'
        The negatives of each prediction (see above and
        :func:`~sklabelfree.nn.losses.cpc_loss`).
    max_epochs : int, default=15
        Passes over the training signals.
    batch_size : int, default=64
        Signals per step (their latents are each other's negatives); the
        last incomplete batch of an epoch is dropped.
    lr : float, default=2e-3
        Adam's learning rate, decayed along a cosine (``lr_schedule``).
    augment : {'strong', 'weak'}, callable or None, default=None
        An augmentation of the training batches before encoding (the
        prediction targets come from the augmented signal too); None: none.
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
    module_ : sklabelfree.nn.CPCNetwork
        The trained encoder (``module_.encoder``) and GRU
        (``module_.autoregressive``).
    predictors_ : torch.nn.ModuleList
        The ``n_steps`` linear maps ``W_k`` (not used by ``transform``).
    n_latent_steps_ : int
        ``T``, latent steps per training signal.
    feature_dim_ : int
        Size of the embeddings ``transform`` returns (``context_dim``).
    n_steps_ : int
        Training steps taken.
    history_ : skorch History
    input_shape_ : tuple
        Shape of one training sample.
    n_features_in_ : int
        Only for rows ``(n, d)``.

    See Also
    --------
    SimCLREncoder : Contrast augmented views instead of future steps.

    References
    ----------
    .. [1] A. van den Oord, Y. Li, O. Vinyals, "Representation Learning with
       Contrastive Predictive Coding", arXiv:1807.03748, 2018.

    Examples
    --------
    >>> from sklabelfree.datasets import make_signal_classification
    >>> from sklabelfree.self_supervised import CPCEncoder
    >>> X, y = make_signal_classification(n_samples=200, length=64, random_state=0)
    >>> encoder = CPCEncoder(max_epochs=2, random_state=0).fit(X)
    >>> encoder.n_latent_steps_
    8
    >>> encoder.transform(X[:3]).shape
    (3, 64)
    """

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "context_dim": [Interval(Integral, 1, None, closed="left")],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions({"mean", "last"})],
        "negatives": [StrOptions({"all", "cross"})],
    }

    def __init__(self, module=None, *, latent_dim=64, context_dim=64, n_steps=4,
                 pooling="mean", negatives="cross", max_epochs=15, batch_size=64,
                 lr=2e-3, augment=None, lr_schedule="cosine", random_state=None,
                 device="cpu", verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.latent_dim = latent_dim
        self.context_dim = context_dim
        self.n_steps = n_steps
        self.pooling = pooling
        self.negatives = negatives

    # ----------------------------------------------------------------- input
    def _validate_X(self, X, first):
        X = super()._validate_X(X, first)
        if X.ndim == 4:
            n, c, h, w = X.shape
            raise ValueError(
                f"{type(self).__name__} takes signals (n, c, L), or rows (n, d) read as "
                f"one-channel signals; got images of shape {tuple(X.shape)}. To read "
                f"the image rows as {h} time steps of {c * w} channels, pass "
                "X.transpose(0, 1, 3, 2).reshape(n, c * w, h).")
        return X

    @staticmethod
    def _as_signal(x):
        """Rows ``(n, d)`` as one-channel signals ``(n, 1, d)``; signals unchanged."""
        return x.unsqueeze(1) if x.dim() == 2 else x

    # ----------------------------------------------------------------- modules
    def _signal_shape(self):
        shape = self.input_shape_
        return (1, shape[0]) if len(shape) == 1 else shape

    def _build_encoder(self):
        return build_module(self, _default_signal_encoder, self.latent_dim,
                            output_names=("latent_dim",), input_shape=self._signal_shape())

    def initialize_module(self):
        encoder = self._build_encoder()
        signal_shape = self._signal_shape()
        param = next(encoder.parameters(), None)
        device = param.device if param is not None else "cpu"
        with torch.no_grad():
            mode = encoder.training
            encoder.eval()
            probe = encoder(torch.zeros((2, *signal_shape), device=device))
            encoder.train(mode)
        if probe.dim() != 3:
            raise ValueError(
                f"{type(self).__name__}: the encoder must map (n, c, L) to latents "
                f"(n, latent_dim, T); it returned shape {tuple(probe.shape)}.")
        latent_dim, n_latent = int(probe.shape[1]), int(probe.shape[2])
        if n_latent < self.n_steps + 1:
            if len(self.input_shape_) == 1:
                what = (f"rows of {signal_shape[1]} feature(s), read as one-channel "
                        "signals,")
            else:
                what = f"signals of length {signal_shape[1]}"
            factor = math.prod(getattr(encoder, "strides", ())) or None
            by = f" (the encoder downsamples by {factor})" if factor else ""
            raise ValueError(
                f"{type(self).__name__} predicts up to n_steps={self.n_steps} latent "
                f"steps ahead and needs at least {self.n_steps + 1} latent steps, but "
                f"{what} give {n_latent}{by}; use longer signals, a smaller n_steps "
                "or smaller module__strides.")
        self.module_ = CPCNetwork(encoder, latent_dim, self.context_dim)
        self.predictors_ = nn.ModuleList(
            nn.Linear(self.context_dim, latent_dim, bias=False)
            for _ in range(self.n_steps))
        self.n_latent_steps_ = n_latent
        self._takes_return_features = False
        self.feature_dim_ = self._feature_dim(self.module_)
        return self

    def _features_of(self, module, x):
        _, c = module(self._as_signal(x))
        return c[:, -1] if self.pooling == "last" else c.mean(dim=1)

    # ----------------------------------------------------------------- training
    def compute_loss(self, x, **fit_params):
        aug = self.augment_
        if aug is not None:
            x = aug(x, self._generator)
        z, c = self.module_(self._as_signal(x))
        return cpc_loss(z, c, self.predictors_, negatives=self.negatives)
