"""Entropy minimisation (Grandvalet & Bengio 2005) for deep networks."""

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval

from ..neural import BaseSemiSupervisedNet
from ..nn.functional import sigmoid_rampup
from ..nn.losses import entropy_loss

__all__ = ["EntropyMinimizationClassifier"]


class EntropyMinimizationClassifier(BaseSemiSupervisedNet):
    """Entropy minimisation (Grandvalet & Bengio 2005): confident predictions on unlabeled rows.

    The network minimises the cross-entropy of the labeled rows plus the
    mean Shannon entropy of its predictions on the unlabeled rows, which
    pushes the decision boundaries into low-density regions:

    ``loss = CE(labeled) + lambda_u * w(t) * mean_b H(p(y | x_b))``,
    ``H(p) = -sum_c p_c log p_c``,

    with ``w(t)`` the sigmoid ramp-up ``exp(-5 (1 - t / rampup)^2)`` over
    the first ``rampup`` epochs, or 1 with ``rampup=0`` (the default, a
    constant weight as in the paper). On digits with 20 to 100 labels a
    constant ``lambda_u=0.3`` did better than ``lambda_u`` of 0.1, 1 or 2
    and than a 10-epoch ramp-up.

    Read more in the :ref:`User Guide <deep_ssl>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
        None picks an MLP, 1-D or 2-D ConvNet from the input shape.
    lambda_u : float, default=0.3
        Weight of the entropy term (the paper's ``lambda``).
    rampup : float, default=0
        Length of the sigmoid ramp-up of the weight, in epochs; 0 disables it.
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
        Per batch also ``entropy``: the mean entropy of the unlabeled rows.
    input_shape_ : tuple
    n_features_in_ : int
        Number of features seen in ``fit``, for rows ``(n, d)``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of a DataFrame ``X`` given to ``fit``, when they are all
        strings; ``predict`` refuses other or reordered columns.
    n_steps_ : int

    See Also
    --------
    sklabelfree.semi_supervised.DeepPseudoLabelClassifier : Hard pseudo labels,
        a form of entropy minimisation.
    sklabelfree.semi_supervised.VATClassifier : Virtual adversarial training,
        with an optional entropy term.

    References
    ----------
    .. [1] Y. Grandvalet, Y. Bengio, "Semi-supervised Learning by Entropy
       Minimization", NeurIPS 2004 (Advances in Neural Information
       Processing Systems 17, 2005).

    Examples
    --------
    >>> from sklabelfree.datasets import digits_benchmark_split
    >>> from sklabelfree.semi_supervised import EntropyMinimizationClassifier
    >>> X, y, X_test, y_test, _ = digits_benchmark_split(50, as_images=True)
    >>> clf = EntropyMinimizationClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 10)
    """

    _parameter_constraints: dict = {
        "lambda_u": [Interval(Real, 0, None, closed="left")],
        "rampup": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, module=None, *, lambda_u=0.3, rampup=0, lr=3e-3, max_epochs=30,
                 batch_size=32, mu=4, steps_per_epoch=None, augment="auto",
                 random_state=None, device="cpu", verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         steps_per_epoch=steps_per_epoch, augment=augment,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.mu = mu
        self.lambda_u = lambda_u
        self.rampup = rampup

    def compute_loss(self, batch, **fit_params):
        n_l, n_u = batch.x_l.shape[0], batch.x_u.shape[0]
        x = torch.cat([self.weak(batch.x_l), self.weak(batch.x_u)]) if n_u else \
            self.weak(batch.x_l)
        logits = self.infer(x, **fit_params)
        logits_l = logits[:n_l]
        loss = self.get_loss(logits_l, batch.y_l, training=True)
        if n_u:
            h = entropy_loss(logits[n_l:])
            weight = self.lambda_u * sigmoid_rampup(self.progress(), self.rampup)
            loss = loss + weight * h
            self.history.record_batch("entropy", h.detach().item())
        return loss, logits_l
