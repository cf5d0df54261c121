"""Sphinx configuration of sklabelfree's documentation.

Build with ``make html`` (warnings are errors) from this folder. The
examples in ``../examples`` are executed by sphinx-gallery.
"""

import doctest
import os
import sys

# The package is imported from the source tree, so the docs build without
# installing it.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..")))

import matplotlib  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

matplotlib.use("Agg")

# The examples fit small models (a 1257 x 64 digits matrix): multi-threaded
# BLAS gains nothing there, and on a busy 2-core machine its spinning threads
# made the whole build take 19 minutes instead of about 1. One thread unless
# the environment asks for more.
if not any(
    var in os.environ
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
):
    threadpool_limits(limits=1)

from sklabelfree._version import __version__  # noqa: E402

# -- Project -------------------------------------------------------------------
project = "sklabelfree"
author = "sklabelfree developers"
copyright = "sklabelfree developers"
version = ".".join(__version__.split(".")[:2])
release = __version__

# -- General -------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
# ``code`` in single backticks is a Python object reference, as in scikit-learn.
default_role = "obj"

# -- autodoc / autosummary / numpydoc -----------------------------------------
autosummary_generate = True
autodoc_default_options = {"member-order": "groupwise"}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- doctest: ``make doctest`` runs the snippets of the user guide and the ----
# examples of the docstrings shown in the API reference.
doctest_default_flags = (
    doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL | doctest.NORMALIZE_WHITESPACE
)
doctest_global_setup = "import numpy as np"

# -- HTML ----------------------------------------------------------------------
html_theme = "alabaster"
html_theme_options = {
    "description": "Learning with few labels, as scikit-learn estimators",
    "fixed_sidebar": True,
}
html_static_path = []
html_title = f"sklabelfree {release}"

# -- sphinx-gallery ------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Execute every plot_*.py script; a failing example fails the build.
    "filename_pattern": "/plot_",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "show_memory": False,
    # Links from each API page to the examples that use it.
    "doc_module": ("sklabelfree",),
    "backreferences_dir": os.path.join("generated", "backreferences"),
    "reference_url": {"sklabelfree": None},
}
