"""What the skorch nets that are transformers (encoders) share."""

import contextlib
import inspect

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _check_feature_names, check_is_fitted

from ._base import SeededNetMixin, check_net_input
from ._schedule import CosineDecay

__all__ = ["EmbeddingNetMixin", "eval_mode", "forward_takes_return_features"]


def forward_takes_return_features(module):
    """Whether ``module.forward`` takes a ``return_features`` argument.

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    bool

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.neural import forward_takes_return_features
    >>> from sklabelfree.nn import MLP
    >>> forward_takes_return_features(MLP(4, 2)), forward_takes_return_features(torch.nn.ReLU())
    (True, False)
    """
    try:
        return "return_features" in inspect.signature(module.forward).parameters
    except (TypeError, ValueError):
        return False


@contextlib.contextmanager
def eval_mode(module):
    """Put every submodule of ``module`` in eval mode, and restore each one's mode after.

    Parameters
    ----------
    module : torch.nn.Module

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.neural import eval_mode
    >>> net = torch.nn.Sequential(torch.nn.Dropout(0.5)).train()
    >>> with eval_mode(net):
    ...     net.training
    False
    >>> net.training
    True
    """
    modes = [m.training for m in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for m, mode in zip(module.modules(), modes):
            m.training = mode


class EmbeddingNetMixin(SeededNetMixin, TransformerMixin):
    """For skorch nets that are scikit-learn transformers: embeddings, not predictions.

    Put it before skorch's ``NeuralNet``. It is a
    :class:`sklearn.base.TransformerMixin` whose own ``transform`` is
    wrapped by scikit-learn's output containers, so ``set_output(transform=
    "pandas")`` gives DataFrames from ``transform`` as from
    ``fit_transform``. The net must define ``features(x)`` (the embedding of a
    batch tensor on its device) and ``input_shape_``. ``transform`` embeds
    in batches, in eval mode, as float32; skorch's inherited ``predict`` and
    ``predict_proba`` (the module's raw outputs) are hidden, so
    ``hasattr(net, "predict")`` is False and a ``Pipeline`` ending in the net
    is a transformer.

    It also gives what the encoder bases share: parameter validation over
    the ``_parameter_constraints`` of every class of the net (a subclass's
    entry wins) and a refusal of ``train_split`` (the nets have no
    validation split; ``_no_validation_split`` says how to evaluate them),
    the fitted test (``initialized_`` and ``input_shape_``), the tags
    (deterministic, float32 kept, ``y`` required when ``_target_required``), a cosine
    learning-rate decay callback, seeding (``_seeded``) and
    ``get_feature_names_out``.

    Examples
    --------
    >>> from sklabelfree.neural import EmbeddingNetMixin
    >>> from sklabelfree.self_supervised import SimCLREncoder
    >>> issubclass(SimCLREncoder, EmbeddingNetMixin), hasattr(SimCLREncoder(), "predict")
    (True, False)
    """

    _no_validation_split = "evaluate it on held-out data"
    # Whether fit needs y (the few-shot nets learn from base-class labels).
    _target_required = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.target_tags.required = self._target_required
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def _get_param_names(self):
        # skorch lists every attribute without a trailing underscore, private
        # bookkeeping included; parameters never start with an underscore.
        return [k for k in super()._get_param_names() if not k.startswith("_")]

    def _check_own_params(self):
        constraints = {}
        for klass in reversed(type(self).__mro__):
            constraints.update(getattr(klass, "_parameter_constraints", {}))
        validate_parameter_constraints(
            constraints, {k: getattr(self, k) for k in constraints},
            caller_name=type(self).__name__)
        if self.train_split is not None:
            raise ValueError(
                f"{type(self).__name__}: train_split must be None; "
                f"{self._no_validation_split}.")

    def __sklearn_is_fitted__(self):
        return bool(getattr(self, "initialized_", False)) and hasattr(self, "input_shape_")

    def get_default_callbacks(self):
        return [*super().get_default_callbacks(), ("lr_schedule", CosineDecay())]

    def check_data(self, X, y=None):
        # The nets validate their own input (check_net_input) before skorch.
        pass

    def _embedding_dim(self):
        with eval_mode(self.module_), torch.no_grad():
            z = self.features(torch.zeros((1, *self.input_shape_), device=self.device))
        return int(z.reshape(1, -1).shape[1])

    def get_feature_names_out(self, input_features=None):
        """Names of the embedding's dimensions: ``<classname>0``, ``<classname>1``...

        Parameters
        ----------
        input_features : object
            Ignored.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self)
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self._embedding_dim())],
                          dtype=object)

    def _check_column_names(self, X, *, reset):
        """Record (``reset``, at fit) or check the column names of a DataFrame ``X``.

        As scikit-learn's transformers do: ``feature_names_in_`` is set when
        a DataFrame with string column names is fitted, and later calls with
        other or reordered columns are refused (a warning when the names
        come or go).
        """
        _check_feature_names(self, X, reset=reset)

    def set_params(self, **params):
        """Set parameters, as skorch's ``NeuralNet.set_params`` does.

        skorch reads a key that starts with the name of a module attribute
        (``queue_``, ``decoder_``) as a parameter of that module; the
        net's own constructor parameters that such a name begins
        (``queue_size``, ``decoder_dim``) are set as they are named. Every
        other key goes to skorch (``lr`` updates the optimizer in place).

        Parameters
        ----------
        **params : dict

        Returns
        -------
        self
        """
        own = set(self._get_param_names())
        prefixes = getattr(self, "prefixes_", ())
        # ``queue_size`` (a parameter) starts with the prefix ``queue``; a
        # ``module__width`` given at construction is also listed as a
        # parameter, but it is a component's parameter: skorch sets it.
        misread = [key for key in params if key in own and key not in prefixes
                   and any(key.startswith(p) and not key.startswith(p + "__")
                           for p in prefixes)]
        plain = {key: params.pop(key) for key in misread}
        if plain:
            BaseEstimator.set_params(self, **plain)
        if params:
            super().set_params(**params)
        return self

    @available_if(lambda self: False)
    def predict(self, X):
        """Not available: this net embeds (``transform``); put a classifier after it."""

    @available_if(lambda self: False)
    def predict_proba(self, X):
        """Not available: this net embeds (``transform``); put a classifier after it."""

    def transform(self, X):
        """Embeddings of ``X`` by the trained network, in eval mode.

        Parameters
        ----------
        X : array-like or tensor
            Same sample shape as in ``fit``.

        Returns
        -------
        Z : ndarray of float32, shape (n_samples, n_dims)
        """
        check_is_fitted(self)
        self._check_column_names(X, reset=False)
        X = check_net_input(X, expected_shape=self.input_shape_, owner=type(self).__name__)
        bs = max(self.batch_size, 256)
        out = []
        with eval_mode(self.module_), torch.no_grad():
            for i in range(0, X.shape[0], bs):
                xb = torch.as_tensor(X[i:i + bs]).to(self.device)
                out.append(self.features(xb).reshape(xb.shape[0], -1).cpu())
        return torch.cat(out).numpy().astype(np.float32, copy=False)
