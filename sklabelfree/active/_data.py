"""Row access for the pools an active learner works on.

A pool may be a numpy array, a pandas DataFrame, a scipy sparse matrix or a
torch tensor. These helpers take rows, append rows and turn a block of rows
into a numpy array, without importing pandas or torch unless the pool is
one of theirs.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples

__all__ = []


def _is_torch(X):
    return type(X).__module__.split(".")[0] == "torch" and hasattr(X, "index_select")


def _is_pandas(X):
    return hasattr(X, "iloc") and hasattr(X, "columns")


def n_rows(X):
    """Number of rows of any supported pool."""
    if _is_torch(X):
        return int(X.shape[0])
    return _num_samples(X)


def take_rows(X, rows):
    """Rows ``rows`` (an int array or a slice) of ``X``, in the type of ``X``."""
    if isinstance(rows, slice):
        if _is_pandas(X):
            return X.iloc[rows]
        return X[rows]
    rows = np.asarray(rows, dtype=np.intp)
    if _is_torch(X):
        import torch

        return X.index_select(0, torch.as_tensor(rows, device=X.device))
    if sp.issparse(X) and X.format not in ("csr", "csc"):
        X = X.tocsr()
    return _safe_indexing(X, rows)


def concat_rows(A, B):
    """``A`` with the rows of ``B`` appended (a new object; neither is changed)."""
    if _is_torch(A):
        import torch

        B = B if _is_torch(B) else torch.as_tensor(np.asarray(B), dtype=A.dtype)
        return torch.cat([A, B.to(A.device)], dim=0)
    if _is_pandas(A):
        import pandas as pd

        if not _is_pandas(B):
            B = pd.DataFrame(np.asarray(B), columns=A.columns)
        return pd.concat([A, B], axis=0, ignore_index=True)
    if sp.issparse(A):
        return sp.vstack([A, sp.csr_matrix(B) if not sp.issparse(B) else B],
                         format="csr")
    if isinstance(A, list):
        return A + list(B)
    B = np.asarray(B)
    A = np.asarray(A)
    if B.ndim == A.ndim - 1:
        B = B[None]
    return np.concatenate([A, B], axis=0)


def as_batch(x, like):
    """One row ``x`` as a batch of one when it lacks the batch axis of ``like``.

    ``x`` may be a 1-D array or tensor (a tabular row), an image without its
    batch axis, a pandas Series (a row of a DataFrame pool) or a string (a
    row of a text pool, a list); a batch is returned as it is.
    """
    if isinstance(x, (str, bytes)):
        return [x]
    if hasattr(x, "to_frame") and not hasattr(x, "columns"):
        # A pandas Series: a row of a DataFrame.
        if _is_pandas(like):
            return x.to_frame().T.infer_objects()
        x = x.to_numpy()
    if isinstance(like, list):
        # A list pool: texts (a row is a string, handled above) or rows as
        # lists. A row with one axis fewer than the pool's rows lacks its
        # batch axis.
        try:
            if like and not isinstance(like[0], (str, bytes)) and (
                    np.ndim(x) == np.ndim(like[0])):
                return [x]
        except ValueError:  # ragged rows: numpy cannot tell their depth
            pass
        return x
    ndim = getattr(like, "ndim", None)
    if ndim is None and hasattr(like, "shape"):
        ndim = len(like.shape)
    x_ndim = getattr(x, "ndim", None)
    if x_ndim is None:
        x = np.asarray(x)
        x_ndim = x.ndim
    if ndim is not None and x_ndim == ndim - 1:
        return x[None]
    return x


def to_numpy(X, dtype=None):
    """A block of rows as a numpy array (sparse stays sparse, as CSR)."""
    if _is_torch(X):
        X = X.detach().cpu().numpy()
    elif _is_pandas(X):
        X = X.to_numpy()
    elif sp.issparse(X):
        return X.tocsr() if dtype is None else X.tocsr().astype(dtype)
    return np.asarray(X, dtype=dtype)


def flat_features(X):
    """Rows as 2-D float features (images and signals are flattened)."""
    X = to_numpy(X, dtype=None)
    if sp.issparse(X):
        return X.astype(np.float64)
    X = np.asarray(X, dtype=np.float64)
    return X.reshape(X.shape[0], -1)
