"""Masked autoencoder (MAE): a Vision Transformer that rebuilds masked patches."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ..neural import build_module, check_net_input, eval_mode, forward_takes_return_features
from ..nn.losses.masked import masked_patch_loss, n_masked_patches, random_masking
from ..nn.vit import MAEDecoder, VisionTransformer, patchify, unpatchify
from ._base import BaseSelfSupervisedEncoder

__all__ = ["MAEEncoder"]

_NEEDS = ("patch_size", "num_patches", "grid_size", "embed_dim", "forward_visible")


def _default_vit(input_shape, output_dim, **kwargs):
    """The encoder of ``module=None``: 2 blocks whose patch tokens are concatenated."""
    c, h, w = input_shape
    return VisionTransformer(**{"in_channels": c, "image_size": (h, w),
                                "output_dim": output_dim, "depth": 2, "pool": "flatten",
                                **kwargs})


class MAEEncoder(BaseSelfSupervisedEncoder):
    """A Vision Transformer trained to rebuild the masked patches of images (MAE).

    He et al. (2022) cut each image into patches and hide a random
    ``mask_ratio`` of them (75 %, drawn anew for every image at every
    step, :func:`~sklabelfree.nn.losses.random_masking`). The
    encoder, a :class:`~sklabelfree.nn.VisionTransformer`, sees only
    the visible patches (with their positional embeddings); a light
    decoder (:class:`~sklabelfree.nn.MAEDecoder`) gets the encoded
    visible tokens plus a shared learnable mask token at each masked
    position, with its own positional embeddings, and predicts the pixels
    of every patch. The loss is the mean squared error on the masked
    patches only (:func:`~sklabelfree.nn.losses.masked_patch_loss`),
    optionally on per-patch normalised pixels (``norm_pix_loss``). The
    assumption is that to fill in a large hidden part of an image the
    encoder must model its content, not copy its pixels; no augmentation
    that keeps the class is needed.

    ``transform`` runs the encoder on all the patches (no masking), in
    eval mode, and returns its output patch tokens concatenated in the
    order of the grid (``module__pool='flatten'``; ``'mean'`` averages
    them, ``'cls'`` returns a class token). MAE's features are known to be
    weak under a linear probe (the paper fine-tunes them, and its probe
    puts a BatchNorm without affine parameters before the linear layer),
    and the method needs long training. On 8x8 digits (linear probe with
    50 labels, seeds 0, 1, 2) the concatenated tokens gave 0.900, 0.867
    and 0.861 where their mean gave 0.843, 0.826 and 0.813, below a
    logistic regression on the raw pixels: the mean of 16 tokens loses
    where each stroke is, which a probe on 8x8 images needs. The default
    encoder has 2 blocks, not 4: it takes 150 epochs in the time 4 blocks
    take 100, and its probe was better (the concatenated tokens of 4
    blocks after 100 epochs: 0.900, 0.865, 0.820).

    Only images ``(n, c, h, w)`` are accepted, each side a multiple of the
    patch size: fit refuses rows ``(n, d)`` and signals ``(n, c, L)``.

    Read more in the :ref:`User Guide <self_supervised>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
        The encoder. None builds a
        :class:`~sklabelfree.nn.VisionTransformer` for the input shape
        (``in_channels``, ``image_size``) with no head, sized by
        ``module__patch_size`` (default 2), ``module__embed_dim`` (64),
        ``module__depth`` (2, where VisionTransformer's own default is 4),
        ``module__num_heads`` (4), ``module__mlp_ratio`` (2.0),
        ``module__pool`` (``'flatten'``, where VisionTransformer's own
        default is ``'mean'``) and ``module__patch_norm`` (True). A
        class gets ``in_channels``, ``image_size`` and ``output_dim=0``
        when it takes them; an instance is used as is. Another module must
        offer what VisionTransformer does: attributes ``patch_size``,
        ``grid_size`` (patches per column and per row), ``num_patches``,
        ``embed_dim`` and ``num_prefix_tokens`` (tokens before the patches
        in its output, 0 if absent), ``forward_visible(x, ids_keep)``
        returning the encoded tokens ``(n, num_prefix_tokens + k,
        embed_dim)`` of the kept patches, and ``forward(x,
        return_features=True)`` returning the features.
    mask_ratio : float in (0, 1), default=0.75
        Fraction of the patches of each image that are masked; exactly
        ``round(mask_ratio * n_patches)`` per image, at least one masked
        and one visible.
    decoder_dim : int, default=32
        Token size of the decoder (a multiple of 4 and of
        ``decoder_num_heads``).
    decoder_depth : int, default=1
        Transformer blocks of the decoder.
    decoder_num_heads : int, default=4
    norm_pix_loss : bool, default=False
        Predict each masked patch's pixels standardised by that patch's
        own mean and variance (the paper's normalised pixels, which it
        found better on ImageNet). Off by default: patches of 2x2 pixels of
        8x8 digits are mostly flat background (all zero), whose
        standardised target is 0, and their few pixels make the
        per-patch variance a noisy estimate.
    weight_decay : float, default=0.05
        Decoupled weight decay of AdamW on the weight matrices (not on
        biases, LayerNorms, the class and the mask tokens), as in MAE.
    optimizer : torch optimizer class, default=torch.optim.AdamW
    max_epochs : int, default=150
    batch_size : int, default=32
        Images per step; the last incomplete batch of an epoch is dropped.
        The defaults give about 5,900 steps on 1,257 digits: the loss sits
        at the per-pixel mean of the images (the decoder ignores the
        visible patches) for the first 1,000 to 1,500 steps before the
        encoder learns to use them (measured on digits, seed 0: 450 steps
        of 128 images gave a linear probe of 0.27, 4,000 of 32 one of
        0.87; where the plateau ends varies with the seed).
    lr : float, default=2e-3
        AdamW's learning rate, decayed along a cosine (``lr_schedule``).
    augment : {'strong', 'weak'}, callable or None, default=None
        An augmentation of the training batches before masking (the target
        is the augmented image, as MAE's random crops); None: none.
    lr_schedule : {'cosine', 'constant'}, default='cosine'
    random_state : int or None, default=None
        Seeds the weights, the batches and the masks; the global torch
        random state is left as it was.
    device : str or torch.device, default='cpu'
    verbose : int, default=0
    **kwargs
        Other skorch parameters (``module__embed_dim``...).

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained encoder.
    decoder_ : MAEDecoder
        The decoder (not used by ``transform``).
    feature_dim_ : int
        Size of the embeddings ``transform`` returns.
    n_steps_ : int
    history_ : skorch History
    input_shape_ : tuple
        ``(c, h, w)``.

    See Also
    --------
    AutoEncoder : Reconstruct the whole input from a bottleneck.
    DenoisingAutoEncoder : Reconstruct the clean input from a corrupted one.

    References
    ----------
    .. [1] K. He, X. Chen, S. Xie, Y. Li, P. Dollár, R. Girshick, "Masked
       Autoencoders Are Scalable Vision Learners", CVPR 2022.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.self_supervised import MAEEncoder
    >>> X, _ = load_digits_images()
    >>> encoder = MAEEncoder(max_epochs=1, random_state=0).fit(X[:300])
    >>> encoder.transform(X[:3]).shape
    (3, 1024)
    >>> X_rec, mask = encoder.reconstruct(X[:3], random_state=0, return_mask=True)
    >>> X_rec.shape, mask.shape, int(mask[0].sum())
    ((3, 1, 8, 8), (3, 8, 8), 48)
    """

    _parameter_constraints: dict = {
        "mask_ratio": [Interval(Real, 0, 1, closed="neither")],
        "decoder_dim": [Interval(Integral, 1, None, closed="left")],
        "decoder_depth": [Interval(Integral, 0, None, closed="left")],
        "decoder_num_heads": [Interval(Integral, 1, None, closed="left")],
        "norm_pix_loss": ["boolean"],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, module=None, *, mask_ratio=0.75, decoder_dim=32, decoder_depth=1,
                 decoder_num_heads=4, norm_pix_loss=False, weight_decay=0.05,
                 optimizer=torch.optim.AdamW, max_epochs=150, batch_size=32, lr=2e-3,
                 augment=None, lr_schedule="cosine", random_state=None, device="cpu",
                 verbose=0, **kwargs):
        super().__init__(module, optimizer=optimizer, lr=lr, max_epochs=max_epochs,
                         batch_size=batch_size, augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.mask_ratio = mask_ratio
        self.decoder_dim = decoder_dim
        self.decoder_depth = decoder_depth
        self.decoder_num_heads = decoder_num_heads
        self.norm_pix_loss = norm_pix_loss
        self.weight_decay = weight_decay

    # ----------------------------------------------------------------- input
    def _validate_X(self, X, first):
        if first:
            X = check_net_input(X, owner=type(self).__name__)
            if X.ndim != 4:
                kind = "tabular rows (n, d)" if X.ndim == 2 else "signals (n, c, L)"
                raise ValueError(
                    f"{type(self).__name__} needs images (n, c, h, w): it masks and "
                    f"rebuilds patches of an image; got {kind} of shape "
                    f"{tuple(X.shape)}. Reshape rows that are images, e.g. "
                    "X.reshape(-1, 1, 8, 8) for 64 pixels.")
        return super()._validate_X(X, first)

    # ----------------------------------------------------------------- modules
    def initialize_module(self):
        c, h, w = self.input_shape_
        module = build_module(self, _default_vit, 0)
        missing = [name for name in _NEEDS if not hasattr(module, name)]
        if missing:
            raise TypeError(
                f"{type(self).__name__} needs a VisionTransformer-like module; "
                f"{type(module).__name__} lacks {', '.join(missing)} (see the "
                "documentation of the module parameter).")
        p = int(module.patch_size)
        if h % p or w % p:
            raise ValueError(
                f"{type(self).__name__}: the image size {h}x{w} is not divisible by "
                f"patch_size={p}; each side must be a multiple of the patch size.")
        if self.norm_pix_loss and p * p * self.input_shape_[0] < 2:
            raise ValueError(
                f"{type(self).__name__}(norm_pix_loss=True) standardises the pixels of "
                f"each patch, which needs at least 2 of them; patches of {p}x{p} pixels "
                f"of {self.input_shape_[0]} channel have 1. Use norm_pix_loss=False or "
                "a larger patch_size.")
        self.module_ = module
        self._takes_return_features = forward_takes_return_features(module)
        self.feature_dim_ = self._feature_dim(module)
        n_masked_patches(int(module.num_patches), self.mask_ratio)
        self.decoder_ = MAEDecoder(
            int(module.embed_dim), tuple(module.grid_size), patch_dim=p * p * c,
            decoder_dim=self.decoder_dim, depth=self.decoder_depth,
            num_heads=self.decoder_num_heads,
            num_prefix_tokens=int(getattr(module, "num_prefix_tokens", 0)))
        return self

    def get_params_for_optimizer(self, prefix, named_parameters):
        """AdamW's parameter groups: weight decay on the weight matrices only.

        As in MAE, biases, LayerNorms and the class and mask tokens (the
        parameters with fewer than 2 dimensions, and the tokens) are not
        decayed. An explicit ``optimizer__param_groups`` is used as given.
        """
        if prefix != "optimizer" or "optimizer__param_groups" in self.__dict__:
            return super().get_params_for_optimizer(prefix, named_parameters)
        args, kwargs = super().get_params_for_optimizer(prefix, [])
        decay, no_decay = [], []
        for name, param in named_parameters:
            if param.ndim < 2 or name.endswith("_token"):
                no_decay.append(param)
            else:
                decay.append(param)
        groups = [{"params": decay, "weight_decay": self.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        return (groups,), kwargs

    # ----------------------------------------------------------------- loss
    def mask_and_predict(self, x, generator):
        """Mask a batch, encode its visible patches and decode every patch.

        Parameters
        ----------
        x : torch.Tensor of shape (n, c, h, w)
        generator : torch.Generator or None
            Draws the masks.

        Returns
        -------
        pred : torch.Tensor of shape (n, L, p * p * c)
            The decoder's prediction of every patch.
        mask : torch.Tensor of shape (n, L)
            1 for a masked patch.
        """
        module = self.module_
        ids_keep, mask, ids_restore = random_masking(
            x.shape[0], int(module.num_patches), self.mask_ratio, generator=generator,
            device=x.device)
        latent = module.forward_visible(x, ids_keep)
        return self.decoder_(latent, ids_restore), mask

    def compute_loss(self, x, **fit_params):
        aug = self.augment_
        if aug is not None:
            x = aug(x, self._generator)
        pred, mask = self.mask_and_predict(x, self._generator)
        target = patchify(x, int(self.module_.patch_size))
        return masked_patch_loss(pred, target, mask, norm_pix=self.norm_pix_loss)

    # ----------------------------------------------------------------- reconstruct
    def reconstruct(self, X, random_state=None, return_mask=False):
        """Images with their masked patches replaced by the decoder's prediction.

        Each image gets a random mask of ``mask_ratio`` of its patches;
        the visible patches are kept as they are and the masked ones are
        the decoder's prediction (eval mode), as in the paper's figures.
        With ``norm_pix_loss`` the decoder predicts standardised pixels:
        each predicted patch is mapped back with the mean and standard
        deviation of the true patch it replaces (so the figure shows the
        predicted structure, not the predicted brightness).

        Parameters
        ----------
        X : array-like or tensor of shape (n, c, h, w)
        random_state : int, RandomState instance or None, default=None
            Draws the masks; an int gives the same masks on each call.
        return_mask : bool, default=False
            Also return the mask.

        Returns
        -------
        X_rec : ndarray of float32 of shape (n, c, h, w)
        mask : ndarray of bool of shape (n, h, w)
            Only with ``return_mask``: True at the pixels of the masked
            (predicted) patches.
        """
        check_is_fitted(self)
        X = check_net_input(X, expected_shape=self.input_shape_, owner=type(self).__name__)
        seed = int(check_random_state(random_state).randint(0, 2**31 - 1))
        generator = torch.Generator(device=self.device).manual_seed(seed)
        p = int(self.module_.patch_size)
        shape = self.input_shape_
        bs = max(self.batch_size, 256)
        recs, masks = [], []
        with eval_mode(self.module_), eval_mode(self.decoder_), torch.no_grad():
            for i in range(0, X.shape[0], bs):
                x = torch.as_tensor(X[i:i + bs]).to(self.device)
                pred, mask = self.mask_and_predict(x, generator)
                target = patchify(x, p)
                if self.norm_pix_loss:
                    mean = target.mean(dim=-1, keepdim=True)
                    std = torch.sqrt(target.var(dim=-1, keepdim=True) + 1e-6)
                    pred = pred * std + mean
                m = mask.unsqueeze(-1)
                out = target * (1 - m) + pred * m
                recs.append(unpatchify(out, p, shape).cpu())
                pix = unpatchify(m.expand(-1, -1, target.shape[-1]), p, shape)
                masks.append(pix[:, 0].cpu() > 0.5)
        X_rec = torch.cat(recs).numpy().astype(np.float32, copy=False)
        if return_mask:
            return X_rec, torch.cat(masks).numpy()
        return X_rec
