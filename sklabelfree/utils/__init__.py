"""Utilities: validation of partially labeled targets, model selection with
unlabeled rows, estimator checks and discovery of the public estimators."""

from .validation import (
    AllLabeledWarning,
    as_label_array,
    check_partially_labeled,
    check_string_minus_one,
    labeled_mask,
)

__all__ = [
    "AllLabeledWarning",
    "as_label_array",
    "check_partially_labeled",
    "check_string_minus_one",
    "labeled_mask",
]
