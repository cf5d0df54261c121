"""FixMatch: weak-view pseudo labels above a threshold supervise the strong view."""

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch.nn import functional as F

from ..neural import BaseSemiSupervisedNet, EMAEvalMixin

__all__ = ["FixMatchClassifier"]


def fixmatch_unlabeled_loss(logits_weak, logits_strong, threshold):
    """FixMatch's unlabeled term and its mask.

    ``mean_b 1(max_c p_b >= threshold) * CE(logits_strong_b, argmax_c p_b)``
    with ``p = softmax(logits_weak)`` treated as a constant.

    Parameters
    ----------
    logits_weak, logits_strong : torch.Tensor of shape (n, k)
    threshold : float

    Returns
    -------
    loss : torch.Tensor (scalar)
    mask : torch.Tensor of bool, shape (n,)
    """
    probs = torch.softmax(logits_weak.detach(), dim=1)
    conf, pseudo = probs.max(dim=1)
    mask = conf >= threshold
    ce = F.cross_entropy(logits_strong, pseudo, reduction="none")
    return (ce * mask.float()).mean(), mask


class FixMatchClassifier(EMAEvalMixin, BaseSemiSupervisedNet):
    """FixMatch (Sohn et al. 2020): confident weak-view pseudo labels train the strong view.

    Each step the model predicts a weakly augmented view of every unlabeled
    row; where its highest probability reaches ``threshold`` the arg-max
    becomes a hard pseudo label, and the model is trained to predict it
    from a strongly augmented view (RandAugment and cutout for images):

    ``loss = CE(labeled) + lambda_u * mean_b 1(max p_b >= tau) CE(strong_b, argmax p_b)``

    As in the paper, predictions come from an exponential moving average
    of the trained weights (``ema_decay``) and the learning rate decays as
    ``lr cos(7 pi k / 16 K)`` over the ``K`` steps of training
    (``lr_schedule='cosine'``). The defaults are set for small data sets
    trained in about a minute on a CPU, where the paper trains for a
    million steps: ``threshold=0.8`` rather than the paper's 0.95 (with a
    few hundred steps, a 0.95 threshold leaves most unlabeled rows unused;
    on digits with 50 labels, 0.8 gains about a point over 0.95),
    ``ema_decay=0.99`` rather than 0.999 (an average over about 100 of the
    900 steps), and AdamW rather than SGD with Nesterov momentum.

    Read more in the :ref:`User Guide <deep_ssl>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
    threshold : float in [0, 1], default=0.8
        Confidence ``tau`` above which a pseudo label is used (the paper
        uses 0.95 with far longer training).
    lambda_u : float, default=1.0
        Weight of the unlabeled term.
    strong_augment : 'auto', callable or None, default='auto'
        Strong augmentation; 'auto' is the strong preset for the input kind.
    mu : float, default=4
        Unlabeled rows per labeled row in a step.
    lr : float, default=3e-3
        Initial learning rate of the AdamW optimizer.
    max_epochs : int, default=90
        Epochs of training; an epoch is ``steps_per_epoch`` steps.
    batch_size, steps_per_epoch, augment, random_state, device, verbose
        As in :class:`~sklabelfree.neural.BaseSemiSupervisedNet`.
    ema_decay : float in [0, 1) or None, default=0.99
        Decay of the moving average of the weights that ``predict`` uses
        (``ema_module_``); None predicts with the trained weights.
    lr_schedule : {'cosine', 'constant'}, default='cosine'
        ``'cosine'``: the rate falls from ``lr`` to ``cos(7 pi / 16) lr``
        over training (:class:`~sklabelfree.neural.CosineDecay`).
    **kwargs
        Other skorch parameters.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    module_ : torch.nn.Module
        The trained network.
    ema_module_ : torch.nn.Module or None
        The moving average of ``module_``'s weights, used by ``predict``.
    history_ : skorch History
        Per batch (``history_[:, 'batches', :, 'mask_rate']``) also
        ``mask_rate``: the fraction of the step's unlabeled rows above the
        threshold.
    input_shape_ : tuple
    n_features_in_ : int
        Number of features seen in ``fit``, for rows ``(n, d)``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of a DataFrame ``X`` given to ``fit``, when they are all
        strings; ``predict`` refuses other or reordered columns.

    References
    ----------
    .. [1] K. Sohn, D. Berthelot, C.-L. Li, Z. Zhang, N. Carlini, E. D.
       Cubuk, A. Kurakin, H. Zhang, C. Raffel, "FixMatch: Simplifying
       Semi-Supervised Learning with Consistency and Confidence", NeurIPS 2020.

    Examples
    --------
    >>> from sklabelfree.datasets import digits_benchmark_split
    >>> from sklabelfree.semi_supervised import FixMatchClassifier
    >>> X, y, X_test, y_test, _ = digits_benchmark_split(50, as_images=True)
    >>> clf = FixMatchClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 10)
    """

    _parameter_constraints: dict = {
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "lambda_u": [Interval(Real, 0, None, closed="left")],
        "strong_augment": [StrOptions({"auto"}), callable, None],
    }

    def __init__(self, module=None, *, threshold=0.8, lambda_u=1.0,
                 strong_augment="auto", lr=3e-3, max_epochs=90, batch_size=32, mu=4,
                 steps_per_epoch=None, augment="auto", random_state=None, device="cpu",
                 verbose=0, ema_decay=0.99, lr_schedule="cosine", **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         steps_per_epoch=steps_per_epoch, augment=augment,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.mu = mu
        self.ema_decay = ema_decay
        self.lr_schedule = lr_schedule
        self.threshold = threshold
        self.lambda_u = lambda_u
        self.strong_augment = strong_augment

    def prepare_fit(self, X, codes):
        super().prepare_fit(X, codes)
        self.strong_augment_ = self._resolve_augment(self.strong_augment, "strong")

    def strong(self, x):
        """Strong augmentation of a batch."""
        if self.strong_augment_ is None:
            return x
        return self.strong_augment_(x, self.generator_)

    def compute_loss(self, batch, **fit_params):
        n_l, n_u = batch.x_l.shape[0], batch.x_u.shape[0]
        views = [self.weak(batch.x_l)]
        if n_u:  # mu=0, or no unlabeled row to draw from
            views += [self.weak(batch.x_u), self.strong(batch.x_u)]
        x = torch.cat(views)
        logits = self.infer(x, **fit_params)
        logits_l = logits[:n_l]
        loss = self.get_loss(logits_l, batch.y_l, training=True)
        if n_u:
            loss_u, mask = fixmatch_unlabeled_loss(
                logits[n_l:n_l + n_u], logits[n_l + n_u:], self.threshold)
            loss = loss + self.lambda_u * loss_u
            self.log_batch("mask_rate", mask.float().mean())
        return loss, logits_l
