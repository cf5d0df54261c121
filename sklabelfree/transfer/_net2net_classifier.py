"""A network that grows during training by Net2Net transformations."""

import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from skorch.callbacks import Callback
from sklearn.utils._param_validation import Interval

from ..semi_supervised import SupervisedNetClassifier
from ..utils.validation import AllLabeledWarning
from .net2net import deepen, widen, widenable_layers

__all__ = ["Net2NetClassifier"]

_OPS = ("widen", "deepen")


class _Growth(Callback):
    """Applies the schedule's growth steps at the end of their epochs."""

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        for at, op in net.schedule_:
            if at == epoch:
                net.grow(op)

    def on_train_end(self, net, **kwargs):
        net.__dict__.pop("_growth_data", None)


class Net2NetClassifier(SupervisedNetClassifier):
    """A network trained small, then grown by function-preserving Net2Net steps.

    Chen, Goodfellow & Shlens (2016): a small network learns first; at the
    epochs of ``schedule`` it is made wider (every hidden layer gets
    ``widen_factor`` times its units, :func:`~sklabelfree.transfer.net2net.widen`)
    or deeper (an identity layer after the last hidden layer,
    :func:`~sklabelfree.transfer.net2net.deepen`; a new batch norm is set
    from the statistics of the labeled rows, as the paper does), computing
    the same function, and training goes on with the larger network from where
    the small one stopped (warm start) instead of from scratch. The
    optimizer is rebuilt over the new parameters, and the moving average of
    the weights (``ema_decay``) restarts from the grown network. Each step's
    training loss before and after growing is recorded in ``growth_``: equal
    up to floating point, since the function is preserved.

    The network is trained on the labeled rows (rows labeled ``-1`` are
    ignored) with the options of :class:`~sklabelfree.semi_supervised.SupervisedNetClassifier`.
    Start from a narrow network with ``module__width``.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
        The initial (small) network; None picks an MLP or ConvNet from the
        input shape. Widening and deepening follow the modules in
        registration order (see :mod:`sklabelfree.transfer.net2net`).
    schedule : sequence of (int, {'widen', 'deepen'}), default=((10, 'widen'),)
        Growth steps: at the end of epoch ``e`` (counted from 1), apply the
        operation. Every epoch must be smaller than ``max_epochs``. ``fit``
        checks before training that the network can take each kind of step
        ('deepen' needs a ReLU after the last hidden layer).
    widen_factor : float > 1, default=2.0
        Each hidden layer's new width is ``ceil(width * widen_factor)``.
    noise_std : float, default=0.0
        Symmetry-breaking noise on the copies' outgoing weights, centred so
        that the function is still preserved (see
        :func:`~sklabelfree.transfer.net2net.widen`).
    lr, max_epochs, batch_size, steps_per_epoch, augment, random_state, device, verbose, ema_decay, lr_schedule, mixup_alpha, cutout
        As in :class:`~sklabelfree.semi_supervised.SupervisedNetClassifier`.
    **kwargs
        Other skorch parameters (``module__width``, ``optimizer__weight_decay``...).

    Attributes
    ----------
    growth_ : list of dict
        One entry per growth step: ``epoch``, ``op``, ``n_params_before``,
        ``n_params_after``, ``loss_before``, ``loss_after`` (cross-entropy on
        up to 2048 labeled training rows, evaluation mode).
    schedule_ : list of (int, str)
        The validated schedule, sorted by epoch.
    module_ : torch.nn.Module
        The grown network.
    classes_, history_, ema_module_, input_shape_
        As in :class:`~sklabelfree.semi_supervised.SupervisedNetClassifier`.

    References
    ----------
    T. Chen, I. Goodfellow and J. Shlens, "Net2Net: Accelerating learning
    via knowledge transfer", ICLR 2016.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklabelfree.transfer import Net2NetClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = Net2NetClassifier(schedule=[(2, "widen"), (3, "deepen")], max_epochs=4,
    ...                         module__width=8, random_state=0)
    >>> clf = clf.fit((X / 16).astype("float32"), y)
    >>> [(g["epoch"], g["op"]) for g in clf.growth_]
    [(2, 'widen'), (3, 'deepen')]
    >>> g = clf.growth_[0]
    >>> abs(g["loss_after"] - g["loss_before"]) < 1e-4, g["n_params_after"] > g["n_params_before"]
    (True, True)
    """

    _parameter_constraints: dict = {
        "schedule": ["array-like"],
        "widen_factor": [Interval(Real, 1, None, closed="neither")],
        "noise_std": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, module=None, *, schedule=((10, "widen"),), widen_factor=2.0,
                 noise_std=0.0, mixup_alpha=0.0, cutout=0.0, lr=3e-3, max_epochs=30,
                 batch_size=32, steps_per_epoch=None, augment="auto", random_state=None,
                 device="cpu", verbose=0, ema_decay=0.99, lr_schedule="cosine", **kwargs):
        super().__init__(module, mixup_alpha=mixup_alpha, cutout=cutout, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size,
                         steps_per_epoch=steps_per_epoch, augment=augment,
                         random_state=random_state, device=device, verbose=verbose,
                         ema_decay=ema_decay, lr_schedule=lr_schedule, **kwargs)
        self.schedule = schedule
        self.widen_factor = widen_factor
        self.noise_std = noise_std

    # A supervised learner: a fully labeled y is the normal case (no
    # AllLabeledWarning); rows labeled -1 are ignored, not learned from.
    _sklabelfree_semi_supervised = False

    def get_default_callbacks(self):
        return [*super().get_default_callbacks(), ("net2net_growth", _Growth())]

    def _encode_target(self, y, *args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AllLabeledWarning)
            return super()._encode_target(y, *args, **kwargs)

    def _check_schedule(self):
        steps = []
        for item in self.schedule:
            try:
                at, op = item
            except (TypeError, ValueError):
                raise ValueError(
                    f"schedule entries are (epoch, 'widen' | 'deepen') pairs; got {item!r}."
                ) from None
            if not isinstance(at, Integral) or isinstance(at, bool) or at < 1:
                raise ValueError(f"schedule epochs are integers >= 1; got {at!r}.")
            if op not in _OPS:
                raise ValueError(f"schedule operations are 'widen' or 'deepen'; got {op!r}.")
            if at >= self.max_epochs:
                raise ValueError(
                    f"the growth step at epoch {at} would never be trained: max_epochs="
                    f"{self.max_epochs}. Grow before the last epoch.")
            steps.append((int(at), op))
        return sorted(steps, key=lambda s: s[0])

    def fit(self, X, y, sample_weight=None, **fit_params):
        """Train, growing the network at the epochs of ``schedule``.

        Parameters
        ----------
        X : array-like or tensor of shape (n, d), (n, c, L) or (n, c, h, w)
        y : array-like of shape (n,)
            Labels; rows labeled ``-1`` are ignored.
        sample_weight : array-like of shape (n,), default=None
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        self
        """
        self.schedule_ = self._check_schedule()
        self.growth_ = []
        return super().fit(X, y, sample_weight=sample_weight, **fit_params)

    def _check_module_fits(self, X, fit_params):
        """Also refuse, before training, a schedule the network cannot follow."""
        super()._check_module_fits(X, fit_params)
        ops = {op for _, op in getattr(self, "schedule_", [])}
        # A dry run of each kind of step on a copy: the growth steps raise
        # their own clear errors. The new layers' initialisation must not
        # move the seeded torch stream.
        for op in _OPS:
            if op not in ops:
                continue
            try:
                with torch.random.fork_rng(devices=[]):
                    self._grown(self.module_, op, np.random.RandomState(0), on_copy=True)
            except ValueError as exc:
                raise ValueError(
                    f"{type(self).__name__}: the schedule has a {op!r} step that this "
                    f"network cannot take: {exc}") from exc

    def _grown(self, module, op, rng, data=None, on_copy=False):
        """``module`` after one growth step (on a deep copy with ``on_copy``)."""
        layers = widenable_layers(module)
        if not layers:
            raise ValueError(f"{type(module).__name__} has no hidden layer to grow.")
        if op == "deepen":
            return deepen(module, list(layers)[-1], data=data, copy=on_copy)
        for name, units in layers.items():
            module = widen(module, name, int(math.ceil(units * self.widen_factor)),
                           noise_std=self.noise_std, random_state=rng, copy=on_copy)
            on_copy = False  # the copy, once made, grows in place
        return module

    def prepare_fit(self, X, codes):
        super().prepare_fit(X, codes)
        rows = np.flatnonzero(codes >= 0)[:2048]
        self._growth_data = (X[rows], codes[rows])

    def _labeled_loss(self):
        X, codes = self._growth_data
        module = self.module_
        was_training = module.training
        module.eval()
        with torch.no_grad():
            xb = torch.as_tensor(np.asarray(X), device=self.device)
            yb = torch.as_tensor(np.asarray(codes), device=self.device)
            loss = torch.nn.functional.cross_entropy(module(xb), yb)
        module.train(was_training)
        return float(loss)

    def grow(self, op):
        """Apply one growth step now: ``'widen'`` or ``'deepen'``.

        Called by the training loop at the epochs of ``schedule``; it can
        also be called on a fitted net before ``partial_fit``.

        Parameters
        ----------
        op : {'widen', 'deepen'}

        Returns
        -------
        self
        """
        if op not in _OPS:
            raise ValueError(f"op must be 'widen' or 'deepen', got {op!r}.")
        module = self.module_
        n_before = sum(p.numel() for p in module.parameters())
        has_data = hasattr(self, "_growth_data")
        loss_before = self._labeled_loss() if has_data else float("nan")
        seed = None if self.random_state is None else int(self.random_state) + len(
            getattr(self, "growth_", []))
        data = None
        if op == "deepen" and has_data:
            data = torch.as_tensor(np.asarray(self._growth_data[0]), device=self.device)
        grown = self._grown(module, op, np.random.RandomState(seed), data=data)
        self.module_ = grown
        if getattr(self, "ema_module_", None) is not None:
            ema = copy.deepcopy(grown)
            for p in ema.parameters():
                p.requires_grad_(False)
            self.ema_module_ = ema
        self.initialize_optimizer()
        record = dict(
            epoch=len(self.history), op=op, n_params_before=int(n_before),
            n_params_after=int(sum(p.numel() for p in grown.parameters())),
            loss_before=loss_before,
            loss_after=self._labeled_loss() if has_data else float("nan"),
        )
        if not hasattr(self, "growth_"):
            self.growth_ = []
        self.growth_.append(record)
        return self
