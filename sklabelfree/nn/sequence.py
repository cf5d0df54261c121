"""Torch modules for sequences of latents: a strided 1-D encoder and CPC's network.

:class:`CPCSignalEncoder` maps a signal ``(n, c, L)`` to a shorter
sequence of latent vectors ``(n, latent_dim, T)``; :class:`CPCNetwork`
adds the autoregressive GRU of Contrastive Predictive Coding, which
summarises the latents up to each step into a context vector.
"""

from torch import nn

from .modules import _activation

__all__ = ["CPCSignalEncoder", "CPCNetwork"]


class CPCSignalEncoder(nn.Module):
    """Strided 1-D convolutions from a signal to a sequence of latents (CPC's g_enc).

    One convolution per entry of ``strides``, each with ``width`` channels,
    a kernel of ``2 * s + 1`` taps, stride ``s`` and padding ``s`` (so a
    signal of length ``L`` becomes ``ceil(L / s)`` long), followed by the
    activation; then a 1-tap convolution to ``latent_dim`` channels, without
    activation. A signal of length ``L`` gives ``T = ceil(L / s_1) / s_2 ...``
    (each division rounded up) latent steps: :meth:`output_length`.

    Parameters
    ----------
    in_channels : int
    latent_dim : int, default=64
        Size of each latent ``z_t``.
    width : int, default=64
        Channels of the strided convolutions.
    strides : tuple of int, default=(2, 2, 2)
        One strided convolution per entry; their product is the
        downsampling from samples to latent steps.
    activation : {'relu', 'gelu', 'leaky_relu'}, default='relu'

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.sequence import CPCSignalEncoder
    >>> enc = CPCSignalEncoder(2, latent_dim=8, width=16, strides=(2, 2))
    >>> enc(torch.zeros(3, 2, 50)).shape
    torch.Size([3, 8, 13])
    >>> enc.output_length(50)
    13
    """

    def __init__(self, in_channels, latent_dim=64, width=64, strides=(2, 2, 2),
                 activation="relu"):
        super().__init__()
        strides = tuple(int(s) for s in strides)
        if not strides or min(strides) < 1:
            raise ValueError(f"strides must be a non-empty sequence of positive "
                             f"integers, got {strides!r}.")
        layers = []
        c = in_channels
        for s in strides:
            layers += [nn.Conv1d(c, width, 2 * s + 1, stride=s, padding=s),
                       _activation(activation)]
            c = width
        layers.append(nn.Conv1d(c, latent_dim, 1))
        self.layers = nn.Sequential(*layers)
        self.strides = strides
        self.latent_dim = int(latent_dim)

    def output_length(self, length):
        """Number of latent steps for a signal of ``length`` samples."""
        for s in self.strides:
            length = -(-int(length) // s)
        return length

    def forward(self, x):
        return self.layers(x)


class CPCNetwork(nn.Module):
    """CPC's encoder g_enc and autoregressive model g_ar (a one-layer GRU).

    ``forward(x)`` returns the latents ``z`` of shape ``(n, T, latent_dim)``
    (the encoder's output, time second) and the contexts ``c`` of shape
    ``(n, T, context_dim)``: ``c_t`` is the GRU's state after reading
    ``z_1 .. z_t``, so it depends on no latent after step ``t``.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps a batch ``(n, c, L)`` to ``(n, latent_dim, T)``.
    latent_dim : int
        Size of the encoder's latents.
    context_dim : int, default=64
        Size of the GRU's state.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.sequence import CPCNetwork, CPCSignalEncoder
    >>> net = CPCNetwork(CPCSignalEncoder(1, latent_dim=8, width=8), 8, context_dim=4)
    >>> z, c = net(torch.zeros(2, 1, 32))
    >>> z.shape, c.shape
    (torch.Size([2, 4, 8]), torch.Size([2, 4, 4]))
    """

    def __init__(self, encoder, latent_dim, context_dim=64):
        super().__init__()
        self.encoder = encoder
        self.autoregressive = nn.GRU(int(latent_dim), int(context_dim), batch_first=True)
        self.latent_dim = int(latent_dim)
        self.context_dim = int(context_dim)

    def encode(self, x):
        """The latents ``z`` of a batch, shape ``(n, T, latent_dim)``."""
        return self.encoder(x).transpose(1, 2)

    def forward(self, x):
        z = self.encode(x)
        # cuDNN wants the GRU's weights in one block; after a move to the GPU
        # or unpickling they may not be (a no-op off cuDNN).
        self.autoregressive.flatten_parameters()
        c, _ = self.autoregressive(z)
        return z, c
