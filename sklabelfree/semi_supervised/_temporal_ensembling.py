"""Temporal ensembling: agree with the average of each row's past predictions."""

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval

from ..neural import BaseSemiSupervisedNet, RampUp
from ..nn.losses import temporal_ensembling_consistency_loss, temporal_ensembling_targets

__all__ = ["TemporalEnsemblingClassifier"]


@torch.no_grad()
def _accumulate(ensemble, n_updates, idx, probs, alpha):
    """``Z[i] <- alpha Z[i] + (1 - alpha) z``, ``t[i] += 1`` for each ``(i, z)`` in order.

    A row that appears several times in ``idx`` is updated once per
    appearance, in order.
    """
    if idx.numel() == 0:
        return
    if torch.unique(idx).numel() == idx.numel():
        ensemble[idx] = alpha * ensemble[idx] + (1 - alpha) * probs
        n_updates[idx] += 1
        return
    for j in range(idx.numel()):
        i = idx[j]
        ensemble[i] = alpha * ensemble[i] + (1 - alpha) * probs[j]
        n_updates[i] += 1


class TemporalEnsemblingClassifier(BaseSemiSupervisedNet):
    """Temporal ensembling (Laine & Aila 2017): agree with the ensemble of past predictions.

    Every training row ``i`` keeps an accumulated prediction ``Z_i``
    (``ensemble_``, zero at the start). When row ``i`` is in the unlabeled
    part of a step (drawn from every row, labeled ones included), the
    network's probabilities ``z_i`` on an augmented view (with dropout) are
    pulled towards the bias-corrected ensemble target
    ``z~_i = Z_i / (1 - alpha^t_i)``, and then ``z_i`` is accumulated:

    ``loss = CE(labeled) + w(t) 1/(C |B|) sum_b ||z_b - z~_b||^2``,
    ``Z_i <- alpha Z_i + (1 - alpha) z_i``, ``t_i <- t_i + 1``.

    The paper updates ``Z`` once per epoch, after the epoch, with the
    outputs of that epoch, and corrects by ``1 - alpha^t`` with ``t`` the
    epoch count. Here an epoch is a fixed number of steps, so ``Z_i`` is
    updated each time row ``i`` is seen, and ``t_i`` counts the updates of
    that row (``ensemble_updates_``). The unlabeled part of the steps comes
    from a shuffled stream that visits every row once per pass, and by
    default an epoch is one pass (rounded up to whole steps), so each row
    is seen once per epoch: its target in pass ``t`` is made of its outputs
    of passes ``1 .. t-1``, weighted ``(1 - alpha) alpha^(t-1-k)`` and
    divided by ``1 - alpha^(t-1)``, exactly the paper's target with epochs
    read as passes. A row not yet seen has no target (it adds 0 to the
    sum but counts in ``|B|``; the paper uses a zero target in the first
    epoch, when ``w`` is ``~0`` anyway), and a row seen once gets its first
    prediction back.

    ``w(t) = consistency_weight * exp(-5 (1 - t / rampup_epochs)^2)``
    during the ramp-up (``t`` in fractional epochs), ``consistency_weight``
    after. ``consistency_weight`` is the maximum weight itself (the paper
    uses a weight scaled by the labeled fraction ``M / N``; see
    :class:`PiModelClassifier`). The network runs once per step, about
    half the cost of the Pi-model.

    Read more in the :ref:`User Guide <deep_ssl>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
    alpha : float in [0, 1), default=0.6
        Ensembling momentum.
    consistency_weight : float, default=30.0
        Maximum weight ``w_max`` of the consistency term.
    rampup_epochs : float, default=10
        Length of the sigmoid ramp-up of the weight, in epochs.
    mu : float, default=4
        Unlabeled-part rows per labeled row in a step.
    lr : float, default=3e-3
    max_epochs : int, default=50
        One pass of the network per step makes an epoch about half as
        costly as the Pi-model's, hence more epochs.
    batch_size : int, default=32
    steps_per_epoch : int or None, default=None
        None: one pass over the rows per epoch (the setting in which the
        per-row update equals the paper's per-epoch one).
    augment : 'auto', callable or None, default='auto'
    random_state : int or None, default=None
    device : str, default='cpu'
    verbose : int, default=0
    **kwargs
        Other skorch parameters.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    module_ : torch.nn.Module
    ensemble_ : torch.Tensor of shape (n_rows, n_classes)
        Accumulated predictions ``Z`` of the training rows (not bias
        corrected), on the net's device.
    ensemble_updates_ : torch.Tensor of shape (n_rows,)
        Updates ``t_i`` of each row.
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
    PiModelClassifier : Two passes per step, the second as the target.
    MeanTeacherClassifier : Averages weights instead of predictions.

    References
    ----------
    .. [1] S. Laine, T. Aila, "Temporal Ensembling for Semi-Supervised
       Learning", ICLR 2017.

    Examples
    --------
    >>> from sklabelfree.datasets import digits_benchmark_split
    >>> from sklabelfree.semi_supervised import TemporalEnsemblingClassifier
    >>> X, y, X_test, y_test, _ = digits_benchmark_split(50, as_images=True)
    >>> clf = TemporalEnsemblingClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> clf.ensemble_.shape[1], clf.predict(X_test[:3]).shape
    (10, (3,))
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, 1, closed="left")],
        "consistency_weight": [Interval(Real, 0, None, closed="left")],
        "rampup_epochs": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, module=None, *, alpha=0.6, consistency_weight=30.0,
                 rampup_epochs=10, lr=3e-3, max_epochs=50, batch_size=32, mu=4,
                 steps_per_epoch=None, augment="auto", random_state=None, device="cpu",
                 verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         steps_per_epoch=steps_per_epoch, augment=augment,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.mu = mu
        self.alpha = alpha
        self.consistency_weight = consistency_weight
        self.rampup_epochs = rampup_epochs

    def prepare_fit(self, X, codes):
        super().prepare_fit(X, codes)
        n, k = X.shape[0], len(self.classes_)
        # fit starts from n_steps_ = 0; partial_fit on the same rows keeps the
        # ensemble.
        old = getattr(self, "ensemble_", None)
        if self.n_steps_ == 0 or old is None or tuple(old.shape) != (n, k):
            self.ensemble_ = torch.zeros(n, k, device=self.device)
            self.ensemble_updates_ = torch.zeros(n, dtype=torch.long, device=self.device)
        if "ensemble_" not in self.cuda_dependent_attributes_:
            # Pickled like the modules, so a net fitted on a GPU loads on a CPU.
            self.cuda_dependent_attributes_ = [*self.cuda_dependent_attributes_,
                                               "ensemble_"]

    def current_consistency_weight(self):
        """``w(t)`` at the current step (before the step is counted)."""
        return RampUp(self.consistency_weight, self.rampup_epochs)(self.progress())

    def compute_loss(self, batch, **fit_params):
        n_l, n_u = batch.x_l.shape[0], batch.x_u.shape[0]
        logits = self.infer(self.weak(torch.cat([batch.x_l, batch.x_u])), **fit_params)
        logits_l = logits[:n_l]
        loss = self.get_loss(logits_l, batch.y_l, training=True)
        if n_u:
            logits_u = logits[n_l:]
            idx = batch.idx_u.to(self.ensemble_.device)
            targets, valid = temporal_ensembling_targets(
                self.ensemble_[idx], self.ensemble_updates_[idx], self.alpha)
            weight = self.current_consistency_weight()
            loss_c = temporal_ensembling_consistency_loss(logits_u, targets, valid)
            loss = loss + weight * loss_c
            _accumulate(self.ensemble_, self.ensemble_updates_, idx,
                        torch.softmax(logits_u.detach(), dim=1), self.alpha)
            self.history.record_batch("consistency_loss", float(loss_c.detach()))
            self.history.record_batch("consistency_weight", weight)
        return loss, logits_l
