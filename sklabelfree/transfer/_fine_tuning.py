"""Fine-tuning a pretrained encoder with a new head."""

import copy
from numbers import Integral, Real

import torch
from skorch.callbacks import Callback
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ..neural import forward_takes_return_features
from ..nn import CosineHead, LinearHead
from ..semi_supervised import SupervisedNetClassifier
from ..utils.validation import AllLabeledWarning

__all__ = ["FineTuningClassifier"]


class _FineTuned(nn.Module):
    """A copied trunk and a new head; frozen parts of the trunk stay in eval mode."""

    def __init__(self, trunk, head, use_features, frozen):
        super().__init__()
        self.trunk = trunk
        self.head = head
        self.use_features = use_features
        self.frozen = frozen  # list of trunk prefixes ('' = everything) or []

    def is_frozen(self, name):
        return any(name == p or name.startswith(p + ".") or p == "" for p in self.frozen)

    def apply_freeze(self):
        for name, param in self.trunk.named_parameters():
            param.requires_grad_(not self.is_frozen(name))
        return self

    def features(self, x):
        if self.use_features:
            return self.trunk(x, return_features=True)
        return self.trunk(x).flatten(1)

    def forward(self, x):
        return self.head(self.features(x))

    def train(self, mode=True):
        super().train(mode)
        if mode:
            # Frozen batch norms keep the statistics of the pretraining data.
            for name, module in self.trunk.named_modules():
                if name and self.is_frozen(name) and isinstance(
                        module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self


class _Unfreeze(Callback):
    """Unfreezes the whole trunk at the end of epoch ``unfreeze_after``."""

    def on_epoch_end(self, net, **kwargs):
        if net.unfreeze_after is not None and len(net.history) == net.unfreeze_after:
            net.unfreeze()


class FineTuningClassifier(SupervisedNetClassifier):
    """Fine-tune a pretrained network: keep its trunk, train a new head.

    The encoder's network is copied (the encoder itself is never changed);
    its last layer is replaced by a new head for the classes of ``y``. The
    trunk's parameters named by ``freeze`` do not train (and their batch
    norms keep the pretraining statistics); the others train with a learning
    rate ``trunk_lr_factor`` times the head's, the usual practice of
    fine-tuning (Yosinski et al., 2014; Howard & Ruder, 2018, discriminative
    learning rates). With ``unfreeze_after=k``, the head trains alone for
    ``k`` epochs ("linear probing") and then the whole trunk is unfrozen,
    at the smaller rate: linear probing first, then fine-tuning (Kumar et
    al., 2022). Training uses the labeled rows of ``y`` (``-1`` rows are
    ignored) with the options of
    :class:`~sklabelfree.semi_supervised.SupervisedNetClassifier`.

    Parameters
    ----------
    encoder : fitted skorch net, torch.nn.Module, or FrozenEstimator of a net
        The pretrained network: a fitted sklabelfree net or encoder (its
        ``ema_module_`` when it has one, else its ``module_``), any fitted
        skorch net, or a ``torch.nn.Module``. Wrap a fitted net in
        :class:`sklearn.frozen.FrozenEstimator` to use the classifier in
        ``GridSearchCV`` (``clone`` would otherwise return an unfitted copy).
        Modules with a ``return_features`` argument (sklabelfree's MLP and
        ConvNets) give their features; other modules' outputs are the
        features.
    freeze : 'all', 'none' or list of str, default='all'
        Trunk parameters that do not train: all, none, or those whose name
        (in the trunk's ``named_parameters``) starts with one of the given
        prefixes (e.g. ``['features.0', 'features.1']``).
    head : {'linear', 'cosine'} or callable, default='linear'
        The new head: :class:`~sklabelfree.nn.LinearHead`,
        :class:`~sklabelfree.nn.CosineHead` (Baseline++), or a callable
        ``head(in_features, n_classes) -> torch.nn.Module``.
    trunk_lr_factor : float >= 0, default=0.1
        Learning rate of the trainable trunk parameters, relative to ``lr``.
    unfreeze_after : int or None, default=10
        Epoch after which every trunk parameter trains; never when None;
        ``0``: the whole trunk trains from the first epoch (``freeze`` then
        has no effect, as with ``freeze='none'``).
        The default trains the head alone for 10 epochs, then everything at
        the trunk's smaller rate: on digits, a ConvNet trained on classes
        0-4 and given 5 labeled rows of each of 5-9, this scored 0.64 on the
        other rows of 5-9, against 0.40 for the frozen trunk
        (``unfreeze_after=None``, 30 epochs), 0.62 for fine-tuning from the
        start (``freeze='none'``) and 0.19 for the same net from scratch.
    lr : float, default=3e-3
    max_epochs : int, default=30
    batch_size, steps_per_epoch, augment, random_state, device, verbose, lr_schedule, mixup_alpha, cutout
        As in :class:`~sklabelfree.semi_supervised.SupervisedNetClassifier`.
    ema_decay : float or None, default=None
        Moving average of the weights for prediction; off by default.
    **kwargs
        Other skorch parameters (``optimizer``, ``optimizer__weight_decay``...).
        ``optimizer__param_groups`` is replaced by the head and trunk groups.

    Attributes
    ----------
    module_ : torch.nn.Module
        The fine-tuned network (``module_.trunk``, ``module_.head``).
    n_features_out_ : int
        Width of the trunk's features.
    classes_, history_, input_shape_
        As in :class:`~sklabelfree.semi_supervised.SupervisedNetClassifier`.

    References
    ----------
    J. Yosinski, J. Clune, Y. Bengio and H. Lipson, "How transferable are
    features in deep neural networks?", NeurIPS 2014.
    J. Howard and S. Ruder, "Universal language model fine-tuning for text
    classification", ACL 2018.
    A. Kumar, A. Raghunathan, R. Jones, T. Ma and P. Liang, "Fine-tuning can
    distort pretrained features and underperform out-of-distribution",
    ICLR 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklabelfree.semi_supervised import SupervisedNetClassifier
    >>> from sklabelfree.transfer import FineTuningClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = (X / 16).astype("float32")
    >>> old, new = y < 5, y >= 5
    >>> source = SupervisedNetClassifier(max_epochs=3, random_state=0).fit(X[old], y[old])
    >>> clf = FineTuningClassifier(source, max_epochs=3, unfreeze_after=1, random_state=0)
    >>> clf = clf.fit(X[new][:50], y[new][:50])
    >>> sorted(set(clf.predict(X[new][50:]).tolist()))
    [5, 6, 7, 8, 9]
    """

    _parameter_constraints: dict = {
        "encoder": "no_validation",
        "freeze": [StrOptions({"all", "none"}), list],
        "head": [StrOptions({"linear", "cosine"}), callable],
        "trunk_lr_factor": [Interval(Real, 0, None, closed="left")],
        "unfreeze_after": [Interval(Integral, 0, None, closed="left"), None],
    }
    _sklabelfree_semi_supervised = False

    def __init__(self, encoder=None, *, freeze="all", head="linear", trunk_lr_factor=0.1,
                 unfreeze_after=10, mixup_alpha=0.0, cutout=0.0, lr=3e-3, max_epochs=30,
                 batch_size=32, steps_per_epoch=None, augment="auto", random_state=None,
                 device="cpu", verbose=0, ema_decay=None, lr_schedule="cosine", **kwargs):
        # Set before skorch's __init__: skorch refuses torch modules as
        # attributes once it is initialised, and the encoder may be one.
        self.encoder = encoder
        self.freeze = freeze
        self.head = head
        self.trunk_lr_factor = trunk_lr_factor
        self.unfreeze_after = unfreeze_after
        kwargs.pop("module", None)  # the network comes from the encoder
        super().__init__(None, mixup_alpha=mixup_alpha, cutout=cutout, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size,
                         steps_per_epoch=steps_per_epoch, augment=augment,
                         random_state=random_state, device=device, verbose=verbose,
                         ema_decay=ema_decay, lr_schedule=lr_schedule, **kwargs)

    def __setattr__(self, name, attr):
        if name == "encoder":
            # A parameter, copied at initialisation; not a component of this
            # net (skorch would refuse a torch module set after __init__).
            object.__setattr__(self, name, attr)
            return
        super().__setattr__(name, attr)

    def get_default_callbacks(self):
        return [*super().get_default_callbacks(), ("unfreeze", _Unfreeze())]

    def _encode_target(self, y, *args, **kwargs):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AllLabeledWarning)
            return super()._encode_target(y, *args, **kwargs)

    # ------------------------------------------------------------------ the network
    def _pretrained(self):
        """The encoder's network (not copied yet)."""
        encoder = self.encoder
        if encoder is None:
            raise ValueError(
                "FineTuningClassifier needs an encoder: a fitted skorch net (e.g. a "
                "sklabelfree classifier or encoder) or a torch.nn.Module.")
        if hasattr(encoder, "estimator") and not hasattr(encoder, "module_") and hasattr(
                encoder.estimator, "module_"):
            encoder = encoder.estimator  # a FrozenEstimator around a fitted net
        if isinstance(encoder, nn.Module):
            return encoder
        if hasattr(encoder, "module") and hasattr(encoder, "initialize"):
            if not getattr(encoder, "initialized_", False) or not hasattr(encoder, "module_"):
                raise ValueError(
                    f"the encoder {type(encoder).__name__} is not fitted. Fit it first; "
                    "inside GridSearchCV or clone, wrap the fitted net in "
                    "sklearn.frozen.FrozenEstimator so that it is not re-created unfitted.")
            ema = getattr(encoder, "ema_module_", None)
            return ema if ema is not None else encoder.module_
        raise TypeError(
            f"the encoder must be a fitted skorch net or a torch.nn.Module; got "
            f"{type(encoder).__name__}. For a scikit-learn transformer, put it in a "
            "Pipeline before a classifier instead.")

    def _encoder_input(self):
        """What the encoder takes, in words (its ``input_shape_``, else the
        size of its first linear or convolution layer), or ``None``."""
        encoder = self.encoder
        if hasattr(encoder, "estimator") and not hasattr(encoder, "module_"):
            encoder = encoder.estimator
        shape = getattr(encoder, "input_shape_", None)
        if shape is not None:
            return f"samples of shape {tuple(shape)}"
        for module in self._pretrained().modules():
            if isinstance(module, nn.Linear) and module.in_features > 0:
                return f"{module.in_features} features (its first layer: {module})"
            if isinstance(module, nn.modules.conv._ConvNd) and module.in_channels > 0:
                return f"{module.in_channels} input channels (its first layer: {module})"
        return None

    def initialize_module(self):
        trunk = copy.deepcopy(self._pretrained()).to(self.device)
        if isinstance(trunk, (nn.Sequential,)) or not forward_takes_return_features(trunk):
            use_features = False
        else:
            use_features = True
        if hasattr(trunk, "head") and use_features:
            trunk.head = nn.Identity()  # the old head is not used: drop its weights
        trunk.eval()
        probe = torch.zeros((2, *self.input_shape_), device=self.device)
        try:
            with torch.no_grad():
                feats = trunk(probe, return_features=True) if use_features else trunk(
                    probe).flatten(1)
        except (TypeError, RuntimeError, ValueError, IndexError) as exc:
            expected = self._encoder_input()
            raise ValueError(
                f"{type(self).__name__}: the encoder's network "
                f"({type(trunk).__name__}) cannot take samples of shape "
                f"{tuple(self.input_shape_)}"
                + (f"; it expects {expected}" if expected else "")
                + f". Give X the shape the encoder was trained on. ({exc})") from exc
        # After the probe: lazy layers have their parameters now.
        for p in trunk.parameters():
            p.requires_grad_(True)
        n_features = int(feats.shape[1])
        n_classes = len(self.classes_)
        if self.head == "linear":
            head = LinearHead(n_features, n_classes)
        elif self.head == "cosine":
            head = CosineHead(n_features, n_classes)
        else:
            head = self.head(n_features, n_classes)
        if self.freeze == "none" or self.unfreeze_after == 0:
            frozen = []
        elif self.freeze == "all":
            frozen = [""]
        else:
            names = [n for n, _ in trunk.named_parameters()]
            frozen = list(self.freeze)
            for prefix in frozen:
                if not any(n == prefix or n.startswith(prefix + ".") for n in names):
                    raise ValueError(
                        f"freeze prefix {prefix!r} matches no parameter of the trunk; its "
                        f"parameters are {names[:8]}{' ...' if len(names) > 8 else ''}.")
        module = _FineTuned(trunk, head.to(self.device), use_features, frozen)
        self.module_ = module.apply_freeze()
        self.n_features_out_ = n_features
        if self.ema_decay is None:
            self.ema_module_ = None
        else:
            ema = copy.deepcopy(self.module_)
            for p in ema.parameters():
                p.requires_grad_(False)
            self.ema_module_ = ema
        return self

    def initialize_optimizer(self, *args, **kwargs):
        named = list(self.get_all_learnable_params())
        _, opt_kwargs = self.get_params_for_optimizer("optimizer", named)
        opt_kwargs.pop("param_groups", None)
        lr = opt_kwargs.pop("lr", self.lr)
        # Frozen parameters sit in the trunk's group without gradients: the
        # optimizer skips them until they are unfrozen.
        trunk = [p for n, p in named if n.startswith("trunk.")]
        head = [p for n, p in named if not n.startswith("trunk.")]
        groups = [{"params": head, "lr": lr}]
        if trunk:
            groups.append({"params": trunk, "lr": lr * self.trunk_lr_factor})
        self.optimizer_ = self.optimizer(groups, **opt_kwargs)
        return self

    def unfreeze(self):
        """Let every trunk parameter train (at ``trunk_lr_factor * lr``).

        Returns
        -------
        self
        """
        self.module_.frozen = []
        self.module_.apply_freeze()
        if getattr(self, "ema_module_", None) is not None:
            self.ema_module_.frozen = []
        return self

    def embed(self, X):
        """The fine-tuned trunk's features of ``X`` (evaluation mode).

        (Not ``transform``: the classifier is not a scikit-learn transformer.)

        Parameters
        ----------
        X : array-like or tensor
            Same sample shape as in ``fit``.

        Returns
        -------
        features : ndarray of shape (n_samples, ``n_features_out_``)
        """
        X = self._check_predict_X(X)
        module = self.ema_module_ if getattr(self, "ema_module_", None) is not None \
            else self.module_
        was = module.training
        module.eval()
        out = []
        with torch.no_grad():
            for start in range(0, X.shape[0], 1024):
                xb = torch.as_tensor(X[start:start + 1024], device=self.device)
                out.append(module.features(xb).cpu())
        module.train(was)
        return torch.cat(out).numpy()
