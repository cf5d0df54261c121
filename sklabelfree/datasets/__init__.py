"""Data sets and helpers to make partially labeled data.

Every data set ships with a package (digits with scikit-learn) or is
generated here: nothing is downloaded.
"""

from ._captions import (
    DIGIT_CLASS_PROMPTS,
    DIGIT_PROMPT_TEMPLATES,
    DIGIT_WORDS,
    make_digit_captions,
)
from ._color import colorize_digits
from ._digits import digits_benchmark_split, load_digits_images
from ._partial import make_partially_labeled
from ._signals import make_signal_classification
from ._views import image_half_views

__all__ = [
    "DIGIT_CLASS_PROMPTS",
    "DIGIT_PROMPT_TEMPLATES",
    "DIGIT_WORDS",
    "colorize_digits",
    "digits_benchmark_split",
    "image_half_views",
    "load_digits_images",
    "make_digit_captions",
    "make_partially_labeled",
    "make_signal_classification",
]
