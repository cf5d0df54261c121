"""Semi-supervised classifiers: learn from labeled rows and rows labeled ``-1``.

Meta-estimators that make any scikit-learn classifier semi-supervised:
self-training with pseudo labels, co-training over two views, and noisy
student training.
"""

from ._pseudo_label import PseudoLabelClassifier

__all__ = ["PseudoLabelClassifier"]
