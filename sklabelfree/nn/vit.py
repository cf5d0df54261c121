"""A small Vision Transformer, the light decoder of a masked autoencoder, patches.

Every size is a constructor argument, so that a skorch net reaches it as
``module__<name>``. :class:`VisionTransformer` returns its pooled features
with ``forward(x, return_features=True)``, like the other trunks of
:mod:`sklabelfree.nn`, and encodes a subset of its patches with
:meth:`VisionTransformer.forward_visible` (what a masked autoencoder needs).
"""

import torch
from torch import nn
from torch.nn import functional as F

from .modules import _check_int

__all__ = [
    "VisionTransformer",
    "MAEDecoder",
    "TransformerBlock",
    "patchify",
    "unpatchify",
    "sincos_pos_embed_2d",
]


def _pair(size):
    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise ValueError(f"image_size must be an int or a pair (h, w), got {size!r}.")
        return int(size[0]), int(size[1])
    return int(size), int(size)


def _check_patch_grid(h, w, patch_size):
    if patch_size < 1:
        raise ValueError(f"patch_size must be a positive int, got {patch_size}.")
    if h % patch_size or w % patch_size:
        raise ValueError(
            f"The image size {h}x{w} is not divisible by patch_size={patch_size}: each "
            "side must be a multiple of the patch size.")
    return h // patch_size, w // patch_size


def patchify(x, patch_size):
    """Cut images ``(n, c, h, w)`` into flattened patches ``(n, L, p * p * c)``.

    The ``L = (h / p) (w / p)`` patches are in row-major order over the
    patch grid; each patch is flattened in the order (row, column,
    channel), as in He et al.'s masked autoencoder.

    Parameters
    ----------
    x : torch.Tensor of shape (n, c, h, w)
    patch_size : int
        Side ``p`` of the square patches; it must divide ``h`` and ``w``.

    Returns
    -------
    patches : torch.Tensor of shape (n, L, p * p * c)

    See Also
    --------
    unpatchify : The inverse.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.vit import patchify
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> patchify(x, 2)[0]
    tensor([[ 0.,  1.,  4.,  5.],
            [ 2.,  3.,  6.,  7.],
            [ 8.,  9., 12., 13.],
            [10., 11., 14., 15.]])
    """
    if x.dim() != 4:
        raise ValueError(f"patchify needs images (n, c, h, w), got shape {tuple(x.shape)}.")
    n, c, h, w = x.shape
    p = int(patch_size)
    gh, gw = _check_patch_grid(h, w, p)
    x = x.reshape(n, c, gh, p, gw, p)
    x = torch.einsum("nchpwq->nhwpqc", x)
    return x.reshape(n, gh * gw, p * p * c)


def unpatchify(patches, patch_size, shape):
    """Put flattened patches ``(n, L, p * p * c)`` back into images.

    The exact inverse of :func:`patchify`.

    Parameters
    ----------
    patches : torch.Tensor of shape (n, L, p * p * c)
    patch_size : int
    shape : tuple of int
        Shape ``(c, h, w)`` of one image (an ``(n, c, h, w)`` shape is also
        accepted; its first entry is ignored).

    Returns
    -------
    x : torch.Tensor of shape (n, c, h, w)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.vit import patchify, unpatchify
    >>> x = torch.randn(2, 3, 4, 6)
    >>> torch.equal(unpatchify(patchify(x, 2), 2, (3, 4, 6)), x)
    True
    """
    c, h, w = (int(s) for s in tuple(shape)[-3:])
    p = int(patch_size)
    gh, gw = _check_patch_grid(h, w, p)
    n = patches.shape[0]
    if tuple(patches.shape[1:]) != (gh * gw, p * p * c):
        raise ValueError(
            f"patches of shape {tuple(patches.shape)} do not make images of shape "
            f"{(c, h, w)} with patch_size={p}: expected (n, {gh * gw}, {p * p * c}).")
    x = patches.reshape(n, gh, gw, p, p, c)
    x = torch.einsum("nhwpqc->nchpwq", x)
    return x.reshape(n, c, h, w)


def _sincos_1d(dim, positions):
    omega = torch.arange(dim // 2, dtype=torch.float64) / (dim / 2.0)
    omega = 1.0 / 10000 ** omega
    out = positions.reshape(-1, 1).to(torch.float64) * omega.reshape(1, -1)
    return torch.cat([torch.sin(out), torch.cos(out)], dim=1)


def sincos_pos_embed_2d(dim, grid_size):
    """Fixed 2-D sine-cosine positional embeddings of a patch grid (as in MAE).

    Half of the ``dim`` channels encode the row of the patch, half its
    column, each with the 1-D sine-cosine code of Vaswani et al.
    (frequencies ``1 / 10000^(2k / (dim / 2))``).

    Parameters
    ----------
    dim : int
        Embedding size; a multiple of 4.
    grid_size : int or tuple of 2 int
        Patches per column and per row ``(gh, gw)``.

    Returns
    -------
    pos : torch.Tensor of shape (gh * gw, dim), float32
        Row-major over the grid, as :func:`patchify` orders the patches.

    Examples
    --------
    >>> from sklabelfree.nn.vit import sincos_pos_embed_2d
    >>> pos = sincos_pos_embed_2d(8, (2, 3))
    >>> pos.shape, float(pos[0, :2].abs().sum())
    (torch.Size([6, 8]), 0.0)
    """
    if dim % 4:
        raise ValueError(f"The 2-D sine-cosine positional embedding needs a dimension "
                         f"divisible by 4, got {dim}.")
    gh, gw = _pair(grid_size)
    rows, cols = torch.meshgrid(torch.arange(gh), torch.arange(gw), indexing="ij")
    # MAE's order: the first half codes the column (w), the second the row (h).
    emb = torch.cat([_sincos_1d(dim // 2, cols), _sincos_1d(dim // 2, rows)], dim=1)
    return emb.to(torch.float32)


class TransformerBlock(nn.Module):
    """A pre-norm transformer block: ``x + MHSA(LN(x))``, then ``x + MLP(LN(x))``.

    Parameters
    ----------
    dim : int
        Token size; a multiple of ``num_heads``.
    num_heads : int, default=4
    mlp_ratio : float, default=2.0
        Hidden size of the MLP (GELU) as a multiple of ``dim``.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.vit import TransformerBlock
    >>> TransformerBlock(8, num_heads=2)(torch.zeros(3, 5, 8)).shape
    torch.Size([3, 5, 8])
    """

    def __init__(self, dim, num_heads=4, mlp_ratio=2.0):
        super().__init__()
        _check_int("TransformerBlock", "num_heads", num_heads, 1)
        if dim % num_heads:
            raise ValueError(f"The token size {dim} must be divisible by num_heads="
                             f"{num_heads}.")
        self.num_heads = num_heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        hidden = max(1, int(round(dim * mlp_ratio)))
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def attention(self, x):
        n, t, d = x.shape
        qkv = self.qkv(x).reshape(n, t, 3, self.num_heads, d // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(n, t, d))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def _init_weights(module):
    # MAE's initialisation: Xavier-uniform linear layers, zero biases, unit LayerNorms.
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class VisionTransformer(nn.Module):
    """A small Vision Transformer for images ``(n, c, h, w)``.

    The image is cut into ``patch_size`` x ``patch_size`` patches, each
    embedded linearly (a convolution with stride ``patch_size``, followed
    by a LayerNorm with ``patch_norm``); fixed 2-D
    sine-cosine positional embeddings (:func:`sincos_pos_embed_2d`) are
    added, an optional class token is prepended (``pool='cls'``) and
    ``depth`` pre-norm :class:`TransformerBlock` are followed by a final
    LayerNorm. The features are the mean of the patch tokens
    (``pool='mean'``), the class token (``pool='cls'``) or every patch
    token, concatenated in the order of the grid (``pool='flatten'``:
    ``num_patches * embed_dim`` features that keep where each patch is, as
    a convolutional feature map flattened for a linear probe does).

    Parameters
    ----------
    in_channels : int
    image_size : int or tuple of 2 int
        ``(h, w)`` of the images; each side a multiple of ``patch_size``.
    patch_size : int, default=2
    embed_dim : int, default=64
        Token size; a multiple of 4 and of ``num_heads``.
    depth : int, default=4
        Number of transformer blocks.
    num_heads : int, default=4
    mlp_ratio : float, default=2.0
    output_dim : int, default=0
        Number of outputs of a linear head on the features; 0 returns the
        features only.
    pool : {'mean', 'cls', 'flatten'}, default='mean'
    patch_norm : bool, default=True
        A LayerNorm on each patch embedding before the positional
        embedding is added. Small patches (2x2 pixels in ``[0, 1]``) give
        embeddings much smaller than the unit-scale sine-cosine codes,
        which would drown the pixels; the norm puts both on one scale.

    Attributes
    ----------
    grid_size : tuple of int
        Patches per column and per row.
    num_patches : int
    num_prefix_tokens : int
        1 with a class token (``pool='cls'``), else 0.
    feature_dim : int
        ``embed_dim``, or ``num_patches * embed_dim`` with ``pool='flatten'``.

    References
    ----------
    .. [1] A. Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers
       for Image Recognition at Scale", ICLR 2021.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.vit import VisionTransformer
    >>> vit = VisionTransformer(1, 8, embed_dim=16, depth=1, output_dim=10)
    >>> vit(torch.zeros(4, 1, 8, 8)).shape
    torch.Size([4, 10])
    >>> vit(torch.zeros(4, 1, 8, 8), return_features=True).shape
    torch.Size([4, 16])
    >>> flat = VisionTransformer(1, 8, embed_dim=16, depth=1, pool="flatten")
    >>> flat(torch.zeros(4, 1, 8, 8), return_features=True).shape
    torch.Size([4, 256])
    >>> vit.forward_visible(torch.zeros(4, 1, 8, 8), torch.zeros(4, 3, dtype=torch.long)).shape
    torch.Size([4, 3, 16])
    """

    def __init__(self, in_channels, image_size, patch_size=2, embed_dim=64, depth=4,
                 num_heads=4, mlp_ratio=2.0, output_dim=0, pool="mean", patch_norm=True):
        super().__init__()
        if pool not in ("mean", "cls", "flatten"):
            raise ValueError(f"pool must be 'mean', 'cls' or 'flatten', got {pool!r}.")
        _check_int("VisionTransformer", "num_heads", num_heads, 1)
        h, w = _pair(image_size)
        self.image_size = (h, w)
        self.in_channels = int(in_channels)
        self.patch_size = int(patch_size)
        self.grid_size = _check_patch_grid(h, w, self.patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.embed_dim = int(embed_dim)
        self.feature_dim = self.embed_dim * (self.num_patches if pool == "flatten" else 1)
        self.pool = pool
        self.num_prefix_tokens = 1 if pool == "cls" else 0
        self.patch_embed = nn.Conv2d(in_channels, embed_dim, patch_size, stride=patch_size)
        self.patch_norm = nn.LayerNorm(embed_dim) if patch_norm else nn.Identity()
        self.register_buffer("pos_embed",
                             sincos_pos_embed_2d(embed_dim, self.grid_size)[None])
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if pool == "cls" else None
        self.blocks = nn.ModuleList(
            [TransformerBlock(embed_dim, num_heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim)
        self.head = (nn.Linear(self.feature_dim, output_dim) if output_dim
                     else nn.Identity())
        _init_weights(self)
        # The patch embedding is initialised as a linear layer on flattened patches.
        nn.init.xavier_uniform_(self.patch_embed.weight.view(embed_dim, -1))
        nn.init.zeros_(self.patch_embed.bias)
        if self.cls_token is not None:
            nn.init.normal_(self.cls_token, std=0.02)

    def embed(self, x):
        """Patch tokens with their positional embeddings, ``(n, L, embed_dim)``."""
        if tuple(x.shape[-2:]) != self.image_size:
            raise ValueError(f"This VisionTransformer takes {self.image_size[0]}x"
                             f"{self.image_size[1]} images, got {tuple(x.shape[-2:])}.")
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)
        return self.patch_norm(tokens) + self.pos_embed

    def encode_tokens(self, tokens):
        """Prepend the class token (if any), run the blocks and the final LayerNorm."""
        if self.cls_token is not None:
            tokens = torch.cat([self.cls_token.expand(tokens.shape[0], -1, -1), tokens], 1)
        for block in self.blocks:
            tokens = block(tokens)
        return self.norm(tokens)

    def forward_visible(self, x, ids_keep):
        """Encode only the patches ``ids_keep`` of each image (MAE's encoder).

        Parameters
        ----------
        x : torch.Tensor of shape (n, c, h, w)
        ids_keep : torch.LongTensor of shape (n, k)
            Indices, in ``[0, num_patches)``, of the patches each image keeps.

        Returns
        -------
        tokens : torch.Tensor of shape (n, num_prefix_tokens + k, embed_dim)
            The class token first when ``pool='cls'``, then the kept
            patches in the order of ``ids_keep``.
        """
        tokens = self.embed(x)
        index = ids_keep.unsqueeze(-1).expand(-1, -1, tokens.shape[-1])
        return self.encode_tokens(torch.gather(tokens, 1, index))

    def pool_tokens(self, tokens):
        """The features of encoded tokens: their mean, the class token or all of them."""
        if self.pool == "cls":
            return tokens[:, 0]
        if self.pool == "flatten":
            return tokens.flatten(1)
        return tokens[:, self.num_prefix_tokens:].mean(1)

    def forward(self, x, return_features=False):
        h = self.pool_tokens(self.encode_tokens(self.embed(x)))
        return h if return_features else self.head(h)


class MAEDecoder(nn.Module):
    """The light decoder of a masked autoencoder: visible tokens + mask tokens -> pixels.

    The encoded visible tokens are projected to ``decoder_dim``; a shared
    learnable mask token fills the masked positions; the tokens are put
    back in the order of the patch grid, get their own fixed sine-cosine
    positional embeddings and go through ``depth`` transformer blocks, a
    LayerNorm and a linear layer that predicts each patch's pixels.

    Parameters
    ----------
    encoder_dim : int
    grid_size : int or tuple of 2 int
        Patches per column and per row.
    patch_dim : int
        Pixels per patch, ``p * p * c``.
    decoder_dim : int, default=32
        A multiple of 4 and of ``num_heads``.
    depth : int, default=1
    num_heads : int, default=4
    mlp_ratio : float, default=2.0
    num_prefix_tokens : int, default=0
        Tokens before the patches in the encoder's output (1 for a class
        token); they go through the decoder without a positional embedding
        and are dropped from the prediction.

    References
    ----------
    .. [1] K. He, X. Chen, S. Xie, Y. Li, P. Dollár, R. Girshick, "Masked
       Autoencoders Are Scalable Vision Learners", CVPR 2022.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.vit import MAEDecoder
    >>> dec = MAEDecoder(16, (4, 4), patch_dim=4, decoder_dim=8, num_heads=2)
    >>> ids_restore = torch.arange(16).repeat(2, 1)
    >>> dec(torch.zeros(2, 4, 16), ids_restore).shape
    torch.Size([2, 16, 4])
    """

    def __init__(self, encoder_dim, grid_size, patch_dim, decoder_dim=32, depth=1,
                 num_heads=4, mlp_ratio=2.0, num_prefix_tokens=0):
        super().__init__()
        gh, gw = _pair(grid_size)
        self.num_patches = gh * gw
        self.num_prefix_tokens = int(num_prefix_tokens)
        self.embed = nn.Linear(encoder_dim, decoder_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_dim))
        self.register_buffer("pos_embed", sincos_pos_embed_2d(decoder_dim, (gh, gw))[None])
        self.blocks = nn.ModuleList(
            [TransformerBlock(decoder_dim, num_heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(decoder_dim)
        self.pred = nn.Linear(decoder_dim, patch_dim)
        _init_weights(self)
        nn.init.normal_(self.mask_token, std=0.02)

    def forward(self, tokens, ids_restore):
        """Predict the pixels of every patch.

        Parameters
        ----------
        tokens : torch.Tensor of shape (n, num_prefix_tokens + k, encoder_dim)
            The encoder's output on the visible patches, in the shuffled
            order of :func:`~sklabelfree.nn.losses.random_masking`
            (the kept patches first).
        ids_restore : torch.LongTensor of shape (n, L)
            Position of each patch of the grid in the shuffled order.

        Returns
        -------
        pred : torch.Tensor of shape (n, L, patch_dim)
        """
        x = self.embed(tokens)
        prefix, x = x[:, :self.num_prefix_tokens], x[:, self.num_prefix_tokens:]
        n, k, d = x.shape
        mask = self.mask_token.expand(n, self.num_patches - k, d)
        x = torch.cat([x, mask], dim=1)
        x = torch.gather(x, 1, ids_restore.unsqueeze(-1).expand(-1, -1, d))
        x = torch.cat([prefix, x + self.pos_embed], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.pred(self.norm(x))[:, self.num_prefix_tokens:]

