"""Pseudo-Label (Lee 2013): the network's own arg-max classes train it on unlabeled rows."""

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval

from ..neural import BaseSemiSupervisedNet
from ..nn.losses import pseudo_label_loss, pseudo_label_weight

__all__ = ["DeepPseudoLabelClassifier"]


class DeepPseudoLabelClassifier(BaseSemiSupervisedNet):
    """Pseudo-Label (Lee 2013): a network trained on its own arg-max predictions.

    At every weights update, each unlabeled row of the batch gets as
    pseudo label the class of highest predicted probability, read from the
    same forward pass (so pseudo labels are recomputed at every step), and
    the network is trained on it as if it were a true label:

    ``loss = CE(labeled) + alpha(t) * mean_b CE(unlabeled_b, argmax_c p_bc)``

    with Lee's schedule ``alpha(t) = 0`` for ``t < t1``,
    ``alpha_f (t - t1) / (t2 - t1)`` up to ``t2`` and ``alpha_f`` after
    (``t`` in epochs, fractional). Lee used ``alpha_f=3``, ``T1=100``,
    ``T2=600`` epochs of a much longer run, starting from a network that had
    long fitted the labeled rows. The defaults here were measured on digits
    with 20 to 100 labels and ``max_epochs=30``: a small final weight
    reached early (``alpha_f=0.3``, ``t1=1``, ``t2=5``) beat Lee's ratios
    (``alpha_f`` of 3, 1 or 0.5, ramps over epochs 5-20 or 10-25), whose
    heavy unlabeled term locks in the errors of the first pseudo labels and
    can collapse onto a few classes. Minimising the pseudo-label cross-entropy is
    equivalent to entropy regularisation (Grandvalet & Bengio 2005). An
    optional confidence ``threshold`` keeps only rows whose highest
    probability reaches it (the paper uses every row).

    Read more in the :ref:`User Guide <deep_ssl>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
        None picks an MLP, 1-D or 2-D ConvNet from the input shape.
    alpha_f : float, default=0.3
        Final weight of the unlabeled term (Lee's ``alpha_f``; 3 in the paper).
    t1 : float, default=1
        Epoch at which the unlabeled term starts (``alpha = 0`` before).
    t2 : float, default=5
        Epoch at which ``alpha`` reaches ``alpha_f``; ``t2 >= t1``.
    threshold : float in [0, 1] or None, default=None
        Rows whose highest probability is below it get no pseudo label;
        None uses every unlabeled row, as in the paper.
    mu : float, default=4
        Unlabeled rows per labeled row in a step (drawn from every row,
        labeled ones included).
    lr, max_epochs, batch_size, steps_per_epoch, augment, random_state, device, verbose
        As in :class:`~sklabelfree.neural.BaseSemiSupervisedNet`.
    **kwargs
        Other skorch parameters (``module__width``, ``optimizer__weight_decay``...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    module_ : torch.nn.Module
    history_ : skorch History
        Per batch also ``alpha`` (the current weight) and ``mask_rate``
        (the fraction of unlabeled rows that got a pseudo label).
    input_shape_ : tuple
    n_features_in_ : int
        Number of features seen in ``fit``, for rows ``(n, d)``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of a DataFrame ``X`` given to ``fit``, when they are all
        strings; ``predict`` refuses other or reordered columns.
    n_steps_ : int

    See Also
    --------
    sklabelfree.semi_supervised.PseudoLabelClassifier : Self-training of any
        scikit-learn classifier with pseudo labels, round by round.
    sklabelfree.semi_supervised.EntropyMinimizationClassifier : The entropy
        regulariser that Pseudo-Label approximates.

    References
    ----------
    .. [1] D.-H. Lee, "Pseudo-Label: The Simple and Efficient
       Semi-Supervised Learning Method for Deep Neural Networks", ICML 2013
       Workshop on Challenges in Representation Learning.

    Examples
    --------
    >>> from sklabelfree.datasets import digits_benchmark_split
    >>> from sklabelfree.semi_supervised import DeepPseudoLabelClassifier
    >>> X, y, X_test, y_test, _ = digits_benchmark_split(50, as_images=True)
    >>> clf = DeepPseudoLabelClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 10)
    """

    _parameter_constraints: dict = {
        "alpha_f": [Interval(Real, 0, None, closed="left")],
        "t1": [Interval(Real, 0, None, closed="left")],
        "t2": [Interval(Real, 0, None, closed="left")],
        "threshold": [Interval(Real, 0, 1, closed="both"), None],
    }

    def __init__(self, module=None, *, alpha_f=0.3, t1=1, t2=5, threshold=None,
                 lr=3e-3, max_epochs=30, batch_size=32, mu=4, steps_per_epoch=None,
                 augment="auto", random_state=None, device="cpu", verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         steps_per_epoch=steps_per_epoch, augment=augment,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.mu = mu
        self.alpha_f = alpha_f
        self.t1 = t1
        self.t2 = t2
        self.threshold = threshold

    def _check_own_params(self):
        super()._check_own_params()
        if self.t2 < self.t1:
            raise ValueError(
                f"t2 must be greater than or equal to t1, got t1={self.t1} and "
                f"t2={self.t2}.")

    def alpha(self):
        """The current weight ``alpha(t)`` of the unlabeled term."""
        return pseudo_label_weight(self.progress(), self.alpha_f, self.t1, self.t2)

    def compute_loss(self, batch, **fit_params):
        n_l, n_u = batch.x_l.shape[0], batch.x_u.shape[0]
        x = torch.cat([self.weak(batch.x_l), self.weak(batch.x_u)]) if n_u else \
            self.weak(batch.x_l)
        logits = self.infer(x, **fit_params)
        logits_l = logits[:n_l]
        loss = self.get_loss(logits_l, batch.y_l, training=True)
        alpha = self.alpha()
        if n_u:
            loss_u, _, mask = pseudo_label_loss(logits[n_l:], self.threshold)
            loss = loss + alpha * loss_u
            self.history.record_batch("mask_rate", float(mask.float().mean()))
        self.history.record_batch("alpha", alpha)
        return loss, logits_l
