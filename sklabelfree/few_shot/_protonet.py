"""Prototypical networks: an encoder meta-trained on episodes (Snell et al. 2017)."""

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ..nn.losses import prototypical_loss
from ._episodes import check_episode_target
from ._nets import BaseFewShotNet, EpisodeBatchIterator

__all__ = ["ProtoNetEncoder"]


class ProtoNetEncoder(BaseFewShotNet):
    """An embedding meta-trained so that queries lie nearest their class mean.

    Prototypical networks (Snell et al. 2017). Each training step is an
    episode drawn from the base classes: ``n_way`` classes, ``k_shot``
    support and ``n_query`` query rows of each. The prototype of a class is
    the mean embedding of its support rows, and the loss is the
    cross-entropy of the softmax over minus the squared distances of each
    query to the prototypes
    (:func:`~sklabelfree.nn.losses.prototypical_loss`). Training on
    episodes shaped like the test tasks is what makes the embedding work
    for classes it never saw.

    After ``fit(X_base, y_base)``, ``transform(X)`` gives the embeddings
    (eval mode, float32), and :class:`PrototypeClassifier` classifies a
    new task: ``PrototypeClassifier(encoder).fit(X_support,
    y_support).predict(X_query)``, where ``fit`` is one pass over the
    support rows and a mean.

    ``module=None`` picks the trunk from the input shape: for images ``(c,
    h, w)`` two 3x3 convolutions (32 channels, batch norm, ReLU) and 2x2
    average pooling per block until the map is at most 4 wide, flattened
    (for 8x8 digits: one block, a 512-dimensional embedding); an
    :class:`~sklabelfree.nn.ConvNet1d` for signals; an
    :class:`~sklabelfree.nn.MLP` without dropout for rows. Images work
    better than the same pixels as rows (the MLP learns no shift
    invariance).

    Read more in the :ref:`User Guide <few_shot>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
    n_way : int or None, default=None
        Classes per training episode; None: every base class. Snell et al.
        train with more classes per episode than the test tasks have.
    k_shot : int, default=5
        Support rows per class in training episodes.
    n_query : int, default=15
        Query rows per class in training episodes. Every base class needs
        ``k_shot + n_query`` labeled rows.
    episodes_per_epoch : int, default=100
    max_epochs : int, default=10
    metric : {'sqeuclidean', 'cosine'}, default='sqeuclidean'
        The distance of the training loss (use the same one in
        :class:`PrototypeClassifier`).
    temperature : float > 0, default=1.0
        Divides the logits of the training loss.
    lr : float, default=1e-3
        Adam's learning rate, decayed along a cosine (``lr_schedule``).
    augment : {'auto', 'weak', 'strong'}, callable or None, default='auto'
        Augmentation of the episodes' rows at each step: 'auto' and 'weak'
        are the weak preset of :func:`~sklabelfree.augment.make_augmentation`
        for the input kind (shifts of one pixel for 8x8 images).
    lr_schedule : {'cosine', 'constant'}, default='cosine'
    random_state : int or None, default=None
        Seeds the weights, the episodes and the augmentation; the global
        torch random state is left as it was.
    device : str or torch.device, default='cpu'
    verbose : int, default=0
        1 prints skorch's epoch table.
    **kwargs
        Other skorch parameters (``module__width``, ``optimizer__weight_decay``...).

    Attributes
    ----------
    classes_ : ndarray
        The base classes.
    module_ : torch.nn.Module
        The trained trunk.
    n_way_ : int
        Classes per training episode.
    n_steps_ : int
        Training steps (episodes) taken.
    history_ : skorch History
    input_shape_ : tuple
    n_features_in_ : int
        Only for rows ``(n, d)``.

    See Also
    --------
    PrototypeClassifier : The classifier of a new task.
    BaselineEncoder : An encoder trained as an ordinary classifier.

    References
    ----------
    .. [1] J. Snell, K. Swersky, R. Zemel, "Prototypical Networks for
       Few-shot Learning", NeurIPS 2017.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.few_shot import ProtoNetEncoder, PrototypeClassifier
    >>> X, y = load_digits_images()
    >>> base, novel = y < 5, y >= 5
    >>> encoder = ProtoNetEncoder(max_epochs=1, episodes_per_epoch=5, random_state=0)
    >>> encoder = encoder.fit(X[base], y[base])
    >>> encoder.transform(X[:2]).shape
    (2, 512)
    >>> clf = PrototypeClassifier(encoder).fit(X[novel][:20], y[novel][:20])
    >>> clf.classes_
    array([5, 6, 7, 8, 9])
    """

    _parameter_constraints: dict = {
        "n_way": [Interval(Integral, 2, None, closed="left"), None],
        "k_shot": [Interval(Integral, 1, None, closed="left")],
        "n_query": [Interval(Integral, 1, None, closed="left")],
        "episodes_per_epoch": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions({"sqeuclidean", "cosine"})],
        "temperature": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, module=None, *, n_way=None, k_shot=5, n_query=15,
                 episodes_per_epoch=100, max_epochs=10, metric="sqeuclidean",
                 temperature=1.0, lr=1e-3, augment="auto", lr_schedule="cosine",
                 random_state=None, device="cpu", verbose=0, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, augment=augment,
                         lr_schedule=lr_schedule, random_state=random_state,
                         device=device, verbose=verbose, **kwargs)
        self.n_way = n_way
        self.k_shot = k_shot
        self.n_query = n_query
        self.episodes_per_epoch = episodes_per_epoch
        self.metric = metric
        self.temperature = temperature

    def check_training_target(self, y):
        _, classes, _ = check_episode_target(y, self.n_way, self.k_shot, self.n_query,
                                             who=type(self).__name__)
        # n_way=None: every class of this call (a partial_fit may bring fewer).
        self.n_way_ = len(classes) if self.n_way is None else int(self.n_way)

    def make_train_iterator(self, dataset):
        it = EpisodeBatchIterator(dataset, self.n_way_, self.k_shot, self.n_query,
                                  self.episodes_per_epoch, seed=self._iterator_seed)
        self.steps_per_epoch_ = len(it)
        return it

    def compute_loss(self, batch, **fit_params):
        X, _ = batch
        n_tasks, n_rows = X.shape[:2]
        n_way, k, q = self.n_way_, self.k_shot, self.n_query
        z = self.features(self.weak(X.flatten(0, 1)))
        z = z.reshape(n_tasks, n_way, k + q, -1)
        y_s = torch.arange(n_way, device=z.device).repeat_interleave(k)
        y_q = torch.arange(n_way, device=z.device).repeat_interleave(q)
        losses, logits = [], None
        for t in range(n_tasks):
            loss, logits = prototypical_loss(
                z[t, :, :k].reshape(n_way * k, -1), y_s,
                z[t, :, k:].reshape(n_way * q, -1), y_q, n_classes=n_way,
                metric=self.metric, temperature=self.temperature, return_logits=True)
            losses.append(loss)
        return torch.stack(losses).mean(), logits
