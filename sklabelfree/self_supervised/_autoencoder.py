"""Autoencoders: reconstruct the input (or a clean input from a corrupted one)."""

import math
from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from torch.nn import functional as F

from ._base import BaseSelfSupervisedEncoder

__all__ = ["AutoEncoder", "DenoisingAutoEncoder", "make_decoder"]


def make_decoder(feature_dim, sample_shape, hidden_dim=256):
    """The decoder from a trunk's features back to a sample of ``sample_shape``.

    Rows ``(d,)`` and signals: an MLP ``Linear - ReLU - Linear`` to the
    flattened sample. Images ``(c, h, w)``: a linear layer to a map of
    ``hidden_dim // 8`` channels at half the size, nearest upsampling to
    ``(h, w)`` and two 3x3 convolutions.

    Parameters
    ----------
    feature_dim : int
    sample_shape : tuple of int
    hidden_dim : int, default=256

    Returns
    -------
    decoder : torch.nn.Module

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.self_supervised._autoencoder import make_decoder
    >>> make_decoder(16, (1, 8, 8))(torch.zeros(2, 16)).shape
    torch.Size([2, 1, 8, 8])
    """
    sample_shape = tuple(int(s) for s in sample_shape)
    if len(sample_shape) == 3:
        c, h, w = sample_shape
        ch = max(4, hidden_dim // 8)
        h2, w2 = math.ceil(h / 2), math.ceil(w / 2)
        return nn.Sequential(
            nn.Linear(feature_dim, ch * h2 * w2), nn.ReLU(), nn.Unflatten(1, (ch, h2, w2)),
            nn.Upsample(size=(h, w), mode="nearest"),
            nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, c, 3, padding=1))
    size = int(math.prod(sample_shape))
    return nn.Sequential(nn.Linear(feature_dim, hidden_dim), nn.ReLU(),
                         nn.Linear(hidden_dim, size), nn.Unflatten(1, sample_shape))


_AE_PARAMS = """module : torch.nn.Module class or instance, or None, default=None
        The encoder trunk whose features ``transform`` returns; None picks
        it from the input shape, sized by ``module__width``...
    hidden_dim : int, default=256
        Width of the decoder (see :func:`make_decoder`).
    max_epochs : int, default=60
    batch_size : int, default=128
    lr : float, default=3e-3
        Adam's learning rate, decayed along a cosine (``lr_schedule``).
    augment : {{'strong', 'weak'}}, callable or None, default=None
        An augmentation of the training batches before encoding (the target
        is the batch itself); None: none.
    lr_schedule : {{'cosine', 'constant'}}, default='cosine'
    random_state : int or None, default=None
    device : str or torch.device, default='cpu'
    verbose : int, default=0
    **kwargs
        Other skorch parameters."""

_AE_ATTRS = """module_ : torch.nn.Module
        The trained encoder trunk.
    decoder_ : torch.nn.Module
        The decoder (not used by ``transform``).
    feature_dim_ : int
    n_steps_ : int
    history_ : skorch History
    input_shape_ : tuple
    n_features_in_ : int
        Only for rows ``(n, d)``."""


class AutoEncoder(BaseSelfSupervisedEncoder):
    __doc__ = """A trunk trained to reconstruct its input through a decoder.

    The trunk encodes each row, :func:`make_decoder` maps the features back
    to the input's shape and the loss is the mean squared reconstruction
    error. The assumption is that what is needed to rebuild the input
    (through the trunk's bottleneck) is what matters for the task; unlike
    the joint-embedding encoders it needs no augmentation that keeps the
    class, but it also spends capacity on details no class depends on.

    Read more in the :ref:`User Guide <self_supervised>`.

    Parameters
    ----------
    {params}

    Attributes
    ----------
    {attrs}

    See Also
    --------
    DenoisingAutoEncoder : Reconstruct the clean input from a corrupted one.

    References
    ----------
    .. [1] G. E. Hinton, R. R. Salakhutdinov, "Reducing the Dimensionality of
       Data with Neural Networks", Science 313, 2006.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.self_supervised import AutoEncoder
    >>> X, _ = load_digits_images(as_images=False)
    >>> encoder = AutoEncoder(max_epochs=2, random_state=0).fit(X)
    >>> encoder.transform(X[:3]).shape
    (3, 256)
    >>> encoder.reconstruct(X[:3]).shape
    (3, 64)
    """.format(params=_AE_PARAMS, attrs=_AE_ATTRS)

    _parameter_constraints: dict = {
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, module=None, *, hidden_dim=256, max_epochs=60, batch_size=128,
                 lr=3e-3, augment=None, lr_schedule="cosine", random_state=None,
                 device="cpu", verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.hidden_dim = hidden_dim

    def initialize_module(self):
        super().initialize_module()
        self.decoder_ = make_decoder(self.feature_dim_, self.input_shape_, self.hidden_dim)
        return self

    def corrupt(self, x):
        """The encoder's input for a clean batch ``x`` (augmented when ``augment``)."""
        aug = self.augment_
        return x if aug is None else aug(x, self._generator)

    def compute_loss(self, x, **fit_params):
        recon = self.decoder_(self.features(self.corrupt(x)))
        return F.mse_loss(recon, x)

    def reconstruct(self, X):
        """Decode the embeddings of ``X`` back to its shape (eval mode).

        Parameters
        ----------
        X : array-like or tensor

        Returns
        -------
        X_rec : ndarray of float32, same shape as ``X``
        """
        Z = torch.as_tensor(self.transform(X)).to(self.device)
        self.decoder_.eval()
        with torch.no_grad():
            out = self.decoder_(Z).cpu().numpy()
        self.decoder_.train()
        return out


class DenoisingAutoEncoder(AutoEncoder):
    __doc__ = """A trunk trained to reconstruct clean rows from corrupted ones.

    Vincent et al. (2008) corrupt each input, here by masking noise (a
    random ``noise_level`` fraction of the entries set to 0, their choice)
    or additive Gaussian noise (``noise_level`` times each entry's spread
    in the batch), and train the autoencoder to reconstruct the clean
    input: the features must capture the dependencies between entries,
    not just copy them, which gives better representations than a plain
    :class:`AutoEncoder`.

    Read more in the :ref:`User Guide <self_supervised>`.

    Parameters
    ----------
    {params}
    noise : {{'masking', 'gaussian'}}, default='masking'
    noise_level : float in [0, 1), default=0.3
        Fraction of entries masked, or the relative noise scale.

    Attributes
    ----------
    {attrs}

    See Also
    --------
    AutoEncoder : No corruption.

    References
    ----------
    .. [1] P. Vincent, H. Larochelle, Y. Bengio, P.-A. Manzagol, "Extracting
       and Composing Robust Features with Denoising Autoencoders", ICML 2008.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.self_supervised import DenoisingAutoEncoder
    >>> X, _ = load_digits_images()
    >>> encoder = DenoisingAutoEncoder(max_epochs=1, random_state=0).fit(X[:300])
    >>> encoder.transform(X[:3]).shape
    (3, 64)
    """.format(params=_AE_PARAMS, attrs=_AE_ATTRS)

    _parameter_constraints: dict = {
        "noise": [StrOptions({"masking", "gaussian"})],
        "noise_level": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, module=None, *, noise="masking", noise_level=0.3, hidden_dim=256,
                 max_epochs=60, batch_size=128, lr=3e-3, augment=None,
                 lr_schedule="cosine", random_state=None, device="cpu", verbose=0,
                 **kwargs):
        super().__init__(module, hidden_dim=hidden_dim, lr=lr, max_epochs=max_epochs,
                         batch_size=batch_size, augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.noise = noise
        self.noise_level = noise_level

    def corrupt(self, x):
        x = super().corrupt(x)
        g = self._generator
        if self.noise == "masking":
            keep = torch.rand(x.shape, generator=g, device=x.device) >= self.noise_level
            return x * keep.to(x.dtype)
        spread = x.std(dim=0, keepdim=True).clamp_min(1e-6)
        noise = torch.randn(x.shape, generator=g, device=x.device, dtype=x.dtype)
        return x + self.noise_level * spread * noise
