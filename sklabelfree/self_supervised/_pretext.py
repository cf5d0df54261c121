"""Pretext-task encoders for images: rotations, jigsaw puzzles, relative patch positions."""

import math
from numbers import Integral

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch.nn import functional as F

from ..neural import check_net_input
from ..nn import LinearHead, ProjectionHead
from ..nn.losses.pretext import (
    crop_patches,
    extract_tiles,
    jigsaw_permutations,
    relative_patch_pairs,
    rotate_batch,
    shuffle_tiles,
)
from ._base import BaseSelfSupervisedEncoder

__all__ = ["RotationEncoder", "JigsawEncoder", "RelativePatchEncoder"]

_PRETEXT_PARAMS = """module : torch.nn.Module class or instance, or None, default=None
        The trunk whose features ``transform`` returns; None builds
        :func:`~sklabelfree.nn.default_module_for_shape` ({shape}), sized
        by ``module__width``, ``module__depth``...
    max_epochs : int, default={max_epochs}
        Passes over the training images.
    batch_size : int, default={batch_size}
        Images per step; the last incomplete batch of an epoch is dropped.
    lr : float, default={lr}
        Adam's learning rate, decayed along a cosine (``lr_schedule``).
    augment : {{'strong', 'weak'}}, callable or None, default=None
        An augmentation of the training images before the pretext task is
        built from them (:func:`view_augmentation` of that strength, or a
        callable ``augment(x, generator)``); None: none.
    lr_schedule : {{'cosine', 'constant'}}, default='cosine'
    random_state : int or None, default=None
        Seeds the weights, the batches and the pretext task's draws; the
        global torch random state is left as it was.
    device : str or torch.device, default='cpu'
    verbose : int, default=0
        1 prints skorch's epoch table.
    **kwargs
        Other skorch parameters (``module__width``, ``optimizer__weight_decay``...)."""

_PRETEXT_ATTRS = """module_ : torch.nn.Module
        The trained trunk.
    head_ : torch.nn.Module
        The pretext task's classifier (not used by ``transform``).
    feature_dim_ : int
        Size of the embeddings ``transform`` returns.
    n_steps_ : int
        Training steps taken.
    history_ : skorch History
    input_shape_ : tuple
        Shape of one training image ``(c, h, w)``."""

_EMBEDDING_PARAM = """embedding : {{'image', 'grid'}}, default='{default}'
        What ``transform`` returns. ``'image'``: the trunk's features of
        the whole image (the trunk is trained on {pieces} but the default
        ConvNet ends in global average pooling, so it takes any size; a
        trunk that does not is refused at fit with a clear error).
        ``'grid'``: the trunk's features of {grid_pieces}, concatenated in
        row-major order (``{n_pieces}`` times the trunk's width), which keeps
        where each feature was seen."""


class _PretextEncoder(BaseSelfSupervisedEncoder):
    """An image trunk trained on a classification pretext task (cross-entropy)."""

    # Why the pretext task needs images, for the error on other inputs.
    _needs_images_because = ""

    def __init__(self, module=None, *, max_epochs=30, batch_size=128, lr=3e-3,
                 augment=None, lr_schedule="cosine", random_state=None, device="cpu",
                 verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)

    def _validate_X(self, X, first):
        who = type(self).__name__
        X = check_net_input(X, expected_shape=None if first else self.input_shape_,
                            owner=who)
        if X.ndim != 4:
            kind = "tabular rows (n, d)" if X.ndim == 2 else "signals (n, c, L)"
            raise ValueError(
                f"{who} needs images (n, c, h, w): its pretext task "
                f"{self._needs_images_because}, which has no meaning for {kind}; got X "
                f"of shape {tuple(X.shape)}. Reshape the rows into images, or use an "
                "encoder for any input (SimCLREncoder, VICRegEncoder, AutoEncoder...).")
        if first:
            self._check_image_shape(tuple(int(s) for s in X.shape[1:]))
        if X.shape[0] < 2:
            raise ValueError(
                f"{who} needs at least 2 samples to train (its trunk uses batch "
                f"statistics), got {X.shape[0]} sample.")
        return X

    def _check_image_shape(self, shape):
        """Raise a ValueError when the pretext task cannot use images of ``shape``."""

    def corrupt(self, x):
        """The training batch the pretext task is built from (augmented when ``augment``)."""
        aug = self.augment_
        return x if aug is None else aug(x, self._generator)


class RotationEncoder(_PretextEncoder):
    __doc__ = """A trunk trained to tell by how much each image was rotated (RotNet).

    Gidaris et al. (2018) rotate every image of a batch by 0, 90, 180 and
    270 degrees (all four rotations of each image in the same batch, see
    :func:`~sklabelfree.nn.losses.rotate_batch`) and train the
    network to predict the rotation, a 4-way classification (cross-entropy)
    by a linear head on the trunk's features. To tell which way is up, the
    network has to recognise what the image shows and where its parts are,
    which gives features useful for the class. ``transform`` returns the
    trunk's features of the (unrotated) image.

    It needs square images ``(n, c, h, h)``: a rotation by 90 degrees swaps
    height and width. Rows ``(n, d)`` and signals ``(n, c, L)`` are refused
    with a ValueError. Digits that look alike rotated (0, 1, 8) leave the
    task ambiguous, which limits what the trunk learns from them.

    Read more in the :ref:`User Guide <self_supervised>`.

    Parameters
    ----------
    {params}

    Attributes
    ----------
    {attrs}

    See Also
    --------
    JigsawEncoder : Put shuffled tiles back in order.
    RelativePatchEncoder : Where a patch is relative to another.

    References
    ----------
    .. [1] S. Gidaris, P. Singh, N. Komodakis, "Unsupervised Representation
       Learning by Predicting Image Rotations", ICLR 2018.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.self_supervised import RotationEncoder
    >>> X, _ = load_digits_images()
    >>> encoder = RotationEncoder(max_epochs=1, random_state=0).fit(X[:300])
    >>> encoder.transform(X[:3]).shape
    (3, 64)
    """.format(params=_PRETEXT_PARAMS.format(shape="for the images", max_epochs=5,
                                             batch_size=128, lr=1e-3),
               attrs=_PRETEXT_ATTRS)

    _needs_images_because = "rotates each image by multiples of 90 degrees"

    def __init__(self, module=None, *, max_epochs=5, batch_size=128, lr=1e-3,
                 augment=None, lr_schedule="cosine", random_state=None, device="cpu",
                 verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)

    def _check_image_shape(self, shape):
        if shape[1] != shape[2]:
            raise ValueError(
                f"{type(self).__name__} needs square images (a rotation by 90 degrees "
                f"swaps height and width), got images of {shape[1]}x{shape[2]}.")

    def initialize_module(self):
        super().initialize_module()
        self.head_ = LinearHead(self.feature_dim_, 4)
        return self

    def compute_loss(self, x, **fit_params):
        rotated, labels = rotate_batch(self.corrupt(x))
        return F.cross_entropy(self.head_(self.features(rotated)), labels)


class _PiecewiseEncoder(_PretextEncoder):
    """A siamese trunk on pieces of the image (tiles, patches), an MLP head on them."""

    _parameter_constraints: dict = {
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "embedding": [StrOptions({"image", "grid"})],
    }

    def _piece_shape(self):
        """Shape ``(c, h, w)`` of one piece the trunk is trained on."""
        raise NotImplementedError

    def _grid_pieces(self, x):
        """The pieces of ``'grid'`` embedding: a tensor (n, P, c, h, w)."""
        raise NotImplementedError

    def _n_inputs(self):
        """Number of pieces whose features the head sees, concatenated."""
        raise NotImplementedError

    def _n_classes(self):
        raise NotImplementedError

    def _trunk_input_shape(self):
        # The trunk is built for (and its width measured on) one piece.
        return self._piece_shape()

    def initialize_module(self):
        super().initialize_module()
        full = self.input_shape_
        self.piece_dim_ = self.feature_dim_
        self.head_ = ProjectionHead(self.piece_dim_ * self._n_inputs(), self._n_classes(),
                                    hidden_features=self.hidden_dim)
        # The embedding of this fit: set_params(embedding=...) takes effect
        # at the next fit, with feature_dim_ and the trunk check.
        self.embedding_ = self.embedding
        if self.embedding_ == "grid":
            self.feature_dim_ = self.piece_dim_ * self._grid_pieces(
                torch.zeros((1, *full))).shape[1]
            return self
        try:
            dim = self._feature_dim(self.module_, full)
        except RuntimeError as exc:
            dim = f"an error ({exc})"
        if dim != self.piece_dim_:
            raise ValueError(
                f"{type(self).__name__}(embedding='image') applies the trunk, trained "
                f"on pieces of shape {self._piece_shape()}, to whole images of shape "
                f"{full}: the trunk must take both sizes and give features of the "
                f"same width ({self.piece_dim_}), but whole images gave {dim}. Use a "
                "trunk that ends in global pooling, or embedding='grid'.")
        return self

    def piece_features(self, pieces):
        """The trunk's features of pieces ``(n, P, c, h, w)``, concatenated: (n, P * d)."""
        n = pieces.shape[0]
        return self._features_of(self.module_, pieces.flatten(0, 1)).reshape(n, -1)

    def features(self, x):
        if self.embedding_ == "grid":
            return self.piece_features(self._grid_pieces(x))
        return super().features(x)


class JigsawEncoder(_PiecewiseEncoder):
    __doc__ = """A trunk trained to solve jigsaw puzzles of tiles of the images.

    Noroozi and Favaro (2016) cut each image into a ``grid x grid`` grid of
    tiles (:func:`~sklabelfree.nn.losses.extract_tiles`), shuffle
    them with one of ``n_permutations`` permutations, pass every tile
    through the same trunk (a siamese "context-free network": the trunk
    sees one tile at a time), concatenate the tile features in the shuffled
    order and train an MLP head to tell which permutation was used
    (cross-entropy). The permutation set is chosen once at fit, greedily
    for large Hamming distances between its permutations
    (:func:`~sklabelfree.nn.losses.jigsaw_permutations`, max-min
    criterion, seeded by ``random_state``). To put the tiles back in order,
    the trunk must recognise the parts of the object in each tile.

    The default trunk is :func:`~sklabelfree.nn.default_module_for_shape`
    for one tile (a ConvNet ending in global average pooling, so it also
    takes whole images). ``transform`` takes whole images; by default
    (``embedding='grid'``) it cuts them into the same tiles and returns the
    tile features side by side, which on 8x8 digits gave a much better
    linear probe than the trunk's features of the whole image
    (``embedding='image'``, the paper's transfer to full images). The
    paper uses tiles of a 3x3 grid, with random gaps between them and each tile
    normalised, against shortcuts (edges that continue across tiles); on 8x8
    digits the 2x2 grid of 4x4 tiles (all 24 permutations by default) leaves no
    room for gaps, and a 3x3 grid of 2x2 tiles is too small to show a part of a
    digit.

    It needs images ``(n, c, h, w)`` of at least ``grid`` pixels a side;
    rows ``(n, d)`` and signals ``(n, c, L)`` are refused with a ValueError.

    Read more in the :ref:`User Guide <self_supervised>`.

    Parameters
    ----------
    {params}
    grid : {{2, 3}}, default=2
        Tiles per side: ``grid * grid`` tiles of ``h // grid`` by
        ``w // grid`` pixels (the last rows and columns are dropped when
        the size is not a multiple).
    n_permutations : int, default=24
        Classes of the pretext task, at most ``(grid * grid)!`` (24 for a
        2x2 grid; the paper uses 100 of the 9! of a 3x3 grid).
    hidden_dim : int, default=256
        Hidden width of the head (Linear, BatchNorm, ReLU, Linear) on the
        ``grid * grid`` concatenated tile features.
    {embedding}

    Attributes
    ----------
    {attrs}
    permutations_ : ndarray of int64, shape (n_permutations, grid * grid)
        The permutation set: class ``k`` puts tile ``permutations_[k, j]``
        at position ``j``.
    piece_dim_ : int
        Width of the trunk's features of one tile.

    See Also
    --------
    RelativePatchEncoder : Where a patch is relative to another.
    RotationEncoder : By how much an image was rotated.

    References
    ----------
    .. [1] M. Noroozi, P. Favaro, "Unsupervised Learning of Visual
       Representations by Solving Jigsaw Puzzles", ECCV 2016.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.self_supervised import JigsawEncoder
    >>> X, _ = load_digits_images()
    >>> encoder = JigsawEncoder(max_epochs=1, random_state=0).fit(X[:300])
    >>> encoder.transform(X[:3]).shape  # 4 tiles, 64 features each
    (3, 256)
    >>> encoder.permutations_.shape
    (24, 4)
    """.format(params=_PRETEXT_PARAMS.format(shape="for one tile", max_epochs=5,
                                             batch_size=128, lr=3e-3),
               attrs=_PRETEXT_ATTRS,
               embedding=_EMBEDDING_PARAM.format(default="grid", pieces="tiles",
                                                 grid_pieces="the unshuffled tiles",
                                                 n_pieces="grid * grid"))

    _parameter_constraints: dict = {
        "grid": [Interval(Integral, 2, 3, closed="both")],
        "n_permutations": [Interval(Integral, 2, None, closed="left")],
    }
    _needs_images_because = "cuts each image into a grid of tiles and shuffles them"

    def __init__(self, module=None, *, grid=2, n_permutations=24, hidden_dim=256,
                 embedding="grid", max_epochs=5, batch_size=128, lr=3e-3, augment=None,
                 lr_schedule="cosine", random_state=None, device="cpu", verbose=0,
                 **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.grid = grid
        self.n_permutations = n_permutations
        self.hidden_dim = hidden_dim
        self.embedding = embedding

    def _check_image_shape(self, shape):
        g = self.grid
        if shape[1] < g or shape[2] < g:
            raise ValueError(f"{type(self).__name__}: images of {shape[1]}x{shape[2]} "
                             f"pixels are too small for a {g}x{g} grid of tiles.")
        total = math.factorial(g * g)
        if self.n_permutations > total:
            raise ValueError(
                f"{type(self).__name__}: n_permutations={self.n_permutations} is more "
                f"than the {total} permutations of the {g * g} tiles of a {g}x{g} grid.")

    def _piece_shape(self):
        c, h, w = self.input_shape_
        return (c, h // self.grid, w // self.grid)

    def _grid_pieces(self, x):
        return extract_tiles(x, self.grid)

    def _n_inputs(self):
        return self.grid * self.grid

    def _n_classes(self):
        return self.n_permutations

    def initialize_module(self):
        super().initialize_module()
        seed = int(torch.randint(0, 2**31 - 1, (1,)))
        self.permutations_ = jigsaw_permutations(self.grid * self.grid,
                                                 self.n_permutations, random_state=seed)
        return self

    def compute_loss(self, x, **fit_params):
        x = self.corrupt(x)
        g = self._generator
        labels = torch.randint(0, self.n_permutations, (x.shape[0],), generator=g,
                               device=g.device).to(x.device)
        perms = torch.as_tensor(self.permutations_, device=x.device)[labels]
        tiles = shuffle_tiles(extract_tiles(x, self.grid), perms)
        return F.cross_entropy(self.head_(self.piece_features(tiles)), labels)


class RelativePatchEncoder(_PiecewiseEncoder):
    __doc__ = """A trunk trained to tell where a patch is relative to another (context).

    Doersch et al. (2015) lay a 3x3 grid of patches over the image, with a
    gap between the patches and each patch moved by a random jitter (so
    that lines that continue across patches and other low-level cues do
    not give the answer away), take the centre patch and one of its 8
    neighbours (:func:`~sklabelfree.nn.losses.relative_patch_pairs`),
    pass both through the same trunk, concatenate their features and train
    an MLP head to predict the neighbour's position, an 8-way
    classification (cross-entropy). Telling that a patch is above another
    needs knowing what the parts of the object look like.

    The paper's patches (96 pixels, gaps of 48, jitter up to 7) are scaled
    down for 8x8 digits: patches of ``patch_size=2`` pixels, ``gap=1``
    between them and no jitter fill the 8 pixels exactly (``3 * 2 + 2 * 1``);
    larger images leave room to place the grid at random and to set a
    jitter. The default trunk is
    :func:`~sklabelfree.nn.default_module_for_shape` for one patch (a
    ConvNet ending in global average pooling, so it also takes whole
    images). ``transform`` takes whole images; by default
    (``embedding='grid'``) it returns the features of the 9 patches of the
    grid side by side, which on 8x8 digits gave a better linear probe than
    the trunk's features of the whole image (``embedding='image'``).

    It needs images ``(n, c, h, w)`` of at least ``3 * patch_size + 2 *
    gap + 2 * jitter`` pixels a side; rows ``(n, d)`` and signals
    ``(n, c, L)`` are refused with a ValueError.

    Read more in the :ref:`User Guide <self_supervised>`.

    Parameters
    ----------
    {params}
    patch_size : int, default=2
        Side of the square patches, in pixels.
    gap : int, default=1
        Pixels between neighbouring patches of the grid.
    jitter : int, default=0
        Largest random move of each patch along each axis, in pixels.
    hidden_dim : int, default=256
        Hidden width of the head (Linear, BatchNorm, ReLU, Linear) on the
        two concatenated patch features.
    {embedding}

    Attributes
    ----------
    {attrs}
    piece_dim_ : int
        Width of the trunk's features of one patch.

    See Also
    --------
    JigsawEncoder : Put shuffled tiles back in order.
    RotationEncoder : By how much an image was rotated.

    References
    ----------
    .. [1] C. Doersch, A. Gupta, A. A. Efros, "Unsupervised Visual
       Representation Learning by Context Prediction", ICCV 2015.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.self_supervised import RelativePatchEncoder
    >>> X, _ = load_digits_images()
    >>> encoder = RelativePatchEncoder(max_epochs=1, random_state=0).fit(X[:300])
    >>> encoder.transform(X[:3]).shape  # 9 patches, 64 features each
    (3, 576)
    >>> RelativePatchEncoder(max_epochs=1, embedding="image", random_state=0).fit(
    ...     X[:300]).transform(X[:3]).shape
    (3, 64)
    """.format(params=_PRETEXT_PARAMS.format(shape="for one patch", max_epochs=20,
                                             batch_size=128, lr=3e-3),
               attrs=_PRETEXT_ATTRS,
               embedding=_EMBEDDING_PARAM.format(
                   default="grid", pieces="patches",
                   grid_pieces="the 9 patches of the 3x3 grid at the centre of the "
                   "image, without jitter", n_pieces="9"))

    _parameter_constraints: dict = {
        "patch_size": [Interval(Integral, 1, None, closed="left")],
        "gap": [Interval(Integral, 0, None, closed="left")],
        "jitter": [Interval(Integral, 0, None, closed="left")],
    }
    _needs_images_because = "crops patches on a 3x3 grid of each image"

    def __init__(self, module=None, *, patch_size=2, gap=1, jitter=0, hidden_dim=256,
                 embedding="grid", max_epochs=20, batch_size=128, lr=3e-3, augment=None,
                 lr_schedule="cosine", random_state=None, device="cpu", verbose=0,
                 **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.patch_size = patch_size
        self.gap = gap
        self.jitter = jitter
        self.hidden_dim = hidden_dim
        self.embedding = embedding

    def _check_image_shape(self, shape):
        need = 3 * self.patch_size + 2 * self.gap + 2 * self.jitter
        if shape[1] < need or shape[2] < need:
            raise ValueError(
                f"{type(self).__name__}: images of {shape[1]}x{shape[2]} pixels are too "
                f"small for a 3x3 grid of patches of {self.patch_size} pixels with gap "
                f"{self.gap} and jitter {self.jitter} (they need at least "
                f"{need}x{need}); lower patch_size, gap or jitter.")

    def _piece_shape(self):
        return (self.input_shape_[0], self.patch_size, self.patch_size)

    def _grid_pieces(self, x):
        n, _, h, w = x.shape
        p, step = self.patch_size, self.patch_size + self.gap
        span = 3 * p + 2 * self.gap
        top, left = (h - span) // 2, (w - span) // 2
        offsets = torch.arange(3, device=x.device) * step
        tops = (top + offsets).repeat_interleave(3)
        lefts = (left + offsets).repeat(3)
        # All 9 patches of all images at once: (9 n) crops, then (n, 9, c, p, p).
        patches = crop_patches(x.repeat(9, 1, 1, 1), tops.repeat_interleave(n),
                               lefts.repeat_interleave(n), p)
        return patches.reshape(9, n, *patches.shape[1:]).transpose(0, 1)

    def _n_inputs(self):
        return 2

    def _n_classes(self):
        return 8

    def compute_loss(self, x, **fit_params):
        centre, neighbour, labels = relative_patch_pairs(
            self.corrupt(x), self.patch_size, gap=self.gap, jitter=self.jitter,
            generator=self._generator)
        pairs = torch.stack([centre, neighbour], dim=1)
        return F.cross_entropy(self.head_(self.piece_features(pairs)), labels)
