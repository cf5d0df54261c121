"""The pool-based active learner."""

import copy
import numbers

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import BaseSemiSupervisedMetaEstimator, is_semi_supervised
from ..utils.validation import (
    _labeled_entries,
    as_label_array,
    check_partially_labeled,
    check_string_minus_one,
    labeled_mask,
)
from ._data import as_batch, concat_rows, n_rows, take_rows
from ._strategies import QueryStrategy, _resolve

__all__ = ["ActiveLearner"]

_DEFAULT_CHUNK_BYTES = 32 * 2**20


def _unify_labels(y_old, y_new):
    """``y_old`` and ``y_new`` in one dtype.

    Numeric labels (bool, integers, floats) are promoted together, so a float
    or ``uint8`` target taught with integer answers stays numeric; anything
    else (strings next to numbers) becomes object.
    """
    if y_old.dtype.kind in "biuf" and y_new.dtype.kind in "biuf":
        dtype = np.result_type(y_old.dtype, y_new.dtype)
        return y_old.astype(dtype, copy=False), y_new.astype(dtype, copy=False)
    if y_old.dtype == y_new.dtype:
        return y_old, y_new
    return y_old.astype(object), y_new.astype(object)


def _merge_labels(y_old, y_new):
    """``y_old`` with ``y_new`` appended, in one dtype (:func:`_unify_labels`)."""
    return np.concatenate(_unify_labels(y_old, y_new))


def _as_labels(y, n, who):
    # A list keeps the integer -1 (a skipped row) next to string labels.
    y = as_label_array(y)
    if y.ndim == 0:
        y = y.reshape(1)
    if y.ndim != 1:
        y = y.ravel()
    if y.shape[0] != n:
        raise ValueError(f"{who} got {y.shape[0]} labels for {n} rows.")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(
            "labels contain NaN; mark an unanswered (skipped) row with -1 "
            "(sklabelfree.UNLABELED), not NaN."
        )
    if y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0):
        y = y.astype(np.int64)
    if y.dtype.kind in "US":
        check_string_minus_one(y, f"{who}: ")
        y = y.astype(object)
    return y


class ActiveLearner(BaseSemiSupervisedMetaEstimator):
    """Pool-based active learning around any classifier.

    ``fit(X, y)`` takes the rows with ``y == -1`` as the pool of unlabeled
    rows and fits the estimator on the labeled rows, or on every row when the
    estimator is semi-supervised (a ``LabelSpreading``, a
    :class:`~sklabelfree.semi_supervised.PseudoLabelClassifier`, a deep
    semi-supervised net, or a ``Pipeline`` ending in one: see
    :func:`~sklabelfree.base.is_semi_supervised`): active and
    semi-supervised learning together.
    :meth:`query` names the pool rows whose labels are worth most,
    :meth:`teach` adds the answers and refits, and :meth:`should_query`
    decides for one arriving row in stream-based selective sampling.
    ``predict``, ``predict_proba`` and ``decision_function`` delegate to the
    fitted estimator; ``score`` ignores rows labeled ``-1``.

    Unlike modAL's learner, nothing is fitted in ``__init__``: the learner
    clones, pickles and is tuned by ``GridSearchCV`` (including its
    strategy's parameters, ``query_strategy__beta``). The pool may be a numpy
    array, a pandas DataFrame, a sparse matrix or a torch tensor; a target
    with no ``-1`` is accepted with an
    :class:`~sklabelfree.utils.validation.AllLabeledWarning` (an empty pool:
    :meth:`query` then needs ``X_pool``), so ``cross_val_score`` works.

    Parameters
    ----------
    estimator : classifier, default=None
        The model; cloned at every fit. ``LogisticRegression()`` when None.
    query_strategy : str, QueryStrategy or callable, default='margin'
        How rows are chosen: a name (``'random'``, ``'least_confident'``,
        ``'margin'``, ``'entropy'``, ``'boundary'``, ``'density'``, ``'qbc'``,
        ``'ranked_batch'``, ``'coreset'``, ``'bald'``, see
        :func:`~sklabelfree.active.make_strategy`), a
        :class:`~sklabelfree.active.QueryStrategy` instance, or a function
        ``f(learner, X) -> scores`` (higher is more informative).
    batch_size : int, default=1
        Rows returned by :meth:`query` when ``n`` is not given.
    random_state : int, RandomState instance or None, default=None
        Seeds tie-breaking, random picks and committees.
    n_jobs : int, default=None
        Chunks of the pool scored in parallel (threads).
    chunk_size : int, default=None
        Rows per chunk when scoring a pool; when None, as many rows as fit in
        32 MiB of float64 features (at least 1024). Scoring memory beyond the
        one score per row is bounded by the chunk, whatever the pool size.

    Attributes
    ----------
    estimator_ : classifier
        The estimator fitted on the current labels.
    query_strategy_ : QueryStrategy
        The strategy in use (a clone of ``query_strategy``).
    classes_ : ndarray of shape (n_classes,)
        Classes seen so far. An oracle may answer with a class never seen:
        the classes then grow at the next refit.
    X_ : array-like
        The data the learner knows: the rows given to ``fit`` (not copied)
        followed by the rows appended by :meth:`teach`.
    y_ : ndarray of shape (n_rows,)
        Their labels, ``-1`` for the unlabeled ones.
    pool_indices_ : ndarray of int
        Rows of ``X_`` that :meth:`query` may still choose.
    labeled_iter_ : ndarray of int of shape (n_rows,)
        The :meth:`teach` call that labeled each row (0 for the rows labeled
        in ``fit``, -1 for unlabeled rows).
    label_order_ : ndarray of int
        The labeled rows of ``X_`` in the order their labels arrived: those
        labeled in ``fit`` in row order, then each :meth:`teach` call's
        answered rows in the order given. A supervised estimator is fitted on
        the labeled rows in this order, as modAL fits on its growing training
        set, so that an estimator sensitive to row order (the internal
        cross-validation of ``SVC(probability=True)``, an ``SGDClassifier``
        without shuffling) sees the same data as in modAL's loop.
    n_iter_ : int
        Number of :meth:`teach` calls since ``fit``.
    n_stream_queries_ : int
        Rows :meth:`should_query` asked for since ``fit``.
    random_state_ : numpy.random.RandomState
        The learner's random generator.
    n_features_in_ : int
        Number of features seen in ``fit`` (when ``X`` is 2-D).

    See Also
    --------
    sklabelfree.active.run_active_learning : The query, ask, journal, teach loop.
    sklabelfree.active.simulate_active_learning : A learning curve with a known oracle.

    References
    ----------
    B. Settles, "Active Learning Literature Survey", Computer Sciences
    Technical Report 1648, University of Wisconsin-Madison, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.svm import SVC
    >>> from sklabelfree.active import ActiveLearner
    >>> X, y = load_digits(return_X_y=True)
    >>> y_partial = np.full_like(y, -1)
    >>> y_partial[:20] = y[:20]
    >>> learner = ActiveLearner(SVC(), query_strategy="boundary", batch_size=5,
    ...                         random_state=0).fit(X, y_partial)
    >>> rows = learner.query()
    >>> rows.shape
    (5,)
    >>> learner = learner.teach(None, y[rows], pool_indices=rows)
    >>> int((learner.y_ != -1).sum())
    25
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "query_strategy": [str, QueryStrategy, callable],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [numbers.Integral, None],
        "chunk_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    def __init__(self, estimator=None, query_strategy="margin", batch_size=1,
                 random_state=None, n_jobs=None, chunk_size=None):
        self.estimator = estimator
        self.query_strategy = query_strategy
        self.batch_size = batch_size
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.chunk_size = chunk_size

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the estimator on the labeled rows and keep the rest as the pool.

        Parameters
        ----------
        X : array-like, DataFrame, sparse matrix or torch tensor
            Every row: labeled ones and the pool. Kept by reference, never
            modified.
        y : array-like of shape (n_samples,)
            Labels, ``-1`` for the pool rows.

        Returns
        -------
        self : ActiveLearner
        """
        if not hasattr(X, "__getitem__") and not sp.issparse(X):
            X = np.asarray(X)
        if sp.issparse(X) and X.format not in ("csr", "csc"):
            X = X.tocsr()
        if not (type(X).__module__.startswith("torch") or isinstance(X, list)):
            validate_data(self, X, skip_check_array=True, reset=True)
        # A target with no -1 fits (an empty pool; query then needs X_pool)
        # with the AllLabeledWarning every semi-supervised estimator gives.
        y, labeled, _ = check_partially_labeled(y, estimator_name=type(self).__name__)
        n = n_rows(X)
        if n != y.shape[0]:
            raise ValueError(
                f"X has {n} rows but y has {y.shape[0]}: they must have the same "
                "number of rows.")
        rng = check_random_state(self.random_state)
        self.random_state_ = np.random.RandomState(rng.randint(np.iinfo(np.int32).max))
        self.X_ = X
        self.y_ = y
        self.pool_indices_ = np.flatnonzero(~labeled)
        self.labeled_iter_ = np.where(labeled, 0, -1)
        self.label_order_ = np.flatnonzero(labeled)
        self.n_iter_ = 0
        self.n_stream_queries_ = 0
        self.query_strategy_ = _resolve(self.query_strategy, "query_strategy")
        self._refit()
        return self

    def _template(self):
        """The unfitted estimator every fit starts from."""
        return clone(self._get_param_estimator())

    def _refit(self):
        estimator = self._template()
        if is_semi_supervised(estimator):
            estimator.fit(self.X_, self.y_)
        else:
            # In the order the labels arrived (``label_order_``), as modAL
            # appends each answer to its training set.
            rows = self.label_order_
            # An object target of numbers or booleans reaches the estimator
            # as a numeric / boolean array.
            estimator.fit(take_rows(self.X_, rows), _labeled_entries(self.y_[rows]))
        self.estimator_ = estimator
        self.classes_ = estimator.classes_
        self.query_strategy_.update(self)
        return self

    # ------------------------------------------------------------------ pool helpers
    def _chunk_rows(self, X):
        if self.chunk_size is not None:
            return int(self.chunk_size)
        shape = getattr(X, "shape", None)
        width = int(np.prod(shape[1:])) if shape is not None and len(shape) > 1 else 64
        return max(1024, _DEFAULT_CHUNK_BYTES // (8 * max(width, 1)))

    def map_pool(self, func, X, method="predict_proba", n_jobs=None):
        """Apply ``func`` to a pool chunk by chunk and stack the results.

        With ``method`` set, ``func`` receives the fitted estimator's output
        on each chunk (``predict_proba`` or ``decision_function``); with
        ``method=None`` it receives the rows themselves. Chunks have
        ``chunk_size`` rows and run in ``n_jobs`` threads, so the memory used
        beyond the results is bounded by the chunk, not by the pool.
        Strategies score pools with it.

        Parameters
        ----------
        func : callable
            Maps a chunk (or the estimator's output on it) to an array whose
            first axis has one entry per row, or to a single row to be summed
            by the caller.
        X : array-like
            The pool.
        method : {'predict_proba', 'decision_function'} or None, default='predict_proba'
            Estimator method applied first.
        n_jobs : int, default=None
            Overrides the learner's ``n_jobs``.

        Returns
        -------
        out : ndarray
            The chunks' results, concatenated along the first axis.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from sklabelfree.active import ActiveLearner
        >>> X, y = load_iris(return_X_y=True)
        >>> learner = ActiveLearner(chunk_size=40).fit(X, y)
        >>> learner.map_pool(lambda P: P.max(axis=1), X).shape
        (150,)
        """
        check_is_fitted(self, "estimator_")
        m = n_rows(X)
        step = self._chunk_rows(X)
        bounds = [(s, min(s + step, m)) for s in range(0, m, step)]
        estimator = self.estimator_
        if method is not None and not hasattr(estimator, method):
            raise ValueError(
                f"{type(self.query_strategy_).__name__} scores rows with the "
                f"estimator's {method}, which {type(estimator).__name__} does not "
                "have. For a classifier without probabilities use "
                "query_strategy='boundary' (distance to the decision boundary) or "
                "QueryByCommittee(disagreement='vote_entropy').")

        def run(start, stop):
            block = X if (start == 0 and stop == m) else take_rows(X, slice(start, stop))
            if method is not None:
                block = getattr(estimator, method)(block)
            return np.asarray(func(block))

        jobs = self.n_jobs if n_jobs is None else n_jobs
        if jobs in (None, 1) or len(bounds) == 1:
            parts = [run(a, b) for a, b in bounds]
        else:
            parts = Parallel(n_jobs=jobs, prefer="threads")(
                delayed(run)(a, b) for a, b in bounds)
        if not parts:
            return np.empty(0)
        return np.concatenate(parts, axis=0)

    def labeled_X(self):
        """The labeled rows of ``X_`` (for strategies that measure diversity).

        Returns
        -------
        X_labeled : array-like
            Rows of ``X_`` whose label is not ``-1``, in the order their
            labels arrived (``label_order_``).

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from sklabelfree.active import ActiveLearner
        >>> X, y = load_iris(return_X_y=True)
        >>> y[10:140] = -1
        >>> ActiveLearner().fit(X, y).labeled_X().shape
        (20, 4)
        """
        check_is_fitted(self, "estimator_")
        return take_rows(self.X_, self.label_order_)

    # ------------------------------------------------------------------ query / teach
    def query(self, X_pool=None, n=None, return_scores=False):
        """Rows whose labels are worth asking for.

        Parameters
        ----------
        X_pool : array-like, default=None
            Candidate rows. When None, the learner's own pool
            (``pool_indices_``, the rows given to ``fit`` with ``-1`` that
            were not taught since).
        n : int, default=None
            Rows to return; ``batch_size`` when None.
        return_scores : bool, default=False
            Also return the strategy's score of each returned row.

        Returns
        -------
        indices : ndarray of int of shape (n,)
            Best first. Positions in ``X_pool`` when it is given, otherwise
            rows of ``X_`` (positions in the ``X`` given to ``fit``).
        scores : ndarray of shape (n,)
            Only when ``return_scores``.

        Raises
        ------
        ValueError
            When the pool is empty or ``n`` is larger than the pool.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from sklabelfree.active import ActiveLearner
        >>> X, y = load_iris(return_X_y=True)
        >>> y_partial = y.copy(); y_partial[5:-5] = -1
        >>> learner = ActiveLearner(random_state=0).fit(X, y_partial)
        >>> idx, scores = learner.query(n=3, return_scores=True)
        >>> bool((scores[:-1] >= scores[1:]).all())
        True
        """
        check_is_fitted(self, "estimator_")
        n = self.batch_size if n is None else n
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}.")
        if X_pool is None:
            rows = self.pool_indices_
            if rows.shape[0] == 0:
                raise ValueError(
                    "the pool is empty: every row given to fit is labeled or has been "
                    "answered. Pass X_pool, or fit with y == -1 for the pool rows.")
            candidates = take_rows(self.X_, rows)
        else:
            rows = None
            candidates = X_pool
            if n_rows(X_pool) == 0:
                raise ValueError("X_pool is empty: there is nothing to query.")
        m = n_rows(candidates)
        if n > m:
            raise ValueError(
                f"cannot query {n} rows from a pool of {m}: n (or batch_size) must "
                "not exceed the number of pool rows.")
        idx, scores = self.query_strategy_.select(self, candidates, n, self.random_state_)
        idx = np.asarray(idx, dtype=np.intp).ravel()
        if idx.shape[0] != n or np.unique(idx).shape[0] != n:
            raise RuntimeError(
                f"{type(self.query_strategy_).__name__}.select returned "
                f"{np.unique(idx).shape[0]} distinct rows of the {n} asked for.")
        if rows is not None:
            idx = rows[idx]
        if return_scores:
            return idx, np.asarray(scores, dtype=np.float64)
        return idx

    def _check_answers(self, y, n, who="teach"):
        """The labels :meth:`teach` would take for ``n`` rows, refused as it refuses them.

        Nothing is changed; ``run_active_learning`` calls it before writing
        answers to its journal, so that no answer the learner refuses (a
        string ``'-1'``, a label of another type, ``2.5`` next to integer
        classes) is ever recorded.
        """
        labels = _as_labels(y, n, who)
        check_partially_labeled(_merge_labels(self.y_, labels), warn_all_labeled=False,
                                estimator_name=type(self).__name__)
        return labels

    def teach(self, X, y, pool_indices=None):
        """Add answered labels and refit.

        Parameters
        ----------
        X : array-like or None
            The answered rows; one row may come without its batch axis (a
            1-D row, a pandas Series), as :meth:`should_query` takes it. With
            ``pool_indices`` it may be None (the rows are taken from ``X_``).
        y : array-like of shape (n_rows,)
            Their labels. ``-1`` marks a row the oracle skipped: it leaves
            the pool and stays unlabeled (a semi-supervised estimator still
            uses it). A class never seen before is accepted: ``classes_``
            grows.
        pool_indices : array-like of int, default=None
            Rows of ``X_`` being answered, as returned by :meth:`query`. When
            None, the rows ``X`` are appended to ``X_`` with labels ``y``
            (rows appended with ``-1`` join the pool).

        Returns
        -------
        self : ActiveLearner

        Raises
        ------
        ValueError
            On answers that do not fit (a wrong count, rows outside the pool,
            NaN labels). If the estimator then fails to refit, its error is
            raised and the learner is left exactly as it was: no answer is
            half-applied.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from sklabelfree.active import ActiveLearner
        >>> X, y = load_iris(return_X_y=True)
        >>> y_partial = y.copy(); y_partial[5:-5] = -1
        >>> learner = ActiveLearner(random_state=0).fit(X, y_partial)
        >>> rows = learner.query(n=2)
        >>> learner = learner.teach(None, y[rows], pool_indices=rows)
        >>> len(learner.pool_indices_), learner.n_iter_
        (138, 1)
        """
        check_is_fitted(self, "estimator_")
        if X is not None:
            X = as_batch(X, self.X_)
        if pool_indices is not None:
            rows = np.asarray(pool_indices)
            if rows.ndim == 0:
                rows = rows.reshape(1)
            if rows.shape[0] == 0:
                raise ValueError("teach got no rows: pool_indices is empty.")
            if rows.dtype.kind not in "iu":
                raise ValueError(f"pool_indices must be integers, got dtype {rows.dtype}.")
            if np.unique(rows).shape[0] != rows.shape[0]:
                raise ValueError("pool_indices contains repeated rows.")
            outside = np.setdiff1d(rows, self.pool_indices_)
            if outside.shape[0]:
                raise ValueError(
                    f"rows {outside[:10].tolist()} are not in the pool (already "
                    "labeled, answered, or out of range).")
            if X is not None and n_rows(X) != rows.shape[0]:
                raise ValueError(
                    f"X has {n_rows(X)} rows but pool_indices has {rows.shape[0]}.")
            labels = _as_labels(y, rows.shape[0], "teach")
            y_new, labels = _unify_labels(self.y_, labels)
            y_new = y_new.copy()
            y_new[rows] = labels
            answered = labeled_mask(labels)
            labeled_iter = self.labeled_iter_.copy()
            labeled_iter[rows[answered]] = self.n_iter_ + 1
            update = {"y_": y_new, "labeled_iter_": labeled_iter,
                      "label_order_": np.concatenate(
                          [self.label_order_, rows[answered]]).astype(np.intp),
                      "pool_indices_": np.setdiff1d(self.pool_indices_, rows)}
        else:
            if X is None:
                raise ValueError("teach needs X (the rows) or pool_indices.")
            labels = _as_labels(y, n_rows(X), "teach")
            start = n_rows(self.X_)
            answered = labeled_mask(labels)
            update = {
                "X_": concat_rows(self.X_, X),
                "y_": _merge_labels(self.y_, labels),
                "labeled_iter_": np.concatenate(
                    [self.labeled_iter_, np.where(answered, self.n_iter_ + 1, -1)]),
                "label_order_": np.concatenate(
                    [self.label_order_, start + np.flatnonzero(answered)]).astype(np.intp),
                "pool_indices_": np.concatenate(
                    [self.pool_indices_, start + np.flatnonzero(~answered)]),
            }
        check_partially_labeled(update["y_"], warn_all_labeled=False,
                                estimator_name=type(self).__name__)
        update["n_iter_"] = self.n_iter_ + 1
        # All or nothing: if the refit fails (labels the estimator refuses,
        # rows it cannot read), the learner is left as it was before.
        kept = {name: self.__dict__[name] for name in
                ("X_", "y_", "labeled_iter_", "label_order_", "pool_indices_", "n_iter_",
                 "estimator_", "classes_")}
        kept_strategy = copy.copy(self.query_strategy_)
        self.__dict__.update(update)
        try:
            self._refit()
        except BaseException:
            self.__dict__.update(kept)
            self.query_strategy_ = kept_strategy
            raise
        return self

    # ------------------------------------------------------------------ stream
    def should_query(self, x, threshold=0.5, budget=None):
        """Stream-based selective sampling: ask for this arriving row?

        The row is scored by the query strategy, which must give an
        uncertainty in [0, 1] (the uncertainty measures, a committee's
        normalised vote entropy, BALD); the answer is yes when the score
        reaches ``threshold`` and fewer than ``budget`` rows were asked for
        since ``fit`` (Cohn, Atlas & Ladner, 1994). A yes counts against the
        budget (``n_stream_queries_``).

        Parameters
        ----------
        x : array-like
            One row (1-D for tabular data) or a batch of one.
        threshold : float in [0, 1], default=0.5
            Uncertainty from which a row is worth a label.
        budget : int, default=None
            Most rows to ask for; no limit when None.

        Returns
        -------
        ask : bool

        References
        ----------
        D. Cohn, L. Atlas and R. Ladner, "Improving generalization with
        active learning", Machine Learning 15, 1994.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from sklabelfree.active import ActiveLearner
        >>> X, y = load_iris(return_X_y=True)
        >>> y_partial = y.copy(); y_partial[5:-5] = -1
        >>> learner = ActiveLearner(random_state=0).fit(X, y_partial)
        >>> learner.should_query(X[0], threshold=0.99)
        False
        >>> learner.should_query(X[70], threshold=0.0, budget=1)
        True
        >>> learner.should_query(X[71], threshold=0.0, budget=1)
        False
        """
        check_is_fitted(self, "estimator_")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold!r}.")
        if budget is not None and (not isinstance(budget, numbers.Integral) or budget < 0):
            raise ValueError(f"budget must be a non-negative integer or None, got {budget!r}.")
        if not getattr(self.query_strategy_, "_stream_score", False):
            raise ValueError(
                f"{type(self.query_strategy_).__name__} gives no uncertainty in [0, 1] "
                "for a single row; stream-based sampling needs an uncertainty strategy ('margin', "
                "'entropy', 'least_confident'), a committee ('qbc') or 'bald'.")
        if budget is not None and self.n_stream_queries_ >= budget:
            return False
        x = as_batch(x, self.X_)
        if n_rows(x) != 1:
            raise ValueError(f"should_query takes one row, got {n_rows(x)}.")
        score = float(np.asarray(self.query_strategy_.score(self, x)).ravel()[0])
        ask = score >= threshold
        if ask:
            self.n_stream_queries_ += 1
        return bool(ask)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
