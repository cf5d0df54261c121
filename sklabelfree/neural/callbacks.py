"""skorch callbacks and schedules shared by the deep methods."""

from numbers import Real

import torch
from skorch.callbacks import Callback

from ..nn.functional import ema_update, linear_rampup, sigmoid_rampup

__all__ = ["EMATeacher", "RampUp"]


class RampUp:
    """A weight that ramps up from (almost) 0 to ``max_value`` over ``length`` epochs.

    ``w(t) = max_value * r(t / length)`` with ``t`` in (fractional) epochs
    and ``r`` clipped to 1 after the ramp:

    - ``'sigmoid'``: ``r(x) = exp(-5 (1 - x)^2)``, the Gaussian ramp of
      Laine & Aila (2017) and Tarvainen & Valpola (2017): ``exp(-5)
      max_value`` (0.0067 of it) at ``t = 0``;
    - ``'linear'``: ``r(x) = x`` (Lee 2013, MixMatch);
    - ``'constant'``: ``r = 1`` from the start.

    ``length=0`` gives ``max_value`` from the start whatever the kind.

    Parameters
    ----------
    max_value : float, default=1.0
    length : float, default=5
        Epochs of the ramp.
    kind : {'sigmoid', 'linear', 'constant'}, default='sigmoid'

    Examples
    --------
    >>> from sklabelfree.neural import RampUp
    >>> ramp = RampUp(10.0, length=4)
    >>> round(ramp(0), 4), ramp(4), ramp(100)
    (0.0674, 10.0, 10.0)
    >>> RampUp(1.0, length=4, kind="linear")(1)
    0.25
    """

    def __init__(self, max_value=1.0, length=5, kind="sigmoid"):
        self.max_value = max_value
        self.length = length
        self.kind = kind

    def __call__(self, epoch):
        if self.kind == "sigmoid":
            r = sigmoid_rampup(epoch, self.length)
        elif self.kind == "linear":
            r = linear_rampup(epoch, self.length)
        elif self.kind == "constant":
            r = 1.0
        else:
            raise ValueError(
                f"kind must be 'sigmoid', 'linear' or 'constant', got {self.kind!r}.")
        return float(self.max_value) * r

    def __repr__(self):
        return (f"RampUp(max_value={self.max_value!r}, length={self.length!r}, "
                f"kind={self.kind!r})")


class EMATeacher(Callback):
    """Keep a teacher module at the exponential moving average of the student's weights.

    After every training step (``on_batch_end``, which skorch calls after
    the optimizer step) the teacher's parameters become
    ``theta' <- a theta' + (1 - a) theta`` (Tarvainen & Valpola 2017).

    The decay ``a`` of the ``k``-th update (``k = 1, 2, ...``, counted
    since the net was initialised) is

    ``a_k = min(decay, 1 - 1 / (k + 1))`` with ``warmup=True``, else ``decay``,

    as in the authors' code: early on the teacher is the plain average of
    the student's weights so far (the initial weights included), so it
    does not keep the random initialisation for ``1 / (1 - decay)`` steps.

    Buffers (batch-norm running statistics) are either copied from the
    student (``buffers='copy'``) or left to the teacher (``'own'``, as in
    the authors' code): the teacher's own forward passes in training mode
    keep its statistics in line with its averaged weights. Use ``'copy'``
    when the teacher never runs in training mode.

    Parameters
    ----------
    decay : float in [0, 1] or None, default=None
        None asks the net: ``net.current_ema_decay()`` (the mean teacher's
        ``ema_decay`` during the ramp-up, ``ema_decay_after_rampup`` after).
    teacher : str, default='teacher_module\\_'
        Attribute of the net holding the teacher.
    student : str, default='module\\_'
        Attribute of the net holding the student.
    warmup : bool, default=True
    buffers : {'own', 'copy'}, default='own'

    Attributes
    ----------
    n_updates_ : int
        Updates done since the net was initialised.
    last_decay_ : float or None
        Decay of the last update.

    Examples
    --------
    >>> from sklabelfree.neural import EMATeacher
    >>> cb = EMATeacher(decay=0.99).initialize()
    >>> cb.get_decay(None, 1), cb.get_decay(None, 1000)
    (0.5, 0.99)
    """

    def __init__(self, decay=None, teacher="teacher_module_", student="module_",
                 warmup=True, buffers="own"):
        self.decay = decay
        self.teacher = teacher
        self.student = student
        self.warmup = warmup
        self.buffers = buffers

    def initialize(self):
        if self.decay is not None and (not isinstance(self.decay, Real)
                                       or not 0 <= self.decay <= 1):
            raise ValueError(f"decay must be in [0, 1] or None, got {self.decay!r}.")
        if self.buffers not in ("own", "copy"):
            raise ValueError(f"buffers must be 'own' or 'copy', got {self.buffers!r}.")
        self.n_updates_ = 0
        self.last_decay_ = None
        return self

    def get_decay(self, net, k):
        """Decay of the ``k``-th update."""
        decay = self.decay if self.decay is not None else net.current_ema_decay()
        if self.warmup:
            decay = min(float(decay), 1.0 - 1.0 / (k + 1))
        return float(decay)

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        self.n_updates_ += 1
        self.last_decay_ = self.get_decay(net, self.n_updates_)
        teacher, student = getattr(net, self.teacher), getattr(net, self.student)
        if self.buffers == "copy":
            ema_update(teacher, student, self.last_decay_)
            return
        with torch.no_grad():
            for t, s in zip(teacher.parameters(), student.parameters()):
                t.mul_(self.last_decay_).add_(s.detach(), alpha=1 - self.last_decay_)
