"""Mean teacher: agree with a teacher whose weights average the student's."""

import copy
from numbers import Real

import torch
from skorch.utils import to_tensor
from sklearn.utils._param_validation import Interval, StrOptions

from ..neural import BaseSemiSupervisedNet, EMATeacher, RampUp
from ..nn.losses import mean_teacher_consistency_loss

__all__ = ["MeanTeacherClassifier"]


class MeanTeacherClassifier(BaseSemiSupervisedNet):
    """Mean teacher (Tarvainen & Valpola 2017): a weight-averaged teacher gives the targets.

    The teacher is a copy of the network (``teacher_module_``) whose
    weights follow the exponential moving average of the student's
    (``module_``) after each optimizer step,
    ``theta'_t = a theta'_{t-1} + (1 - a) theta_t`` (the
    :class:`~sklabelfree.neural.EMATeacher` callback, registered as
    ``'ema_teacher'``). Each step the student and the teacher see
    differently augmented views of every row of the batch (labeled and
    unlabeled), each with its own dropout; the teacher runs without
    gradient and the student is trained on

    ``loss = CE(labeled, student) + w(t) 1/(C |B|) sum_b ||p_student_b - p_teacher_b||^2``

    with ``w(t) = consistency_weight * exp(-5 (1 - t / rampup_epochs)^2)``
    during the ramp-up (``t`` in fractional epochs) and
    ``consistency_weight`` after.

    The decay is ``ema_decay`` during the ramp-up and
    ``ema_decay_after_rampup`` after it (the paper: 0.99 then 0.999, over
    runs of tens of thousands of steps). The default here is 0.95
    throughout: a default fit on digits is ~300 steps, 0.99 averages over
    ~100 of them and 0.999 over ~1000, and 0.95 gave a better teacher in
    our runs (digits, 50 labels: +2 to +3 points over 0.99). As in the
    authors' code, the ``k``-th
    update uses ``min(decay, 1 - 1/(k + 1))``, so the early teacher is the
    plain average of the weights so far rather than the random
    initialisation. The teacher keeps its own batch-norm statistics, which
    its forward passes in training mode update (as in the authors' code), so
    they match its averaged weights; ``callbacks__ema_teacher__buffers='copy'``
    copies the student's instead.

    ``predict``, ``predict_proba`` and validation use the teacher by default
    (``predict_with='teacher'``: the paper reports the teacher's accuracy,
    usually the better one); ``'student'`` uses the trained network.

    Read more in the :ref:`User Guide <deep_ssl>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
    consistency_weight : float, default=30.0
        Maximum weight ``w_max`` of the consistency cost.
    rampup_epochs : float, default=10
        Length of the sigmoid ramp-up of the weight, in epochs; it also
        ends the ``ema_decay`` phase.
    ema_decay : float in [0, 1], default=0.95
        Decay of the teacher's moving average during the ramp-up (and
        after it unless ``ema_decay_after_rampup`` is set).
    ema_decay_after_rampup : float in [0, 1] or None, default=None
        Decay after the ramp-up; None keeps ``ema_decay``.
    predict_with : {'teacher', 'student'}, default='teacher'
        Network used for predictions.
    mu : float, default=4
        Unlabeled-part rows per labeled row in a step.
    lr : float, default=3e-3
    max_epochs : int, default=30
    batch_size : int, default=32
    steps_per_epoch : int or None, default=None
    augment : 'auto', callable or None, default='auto'
    random_state : int or None, default=None
    device : str, default='cpu'
    verbose : int, default=0
    **kwargs
        Other skorch parameters (``callbacks__ema_teacher__warmup=False``...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    module_ : torch.nn.Module
        The student.
    teacher_module_ : torch.nn.Module
        The teacher: same architecture, parameters with
        ``requires_grad=False``, never given to the optimizer.
    history_ : skorch History
        Per batch also ``consistency_loss`` and ``consistency_weight``.
    input_shape_ : tuple
    n_features_in_ : int
        Number of features seen in ``fit``, for rows ``(n, d)``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of a DataFrame ``X`` given to ``fit``, when they are all
        strings; ``predict`` refuses other or reordered columns.

    See Also
    --------
    TemporalEnsemblingClassifier : Averages predictions instead of weights.
    PiModelClassifier : The target is a second pass of the same network.

    References
    ----------
    .. [1] A. Tarvainen, H. Valpola, "Mean teachers are better role models:
       Weight-averaged consistency targets improve semi-supervised deep
       learning results", NeurIPS 2017.

    Examples
    --------
    >>> from sklabelfree.datasets import digits_benchmark_split
    >>> from sklabelfree.semi_supervised import MeanTeacherClassifier
    >>> X, y, X_test, y_test, _ = digits_benchmark_split(50, as_images=True)
    >>> clf = MeanTeacherClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 10)
    """

    _parameter_constraints: dict = {
        "consistency_weight": [Interval(Real, 0, None, closed="left")],
        "rampup_epochs": [Interval(Real, 0, None, closed="left")],
        "ema_decay": [Interval(Real, 0, 1, closed="both")],
        "ema_decay_after_rampup": [Interval(Real, 0, 1, closed="both"), None],
        "predict_with": [StrOptions({"teacher", "student"})],
    }

    def __init__(self, module=None, *, consistency_weight=30.0, rampup_epochs=10,
                 ema_decay=0.95, ema_decay_after_rampup=None, predict_with="teacher",
                 lr=3e-3, max_epochs=30, batch_size=32, mu=4, steps_per_epoch=None,
                 augment="auto", random_state=None, device="cpu", verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         steps_per_epoch=steps_per_epoch, augment=augment,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.mu = mu
        self.consistency_weight = consistency_weight
        self.rampup_epochs = rampup_epochs
        self.ema_decay = ema_decay
        self.ema_decay_after_rampup = ema_decay_after_rampup
        self.predict_with = predict_with

    # ----------------------------------------------------------------- skorch hooks
    def get_default_callbacks(self):
        return [*super().get_default_callbacks(), ("ema_teacher", EMATeacher())]

    def initialize_module(self):
        super().initialize_module()
        # Set inside initialize_module, so skorch registers it as a module
        # (device moves, train/eval mode, pickling).
        teacher = copy.deepcopy(self.module_)
        for p in teacher.parameters():
            p.requires_grad_(False)
        self.teacher_module_ = teacher
        return self

    def get_all_learnable_params(self):
        # The teacher follows the student by EMA, never by gradient.
        teacher = getattr(self, "teacher_module_", None)
        frozen = set() if teacher is None else {id(p) for p in teacher.parameters()}
        for name, param in super().get_all_learnable_params():
            if id(param) not in frozen:
                yield name, param

    def infer(self, x, **fit_params):
        # Training steps call the student; in eval mode (predict, validation)
        # the teacher answers when predict_with='teacher'.
        if self.predict_with == "teacher" and not self.module_.training:
            return self.infer_teacher(x, **fit_params)
        return super().infer(x, **fit_params)

    def infer_teacher(self, x, **fit_params):
        """Forward pass of the teacher (no gradient)."""
        with torch.no_grad():
            return self.teacher_module_(to_tensor(x, device=self.device), **fit_params)

    # ----------------------------------------------------------------- training
    def current_consistency_weight(self):
        """``w(t)`` at the current step (before the step is counted)."""
        return RampUp(self.consistency_weight, self.rampup_epochs)(self.progress())

    def current_ema_decay(self):
        """The teacher's decay now: ``ema_decay`` during the ramp-up, then the other."""
        if self.ema_decay_after_rampup is None or self.progress() < self.rampup_epochs:
            return float(self.ema_decay)
        return float(self.ema_decay_after_rampup)

    def compute_loss(self, batch, **fit_params):
        n_l = batch.x_l.shape[0]
        x = torch.cat([batch.x_l, batch.x_u])
        student_logits = super().infer(self.weak(x), **fit_params)
        logits_l = student_logits[:n_l]
        loss = self.get_loss(logits_l, batch.y_l, training=True)
        teacher_logits = self.infer_teacher(self.weak(x), **fit_params)
        weight = self.current_consistency_weight()
        loss_c = mean_teacher_consistency_loss(student_logits, teacher_logits)
        loss = loss + weight * loss_c
        self.history.record_batch("consistency_loss", float(loss_c.detach()))
        self.history.record_batch("consistency_weight", weight)
        return loss, logits_l
