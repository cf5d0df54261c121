"""Input noise for the student of :class:`NoisyStudentClassifier`.

Each noise is a small callable ``noise(X, random_state=None) -> X_noised``.
It never modifies ``X`` in place, returns a new object of the same shape and
kind (ndarray, sparse matrix or pandas DataFrame), and draws every random
number from ``random_state``. Its parameters can be read and set with
``get_params`` / ``set_params``, so that :func:`sklearn.base.clone`,
``GridSearchCV`` (``noise__std=[0.05, 0.1]``) and ``repr`` work when a noise
is the parameter of an estimator. The noises are deliberately *not*
scikit-learn estimators: they have no ``fit``.
"""

import inspect
from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

__all__ = ["GaussianNoise", "FeatureDropout", "SwapNoise"]


class _BaseNoise:
    """Parameters, ``repr`` and input handling shared by the noises."""

    # Whether the noise accepts scipy sparse matrices.
    _accepts_sparse = True

    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self")

    def get_params(self, deep=True):
        """Get the parameters of this noise.

        Parameters
        ----------
        deep : bool, default=True
            Ignored; a noise holds no nested objects.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set the parameters of this noise.

        Parameters
        ----------
        **params : dict
            Parameter names mapped to their new values.

        Returns
        -------
        self : object
        """
        valid = self._get_param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"Invalid parameter {key!r} for {type(self).__name__}. "
                    f"Valid parameters are: {valid}."
                )
            setattr(self, key, value)
        return self

    def __repr__(self):
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self"
        }
        changed = ", ".join(
            f"{k}={v!r}" for k, v in self.get_params().items()
            if not (k in defaults and _same(v, defaults[k]))
        )
        return f"{type(self).__name__}({changed})"

    def __eq__(self, other):
        return type(self) is type(other) and self.get_params() == other.get_params()

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self.get_params().items()))))

    # ------------------------------------------------------------------ helpers
    def _check_rate(self, name):
        value = getattr(self, name)
        if (
            not isinstance(value, Real) or isinstance(value, bool)
            or not 0.0 <= value < 1.0
        ):
            raise ValueError(
                f"{type(self).__name__}: {name} must be a float in [0, 1), got "
                f"{value!r}."
            )

    def __call__(self, X, random_state=None):
        """Return a noised copy of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Numeric inputs (dense arrays of images ``(n_samples, c, h, w)``
            work too). ``X`` is not modified.
        random_state : int, RandomState instance or None, default=None
            Source of every random number.

        Returns
        -------
        X_noised : same kind and shape as ``X``
            A float array (the dtype of ``X`` when it is a float dtype).
        """
        self._validate_params()
        rng = check_random_state(random_state)
        if sp.issparse(X):
            if not self._accepts_sparse:
                raise ValueError(
                    f"{type(self).__name__} does not accept sparse input: it would "
                    "fill the zero entries. Use FeatureDropout or GaussianNoise, "
                    "which keep X sparse, or pass a dense array."
                )
            out = X.copy()
            if out.format not in ("csr", "csc", "coo"):
                out = out.tocsr()
            if out.dtype.kind != "f":
                out = out.astype(np.float64)
            out.sum_duplicates()
            out.data = self._noise_sparse_data(out.data, rng)
            return out
        if hasattr(X, "iloc") and hasattr(X, "columns"):
            values = _float_array(X.to_numpy())
            noised = self._noise_dense(values, rng)
            return X.__class__(noised, index=X.index, columns=X.columns)
        values = _float_array(np.asarray(X))
        if values.ndim < 2:
            raise ValueError(
                f"{type(self).__name__} expects X of shape (n_samples, n_features) "
                f"or (n_samples, ...) with at least 2 dimensions; "
                f"got an array with shape {values.shape}."
            )
        return self._noise_dense(values, rng)


def _same(a, b):
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # pragma: no cover - exotic values
        return a is b


def _float_array(values):
    """A float copy of ``values`` (float dtypes are kept)."""
    if values.dtype.kind == "f":
        return np.array(values, copy=True)
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "Input noise needs numeric inputs; X could not be converted to float "
            f"({exc}). Apply the noise after the feature extraction, or use "
            "noise=None."
        ) from exc


class GaussianNoise(_BaseNoise):
    """Additive Gaussian noise: ``X + N(0, std**2)`` on every entry.

    A noise for the student of :class:`NoisyStudentClassifier`. The same
    ``std`` is used for every feature, so standardise features of different
    scales first (or scale ``std`` to them).

    For a sparse matrix, only the stored entries are perturbed and the
    zeros stay zero, so the result stays sparse (a text matrix of a million
    columns is not densified).

    Read more in the :ref:`User Guide <noisy_student>`.

    Parameters
    ----------
    std : float >= 0, default=0.1
        Standard deviation of the noise, in the units of ``X``.

    See Also
    --------
    FeatureDropout : Zero random entries.
    SwapNoise : Replace random entries by another row's value.
    NoisyStudentClassifier : Teacher-student pseudo labels with a noised student.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.semi_supervised import GaussianNoise
    >>> X = np.zeros((1000, 5))
    >>> X_noised = GaussianNoise(std=0.5)(X, random_state=0)
    >>> X_noised.shape, round(float(X_noised.std()), 1)
    ((1000, 5), 0.5)
    >>> GaussianNoise(std=0.5)
    GaussianNoise(std=0.5)
    """

    def __init__(self, std=0.1):
        self.std = std

    def _validate_params(self):
        if (
            not isinstance(self.std, Real) or isinstance(self.std, bool)
            or not np.isfinite(self.std) or self.std < 0
        ):
            raise ValueError(
                f"GaussianNoise: std must be a finite float >= 0, got {self.std!r}."
            )

    def _noise_dense(self, values, rng):
        values += rng.normal(scale=self.std, size=values.shape).astype(
            values.dtype, copy=False)
        return values

    def _noise_sparse_data(self, data, rng):
        return data + rng.normal(scale=self.std, size=data.shape).astype(
            data.dtype, copy=False)


class FeatureDropout(_BaseNoise):
    """Input dropout: zero each entry independently with probability ``rate``.

    A noise for the student of :class:`NoisyStudentClassifier`. With
    ``rescale=True`` (the default, "inverted dropout" as in the deep learning
    frameworks) the entries that are kept are divided by ``1 - rate``, so the
    expected value of every entry is unchanged and a model trained on noised
    inputs sees clean inputs of the same scale at prediction time.

    For a sparse matrix only the stored entries can be dropped (the others
    are zero already), so the result stays sparse.

    Read more in the :ref:`User Guide <noisy_student>`.

    Parameters
    ----------
    rate : float in [0, 1), default=0.1
        Probability that an entry is set to zero.
    rescale : bool, default=True
        Divide the kept entries by ``1 - rate``.

    See Also
    --------
    GaussianNoise : Additive Gaussian noise.
    SwapNoise : Replace random entries by another row's value.
    NoisyStudentClassifier : Teacher-student pseudo labels with a noised student.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.semi_supervised import FeatureDropout
    >>> X = np.ones((1000, 10))
    >>> X_noised = FeatureDropout(rate=0.2)(X, random_state=0)
    >>> round(float((X_noised == 0).mean()), 1), float(X_noised.max())
    (0.2, 1.25)
    >>> round(float(X_noised.mean()), 1)
    1.0
    """

    def __init__(self, rate=0.1, rescale=True):
        self.rate = rate
        self.rescale = rescale

    def _validate_params(self):
        self._check_rate("rate")
        if not isinstance(self.rescale, (bool, np.bool_)):
            raise ValueError(
                f"FeatureDropout: rescale must be a bool, got {self.rescale!r}."
            )

    def _scale(self):
        return 1.0 / (1.0 - self.rate) if self.rescale else 1.0

    def _noise_dense(self, values, rng):
        keep = rng.uniform(size=values.shape) >= self.rate
        values *= keep
        if self.rescale:
            values *= values.dtype.type(self._scale())
        return values

    def _noise_sparse_data(self, data, rng):
        keep = rng.uniform(size=data.shape) >= self.rate
        # Dropped entries stay stored as explicit zeros; the caller's matrix
        # keeps its structure (eliminate_zeros would cost a pass for nothing).
        return data * keep * data.dtype.type(self._scale())


class SwapNoise(_BaseNoise):
    """Swap noise: replace random entries by the same column's value in another row.

    Each entry is replaced, with probability ``rate``, by the value of the
    same column in a row drawn at random among the others. A noise for the
    student of :class:`NoisyStudentClassifier`, meant for tabular data (it
    is the input corruption of the denoising autoencoders of the winning
    solution of Kaggle's Porto Seguro competition). A noised entry keeps the
    marginal distribution of its column, so it suits features of any scale,
    binary and categorical codes included.

    Sparse matrices are refused: swapping in the value of another row would
    fill the zero entries.

    Read more in the :ref:`User Guide <noisy_student>`.

    Parameters
    ----------
    rate : float in [0, 1), default=0.1
        Probability that an entry is replaced.

    See Also
    --------
    GaussianNoise : Additive Gaussian noise.
    FeatureDropout : Zero random entries.
    NoisyStudentClassifier : Teacher-student pseudo labels with a noised student.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.semi_supervised import SwapNoise
    >>> X = np.arange(12.0).reshape(4, 3)
    >>> X_noised = SwapNoise(rate=0.5)(X, random_state=0)
    >>> X_noised.shape
    (4, 3)
    >>> all(set(X_noised[:, j]) <= set(X[:, j]) for j in range(3))
    True
    """

    _accepts_sparse = False

    def __init__(self, rate=0.1):
        self.rate = rate

    def _validate_params(self):
        self._check_rate("rate")

    def _noise_dense(self, values, rng):
        n = values.shape[0]
        swap = rng.uniform(size=values.shape) < self.rate
        if n < 2 or not swap.any():
            return values
        # A random *other* row: shift by 1..n-1 modulo n.
        shift = rng.randint(1, n, size=values.shape)
        rows = (np.arange(n).reshape((n,) + (1,) * (values.ndim - 1)) + shift) % n
        source = np.take_along_axis(values, rows, axis=0)
        return np.where(swap, source, values)
