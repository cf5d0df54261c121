"""Context encoders: learn features by filling in a dropped region of each image."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from ..neural import check_net_input, eval_mode
from ..nn.losses.inpainting import (
    inpainting_loss_weights,
    masked_reconstruction_loss,
    region_masks,
)
from ._autoencoder import make_decoder
from ._base import BaseSelfSupervisedEncoder

__all__ = ["InpaintingEncoder", "make_discriminator", "require_images"]

DISCRIMINATOR_LR_RATIO = 0.1
"""The discriminator's learning rate as a fraction of ``lr`` (Pathak et al.
train the context encoder with a 10 times higher rate than the discriminator)."""


def require_images(shape, who, why):
    """Raise a ValueError unless ``shape`` (one sample) is an image ``(c, h, w)``.

    Parameters
    ----------
    shape : tuple of int
        Shape of one sample.
    who : str
        The estimator's name, for the message.
    why : str
        Why it needs images, for the message.

    Examples
    --------
    >>> from sklabelfree.self_supervised._inpainting import require_images
    >>> require_images((1, 8, 8), "Enc", "it crops")
    >>> require_images((64,), "Enc", "it crops")
    Traceback (most recent call last):
    ...
    ValueError: Enc needs images (n, c, h, w): it crops. Got tabular rows of shape (n, 64).
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 3:
        return
    kind = {1: "tabular rows", 2: "signals"}.get(len(shape), "samples")
    raise ValueError(f"{who} needs images (n, c, h, w): {why}. Got {kind} of shape "
                     f"(n, {', '.join(str(s) for s in shape)}).")


def make_discriminator(sample_shape, width=16):
    """A small convolutional discriminator: one logit per image.

    Two 3x3 convolutions (the second with stride 2) with LeakyReLU(0.2),
    no batch normalisation (so that a forward pass does not change any
    running statistic), and a linear layer to one logit.

    Parameters
    ----------
    sample_shape : tuple of int
        ``(c, h, w)``.
    width : int, default=16
        Channels of the first convolution (twice that in the second).

    Returns
    -------
    discriminator : torch.nn.Module

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.self_supervised._inpainting import make_discriminator
    >>> make_discriminator((1, 8, 8))(torch.zeros(3, 1, 8, 8)).shape
    torch.Size([3])
    """
    c, h, w = (int(s) for s in sample_shape)
    h2, w2 = (h + 1) // 2, (w + 1) // 2
    return nn.Sequential(
        nn.Conv2d(c, width, 3, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(2 * width * h2 * w2, 1), nn.Flatten(0))


class InpaintingEncoder(BaseSelfSupervisedEncoder):
    """A trunk trained to fill in a dropped region of each image (context encoder).

    Pathak et al. (2016) drop a region of every image (its pixels set to
    the mean pixel of the training set, per channel), encode the rest with
    the trunk, decode the features back to an image (here
    the decoder of :class:`~sklabelfree.self_supervised.AutoEncoder`) and
    train both to predict the dropped pixels: the loss is the squared error on the
    dropped region only
    (:func:`~sklabelfree.nn.losses.masked_reconstruction_loss`), optionally on a
    border of ``overlap`` visible pixels around it weighted ``overlap_weight``
    times more, as in the paper. To fill a hole the trunk has to understand what
    surrounds it, so the features carry the images' structure rather than copy
    pixels. ``transform`` encodes the whole (unmasked) images.

    The regions (``region``, see :func:`~sklabelfree.nn.losses.region_masks`):
    ``'center'``, the paper's central square of side ``region_size`` times the
    image's side (0.5: a quarter of the pixels, the 4x4 centre of an 8x8 digit);
    ``'random'``, a square of that side at a random position in each image;
    ``'blocks'`` (the default), the union of 4 squares of half that side at
    random positions (the paper's "random block" masks; its "random region"
    masks, shapes of segmentation masks of other images, need a segmentation
    data set and are not offered). Pathak et al. note that with a fixed central
    hole the features latch onto its boundary and use random masks to learn
    features; on the digits the central hole also covers most of the strokes,
    and the trunk, always trained on images with the same hole, embeds whole
    images poorly: with 50 labels and 30 epochs, the linear probe scores 0.71
    with ``'center'``, 0.86 with ``'random'`` and 0.89 with ``'blocks'`` (0.91
    with the default 60 epochs; raw pixels: 0.86).

    The paper adds an adversarial loss: a discriminator tells the images
    from the images with their region filled in by the decoder (here the
    whole composite image, so that the discriminator also sees whether the
    fill agrees with its context; the paper's central-region discriminator
    sees the patch alone), and the loss is
    ``(1 - adversarial_weight) * reconstruction + adversarial_weight * adversarial``
    (their ``lambda_rec = 0.999``, ``lambda_adv = 0.001``), with the
    non-saturating generator loss ``-log D(fill)``. The discriminator
    (:func:`make_discriminator`) is trained in the same step: its own
    binary cross-entropy (real images 1, filled ones 0, on the detached
    fill) is added to the returned loss, and its parameters are a second
    parameter group of the Adam optimizer, with a learning rate
    ``DISCRIMINATOR_LR_RATIO = 0.1`` times ``lr`` as in the paper, that
    only this term reaches (the discriminator is frozen for the
    generator's term). Its terms are recorded in ``history_`` per batch as
    ``'adversarial_loss'`` and ``'discriminator_loss'``. The adversarial
    term sharpens the fills of large natural images (the L2 loss alone
    predicts the blurry mean); on 8x8 digits it did not improve the
    linear probe (0.904 with the paper's 0.001 against 0.907 without, 60
    epochs, 50 labels) and costs about 15 % more time, so the default
    ``adversarial_weight`` is 0 (no discriminator is built);
    ``adversarial_weight=0.001`` is the paper's setting.

    Read more in the :ref:`User Guide <self_supervised>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
        The trunk whose features ``transform`` returns; None picks it from
        the image shape (:func:`~sklabelfree.nn.default_module_for_shape`),
        sized by ``module__width``...
    region : {'center', 'random', 'blocks'}, default='blocks'
        Which pixels are dropped.
    region_size : float in (0, 1], default=0.5
        Side of the dropped square as a fraction of the image's side.
    overlap : int, default=0
        Width, in pixels, of the visible border around the region that the
        loss also counts (the paper: 4 pixels of 128; 0 on 8x8 digits).
    overlap_weight : float, default=10.0
        Weight of the border's pixels relative to the region's.
    adversarial_weight : float in [0, 1), default=0.0
        Weight of the adversarial loss (the paper's ``lambda_adv``, 0.001);
        0: no discriminator.
    hidden_dim : int, default=256
        Width of the decoder (:func:`make_decoder`) and, divided by 16, of
        the discriminator.
    max_epochs : int, default=60
    batch_size : int, default=128
    lr : float, default=3e-3
        Adam's learning rate, decayed along a cosine (``lr_schedule``).
    augment : {'strong', 'weak'}, callable or None, default=None
        An augmentation of the training batches before the region is
        dropped (the target is the augmented batch); None: none.
    lr_schedule : {'cosine', 'constant'}, default='cosine'
    random_state : int or None, default=None
        Seeds the weights, the batches and the regions.
    device : str or torch.device, default='cpu'
    verbose : int, default=0
    **kwargs
        Other skorch parameters.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained trunk.
    decoder_ : torch.nn.Module
        The decoder of the filled-in images (not used by ``transform``).
    discriminator_ : torch.nn.Module or None
        The discriminator; None when ``adversarial_weight`` is 0.
    fill_value_ : torch.Tensor of shape (c,)
        The mean of each channel over the training images: the value of the
        dropped pixels.
    feature_dim_ : int
    n_steps_ : int
    history_ : skorch History
    input_shape_ : tuple
        ``(c, h, w)``.

    See Also
    --------
    DenoisingAutoEncoder : Drops random pixels, and reconstructs all of them.
    ColorizationEncoder : Predicts the colours from the lightness.

    References
    ----------
    .. [1] D. Pathak, P. Krahenbuhl, J. Donahue, T. Darrell, A. A. Efros,
       "Context Encoders: Feature Learning by Inpainting", CVPR 2016.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.self_supervised import InpaintingEncoder
    >>> X, _ = load_digits_images()
    >>> encoder = InpaintingEncoder(max_epochs=1, random_state=0).fit(X[:300])
    >>> encoder.transform(X[:3]).shape
    (3, 64)
    >>> encoder.reconstruct(X[:3]).shape
    (3, 1, 8, 8)
    """

    _parameter_constraints: dict = {
        "region": [StrOptions({"center", "random", "blocks"})],
        "region_size": [Interval(Real, 0, 1, closed="right")],
        "overlap": [Interval(Integral, 0, None, closed="left")],
        "overlap_weight": [Interval(Real, 0, None, closed="left")],
        "adversarial_weight": [Interval(Real, 0, 1, closed="left")],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, module=None, *, region="blocks", region_size=0.5, overlap=0,
                 overlap_weight=10.0, adversarial_weight=0.0, hidden_dim=256,
                 max_epochs=60, batch_size=128, lr=3e-3, augment=None,
                 lr_schedule="cosine", random_state=None, device="cpu", verbose=0,
                 **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.region = region
        self.region_size = region_size
        self.overlap = overlap
        self.overlap_weight = overlap_weight
        self.adversarial_weight = adversarial_weight
        self.hidden_dim = hidden_dim

    # ----------------------------------------------------------------- input
    _why_images = ("it drops a region of each image and predicts it from the pixels "
                   "around it")

    def _validate_X(self, X, first):
        X = super()._validate_X(X, first)
        require_images(X.shape[1:], type(self).__name__, self._why_images)
        return X

    def _fit_data(self, X):
        # The value a hole is filled with: the mean of each channel over X.
        fill = torch.as_tensor(X).to(torch.float64).mean(dim=(0, 2, 3))
        self.fill_value_ = fill.to(torch.float32)

    def fit(self, X, y=None, **fit_params):
        """Train the encoder on the images ``X``, without labels.

        Parameters
        ----------
        X : array-like or tensor of shape (n, c, h, w)
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
    def initialize_module(self):
        super().initialize_module()
        self.decoder_ = make_decoder(self.feature_dim_, self.input_shape_, self.hidden_dim)
        if self.adversarial_weight > 0:
            self.discriminator_ = make_discriminator(self.input_shape_,
                                                     max(4, self.hidden_dim // 16))
        else:
            self.discriminator_ = None
        return self

    def get_all_learnable_params(self):
        disc = getattr(self, "discriminator_", None)
        skip = set() if disc is None else {id(p) for p in disc.parameters()}
        for name, param in super().get_all_learnable_params():
            if id(param) not in skip:
                yield name, param

    def initialize_optimizer(self, *args, **kwargs):
        super().initialize_optimizer(*args, **kwargs)
        if self.discriminator_ is not None:
            self.optimizer_.add_param_group({
                "params": list(self.discriminator_.parameters()),
                "lr": self.optimizer_.param_groups[0]["lr"] * DISCRIMINATOR_LR_RATIO})
        return self

    # ----------------------------------------------------------------- training
    def draw_masks(self, n, generator=None, device=None):
        """Masks ``(n, 1, h, w)`` of the dropped regions (True where dropped)."""
        _, h, w = self.input_shape_
        return region_masks(n, h, w, self.region, self.region_size,
                            generator=generator, device=device)

    def drop_region(self, x, mask):
        """The batch ``x`` with the pixels under ``mask`` set to ``fill_value_``."""
        fill = self.fill_value_.to(x.device, x.dtype).view(1, -1, 1, 1)
        return torch.where(mask, fill, x)

    def inpaint(self, x, mask):
        """Decoder output and filled-in images ``(decoded, composite)`` of a batch."""
        decoded = self.decoder_(self.features(self.drop_region(x, mask)))
        return decoded, torch.where(mask, decoded, x)

    def compute_loss(self, x, **fit_params):
        aug = self.augment_
        if aug is not None:
            x = aug(x, self._generator)
        mask = self.draw_masks(x.shape[0], self._generator, x.device)
        decoded, composite = self.inpaint(x, mask)
        weights = inpainting_loss_weights(mask, self.overlap, self.overlap_weight)
        loss = masked_reconstruction_loss(decoded, x, weights)
        lam = float(self.adversarial_weight)
        if lam <= 0 or self.discriminator_ is None:
            return loss
        disc = self.discriminator_
        ones = torch.ones(x.shape[0], device=x.device)
        real_fake = disc(torch.cat([x, composite.detach()]))
        d_loss = F.binary_cross_entropy_with_logits(
            real_fake, torch.cat([ones, torch.zeros_like(ones)]))
        params = list(disc.parameters())
        for p in params:
            p.requires_grad_(False)
        try:
            adv = F.binary_cross_entropy_with_logits(disc(composite), ones)
        finally:
            for p in params:
                p.requires_grad_(True)
        if len(self.history) and self.history[-1].get("batches"):
            self.history.record_batch("adversarial_loss", float(adv.detach()))
            self.history.record_batch("discriminator_loss", float(d_loss.detach()))
        return (1.0 - lam) * loss + lam * adv + d_loss

    # ----------------------------------------------------------------- outputs
    def reconstruct(self, X, mask=None, return_mask=False):
        """The images ``X`` with their region dropped and filled in (eval mode).

        Parameters
        ----------
        X : array-like or tensor of shape (n, c, h, w)
        mask : array-like of bool of shape (n, 1, h, w) or (1, 1, h, w), or None
            The pixels to drop and fill. None: the ``region`` masks, drawn
            (for the random regions) with a generator seeded with
            ``random_state`` (0 when None), so repeated calls agree.
        return_mask : bool, default=False
            Also return the masks.

        Returns
        -------
        X_filled : ndarray of float32, shape (n, c, h, w)
            ``X`` outside the masks, the decoder's prediction inside.
        mask : ndarray of bool, shape (n, 1, h, w)
            Only with ``return_mask=True``.
        """
        check_is_fitted(self)
        X = check_net_input(X, expected_shape=self.input_shape_, owner=type(self).__name__)
        n = X.shape[0]
        if mask is None:
            gen = torch.Generator(device=self.device)
            gen.manual_seed(0 if self.random_state is None else int(self.random_state))
            masks = self.draw_masks(n, gen, self.device)
        else:
            masks = torch.as_tensor(np.asarray(mask, dtype=bool)).to(self.device)
            if masks.dim() != 4 or masks.shape[1] != 1 or masks.shape[2:] != X.shape[2:]:
                raise ValueError(f"mask must have shape (n, 1, h, w), got "
                                 f"{tuple(masks.shape)}.")
            masks = masks.expand(n, -1, -1, -1)
        out = []
        bs = max(self.batch_size, 256)
        with eval_mode(self.module_), eval_mode(self.decoder_), torch.no_grad():
            for i in range(0, n, bs):
                xb = torch.as_tensor(X[i:i + bs]).to(self.device)
                out.append(self.inpaint(xb, masks[i:i + bs])[1].cpu())
        filled = torch.cat(out).numpy().astype(np.float32, copy=False)
        if return_mask:
            return filled, masks.cpu().numpy()
        return filled
