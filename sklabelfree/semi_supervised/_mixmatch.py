"""MixMatch: guessed labels, sharpening and MixUp of labeled and unlabeled rows."""

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval

from ..neural import BaseSemiSupervisedNet, EMAEvalMixin
from ..nn.functional import linear_rampup, mixup, one_hot
from ..nn.losses import (
    mixmatch_guess_labels,
    mixmatch_labeled_loss,
    mixmatch_unlabeled_loss,
)

__all__ = ["MixMatchClassifier"]


class MixMatchClassifier(EMAEvalMixin, BaseSemiSupervisedNet):
    """MixMatch (Berthelot et al. 2019): sharpened guessed labels, MixUp, and an L2 consistency.

    Each training step takes a batch ``X`` of labeled rows and a batch ``U``
    of unlabeled rows (``mu`` per labeled row):

    1. every labeled row is weakly augmented once; every unlabeled row is
       weakly augmented ``K = n_augmentations`` times;
    2. the guessed label of an unlabeled row is the model's prediction
       averaged over its ``K`` views (no gradient), sharpened with
       temperature ``T``: ``q = Sharpen(mean_k p(y | u_k), T)``; each of the
       ``K`` views gets it as target;
    3. ``W`` is a shuffle of all the augmented rows (labeled and ``K``
       views of the unlabeled); the labeled rows are mixed with the first
       ``|X|`` rows of ``W`` and the unlabeled views with the rest, by
       MixUp with ``lambda ~ Beta(alpha, alpha)`` per row and
       ``lambda' = max(lambda, 1 - lambda)``, so that each mixed row stays
       closer to its own input (and keeps its role, labeled or unlabeled);
    4. ``loss = L_X + lambda_u(t) * L_U``: ``L_X`` the cross-entropy of the
       mixed labeled rows against their mixed targets, ``L_U`` the squared
       error between the predicted probabilities of the mixed unlabeled
       rows and their mixed targets, averaged over rows and classes (the
       paper's L2 loss divided by the number of classes); ``lambda_u(t)``
       rises linearly from 0 to ``lambda_u`` over the first
       ``rampup_epochs`` epochs (the paper ramps over its first 16k steps).

    Batch norm: the paper interleaves labeled and unlabeled rows across
    its batches so that every batch-norm batch is a representative mix.
    Here the mixed labeled and unlabeled rows go through the network in
    one forward pass over their concatenation, which computes the
    batch-norm statistics over exactly that mix. The label-guessing pass
    (no gradient) runs in training mode too, as in the official
    implementation, over the ``K`` views of the unlabeled batch.

    Read more in the :ref:`User Guide <deep_ssl>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
        None picks an MLP, 1-D or 2-D ConvNet from the input shape.
    n_augmentations : int, default=2
        ``K``, augmentations of each unlabeled row for label guessing.
    temperature : float in (0, 1], default=0.5
        Sharpening temperature ``T``.
    alpha : float, default=0.75
        MixUp's ``Beta(alpha, alpha)`` parameter; 0 disables mixing.
    lambda_u : float, default=75.0
        Weight of the unlabeled term (after the ramp-up); 75 is the
        paper's value for CIFAR-10. On digits with 100 labels (seeds 0, 1,
        2) it gave 0.996, 0.987 and 0.946 against 0.994, 0.989 and 0.941
        with 100; 0.962 against 0.964 with 50 labels and 0.958 against
        0.938 with 20 (means over the seeds).
    rampup_epochs : float, default=5
        Epochs over which the weight of the unlabeled term rises linearly
        from 0 to ``lambda_u``; 0 uses ``lambda_u`` from the first step.
    mu : float, default=1
        Unlabeled rows per labeled row in a step (the paper draws as many
        unlabeled as labeled rows).
    lr : float, default=3e-3
    max_epochs : int, default=60
    batch_size : int, default=64
        Labeled rows per step (the paper's batch size). On digits with 50
        labels it scored 0.964 over seeds 0-2 against 0.956 with 32, in
        81 % of the time (an epoch has half the steps).
    steps_per_epoch : int or None, default=None
        None: enough steps to see every row once as an unlabeled row.
    augment : 'auto', callable or None, default='auto'
        The augmentation ``aug(x, generator)`` of labeled and unlabeled
        rows; 'auto' is the weak preset for the input kind.
    random_state : int or None, default=None
    device : str, default='cpu'
    verbose : int, default=0
    ema_decay : float in [0, 1) or None, default=0.99
        Decay of the moving average of the weights that ``predict`` uses
        (``ema_module_``), as the paper evaluates (with 0.999 over far
        longer training); None predicts with the trained weights.
    lr_schedule : {'cosine', 'constant'}, default='cosine'
        ``'cosine'``: the rate falls from ``lr`` to ``cos(7 pi / 16) lr``
        over training (:class:`~sklabelfree.neural.CosineDecay`, FixMatch's
        schedule); the paper keeps ``lr`` constant over its far longer
        training. On digits with 100 labels the moving average and the
        decay make the last model steadier from seed to seed.
    **kwargs
        Other skorch parameters (``module__width``, ``optimizer__weight_decay``...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    module_ : torch.nn.Module
        The trained network.
    ema_module_ : torch.nn.Module or None
        The moving average of ``module_``'s weights, used by ``predict``.
    history_ : skorch History
        Per batch also ``loss_x``, ``loss_u`` and ``lambda_u`` (the ramped
        weight used at that step).
    input_shape_ : tuple
    n_features_in_ : int
        Number of features seen in ``fit``, for rows ``(n, d)``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of a DataFrame ``X`` given to ``fit``, when they are all
        strings; ``predict`` refuses other or reordered columns.

    See Also
    --------
    FixMatchClassifier : Hard, thresholded pseudo labels on a strong view.
    SupervisedNetClassifier : The same network on the labeled rows only.

    References
    ----------
    .. [1] D. Berthelot, N. Carlini, I. Goodfellow, N. Papernot, A. Oliver,
       C. Raffel, "MixMatch: A Holistic Approach to Semi-Supervised
       Learning", NeurIPS 2019.

    Examples
    --------
    >>> from sklabelfree.datasets import digits_benchmark_split
    >>> from sklabelfree.semi_supervised import MixMatchClassifier
    >>> X, y, X_test, y_test, _ = digits_benchmark_split(50, as_images=True)
    >>> clf = MixMatchClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 10)
    """

    _parameter_constraints: dict = {
        "n_augmentations": [Interval(Integral, 1, None, closed="left")],
        "temperature": [Interval(Real, 0, 1, closed="right")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "lambda_u": [Interval(Real, 0, None, closed="left")],
        "rampup_epochs": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, module=None, *, n_augmentations=2, temperature=0.5, alpha=0.75,
                 lambda_u=75.0, rampup_epochs=5, lr=3e-3, max_epochs=60, batch_size=64,
                 mu=1, steps_per_epoch=None, augment="auto", random_state=None,
                 device="cpu", verbose=0, ema_decay=0.99, lr_schedule="cosine",
                 **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         steps_per_epoch=steps_per_epoch, augment=augment,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.mu = mu
        self.ema_decay = ema_decay
        self.lr_schedule = lr_schedule
        self.n_augmentations = n_augmentations
        self.temperature = temperature
        self.alpha = alpha
        self.lambda_u = lambda_u
        self.rampup_epochs = rampup_epochs

    def guess_labels(self, x_u, **fit_params):
        """Guessed labels of unlabeled rows: sharpened mean prediction over K augmentations.

        Parameters
        ----------
        x_u : torch.Tensor of shape (n, ...)
            Unlabeled rows, on the net's device.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        views : torch.Tensor of shape (K * n, ...)
            The ``K`` augmentations of the rows, view by view.
        q : torch.Tensor of shape (n, n_classes)
            The guessed labels (no gradient).
        """
        k = int(self.n_augmentations)
        n = x_u.shape[0]
        views = torch.cat([self.weak(x_u) for _ in range(k)])
        with torch.no_grad():
            logits = self.infer(views, **fit_params)
        q = mixmatch_guess_labels(logits.reshape(k, n, -1), self.temperature)
        return views, q

    def current_lambda_u(self):
        """Weight of the unlabeled term at this step (linear ramp-up)."""
        return float(self.lambda_u) * linear_rampup(self.progress(), self.rampup_epochs)

    def compute_loss(self, batch, **fit_params):
        n_classes = len(self.classes_)
        n_l, n_u = batch.x_l.shape[0], batch.x_u.shape[0]
        x_l = self.weak(batch.x_l)
        t_l = one_hot(batch.y_l, n_classes).to(x_l.device)
        if n_u:
            x_u, q = self.guess_labels(batch.x_u, **fit_params)
            t_u = q.repeat(int(self.n_augmentations), 1)
            x_all = torch.cat([x_l, x_u])
            t_all = torch.cat([t_l, t_u])
        else:
            x_all, t_all = x_l, t_l
        # W = shuffle(X^ ∪ U^): row i is mixed with W_i, so the labeled rows
        # meet the first |X| rows of W and the unlabeled views the rest.
        perm = torch.randperm(x_all.shape[0], generator=self.cpu_generator_)
        x_mix, t_mix, _ = mixup(x_all, t_all, self.alpha, generator=self.cpu_generator_,
                                keep_first=True, perm=perm.to(x_all.device))
        # One forward pass over labeled and unlabeled rows together: the
        # batch-norm statistics are those of the whole mix.
        logits = self.infer(x_mix, **fit_params)
        logits_l = logits[:n_l]
        loss_x = mixmatch_labeled_loss(logits_l, t_mix[:n_l])
        loss = loss_x
        if n_u:
            weight = self.current_lambda_u()
            loss_u = mixmatch_unlabeled_loss(logits[n_l:], t_mix[n_l:])
            loss = loss_x + weight * loss_u
            self._record_batch(loss_x=loss_x.item(), loss_u=loss_u.item(), lambda_u=weight)
        return loss, logits_l

    def _record_batch(self, **values):
        # Only inside skorch's training loop (compute_loss may be called
        # outside it, when there is no batch to record to).
        history = self.history
        if len(history) and history[-1].get("batches"):
            for name, value in values.items():
                history.record_batch(name, value)
