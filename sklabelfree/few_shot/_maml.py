"""Model-agnostic meta-learning (Finn, Abbeel & Levine 2017)."""

import contextlib
import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import _check_feature_names, check_is_fitted
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

from ..neural import check_net_input, eval_mode
from ..neural._base import _record_input_shape
from ._base import BaseFewShotClassifier
from ._episodes import check_episode_target
from ._modules import default_few_shot_module
from ._nets import BaseFewShotNet, EpisodeBatchIterator

__all__ = ["MAML", "MAMLClassifier", "maml_adapt", "maml_task_loss"]


def _batch_norms(module):
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@contextlib.contextmanager
def _support_statistics(module):
    """Batch norm layers record the statistics of each batch as their running ones.

    With momentum 1, a forward pass in train mode leaves the batch's mean
    and (unbiased) variance in the buffers it was given, so that a later
    pass in eval mode normalises with them.
    """
    norms = _batch_norms(module)
    saved = [m.momentum for m in norms]
    for m in norms:
        m.momentum = 1.0
    try:
        yield
    finally:
        for m, momentum in zip(norms, saved):
            m.momentum = momentum


def maml_adapt(module, params, buffers, x, y, inner_lr, inner_steps, n_classes=None,
               first_order=False, create_graph=True):
    """The inner loop of MAML: ``inner_steps`` gradient steps on the support loss.

    ``theta_{s+1} = theta_s - inner_lr * grad L_support(theta_s)`` with the
    cross-entropy of the support rows (on the first ``n_classes`` outputs).
    With ``create_graph`` and not ``first_order``, the steps stay in the
    autograd graph, so that the query loss of the adapted parameters
    differentiates through them (second-order MAML); with ``first_order``
    the inner gradients are constants (first-order MAML: the meta-gradient
    is the query gradient at the adapted parameters).

    Parameters
    ----------
    module : torch.nn.Module
        Run with :func:`torch.func.functional_call` (its own parameters are
        not changed).
    params : dict of str -> torch.Tensor
        The starting parameters, by name.
    buffers : dict of str -> torch.Tensor
        Buffers (batch-norm statistics), updated in place by train-mode
        passes.
    x, y : torch.Tensor
        Support rows and their class codes.
    inner_lr : float
    inner_steps : int
    n_classes : int or None, default=None
        Outputs used as logits; None: all.
    first_order : bool, default=False
    create_graph : bool, default=True
        False for test-time adaptation (no meta-gradient).

    Returns
    -------
    params : dict of str -> torch.Tensor
        The adapted parameters.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.few_shot import maml_adapt
    >>> net = torch.nn.Linear(2, 2)
    >>> params = dict(net.named_parameters())
    >>> x, y = torch.eye(2), torch.tensor([0, 1])
    >>> new = maml_adapt(net, params, {}, x, y, inner_lr=0.5, inner_steps=3)
    >>> sorted(new), bool((new["weight"] != params["weight"]).any())
    (['bias', 'weight'], True)
    """
    names = list(params)
    keep_graph = create_graph and not first_order
    for _ in range(inner_steps):
        logits = functional_call(module, (params, buffers), (x,))
        if n_classes is not None:
            logits = logits[:, :n_classes]
        loss = F.cross_entropy(logits, y)
        grads = torch.autograd.grad(loss, [params[n] for n in names],
                                    create_graph=keep_graph, allow_unused=True)
        params = {
            n: params[n] if g is None else params[n] - inner_lr * (g if keep_graph else
                                                                  g.detach())
            for n, g in zip(names, grads)
        }
    return params


def maml_task_loss(module, params, buffers, x_support, y_support, x_query, y_query,
                   inner_lr, inner_steps, n_classes=None, first_order=False):
    """The query loss of one task after the inner loop, and the query logits.

    Batch norm layers, if any, normalise the support rows with their own
    statistics (train mode) and the queries with the statistics of the
    support rows under the adapted parameters (eval mode): a query's
    prediction never depends on the other queries. The buffers passed in
    are copied, never changed.

    Parameters
    ----------
    module : torch.nn.Module
    params : dict of str -> torch.Tensor
        Meta-parameters; the returned loss differentiates with respect to
        them.
    buffers : dict of str -> torch.Tensor
    x_support, y_support, x_query, y_query : torch.Tensor
    inner_lr : float
    inner_steps : int
    n_classes : int or None, default=None
    first_order : bool, default=False

    Returns
    -------
    loss : torch.Tensor (scalar)
    logits : torch.Tensor of shape (n_query_rows, n_outputs)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.few_shot import maml_task_loss
    >>> net = torch.nn.Linear(2, 2)
    >>> x, y = torch.eye(2), torch.tensor([0, 1])
    >>> loss, _ = maml_task_loss(net, dict(net.named_parameters()), {}, x, y, x, y,
    ...                          inner_lr=0.5, inner_steps=2)
    >>> loss.backward(); net.weight.grad.shape
    torch.Size([2, 2])
    """
    buffers = {k: v.clone() for k, v in buffers.items()}
    has_bn = bool(_batch_norms(module))
    modes = [m.training for m in module.modules()]
    try:
        module.train()
        with _support_statistics(module):
            adapted = maml_adapt(module, params, buffers, x_support, y_support, inner_lr,
                                 inner_steps, n_classes=n_classes, first_order=first_order)
            if has_bn:
                with torch.no_grad():
                    functional_call(module, ({k: v.detach() for k, v in adapted.items()},
                                             buffers), (x_support,))
        module.eval()
        logits = functional_call(module, (adapted, buffers), (x_query,))
    finally:
        for m, mode in zip(module.modules(), modes):
            m.training = mode
    used = logits if n_classes is None else logits[:, :n_classes]
    return F.cross_entropy(used, y_query), logits


class MAML(BaseFewShotNet):
    """Meta-learn an initialisation that a few gradient steps adapt to a new task.

    Model-agnostic meta-learning (Finn et al. 2017). Each meta-training step
    draws ``meta_batch_size`` episodes from the base classes (``n_way``
    classes in random order, ``k_shot`` support and ``n_query`` query rows
    per class); for each, ``inner_steps`` steps of gradient descent with
    ``inner_lr`` on the support cross-entropy adapt a copy of the
    parameters, and the cross-entropy of the queries under the adapted
    parameters, averaged over the episodes, updates the initialisation
    (Adam, ``lr``). The meta-gradient goes through the inner steps
    (second order) unless ``first_order=True``, which drops those second
    derivatives (first-order MAML: cheaper, often about as good).

    At test time, :class:`MAMLClassifier` takes the fitted ``MAML`` and, in
    its ``fit(X_support, y_support)``, runs the inner steps on a copy of
    the initialisation; the support's ``i``-th class (in sorted order) is
    output ``i`` of the network, so a support set has at most ``n_way``
    classes.

    Batch norm, as in the default trunk, normalises the support rows with
    their own statistics and the queries with the support's (never the
    other queries'), in meta-training and at test time alike.

    ``module=None`` picks the trunk of :class:`ProtoNetEncoder` from the
    input shape, with a linear head of ``n_way`` outputs.

    Read more in the :ref:`User Guide <few_shot>`.

    Parameters
    ----------
    module : torch.nn.Module class or instance, or None, default=None
        A module class gets ``output_dim=n_way``; an instance must return
        at least ``n_way`` logits.
    n_way : int, default=5
        Classes per meta-training episode, and the most a support set may
        have at test time.
    k_shot : int, default=1
        Support rows per class in meta-training episodes.
    n_query : int, default=15
        Query rows per class in meta-training episodes.
    inner_lr : float, default=0.1
        Step size of the inner loop (plain gradient descent).
    inner_steps : int, default=10
        Inner steps, in meta-training and, by default, at test time (4 to
        10 are typical). On digits, 5 steps adapt too little to 5-shot
        support sets: 10 gave 0.91-0.93 where 5 gave 0.81-0.88.
    first_order : bool, default=False
        First-order MAML: no second derivatives through the inner loop.
    meta_batch_size : int, default=4
        Episodes per meta-update.
    episodes_per_epoch : int, default=100
    max_epochs : int, default=4
    lr : float, default=3e-4
        Adam's learning rate of the meta-update, decayed along a cosine. A
        short, gentle meta-training: with five base classes (digits 0-4),
        longer or faster meta-training fits the base classes and adapts
        worse to new ones (1-shot 0.69 after 2000 episodes at 1e-3,
        against 0.77 after 400 at 3e-4).
    augment : {'auto', 'weak', 'strong'}, callable or None, default='auto'
    lr_schedule : {'cosine', 'constant'}, default='cosine'
    random_state : int or None, default=None
    device : str or torch.device, default='cpu'
    verbose : int, default=0
    **kwargs
        Other skorch parameters (``module__width``...).

    Attributes
    ----------
    classes_ : ndarray
        The base classes.
    module_ : torch.nn.Module
        The meta-learned initialisation.
    n_steps_ : int
        Meta-updates taken.
    history_ : skorch History
    input_shape_ : tuple
    n_features_in_ : int
        Only for rows ``(n, d)``.

    See Also
    --------
    MAMLClassifier : Adapts the initialisation to a support set.

    References
    ----------
    .. [1] C. Finn, P. Abbeel, S. Levine, "Model-Agnostic Meta-Learning for
       Fast Adaptation of Deep Networks", ICML 2017.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.few_shot import MAML, MAMLClassifier
    >>> X, y = load_digits_images()
    >>> base, novel = y < 5, y >= 5
    >>> maml = MAML(max_epochs=1, episodes_per_epoch=8, random_state=0)
    >>> maml = maml.fit(X[base], y[base])
    >>> clf = MAMLClassifier(maml).fit(X[novel][:10], y[novel][:10])
    >>> clf.predict(X[novel][10:13]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "n_way": [Interval(Integral, 2, None, closed="left")],
        "k_shot": [Interval(Integral, 1, None, closed="left")],
        "n_query": [Interval(Integral, 1, None, closed="left")],
        "inner_lr": [Interval(Real, 0, None, closed="neither")],
        "inner_steps": [Interval(Integral, 0, None, closed="left")],
        "first_order": ["boolean"],
        "meta_batch_size": [Interval(Integral, 1, None, closed="left")],
        "episodes_per_epoch": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, module=None, *, n_way=5, k_shot=1, n_query=15, inner_lr=0.1,
                 inner_steps=10, first_order=False, meta_batch_size=4,
                 episodes_per_epoch=100, max_epochs=4, lr=3e-4, augment="auto",
                 lr_schedule="cosine", random_state=None, device="cpu", verbose=0,
                 **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, augment=augment,
                         lr_schedule=lr_schedule, random_state=random_state,
                         device=device, verbose=verbose, **kwargs)
        self.n_way = n_way
        self.k_shot = k_shot
        self.n_query = n_query
        self.inner_lr = inner_lr
        self.inner_steps = inner_steps
        self.first_order = first_order
        self.meta_batch_size = meta_batch_size
        self.episodes_per_epoch = episodes_per_epoch

    @property
    def _module_output_dim(self):
        return int(self.n_way)

    def check_training_target(self, y):
        check_episode_target(y, self.n_way, self.k_shot, self.n_query,
                             who=type(self).__name__)

    def initialize(self):
        super().initialize()
        shape = getattr(self, "input_shape_", None)
        if shape is not None:
            # A module instance is the user's: check it has a logit per class.
            x = torch.zeros((1, *shape), device=self.device)
            with eval_mode(self.module_), torch.no_grad():
                out = self.module_(x)
            if out.ndim != 2 or out.shape[1] < self.n_way:
                raise ValueError(
                    f"MAML: the module returns outputs of shape {tuple(out.shape)} for one "
                    f"row; it must return at least n_way={self.n_way} logits per row.")
        return self

    def make_train_iterator(self, dataset):
        it = EpisodeBatchIterator(dataset, self.n_way, self.k_shot, self.n_query,
                                  self.episodes_per_epoch,
                                  tasks_per_step=self.meta_batch_size,
                                  seed=self._iterator_seed)
        self.steps_per_epoch_ = len(it)
        return it

    def compute_loss(self, batch, **fit_params):
        X, _ = batch
        n_tasks = X.shape[0]
        n_way, k, q = self.n_way, self.k_shot, self.n_query
        x = self.weak(X.flatten(0, 1)).reshape(n_tasks, n_way, k + q, *X.shape[2:])
        module = self.module_
        params = dict(module.named_parameters())
        buffers = dict(module.named_buffers())
        y_s = torch.arange(n_way, device=X.device).repeat_interleave(k)
        y_q = torch.arange(n_way, device=X.device).repeat_interleave(q)
        losses, logits = [], None
        for t in range(n_tasks):
            loss, logits = maml_task_loss(
                module, params, buffers, x[t, :, :k].flatten(0, 1), y_s,
                x[t, :, k:].flatten(0, 1), y_q, self.inner_lr, self.inner_steps,
                n_classes=n_way, first_order=self.first_order)
            losses.append(loss)
        return torch.stack(losses).mean(), logits

    def transform(self, X):
        """Features of the meta-learned initialisation's trunk (before adaptation).

        Batch norm layers, if the network has them, normalise with their
        running statistics in eval mode; meta-training normalises every task
        with its own support set and leaves those statistics at their
        initial values (mean 0, variance 1), so these features are not
        normalised. :class:`MAMLClassifier` does not use them: it normalises
        with the support set, as meta-training does.

        Parameters
        ----------
        X : array-like or tensor

        Returns
        -------
        Z : ndarray of float32, shape (n_samples, n_dims)
        """
        return super().transform(X)


class MAMLClassifier(BaseFewShotClassifier):
    """Adapt a MAML initialisation to a support set with a few gradient steps.

    ``fit(X_support, y_support)`` copies the meta-learned network of a
    fitted :class:`MAML`, runs ``inner_steps`` steps of gradient descent
    with ``inner_lr`` on the cross-entropy of the support rows (the
    ``i``-th class in sorted order is output ``i``), and keeps the adapted
    copy; ``predict`` answers the queries with it. Batch norm normalises
    the queries with the support set's statistics, so a query's prediction
    never depends on the other queries.

    ``maml=None`` adapts a network from a random initialisation instead
    (the default trunk for the input shape, seeded by ``random_state``):
    the same steps without meta-learning, the baseline that shows what
    meta-training buys.

    A fitted ``MAML`` is used frozen: ``fit`` never refits it, and
    ``clone`` keeps it (see :class:`PrototypeClassifier`). Labels are the
    user's own; rows labeled ``-1`` are ignored.

    Read more in the :ref:`User Guide <few_shot>`.

    Parameters
    ----------
    maml : fitted MAML or None, default=None
    inner_steps : int or None, default=None
        None: the MAML's ``inner_steps`` (10 without a MAML).
    inner_lr : float or None, default=None
        None: the MAML's ``inner_lr`` (0.1 without a MAML).
    random_state : int or None, default=None
        Seeds the random initialisation when ``maml=None`` (and dropout,
        if the module has any).
    device : str, torch.device or None, default=None
        None: the MAML's device ('cpu' without a MAML).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    module_ : torch.nn.Module
        The adapted network, in eval mode and float64 (predictions then do
        not depend on how many rows are predicted at once).
    input_shape_ : tuple
    n_features_in_ : int
        Only for rows ``(n, d)``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of a DataFrame ``X`` given to ``fit``, when they are all
        strings; ``predict`` refuses other or reordered columns.

    See Also
    --------
    MAML : Meta-learns the initialisation.

    References
    ----------
    .. [1] C. Finn, P. Abbeel, S. Levine, "Model-Agnostic Meta-Learning for
       Fast Adaptation of Deep Networks", ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.few_shot import MAMLClassifier
    >>> X = np.array([[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.2]], "float32")
    >>> clf = MAMLClassifier(inner_steps=20, random_state=0).fit(X, [7, 7, 9, 9])
    >>> clf.predict(X)
    array([7, 7, 9, 9])
    """

    _meta_param = "maml"
    _sklabelfree_deep = True

    _parameter_constraints: dict = {
        "maml": [HasMethods(["fit"]), None],
        "inner_steps": [Interval(Integral, 0, None, closed="left"), None],
        "inner_lr": [Interval(Real, 0, None, closed="neither"), None],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(self, maml=None, *, inner_steps=None, inner_lr=None, random_state=None,
                 device=None):
        self.maml = maml
        self.inner_steps = inner_steps
        self.inner_lr = inner_lr
        self.random_state = random_state
        self.device = device

    def _settings(self, maml):
        steps = self.inner_steps
        lr = self.inner_lr
        if steps is None:
            steps = maml.inner_steps if maml is not None else 10
        if lr is None:
            lr = maml.inner_lr if maml is not None else 0.1
        device = self.device
        if device is None:
            device = maml.device if maml is not None else "cpu"
        return int(steps), float(lr), torch.device(device)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Adapt a copy of the initialisation to the support set.

        Parameters
        ----------
        X : array-like or tensor
            Support rows, of the sample shape the MAML was fitted on.
        y : array-like of shape (n_samples,)
            Their labels (at most the MAML's ``n_way`` classes); rows labeled
            ``-1`` are ignored.

        Returns
        -------
        self
        """
        maml = self._check_meta()
        who = type(self).__name__
        y, labeled, classes = self._check_support(X, y)
        X_in, X = X, check_net_input(
            X, expected_shape=None if maml is None else maml.input_shape_, owner=who)
        if X.shape[0] != y.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} rows but y has {y.shape[0]}: they must have the "
                "same number of rows.")
        n_classes = len(classes)
        if maml is not None and n_classes > maml.n_way:
            raise ValueError(
                f"{who}: the support set has {n_classes} classes but the MAML was "
                f"meta-trained with n_way={maml.n_way} outputs: a support set may have "
                f"at most {maml.n_way} classes.")
        steps, lr, device = self._settings(maml)
        lookup = {c: i for i, c in enumerate(classes.tolist())}
        idx = np.flatnonzero(labeled)
        codes = torch.as_tensor([lookup[c] for c in y[idx].tolist()], device=device)
        x = torch.as_tensor(X)[torch.as_tensor(idx)].to(device)
        _record_input_shape(self, X)
        _check_feature_names(self, X_in, reset=True)
        seeded = self.random_state is not None
        cuda = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda, enabled=seeded):
            if seeded:
                torch.manual_seed(int(self.random_state))
            if maml is None:
                module = default_few_shot_module(self.input_shape_, n_classes)
            else:
                module = copy.deepcopy(maml.module_)
            module = module.to(device)
            params = {n: p.detach().clone().requires_grad_(True)
                      for n, p in module.named_parameters()}
            buffers = {n: b.clone() for n, b in module.named_buffers()}
            module.train()
            with torch.enable_grad(), _support_statistics(module):
                adapted = maml_adapt(module, params, buffers, x, codes, lr, steps,
                                     n_classes=n_classes, create_graph=False)
                with torch.no_grad():
                    adapted = {k: v.detach() for k, v in adapted.items()}
                    if _batch_norms(module):
                        functional_call(module, (adapted, buffers), (x,))
        with torch.no_grad():
            for n, p in module.named_parameters():
                p.copy_(adapted[n])
                p.requires_grad_(False)
            for n, b in module.named_buffers():
                b.copy_(buffers[n])
        # Predictions run in float64: float32 kernels give results that differ
        # in the last bits with the number of rows, float64 ones do not at the
        # precision of the predictions.
        self.module_ = module.double().eval()
        self.classes_ = classes
        return self

    def _logits(self, X):
        check_is_fitted(self)
        _check_feature_names(self, X, reset=False)
        X = check_net_input(X, expected_shape=self.input_shape_, owner=type(self).__name__)
        module = self.module_
        device = next(module.parameters()).device
        out = []
        with torch.no_grad():
            for i in range(0, X.shape[0], 512):
                xb = torch.as_tensor(X[i:i + 512]).to(device, torch.float64)
                out.append(module(xb)[:, :len(self.classes_)].cpu())
        return torch.cat(out).numpy().astype(np.float64)

    def decision_function(self, X):
        """Logits of the adapted network for the query rows.

        Parameters
        ----------
        X : array-like or tensor

        Returns
        -------
        logits : ndarray of shape (n_samples, n_classes) or (n_samples,)
            With two classes, the logit of the second minus the first.
        """
        logits = self._logits(X)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X):
        """Softmax of the adapted network's logits, in the order of ``classes_``.

        Parameters
        ----------
        X : array-like or tensor

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        logits = self._logits(X)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predicted classes (labels of the support set).

        Parameters
        ----------
        X : array-like or tensor

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        logits = self._logits(X)
        return self.classes_[logits.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
