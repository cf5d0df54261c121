"""What the skorch nets that are transformers (encoders) share."""

import contextlib

import numpy as np
import torch
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._base import check_net_input

__all__ = ["EmbeddingNetMixin", "eval_mode"]


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


class EmbeddingNetMixin:
    """For skorch nets that are scikit-learn transformers: embeddings, not predictions.

    Put it before :class:`sklearn.base.TransformerMixin` and skorch's
    ``NeuralNet``. The net must define ``features(x)`` (the embedding of a
    batch tensor on its device) and ``input_shape_``. ``transform`` embeds
    in batches, in eval mode, as float32; skorch's inherited ``predict`` and
    ``predict_proba`` (the module's raw outputs) are hidden, so
    ``hasattr(net, "predict")`` is False and a ``Pipeline`` ending in the net
    is a transformer.

    Examples
    --------
    >>> from sklabelfree.neural import EmbeddingNetMixin
    >>> from sklabelfree.self_supervised import SimCLREncoder
    >>> issubclass(SimCLREncoder, EmbeddingNetMixin), hasattr(SimCLREncoder(), "predict")
    (True, False)
    """

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
        X = check_net_input(X, expected_shape=self.input_shape_, owner=type(self).__name__)
        bs = max(self.batch_size, 256)
        out = []
        with eval_mode(self.module_), torch.no_grad():
            for i in range(0, X.shape[0], bs):
                xb = torch.as_tensor(X[i:i + bs]).to(self.device)
                out.append(self.features(xb).reshape(xb.shape[0], -1).cpu())
        return torch.cat(out).numpy().astype(np.float32, copy=False)
