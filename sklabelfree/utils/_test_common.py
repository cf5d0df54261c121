"""Cheap parameters and expected failures for the estimator checks.

One place, as scikit-learn's ``instance_generator.py``: every public
estimator is built here with parameters that keep the checks fast, and
every scikit-learn check an estimator is expected to fail is listed with
the reason. ``tests/test_common.py`` uses both.
"""

from sklearn.linear_model import LogisticRegression

# Parameters that make each estimator cheap; estimators not listed are
# built with their defaults.
CHECK_PARAMS = {
    "PseudoLabelClassifier": [
        dict(estimator=LogisticRegression(), max_iter=3),
        dict(estimator=LogisticRegression(), max_iter=3, soft=True,
             criterion="threshold", threshold=0.6, sharpen_temperature=0.5),
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

# check name -> reason, per estimator class name.
_META = {
    "check_classifiers_classes": _MINUS_ONE_CLASS,
    "check_non_transformer_estimators_n_iter": _NO_ROUND_WHEN_ALL_LABELED,
}
EXPECTED_FAILED_CHECKS = {
    "PseudoLabelClassifier": _META,
}


def construct_instances(cls):
    """Yield cheap instances of ``cls`` for the checks."""
    for params in CHECK_PARAMS.get(cls.__name__, [{}]):
        yield cls(**params)


def expected_failed_checks(estimator):
    """The checks ``estimator`` is expected to fail, with their reasons."""
    return dict(EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {}))
