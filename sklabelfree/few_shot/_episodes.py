"""Episodes: N-way K-shot tasks drawn from labeled data, and their evaluation."""

import numbers
import time

import numpy as np
from sklearn.base import clone
from sklearn.utils import Bunch, _safe_indexing, check_random_state
from sklearn.utils.validation import _num_samples, column_or_1d

from ..utils.validation import check_partially_labeled

__all__ = ["EpisodeSampler", "check_episode_target", "evaluate_episodes"]


def _check_int(name, value, low):
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or value < low):
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}.")
    return int(value)


def check_episode_target(y, n_way, k_shot, n_query, who="EpisodeSampler"):
    """Validate a target for episodes; return its classes and the rows of each.

    Rows labeled ``-1`` are unlabeled: they belong to no class and are
    never drawn. Raises a ``ValueError`` that says what to change when
    ``n_way`` is larger than the number of classes, or a class has fewer
    than ``k_shot + n_query`` rows.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels (any hashable type), ``-1`` for unlabeled rows.
    n_way : int or None
        Classes per episode; None checks the class sizes only.
    k_shot, n_query : int
        Support and query rows per class.
    who : str, default='EpisodeSampler'
        Name used in the messages.

    Returns
    -------
    y : ndarray of shape (n_samples,)
        The validated labels.
    classes : ndarray of shape (n_classes,)
    rows : list of ndarray of int
        The row indices of each class, in the order of ``classes``.

    Examples
    --------
    >>> from sklabelfree.few_shot import check_episode_target
    >>> y, classes, rows = check_episode_target([5, 7, 5, 7, -1], 2, 1, 1)
    >>> classes, rows[0]
    (array([5, 7]), array([0, 2]))
    """
    y, labeled, classes = check_partially_labeled(
        y, min_classes=1, warn_all_labeled=False, estimator_name=who)
    rows = [np.flatnonzero(labeled & (y == c)) for c in classes]
    if n_way is not None and n_way > len(classes):
        raise ValueError(
            f"{who}: n_way={n_way} is larger than the number of classes in y "
            f"({len(classes)}: {classes.tolist()}). Lower n_way or add classes.")
    need = k_shot + n_query
    small = [(c, len(r)) for c, r in zip(classes.tolist(), rows) if len(r) < need]
    if small:
        listed = ", ".join(f"{c!r} ({n} rows)" for c, n in small[:10])
        more = f" and {len(small) - 10} more" if len(small) > 10 else ""
        raise ValueError(
            f"{who}: k_shot + n_query = {k_shot} + {n_query} = {need} rows are drawn "
            f"from each class of an episode, but some classes have fewer: {listed}"
            f"{more}. Lower k_shot or n_query, or leave those classes out.")
    return y, classes, rows


class EpisodeSampler:
    """Draw N-way K-shot episodes from ``(X, y)``: a cross-validation splitter.

    Each episode picks ``n_way`` classes at random, then ``k_shot`` support
    rows and ``n_query`` query rows of each class, without overlap. Labels
    are never remapped: the support and query rows keep the labels of
    ``y`` (strings, or integers such as 5..9). Rows labeled ``-1`` are
    unlabeled and never drawn.

    ``split(X, y)`` yields ``(support_indices, query_indices)`` for each
    episode, like a scikit-learn splitter, so the sampler can be given as
    ``cv=`` to :func:`~sklearn.model_selection.cross_val_score` or
    :func:`~sklearn.model_selection.cross_validate`: each episode fits the
    classifier on its support rows and scores it on its query rows.
    :meth:`episodes` yields the arrays themselves, and
    :func:`evaluate_episodes` reports the mean accuracy with its 95%
    interval.

    Parameters
    ----------
    n_way : int, default=5
        Classes per episode (at least 2).
    k_shot : int, default=1
        Support rows per class.
    n_query : int, default=15
        Query rows per class.
    n_episodes : int, default=600
        Number of episodes.
    random_state : int, RandomState instance or None, default=None
        An int gives the same episodes at every call of :meth:`split`; a
        ``RandomState`` gives new episodes at each call.

    See Also
    --------
    evaluate_episodes : Mean accuracy over episodes, with its 95% interval.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.few_shot import EpisodeSampler
    >>> y = np.repeat(["ant", "bee", "cat"], 4)
    >>> sampler = EpisodeSampler(n_way=2, k_shot=1, n_query=2, n_episodes=3,
    ...                          random_state=0)
    >>> support, query = next(sampler.split(np.zeros((12, 1)), y))
    >>> len(support), len(query), sampler.get_n_splits()
    (2, 4, 3)
    >>> sorted(set(y[support])) == sorted(set(y[query]))
    True
    """

    def __init__(self, n_way=5, k_shot=1, n_query=15, n_episodes=600, random_state=None):
        self.n_way = n_way
        self.k_shot = k_shot
        self.n_query = n_query
        self.n_episodes = n_episodes
        self.random_state = random_state

    def __repr__(self):
        params = ", ".join(
            f"{k}={getattr(self, k)!r}"
            for k in ("n_way", "k_shot", "n_query", "n_episodes", "random_state"))
        return f"{type(self).__name__}({params})"

    def _check_params(self):
        who = type(self).__name__
        n_way = _check_int(f"{who}: n_way", self.n_way, 2)
        k_shot = _check_int(f"{who}: k_shot", self.k_shot, 1)
        n_query = _check_int(f"{who}: n_query", self.n_query, 1)
        n_episodes = _check_int(f"{who}: n_episodes", self.n_episodes, 1)
        return n_way, k_shot, n_query, n_episodes

    def get_n_splits(self, X=None, y=None, groups=None):
        """The number of episodes.

        Parameters
        ----------
        X, y, groups : object
            Ignored, for the splitter API.

        Returns
        -------
        n_episodes : int
        """
        return self._check_params()[3]

    def split(self, X, y, groups=None):
        """Yield the support and query row indices of each episode.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Only its number of rows is used.
        y : array-like of shape (n_samples,)
            Labels, ``-1`` for unlabeled rows (never drawn).
        groups : object
            Ignored.

        Yields
        ------
        support : ndarray of int, shape (n_way * k_shot,)
            Row indices of the support set, class by class.
        query : ndarray of int, shape (n_way * n_query,)
            Row indices of the query set, class by class.
        """
        n_way, k_shot, n_query, n_episodes = self._check_params()
        who = type(self).__name__
        if y is None:
            raise ValueError(f"{who}: split needs y, the labels to draw classes from.")
        y, classes, rows = check_episode_target(y, n_way, k_shot, n_query, who=who)
        if X is not None and _num_samples(X) != y.shape[0]:
            raise ValueError(
                f"{who}: X has {_num_samples(X)} rows but y has {y.shape[0]}.")
        # An int seeds a new generator at each call: the same episodes each time.
        rng = check_random_state(self.random_state)
        for _ in range(n_episodes):
            picked = rng.choice(len(classes), n_way, replace=False)
            support, query = [], []
            for c in picked:
                drawn = rng.choice(rows[c], k_shot + n_query, replace=False)
                support.append(drawn[:k_shot])
                query.append(drawn[k_shot:])
            yield np.concatenate(support), np.concatenate(query)

    def episodes(self, X, y):
        """Yield ``(X_support, y_support, X_query, y_query)`` for each episode.

        Rows are taken with :func:`sklearn.utils._safe_indexing`, so ``X``
        may be an array, a DataFrame, a sparse matrix or a list; labels are
        those of ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,)

        Yields
        ------
        X_support, y_support, X_query, y_query

        Examples
        --------
        >>> import numpy as np
        >>> from sklabelfree.few_shot import EpisodeSampler
        >>> X, y = np.arange(20).reshape(10, 2), np.repeat([5, 6], 5)
        >>> Xs, ys, Xq, yq = next(EpisodeSampler(2, 2, 3, 1, random_state=0).episodes(X, y))
        >>> Xs.shape, sorted(ys.tolist()), Xq.shape
        ((4, 2), [5, 5, 6, 6], (6, 2))
        """
        y_arr = column_or_1d(y)
        for support, query in self.split(X, y):
            yield (_safe_indexing(X, support), y_arr[support],
                   _safe_indexing(X, query), y_arr[query])


def evaluate_episodes(estimator, X, y, *, n_way=5, k_shot=1, n_query=15, n_episodes=600,
                      random_state=None, verbose=False):
    """Mean accuracy of a classifier over few-shot episodes, with its 95% interval.

    For each episode of an :class:`EpisodeSampler`, a clone of
    ``estimator`` is fitted on the support rows and predicts the query
    rows; the episode's accuracy is the fraction predicted right. The
    interval is the usual one of few-shot papers: ``1.96 * std /
    sqrt(n_episodes)`` (``std`` of the episodes' accuracies, ``ddof=0``).

    sklabelfree's few-shot classifiers keep their fitted encoder through
    ``clone`` (see :class:`PrototypeClassifier`), so a clone per episode
    reuses the meta-training; for another classifier wrapped around a
    fitted transformer, wrap the transformer in
    :class:`~sklearn.frozen.FrozenEstimator`.

    Parameters
    ----------
    estimator : classifier
        Fitted on each support set with ``fit(X_support, y_support)``.
    X : array-like of shape (n_samples, ...)
        Rows of the evaluation classes (never seen in meta-training).
    y : array-like of shape (n_samples,)
        Their labels; ``-1`` rows are never drawn.
    n_way : int, default=5
    k_shot : int, default=1
    n_query : int, default=15
    n_episodes : int, default=600
    random_state : int, RandomState instance or None, default=None
        Seeds the draw of the episodes (the same seed gives the same
        episodes whatever the estimator).
    verbose : bool, default=False
        Show a progress bar (tqdm).

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``mean_accuracy`` (float), ``ci95`` (float, the half-width of the
        95% interval), ``accuracies`` (ndarray of shape (n_episodes,)),
        ``fit_times`` and ``predict_times`` (ndarray, seconds per episode).

    See Also
    --------
    EpisodeSampler : The episodes, as a cross-validation splitter.

    Examples
    --------
    >>> from sklabelfree.datasets import load_digits_images
    >>> from sklabelfree.few_shot import PrototypeClassifier, evaluate_episodes
    >>> X, y = load_digits_images(as_images=False)
    >>> novel = y >= 5
    >>> result = evaluate_episodes(PrototypeClassifier(), X[novel], y[novel], k_shot=5,
    ...                            n_episodes=50, random_state=0)
    >>> 0.8 < result.mean_accuracy < 1.0, result.accuracies.shape
    (True, (50,))
    """
    if not hasattr(estimator, "fit") or not hasattr(estimator, "predict"):
        raise TypeError(
            f"evaluate_episodes needs a classifier with fit and predict, got "
            f"{type(estimator).__name__}.")
    sampler = EpisodeSampler(n_way=n_way, k_shot=k_shot, n_query=n_query,
                             n_episodes=n_episodes, random_state=random_state)
    y_arr = column_or_1d(y)
    splits = sampler.split(X, y)
    if verbose:
        from tqdm.auto import tqdm

        splits = tqdm(splits, total=sampler.get_n_splits(), desc="episodes")
    accuracies, fit_times, predict_times = [], [], []
    for support, query in splits:
        est = clone(estimator)
        start = time.perf_counter()
        est.fit(_safe_indexing(X, support), y_arr[support])
        fit_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        y_pred = np.asarray(est.predict(_safe_indexing(X, query))).ravel()
        predict_times.append(time.perf_counter() - start)
        accuracies.append(float(np.mean(y_pred == y_arr[query])))
    accuracies = np.asarray(accuracies)
    return Bunch(
        mean_accuracy=float(accuracies.mean()),
        ci95=float(1.96 * accuracies.std() / np.sqrt(len(accuracies))),
        accuracies=accuracies,
        fit_times=np.asarray(fit_times),
        predict_times=np.asarray(predict_times),
    )
