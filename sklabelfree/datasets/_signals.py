"""Synthetic signals whose class lies in their temporal structure."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["make_signal_classification"]

_SHAPES = ("sine", "square", "sawtooth", "triangle")


def _waveform(shape, u):
    """Periodic waveform of unit root mean square at cycle fractions ``u`` in [0, 1)."""
    if shape == "sine":
        return np.sqrt(2.0) * np.sin(2 * np.pi * u)
    if shape == "square":
        return np.where(u < 0.5, 1.0, -1.0)
    if shape == "sawtooth":
        return np.sqrt(3.0) * (2 * u - 1)
    return np.sqrt(3.0) * (2 * np.abs(2 * u - 1) - 1)  # triangle


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "length": [Interval(Integral, 8, None, closed="left")],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_signal_classification(n_samples=1000, n_classes=4, length=128, n_channels=1,
                               noise=0.3, random_state=None):
    """Periodic signals of random waveform and phase, classified by their frequency.

    The frequencies from ``length / 32`` to ``length / 6`` cycles per
    signal (periods of 6 to 32 samples) are cut into ``n_classes`` bands
    of equal ratio; a signal of class ``k`` draws its frequency in the
    middle 70 % (in log scale) of band ``k``, so that neighbouring classes
    are apart. Each signal also draws a waveform among sine, square,
    sawtooth and triangle (each scaled to a root mean square of 1), the
    same for its channels, and each channel its own phase (uniform) and
    amplitude (uniform in [0.5, 1.5]); then Gaussian noise of standard
    deviation ``noise`` is added. Because of the random phase, no sample
    value (no linear function of the raw signal) tells the class, which
    lies in how fast the signal repeats, a temporal structure. Classes are
    balanced (``n_samples // n_classes`` each, the remainder to the first
    classes), in random order.

    Parameters
    ----------
    n_samples : int, default=1000
    n_classes : int, default=4
        At least 2.
    length : int, default=128
        Samples per signal, at least 8.
    n_channels : int, default=1
        Channels per signal, all of the signal's class.
    noise : float, default=0.3
        Standard deviation of the additive Gaussian noise.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : ndarray of float32, shape (n_samples, n_channels, length)
    y : ndarray of int, shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.datasets import make_signal_classification
    >>> X, y = make_signal_classification(n_samples=10, n_classes=5, length=64,
    ...                                   n_channels=2, random_state=0)
    >>> X.shape, X.dtype, np.bincount(y).tolist()
    ((10, 2, 64), dtype('float32'), [2, 2, 2, 2, 2])
    """
    rng = check_random_state(random_state)
    y = np.arange(n_samples) % n_classes
    rng.shuffle(y)
    lo, hi = np.log(length / 32), np.log(length / 6)
    width = (hi - lo) / n_classes
    position = rng.uniform(0.15, 0.85, size=n_samples)
    freq = np.exp(lo + (y + position) * width)[:, None, None]  # cycles per signal
    shape = rng.randint(len(_SHAPES), size=n_samples)
    phase = rng.uniform(0, 1, size=(n_samples, n_channels, 1))
    amplitude = rng.uniform(0.5, 1.5, size=(n_samples, n_channels, 1))
    u = np.mod(phase + freq * (np.arange(length) / length), 1.0)
    X = np.empty((n_samples, n_channels, length))
    for k, name in enumerate(_SHAPES):
        rows = shape == k
        X[rows] = _waveform(name, u[rows])
    X = amplitude * X + noise * rng.standard_normal(X.shape)
    return X.astype(np.float32), y
