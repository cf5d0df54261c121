"""Virtual adversarial training (Miyato et al. 2018) for semi-supervised learning."""

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval

from ..neural import BaseSemiSupervisedNet
from ..nn.losses import entropy_loss, frozen_batch_norm_stats, vat_loss

__all__ = ["VATClassifier"]


class VATClassifier(BaseSemiSupervisedNet):
    """Virtual adversarial training (Miyato et al. 2018): smooth predictions around every row.

    For each row ``x`` (labeled and unlabeled) VAT finds the perturbation
    ``r_adv`` of norm ``eps`` that changes the prediction most, in the KL
    sense: starting from a random unit vector ``d``, ``n_power`` power
    iterations ``d <- normalize(grad_d KL(p(x) || p(x + xi d)))`` approach
    the dominant eigenvector of the KL's Hessian, and
    ``r_adv = eps * normalize(d)``. The network then minimises the local
    distributional smoothness ``LDS = KL(p(x) || p(x + r_adv))`` (with
    ``p(x)`` a constant) next to the supervised loss:

    ``loss = CE(labeled) + alpha * mean LDS + entropy_weight * mean H(p(x))``

    where the entropy term is the paper's "VAT+EntMin" (on by default:
    with few labels it helps a lot; ``entropy_weight=0`` is plain VAT).

    The virtual adversarial passes (``p(x)``, the power iteration, ``p(x +
    r_adv)``) run on the same weakly augmented rows as the supervised pass,
    with batch normalisation still using the batch's statistics but
    without updating its running statistics (as the authors' code,
    ``update_batch_stats=False``), and with dropout switched off so that
    ``p(x)`` and ``p(x + r)`` differ by the perturbation only (see
    :func:`~sklabelfree.nn.losses.frozen_batch_norm_stats`). The ordinary
    training pass on labeled and unlabeled rows updates the statistics.

    Read more in the :ref:`User Guide <deep_ssl>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
        None picks an MLP, 1-D or 2-D ConvNet from the input shape.
    eps : float, default=1.0
        L2 norm of the adversarial perturbation of each sample (inputs in
        ``[0, 1]``: an 8x8 digit has a norm of about 4).
    xi : float, default=1e-2
        Step of the finite-difference power iteration (norm of ``xi d``);
        small against ``eps`` and the input scale, large enough for float32.
    n_power : int, default=1
        Number of power iterations (the paper's ``K``).
    alpha : float, default=1.0
        Weight of the LDS term.
    entropy_weight : float, default=1.0
        Weight of the conditional-entropy term of the paper's VAT+EntMin,
        on the same rows as the LDS; 0 gives plain VAT. On digits (seeds 0
        and 1) it raised the accuracy from 0.68 to 0.83 with 20 labels and
        from 0.95 to 0.97 with 50.
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
        Per batch also ``lds``: the mean LDS of the step's rows.
    input_shape_ : tuple
    n_features_in_ : int
        Number of features seen in ``fit``, for rows ``(n, d)``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of a DataFrame ``X`` given to ``fit``, when they are all
        strings; ``predict`` refuses other or reordered columns.
    n_steps_ : int

    References
    ----------
    .. [1] T. Miyato, S. Maeda, M. Koyama, S. Ishii, "Virtual Adversarial
       Training: A Regularization Method for Supervised and Semi-Supervised
       Learning", IEEE Transactions on Pattern Analysis and Machine
       Intelligence 41(8), 2019 (arXiv:1704.03976, 2017).

    Examples
    --------
    >>> from sklabelfree.datasets import digits_benchmark_split
    >>> from sklabelfree.semi_supervised import VATClassifier
    >>> X, y, X_test, y_test, _ = digits_benchmark_split(50, as_images=True)
    >>> clf = VATClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 10)
    """

    _parameter_constraints: dict = {
        "eps": [Interval(Real, 0, None, closed="neither")],
        "xi": [Interval(Real, 0, None, closed="neither")],
        "n_power": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "entropy_weight": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, module=None, *, eps=1.0, xi=1e-2, n_power=1, alpha=1.0,
                 entropy_weight=1.0, lr=3e-3, max_epochs=30, batch_size=32, mu=4,
                 steps_per_epoch=None, augment="auto", random_state=None, device="cpu",
                 verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         steps_per_epoch=steps_per_epoch, augment=augment,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.mu = mu
        self.eps = eps
        self.xi = xi
        self.n_power = n_power
        self.alpha = alpha
        self.entropy_weight = entropy_weight

    def compute_loss(self, batch, **fit_params):
        n_l, n_u = batch.x_l.shape[0], batch.x_u.shape[0]
        x = torch.cat([self.weak(batch.x_l), self.weak(batch.x_u)]) if n_u else \
            self.weak(batch.x_l)
        logits = self.infer(x, **fit_params)
        logits_l = logits[:n_l]
        loss = self.get_loss(logits_l, batch.y_l, training=True)
        if self.alpha == 0 and self.entropy_weight == 0:
            return loss, logits_l

        def model(z):
            return self.infer(z, **fit_params)

        with frozen_batch_norm_stats(self.module_):
            with torch.set_grad_enabled(self.entropy_weight > 0):
                clean = model(x)
            if self.alpha > 0:
                lds, _ = vat_loss(model, x, clean, eps=self.eps, xi=self.xi,
                                  n_power=self.n_power, generator=self.generator_)
                loss = loss + self.alpha * lds
                self.history.record_batch("lds", lds.detach().item())
        if self.entropy_weight > 0:
            loss = loss + self.entropy_weight * entropy_loss(clean)
        return loss, logits_l
