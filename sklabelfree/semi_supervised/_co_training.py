"""Co-training: two classifiers on two views of the columns label rows for each other."""

import numbers
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.base import _fit_context, clone
from sklearn.utils import _safe_indexing, check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_samples, has_fit_parameter

from ..base import BaseSemiSupervisedMetaEstimator, seed_estimator
from ._selection import class_quotas, select_confident

__all__ = ["CoTrainingClassifier"]


def _never(self):
    return False


def _move_unusable_quota(quotas, class_order, has_candidates):
    """Give the quota of classes with no qualifying pool row to classes that have one.

    With ``k`` smaller than the number of classes a round's quota goes to
    some classes only; if none of those has a row that qualifies (a class the
    views never predict), the round would pick nothing and stop the fit while
    other classes still have candidates. The quota then moves, one row at a
    time, to the classes with candidates, in the round's random class order;
    the total stays ``k``.
    """
    quotas = quotas.copy()
    spare = int(quotas[~has_candidates].sum())
    quotas[~has_candidates] = 0
    receivers = [c for c in class_order if has_candidates[c]]
    while spare and receivers:
        # Classes that got nothing first, then round-robin.
        for c in sorted(receivers, key=lambda c: quotas[c] > 0):
            if not spare:
                break
            quotas[c] += 1
            spare -= 1
    return quotas


class CoTrainingClassifier(BaseSemiSupervisedMetaEstimator):
    """Co-training: two classifiers, each on its own view of the columns, label rows for each other.

    The columns of ``X`` are split into two views (for images, the left and
    right halves; for web pages, the words of the page and the words of the
    links that point to it). One classifier is trained on each view. Each
    round, each classifier labels the rows it is most confident about in a
    small random *pool* of unlabeled rows, and these rows join the labeled
    set that both classifiers are trained on: a row that one view finds
    easy teaches the other view, to which it may look hard (Blum & Mitchell
    1998). The pool is replenished with random unlabeled rows after each
    round. The prediction combines the two views: the product of their class
    probabilities, renormalised.

    The multiclass version here labels, per view and per round, ``k`` rows
    split over the classes in proportion to the classes of the labeled rows
    (as the paper's ``p`` positive and ``n`` negative examples), the most
    confident first. When both views pick the same row with different
    labels, the more confident view wins.

    With ``require_agreement=True`` (the default), a view only labels a row
    where the combined prediction of both views (the one :meth:`predict`
    makes) agrees with its own, that is where the other view's
    probabilities do not overrule it. This check is not in the paper: with
    weak views (on digits, half an image with two labels per class is right
    only about 60 % of the time) the plain algorithm lets one view label a
    whole class wrongly and both views then learn the mistake; the check
    keeps co-training above the supervised baseline there. Set it to
    ``False`` for the algorithm of the paper.

    Read more in the :ref:`User Guide <co_training>`.

    Parameters
    ----------
    estimator : classifier or None, default=None
        Classifier of the first view, with ``fit`` and ``predict_proba``;
        it is cloned. ``None`` uses
        :class:`~sklearn.linear_model.LogisticRegression`.
    estimator2 : classifier or None, default=None
        Classifier of the second view; ``None`` uses a clone of
        ``estimator``.
    views : sequence of two column selectors or None, default=None
        The columns of each view. Each selector is a list or array of
        integer positions, a boolean mask over the columns, a ``slice``, or
        (when ``X`` is a DataFrame with string column names) a list of
        column names; a single int or name is a view of one column. The two
        views must be disjoint, non-empty and cover every column of ``X``.
        Integers are positions even for a DataFrame. ``None`` splits the
        columns at random into two halves (sizes differ by at most one),
        drawn from ``random_state``; it needs at least two columns.
    k : int >= 1, default=10
        Rows each view labels per round, split over the classes in
        proportion to the class frequencies of the given labels (largest
        remainders, so a class may get none in a round when ``k`` is smaller
        than the number of classes).
    pool_size : int >= 1, default=150
        Number of unlabeled rows the views pick from each round: a random
        subset of the unlabeled rows, topped up with random unlabeled rows
        after each round (Blum & Mitchell use 75 rows for two classes).
    max_iter : int >= 0, default=60
        Maximum number of co-training rounds. ``0`` fits the two views on
        the labeled rows only.
    threshold : float in [0, 1] or None, default=None
        If set, a view only labels a row whose highest probability (in that
        view) is at least ``threshold``.
    require_agreement : bool, default=True
        Only label a row where the combined prediction of both views equals
        the picking view's prediction. ``False`` is the plain algorithm of
        Blum & Mitchell.
    verbose : bool, default=False
        Print one line per round.
    random_state : int, RandomState instance or None, default=None
        Draws the default split of the columns, the pool and its
        replenishment, breaks ties between equally confident rows and
        between the two views, and seeds the estimators' own unset
        ``random_state`` parameters.

    Attributes
    ----------
    estimators_ : list of two classifiers
        The fitted classifiers of the first and second view; the one of view
        ``i`` takes the columns ``views_[i]`` of ``X``.
    estimator_ : classifier
        ``estimators_[0]``, the classifier of the first view (on its own it
        predicts from the columns ``views_[0]``, not from the whole ``X``).
    classes_ : ndarray of shape (n_classes,)
        Classes of the labeled rows (``-1`` is never one).
    views_ : list of two ndarrays of int
        The sorted column positions of each view.
    transduction_ : ndarray of shape (n_samples,)
        The labels of the final fit: the given labels, the labels the views
        gave, and ``-1`` for rows never labeled.
    labeled_iter_ : ndarray of shape (n_samples,)
        The round in which each row got its label: 0 for given labels, -1
        for rows never labeled.
    n_iter_ : int
        Number of co-training rounds run.
    termination_condition_ : {'max_iter', 'no_change', 'all_labeled'}
        Why fitting stopped: ``max_iter`` rounds were run; a round labeled
        no row (with ``threshold`` or ``require_agreement``, no row of the
        pool qualified); or every row is labeled.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features, when ``X`` is a DataFrame with string columns.

    See Also
    --------
    PseudoLabelClassifier : Self-training, one classifier on all columns.
    NoisyStudentClassifier : Teacher-student pseudo labels with a noised student.
    sklabelfree.datasets.image_half_views : The two halves of flattened images.

    Notes
    -----
    Co-training needs two views that are each sufficient to predict the
    class, and that are as independent as possible given the class. Both
    classifiers are refitted every round on the shared labeled set (each on
    its own columns), and once more after the last round, so a fit costs
    about ``2 * (n_iter_ + 1)`` fits of the view classifiers. Labels given
    by the views are never revised. ``X`` must be two-dimensional (an
    array, a sparse matrix or a DataFrame); the rest of its validation is
    left to the view classifiers.

    The view classifiers should give calibrated probabilities: the
    combined prediction multiplies them. Where the two probability vectors
    of a row have no class in common with non-zero probability, their mean
    is used for that row.

    ``decision_function`` is not available: use :meth:`predict_proba`.

    References
    ----------
    .. [1] A. Blum, T. Mitchell, "Combining labeled and unlabeled data with
       co-training", COLT 1998.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklabelfree.datasets import digits_benchmark_split, image_half_views
    >>> from sklabelfree.semi_supervised import CoTrainingClassifier
    >>> X, y, X_test, y_test, _ = digits_benchmark_split(20, random_state=1)
    >>> clf = CoTrainingClassifier(LogisticRegression(),
    ...                            views=image_half_views((8, 8)), random_state=0)
    >>> clf = clf.fit(X, y)
    >>> [len(v) for v in clf.views_], clf.n_iter_, int((clf.transduction_ != -1).sum())
    ([32, 32], 60, ...)
    >>> bool(clf.score(X_test, y_test) > 0.75)
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "estimator2": [HasMethods(["fit", "predict_proba"]), None],
        "views": ["array-like", None],
        "k": [Interval(Integral, 1, None, closed="left")],
        "pool_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "threshold": [Interval(Real, 0.0, 1.0, closed="both"), None],
        "require_agreement": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        estimator2=None,
        views=None,
        k=10,
        pool_size=150,
        max_iter=60,
        threshold=None,
        require_agreement=True,
        verbose=False,
        random_state=None,
    ):
        self.estimator = estimator
        self.estimator2 = estimator2
        self.views = views
        self.k = k
        self.pool_size = pool_size
        self.max_iter = max_iter
        self.threshold = threshold
        self.require_agreement = require_agreement
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ helpers
    def _get_estimator2(self):
        if self.estimator2 is None:
            return clone(self._get_param_estimator())
        return self.estimator2

    @staticmethod
    def _as_2d(X):
        """``X`` as something whose columns can be selected."""
        if sp.issparse(X):
            return X if X.format in ("csr", "csc") else X.tocsr()
        if not hasattr(X, "iloc") and not hasattr(X, "shape"):
            X = np.asarray(X)
        ndim = len(getattr(X, "shape", ()))
        if ndim != 2:
            raise ValueError(
                f"Expected 2D array, got {ndim}D array instead: "
                "CoTrainingClassifier selects columns of X, so X must be a 2-D "
                "array, sparse matrix or DataFrame. Reshape your data either using "
                "array.reshape(-1, 1) if your data has a single feature or "
                "array.reshape(1, -1) if it contains a single sample."
            )
        return X

    def _column_label(self, j):
        names = getattr(self, "feature_names_in_", None)
        return repr(str(names[j])) if names is not None else str(int(j))

    def _describe_columns(self, cols, limit=10):
        cols = list(cols)
        shown = ", ".join(self._column_label(j) for j in cols[:limit])
        more = f" and {len(cols) - limit} more" if len(cols) > limit else ""
        return f"[{shown}{more}]"

    def _resolve_one_view(self, selector, i, n_features):
        """Sorted int positions of one view's selector."""
        where = f"views[{i}]"
        names = getattr(self, "feature_names_in_", None)
        if isinstance(selector, slice):
            for bound in (selector.start, selector.stop, selector.step):
                if bound is not None and not isinstance(bound, numbers.Integral):
                    raise ValueError(
                        f"{where} is a slice with non-integer bounds {selector!r}; "
                        "use integer positions or a list of column names."
                    )
            cols = np.arange(n_features)[selector]
        else:
            if isinstance(selector, (str, numbers.Integral)) and not isinstance(
                selector, (bool, np.bool_)
            ):
                selector = [selector]
            try:
                arr = np.asarray(selector)
            except Exception as exc:  # ragged or odd selectors
                raise ValueError(
                    f"{where} is not a column selector: {selector!r}."
                ) from exc
            if arr.ndim != 1:
                raise ValueError(
                    f"{where} must be a 1-D list of columns, a boolean mask or a "
                    f"slice; got an array of shape {arr.shape}."
                )
            if arr.size == 0:
                cols = np.array([], dtype=int)
            elif arr.dtype.kind == "b":
                if arr.shape[0] != n_features:
                    raise ValueError(
                        f"{where} is a boolean mask of length {arr.shape[0]}, but X "
                        f"has {n_features} columns."
                    )
                cols = np.flatnonzero(arr)
            elif arr.dtype.kind in "iu":
                bad = arr[(arr < -n_features) | (arr >= n_features)]
                if bad.size:
                    raise ValueError(
                        f"{where} refers to column(s) {sorted(set(bad.tolist()))} "
                        f"that X does not have: X has {n_features} columns "
                        f"(positions 0 to {n_features - 1})."
                    )
                cols = np.where(arr < 0, arr + n_features, arr).astype(int)
            elif arr.dtype.kind in "UO" and all(isinstance(v, str) for v in arr):
                if names is None:
                    raise ValueError(
                        f"{where} selects columns by name ({list(arr[:5])}...), which "
                        "needs X to be a DataFrame with string column names; use "
                        "integer positions otherwise."
                    )
                position = {name: j for j, name in enumerate(names)}
                unknown = [str(v) for v in arr if v not in position]
                if unknown:
                    raise ValueError(
                        f"{where} refers to column(s) {unknown} that X does not have."
                    )
                cols = np.array([position[v] for v in arr], dtype=int)
            else:
                raise ValueError(
                    f"{where} must hold integer positions, booleans or column names; "
                    f"got {selector!r}."
                )
        if cols.size == 0:
            raise ValueError(f"{where} is empty: each view needs at least one column.")
        values, counts = np.unique(cols, return_counts=True)
        if (counts > 1).any():
            raise ValueError(
                f"{where} lists column(s) {self._describe_columns(values[counts > 1])} "
                "more than once."
            )
        return values

    def _resolve_views(self, shape, rng):
        n_features = shape[1]
        if self.views is None:
            if n_features < 2:
                raise ValueError(
                    f"Found array with {n_features} feature(s) (shape={tuple(shape)}) "
                    "while a minimum of 2 is required: with "
                    "views=None, CoTrainingClassifier splits the columns of X into "
                    "two views."
                )
            perm = rng.permutation(n_features)
            half = n_features // 2
            return [np.sort(perm[:half]), np.sort(perm[half:])]
        views = self.views
        if isinstance(views, (str, slice)) or not hasattr(views, "__len__"):
            raise ValueError(
                f"views must be a sequence of two column selectors; got {views!r}."
            )
        if len(views) != 2:
            raise ValueError(
                f"views must be a sequence of two column selectors, one per view; "
                f"got {len(views)}."
            )
        resolved = [self._resolve_one_view(views[i], i, n_features) for i in (0, 1)]
        overlap = np.intersect1d(resolved[0], resolved[1])
        if overlap.size:
            raise ValueError(
                f"The two views overlap: column(s) {self._describe_columns(overlap)} "
                "are in both. Co-training needs disjoint views."
            )
        missing = np.setdiff1d(np.arange(n_features), np.union1d(*resolved))
        if missing.size:
            raise ValueError(
                f"Column(s) {self._describe_columns(missing)} of X are in no view. "
                "The two views must cover every column; drop the columns you do "
                "not want (for example with a ColumnTransformer) before co-training."
            )
        return resolved

    def _route_view_params(self, X, params):
        """Fit parameters of the two view classifiers, full length."""
        if _routing_enabled():
            routed = process_routing(self, "fit", **params)
            return [dict(routed.estimator.fit), dict(routed.estimator2.fit)]
        fit_params = self._route_fit_params(X, dict(params))
        if "sample_weight" in fit_params and not has_fit_parameter(
            self._get_estimator2(), "sample_weight"
        ):
            raise ValueError(
                f"{type(self._get_estimator2()).__name__} (estimator2) does not "
                "accept sample_weight in fit."
            )
        return [fit_params, dict(fit_params)]

    def _view_proba(self, i, X_view):
        """Probabilities of view ``i``, columns in the order of ``classes_``."""
        est = self.estimators_[i]
        proba = np.asarray(est.predict_proba(X_view), dtype=float)
        est_classes = getattr(est, "classes_", self.classes_)
        if np.array_equal(est_classes, self.classes_):
            return proba
        out = np.zeros((proba.shape[0], self.classes_.shape[0]))
        out[:, np.searchsorted(self.classes_, est_classes)] = proba
        return out

    @staticmethod
    def _combine_log(p1, p2):
        """Log of the renormalised product of two probability vectors per row."""
        with np.errstate(divide="ignore"):
            joint = np.log(p1) + np.log(p2)
        norm = logsumexp(joint, axis=1, keepdims=True)
        disjoint = ~np.isfinite(norm[:, 0])
        if disjoint.any():
            # No class with non-zero probability in both views: use the mean.
            with np.errstate(divide="ignore"):
                joint[disjoint] = np.log((p1[disjoint] + p2[disjoint]) / 2)
            norm[disjoint] = logsumexp(joint[disjoint], axis=1, keepdims=True)
        return joint - norm

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Co-train the two view classifiers on labeled and unlabeled rows.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Labels, ``-1`` for unlabeled rows.
        **fit_params : dict
            ``sample_weight`` (one weight per row of ``X``), or, with
            metadata routing enabled, whatever ``estimator.fit`` and
            ``estimator2.fit`` request. Each fit gets the rows it uses.

        Returns
        -------
        self : CoTrainingClassifier
        """
        X = self._as_2d(X)
        X, y, labeled, classes = self._validate_fit_input(X, y)
        rng = check_random_state(self.random_state)
        self.views_ = self._resolve_views(X.shape, rng)
        routed = self._route_view_params(X, fit_params)

        bases = (self._get_param_estimator(), self._get_estimator2())
        self.estimators_ = [seed_estimator(clone(b), rng) for b in bases]
        self.estimator_ = self.estimators_[0]
        self.classes_ = classes
        n = _num_samples(X)
        n_classes = classes.shape[0]
        X_views = [_safe_indexing(X, v, axis=1) for v in self.views_]

        codes = np.full(n, -1, dtype=int)
        codes[labeled] = np.searchsorted(classes, y[labeled])
        prior = np.bincount(codes[labeled], minlength=n_classes) / labeled.sum()
        self.labeled_iter_ = np.where(labeled, 0, -1)

        # The pool: the first pool_size rows of a random order of the unlabeled
        # rows; the rest, in that order, replenish it.
        queue = rng.permutation(np.flatnonzero(~labeled))
        pool, queue = queue[: self.pool_size], queue[self.pool_size:]
        tie_key = rng.permutation(n)

        def fit_views():
            rows = np.flatnonzero(codes >= 0)
            for est, X_view, params in zip(self.estimators_, X_views, routed):
                self._fit_on_rows(est, X_view, classes[codes[rows]], rows, params)

        self.n_iter_ = 0
        self.termination_condition_ = "all_labeled" if pool.size == 0 else "max_iter"
        fit_views()
        for it in range(1, self.max_iter + 1):
            if pool.size == 0:
                break
            self.n_iter_ = it
            probas = [
                self._view_proba(i, _safe_indexing(X_views[i], pool)) for i in (0, 1)
            ]
            combined = None
            if self.require_agreement:
                combined = self._combine_log(*probas).argmax(axis=1)
            # Rows per class for each view this round: k split by the prior,
            # remainders going to classes in a random order (so that with k
            # smaller than the number of classes no class is always left out).
            class_order = rng.permutation(n_classes)
            quotas = np.empty(n_classes, dtype=int)
            quotas[class_order] = class_quotas(self.k, prior[class_order])
            views = []
            for proba in probas:
                conf = proba.max(axis=1)
                pred = proba.argmax(axis=1)
                allowed = np.ones(pool.shape[0], dtype=bool)
                if self.threshold is not None:
                    allowed &= conf >= self.threshold
                if combined is not None:
                    allowed &= pred == combined
                views.append((conf, pred, allowed))
            has_candidates = np.isin(
                np.arange(n_classes),
                np.concatenate([pred[allowed] for _, pred, allowed in views]))
            if not (has_candidates & (quotas > 0)).any():
                # The round's quota went to classes with no qualifying row
                # (with k below the number of classes): give it to those
                # with one rather than stop while they still have candidates.
                quotas = _move_unusable_quota(quotas, class_order, has_candidates)
            picked = {}  # position in pool -> (class code, confidence)
            for conf, pred, allowed in views:
                selected = np.concatenate([
                    select_confident(conf, pred, n_classes, n_select=quotas[c],
                                     candidates=allowed & (pred == c),
                                     order_key=tie_key[pool])
                    for c in np.flatnonzero(quotas)
                ] or [np.empty(0, dtype=np.intp)])
                for j in selected:
                    new = (pred[j], conf[j])
                    if j in picked and picked[j][0] != pred[j]:
                        old = picked[j]
                        if old[1] > new[1] or (old[1] == new[1] and rng.rand() < 0.5):
                            continue
                    picked[j] = new
            if not picked:
                self.termination_condition_ = "no_change"
                if self.verbose:
                    print(f"[CoTrainingClassifier] round {it}: no row qualified, stop")
                break
            taken = np.fromiter(picked, dtype=int, count=len(picked))
            rows = pool[taken]
            codes[rows] = [picked[j][0] for j in taken]
            self.labeled_iter_[rows] = it
            keep = np.ones(pool.shape[0], dtype=bool)
            keep[taken] = False
            pool = np.concatenate([pool[keep], queue[: taken.shape[0]]])
            queue = queue[taken.shape[0]:]
            if self.verbose:
                print(
                    f"[CoTrainingClassifier] round {it}: labeled {rows.shape[0]} "
                    f"rows, {int((codes >= 0).sum())} labeled in all, "
                    f"{pool.shape[0] + queue.shape[0]} unlabeled left"
                )
            fit_views()
            if getattr(self, "_trace", None) is not None:
                self._trace(self, it)
            if pool.size == 0:
                self.termination_condition_ = "all_labeled"
                break

        self.transduction_ = y.copy()
        new = (codes >= 0) & ~labeled
        self.transduction_[new] = classes[codes[new]]
        return self

    # ------------------------------------------------------------------ predict
    def _predict_log_joint(self, X):
        self._check_predict_input(X)
        X = self._as_2d(X)
        probas = [
            self._view_proba(i, _safe_indexing(X, self.views_[i], axis=1))
            for i in (0, 1)
        ]
        return self._combine_log(*probas)

    def predict_log_proba(self, X):
        """Log of the combined class probabilities of the two views.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Samples, with the columns seen in ``fit``.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return self._predict_log_joint(X)

    def predict_proba(self, X):
        """Combined class probabilities: the renormalised product of the two views'.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Samples, with the columns seen in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            ``p1 * p2 / sum(p1 * p2)`` per row, where ``p1`` and ``p2`` are
            the probabilities of the two view classifiers; columns in the
            order of ``classes_``.
        """
        return np.exp(self._predict_log_joint(X))

    def predict(self, X):
        """Predict the class with the highest combined probability.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Samples, with the columns seen in ``fit``.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted classes (never ``-1``).
        """
        log_proba = self._predict_log_joint(X)
        return self.classes_[log_proba.argmax(axis=1)]

    @available_if(_never)
    def decision_function(self, X):
        """Not available: use :meth:`predict_proba`."""
        raise AttributeError("CoTrainingClassifier has no decision_function.")

    # ------------------------------------------------------------------ routing / tags
    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        ``fit`` metadata (``sample_weight`` and whatever the view classifiers
        request) reaches ``estimator`` and ``estimator2``, sliced to the rows
        each fit uses.

        Returns
        -------
        routing : MetadataRouter
        """
        router = MetadataRouter(owner=self)
        mapping = MethodMapping().add(caller="fit", callee="fit")
        router.add(estimator=self._get_param_estimator(), method_mapping=mapping)
        router.add(estimator2=self._get_estimator2(), method_mapping=mapping)
        return router

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        second = get_tags(self._get_estimator2())
        tags.input_tags.sparse = tags.input_tags.sparse and second.input_tags.sparse
        tags.input_tags.allow_nan = (
            tags.input_tags.allow_nan and second.input_tags.allow_nan
        )
        tags.input_tags.string = False
        return tags
