"""Weight averaging for evaluation and a cosine learning-rate decay.

FixMatch (Sohn et al. 2020) and MixMatch (Berthelot et al. 2019) both
evaluate an exponential moving average (EMA) of the trained weights, and
FixMatch decays its learning rate with ``lr cos(7 pi k / (16 K))`` over the
``K`` training steps. :class:`EMAEvalMixin` adds both to a
:class:`~sklabelfree.neural.BaseSemiSupervisedNet` subclass as two
parameters, ``ema_decay`` and ``lr_schedule``.
"""

import copy
import math
from numbers import Real

import torch
from skorch.callbacks import Callback
from skorch.utils import to_tensor
from sklearn.utils._param_validation import Interval, StrOptions

from ..nn.functional import ema_update

__all__ = ["CosineDecay", "EMAEvalMixin", "cosine_decay_factor"]


def cosine_decay_factor(progress, total, cycles=7 / 16):
    """Learning-rate factor ``cos(pi * cycles * min(progress / total, 1))``.

    With ``cycles = 7/16`` this is the decay of FixMatch (Sohn et al. 2020):
    the rate falls from ``lr`` to ``cos(7 pi / 16) lr`` (about ``0.2 lr``)
    at the last step, never to zero.

    Parameters
    ----------
    progress : float
        Steps (or epochs) done.
    total : float
        Steps (or epochs) of the whole training; ``<= 0`` gives 1.
    cycles : float, default=7/16

    Returns
    -------
    factor : float

    Examples
    --------
    >>> from sklabelfree.neural import cosine_decay_factor
    >>> cosine_decay_factor(0, 100), round(cosine_decay_factor(100, 100), 4)
    (1.0, 0.1951)
    """
    if total <= 0:
        return 1.0
    return math.cos(math.pi * cycles * min(max(progress / total, 0.0), 1.0))


class CosineDecay(Callback):
    """Set each parameter group's rate to its initial rate times the cosine decay.

    Before every training step, ``lr_k = lr_0 cos(7 pi k / (16 K))`` with
    ``k = net.n_steps_`` and ``K = net.max_epochs * net.steps_per_epoch_``
    (FixMatch's schedule). It does nothing when ``net.lr_schedule`` is
    ``'constant'``. The initial rate of each group is read at the start of
    each ``fit`` so that a rate set with ``set_params`` is honoured. ``k``
    counts the steps since ``fit``: once the ``K`` steps of the schedule
    are done, later ``partial_fit`` calls train at its final rate, ``lr_0
    cos(7 pi / 16)`` (about ``0.195 lr_0``), continuing the schedule rather
    than restarting it.

    Examples
    --------
    >>> from sklabelfree.neural import CosineDecay
    >>> CosineDecay().initialize()
    CosineDecay()
    """

    def initialize(self):
        self.base_lrs_ = None
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.base_lrs_ = [group["lr"] for group in net.optimizer_.param_groups]

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if not training or getattr(net, "lr_schedule", "constant") != "cosine":
            return
        if self.base_lrs_ is None:
            self.on_train_begin(net)
        total = net.max_epochs * max(1, getattr(net, "steps_per_epoch_", 1))
        factor = cosine_decay_factor(net.n_steps_, total)
        for group, lr in zip(net.optimizer_.param_groups, self.base_lrs_):
            group["lr"] = lr * factor

    def on_train_end(self, net, X=None, y=None, **kwargs):
        # Leave the optimizer at its initial rates between calls (what a
        # refit reads); the next step sets the scheduled rate again.
        if self.base_lrs_ is not None:
            for group, lr in zip(net.optimizer_.param_groups, self.base_lrs_):
                group["lr"] = lr

    def __repr__(self):
        return "CosineDecay()"


class _EMAUpdate(Callback):
    """After each training step, ``ema <- d ema + (1 - d) module`` (buffers copied)."""

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if (not training or getattr(net, "ema_module_", None) is None
                or net.ema_decay is None):
            return
        # As in the Mean Teacher code: the plain average of the weights so
        # far until 1 / (1 - decay) steps have passed.
        k = net.n_steps_
        decay = min(float(net.ema_decay), 1.0 - 1.0 / (k + 1))
        ema_update(net.ema_module_, net.module_, decay)


class EMAEvalMixin:
    """``ema_decay`` and ``lr_schedule`` for a semi-supervised net.

    - ``ema_decay=d``: a copy of the network, ``ema_module_``, follows the
      exponential moving average of the trained weights after every step
      (``d`` per step, the plain average of the weights so far for the
      first ``1 / (1 - d)`` steps; batch-norm statistics copied from the
      trained network); ``predict``, ``predict_proba`` and validation use it,
      training steps use the trained network. ``None`` evaluates the
      trained network.
    - ``lr_schedule='cosine'``: the :class:`CosineDecay` of FixMatch;
      ``'constant'`` keeps ``lr``.

    Put it before the net class in the bases and list its parameters in the
    subclass's ``__init__``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.neural import BaseSemiSupervisedNet, EMAEvalMixin
    >>> class AveragedNet(EMAEvalMixin, BaseSemiSupervisedNet):
    ...     def __init__(self, module=None, *, ema_decay=0.9, lr_schedule="cosine",
    ...                  **kwargs):
    ...         super().__init__(module, **kwargs)
    ...         self.ema_decay = ema_decay
    ...         self.lr_schedule = lr_schedule
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 4)).astype("float32")
    >>> y = np.where(np.arange(40) < 10, (X[:, 0] > 0).astype(int), -1)
    >>> net = AveragedNet(max_epochs=2, module__width=8, random_state=0).fit(X, y)
    >>> net.ema_module_ is not net.module_
    True
    """

    _parameter_constraints: dict = {
        "ema_decay": [Interval(Real, 0, 1, closed="left"), None],
        "lr_schedule": [StrOptions({"cosine", "constant"})],
    }

    def get_default_callbacks(self):
        return [*super().get_default_callbacks(), ("ema_eval", _EMAUpdate()),
                ("lr_schedule", CosineDecay())]

    def initialize_module(self):
        super().initialize_module()
        if self.ema_decay is None:
            self.ema_module_ = None
            return self
        # Set inside initialize_module so that skorch moves it with the
        # module (device, pickling).
        ema = copy.deepcopy(self.module_)
        for p in ema.parameters():
            p.requires_grad_(False)
        self.ema_module_ = ema
        return self

    def get_all_learnable_params(self):
        ema = getattr(self, "ema_module_", None)
        frozen = set() if ema is None else {id(p) for p in ema.parameters()}
        for name, param in super().get_all_learnable_params():
            if id(param) not in frozen:
                yield name, param

    def infer(self, x, **fit_params):
        ema = getattr(self, "ema_module_", None)
        # ema_decay set to None after a fit: the network itself answers.
        if ema is not None and self.ema_decay is not None and not self.module_.training:
            ema.eval()
            with torch.no_grad():
                return ema(to_tensor(x, device=self.device), **fit_params)
        return super().infer(x, **fit_params)
