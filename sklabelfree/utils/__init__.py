"""Utilities: validation of partially labeled targets, model selection with
unlabeled rows, estimator checks and discovery of the public estimators."""

from .validation import AllLabeledWarning, check_partially_labeled, labeled_mask

__all__ = ["AllLabeledWarning", "check_partially_labeled", "labeled_mask"]
