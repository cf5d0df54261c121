"""Cheap parameters and expected failures for the estimator checks.

One place, as scikit-learn's ``instance_generator.py``: every public
estimator is built here with parameters that keep the checks fast, and
every scikit-learn check an estimator is expected to fail is listed with
the reason. ``tests/test_common.py`` uses both.
"""

from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from ..active import QueryByCommittee
from ..semi_supervised import FeatureDropout, GaussianNoise

# Parameters that make each estimator cheap; estimators not listed are
# built with their defaults.
CHECK_PARAMS = {
    # The default (LogisticRegression, margin) and a committee over trees:
    # the committee is refitted at every fit, on bootstrap resamples.
    "ActiveLearner": [
        dict(random_state=0),
        dict(estimator=DecisionTreeClassifier(random_state=0),
             query_strategy=QueryByCommittee(n_members=3), random_state=0),
    ],
    "PseudoLabelClassifier": [
        dict(estimator=LogisticRegression(), max_iter=3),
        dict(estimator=LogisticRegression(), max_iter=3, soft=True,
             criterion="threshold", threshold=0.6, sharpen_temperature=0.5),
    ],
    "NoisyStudentClassifier": [
        dict(teacher=LogisticRegression(), n_generations=2),
        dict(teacher=LogisticRegression(), n_generations=1,
             noise=GaussianNoise(std=0.1)),
        dict(teacher=LogisticRegression(), n_generations=1, soft=False,
             noise=FeatureDropout(rate=0.1)),
    ],
    # views=None: a random split of the columns, so the checks work with any
    # number of features (with a single feature, fit raises a clear ValueError
    # that check_fit2d_1feature accepts).
    # steps_per_epoch=3: the default (one pass over the 90 rows of the
    # semi-supervised checks per epoch) is a single step, too few for the
    # accuracy those checks ask for. ema_decay=0.5: over 30 steps the default
    # 0.99 averages every weight since the initialisation (the decay is
    # min(0.99, 1 - 1/(k+1))).
    "SupervisedNetClassifier": [
        dict(max_epochs=10, steps_per_epoch=3, module__width=8, lr=1e-2, ema_decay=0.5,
             random_state=0),
        dict(max_epochs=10, steps_per_epoch=3, module__width=8, lr=1e-2,
             mixup_alpha=0.5, ema_decay=None, random_state=0),
    ],
    "FixMatchClassifier": [
        dict(max_epochs=10, steps_per_epoch=3, module__width=8, lr=1e-2, ema_decay=0.5,
             random_state=0),
    ],
    "MixMatchClassifier": [
        dict(max_epochs=10, steps_per_epoch=3, module__width=8, lr=1e-2, lambda_u=10.0,
             ema_decay=0.5, random_state=0),
    ],
    "PiModelClassifier": [
        dict(max_epochs=10, steps_per_epoch=3, module__width=8, lr=1e-2, random_state=0),
    ],
    "TemporalEnsemblingClassifier": [
        dict(max_epochs=10, steps_per_epoch=3, module__width=8, lr=1e-2, random_state=0),
    ],
    "MeanTeacherClassifier": [
        dict(max_epochs=10, steps_per_epoch=3, module__width=8, lr=1e-2, random_state=0),
        dict(max_epochs=10, steps_per_epoch=3, module__width=8, lr=1e-2,
             predict_with="student", ema_decay_after_rampup=0.999, rampup_epochs=2,
             consistency_weight=10.0, random_state=0),
    ],
    # steps_per_epoch=5: on the 90-row check data an epoch is a single step
    # otherwise, too few for the pseudo labels of t1..t2 to be right.
    "DeepPseudoLabelClassifier": [
        dict(max_epochs=10, steps_per_epoch=5, module__width=8, lr=1e-2, t1=3, t2=6,
             random_state=0),
        dict(max_epochs=10, steps_per_epoch=5, module__width=8, lr=1e-2, t1=3, t2=6,
             threshold=0.9, random_state=0),
    ],
    "EntropyMinimizationClassifier": [
        dict(max_epochs=10, steps_per_epoch=5, module__width=8, lr=1e-2, rampup=3,
             random_state=0),
    ],
    "VATClassifier": [
        dict(max_epochs=10, steps_per_epoch=5, module__width=8, lr=1e-2, random_state=0),
        dict(max_epochs=10, steps_per_epoch=5, module__width=8, lr=1e-2, n_power=2,
             entropy_weight=0.5, random_state=0),
    ],
    "CoTrainingClassifier": [
        dict(estimator=LogisticRegression(), k=4, pool_size=20, max_iter=3),
        dict(estimator=LogisticRegression(), estimator2=GaussianNB(), k=6,
             pool_size=30, max_iter=3, threshold=0.5, require_agreement=False),
    ],
}

_META_SAMPLE_WEIGHT = (
    "Semi-supervised meta-estimators refit on pseudo-labeled rows that depend on "
    "the weights, so weighting a row is not the same as repeating it."
)

_MINUS_ONE_CLASS = (
    "The check uses -1 as a class label; in sklabelfree -1 marks an unlabeled "
    "row (as in sklearn.semi_supervised), so that target has one class."
)
_NO_ROUND_WHEN_ALL_LABELED = (
    "The check fits on a fully labeled target: no pseudo-labeling round runs, "
    "so n_iter_ is 0 (as for sklearn's SelfTrainingClassifier)."
)

# skorch nets (sklabelfree.neural.BaseSemiSupervisedNet subclasses).
_SKORCH = {
    "check_no_attributes_set_in_init": (
        "skorch's NeuralNet.__init__ sets history_, initialized_ and "
        "virtual_params_ and stores module__* arguments as attributes; that is "
        "skorch's design, and clone/get_params still work."
    ),
    "check_classifiers_classes": _MINUS_ONE_CLASS,
    "check_sample_weight_equivalence_on_dense_data": (
        "A weight scales a labeled row's term in the weighted mean of its "
        "batch's cross-entropy; it does not make the row drawn more often, so "
        "weight 2 is not the same as repeating the row once the batches are "
        "random draws."
    ),
}
# Nets that mix labeled rows (MixMatch, MixUp) refuse non-uniform weights.
_MIXING = {
    **_SKORCH,
    **dict.fromkeys(
        ("check_classifiers_one_label_sample_weights",
         "check_sample_weights_not_overwritten"),
        "MixUp mixes labeled rows with each other, so a per-row weight has no "
        "single row to apply to: fit refuses non-uniform sample_weight with a "
        "clear error.",
    ),
}

# check name -> reason, per estimator class name.
_META = {
    "check_classifiers_classes": _MINUS_ONE_CLASS,
    "check_non_transformer_estimators_n_iter": _NO_ROUND_WHEN_ALL_LABELED,
}
EXPECTED_FAILED_CHECKS = {
    "PseudoLabelClassifier": _META,
    "CoTrainingClassifier": _META,
    # No max_iter parameter, so check_non_transformer_estimators_n_iter passes.
    "NoisyStudentClassifier": {"check_classifiers_classes": _MINUS_ONE_CLASS},
    "SupervisedNetClassifier": _SKORCH,
    "FixMatchClassifier": _SKORCH,
    "MixMatchClassifier": _MIXING,
    "PiModelClassifier": _SKORCH,
    "TemporalEnsemblingClassifier": _SKORCH,
    "MeanTeacherClassifier": _SKORCH,
    "DeepPseudoLabelClassifier": _SKORCH,
    "EntropyMinimizationClassifier": _SKORCH,
    "VATClassifier": _SKORCH,
    "ActiveLearner": {"check_classifiers_classes": _MINUS_ONE_CLASS},
}


def construct_instances(cls):
    """Yield cheap instances of ``cls`` for the checks."""
    for params in CHECK_PARAMS.get(cls.__name__, [{}]):
        yield cls(**params)


def expected_failed_checks(estimator):
    """The checks ``estimator`` is expected to fail, with their reasons."""
    name = type(estimator).__name__
    if name == "SupervisedNetClassifier" and getattr(estimator, "mixup_alpha", 0):
        return dict(_MIXING)
    return dict(EXPECTED_FAILED_CHECKS.get(name, {}))
