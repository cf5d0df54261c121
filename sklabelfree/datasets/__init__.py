"""Data sets and helpers to make partially labeled data.

Every data set ships with a package (digits with scikit-learn) or is
generated here: nothing is downloaded.
"""

from ._digits import digits_benchmark_split, load_digits_images
from ._partial import make_partially_labeled
from ._views import image_half_views

__all__ = [
    "digits_benchmark_split",
    "image_half_views",
    "load_digits_images",
    "make_partially_labeled",
]
