"""The Pi-model: two stochastic passes over each row must agree."""

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval

from ..neural import BaseSemiSupervisedNet, RampUp
from ..nn.losses import pi_model_consistency_loss

__all__ = ["PiModelClassifier"]


class PiModelClassifier(BaseSemiSupervisedNet):
    """Pi-model (Laine & Aila 2017): predictions under two draws of noise must agree.

    Each step runs the network twice over every row of the batch (the
    labeled rows and the unlabeled ones), with a different augmentation
    and dropout draw each time, and penalises the squared difference of
    the two probability vectors; the labeled rows also get the
    cross-entropy of the first pass (Algorithm 1 of the paper):

    ``loss = CE(labeled, pass 1) + w(t) 1/(C |B|) sum_b ||p1_b - p2_b||^2``

    The gradient flows through both passes. The weight ramps up along
    the paper's Gaussian curve,
    ``w(t) = consistency_weight * exp(-5 (1 - t / rampup_epochs)^2)`` for
    ``t < rampup_epochs`` (``t`` in fractional epochs) and
    ``consistency_weight`` after, so that the supervised term dominates
    the first epochs.

    ``consistency_weight`` is the maximum weight itself: the paper sets
    it to 100 times the labeled fraction ``M / N`` (e.g. 8 on CIFAR-10
    with 4000 of 50000 labels). The default here was picked on digits
    with 20 to 100 labels out of 1257 rows, where ``100 M / N`` would be
    between 1.6 and 8.

    Read more in the :ref:`User Guide <deep_ssl>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
        None picks an MLP, 1-D or 2-D ConvNet from the input shape; its
        dropout (``module__dropout``) is part of the Pi-model's noise.
    consistency_weight : float, default=10.0
        Maximum weight ``w_max`` of the consistency term.
    rampup_epochs : float, default=10
        Length of the sigmoid ramp-up of the weight, in epochs; 0 uses
        ``consistency_weight`` from the first step.
    mu : float, default=4
        Rows of the unlabeled part of a step per labeled row; they are
        drawn from every training row, labeled ones included.
    lr : float, default=3e-3
    max_epochs : int, default=30
    batch_size : int, default=32
        Labeled rows per step.
    steps_per_epoch : int or None, default=None
    augment : 'auto', callable or None, default='auto'
        Stochastic augmentation ``g(x)`` drawn independently for the two
        passes.
    random_state : int or None, default=None
    device : str, default='cpu'
    verbose : int, default=0
    **kwargs
        Other skorch parameters (``module__width``, ``optimizer__weight_decay``...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    module_ : torch.nn.Module
    history_ : skorch History
        Per batch also ``consistency_loss`` (the unweighted term) and
        ``consistency_weight`` (``w(t)``).
    input_shape_ : tuple
    n_features_in_ : int
        Number of features seen in ``fit``, for rows ``(n, d)``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of a DataFrame ``X`` given to ``fit``, when they are all
        strings; ``predict`` refuses other or reordered columns.

    See Also
    --------
    TemporalEnsemblingClassifier : One pass per step against an ensemble of
        the row's past predictions.
    MeanTeacherClassifier : The target comes from a moving average of the
        weights.

    References
    ----------
    .. [1] S. Laine, T. Aila, "Temporal Ensembling for Semi-Supervised
       Learning", ICLR 2017.

    Examples
    --------
    >>> from sklabelfree.datasets import digits_benchmark_split
    >>> from sklabelfree.semi_supervised import PiModelClassifier
    >>> X, y, X_test, y_test, _ = digits_benchmark_split(50, as_images=True)
    >>> clf = PiModelClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 10)
    """

    _parameter_constraints: dict = {
        "consistency_weight": [Interval(Real, 0, None, closed="left")],
        "rampup_epochs": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, module=None, *, consistency_weight=10.0, rampup_epochs=10,
                 lr=3e-3, max_epochs=30, batch_size=32, mu=4, steps_per_epoch=None,
                 augment="auto", random_state=None, device="cpu", verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         steps_per_epoch=steps_per_epoch, augment=augment,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.mu = mu
        self.consistency_weight = consistency_weight
        self.rampup_epochs = rampup_epochs

    def current_consistency_weight(self):
        """``w(t)`` at the current step (before the step is counted)."""
        return RampUp(self.consistency_weight, self.rampup_epochs)(self.progress())

    def compute_loss(self, batch, **fit_params):
        n_l = batch.x_l.shape[0]
        x = torch.cat([batch.x_l, batch.x_u])
        logits_1 = self.infer(self.weak(x), **fit_params)
        logits_l = logits_1[:n_l]
        loss = self.get_loss(logits_l, batch.y_l, training=True)
        weight = self.current_consistency_weight()
        logits_2 = self.infer(self.weak(x), **fit_params)
        loss_c = pi_model_consistency_loss(logits_1, logits_2)
        loss = loss + weight * loss_c
        self.history.record_batch("consistency_loss", float(loss_c.detach()))
        self.history.record_batch("consistency_weight", weight)
        return loss, logits_l
