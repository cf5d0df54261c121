"""Colorization: learn features by predicting the colours of an image from its lightness."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ..neural import check_net_input, eval_mode
from ..nn.losses.colorization import (
    ab_grid,
    annealed_mean_ab,
    class_rebalancing_weights,
    lab_to_rgb,
    rebalanced_cross_entropy,
    rgb_to_lab,
    soft_encode_ab,
)
from ._autoencoder import make_decoder
from ._base import BaseSelfSupervisedEncoder

__all__ = ["ColorizationEncoder"]

AB_MAX = 110.0
"""The grid of ab bins spans ``[-AB_MAX, AB_MAX]`` on both axes."""

_CHUNK = 4096


def _describe(shape):
    kind = {1: "tabular rows", 2: "signals", 3: "images"}.get(len(shape), "samples")
    return f"{kind} of shape (n, {', '.join(str(int(s)) for s in shape)})"


class ColorizationEncoder(BaseSelfSupervisedEncoder):
    """A trunk trained to predict the colours of RGB images from their lightness.

    Zhang, Isola and Efros (2016) convert each image to CIE Lab
    (:func:`~sklabelfree.nn.losses.rgb_to_lab`), give the
    network the lightness ``L`` only and ask it for the two colour
    channels ``a`` and ``b``. As colours are ambiguous (a shirt may be red
    or blue), the output is, at every pixel, a distribution over the bins
    of a grid of size ``grid_size`` (10) in the ab plane, trained with a
    multinomial cross-entropy (:func:`~sklabelfree.nn.losses.rebalanced_cross_entropy`):

    - the bins are those of the grid that the training pixels fall in
      (``ab_bins_``, computed at fit; the paper keeps the 313 in gamut);
    - each pixel's target is soft-encoded over its ``n_neighbors`` (5)
      nearest bins with a Gaussian kernel of width ``sigma`` (5)
      (:func:`~sklabelfree.nn.losses.soft_encode_ab`);
    - each pixel's loss is weighted by the class-rebalancing weight of its
      nearest bin (``bin_weights_``,
      :func:`~sklabelfree.nn.losses.class_rebalancing_weights`):
      the empirical distribution of the bins over the training pixels,
      smoothed with a Gaussian kernel of width ``sigma`` among the bins,
      mixed with the uniform one (``rebalancing_lambda``, 0.5) and
      inverted, normalised to an expected weight of 1; without it the
      grey, frequent colours (here the background) dominate the loss.

    To name the colour of an object from its shape the trunk has to
    recognise the object: that is the representation the method learns.
    ``transform`` takes RGB images and encodes their lightness (the trunk
    is built with one input channel, ``L / 100``).

    The paper's network is fully convolutional and predicts at a quarter
    of the resolution; the default trunk here
    (:func:`~sklabelfree.nn.default_module_for_shape`) pools its features
    globally, so the per-pixel distributions are decoded from the features
    by the decoder of :class:`~sklabelfree.self_supervised.AutoEncoder` to a
    map of ``(Q, h, w)`` logits: the features must then carry both the
    shape and its colour, as an autoencoder's carry the shape.
    :meth:`colorize` gives the colourised images (the annealed mean of the
    distribution, temperature ``temperature``, 0.38 as in the paper).

    On the coloured digits (trunk fitted on the 1257 training images, a
    linear probe on 50 labels), the features of the lightness score 0.96,
    against 0.85 for the lightness pixels and 0.95 for the RGB pixels,
    whose colours give the class away.

    The input must be RGB images ``(n, 3, h, w)`` with values in ``[0, 1]``:
    grayscale images have no colour to predict, and rows or signals no
    colour at all; fit refuses them with a ValueError. See
    :func:`~sklabelfree.datasets.colorize_digits` for coloured digits.

    Read more in the :ref:`User Guide <self_supervised>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
        The trunk whose features ``transform`` returns (it gets one input
        channel); None picks it from the image shape, sized by
        ``module__width``...
    grid_size : float, default=10.0
        Side of the square ab bins.
    n_neighbors : int, default=5
        Bins that each target is spread over.
    sigma : float, default=5.0
        Width of the Gaussian kernel of the soft encoding and of the
        smoothing of the bins' distribution.
    rebalancing_lambda : float in [0, 1], default=0.5
        Weight of the uniform distribution in the rebalancing weights; 1
        gives every pixel the weight 1 (no rebalancing).
    temperature : float, default=0.38
        Temperature of the annealed mean of :meth:`colorize`.
    hidden_dim : int, default=256
        Width of the per-pixel decoder (:func:`make_decoder`).
    max_epochs : int, default=30
        On the coloured digits the linear probe of 30 epochs was as good
        as that of 60, in half the time.
    batch_size : int, default=128
    lr : float, default=3e-3
        Adam's learning rate, decayed along a cosine (``lr_schedule``).
    augment : {'strong', 'weak'}, callable or None, default=None
        An augmentation of the RGB training batches (input and target
        alike); None: none.
    lr_schedule : {'cosine', 'constant'}, default='cosine'
    random_state : int or None, default=None
    device : str or torch.device, default='cpu'
    verbose : int, default=0
    **kwargs
        Other skorch parameters.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained trunk (one input channel: the lightness).
    head_ : torch.nn.Module
        The decoder of the per-pixel logits (not used by ``transform``).
    ab_bins_ : torch.Tensor of shape (Q, 2)
        Centres of the ab bins that occur in the training images.
    bin_counts_ : torch.Tensor of shape (Q,)
        Training pixels in each bin.
    bin_weights_ : torch.Tensor of shape (Q,)
        Class-rebalancing weight of each bin.
    feature_dim_ : int
    n_steps_ : int
    history_ : skorch History
    input_shape_ : tuple
        ``(3, h, w)``.

    See Also
    --------
    InpaintingEncoder : Predicts a dropped region of each image.
    AutoEncoder : Reconstructs the whole input.

    References
    ----------
    .. [1] R. Zhang, P. Isola, A. A. Efros, "Colorful Image Colorization",
       ECCV 2016.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.datasets import colorize_digits
    >>> from sklabelfree.self_supervised import ColorizationEncoder
    >>> X, y = load_digits_images()
    >>> X_rgb = colorize_digits(X[:300], y[:300], random_state=0)
    >>> encoder = ColorizationEncoder(max_epochs=1, random_state=0).fit(X_rgb)
    >>> encoder.transform(X_rgb[:3]).shape
    (3, 64)
    >>> encoder.colorize(X_rgb[:3]).shape
    (3, 3, 8, 8)
    """

    _parameter_constraints: dict = {
        "grid_size": [Interval(Real, 0, None, closed="neither")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "rebalancing_lambda": [Interval(Real, 0, 1, closed="both")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, module=None, *, grid_size=10.0, n_neighbors=5, sigma=5.0,
                 rebalancing_lambda=0.5, temperature=0.38, hidden_dim=256, max_epochs=30,
                 batch_size=128, lr=3e-3, augment=None, lr_schedule="cosine",
                 random_state=None, device="cpu", verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.grid_size = grid_size
        self.n_neighbors = n_neighbors
        self.sigma = sigma
        self.rebalancing_lambda = rebalancing_lambda
        self.temperature = temperature
        self.hidden_dim = hidden_dim

    # ----------------------------------------------------------------- input
    def _validate_X(self, X, first):
        X = super()._validate_X(X, first)
        who = type(self).__name__
        shape = tuple(X.shape[1:])
        if len(shape) != 3 or shape[0] != 3:
            got = _describe(shape)
            if len(shape) == 3:
                got = f"{shape[0]}-channel {got}"
            raise ValueError(
                f"{who} needs RGB images (n, 3, h, w) with values in [0, 1]: it converts "
                "them to CIE Lab and learns to predict each pixel's colour (a, b) from "
                f"its lightness L, so the input must be in colour. Got {got}.")
        lo, hi = float(X.min()), float(X.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise ValueError(
                f"{who} needs RGB values in [0, 1] (sRGB, for the conversion to CIE "
                f"Lab); got values in [{lo:.3g}, {hi:.3g}]. Divide 8-bit images by 255.")
        return X

    def lab(self, x):
        """CIE Lab of a batch of RGB images (a tensor on the net's device)."""
        return rgb_to_lab(x, dim=1)

    def _fit_data(self, X):
        # The bins of occupied_ab_bins on the whole of X, counted in chunks.
        grid = ab_grid(self.grid_size, AB_MAX)
        k = int(AB_MAX // float(self.grid_size))
        grid_counts = torch.zeros(grid.shape[0], dtype=torch.long)
        for i in range(0, X.shape[0], _CHUNK):
            ab = self.lab(torch.as_tensor(X[i:i + _CHUNK]).cpu())[:, 1:]
            idx = torch.round(ab / float(self.grid_size)).clamp(-k, k).long() + k
            flat = (idx[:, 0] * (2 * k + 1) + idx[:, 1]).flatten()
            grid_counts += torch.bincount(flat, minlength=grid.shape[0])
        keep = grid_counts > 0
        self.ab_bins_ = grid[keep]
        self.bin_counts_ = grid_counts[keep]
        self.bin_weights_ = class_rebalancing_weights(
            self.bin_counts_, self.ab_bins_, lam=float(self.rebalancing_lambda),
            sigma=float(self.sigma))

    def fit(self, X, y=None, **fit_params):
        """Train the encoder on the RGB images ``X``, without labels.

        The ab bins and their rebalancing weights are computed from ``X``
        first.

        Parameters
        ----------
        X : array-like or tensor of shape (n, 3, h, w)
            sRGB values in ``[0, 1]``.
        y : None
            Ignored.
        **fit_params : dict
            Passed to :meth:`compute_loss`.

        Returns
        -------
        self
        """
        return super().fit(X, y, **fit_params)

    # ----------------------------------------------------------------- modules
    def _trunk_input_shape(self):
        # The trunk sees the lightness: one channel.
        return (1, *self.input_shape_[1:])

    def initialize_module(self):
        super().initialize_module()
        rgb_shape = self.input_shape_
        n_bins = int(self.ab_bins_.shape[0])
        self.head_ = make_decoder(self.feature_dim_, (n_bins, *rgb_shape[1:]),
                                  self.hidden_dim)
        return self

    def features(self, x):
        """The trunk's features of the lightness ``L / 100`` of RGB images ``x``."""
        lightness = self.lab(x)[:, :1] / 100.0
        return self._features_of(self.module_, lightness)

    def logits(self, x):
        """Per-pixel bin logits ``(n, Q, h, w)`` of a batch of RGB images."""
        return self.head_(self.features(x))

    def compute_loss(self, x, **fit_params):
        aug = self.augment_
        if aug is not None:
            x = aug(x, self._generator).clamp(0.0, 1.0)
        lab = self.lab(x)
        bins = self.ab_bins_.to(x.device)
        targets = soft_encode_ab(lab[:, 1:], bins, self.n_neighbors, self.sigma)
        logits = self.head_(self._features_of(self.module_, lab[:, :1] / 100.0))
        return rebalanced_cross_entropy(logits, targets, self.bin_weights_.to(x.device))

    # ----------------------------------------------------------------- outputs
    def colorize(self, X):
        """Colour the images from their lightness: the predicted RGB images.

        The lightness of ``X`` is kept; ``a`` and ``b`` are the annealed
        mean (:func:`~sklabelfree.nn.losses.annealed_mean_ab`,
        ``temperature``) of the predicted distributions.

        Parameters
        ----------
        X : array-like or tensor of shape (n, 3, h, w)
            RGB images (only their lightness is used).

        Returns
        -------
        X_rgb : ndarray of float32, shape (n, 3, h, w)
        """
        check_is_fitted(self)
        X = check_net_input(X, expected_shape=self.input_shape_, owner=type(self).__name__)
        out = []
        bs = max(self.batch_size, 256)
        with eval_mode(self.module_), eval_mode(self.head_), torch.no_grad():
            for i in range(0, X.shape[0], bs):
                xb = torch.as_tensor(X[i:i + bs]).to(self.device)
                lab = self.lab(xb)
                ab = annealed_mean_ab(self.logits(xb), self.ab_bins_.to(xb.device),
                                      self.temperature)
                out.append(lab_to_rgb(torch.cat([lab[:, :1], ab], dim=1)).cpu())
        return torch.cat(out).numpy().astype(np.float32, copy=False)
