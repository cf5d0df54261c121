"""The skorch base of sklabelfree's deep semi-supervised classifiers."""

import contextlib
import inspect
from numbers import Integral, Real

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.utils import to_device
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import _check_feature_names, check_is_fitted

from .. import UNLABELED
from ..augment import input_kind, make_augmentation
from ..base import SemiSupervisedMixin
from ..nn.modules import default_module_for_shape
from ..utils.validation import check_partially_labeled
from ._iterators import LabeledUnlabeledIterator, TensorBatchIterator

__all__ = ["BaseSemiSupervisedNet", "SeededNetMixin", "build_module", "check_net_input"]

# What a fit learns about its data, besides the weights.
_SHAPE_ATTRIBUTES = ("classes_inferred_", "input_shape_", "n_features_in_")


def check_net_input(X, *, expected_shape=None, name="X", owner="the net"):
    """Validate the input of a deep estimator; return a float32 array or tensor.

    Accepts ``(n, d)`` rows, ``(n, c, L)`` signals and ``(n, c, h, w)``
    images, as numpy arrays, torch tensors or array-likes (DataFrames are
    turned into arrays). Other numeric dtypes are cast to float32 (a copy;
    the input is never modified); a read-only array (a DataFrame under
    pandas' copy-on-write, a read-only memmap) is copied too, as torch
    cannot wrap it safely. NaN, infinity, complex numbers, sparse
    matrices and empty inputs are refused.

    Parameters
    ----------
    X : array-like or torch.Tensor
    expected_shape : tuple or None
        Shape of one sample seen in ``fit``; a different shape is an error.
    name : str, default='X'
    owner : str, default='the net'
        Name of the estimator, for messages.

    Returns
    -------
    X : ndarray or torch.Tensor of float32

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.neural import check_net_input
    >>> check_net_input(np.zeros((2, 1, 8, 8))).dtype
    dtype('float32')
    """
    overflow = False
    if isinstance(X, torch.Tensor):
        if X.layout != torch.strided:
            raise TypeError(f"{name} is a sparse tensor; deep estimators need a dense "
                            "tensor (call .to_dense()).")
        X = X.detach()
        if X.is_complex():
            raise ValueError("Complex data not supported.")
        if X.dtype != torch.float32:
            X = X.to(torch.float32)
        finite = bool(torch.isfinite(X).all()) if X.numel() else True
    else:
        if hasattr(X, "to_numpy"):
            X = X.to_numpy()
        if hasattr(X, "toarray"):
            raise TypeError(f"{name} is a sparse matrix; deep estimators need a dense "
                            "array (call .toarray()).")
        X = np.asarray(X)
        if X.dtype.kind == "c":
            raise ValueError("Complex data not supported.")
        original = X
        try:
            with np.errstate(over="ignore"):
                X = X.astype(np.float32, copy=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} has dtype {X.dtype} that cannot be cast to float32: {exc}"
            ) from exc
        if not X.flags.writeable or any(stride < 0 for stride in X.strides):
            # A DataFrame under pandas' copy-on-write, or a read-only memmap:
            # torch wraps arrays without copying and warns it cannot protect
            # a read-only one; a view with negative strides (X[::-1],
            # np.flip) it refuses. The net gets its own copy.
            X = X.copy()
        finite = bool(np.isfinite(X).all())
        if not finite and original is not X and original.dtype.kind in "fiu":
            overflow = bool(np.isfinite(original).all())
    if X.ndim == 1 or X.ndim == 0:
        raise ValueError(
            f"Expected 2D array, got {X.ndim}D array instead. Reshape your data either "
            "using array.reshape(-1, 1) if your data has a single feature or "
            "array.reshape(1, -1) if it contains a single sample.")
    if X.ndim > 4:
        raise ValueError(
            f"{name} has shape {tuple(X.shape)}; expected rows (n, d), signals "
            "(n, c, L) or images (n, c, h, w).")
    if X.shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={tuple(X.shape)}) while a minimum of "
            "1 is required.")
    if int(np.prod(X.shape[1:])) == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={tuple(X.shape)}) while a minimum "
            "of 1 is required.")
    if overflow:
        raise ValueError(
            f"Input {name} has values beyond the float32 range (about 3.4e38) that "
            "deep estimators compute in; rescale it.")
    if not finite:
        raise ValueError(f"Input {name} contains NaN or infinity.")
    if expected_shape is not None and tuple(X.shape[1:]) != tuple(expected_shape):
        if X.ndim == 2 and len(expected_shape) == 1:
            raise ValueError(
                f"X has {X.shape[1]} features, but {owner} is expecting "
                f"{expected_shape[0]} features as input.")
        raise ValueError(
            f"{name} has samples of shape {tuple(X.shape[1:])}, but the net was fitted "
            f"on samples of shape {tuple(expected_shape)}.")
    return X


def _record_input_shape(net, X):
    """Set ``input_shape_``, and ``n_features_in_`` for rows (dropped for images)."""
    net.input_shape_ = tuple(int(s) for s in X.shape[1:])
    if X.ndim == 2:
        net.n_features_in_ = int(X.shape[1])
    else:
        net.__dict__.pop("n_features_in_", None)


def _check_warm_start(net, input_shape, classes=None, fitted_classes=None):
    """Refuse data the network kept by ``warm_start=True`` was not built for.

    ``classes`` / ``fitted_classes`` (plain lists, compared as they are) are
    those of this fit and of the previous one; None when the network has no
    class outputs. Nothing is checked unless a network is kept.
    """
    if not (net.warm_start and net.initialized_ and hasattr(net, "input_shape_")):
        return
    input_shape = tuple(input_shape)
    if input_shape == net.input_shape_ and classes == fitted_classes:
        return
    before = f"samples of shape {net.input_shape_}"
    now = f"samples of shape {input_shape}"
    if classes is not None:
        before += f", classes {fitted_classes}"
        now += f", classes {classes}"
    raise ValueError(
        f"{type(net).__name__}: warm_start=True continues the network of the previous "
        f"fit ({before}), but this fit has {now}. Set warm_start=False to start "
        "afresh.")


def _module_takes(module_cls, name):
    try:
        return name in inspect.signature(module_cls).parameters
    except (TypeError, ValueError):
        return False


def build_module(net, default, output_dim, output_names=("output_dim",), input_shape=None):
    """The module of a skorch net from its ``module`` parameter and input shape.

    ``net.module`` None calls ``default(input_shape, output_dim,
    **module__kwargs)``; a module instance is used as skorch uses it; a
    module class gets ``input_dim`` (rows) or ``in_channels`` (signals and
    images), ``image_size`` (``(height, width)`` of images), ``input_size``
    (the shorter side of images) or ``input_length`` (of signals), and each
    of ``output_names`` set to ``output_dim`` when it takes them and
    ``module__*`` did not give them.

    Parameters
    ----------
    net : skorch.NeuralNet
        With ``module`` and ``input_shape_``.
    default : callable
        ``default(input_shape, output_dim, **kwargs)``, the module for
        ``module=None``.
    output_dim : int
        Classes or outputs of the module (0: features only).
    output_names : tuple of str, default=('output_dim',)
    input_shape : tuple of int or None, default=None
        Shape of one sample the module takes; None: ``net.input_shape_``
        (a net whose module sees something else than the samples, such as
        a piece or one channel of them, passes that shape).

    Returns
    -------
    module : torch.nn.Module

    Examples
    --------
    >>> from sklabelfree.neural import build_module
    >>> from sklabelfree.nn import MLP, default_module_for_shape
    >>> from sklabelfree.semi_supervised import SupervisedNetClassifier
    >>> net = SupervisedNetClassifier(MLP, module__width=4)
    >>> net.input_shape_ = (3,)
    >>> build_module(net, default_module_for_shape, 2)
    MLP(...)
    """
    kwargs = net.get_params_for("module")
    module = net.module
    shape = tuple(net.input_shape_ if input_shape is None else input_shape)
    if module is None:
        return default(shape, output_dim, **kwargs)
    if isinstance(module, torch.nn.Module):
        return net.initialized_instance(module, kwargs)
    kwargs = dict(kwargs)
    if len(shape) == 1 and _module_takes(module, "input_dim"):
        kwargs.setdefault("input_dim", shape[0])
    if len(shape) > 1 and _module_takes(module, "in_channels"):
        kwargs.setdefault("in_channels", shape[0])
    if len(shape) == 3 and _module_takes(module, "image_size"):
        kwargs.setdefault("image_size", tuple(shape[1:]))
    # When a ConvNet stops pooling, as for the default module.
    if len(shape) == 3 and _module_takes(module, "input_size"):
        kwargs.setdefault("input_size", min(shape[1:]))
    if len(shape) == 2 and _module_takes(module, "input_length"):
        kwargs.setdefault("input_length", shape[1])
    for name in output_names:
        if _module_takes(module, name):
            kwargs.setdefault(name, output_dim)
    return module(**kwargs)


class SeededNetMixin:
    """``_seeded()``: a context that seeds torch from ``random_state`` and restores it.

    With ``random_state=None`` the context does nothing. With an integer,
    torch's global generator (and those of the CUDA devices when the net's
    ``device`` is CUDA) is forked, seeded and restored on exit: a seeded fit
    leaves the caller's random state as it was.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.neural import SeededNetMixin
    >>> class Net(SeededNetMixin):
    ...     random_state, device = 0, "cpu"
    >>> with Net()._seeded():
    ...     a = torch.rand(1)
    >>> with Net()._seeded():
    ...     b = torch.rand(1)
    >>> bool(a == b)
    True
    """

    @contextlib.contextmanager
    def _seeded(self):
        devices = []
        if torch.cuda.is_available() and str(self.device).startswith("cuda"):
            devices = list(range(torch.cuda.device_count()))
        with torch.random.fork_rng(devices=devices, enabled=self.random_state is not None):
            if self.random_state is not None:
                torch.manual_seed(int(self.random_state))
            yield


class BaseSemiSupervisedNet(SeededNetMixin, SemiSupervisedMixin, NeuralNetClassifier):
    """Base of the deep semi-supervised classifiers (a skorch ``NeuralNetClassifier``).

    ``fit(X, y)`` takes ``y`` with ``-1`` for unlabeled rows. ``classes_``
    holds the labeled classes (never ``-1``; strings are fine) and
    ``predict`` returns them. Each training step sees ``batch_size``
    labeled rows and ``mu * batch_size`` unlabeled rows
    (:class:`LabeledUnlabeledIterator`); an epoch is a fixed number of
    steps. Subclasses implement :meth:`compute_loss`, called by skorch's
    ``train_step_single`` on each :class:`SSLBatch`.

    ``module=None`` builds :func:`~sklabelfree.nn.default_module_for_shape`
    from the input shape at initialisation (an MLP for rows, ConvNets for
    signals and images), sized by ``module__*`` parameters; a module class
    gets ``input_dim`` / ``in_channels`` and ``output_dim`` filled in when
    it takes them and they were not given; a module instance is used as is.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
    criterion : torch loss class, default=torch.nn.CrossEntropyLoss
        The supervised loss on logits.
    optimizer : torch optimizer class, default=torch.optim.AdamW
    lr : float, default=3e-3
    max_epochs : int, default=30
    batch_size : int, default=32
        Labeled rows per step.
    steps_per_epoch : int or None, default=None
        None: enough steps to see the unlabeled rows (at least the labeled
        rows) once per epoch. Subclasses that learn from unlabeled rows add
        ``mu``, the number of unlabeled rows per labeled row in a step.
    augment : {'auto', 'weak', 'strong'}, callable or None, default='auto'
        Augmentation ``aug(x, generator)`` of the labeled rows (and the weak
        view of methods with two views). 'auto' and 'weak' pick the weak
        preset of :func:`~sklabelfree.augment.make_augmentation` for the
        input kind, 'strong' its strong preset (RandAugment and cutout for
        images): the input noise of a Noisy Student's student.
    random_state : int or None, default=None
        Seeds weight initialisation, dropout, batch draws and augmentation;
        the global torch random state is left as it was.
    device : str or torch.device, default='cpu'
    verbose : int, default=0
        1 prints skorch's epoch table.
    **kwargs
        Any other skorch parameter (``module__width``, ``optimizer__weight_decay``,
        ``callbacks``...).

    Examples
    --------
    >>> from sklabelfree.neural import BaseSemiSupervisedNet
    >>> from sklabelfree.semi_supervised import SupervisedNetClassifier
    >>> issubclass(SupervisedNetClassifier, BaseSemiSupervisedNet)
    True
    """

    _sklabelfree_deep = True
    _check_data_dtype = np.float32
    # Unlabeled rows per labeled row in a step; methods that learn from
    # unlabeled rows take ``mu`` as a parameter.
    mu = 0
    # The ``mu`` that sizes an epoch when it differs from the one that
    # draws the batches (the supervised baseline draws no unlabeled rows
    # but takes the steps of the semi-supervised defaults); None: ``mu``.
    _budget_mu = None

    _parameter_constraints: dict = {
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "mu": [Interval(Real, 0, None, closed="left")],
        "steps_per_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "augment": [StrOptions({"auto", "weak", "strong"}), callable, None],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(self, module=None, *, criterion=torch.nn.CrossEntropyLoss,
                 optimizer=torch.optim.AdamW, lr=3e-3, max_epochs=30, batch_size=32,
                 steps_per_epoch=None, augment="auto", random_state=None,
                 train_split=None, iterator_train=LabeledUnlabeledIterator,
                 iterator_valid=TensorBatchIterator, device="cpu", verbose=0,
                 **kwargs):
        super().__init__(module, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size,
                         train_split=train_split, iterator_train=iterator_train,
                         iterator_valid=iterator_valid, device=device,
                         verbose=verbose, **kwargs)
        self.steps_per_epoch = steps_per_epoch
        self.augment = augment
        self.random_state = random_state

    # ----------------------------------------------------------------- validation
    def _get_param_names(self):
        # skorch lists every attribute without a trailing underscore, private
        # bookkeeping such as ``_params_to_validate`` included; parameters
        # never start with an underscore.
        return [k for k in super()._get_param_names() if not k.startswith("_")]

    def _check_own_params(self):
        names = {}
        for klass in type(self).__mro__:
            names.update(getattr(klass, "_parameter_constraints", {}))
        validate_parameter_constraints(
            names, {k: getattr(self, k) for k in names}, caller_name=type(self).__name__)

    # ----------------------------------------------------------------- skorch hooks
    def check_data(self, X, y=None):
        # Classes are set in fit from the labeled rows; -1 is not a class.
        pass

    def initialize_module(self):
        self.module_ = build_module(self, default_module_for_shape, len(self.classes_),
                                    output_names=("output_dim", "n_classes"))
        return self

    def get_iterator(self, dataset, training=False):
        if training and self.iterator_train is LabeledUnlabeledIterator:
            kwargs = self.get_params_for("iterator_train")
            kwargs.setdefault("batch_size", self.batch_size)
            kwargs.setdefault("mu", self.mu)
            kwargs.setdefault("steps_per_epoch", self.steps_per_epoch_)
            kwargs.setdefault("seed", int(torch.randint(0, 2**31 - 1, (1,))))
            weight = getattr(self, "_fit_sample_weight", None)
            if weight is not None:
                kwargs["sample_weight"] = weight
            return LabeledUnlabeledIterator(dataset, **kwargs)
        if not training and self.iterator_valid is TensorBatchIterator:
            kwargs = self.get_params_for("iterator_valid")
            kwargs.setdefault("batch_size", max(self.batch_size, 256))
            return TensorBatchIterator(dataset, **kwargs)
        return super().get_iterator(dataset, training=training)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        batch = type(batch)(*(None if t is None else to_device(t, self.device)
                              for t in batch))
        # ``get_loss`` weights the rows of ``batch.y_l`` by ``batch.w_l``.
        w_l = getattr(batch, "w_l", None)
        self._step_weight = None if w_l is None else (batch.y_l, w_l)
        self._step_weight_used = False
        try:
            loss, logits_l = self.compute_loss(batch, **fit_params)
        finally:
            self._step_weight = None
        if (getattr(self, "_fit_sample_weight", None) is not None
                and not self._step_weight_used):
            raise ValueError(
                f"{type(self).__name__} was given a non-uniform sample_weight, but "
                "its supervised loss did not use it: its compute_loss does not "
                "compute the labeled loss with get_loss(logits, batch.y_l) (MixUp "
                "and MixMatch mix labeled rows), or iterator_train does not carry "
                "the weights (SSLBatch.w_l). Fit without sample_weight (in "
                "NoisyStudentClassifier, use soft=False).")
        loss.backward()
        self.n_steps_ += 1
        return {"loss": loss, "y_pred": logits_l}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        # Supervised cross-entropy on the labeled rows of a batch (validation
        # batches may hold unlabeled rows). In a training step, the labels of
        # the step's labeled rows (``batch.y_l``) are weighted by their
        # sample_weight: sum_i w_i l_i / sum_i w_i over the labeled rows.
        weight = None
        step = getattr(self, "_step_weight", None)
        if training and step is not None and y_true is step[0]:
            weight = step[1]
            self._step_weight_used = True
        y_true = to_device(torch.as_tensor(y_true), self.device).long()
        mask = y_true >= 0
        n_labeled = int(mask.sum())
        if n_labeled == 0:
            return y_pred.sum() * 0.0
        if weight is None:
            if n_labeled == mask.shape[0]:
                # Training batches hold labeled rows only: no copy by mask.
                return super().get_loss(y_pred, y_true, X=X, training=training)
            return super().get_loss(y_pred[mask], y_true[mask], X=X, training=training)
        return self._weighted_loss(y_pred[mask], y_true[mask],
                                   weight.to(y_pred.device)[mask], X, training)

    def _weighted_loss(self, y_pred, y_true, weight, X, training):
        """``sum_i w_i l_i / sum_i w_i`` with the per-row losses of ``criterion``."""
        criterion = self.criterion_
        reduction = getattr(criterion, "reduction", None)
        if reduction != "mean":
            raise ValueError(
                f"sample_weight needs a criterion with reduction='mean' (such as "
                f"torch.nn.CrossEntropyLoss), got {type(criterion).__name__} with "
                f"reduction={reduction!r}.")
        criterion.reduction = "none"
        try:
            per_row = super().get_loss(y_pred, y_true, X=X, training=training)
        finally:
            criterion.reduction = reduction
        # Class weights of the criterion weigh the mean as in torch's 'mean'.
        class_weight = getattr(criterion, "weight", None)
        denom = weight if class_weight is None else weight * class_weight[y_true]
        total = denom.sum()
        if float(total) <= 0:
            return (per_row * 0.0).sum()
        return (per_row * weight).sum() / total

    # ----------------------------------------------------------------- API for subclasses
    def compute_loss(self, batch, **fit_params):
        """Loss of one training step; returns ``(loss, logits of the labeled rows)``.

        The base implementation is the supervised loss on the (weakly
        augmented) labeled rows. Subclasses add their unlabeled terms.

        Parameters
        ----------
        batch : SSLBatch
            On the net's device.

        Returns
        -------
        loss : torch.Tensor (scalar)
        logits_l : torch.Tensor of shape (B, n_classes)
        """
        logits_l = self.infer(self.weak(batch.x_l), **fit_params)
        return self.get_loss(logits_l, batch.y_l, training=True), logits_l

    def weak(self, x):
        """Weak augmentation of a batch (identity when ``augment=None``)."""
        return x if self.weak_augment_ is None else self.weak_augment_(x, self.generator_)

    def log_batch(self, name, value):
        """Record a per-batch diagnostic in ``history_`` (only while training).

        Read it back with ``net.history_[:, 'batches', :, name]``.
        """
        if len(self.history) and self.history[-1, "batches"]:
            self.history.record_batch(name, float(value))

    def progress(self):
        """Training progress in epochs (fractional), for ramp-ups."""
        steps = max(1, getattr(self, "steps_per_epoch_", 1))
        return self.n_steps_ / steps

    def _resolve_augment(self, value, strength):
        """The augmentation for a parameter value: 'auto' is the ``strength`` preset."""
        if value is None:
            return None
        if isinstance(value, str):
            strength = strength if value == "auto" else value
            kind = input_kind(self.input_shape_)
            size = min(self.input_shape_[1:]) if kind != "tabular" else None
            return make_augmentation(kind, strength, size=size)
        return value

    # ----------------------------------------------------------------- fit / predict
    def _encode_target(self, y, classes=None, min_classes=2, every_class_labeled=True):
        # ``classes`` (the ``classes`` parameter, partial_fit's argument or
        # the classes of a first call) fixes the order of the outputs; every
        # label must be one of them. A class with no labeled row is not a
        # class (as in check_partially_labeled), so a listed class without
        # a labeled row is refused unless ``every_class_labeled=False``
        # (later partial_fit calls, whose batches may lack a class).
        who = type(self).__name__
        y, labeled, found = check_partially_labeled(
            y, min_classes=min_classes, allow_negative_labels=False, estimator_name=who)
        if classes is None:
            classes = found
        else:
            classes = np.asarray(classes)
            if classes.dtype.kind in "US":
                classes = classes.astype(object)
            listed, labels = classes.tolist(), set(found.tolist())
            if len(set(listed)) != len(listed) or UNLABELED in listed:
                raise ValueError(
                    f"{who}: classes {listed} must be distinct labels, without -1 "
                    "(which marks unlabeled rows).")
            unknown = [c for c in found.tolist() if c not in listed]
            if unknown:
                raise ValueError(
                    f"{who}: y has labels {unknown} that are not in classes {listed}.")
            missing = [c for c in listed if c not in labels]
            if missing and every_class_labeled:
                raise ValueError(
                    f"{who}: classes {missing} have no labeled row in y. The classes of "
                    "a net are those of its labeled rows (-1 marks unlabeled rows): "
                    "label at least one row of each class, or leave it out of classes.")
        codes = np.full(y.shape[0], -1, dtype=np.int64)
        lookup = {c: i for i, c in enumerate(classes)}
        codes[labeled] = [lookup[c] for c in y[labeled]]
        return codes, classes

    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit on labeled rows and on rows labeled ``-1``.

        Parameters
        ----------
        X : array-like or tensor of shape (n, d), (n, c, L) or (n, c, h, w)
            Cast to float32.
        y : array-like of shape (n,)
            Labels, ``-1`` for unlabeled rows.
        sample_weight : array-like of shape (n,) or None, default=None
            Non-negative weight of each row in the supervised loss: each step's
            cross-entropy is the weighted mean ``sum_i w_i l_i / sum_i w_i``
            over its labeled rows (a step whose labeled rows all weigh 0
            adds no supervised loss). Weights do not change which rows are
            drawn, and the weights of unlabeled rows are ignored (the
            unlabeled terms are not weighted). Equal weights on the labeled
            rows are the same as None. Methods that mix labeled rows
            (MixMatch, MixUp) refuse non-uniform weights.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        self
        """
        self._check_own_params()
        X_in, X = X, check_net_input(X)
        codes, classes = self._encode_target(y, classes=self.classes)
        if X.shape[0] != codes.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} rows but y has {codes.shape[0]}: they must have "
                "the same number of rows.")
        weight = self._check_sample_weight(sample_weight, codes)
        # A DataFrame's column names, checked at predict as scikit-learn does.
        _check_feature_names(self, X_in, reset=True)
        previous = {k: v for k, v in self.__dict__.items() if k in _SHAPE_ATTRIBUTES}
        self.classes_inferred_ = classes
        _record_input_shape(self, X)
        self.n_steps_ = 0
        with self._seeded():
            self.generator_ = torch.Generator(device=self.device)
            self.generator_.manual_seed(int(torch.randint(0, 2**31 - 1, (1,))))
            self.cpu_generator_ = torch.Generator()
            self.cpu_generator_.manual_seed(int(torch.randint(0, 2**31 - 1, (1,))))
            self.weak_augment_ = self._resolve_augment(self.augment, "weak")
            self.prepare_fit(X, codes)
            # skorch's fit, without going through our partial_fit (which
            # takes user labels, not class codes).
            kept_network = self.warm_start and self.initialized_
            if not kept_network:
                self.initialize()
            try:
                self._check_module_fits(X, fit_params)
            except ValueError:
                if kept_network:
                    # warm_start kept the network of the last fit: it still
                    # goes with that fit's classes and sample shape.
                    for key in _SHAPE_ATTRIBUTES:
                        self.__dict__.pop(key, None)
                    self.__dict__.update(previous)
                raise
            self._partial_fit_weighted(X, codes, weight, fit_params)
        return self

    def _check_module_fits(self, X, fit_params):
        """Run the module on two samples (eval mode, no gradient) before training.

        A module that cannot take the samples, or does not return one logit
        per class, is refused with a clear message rather than failing inside
        the first training step.
        """
        who, n_classes = type(self).__name__, len(self.classes_)
        module = self.module_
        modes = [m.training for m in module.modules()]
        try:
            module.eval()
            with torch.no_grad():
                out = module(to_device(torch.as_tensor(X[:2]), self.device), **fit_params)
        except (RuntimeError, ValueError, IndexError) as exc:
            raise ValueError(
                f"{who}: the module cannot take samples of shape {self.input_shape_} "
                f"(X has shape {tuple(X.shape)}); check its input size. The module "
                f"raised: {exc}") from exc
        finally:
            for m, mode in zip(module.modules(), modes):
                m.training = mode
        shape = tuple(getattr(out, "shape", ()))
        if len(shape) != 2 or shape[1] != n_classes:
            raise ValueError(
                f"{who}: the module returns outputs of shape {shape} for "
                f"{min(2, X.shape[0])} samples, but y has {n_classes} classes: it must "
                f"return logits of shape (n_samples, {n_classes}).")

    def _check_sample_weight(self, sample_weight, codes):
        """Validated weights as a float32 tensor, or None when they are uniform."""
        if sample_weight is None:
            return None
        who = type(self).__name__
        if isinstance(sample_weight, torch.Tensor):
            sample_weight = sample_weight.detach().cpu().numpy()
        try:
            weight = np.asarray(sample_weight, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{who}: sample_weight must be numeric: {exc}") from exc
        n = codes.shape[0]
        if weight.ndim == 0:
            weight = np.full(n, float(weight))
        if weight.shape != (n,):
            raise ValueError(
                f"{who}: sample_weight has shape {weight.shape}; expected ({n},), one "
                "weight per row of X.")
        if not np.isfinite(weight).all():
            raise ValueError(f"{who}: sample_weight contains NaN or infinity.")
        if (weight < 0).any():
            raise ValueError(f"{who}: sample_weight has negative values; weights "
                             "must be >= 0.")
        w_labeled = weight[codes >= 0]
        if not (w_labeled > 0).any():
            raise ValueError(f"{who}: sample_weight is zero on every labeled row: there "
                             "is nothing to learn from.")
        if np.all(w_labeled == w_labeled[0]):
            return None
        return torch.as_tensor(weight, dtype=torch.float32)

    def _partial_fit_weighted(self, X, codes, weight, fit_params):
        # The iterator reads the weights from here; they are not kept after fit.
        self._fit_sample_weight = weight
        try:
            NeuralNetClassifier.partial_fit(self, X, codes, **fit_params)
        finally:
            self._fit_sample_weight = None

    def partial_fit(self, X, y=None, classes=None, sample_weight=None, **fit_params):
        """Continue training for ``max_epochs`` more epochs without re-initialising.

        The first call (on an unfitted net) is the same as :meth:`fit`. Later
        calls must keep the sample shape of the first, and their labels must
        be classes of the first.

        Parameters
        ----------
        X : array-like or tensor
        y : array-like of shape (n,)
            Labels, ``-1`` for unlabeled rows.
        classes : array-like or None, default=None
            Optional check of the classes. The classes of a net are those of
            the labeled rows of the first call, so there every listed class
            needs a labeled row (and every label must be listed); later
            calls may lack classes but not add new ones.
        sample_weight : array-like of shape (n,) or None, default=None
            As in :meth:`fit`.
        **fit_params : dict

        Returns
        -------
        self
        """
        if not getattr(self, "initialized_", False) or not hasattr(self, "input_shape_"):
            if classes is not None:
                self._encode_target(y, classes=classes)
            return self.fit(X, y, sample_weight=sample_weight, **fit_params)
        _check_feature_names(self, X, reset=False)
        X = check_net_input(X, expected_shape=self.input_shape_,
                            owner=type(self).__name__)
        if classes is not None and set(np.asarray(classes).tolist()) != set(
                self.classes_.tolist()):
            raise ValueError(
                f"partial_fit got classes {np.asarray(classes).tolist()}, but the net "
                f"was fitted on {self.classes_.tolist()}.")
        codes, _ = self._encode_target(y, classes=self.classes_, min_classes=1,
                                       every_class_labeled=False)
        if X.shape[0] != codes.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} rows but y has {codes.shape[0]}: they must have "
                "the same number of rows.")
        weight = self._check_sample_weight(sample_weight, codes)
        with self._seeded():
            self.prepare_fit(X, codes)
            self._partial_fit_weighted(X, codes, weight, fit_params)
        return self

    def prepare_fit(self, X, codes):
        """Hook run before training, with the float32 inputs and class codes.

        Sets ``steps_per_epoch_``; subclasses extend it to set up state
        that depends on the data (per-row buffers, strong augmentation).
        """
        n_labeled = int((codes >= 0).sum())
        n_pool = X.shape[0]
        if self.steps_per_epoch is not None:
            self.steps_per_epoch_ = int(self.steps_per_epoch)
        else:
            mu = self.mu if self._budget_mu is None else self._budget_mu
            n_u = int(round(mu * self.batch_size))
            steps_u = int(np.ceil(n_pool / n_u)) if n_u else 0
            self.steps_per_epoch_ = max(int(np.ceil(n_labeled / self.batch_size)),
                                        steps_u, 1)

    def _check_predict_X(self, X):
        check_is_fitted(self, "input_shape_")
        _check_feature_names(self, X, reset=False)
        return check_net_input(X, expected_shape=self.input_shape_,
                               owner=type(self).__name__)

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like or tensor
            Same sample shape as in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return super().predict_proba(self._check_predict_X(X))

    def predict(self, X):
        """Predicted classes (labels from ``classes_``, never ``-1``).

        Parameters
        ----------
        X : array-like or tensor

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
