"""Few-shot learning: meta-train on base classes once, adapt to new ones in ``fit``.

One protocol for every method. A meta-trained object (an encoder, or a
MAML initialisation) is fitted once on the base classes; a light
classifier takes it and, in ``fit(X_support, y_support)``, adapts to a
support set of new classes, then ``predict`` answers the queries:

- :class:`ProtoNetEncoder` (prototypical networks) with
  :class:`PrototypeClassifier` (nearest class mean, optionally refined by
  soft k-means with unlabeled rows);
- :class:`BaselineEncoder` (Baseline and Baseline++) with
  :class:`FineTunedHeadClassifier` (a new linear or cosine head on frozen
  features);
- :class:`MAML` with :class:`MAMLClassifier` (a few gradient steps from
  the meta-learned initialisation).

:class:`EpisodeSampler` draws N-way K-shot episodes (a cross-validation
splitter) and :func:`evaluate_episodes` reports the mean accuracy over
episodes with its 95% interval. Labels stay the user's own throughout.

The torch estimators are imported on first use, so that importing this
package does not import torch.
"""

import importlib

from ._episodes import EpisodeSampler, check_episode_target, evaluate_episodes
from ._head import FineTunedHeadClassifier
from ._prototype import PrototypeClassifier

# Torch estimators: name -> private module, imported when first accessed.
_DEEP = {
    "BaselineEncoder": "._baseline",
    "MAML": "._maml",
    "MAMLClassifier": "._maml",
    "maml_adapt": "._maml",
    "maml_task_loss": "._maml",
    "ProtoNetEncoder": "._protonet",
}

__all__ = [
    "EpisodeSampler",
    "FineTunedHeadClassifier",
    "PrototypeClassifier",
    "check_episode_target",
    "evaluate_episodes",
    *sorted(_DEEP),
]


def __getattr__(name):
    if name in _DEEP:
        value = getattr(importlib.import_module(_DEEP[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
