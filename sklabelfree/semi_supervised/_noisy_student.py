"""Noisy Student training: a teacher labels, a noised student learns, and becomes the teacher."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.utils import _safe_indexing, check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import _num_samples, has_fit_parameter

from ..base import (
    BaseSemiSupervisedMetaEstimator,
    is_semi_supervised,
    seed_estimator,
)
from ..utils.validation import AllLabeledWarning
from ._selection import select_confident, sharpen, soft_copies

__all__ = ["NoisyStudentClassifier"]


class NoisyStudentClassifier(BaseSemiSupervisedMetaEstimator):
    """Noisy Student: pseudo labels from a clean teacher, a student trained on noised inputs.

    The procedure of Xie et al. (2020), for any scikit-learn classifier:

    1. fit the teacher (a clone of ``teacher``) on the labeled rows, or on
       every row with ``-1`` on the unlabeled ones when it is
       semi-supervised (see below);
    2. the teacher predicts the unlabeled rows on **clean** inputs: soft
       pseudo labels (its class distribution, sharpened) or hard ones (its
       most probable class);
    3. keep the rows whose highest probability is at least ``threshold``,
       and, with ``class_balance=True``, at most each class's share of the
       labeled rows among them (the most confident first), so that a teacher
       leaning towards one class cannot flood the student with it (Xie et
       al. balance the classes of the pseudo-labeled data too);
    4. fit a student (a clone of ``student``) on the labeled rows plus the
       kept pseudo-labeled rows, with **noise**: on its inputs
       (``noise(X, random_state)``, e.g. :class:`GaussianNoise` or
       :class:`FeatureDropout`), or inside a deep student (dropout and
       strong augmentation, see below);
    5. the student becomes the teacher; repeat for ``n_generations``.

    The asymmetry is the point: the teacher labels clean inputs, so its
    labels are as good as it can make them, while the student must give the
    same answer on noised inputs, which makes it smoother and lets it
    generalise beyond its teacher. Every student is trained from scratch (a
    new clone), never fine-tuned from its teacher.

    With scikit-learn models two choices matter more than in the deep
    setting of the paper: a student of the teacher's own kind that is fitted
    on the teacher's *unsharpened* soft labels reproduces them and gains
    nothing, hence ``sharpen_temperature``; and class balancing, which on
    digits with 20 labels is worth about 4 points of accuracy. Input noise
    (``noise``) changes a linear student by less than a point there (see
    the example gallery); it matters more for flexible students, which
    could otherwise copy their teacher.

    **Semi-supervised teachers and students.** A teacher or student that
    learns from rows labeled ``-1`` (one for which
    :func:`~sklabelfree.base.is_semi_supervised` is true: sklabelfree's
    semi-supervised estimators, the deep nets of this module included,
    those of :mod:`sklearn.semi_supervised`, and a ``Pipeline`` ending in
    one) is given them. The first
    teacher is fitted on every row, ``-1`` on the unlabeled ones, so that a
    :class:`FixMatchClassifier` teacher learns from the unlabeled rows as
    its method intends, instead of from the labeled rows alone. Each student
    is fitted on the labeled and pseudo-labeled rows plus, labeled ``-1``
    (weight 1 with ``soft=True``), the unlabeled rows left out of that
    generation (below ``threshold`` or over the class quota): a FixMatch
    student uses them, a :class:`SupervisedNetClassifier` ignores them but
    sizes its epochs on all the rows, as it does on its own. Other
    classifiers only ever see labeled and pseudo-labeled rows. When every
    unlabeled row was kept, the student's target has no ``-1``; the
    :class:`~sklabelfree.utils.AllLabeledWarning` the student would then
    emit is silenced, as it is expected (``fit`` itself warns when ``y``
    has no ``-1``).

    **Deep students: the recipe of the paper.** Xie et al. noise the student
    with dropout (and stochastic depth) in the model and RandAugment on its
    inputs, drawn afresh at every step. A net of this module does exactly
    that with ``noise=None``: give the student ``augment='strong'`` (the
    strong preset of :func:`~sklabelfree.augment.make_augmentation`:
    RandAugment and cutout for images, noise, masking and swap noise for
    tabular rows) and ``module__dropout`` (dropout before the classifier
    head of the default modules). The teacher labels on clean inputs:
    ``predict_proba`` runs the net in evaluation mode, without dropout and
    without augmentation. The nets' ``fit`` takes ``sample_weight``, so the
    soft labels (``soft=True``) are the probability-weighted copies as for
    any other student. An input ``noise`` still applies on top, drawn once
    per generation (the same noised rows at every epoch). A semi-supervised
    net such as :class:`FixMatchClassifier` can be the first teacher of a
    supervised student (see the Examples). On the digits images
    (``digits_benchmark_split(n, random_state=0, as_images=True)``, one
    seed), a FixMatch teacher (``threshold=0.95``, ``max_epochs=30``,
    ``ema_decay=None``, ``lr_schedule='constant'``, ``module__width=32``)
    scored 95.2% with 50 labels and such
    a student (``augment='strong'``, ``module__dropout=0.5``, soft labels)
    96.5% after one generation, 96.9% after two, 97.4% after one with
    ``max_epochs=90``; with 20 labels the 30-epoch student fell short of
    its teacher (85.9% against 87.2%) and the 90-epoch one passed it
    (90.0%). The student learns from far more rows than the teacher had
    labels: give it the epochs to do so.

    Read more in the :ref:`User Guide <noisy_student>`.

    Parameters
    ----------
    teacher : classifier or None, default=None
        Classifier with ``fit`` and ``predict_proba`` fitted on the labeled
        rows (on every row when it is semi-supervised) as the first teacher;
        it is cloned. ``None`` uses ``student`` when it is given, else
        :class:`~sklearn.linear_model.LogisticRegression`.
    student : classifier or None, default=None
        Classifier trained on the labeled and (noised) pseudo-labeled rows in
        each generation (plus the left-out unlabeled rows when it is
        semi-supervised); cloned afresh for every generation. ``None`` uses
        ``teacher`` (Xie et al. use an equal-or-larger student; with
        scikit-learn models the same model is a good start).
    n_generations : int >= 1, default=5
        Number of student generations (teacher -> student rounds).
    soft : bool, default=True
        Train the student on the teacher's class distributions as
        probability-weighted copies of each pseudo-labeled row (one copy per
        class whose probability is at least 1e-3, weighted by it), after
        sharpening with ``sharpen_temperature``; the student's ``fit`` must
        take ``sample_weight``. ``False`` trains on the most probable
        class.
    threshold : float in [0, 1), default=0.3
        Unlabeled rows whose highest teacher probability is below
        ``threshold`` are not used in that generation (0.3 is the value of
        Xie et al.).
    class_balance : bool, default=True
        Among the rows above ``threshold``, keep for each class at most its
        share of the labeled rows (``ceil(share * n_rows)``), the most
        confident first.
    noise : callable or None, default=None
        Input noise of the students, ``noise(X, random_state) -> X_noised``
        with the shape of ``X``: :class:`GaussianNoise`,
        :class:`FeatureDropout`, :class:`SwapNoise` or any function. It is
        applied to every row a student is trained on, labeled rows included;
        the soft copies of a row share the same noised input, drawn afresh
        in each generation with a seed from ``random_state``. The teacher
        never sees noise when it labels. ``noise`` must not modify ``X`` in
        place. ``None``: no input noise.
    sharpen_temperature : float > 0 or None, default=0.25
        Temperature ``T`` applied to the teacher's probabilities before they
        become soft labels: ``p_i^(1/T) / sum_j p_j^(1/T)``. A student that
        is fitted on its teacher's own unsharpened distributions (same model,
        no noise) reproduces them and learns next to nothing; sharpening
        makes it commit, as entropy minimisation does. ``None`` or ``1``
        keeps the teacher's distributions. The ``threshold`` filter uses the
        probabilities before sharpening. Ignored with ``soft=False``.
    verbose : bool, default=False
        Print one line per generation.
    random_state : int, RandomState instance or None, default=None
        Seeds the noise, breaks ties between equally confident rows and
        seeds the unset ``random_state`` parameters of every teacher and
        student.

    Attributes
    ----------
    estimator_ : classifier
        The student of the last generation (the first teacher when no
        generation ran); ``predict`` and ``predict_proba`` use it.
    estimators_ : list of classifiers
        The model of each generation: ``estimators_[0]`` is the first
        teacher and ``estimators_[g]`` the student of
        generation ``g``, which is the teacher of generation ``g + 1``.
        ``estimators_[-1] is estimator_``.
    classes_ : ndarray of shape (n_classes,)
        Classes of the labeled rows (``-1`` is never one).
    transduction_ : ndarray of shape (n_samples,)
        The labels the last student was trained on: the given labels, the
        last teacher's most probable class on the rows it kept, ``-1`` on the
        rows below ``threshold`` or over the class quota.
    label_distributions_ : ndarray of shape (n_samples, n_classes)
        One-hot rows for the given labels; for unlabeled rows the class
        distribution that the last teacher predicted on clean inputs
        (sharpened with ``sharpen_temperature`` when ``soft=True``): the
        soft labels of the last student.
    labeled_iter_ : ndarray of shape (n_samples,)
        The generation since which each row has had its current pseudo label
        without interruption: 0 for given labels, -1 for rows left out of the
        last generation.
    n_iter_ : int
        Number of generations run (students trained).
    termination_condition_ : {'n_generations', 'no_change', 'all_labeled'}
        ``'n_generations'``: every generation ran. ``'no_change'``: a
        teacher left no unlabeled row above ``threshold``, so there was
        nothing new to learn and that teacher is kept. ``'all_labeled'``:
        ``y`` has no unlabeled row; the first teacher is the model.
    n_features_in_ : int
        Number of features seen in ``fit`` (when ``X`` has columns).
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features, when ``X`` is a DataFrame with string columns.

    See Also
    --------
    PseudoLabelClassifier : Self-training with one model and confident pseudo labels.
    GaussianNoise : Additive Gaussian input noise.
    FeatureDropout : Input dropout.
    SwapNoise : Replace entries by another row's value.
    sklearn.semi_supervised.SelfTrainingClassifier : scikit-learn's self-training.

    Notes
    -----
    Metadata routing: ``sample_weight`` (and, with metadata routing enabled,
    whatever the estimators request) reaches the first teacher, sliced to the
    rows it is fitted on, and every student, sliced to the rows it is trained
    on and multiplied by the soft-label weights. Without routing, ``sample_weight``
    needs a ``teacher`` (and ``student``, when given) whose ``fit`` takes it.
    With routing enabled, ``teacher`` and ``student`` are routed separately
    (request ``sample_weight`` on both); when ``student`` is None the
    students get what ``teacher`` requests.

    References
    ----------
    .. [1] Q. Xie, M.-T. Luong, E. Hovy, Q. V. Le, "Self-training with Noisy
       Student improves ImageNet classification", CVPR 2020.
    .. [2] D.-H. Lee, "Pseudo-Label: The simple and efficient semi-supervised
       learning method for deep neural networks", ICML Workshop on
       Challenges in Representation Learning, 2013.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklabelfree.datasets import digits_benchmark_split
    >>> from sklabelfree.semi_supervised import NoisyStudentClassifier
    >>> X, y, X_test, y_test, _ = digits_benchmark_split(20, random_state=0)
    >>> clf = NoisyStudentClassifier(LogisticRegression(), random_state=0).fit(X, y)
    >>> clf.n_iter_, len(clf.estimators_), clf.termination_condition_
    (5, 6, 'n_generations')
    >>> teacher_acc = clf.estimators_[0].score(X_test, y_test)
    >>> bool(clf.score(X_test, y_test) > teacher_acc)
    True

    The recipe of the paper with a deep student on 8x8 images: strong
    augmentation and dropout as the noise, ``noise=None`` (two epochs, to
    keep the example fast; real use takes the default 30):

    >>> from sklabelfree.semi_supervised import SupervisedNetClassifier
    >>> X, y, X_test, y_test, _ = digits_benchmark_split(50, as_images=True)
    >>> student = SupervisedNetClassifier(augment="strong", module__dropout=0.5,
    ...                                   max_epochs=2)
    >>> clf = NoisyStudentClassifier(student=student, n_generations=1,
    ...                              random_state=0).fit(X, y)
    >>> clf.predict(X_test[:3]).shape
    (3,)

    A FixMatch teacher, fitted on every row (unlabeled ones as ``-1``),
    would be ``NoisyStudentClassifier(FixMatchClassifier(), student)``.
    """

    _estimator_param = "teacher"

    _parameter_constraints: dict = {
        "teacher": [HasMethods(["fit", "predict_proba"]), None],
        "student": [HasMethods(["fit", "predict_proba"]), None],
        "n_generations": [Interval(Integral, 1, None, closed="left")],
        "soft": ["boolean"],
        "threshold": [Interval(Real, 0.0, 1.0, closed="left")],
        "class_balance": ["boolean"],
        "noise": [callable, None],
        "sharpen_temperature": [Interval(Real, 0.0, None, closed="neither"), None],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        teacher=None,
        student=None,
        n_generations=5,
        soft=True,
        threshold=0.3,
        class_balance=True,
        noise=None,
        sharpen_temperature=0.25,
        verbose=False,
        random_state=None,
    ):
        self.teacher = teacher
        self.student = student
        self.n_generations = n_generations
        self.soft = soft
        self.threshold = threshold
        self.class_balance = class_balance
        self.noise = noise
        self.sharpen_temperature = sharpen_temperature
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ estimators
    def _get_param_estimator(self):
        # The first teacher: ``teacher``, else ``student``, else LogisticRegression.
        if self.teacher is None and self.student is not None:
            return self.student
        return super()._get_param_estimator()

    def _student_base(self):
        return self.student if self.student is not None else self._get_param_estimator()

    def _route_teacher_student(self, X, params):
        """Fit parameters of the first teacher and of the students (full length)."""
        if _routing_enabled():
            routed = process_routing(self, "fit", **params)
            teacher_params = dict(routed.teacher.fit)
            student_params = (
                dict(routed.student.fit) if "student" in routed else teacher_params
            )
            return teacher_params, student_params
        has_weight = params.get("sample_weight") is not None
        teacher_params = self._route_fit_params(X, params)
        student = self._student_base()
        if has_weight and not has_fit_parameter(student, "sample_weight"):
            raise ValueError(
                f"The student {type(student).__name__} does not accept "
                "sample_weight in fit."
            )
        return teacher_params, teacher_params

    def _noised(self, X, rng):
        """``noise(X)`` with a seed drawn from ``rng``, checked for shape."""
        seed = rng.randint(np.iinfo(np.int32).max)
        X_noised = self.noise(X, seed)
        shape = getattr(X, "shape", None)
        noised_shape = getattr(X_noised, "shape", None)
        try:
            same_rows = _num_samples(X_noised) == _num_samples(X)
        except TypeError:
            same_rows = False
        if not same_rows or (shape is not None and noised_shape != shape):
            raise ValueError(
                f"noise must return the noised X with the shape of X "
                f"{shape if shape is not None else _num_samples(X)}; "
                f"{self.noise!r} returned "
                f"{noised_shape if noised_shape is not None else type(X_noised)}."
            )
        return X_noised

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Fit the first teacher, then ``n_generations`` noised students.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training rows, in any form the estimators accept (and ``noise``,
            when given).
        y : array-like of shape (n_samples,)
            Labels, ``-1`` for unlabeled rows.
        **fit_params : dict
            ``sample_weight`` (one weight per row of ``X``), or, with
            metadata routing enabled, whatever ``teacher.fit`` and
            ``student.fit`` request. Each fit gets the rows it uses.

        Returns
        -------
        self : NoisyStudentClassifier
        """
        X, y, labeled, classes = self._validate_fit_input(X, y)
        teacher_params, student_params = self._route_teacher_student(X, fit_params)
        student_base = self._student_base()
        if self.soft and not has_fit_parameter(student_base, "sample_weight"):
            raise ValueError(
                "soft=True trains the student on probability-weighted copies, "
                "which needs a student whose fit takes sample_weight; "
                f"{type(student_base).__name__} does not. Use soft=False."
            )
        rng = check_random_state(self.random_state)
        n = _num_samples(X)
        n_classes = classes.shape[0]
        class_index = {c: i for i, c in enumerate(classes)}
        lab_idx = np.flatnonzero(labeled)
        unl_idx = np.flatnonzero(~labeled)
        y_lab_codes = np.array([class_index[c] for c in y[lab_idx]])
        prior = np.bincount(y_lab_codes, minlength=n_classes) / lab_idx.shape[0]
        tie_key = rng.permutation(unl_idx.shape[0])
        X_unl = _safe_indexing(X, unl_idx) if unl_idx.size else None

        self.classes_ = classes
        teacher = seed_estimator(clone(self._get_param_estimator()), rng)
        if is_semi_supervised(teacher):
            # A semi-supervised teacher learns from the unlabeled rows too.
            self._fit_inner(teacher, X, y, np.arange(n), teacher_params)
        else:
            self._fit_inner(teacher, X, classes[y_lab_codes], lab_idx, teacher_params)
        self.estimators_ = [teacher]

        dist = np.zeros((n, n_classes))
        dist[lab_idx, y_lab_codes] = 1.0
        pseudo = np.full(unl_idx.shape[0], -1, dtype=int)
        self.labeled_iter_ = np.full(n, -1, dtype=int)
        self.labeled_iter_[lab_idx] = 0
        self.n_iter_ = 0
        self.termination_condition_ = "all_labeled" if unl_idx.size == 0 else None
        for generation in range(1, self.n_generations + 1):
            if unl_idx.size == 0:
                break
            # Pseudo labels from the teacher on clean inputs.
            raw = _proba(teacher, X_unl, classes)
            confidence = raw.max(axis=1)
            predicted = raw.argmax(axis=1)
            proba = sharpen(raw, self.sharpen_temperature) if self.soft else raw
            selected = select_confident(
                confidence, predicted, n_classes,
                candidates=confidence >= self.threshold,
                prior=prior if self.class_balance else None,
                order_key=tie_key,
            )
            if selected.size == 0:
                self.termination_condition_ = "no_change"
                if self.verbose:
                    print(
                        f"[NoisyStudentClassifier] generation {generation}: no "
                        f"unlabeled row above threshold={self.threshold}; stopping."
                    )
                break
            new_pseudo = np.full_like(pseudo, -1)
            new_pseudo[selected] = predicted[selected]
            changed = new_pseudo != pseudo
            self.labeled_iter_[unl_idx[changed]] = np.where(
                new_pseudo[changed] >= 0, generation, -1)
            pseudo = new_pseudo
            dist[unl_idx] = proba

            student = seed_estimator(clone(student_base), rng)
            left_out = np.setdiff1d(unl_idx, unl_idx[selected], assume_unique=True)
            self._fit_student(student, X, y, classes, lab_idx, y_lab_codes,
                              unl_idx[selected], proba[selected], predicted[selected],
                              left_out, student_params, rng)
            self.estimators_.append(student)
            self.n_iter_ = generation
            if self.verbose:
                print(
                    f"[NoisyStudentClassifier] generation {generation}: "
                    f"{selected.size} pseudo labels (mean confidence "
                    f"{confidence[selected].mean():.3f}), {int(changed.sum())} changed"
                )
            teacher = student
        if self.termination_condition_ is None:
            self.termination_condition_ = "n_generations"

        self.estimator_ = self.estimators_[-1]
        self.transduction_ = y.copy()
        has_pseudo = pseudo >= 0
        self.transduction_[unl_idx[has_pseudo]] = classes[pseudo[has_pseudo]]
        self.label_distributions_ = dist
        return self

    def _fit_student(self, student, X, y, classes, lab_idx, y_lab_codes, p_rows, p_dist,
                     p_codes, left_out, fit_params, rng):
        """Fit ``student`` on labeled + pseudo-labeled rows, inputs noised.

        A semi-supervised student also gets the unlabeled rows left out of
        this generation (``left_out``), labeled ``-1`` with weight 1.
        """
        if self.soft:
            rep_rows, rep_codes, rep_w = soft_copies(p_rows, p_dist)
            rows = np.concatenate([lab_idx, rep_rows])
            codes = np.concatenate([y_lab_codes, rep_codes])
            weights = np.concatenate([np.ones(lab_idx.shape[0]), rep_w])
        else:
            rows = np.concatenate([lab_idx, p_rows])
            codes = np.concatenate([y_lab_codes, p_codes])
            weights = None
        y_rows = classes[codes]
        if left_out.size and is_semi_supervised(student):
            rows = np.concatenate([rows, left_out])
            y_rows = np.concatenate([y_rows, y[left_out]])
            if weights is not None:
                weights = np.concatenate([weights, np.ones(left_out.shape[0])])
        # One noised version of X per generation: the soft copies of a row
        # share the same noised input, as one row with a soft target would.
        X_student = X if self.noise is None else self._noised(X, rng)
        return self._fit_inner(student, X_student, y_rows, rows, fit_params, weights)

    def _fit_inner(self, estimator, X, y_rows, rows, fit_params, weights=None):
        """``_fit_on_rows`` without the estimator's AllLabeledWarning.

        A student's rows are all labeled (given or pseudo) by design, and
        when ``y`` itself has no unlabeled row, ``fit`` has already warned.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AllLabeledWarning)
            return self._fit_on_rows(estimator, X, y_rows, rows, fit_params, weights)

    # ------------------------------------------------------------------ routing / tags
    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        ``fit`` metadata reaches ``teacher`` (the first teacher's fit) and,
        when given, ``student`` (every student's fit); with ``student=None``
        the students get what ``teacher`` requests.

        Returns
        -------
        routing : MetadataRouter
        """
        router = MetadataRouter(owner=self)
        router.add(
            teacher=self._get_param_estimator(),
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
        if self.student is not None:
            router.add(
                student=self.student,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        return router

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.student is not None:
            inner = get_tags(self.student)
            tags.input_tags.sparse &= inner.input_tags.sparse
            tags.input_tags.allow_nan &= inner.input_tags.allow_nan
            tags.input_tags.string &= inner.input_tags.string
            tags.input_tags.categorical &= inner.input_tags.categorical
        if self.noise is not None:
            tags.input_tags.sparse &= getattr(self.noise, "_accepts_sparse", True)
            tags.input_tags.string = False
        return tags


def _proba(estimator, X_rows, classes):
    """``predict_proba`` with columns in the order of ``classes``."""
    proba = estimator.predict_proba(X_rows)
    est_classes = getattr(estimator, "classes_", classes)
    if np.array_equal(est_classes, classes):
        return proba
    out = np.zeros((proba.shape[0], classes.shape[0]))
    out[:, np.searchsorted(classes, est_classes)] = proba
    return out
