"""Self-training with confident, class-balanced pseudo labels."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _num_samples

from ..base import BaseSemiSupervisedMetaEstimator, seed_estimator
from ._selection import select_confident, sharpen, soft_copies

__all__ = ["PseudoLabelClassifier"]


class PseudoLabelClassifier(BaseSemiSupervisedMetaEstimator):
    """Self-training: a classifier labels its own unlabeled rows, and learns from them.

    Fit ``estimator`` on the labeled rows, predict the unlabeled rows, keep
    the confident predictions as pseudo labels, refit on labeled plus
    pseudo-labeled rows, and repeat (Yarowsky 1995; Lee 2013). Two choices
    make it work with very few labels, where scikit-learn's
    :class:`~sklearn.semi_supervised.SelfTrainingClassifier` often adds
    nothing or collapses onto one class:

    - **class balancing** (``class_balance=True``): the pseudo labels of each
      class are capped at that class's share of the labeled rows, so a model
      whose probabilities lean towards one class cannot flood the training
      set with it;
    - **re-labeling** (curriculum labeling, Cascante-Bonilla et al. 2021):
      every iteration predicts *all* unlabeled rows again and selects the
      pseudo labels afresh, so an early mistake is dropped or flipped once
      the model knows better, rather than kept for good. With
      ``criterion='k_best'`` the selected set grows by ``k_best`` rows per
      iteration, most confident first.

    Read more in the :ref:`User Guide <pseudo_label>`.

    Parameters
    ----------
    estimator : classifier or None, default=None
        Any classifier with ``fit`` and ``predict_proba``; it is cloned.
        ``None`` uses :class:`~sklearn.linear_model.LogisticRegression`.
    threshold : float in [0, 1), default=0.75
        With ``criterion='threshold'``, rows whose highest (sharpened)
        probability is at least ``threshold`` are pseudo-labeled.
    criterion : {'k_best', 'threshold'}, default='k_best'
        ``'k_best'``: at iteration ``t`` the ``t * k_best`` most confident
        rows are pseudo-labeled. ``'threshold'``: every row above
        ``threshold``.
    k_best : int or float, default=0.1
        Rows added per iteration with ``criterion='k_best'``: a count, or a
        fraction of the unlabeled rows when a float in (0, 1].
    sharpen_temperature : float > 0 or None, default=None
        Temperature ``T`` applied to the predicted probabilities before
        selection and soft labels: ``p_i^(1/T) / sum_j p_j^(1/T)``.
    class_balance : bool, default=True
        Cap each class's pseudo labels at its share of the labeled rows.
    soft : bool, default=False
        Train on probability-weighted copies of each pseudo-labeled row (one
        copy per class whose probability is at least 1e-3, weighted by that
        probability) instead of its hard label. Needs an estimator whose
        ``fit`` takes ``sample_weight``.
    max_iter : int >= 1, default=10
        Maximum number of pseudo-labeling rounds.
    verbose : bool, default=False
        Print one line per round.
    random_state : int, RandomState instance or None, default=None
        Breaks ties between equally confident rows and seeds the estimator's
        own unset ``random_state`` parameters.

    Attributes
    ----------
    estimator_ : classifier
        The estimator fitted on the labeled and pseudo-labeled rows.
    classes_ : ndarray of shape (n_classes,)
        Classes of the labeled rows (``-1`` is never one).
    transduction_ : ndarray of shape (n_samples,)
        The labels of the final fit: the given labels, the pseudo labels,
        ``-1`` where a row was left unlabeled.
    label_distributions_ : ndarray of shape (n_samples, n_classes)
        One-hot rows for the given labels; for unlabeled rows the (sharpened)
        class distribution that the last round predicted.
    labeled_iter_ : ndarray of shape (n_samples,)
        The round in which each row got its current label: 0 for given
        labels, -1 for rows without a pseudo label at the end.
    n_iter_ : int
        Number of pseudo-labeling rounds run.
    termination_condition_ : {'max_iter', 'no_change', 'all_labeled'}
        Why fitting stopped: ``max_iter`` rounds were run; the selection
        stopped changing; or it stopped changing with every unlabeled row
        pseudo-labeled.
    n_features_in_ : int
        Number of features seen in ``fit`` (when ``X`` has columns).
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features, when ``X`` is a DataFrame with string columns.

    See Also
    --------
    NoisyStudentClassifier : Teacher-student pseudo labels with a noised student.
    CoTrainingClassifier : Two views labeling rows for each other.
    sklearn.semi_supervised.SelfTrainingClassifier : scikit-learn's version.

    References
    ----------
    .. [1] D. Yarowsky, "Unsupervised word sense disambiguation rivaling
       supervised methods", ACL 1995.
    .. [2] D.-H. Lee, "Pseudo-Label: The simple and efficient semi-supervised
       learning method for deep neural networks", ICML Workshop on
       Challenges in Representation Learning, 2013.
    .. [3] P. Cascante-Bonilla, F. Tan, Y. Qi, V. Ordonez, "Curriculum
       Labeling: Revisiting Pseudo-Labeling for Semi-Supervised Learning",
       AAAI 2021.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklabelfree.datasets import digits_benchmark_split
    >>> from sklabelfree.semi_supervised import PseudoLabelClassifier
    >>> X, y, X_test, y_test, _ = digits_benchmark_split(20, random_state=0)
    >>> clf = PseudoLabelClassifier(LogisticRegression(), random_state=0).fit(X, y)
    >>> clf.termination_condition_, clf.n_iter_
    ('max_iter', 10)
    >>> bool((clf.transduction_ != -1).mean() > 0.9)
    True
    >>> bool(clf.score(X_test, y_test) > 0.8)
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "threshold": [Interval(Real, 0.0, 1.0, closed="left")],
        "criterion": [StrOptions({"threshold", "k_best"})],
        "k_best": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0.0, 1.0, closed="right"),
        ],
        "sharpen_temperature": [Interval(Real, 0.0, None, closed="neither"), None],
        "class_balance": ["boolean"],
        "soft": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        threshold=0.75,
        criterion="k_best",
        k_best=0.1,
        sharpen_temperature=None,
        class_balance=True,
        soft=False,
        max_iter=10,
        verbose=False,
        random_state=None,
    ):
        self.estimator = estimator
        self.threshold = threshold
        self.criterion = criterion
        self.k_best = k_best
        self.sharpen_temperature = sharpen_temperature
        self.class_balance = class_balance
        self.soft = soft
        self.max_iter = max_iter
        self.verbose = verbose
        self.random_state = random_state

    def _n_per_round(self, n_unlabeled):
        if isinstance(self.k_best, Integral):
            return int(self.k_best)
        return max(1, int(round(self.k_best * n_unlabeled)))

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Fit on labeled rows, then on labeled and pseudo-labeled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training rows, in any form ``estimator`` accepts (arrays,
            DataFrames, sparse matrices, lists of texts for a text pipeline).
        y : array-like of shape (n_samples,)
            Labels, ``-1`` for unlabeled rows.
        **fit_params : dict
            ``sample_weight`` (one weight per row of ``X``), or, with
            metadata routing enabled, whatever ``estimator.fit`` requests.
            Each fit gets the rows it uses.

        Returns
        -------
        self : PseudoLabelClassifier
        """
        X, y, labeled, classes = self._validate_fit_input(X, y)
        routed = self._route_fit_params(X, fit_params)
        rng = check_random_state(self.random_state)
        base = self._get_param_estimator()
        if self.soft:
            from sklearn.utils.validation import has_fit_parameter

            if not has_fit_parameter(base, "sample_weight"):
                raise ValueError(
                    f"soft=True trains on probability-weighted copies, which needs "
                    f"an estimator whose fit takes sample_weight; "
                    f"{type(base).__name__} does not. Use soft=False."
                )
        self.estimator_ = seed_estimator(clone(base), rng)
        n = _num_samples(X)
        n_classes = classes.shape[0]
        class_index = {c: i for i, c in enumerate(classes)}
        lab_idx = np.flatnonzero(labeled)
        unl_idx = np.flatnonzero(~labeled)
        y_lab_codes = np.array([class_index[c] for c in y[lab_idx]])
        prior = np.bincount(y_lab_codes, minlength=n_classes) / lab_idx.shape[0]

        self.classes_ = classes
        self.labeled_iter_ = np.full(n, -1, dtype=int)
        self.labeled_iter_[lab_idx] = 0
        dist = np.zeros((n, n_classes))
        dist[lab_idx, y_lab_codes] = 1.0
        # Pseudo labels of the unlabeled rows: class code or -1.
        pseudo = np.full(unl_idx.shape[0], -1, dtype=int)
        per_round = self._n_per_round(unl_idx.shape[0])
        tie_key = rng.permutation(unl_idx.shape[0])

        self._fit_round(X, classes, lab_idx, y_lab_codes, unl_idx, pseudo, dist,
                        routed)
        self.n_iter_ = 0
        self.termination_condition_ = "all_labeled" if unl_idx.size == 0 else None
        for it in range(1, self.max_iter + 1):
            if unl_idx.size == 0:
                break
            proba = self._proba_in_class_order(_safe_rows(X, unl_idx))
            proba = sharpen(proba, self.sharpen_temperature)
            dist[unl_idx] = proba
            conf = proba.max(axis=1)
            pred = proba.argmax(axis=1)
            if self.criterion == "threshold":
                selected = select_confident(
                    conf, pred, n_classes, candidates=conf >= self.threshold,
                    prior=prior if self.class_balance else None, order_key=tie_key)
            else:
                selected = select_confident(
                    conf, pred, n_classes,
                    n_select=min(unl_idx.shape[0], it * per_round),
                    prior=prior if self.class_balance else None, order_key=tie_key)
            new_pseudo = np.full_like(pseudo, -1)
            new_pseudo[selected] = pred[selected]
            self.n_iter_ = it
            changed = new_pseudo != pseudo
            if self.verbose:
                print(
                    f"[PseudoLabelClassifier] round {it}: {selected.shape[0]} pseudo "
                    f"labels, {int(changed.sum())} changed"
                )
            if not changed.any():
                self.termination_condition_ = (
                    "all_labeled" if (pseudo >= 0).all() else "no_change"
                )
                break
            self.labeled_iter_[unl_idx[changed]] = np.where(
                new_pseudo[changed] >= 0, it, -1
            )
            pseudo = new_pseudo
            self._fit_round(X, classes, lab_idx, y_lab_codes, unl_idx, pseudo, dist,
                            routed)
        if self.termination_condition_ is None:
            self.termination_condition_ = "max_iter"

        self.transduction_ = y.copy()
        has_pseudo = pseudo >= 0
        self.transduction_[unl_idx[has_pseudo]] = classes[pseudo[has_pseudo]]
        self.label_distributions_ = dist
        return self

    def _proba_in_class_order(self, X_rows):
        proba = self.estimator_.predict_proba(X_rows)
        est_classes = getattr(self.estimator_, "classes_", self.classes_)
        if np.array_equal(est_classes, self.classes_):
            return proba
        out = np.zeros((proba.shape[0], self.classes_.shape[0]))
        pos = np.searchsorted(self.classes_, est_classes)
        out[:, pos] = proba
        return out

    def _fit_round(self, X, classes, lab_idx, y_lab_codes, unl_idx, pseudo, dist,
                   routed):
        has_pseudo = pseudo >= 0
        p_rows = unl_idx[has_pseudo]
        if not self.soft or p_rows.size == 0:
            rows = np.concatenate([lab_idx, p_rows])
            codes = np.concatenate([y_lab_codes, pseudo[has_pseudo]])
            weights = None
        else:
            rep_rows, rep_codes, rep_w = soft_copies(p_rows, dist[p_rows])
            rows = np.concatenate([lab_idx, rep_rows])
            codes = np.concatenate([y_lab_codes, rep_codes])
            weights = np.concatenate([np.ones(lab_idx.shape[0]), rep_w])
        self._fit_on_rows(self.estimator_, X, classes[codes], rows, routed, weights)


def _safe_rows(X, rows):
    from sklearn.utils import _safe_indexing

    return _safe_indexing(X, rows)
