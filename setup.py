"""Packaging for sklabelfree."""

import os
import re

from setuptools import find_packages, setup

HERE = os.path.abspath(os.path.dirname(__file__))


def read_version():
    with open(os.path.join(HERE, "sklabelfree", "_version.py"), encoding="utf-8") as f:
        return re.search(r'__version__ = "([^"]+)"', f.read()).group(1)


with open(os.path.join(HERE, "README.rst"), encoding="utf-8") as f:
    LONG_DESCRIPTION = f.read()

INSTALL_REQUIRES = [
    "numpy>=1.24",
    "scipy>=1.10",
    "joblib>=1.2",
    "scikit-learn>=1.6",
    "skorch>=1.0",
    # Any 2.x release from 2.1 on; 2.13.0 is the one CI installs first.
    "torch>=2.1,<3",
    "tqdm>=4.60",
]

EXTRAS_REQUIRE = {
    "test": [
        "pytest>=7",
        "pytest-xdist>=3.0",
        "pandas>=1.5",
        "matplotlib>=3.6",
        "skops>=0.10",
        "dask[distributed]>=2023.1",
    ],
    "docs": [
        "sphinx>=7",
        "numpydoc>=1.6",
        "sphinx-gallery>=0.15",
        "matplotlib>=3.6",
        "pandas>=1.5",
    ],
    "plot": ["matplotlib>=3.6"],
    "dask": ["dask[distributed]>=2023.1"],
}

setup(
    name="sklabelfree",
    version=read_version(),
    description="Learning with few labels for scikit-learn users",
    long_description=LONG_DESCRIPTION,
    long_description_content_type="text/x-rst",
    license="BSD-3-Clause",
    packages=find_packages(include=["sklabelfree", "sklabelfree.*"]),
    python_requires=">=3.10",
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    classifiers=[
        "Intended Audience :: Science/Research",
        "License :: OSI Approved :: BSD License",
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
