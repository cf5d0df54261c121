"""The skorch base of the meta-trained few-shot nets, and the episode iterator."""

import math
from numbers import Integral, Real

import numpy as np
import torch
from skorch import NeuralNet
from sklearn.base import TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions

from ..augment import input_kind, make_augmentation
from ..neural import (
    EmbeddingNetMixin,
    TensorBatchIterator,
    build_module,
    check_net_input,
    forward_takes_return_features,
)
from ..neural._base import _check_warm_start, _record_input_shape
from ..utils.validation import check_partially_labeled
from ._modules import default_few_shot_module

__all__ = ["BaseFewShotNet", "EpisodeBatchIterator"]


class EpisodeBatchIterator:
    """Each step draws ``tasks_per_step`` episodes of class codes ``0..C-1``.

    An episode picks ``n_way`` classes at random (in random order) and
    ``k_shot + n_query`` distinct rows of each. A step's batch is
    ``(X, Y)``: ``X`` of shape ``(tasks_per_step, n_way * (k_shot +
    n_query), ...)`` laid out class by class, each class's ``k_shot``
    support rows before its ``n_query`` query rows, and ``Y`` the position
    of each row's class in its episode (``0..n_way-1``), the only labels a
    loss needs; the user's labels are left as they are outside training.

    Parameters
    ----------
    dataset : skorch Dataset
        ``X`` and ``y`` (class codes ``0..C-1``).
    n_way, k_shot, n_query : int
    episodes_per_epoch : int
        Episodes per epoch; an epoch has ``ceil(episodes_per_epoch /
        tasks_per_step)`` steps.
    tasks_per_step : int, default=1
    seed : int or None, default=None
    **kwargs
        Ignored.

    Examples
    --------
    >>> import numpy as np
    >>> from skorch.dataset import Dataset
    >>> from sklabelfree.few_shot._nets import EpisodeBatchIterator
    >>> ds = Dataset(np.zeros((12, 3), "float32"), np.repeat([0, 1, 2], 4))
    >>> it = EpisodeBatchIterator(ds, 2, 1, 2, episodes_per_epoch=4, tasks_per_step=2,
    ...                           seed=0)
    >>> X, Y = next(iter(it))
    >>> tuple(X.shape), Y[0].tolist(), len(it)
    ((2, 6, 3), [0, 0, 0, 1, 1, 1], 2)
    """

    def __init__(self, dataset, n_way, k_shot, n_query, episodes_per_epoch,
                 tasks_per_step=1, seed=None, **kwargs):
        self.X = torch.as_tensor(np.asarray(dataset.X)) if not isinstance(
            dataset.X, torch.Tensor) else dataset.X
        y = torch.as_tensor(np.asarray(dataset.y)).long()
        self.n_way, self.k_shot, self.n_query = int(n_way), int(k_shot), int(n_query)
        self.tasks_per_step = int(tasks_per_step)
        self.steps = max(1, math.ceil(int(episodes_per_epoch) / self.tasks_per_step))
        # The classes present (a partial_fit may bring a subset of the codes).
        rows = (torch.nonzero(y == c).flatten() for c in range(int(y.max()) + 1))
        self.rows = [r for r in rows if len(r)]
        need = self.k_shot + self.n_query
        smallest = min(len(r) for r in self.rows)
        if self.n_way > len(self.rows) or smallest < need:
            raise ValueError(
                f"Episodes of {self.n_way} classes with {need} rows each cannot be drawn "
                f"from these labels: {len(self.rows)} classes, the smallest with "
                f"{smallest} rows.")
        self.generator = torch.Generator()
        if seed is not None:
            self.generator.manual_seed(int(seed))
        per = self.k_shot + self.n_query
        self._labels = torch.arange(self.n_way).repeat_interleave(per)

    def __len__(self):
        return self.steps

    def _episode(self):
        g = self.generator
        picked = torch.randperm(len(self.rows), generator=g)[:self.n_way]
        need = self.k_shot + self.n_query
        idx = [self.rows[c][torch.randperm(len(self.rows[c]), generator=g)[:need]]
               for c in picked.tolist()]
        return torch.cat(idx)

    def __iter__(self):
        for _ in range(self.steps):
            idx = torch.stack([self._episode() for _ in range(self.tasks_per_step)])
            X = self.X[idx.flatten()].view(idx.shape[0], idx.shape[1], *self.X.shape[1:])
            yield X, self._labels.expand(idx.shape[0], -1)


class BaseFewShotNet(EmbeddingNetMixin, TransformerMixin, NeuralNet):
    """Base of the nets meta-trained on base classes (a skorch ``NeuralNet``).

    ``fit(X, y)`` trains on the labeled rows of the base classes (rows
    labeled ``-1`` are left out; labels of any type). ``transform(X)``
    gives the embeddings of the trained trunk in eval mode, as float32.
    Subclasses implement :meth:`compute_loss` (one training step),
    :meth:`make_train_iterator` and :meth:`check_training_target`.

    ``module=None`` builds the default trunk for the input shape at
    initialisation (see :class:`ProtoNetEncoder`), sized by ``module__*``
    parameters; a module class gets ``input_dim`` / ``in_channels`` and
    ``output_dim`` filled in when it takes them; an instance is used as is.
    A custom module gives embeddings from ``forward(x,
    return_features=True)`` when its ``forward`` takes that argument, else
    from ``forward(x)``.

    Examples
    --------
    >>> from sklabelfree.few_shot import ProtoNetEncoder
    >>> from sklabelfree.few_shot._nets import BaseFewShotNet
    >>> issubclass(ProtoNetEncoder, BaseFewShotNet)
    True
    """

    _sklabelfree_deep = True
    _check_data_dtype = np.float32
    _module_output_dim = 0

    _parameter_constraints: dict = {
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "augment": [StrOptions({"auto", "weak", "strong"}), callable, None],
        "lr_schedule": [StrOptions({"cosine", "constant"})],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(self, module=None, *, criterion=torch.nn.CrossEntropyLoss,
                 optimizer=torch.optim.Adam, lr=1e-3, max_epochs=10, batch_size=64,
                 augment="auto", lr_schedule="cosine", random_state=None,
                 train_split=None, iterator_valid=TensorBatchIterator, device="cpu",
                 verbose=0, **kwargs):
        super().__init__(module, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size,
                         train_split=train_split, iterator_valid=iterator_valid,
                         device=device, verbose=verbose, **kwargs)
        self.augment = augment
        self.lr_schedule = lr_schedule
        self.random_state = random_state

    _target_required = True
    _no_validation_split = ("the nets of the few-shot family have no validation split "
                            "(evaluate them with evaluate_episodes on held-out classes)")

    # ----------------------------------------------------------------- skorch hooks
    def initialize_module(self):
        self.module_ = build_module(self, default_few_shot_module, self._module_output_dim)
        return self

    def get_iterator(self, dataset, training=False):
        if training:
            return self.make_train_iterator(dataset)
        kwargs = self.get_params_for("iterator_valid")
        kwargs.setdefault("batch_size", max(self.batch_size, 256))
        return TensorBatchIterator(dataset, **kwargs)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        batch = tuple(t.to(self.device) for t in batch)
        loss, y_pred = self.compute_loss(batch, **fit_params)
        loss.backward()
        self.n_steps_ += 1
        return {"loss": loss, "y_pred": y_pred}

    # ----------------------------------------------------------------- for subclasses
    def compute_loss(self, batch, **fit_params):
        """Loss of one training step; returns ``(loss, outputs)``.

        Parameters
        ----------
        batch : tuple of torch.Tensor
            From :meth:`make_train_iterator`, on the net's device.
        """
        raise NotImplementedError

    def make_train_iterator(self, dataset):
        """The iterator over training batches (called once per ``fit``)."""
        raise NotImplementedError

    def check_training_target(self, y):
        """Check the labels of the training rows (the user's labels) before any work."""

    def features(self, x):
        """Embeddings of a batch ``x`` (a tensor on the net's device)."""
        module = self.module_
        if self._takes_return_features:
            return module(x, return_features=True)
        return module(x)

    def weak(self, x):
        """The training augmentation of a batch (identity when ``augment=None``)."""
        aug = getattr(self, "augment_", None)
        return x if aug is None else aug(x, self._generator)

    # ----------------------------------------------------------------- fit
    def _resolve_augment(self):
        value = self.augment
        if value is None or callable(value):
            return value
        strength = "weak" if value == "auto" else value
        kind = input_kind(self.input_shape_)
        size = min(self.input_shape_[1:]) if kind != "tabular" else None
        return make_augmentation(kind, strength, size=size)

    def _validate_training_data(self, X, y, first):
        who = type(self).__name__
        X = check_net_input(X, expected_shape=None if first else self.input_shape_,
                            owner=who)
        y, labeled, classes = check_partially_labeled(
            y, min_classes=1, warn_all_labeled=False, estimator_name=who)
        if X.shape[0] != y.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} rows but y has {y.shape[0]}: they must have the "
                "same number of rows.")
        if first and len(classes) < 2:
            raise ValueError(
                f"{who}: y has one class ({classes.tolist()}) among its labeled rows; "
                "meta-training needs at least two base classes.")
        if not first:
            unknown = [c for c in classes.tolist() if c not in set(self.classes_.tolist())]
            if unknown:
                raise ValueError(
                    f"{who}: partial_fit got classes {unknown} that the first fit did "
                    f"not have ({self.classes_.tolist()}).")
            classes = self.classes_
        lookup = {c: i for i, c in enumerate(classes.tolist())}
        idx = np.flatnonzero(labeled)
        codes = np.array([lookup[c] for c in y[idx].tolist()], dtype=np.int64)
        X_l = X[idx] if len(idx) < X.shape[0] else X
        return X_l, codes, classes

    def _train(self, X, codes, fit_params):
        self._generator = torch.Generator(device=self.device)
        self._generator.manual_seed(int(torch.randint(0, 2**31 - 1, (1,))))
        self._iterator_seed = int(torch.randint(0, 2**31 - 1, (1,)))
        self.augment_ = self._resolve_augment()
        try:
            NeuralNet.partial_fit(self, X, codes, **fit_params)
        finally:
            del self._generator

    def fit(self, X, y, **fit_params):
        """Meta-train on the labeled rows of the base classes.

        Parameters
        ----------
        X : array-like or tensor of shape (n, d), (n, c, L) or (n, c, h, w)
            Cast to float32.
        y : array-like of shape (n,)
            Base-class labels (any type); rows labeled ``-1`` are left out.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        self
        """
        self._check_own_params()
        self._check_column_names(X, reset=True)
        X_l, codes, classes = self._validate_training_data(X, y, first=True)
        # The network was built for the previous classes and sample shape.
        _check_warm_start(self, X_l.shape[1:], classes.tolist(),
                          getattr(self, "classes_", np.array([])).tolist())
        self.classes_ = classes
        _record_input_shape(self, X_l)
        self.check_training_target(classes[codes])
        self.n_steps_ = 0
        with self._seeded():
            self._takes_return_features = False
            if not self.warm_start or not self.initialized_:
                self.initialize()
            self._takes_return_features = forward_takes_return_features(self.module_)
            self._train(X_l, codes, fit_params)
        return self

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train ``max_epochs`` more epochs without re-initialising.

        The first call (on an unfitted net) is :meth:`fit`. Later calls keep
        the sample shape, and their labels must be classes of the first.

        Parameters
        ----------
        X : array-like or tensor
        y : array-like of shape (n,)
        classes : object
            Ignored (the classes are those of the first call).
        **fit_params : dict

        Returns
        -------
        self
        """
        if not self.__sklearn_is_fitted__():
            return self.fit(X, y, **fit_params)
        self._check_own_params()
        self._check_column_names(X, reset=False)
        X_l, codes, classes = self._validate_training_data(X, y, first=False)
        self.check_training_target(classes[codes])
        with self._seeded():
            self._train(X_l, codes, fit_params)
        return self
