"""Joint-embedding encoders with a projection head: SimCLR, Barlow Twins, VICReg."""

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval

from ..nn import ProjectionHead
from ..nn.losses import barlow_twins_loss, nt_xent_loss, vicreg_loss
from ._base import BaseSelfSupervisedEncoder

__all__ = ["SimCLREncoder", "BarlowTwinsEncoder", "VICRegEncoder"]

_COMMON_PARAMS = """module : torch.nn.Module class or instance, or None, default=None
        The trunk whose features ``transform`` returns; None picks it from
        the input shape (an MLP for rows, a ConvNet for signals and images,
        see :func:`~sklabelfree.nn.default_module_for_shape`), sized by
        ``module__width``, ``module__depth``...
    projection_dim : int
        Output size of the projection head (the loss sees its output).
    hidden_dim : int
        Hidden size of the two-layer projection head (Linear, BatchNorm,
        ReLU, Linear).
    max_epochs : int
        Passes over the training rows.
    batch_size : int, default=256
        Rows per step (each gives two views); the last incomplete batch of
        an epoch is dropped.
    lr : float
        Adam's learning rate, decayed along a cosine (``lr_schedule``).
    augment : {'strong', 'weak'}, callable or None, default='strong'
        How the views are made: :func:`view_augmentation` of that strength
        for the input kind, or a callable ``augment(x, generator)`` on a
        batch tensor.
    lr_schedule : {'cosine', 'constant'}, default='cosine'
    random_state : int or None, default=None
        Seeds the weights, the batches and the augmentations; the global
        torch random state is left as it was.
    device : str or torch.device, default='cpu'
    verbose : int, default=0
        1 prints skorch's epoch table.
    **kwargs
        Other skorch parameters (``module__width``, ``optimizer__weight_decay``...)."""

_COMMON_ATTRS = """module_ : torch.nn.Module
        The trained trunk.
    projector_ : torch.nn.Module
        The projection head (not used by ``transform``).
    feature_dim_ : int
        Size of the embeddings ``transform`` returns.
    n_steps_ : int
        Training steps taken.
    history_ : skorch History
    input_shape_ : tuple
        Shape of one training sample.
    n_features_in_ : int
        Only for rows ``(n, d)``."""


class _ProjectedEncoder(BaseSelfSupervisedEncoder):
    """Two views through trunk and projection head; a loss of the two projections."""

    _parameter_constraints: dict = {
        "projection_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
    }

    def initialize_module(self):
        super().initialize_module()
        self.projector_ = ProjectionHead(self.feature_dim_, self.projection_dim,
                                         hidden_features=self.hidden_dim)
        return self

    def project_views(self, x):
        """The projections ``(z1, z2)`` of two augmented views of ``x``."""
        v1, v2 = self.views(x)
        z = self.projector_(self.features(torch.cat([v1, v2])))
        return z[:x.shape[0]], z[x.shape[0]:]

    def compute_loss(self, x, **fit_params):
        z1, z2 = self.project_views(x)
        return self.pair_loss(z1, z2)


class SimCLREncoder(_ProjectedEncoder):
    __doc__ = """A trunk trained to tell each row's two views from the other rows (SimCLR).

    SimCLR (Chen et al. 2020) makes two random augmentations of every row
    of a batch, passes them through the trunk and a projection head, and
    minimises NT-Xent (:func:`~sklabelfree.nn.losses.nt_xent_loss`): each
    view must be nearer (cosine similarity over ``temperature``) to the
    other view of its row than to the ``2N - 2`` views of the other rows.
    The assumption is that the augmentations keep what matters (the class)
    and change what does not; the negatives keep the embedding from
    collapsing, so larger batches help. ``transform`` returns the trunk's
    features, before the projection head, as Chen et al. found them better.

    Read more in the :ref:`User Guide <self_supervised>`.

    Parameters
    ----------
    {params}
    temperature : float, default=0.3
        NT-Xent's temperature ``T``. Chen et al. tune it between 0.1 and 1
        (0.5 and 0.1 in their tables); on digits (linear probe with 50
        labels, seeds 0, 1, 2) 0.3 gave 0.915, 0.907, 0.891 against 0.907,
        0.883 and 0.841 with 0.2: a batch of a few hundred digits holds many
        images of each row's class among its negatives, and a softer
        softmax pushes them away less.

    Attributes
    ----------
    {attrs}

    See Also
    --------
    MoCoEncoder : Negatives from a queue of momentum-encoded keys.
    BarlowTwinsEncoder, VICRegEncoder : No negatives.

    References
    ----------
    .. [1] T. Chen, S. Kornblith, M. Norouzi, G. Hinton, "A Simple Framework
       for Contrastive Learning of Visual Representations", ICML 2020.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.self_supervised import SimCLREncoder
    >>> X, y = load_digits_images()
    >>> encoder = SimCLREncoder(max_epochs=1, random_state=0).fit(X)
    >>> encoder.transform(X[:3]).shape
    (3, 64)
    >>> clf = make_pipeline(SimCLREncoder(max_epochs=1, random_state=0),
    ...                     LogisticRegression()).fit(X[:100], y[:100])
    >>> clf.predict(X[100:103]).shape
    (3,)
    """.format(
        params=_COMMON_PARAMS.replace("projection_dim : int", "projection_dim : int, "
                                      "default=64")
        .replace("hidden_dim : int", "hidden_dim : int, default=256")
        .replace("max_epochs : int", "max_epochs : int, default=120")
        .replace("lr : float", "lr : float, default=3e-3"),
        attrs=_COMMON_ATTRS)

    _parameter_constraints: dict = {
        "temperature": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, module=None, *, projection_dim=64, hidden_dim=256, temperature=0.3,
                 max_epochs=120, batch_size=256, lr=3e-3, augment="strong",
                 lr_schedule="cosine", random_state=None, device="cpu", verbose=0,
                 **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.projection_dim = projection_dim
        self.hidden_dim = hidden_dim
        self.temperature = temperature

    def pair_loss(self, z1, z2):
        """NT-Xent of the two projections."""
        return nt_xent_loss(z1, z2, temperature=self.temperature)


class BarlowTwinsEncoder(_ProjectedEncoder):
    __doc__ = """A trunk whose two views have an identity cross-correlation (Barlow Twins).

    Barlow Twins (Zbontar et al. 2021) standardises each dimension of the
    two views' projections over the batch and drives their
    cross-correlation matrix to the identity
    (:func:`~sklabelfree.nn.losses.barlow_twins_loss`): the diagonal to 1
    (the views agree) and the off-diagonal, weighted by
    ``lambda_offdiag``, to 0 (the dimensions carry different information).
    It needs no negatives, no momentum encoder and no large batches, but
    benefits from a wide projection head. The assumption, as for every
    joint-embedding method, is that the augmentations keep the class.

    Read more in the :ref:`User Guide <self_supervised>`.

    Parameters
    ----------
    {params}
    lambda_offdiag : float, default=5e-3
        Weight of the redundancy-reduction (off-diagonal) term.

    Attributes
    ----------
    {attrs}

    See Also
    --------
    VICRegEncoder : Variance and covariance terms instead of a correlation.
    SimCLREncoder : A contrastive loss with negatives.

    References
    ----------
    .. [1] J. Zbontar, L. Jing, I. Misra, Y. LeCun, S. Deny, "Barlow Twins:
       Self-Supervised Learning via Redundancy Reduction", ICML 2021.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.self_supervised import BarlowTwinsEncoder
    >>> X, _ = load_digits_images()
    >>> encoder = BarlowTwinsEncoder(max_epochs=1, random_state=0).fit(X[:300])
    >>> encoder.transform(X[:3]).shape
    (3, 64)
    """.format(
        params=_COMMON_PARAMS.replace("projection_dim : int", "projection_dim : int, "
                                      "default=512")
        .replace("hidden_dim : int", "hidden_dim : int, default=512")
        .replace("max_epochs : int", "max_epochs : int, default=120")
        .replace("batch_size : int, default=256", "batch_size : int, default=128")
        .replace("lr : float", "lr : float, default=1e-3"),
        attrs=_COMMON_ATTRS)

    _parameter_constraints: dict = {
        "lambda_offdiag": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, module=None, *, projection_dim=512, hidden_dim=512,
                 lambda_offdiag=5e-3, max_epochs=120, batch_size=128, lr=1e-3,
                 augment="strong", lr_schedule="cosine", random_state=None, device="cpu",
                 verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.projection_dim = projection_dim
        self.hidden_dim = hidden_dim
        self.lambda_offdiag = lambda_offdiag

    def pair_loss(self, z1, z2):
        """Barlow Twins loss of the two projections."""
        return barlow_twins_loss(z1, z2, lambda_offdiag=self.lambda_offdiag)


class VICRegEncoder(_ProjectedEncoder):
    __doc__ = """A trunk trained with variance, invariance and covariance terms (VICReg).

    VICReg (Bardes et al. 2022) asks the two views' projections to be close
    (invariance, mean squared error, weight ``sim_weight``), every
    dimension to keep a standard deviation of at least 1 over the batch
    (variance hinge, ``var_weight``) and the dimensions to be uncorrelated
    (covariance, ``cov_weight``), see
    :func:`~sklabelfree.nn.losses.vicreg_loss`. The variance term alone
    prevents collapse: no negatives, no momentum encoder, no normalisation
    of the embeddings. The default weights are the paper's 25 / 25 / 1.
    160 epochs by default: on digits (linear probe with 50 labels, seeds
    0, 1, 2) they gave 0.950, 0.946 and 0.920 against 0.944, 0.933 and
    0.911 with 120; a fit took 89 to 101 seconds on one CPU thread (68
    on two).

    Read more in the :ref:`User Guide <self_supervised>`.

    Parameters
    ----------
    {params}
    sim_weight : float, default=25.0
    var_weight : float, default=25.0
    cov_weight : float, default=1.0

    Attributes
    ----------
    {attrs}

    See Also
    --------
    BarlowTwinsEncoder : A cross-correlation to the identity.
    SimCLREncoder : A contrastive loss with negatives.

    References
    ----------
    .. [1] A. Bardes, J. Ponce, Y. LeCun, "VICReg: Variance-Invariance-Covariance
       Regularization for Self-Supervised Learning", ICLR 2022.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.self_supervised import VICRegEncoder
    >>> X, _ = load_digits_images()
    >>> encoder = VICRegEncoder(max_epochs=1, random_state=0).fit(X[:300])
    >>> encoder.transform(X[:3]).shape
    (3, 64)
    """.format(
        params=_COMMON_PARAMS.replace("projection_dim : int", "projection_dim : int, "
                                      "default=512")
        .replace("hidden_dim : int", "hidden_dim : int, default=512")
        .replace("max_epochs : int", "max_epochs : int, default=160")
        .replace("lr : float", "lr : float, default=3e-3"),
        attrs=_COMMON_ATTRS)

    _parameter_constraints: dict = {
        "sim_weight": [Interval(Real, 0, None, closed="left")],
        "var_weight": [Interval(Real, 0, None, closed="left")],
        "cov_weight": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, module=None, *, projection_dim=512, hidden_dim=512,
                 sim_weight=25.0, var_weight=25.0, cov_weight=1.0, max_epochs=160,
                 batch_size=256, lr=3e-3, augment="strong", lr_schedule="cosine",
                 random_state=None, device="cpu", verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.projection_dim = projection_dim
        self.hidden_dim = hidden_dim
        self.sim_weight = sim_weight
        self.var_weight = var_weight
        self.cov_weight = cov_weight

    def pair_loss(self, z1, z2):
        """VICReg loss of the two projections."""
        return vicreg_loss(z1, z2, sim_weight=self.sim_weight, var_weight=self.var_weight,
                           cov_weight=self.cov_weight)
