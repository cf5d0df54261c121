"""The skorch base of the self-supervised encoders (scikit-learn transformers)."""

from numbers import Integral, Real

import torch
from skorch import NeuralNet
from sklearn.base import TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions

from ..augment import (
    Compose,
    Cutout,
    FeatureMasking,
    GaussianNoise,
    RandomAffine,
    input_kind,
    make_augmentation,
)
from ..neural import (
    EmbeddingNetMixin,
    TensorBatchIterator,
    build_module,
    check_net_input,
    eval_mode,
    forward_takes_return_features,
)
from ..neural._base import _check_warm_start, _record_input_shape
from ..nn import default_module_for_shape

__all__ = ["BaseSelfSupervisedEncoder", "view_augmentation"]


def view_augmentation(sample_shape, strength="strong"):
    """The augmentation that makes the two views of a row, for a sample shape.

    ``'strong'`` (the default of the contrastive and redundancy-reduction
    encoders) is, for images, a random affine map (rotation up to 15
    degrees, shear up to 15 degrees, translation up to 15 % of the size),
    Gaussian noise of 0.05 and a cutout of a quarter of the side; for
    tabular rows, masking of 30 % of the entries and Gaussian noise of 0.2
    times each feature's spread in the batch; for signals the strong preset
    of :func:`~sklabelfree.augment.make_augmentation`. ``'weak'`` is that
    function's weak preset.

    Parameters
    ----------
    sample_shape : tuple of int
        Shape of one sample: ``(d,)``, ``(c, L)`` or ``(c, h, w)``.
    strength : {'weak', 'strong'}, default='strong'

    Returns
    -------
    augmentation : sklabelfree.augment.Compose

    Examples
    --------
    >>> from sklabelfree.self_supervised import view_augmentation
    >>> view_augmentation((64,))
    Compose(augmentations=[FeatureMasking(rate=0.3, fill=0.0),
                           GaussianNoise(std=0.2, relative=True)])
    """
    kind = input_kind(sample_shape)
    size = min(sample_shape[1:]) if kind != "tabular" else None
    if strength == "weak" or kind == "signal":
        return make_augmentation(kind, strength, size=size)
    if kind == "image":
        return Compose([RandomAffine(degrees=15.0, shear=15.0, translate=0.15),
                        GaussianNoise(0.05), Cutout(0.25)])
    return Compose([FeatureMasking(0.3), GaussianNoise(0.2, relative=True)])


class BaseSelfSupervisedEncoder(EmbeddingNetMixin, TransformerMixin, NeuralNet):
    """Base of the encoders trained without labels (a skorch ``NeuralNet``).

    ``fit(X, y=None)`` trains the trunk (``module_``) on every row of ``X``
    (``y`` is ignored); ``transform(X)`` gives the trunk's features in eval
    mode, as float32. Subclasses add their modules in
    :meth:`initialize_module` (calling ``super()``) and implement
    :meth:`compute_loss` (the loss of one batch).

    ``module=None`` builds :func:`~sklabelfree.nn.default_module_for_shape`
    for the input shape (an MLP for rows, a ConvNet for signals and
    images) with no classification head, sized by ``module__*``; a module
    class gets ``input_dim`` / ``in_channels`` and ``output_dim=0`` when it
    takes them; an instance is used as is. A module's features are
    ``forward(x, return_features=True)`` when its ``forward`` takes that
    argument, else ``forward(x)`` flattened.

    Examples
    --------
    >>> from sklabelfree.self_supervised import SimCLREncoder
    >>> from sklabelfree.self_supervised._base import BaseSelfSupervisedEncoder
    >>> issubclass(SimCLREncoder, BaseSelfSupervisedEncoder)
    True
    """

    _sklabelfree_deep = True

    _parameter_constraints: dict = {
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "augment": [StrOptions({"weak", "strong"}), callable, None],
        "lr_schedule": [StrOptions({"cosine", "constant"})],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(self, module=None, *, criterion=torch.nn.MSELoss,
                 optimizer=torch.optim.Adam, lr=1e-3, max_epochs=100, batch_size=256,
                 augment="strong", lr_schedule="cosine", random_state=None,
                 train_split=None, device="cpu", verbose=0, **kwargs):
        super().__init__(module, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size,
                         train_split=train_split, device=device, verbose=verbose,
                         **kwargs)
        self.augment = augment
        self.lr_schedule = lr_schedule
        self.random_state = random_state

    _no_validation_split = ("a self-supervised encoder has no validation split (score "
                            "it with linear_probe_score)")

    # ----------------------------------------------------------------- skorch hooks
    def _trunk_input_shape(self):
        """Shape of one sample the trunk takes: that of a training row by default."""
        return self.input_shape_

    def initialize_module(self):
        module = build_module(self, default_module_for_shape, 0,
                              input_shape=self._trunk_input_shape())
        self.module_ = module
        self._takes_return_features = forward_takes_return_features(module)
        self.feature_dim_ = self._feature_dim(module)
        return self

    def _feature_dim(self, module, input_shape=None):
        """Width of the module's features of samples of ``input_shape`` (the trunk's)."""
        if input_shape is None:
            input_shape = self._trunk_input_shape()
        param = next(module.parameters(), None)
        device = param.device if param is not None else "cpu"
        with eval_mode(module), torch.no_grad():
            z = self._features_of(module, torch.zeros((2, *input_shape), device=device))
        return int(z.shape[1])

    def _features_of(self, module, x):
        if self._takes_return_features:
            return module(x, return_features=True).flatten(1)
        return module(x).flatten(1)

    def get_iterator(self, dataset, training=False):
        if training:
            n = len(dataset)
            bs = min(self.batch_size, n)
            it = TensorBatchIterator(dataset, batch_size=bs, shuffle=True,
                                     drop_last=True, seed=self._iterator_seed)
            self.steps_per_epoch_ = len(it)
            return it
        return TensorBatchIterator(dataset, batch_size=max(self.batch_size, 256))

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        x = batch[0].to(self.device)
        loss = self.compute_loss(x, **fit_params)
        loss.backward()
        self.n_steps_ += 1
        return {"loss": loss, "y_pred": None}

    def train_step(self, batch, **fit_params):
        step = super().train_step(batch, **fit_params)
        self.after_step()
        return step

    # ----------------------------------------------------------------- for subclasses
    def compute_loss(self, x, **fit_params):
        """The self-supervised loss of a batch ``x`` (a tensor on the net's device).

        Parameters
        ----------
        x : torch.Tensor
            A batch of training rows.
        **fit_params : dict

        Returns
        -------
        loss : torch.Tensor (scalar)
        """
        raise NotImplementedError

    def after_step(self):
        """Called after each optimizer step (MoCo updates its key encoder here)."""

    def features(self, x):
        """The trunk's features of a batch ``x``, flattened to ``(n, dims)``."""
        return self._features_of(self.module_, x)

    def views(self, x):
        """Two augmented views of a batch (``x`` itself when ``augment=None``)."""
        aug = self.augment_
        if aug is None:
            return x, x
        return aug(x, self._generator), aug(x, self._generator)

    # ----------------------------------------------------------------- fit
    def _resolve_augment(self):
        value = self.augment
        if value is None or callable(value):
            return value
        return view_augmentation(self.input_shape_, value)

    def _validate_X(self, X, first):
        who = type(self).__name__
        X = check_net_input(X, expected_shape=None if first else self.input_shape_,
                            owner=who)
        if X.shape[0] < 2:
            raise ValueError(
                f"{who} needs at least 2 samples to train (its loss compares rows of a "
                f"batch), got {X.shape[0]} sample.")
        return X

    def _train(self, X, fit_params):
        self._generator = torch.Generator(device=self.device)
        self._generator.manual_seed(int(torch.randint(0, 2**31 - 1, (1,))))
        self._iterator_seed = int(torch.randint(0, 2**31 - 1, (1,)))
        self.augment_ = self._resolve_augment()
        try:
            NeuralNet.partial_fit(self, X, None, **fit_params)
        finally:
            del self._generator

    def _fit_data(self, X):
        """Learn what the encoder takes from the whole training set.

        Called by :meth:`fit` once ``X`` is validated, before the module is
        built (the fill value of inpainting, the colour bins of
        colorization); nothing by default.
        """

    def fit(self, X, y=None, **fit_params):
        """Train the encoder on the rows of ``X``, without labels.

        The network is built afresh, unless ``warm_start=True`` and a
        network of an earlier fit exists: then training continues from it
        (same sample shape required). If building the network fails, the
        error is raised and the encoder is left unfitted.

        Parameters
        ----------
        X : array-like or tensor of shape (n, d), (n, c, L) or (n, c, h, w)
            Cast to float32 (the input is not modified).
        y : None
            Ignored; present for the scikit-learn API.
        **fit_params : dict
            Passed to :meth:`compute_loss`.

        Returns
        -------
        self
        """
        self._check_own_params()
        self._check_column_names(X, reset=True)
        X = self._validate_X(X, first=True)
        keep = self.warm_start and self.initialized_ and hasattr(self, "input_shape_")
        _check_warm_start(self, X.shape[1:])
        self._fit_data(X)
        _record_input_shape(self, X)
        self.n_steps_ = 0
        with self._seeded():
            if not keep:
                try:
                    self.initialize()
                except BaseException:
                    # Neither the previous network (it was built for other
                    # data) nor a new one: the encoder is not fitted.
                    self.initialized_ = False
                    raise
            self._train(X, fit_params)
        return self

    def partial_fit(self, X, y=None, **fit_params):
        """Train ``max_epochs`` more epochs without re-initialising.

        The first call (on an unfitted encoder) is :meth:`fit`.

        Parameters
        ----------
        X : array-like or tensor
            Same sample shape as in the first fit.
        y : None
            Ignored.
        **fit_params : dict

        Returns
        -------
        self
        """
        if not self.__sklearn_is_fitted__():
            return self.fit(X, y, **fit_params)
        self._check_own_params()
        self._check_column_names(X, reset=False)
        X = self._validate_X(X, first=False)
        with self._seeded():
            self._train(X, fit_params)
        return self

    def _embedding_dim(self):
        return self.feature_dim_
