"""Multi-task linear classifiers coupled by a structural penalty on their weights."""

import numbers
import warnings

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.validation import check_partially_labeled, labeled_mask

__all__ = ["MultiTaskLinearClassifier", "prox_l21", "prox_trace"]


def prox_l21(W, threshold):
    """Proximal operator of ``threshold * sum_j ||W[j]||_2`` (rows as groups).

    Each row is shrunk toward zero by ``threshold`` in Euclidean norm, and
    set to zero when its norm is below it: a feature is kept or dropped for
    every task at once.

    Parameters
    ----------
    W : ndarray of shape (n_features, n_outputs)
    threshold : float >= 0

    Returns
    -------
    W_prox : ndarray of shape (n_features, n_outputs)

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.transfer import prox_l21
    >>> prox_l21(np.array([[3.0, 4.0], [0.3, 0.4]]), 1.0)
    array([[2.4, 3.2],
           [0. , 0. ]])
    """
    norms = np.linalg.norm(W, axis=1, keepdims=True)
    scale = np.clip(1.0 - threshold / np.maximum(norms, 1e-300), 0.0, None)
    return W * scale


def prox_trace(W, threshold):
    """Proximal operator of ``threshold * ||W||_*`` (singular value thresholding).

    Parameters
    ----------
    W : ndarray of shape (n_features, n_outputs)
    threshold : float >= 0

    Returns
    -------
    W_prox : ndarray of shape (n_features, n_outputs)
        ``U diag(max(s - threshold, 0)) V^T`` for ``W = U diag(s) V^T``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.transfer import prox_trace
    >>> int(np.linalg.matrix_rank(prox_trace(np.diag([3.0, 1.0, 0.5]), 0.8)))
    2
    """
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    return (U * np.clip(s - threshold, 0.0, None)) @ Vt


def multitask_accuracy(y, pred, sample_weight=None):
    """Mean over tasks of the accuracy on the entries labeled for that task.

    Shared by the multi-task classifiers' ``score``.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        True labels, ``-1`` for entries to ignore.
    pred : ndarray of the same shape
        Predicted labels.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    score : float
    """
    y = np.asarray(y)
    Y = y.reshape(-1, 1) if y.ndim == 1 else y
    P = pred.reshape(-1, 1) if pred.ndim == 1 else pred
    w = np.ones(Y.shape[0]) if sample_weight is None else np.asarray(sample_weight,
                                                                      dtype=float)
    accs = []
    for t in range(Y.shape[1]):
        m = labeled_mask(Y[:, t])
        if m.any():
            accs.append(float(np.average(P[m, t] == Y[m, t], weights=w[m])))
    if not accs:
        raise ValueError("score needs at least one labeled entry (y != -1).")
    return float(np.mean(accs))


class MultiTaskLinearClassifier(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regressions for several tasks, coupled through their weights.

    Each task ``t`` (a column of ``y``) has its own linear softmax classifier
    ``W_t`` over the same features. The tasks' weight matrices are stacked
    side by side into ``W`` (features x all classes of all tasks), and the
    objective

    ``sum_t mean_{i labeled in t} CE(y_it, softmax(x_i W_t + b_t)) + alpha * Omega(W)``

    is minimised by accelerated proximal gradient (FISTA, Beck & Teboulle
    2009) with backtracking (the step size shrinks when the quadratic bound
    fails and grows again after accepted steps), where ``Omega`` couples the
    tasks:

    - ``penalty='l21'``: the L2,1 norm, the sum over features of the
      Euclidean norm of their weights in every task: features are selected
      jointly, for all tasks (Obozinski, Taskar & Jordan 2010; Argyriou,
      Evgeniou & Pontil 2008);
    - ``penalty='trace'``: the trace (nuclear) norm, the sum of the singular
      values of ``W``: the tasks share a low-dimensional subspace (Ji & Ye
      2009; Pong et al. 2010);
    - ``penalty='l2'``: half the squared Frobenius norm, ``||W||_F^2 / 2``
      (each task on its own; for one binary task the same solution as
      ``LogisticRegression(C=2 / (alpha * n))`` on the ``n`` labeled rows,
      the softmax's two columns sharing the penalty), and ``None``, as
      uncoupled references.

    A row may lack the label of some tasks (``-1``): it counts for the tasks
    it has labels for. A 1-D ``y`` is a single task.

    Parameters
    ----------
    penalty : {'l21', 'trace', 'l2'} or None, default='l21'
        The structural penalty.
    alpha : float >= 0, default=0.01
        Strength of the penalty.
    fit_intercept : bool, default=True
        Learn a bias per class (not penalised). ``X`` is then centred
        internally (exact, as the intercept absorbs the means), so that
        features far from zero do not slow the solver down.
    max_iter : int, default=500
        Proximal gradient iterations. A ``ConvergenceWarning`` is issued
        when they run out before ``tol`` is met.
    tol : float, default=1e-6
        Stop when the norm of the gradient mapping (the prox-gradient step
        divided by its step size, zero exactly at the optimum) falls below
        ``tol`` times ``max(1, its value at the first iteration)``.

    Attributes
    ----------
    coef_ : list of ndarray of shape (n_classes_t, n_features)
        Each task's weights.
    intercept_ : list of ndarray of shape (n_classes_t,)
    classes_ : list of ndarray, or ndarray for a 1-D target
        Each task's classes (``-1`` is never a class).
    n_tasks_ : int
    n_iter_ : int
        Iterations run.
    objective_ : float
        Final value of the objective.
    n_features_in_ : int

    References
    ----------
    A. Argyriou, T. Evgeniou and M. Pontil, "Convex multi-task feature
    learning", Machine Learning 73, 2008.
    G. Obozinski, B. Taskar and M. I. Jordan, "Joint covariate selection and
    joint subspace selection for multiple classification problems",
    Statistics and Computing 20, 2010.
    S. Ji and J. Ye, "An accelerated gradient method for trace norm
    minimization", ICML 2009.
    A. Beck and M. Teboulle, "A fast iterative shrinkage-thresholding
    algorithm for linear inverse problems", SIAM J. Imaging Sciences 2, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.transfer import MultiTaskLinearClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 6)
    >>> y = np.column_stack([X[:, 0] > 0, X[:, 0] + X[:, 1] > 0]).astype(int)
    >>> y[100:, 1] = -1                       # task 1 is labeled on half the rows
    >>> clf = MultiTaskLinearClassifier(penalty="l21", alpha=0.05).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3, 2)
    >>> np.round(np.linalg.norm(clf.joint_coef()[2:], axis=1), 3)  # noise features dropped
    array([0., 0., 0., 0.])
    """

    _parameter_constraints = {
        "penalty": [StrOptions({"l21", "trace", "l2"}), None],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(self, penalty="l21", alpha=0.01, fit_intercept=True, max_iter=500,
                 tol=1e-6):
        self.penalty = penalty
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------ objective
    def _penalty_value(self, W):
        if self.penalty is None or self.alpha == 0:
            return 0.0
        if self.penalty == "l21":
            return self.alpha * np.linalg.norm(W, axis=1).sum()
        if self.penalty == "trace":
            return self.alpha * np.linalg.svd(W, compute_uv=False).sum()
        return 0.5 * self.alpha * float((W**2).sum())

    def _prox(self, W, step):
        if self.penalty is None or self.alpha == 0:
            return W
        if self.penalty == "l21":
            return prox_l21(W, step * self.alpha)
        if self.penalty == "trace":
            return prox_trace(W, step * self.alpha)
        return W / (1.0 + step * self.alpha)

    def _loss_grad(self, W, b, X, tasks):
        """Sum over tasks of the mean cross-entropy, and its gradient."""
        loss = 0.0
        gW = np.zeros_like(W)
        gb = np.zeros_like(b)
        for rows, codes, cols in tasks:
            Z = X[rows] @ W[:, cols] + b[cols]
            logZ = logsumexp(Z, axis=1, keepdims=True)
            n = rows.shape[0]
            loss += float((logZ[:, 0] - Z[np.arange(n), codes]).mean())
            P = np.exp(Z - logZ)
            P[np.arange(n), codes] -= 1.0
            P /= n
            gW[:, cols] += X[rows].T @ P
            gb[cols] += P.sum(axis=0)
        if not self.fit_intercept:
            gb[:] = 0.0
        return loss, gW, gb

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit every task's classifier jointly.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Labels of each task, ``-1`` where a row has no label for a task.

        Returns
        -------
        self : MultiTaskLinearClassifier
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None.")
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        y = np.asarray(y)
        single = y.ndim == 1
        Y = y.reshape(-1, 1) if single else y
        if Y.ndim != 2:
            raise ValueError(f"y must be 1-D or 2-D (n_samples, n_tasks), got shape {y.shape}.")
        if Y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {Y.shape[0]}.")
        tasks, classes, start = [], [], 0
        for t in range(Y.shape[1]):
            col = Y[:, t]
            if col.dtype == object and all(
                    isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in col):
                col = col.astype(np.int64)  # a numeric column of a mixed 2-D target
            if not labeled_mask(col).any():
                raise ValueError(
                    f"task {t} has no labeled row (every entry of y[:, {t}] is -1); "
                    "drop that column or label some rows.")
            y_t, labeled, cls = check_partially_labeled(
                col, warn_all_labeled=False,
                estimator_name=f"{type(self).__name__} (task {t})")
            rows = np.flatnonzero(labeled)
            codes = np.searchsorted(cls, y_t[rows])
            cols = np.arange(start, start + cls.shape[0])
            start += cls.shape[0]
            tasks.append((rows, codes, cols))
            classes.append(cls)

        d, k = X.shape[1], start
        # The intercept is not penalised, so shifting X by its mean is exact
        # (the mean folds into the intercept at the end) and keeps an
        # off-centre column (a year, an income) from stalling the solver.
        X_offset = X.mean(axis=0) if self.fit_intercept else np.zeros(d)
        Xc = X - X_offset
        W = np.zeros((d, k))
        b = np.zeros(k)
        Wy, by, t_k = W.copy(), b.copy(), 1.0
        step = 1.0
        obj_prev = np.inf
        grad_map_0 = None
        converged = False
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):
            loss_y, gW, gb = self._loss_grad(Wy, by, Xc, tasks)
            # Backtracking: the quadratic model at the prox point must bound the loss.
            while True:
                W_new = self._prox(Wy - step * gW, step)
                b_new = by - step * gb
                loss_new, _, _ = self._loss_grad(W_new, b_new, Xc, tasks)
                dW, db = W_new - Wy, b_new - by
                bound = loss_y + (gW * dW).sum() + (gb * db).sum() + (
                    (dW**2).sum() + (db**2).sum()) / (2 * step)
                if loss_new <= bound + 1e-12 or step < 1e-12:
                    break
                step *= 0.5
            # Norm of the gradient mapping (the prox-gradient step over its
            # step size): zero exactly at the optimum, whatever the step size.
            grad_map = np.sqrt((dW**2).sum() + (db**2).sum()) / step
            if grad_map_0 is None:
                grad_map_0 = grad_map
            obj = loss_new + self._penalty_value(W_new)
            t_next = (1 + np.sqrt(1 + 4 * t_k**2)) / 2
            momentum = (t_k - 1) / t_next
            if obj > obj_prev:  # restart the momentum when the objective rises
                momentum, t_next = 0.0, 1.0
            Wy = W_new + momentum * (W_new - W)
            by = b_new + momentum * (b_new - b)
            W, b, t_k = W_new, b_new, t_next
            if grad_map <= self.tol * max(1.0, grad_map_0):
                converged = True
                break
            obj_prev = min(obj, obj_prev)
            step *= 1.25  # let the step grow back after an accepted step
        if not converged:
            warnings.warn(
                f"{type(self).__name__} did not converge in max_iter={self.max_iter} "
                f"iterations (gradient mapping norm {grad_map:.3g}); increase max_iter "
                "or scale the features.", ConvergenceWarning)
        b = b - X_offset @ W
        self.n_iter_ = n_iter
        self.objective_ = float(obj)
        self._W, self._b = W, b
        self._cols = [cols for _, _, cols in tasks]
        self.coef_ = [W[:, cols].T.copy() for cols in self._cols]
        self.intercept_ = [b[cols].copy() for cols in self._cols]
        self.n_tasks_ = len(tasks)
        self._single = single
        self.classes_ = classes[0] if single else classes
        return self

    def joint_coef(self):
        """The stacked weights ``W`` (features x all classes of all tasks).

        Returns
        -------
        W : ndarray of shape (n_features, sum of the tasks' classes)

        Examples
        --------
        >>> import numpy as np
        >>> from sklabelfree.transfer import MultiTaskLinearClassifier
        >>> X = np.random.RandomState(0).randn(40, 3)
        >>> Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
        >>> MultiTaskLinearClassifier().fit(X, Y).joint_coef().shape
        (3, 4)
        """
        check_is_fitted(self, "coef_")
        return self._W.copy()

    # ------------------------------------------------------------------ predict
    def predict_proba(self, X):
        """Class probabilities of each task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), or a list of one such
            array per task when ``y`` was 2-D.
        """
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        out = []
        for coef, intercept in zip(self.coef_, self.intercept_):
            Z = X @ coef.T + intercept
            out.append(np.exp(Z - logsumexp(Z, axis=1, keepdims=True)))
        return out[0] if self._single else out

    def _scores(self, X):
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return [X @ c.T + b for c, b in zip(self.coef_, self.intercept_)]

    def decision_function(self, X):
        """Scores ``X W_t + b_t`` of each task.

        For a task with two classes, as in scikit-learn, the score of the
        second class minus that of the first (one column). When every task
        has two classes, the scores of the tasks are the columns of one
        array, as for scikit-learn's multilabel classifiers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray, or a list of one array per task when ``y`` was 2-D
            and a task has more than two classes
        """
        out = [Z[:, 1] - Z[:, 0] if Z.shape[1] == 2 else Z for Z in self._scores(X)]
        if self._single:
            return out[0]
        if all(o.ndim == 1 for o in out):
            return np.column_stack(out)
        return out

    def predict(self, X):
        """The most likely class of each task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        """
        scores = self._scores(X)
        cols = [cls[np.argmax(Z, axis=1)] for cls, Z in zip(
            [self.classes_] if self._single else self.classes_, scores)]
        if self._single:
            return cols[0]
        if any(c.dtype == object for c in cols):
            return np.column_stack([c.astype(object) for c in cols])
        return np.column_stack(cols)

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of the accuracy on the rows labeled for that task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            ``-1`` marks entries to ignore.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        return multitask_accuracy(y, self.predict(X), sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_label = False
        return tags
