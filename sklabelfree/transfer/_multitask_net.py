"""A deep multi-task classifier: one shared trunk, one linear head per task."""

import math
import numbers
from numbers import Integral, Real

import numpy as np
import torch
from skorch import NeuralNet
from skorch.dataset import unpack_data
from skorch.utils import to_device
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import _check_feature_names, check_is_fitted

from ..neural import SeededNetMixin, TensorBatchIterator, build_module, check_net_input
from ..neural._base import _check_warm_start, _record_input_shape
from ..nn.losses import (
    gradnorm_loss,
    masked_task_losses,
    pcgrad_project,
    uncertainty_weighted_loss,
)
from ..nn.modules import default_module_for_shape
from ..utils.validation import check_partially_labeled, labeled_mask
from ._multitask_linear import multitask_accuracy

__all__ = ["MultiTaskNetClassifier"]

_WEIGHTINGS = ("equal", "uncertainty", "gradnorm", "pcgrad")


class _SharedTrunk(torch.nn.Module):
    """A trunk's features feed one linear head per task; outputs are concatenated."""

    def __init__(self, trunk, feature_dim, n_classes, weighting):
        super().__init__()
        self.trunk = trunk
        self.heads = torch.nn.ModuleList(
            torch.nn.Linear(feature_dim, int(k)) for k in n_classes)
        n_tasks = len(n_classes)
        if weighting == "uncertainty":
            self.log_vars = torch.nn.Parameter(torch.zeros(n_tasks))
        elif weighting == "gradnorm":
            self.task_weights = torch.nn.Parameter(torch.ones(n_tasks))

    def forward(self, x, **kwargs):
        h = self.trunk(x, return_features=True, **kwargs)
        return torch.cat([head(h) for head in self.heads], dim=1)


class _RowStream:
    """Batches sliced from tensors: an endless shuffled stream of the rows.

    An epoch is ``steps_per_epoch`` batches (default: one pass over the
    rows); the stream is reshuffled after each pass, and a batch may span
    two passes, so every row is seen equally often.
    """

    def __init__(self, dataset, batch_size=64, steps_per_epoch=None, seed=None,
                 **kwargs):
        self.X = dataset.X if isinstance(dataset.X, torch.Tensor) else torch.as_tensor(
            np.asarray(dataset.X))
        self.y = dataset.y if isinstance(dataset.y, torch.Tensor) else torch.as_tensor(
            np.asarray(dataset.y))
        n = self.X.shape[0]
        self.batch_size = max(1, min(int(batch_size), n))
        self.steps = (int(steps_per_epoch) if steps_per_epoch is not None
                      else math.ceil(n / self.batch_size))
        self.generator = torch.Generator()
        if seed is not None:
            self.generator.manual_seed(int(seed))
        self.order = torch.randperm(n, generator=self.generator)
        self.pos = 0

    def __len__(self):
        return self.steps

    def _take(self, k):
        parts = []
        while k > 0:
            if self.pos == len(self.order):
                self.order = torch.randperm(len(self.order), generator=self.generator)
                self.pos = 0
            step = min(k, len(self.order) - self.pos)
            parts.append(self.order[self.pos:self.pos + step])
            self.pos += step
            k -= step
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def __iter__(self):
        for _ in range(self.steps):
            idx = self._take(self.batch_size)
            yield self.X[idx], self.y[idx]


class MultiTaskNetClassifier(SeededNetMixin, ClassifierMixin, NeuralNet):
    """Hard parameter sharing: a shared network trunk and a linear head per task.

    Every task (a column of ``y``) is a classification problem on the same
    inputs. The trunk (any module whose ``forward(x, return_features=True)``
    returns features, by default an :class:`~sklabelfree.nn.MLP` for rows
    and a :class:`~sklabelfree.nn.ConvNet2d` for images) is shared; each
    task has its own linear head on the trunk's features. A row may lack
    the label of some tasks (``-1``): each task's loss is the
    cross-entropy over the rows of the batch labeled for it, so a task
    with few labels learns from features shaped by the tasks with many.

    The task losses ``L_t`` are combined by ``weighting``:

    - ``'equal'``: their sum, ``sum_t L_t``;
    - ``'uncertainty'``: Kendall, Gal & Cipolla (2018), learned
      log-variances ``s_t``: ``sum_t exp(-s_t) L_t + s_t``
      (:func:`~sklabelfree.nn.losses.uncertainty_weighted_loss`, which
      states the classification form used);
    - ``'gradnorm'``: Chen et al. (2018), learned weights ``w_t`` (kept
      positive and summing to the number of tasks after each step) train
      the network on ``sum_t w_t L_t``, and are themselves trained on
      ``sum_t |G_t - mean(G) r_t^alpha|`` where ``G_t`` is the norm of the
      gradient of ``w_t L_t`` with respect to the weights of the trunk's
      last layer and ``r_t`` the relative inverse training rate
      (:func:`~sklabelfree.nn.losses.gradnorm_loss`);
    - ``'pcgrad'``: Yu et al. (2020), the tasks' gradients on the trunk's
      parameters are computed one by one, each projected off the gradients
      it conflicts with (:func:`~sklabelfree.nn.losses.pcgrad_project`),
      and summed; each head gets its own task's gradient.

    A task absent from a batch (no labeled row for it) adds nothing to that
    step. ``y`` follows :class:`MultiTaskLinearClassifier`: 2-D
    ``(n, n_tasks)``, or 1-D for a single task.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
        The trunk. None builds :func:`~sklabelfree.nn.default_module_for_shape`
        from the input shape, with no output layer, sized by ``module__*``
        parameters. A class gets ``input_dim`` / ``in_channels`` and
        ``output_dim=0`` when it takes them and they were not given; an
        instance is used as is. Its ``forward`` must take
        ``return_features=True`` and return ``(n, feature_dim)`` features.
    weighting : {'equal', 'uncertainty', 'gradnorm', 'pcgrad'}, default='equal'
        How the task losses are combined (see above).
    gradnorm_alpha : float >= 0, default=1.5
        GradNorm's ``alpha``: the pull toward equal training rates.
    criterion : torch loss class, default=torch.nn.CrossEntropyLoss
        Each task's loss on the logits of its labeled rows (reduction
        'mean'); ``criterion__label_smoothing`` and the like reach it.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Trains the trunk, the heads and the learned task weights.
    lr : float, default=1e-3
    max_epochs : int, default=30
    batch_size : int, default=64
        Rows per step, drawn from the rows with at least one label.
    steps_per_epoch : int or None, default=None
        None: one pass over the rows with at least one label per epoch.
    random_state : int or None, default=None
        Seeds weight initialisation, dropout, batch draws and PCGrad's
        orders; the global torch random state is left as it was.
    device : str or torch.device, default='cpu'
    verbose : int, default=0
        1 prints skorch's epoch table.
    train_split : callable or None, default=None
        skorch's validation split (None: train on every row).
    iterator_train : class or None, default=None
        None: batches sliced from tensors, shuffled, ``steps_per_epoch``
        per epoch.
    iterator_valid : class, default=TensorBatchIterator
    **kwargs
        Other skorch parameters (``module__width``, ``optimizer__weight_decay``,
        ``callbacks``...). With ``warm_start=True``, ``fit`` on a fitted net
        goes on from its weights; ``y`` must then have the tasks and classes,
        and ``X`` the sample shape, of the previous fit (a ``ValueError``
        otherwise, the fitted net left as it was; set ``warm_start=False``
        to start anew).

    Attributes
    ----------
    classes_ : list of ndarray, or ndarray for a 1-D target
        Each task's classes (``-1`` is never a class).
    n_tasks_ : int
    task_weights_ : ndarray of shape (n_tasks,)
        The weight of each task's loss at the end of training: 1 for
        'equal' and 'pcgrad', ``exp(-s_t)`` for 'uncertainty', ``w_t`` for
        'gradnorm'.
    module_ : torch.nn.Module
        The trunk (``module_.trunk``) and the heads (``module_.heads``).
    history_ : skorch History
    input_shape_ : tuple
        Shape of one sample.
    n_features_in_ : int
        For 2-D inputs.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of a DataFrame ``X`` given to ``fit``, when they are all
        strings; ``predict`` refuses other or reordered columns.

    See Also
    --------
    MultiTaskLinearClassifier : linear models coupled by a penalty.

    References
    ----------
    R. Caruana, "Multitask learning", Machine Learning 28, 1997.
    A. Kendall, Y. Gal and R. Cipolla, "Multi-task learning using
    uncertainty to weigh losses for scene geometry and semantics",
    CVPR 2018.
    Z. Chen, V. Badrinarayanan, C.-Y. Lee and A. Rabinovich, "GradNorm:
    Gradient normalization for adaptive loss balancing in deep multitask
    networks", ICML 2018.
    T. Yu, S. Kumar, A. Gupta, S. Levine, K. Hausman and C. Finn, "Gradient
    surgery for multi-task learning", NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.transfer import MultiTaskNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 5).astype("float32")
    >>> y = np.column_stack([X[:, 0] > 0, X[:, 0] + X[:, 1] > 0]).astype(int)
    >>> y[50:, 0] = -1                        # task 0 is labeled on 50 rows
    >>> clf = MultiTaskNetClassifier(weighting="pcgrad", max_epochs=10, lr=1e-2,
    ...                              module__width=16, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape, len(clf.classes_)
    ((3, 2), 2)
    >>> clf.score(X, y) > 0.8
    True
    """

    # A torch estimator: skops cannot load it (pickle it, or use skorch's
    # save_params / load_params).
    _sklabelfree_deep = True

    _parameter_constraints: dict = {
        "weighting": [StrOptions(set(_WEIGHTINGS))],
        "gradnorm_alpha": [Interval(Real, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "steps_per_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(self, module=None, *, weighting="equal", gradnorm_alpha=1.5,
                 criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.Adam,
                 lr=1e-3, max_epochs=30, batch_size=64, steps_per_epoch=None,
                 random_state=None, device="cpu", verbose=0, train_split=None,
                 iterator_train=None, iterator_valid=TensorBatchIterator, **kwargs):
        super().__init__(module, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size,
                         train_split=train_split, iterator_train=iterator_train,
                         iterator_valid=iterator_valid, device=device,
                         verbose=verbose, **kwargs)
        self.weighting = weighting
        self.gradnorm_alpha = gradnorm_alpha
        self.steps_per_epoch = steps_per_epoch
        self.random_state = random_state

    # ------------------------------------------------------------------ params
    def _get_param_names(self):
        # skorch lists every attribute without a trailing underscore; private
        # bookkeeping (a leading underscore) is never a parameter.
        return [k for k in super()._get_param_names() if not k.startswith("_")]

    def _check_own_params(self):
        validate_parameter_constraints(
            self._parameter_constraints,
            {k: getattr(self, k) for k in self._parameter_constraints},
            caller_name=type(self).__name__)

    # ------------------------------------------------------------------ skorch hooks
    def initialize_module(self):
        """Build the trunk (from ``module`` and ``module__*``) and the task heads."""
        trunk = build_module(self, default_module_for_shape, 0)
        feature_dim = self._probe_trunk(trunk)
        self.module_ = _SharedTrunk(trunk, feature_dim, [len(c) for c in self._classes],
                                    self.weighting)
        return self

    def _probe_trunk(self, trunk):
        """Run the trunk on two zero samples; return its feature size.

        Also finds the trunk's last layer that the features depend on
        (GradNorm's "last shared layer").
        """
        who = type(self).__name__
        modes = [m.training for m in trunk.modules()]
        trunk.eval()
        try:
            x = torch.zeros((2, *self.input_shape_))
            try:
                h = trunk(x, return_features=True)
            except (TypeError, RuntimeError, ValueError, IndexError) as exc:
                raise ValueError(
                    f"{who}: the trunk {type(trunk).__name__} cannot compute features "
                    f"of samples of shape {self.input_shape_} with forward(x, "
                    f"return_features=True): {exc}") from exc
            if h.ndim != 2 or h.shape[0] != 2:
                raise ValueError(
                    f"{who}: the trunk's features have shape {tuple(h.shape)} for 2 "
                    "samples; expected (2, feature_dim).")
            params = [(n, p) for n, p in trunk.named_parameters() if p.requires_grad]
            grads = torch.autograd.grad(h.sum(), [p for _, p in params],
                                        allow_unused=True) if params else []
        finally:
            for m, mode in zip(trunk.modules(), modes):
                m.training = mode
        used = [n for (n, p), g in zip(params, grads) if g is not None and p.ndim >= 2]
        if not used:
            used = [n for (n, p), g in zip(params, grads) if g is not None]
        self._last_shared_name = used[-1] if used else None
        return int(h.shape[1])

    def get_iterator(self, dataset, training=False):
        if training and self.iterator_train is None:
            kwargs = self.get_params_for("iterator_train")
            kwargs.setdefault("batch_size", self.batch_size)
            kwargs.setdefault("steps_per_epoch", self.steps_per_epoch)
            kwargs.setdefault("seed", int(torch.randint(0, 2**31 - 1, (1,))))
            return _RowStream(dataset, **kwargs)
        if not training and self.iterator_valid is TensorBatchIterator:
            kwargs = self.get_params_for("iterator_valid")
            kwargs.setdefault("batch_size", max(self.batch_size, 256))
            return TensorBatchIterator(dataset, **kwargs)
        return super().get_iterator(dataset, training=training)

    def task_losses(self, y_pred, y_true):
        """Each task's loss over the rows of a batch labeled for it.

        Parameters
        ----------
        y_pred : torch.Tensor of shape (n, sum of the tasks' classes)
            The concatenated logits of the heads.
        y_true : torch.Tensor of shape (n, n_tasks)
            Class codes, ``-1`` where a row lacks a task's label.

        Returns
        -------
        losses : list of torch.Tensor or None
            None for a task with no labeled row in the batch.
        """
        y_true = to_device(torch.as_tensor(y_true), y_pred.device).long()
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        logits = torch.split(y_pred, [len(c) for c in self._classes], dim=1)
        return masked_task_losses(logits, y_true, self.criterion_)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The combined loss of the tasks, as ``weighting`` combines them."""
        losses = self.task_losses(y_pred, y_true)
        present = [L for L in losses if L is not None]
        if not present:
            return y_pred.sum() * 0.0
        if self.weighting == "uncertainty":
            return uncertainty_weighted_loss(losses, self.module_.log_vars)
        if self.weighting == "gradnorm":
            w = self.module_.task_weights.detach()
            return sum(w[t] * L for t, L in enumerate(losses) if L is not None)
        return sum(present)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi, yi = to_device(Xi, self.device), to_device(yi, self.device)
        y_pred = self.infer(Xi, **fit_params)
        if self.weighting == "pcgrad":
            loss = self._pcgrad_backward(self.task_losses(y_pred, yi), y_pred)
        elif self.weighting == "gradnorm":
            loss = self._gradnorm_backward(self.task_losses(y_pred, yi), y_pred)
        else:
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
            loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        step = super().train_step(batch, **fit_params)
        if self.weighting == "gradnorm":
            # Chen et al.: weights stay positive and sum to the number of tasks.
            with torch.no_grad():
                w = self.module_.task_weights
                w.clamp_(min=1e-3)
                w.mul_(len(w) / w.sum())
        return step

    def _pcgrad_backward(self, losses, y_pred):
        present = [t for t, L in enumerate(losses) if L is not None]
        total = sum(losses[t] for t in present) if present else y_pred.sum() * 0.0
        if len(present) < 2:
            total.backward()
            return total
        shared = [p for p in self.module_.trunk.parameters() if p.requires_grad]
        heads = [p for p in self.module_.heads.parameters() if p.requires_grad]
        flat, head_grads = [], [None] * len(heads)
        for k, t in enumerate(present):
            grads = torch.autograd.grad(losses[t], shared + heads,
                                        retain_graph=k < len(present) - 1,
                                        allow_unused=True)
            flat.append(torch.cat([
                (torch.zeros_like(p) if g is None else g).flatten()
                for p, g in zip(shared, grads[:len(shared)])]))
            for i, g in enumerate(grads[len(shared):]):
                if g is not None:
                    head_grads[i] = g if head_grads[i] is None else head_grads[i] + g
        projected = torch.stack(pcgrad_project(flat, self.pcgrad_generator_)).sum(0)
        start = 0
        for p in shared:
            n = p.numel()
            p.grad = projected[start:start + n].view_as(p).clone()
            start += n
        for p, g in zip(heads, head_grads):
            if g is not None:
                p.grad = g
        return total.detach()

    def _gradnorm_backward(self, losses, y_pred):
        w = self.module_.task_weights
        present = [t for t, L in enumerate(losses) if L is not None]
        if not present:
            total = y_pred.sum() * 0.0
            total.backward()
            return total
        with torch.no_grad():
            L0 = self.initial_losses_
            for t in present:
                if torch.isnan(L0[t]):
                    L0[t] = losses[t].detach().to(L0.device)
        total = sum(w[t].detach() * losses[t] for t in present)
        if len(present) >= 2 and self._last_shared_name is not None:
            layer = self.module_.trunk.get_parameter(self._last_shared_name)
            norms = torch.stack([
                torch.linalg.vector_norm(torch.autograd.grad(
                    losses[t], layer, retain_graph=True)[0]) for t in present])
            idx = torch.as_tensor(present, device=w.device)
            # ||d(w_t L_t)/dW|| = w_t ||dL_t/dW|| (w_t > 0).
            G = w[idx] * norms.detach()
            current = torch.stack([losses[t].detach() for t in present])
            g_loss = gradnorm_loss(G, current, L0[idx].to(current.device),
                                   alpha=self.gradnorm_alpha)
            w.grad = torch.autograd.grad(g_loss, w)[0]
        total.backward()
        return total.detach()

    # ------------------------------------------------------------------ fit
    def _encode(self, y, classes=None):
        who = type(self).__name__
        if y is None:
            raise ValueError(
                f"{who} requires y to be passed, but the target y is None.")
        if isinstance(y, torch.Tensor):
            y = y.detach().cpu().numpy()
        y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
        single = y.ndim == 1
        Y = y.reshape(-1, 1) if single else y
        if Y.ndim != 2:
            raise ValueError(
                f"y must be 1-D or 2-D (n_samples, n_tasks), got shape {y.shape}.")
        codes = np.full(Y.shape, -1, dtype=np.int64)
        found = []
        for t in range(Y.shape[1]):
            col = Y[:, t]
            if col.dtype == object and all(
                    isinstance(v, numbers.Integral) and not isinstance(v, bool)
                    for v in col):
                col = col.astype(np.int64)  # a numeric column of a mixed 2-D target
            if col.dtype.kind == "f" and np.isnan(col).any():
                raise ValueError(
                    f"{who}: y[:, {t}] contains NaN. Mark a missing label with -1 "
                    "(sklabelfree.UNLABELED), not NaN.")
            if not labeled_mask(col).any():
                if classes is not None:
                    found.append(classes[t])
                    continue
                raise ValueError(
                    f"{who}: task {t} has no labeled row (every entry of y[:, {t}] is "
                    "-1); drop that column or label some rows.")
            name = who if single else f"{who} (task {t})"
            if classes is None:
                col, labeled, cls = check_partially_labeled(
                    col, warn_all_labeled=False, allow_negative_labels=False,
                    estimator_name=name)
            else:
                col, labeled, _ = check_partially_labeled(
                    col, min_classes=0, warn_all_labeled=False,
                    allow_negative_labels=False, estimator_name=name)
                cls = classes[t]
                unknown = sorted({v for v in col[labeled].tolist()} - set(cls.tolist()),
                                 key=str)
                if unknown:
                    raise ValueError(
                        f"{name}: labels {unknown} were not seen in fit "
                        f"(classes {cls.tolist()}).")
            lookup = {c: i for i, c in enumerate(cls.tolist())}
            codes[labeled, t] = [lookup[c] for c in col[labeled].tolist()]
            found.append(cls)
        return codes, found, single

    def _train(self, X, codes, fit_params):
        rows = np.flatnonzero((codes >= 0).any(axis=1))
        X_rows = X[torch.as_tensor(rows)] if isinstance(X, torch.Tensor) else X[rows]
        self.pcgrad_generator_ = torch.Generator()
        self.pcgrad_generator_.manual_seed(int(torch.randint(0, 2**31 - 1, (1,))))
        NeuralNet.partial_fit(self, X_rows, codes[rows], **fit_params)

    def fit(self, X, y, **fit_params):
        """Train the trunk and the heads on every task's labeled rows.

        Parameters
        ----------
        X : array-like or tensor of shape (n, d), (n, c, L) or (n, c, h, w)
            Cast to float32.
        y : array-like of shape (n,) or (n, n_tasks)
            Labels of each task, ``-1`` where a row has no label for a task.
            Every task needs two classes among its labeled rows.
        **fit_params : dict
            Passed to the trunk's ``forward``.

        Returns
        -------
        self
        """
        self._check_own_params()
        X_in, X = X, check_net_input(X, owner=type(self).__name__)
        codes, classes, single = self._encode(y)
        if X.shape[0] != codes.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} rows but y has {codes.shape[0]}: they must have "
                "the same number of rows.")
        # Checked before any state changes: a refused y leaves the net intact.
        # The classes are compared per task (one list of classes per task).
        _check_warm_start(self, X.shape[1:], [c.tolist() for c in classes],
                          [c.tolist() for c in getattr(self, "_classes", [])])
        self._classes = classes
        self._single = single
        self.classes_ = classes[0] if single else classes
        self.n_tasks_ = len(classes)
        _record_input_shape(self, X)
        _check_feature_names(self, X_in, reset=True)
        with self._seeded():
            if not self.warm_start or not self.initialized_:
                self.initialize()
            self.initial_losses_ = torch.full((self.n_tasks_,), float("nan"))
            self._train(X, codes, fit_params)
        return self

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train ``max_epochs`` more epochs without re-initialising.

        On an unfitted net this is :meth:`fit`. Later calls keep the sample
        shape and the tasks of the first; their labels must be classes seen
        by it.

        Parameters
        ----------
        X : array-like or tensor
        y : array-like of shape (n,) or (n, n_tasks)
        classes : None
            Unused; the classes are those of the first call.
        **fit_params : dict

        Returns
        -------
        self
        """
        if not getattr(self, "initialized_", False) or not hasattr(self, "input_shape_"):
            return self.fit(X, y, **fit_params)
        _check_feature_names(self, X, reset=False)
        X = check_net_input(X, expected_shape=self.input_shape_,
                            owner=type(self).__name__)
        codes, _, single = self._encode(y, classes=self._classes)
        if codes.shape[1] != self.n_tasks_ or single != self._single:
            raise ValueError(
                f"y has {codes.shape[1]} task(s); the net was fitted on {self.n_tasks_}.")
        if X.shape[0] != codes.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {codes.shape[0]}.")
        if not (codes >= 0).any():
            raise ValueError("partial_fit needs at least one labeled entry (y != -1).")
        with self._seeded():
            self._train(X, codes, fit_params)
        return self

    @property
    def task_weights_(self):
        check_is_fitted(self, "input_shape_")
        if self.weighting == "uncertainty":
            return torch.exp(-self.module_.log_vars.detach()).cpu().numpy()
        if self.weighting == "gradnorm":
            return self.module_.task_weights.detach().cpu().numpy().copy()
        return np.ones(self.n_tasks_)

    # ------------------------------------------------------------------ predict
    def _task_logits(self, X):
        check_is_fitted(self, "input_shape_")
        _check_feature_names(self, X, reset=False)
        X = check_net_input(X, expected_shape=self.input_shape_,
                            owner=type(self).__name__)
        logits = self.forward(X, training=False, device="cpu")
        return torch.split(logits, [len(c) for c in self._classes], dim=1)

    def predict_proba(self, X):
        """Class probabilities of each task.

        Parameters
        ----------
        X : array-like or tensor
            Same sample shape as in ``fit``.

        Returns
        -------
        proba : list of ndarray of shape (n_samples, n_classes_t), one per
            task, or one such array when ``y`` was 1-D.
        """
        out = [torch.softmax(z.float(), dim=1).numpy() for z in self._task_logits(X)]
        return out[0] if self._single else out

    def decision_function(self, X):
        """The heads' logits of each task.

        For a task with two classes, as in scikit-learn, the logit of the
        second class minus that of the first (one column); when every task
        has two classes, these are the columns of one array, as in
        :class:`MultiTaskLinearClassifier`.

        Parameters
        ----------
        X : array-like or tensor

        Returns
        -------
        scores : ndarray, or a list of one array per task when ``y`` was 2-D
            and a task has more than two classes
        """
        out = [(z[:, 1] - z[:, 0]).numpy() if z.shape[1] == 2 else z.numpy()
               for z in self._task_logits(X)]
        if self._single:
            return out[0]
        if all(o.ndim == 1 for o in out):
            return np.column_stack(out)
        return out

    def predict(self, X):
        """The most likely class of each task, in the labels of ``y``.

        Parameters
        ----------
        X : array-like or tensor

        Returns
        -------
        y : ndarray of shape (n_samples, n_tasks), or (n_samples,) when ``y``
            was 1-D.
        """
        logits = self._task_logits(X)
        cols = [cls[z.argmax(dim=1).numpy()] for cls, z in zip(self._classes, logits)]
        if self._single:
            return cols[0]
        if any(c.dtype == object for c in cols):
            return np.column_stack([c.astype(object) for c in cols])
        return np.column_stack(cols)

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of the accuracy on the rows labeled for that task.

        Parameters
        ----------
        X : array-like or tensor
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            ``-1`` marks entries to ignore.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        return multitask_accuracy(y, self.predict(X), sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_label = False
        tags.non_deterministic = False
        return tags
