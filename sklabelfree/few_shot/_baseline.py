"""Baseline and Baseline++ (Chen et al. 2019): train on base classes, fit a new head."""

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch.nn import functional as F

from ..neural import TensorBatchIterator, forward_takes_return_features
from ..nn import CosineHead, LinearHead
from ._nets import BaseFewShotNet

__all__ = ["BaselineEncoder"]


class BaselineEncoder(BaseFewShotNet):
    """A trunk trained as an ordinary classifier of the base classes (Baseline, Baseline++).

    Chen et al. (2019) showed that this simple recipe rivals meta-learning:
    train the trunk and a classification head with cross-entropy on every
    base class, in ordinary mini-batches; at test time, freeze the trunk
    and fit a new head on the support set of the new classes
    (:class:`FineTunedHeadClassifier`). With ``head='linear'`` this is
    their *Baseline*; with ``head='cosine'`` (a
    :class:`~sklabelfree.nn.CosineHead`, logits ``scale * cos(h, w_c)``)
    it is *Baseline++*, whose normalised class weights reduce the spread of
    each class's features and transfer better.

    After ``fit(X_base, y_base)``, ``transform(X)`` gives the trunk's
    features (eval mode, float32) for any downstream estimator.

    ``module=None`` picks the trunk of :class:`ProtoNetEncoder` from the
    input shape (flattened 4x4 maps for 8x8 images).

    Read more in the :ref:`User Guide <few_shot>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
        The trunk; it gives features (its head, if any, is not used).
    head : {'linear', 'cosine'}, default='cosine'
        The head trained on the base classes: 'linear' is Baseline,
        'cosine' Baseline++. :class:`FineTunedHeadClassifier` fits the same
        kind of head on the support set by default.
    scale : float, default=10.0
        The cosine head's scale: the logits are ``scale * cos(h, w_c)``.
        :class:`FineTunedHeadClassifier` uses the same scale by default.
    max_epochs : int, default=5
        Passes over the base rows. Short on purpose: with five base
        classes (digits 0-4), longer training fits them better and
        transfers worse (1-shot on 5-9: 0.77 after 5 epochs, 0.75 after
        10, 0.74 after 30); raise it with many base classes.
    batch_size : int, default=64
    lr : float, default=1e-3
        Adam's learning rate, decayed along a cosine (``lr_schedule``).
    augment : {'auto', 'weak', 'strong'}, callable or None, default='auto'
        Augmentation of each batch ('auto': the weak preset of
        :func:`~sklabelfree.augment.make_augmentation`).
    lr_schedule : {'cosine', 'constant'}, default='cosine'
    random_state : int or None, default=None
    device : str or torch.device, default='cpu'
    verbose : int, default=0
    **kwargs
        Other skorch parameters (``module__width``, ``optimizer__weight_decay``...).

    Attributes
    ----------
    classes_ : ndarray
        The base classes.
    module_ : torch.nn.Module
        The trained trunk.
    head_ : torch.nn.Module
        The head of the base classes (not used by ``transform``).
    n_steps_ : int
    history_ : skorch History
    input_shape_ : tuple
    n_features_in_ : int
        Only for rows ``(n, d)``.

    See Also
    --------
    FineTunedHeadClassifier : The classifier of a new task.
    ProtoNetEncoder : An encoder meta-trained on episodes.

    References
    ----------
    .. [1] W.-Y. Chen, Y.-C. Liu, Z. Kira, Y.-C. F. Wang, J.-B. Huang, "A
       Closer Look at Few-shot Classification", ICLR 2019.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.few_shot import BaselineEncoder, FineTunedHeadClassifier
    >>> X, y = load_digits_images()
    >>> base, novel = y < 5, y >= 5
    >>> encoder = BaselineEncoder(max_epochs=1, random_state=0).fit(X[base], y[base])
    >>> encoder.transform(X[:2]).shape
    (2, 512)
    >>> clf = FineTunedHeadClassifier(encoder).fit(X[novel][:20], y[novel][:20])
    >>> clf.predict(X[novel][20:23]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "head": [StrOptions({"linear", "cosine"})],
        "scale": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, module=None, *, head="cosine", scale=10.0, max_epochs=5,
                 batch_size=64, lr=1e-3, augment="auto", lr_schedule="cosine",
                 random_state=None, device="cpu", verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         augment=augment, lr_schedule=lr_schedule,
                         random_state=random_state, device=device, verbose=verbose,
                         **kwargs)
        self.head = head
        self.scale = scale

    def initialize_module(self):
        super().initialize_module()
        dim = self._trunk_dim()
        n_classes = len(self.classes_)
        if self.head == "cosine":
            self.head_ = CosineHead(dim, n_classes, scale=self.scale)
        else:
            self.head_ = LinearHead(dim, n_classes)
        return self

    def _trunk_dim(self):
        module = self.module_
        self._takes_return_features = forward_takes_return_features(module)
        param = next(module.parameters(), None)
        device = param.device if param is not None else "cpu"
        modes = [m.training for m in module.modules()]
        module.eval()
        try:
            with torch.no_grad():
                z = self.features(torch.zeros((1, *self.input_shape_), device=device))
        finally:
            for m, mode in zip(module.modules(), modes):
                m.training = mode
        return int(z.reshape(1, -1).shape[1])

    def make_train_iterator(self, dataset):
        n = len(dataset)
        it = TensorBatchIterator(dataset, batch_size=self.batch_size, shuffle=True,
                                 drop_last=n >= self.batch_size, seed=self._iterator_seed)
        self.steps_per_epoch_ = len(it)
        return it

    def compute_loss(self, batch, **fit_params):
        x, y = batch
        logits = self.head_(self.features(self.weak(x)).flatten(1))
        return F.cross_entropy(logits, y.long()), logits
