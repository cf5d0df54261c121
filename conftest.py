"""Settings of the test session.

Under pytest-xdist (``pytest -n 2``), each worker process computes on one
thread: two workers then share two cores, instead of each starting a pool
of threads as wide as the machine. Set before numpy's BLAS and torch are
loaded, which read these variables once.
"""

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, "1")
