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


def _lazy_encoder():
    """A small torch trunk whose input width is set by the first batch."""
    from torch import nn

    return nn.Sequential(nn.LazyLinear(16), nn.ReLU())


def _zero_shot_params():
    """A tiny CLIP fitted on 40 rows of 3 features, frozen, and three class prompts."""
    import numpy as np
    from sklearn.frozen import FrozenEstimator

    from ..self_supervised import CLIPEncoder

    rows = np.random.RandomState(0).rand(40, 3)
    clip = CLIPEncoder(max_epochs=1, batch_size=20, module__width=4, embed_dim=4,
                       text_hidden_dim=8, random_state=0).fit(
        rows, ["zero one"] * 20 + ["one two"] * 20)
    return dict(clip=FrozenEstimator(clip), class_prompts=["zero", "one", "two"])


class _Slow(dict):
    """Parameters of a second instance whose checks run only with ``pytest -m slow``.

    The deep nets' checks take a second or two each; their first instance
    runs the checks in the default suite, the variants (another loss term,
    another prediction path) in the slow one.
    """


# Parameters that make each estimator cheap; estimators not listed are
# built with their defaults. A callable entry returns the parameters (for
# those that need a fitted estimator, made when the instances are).
CHECK_PARAMS = {
    # A lazy first layer adapts to the checks' varying numbers of features.
    "FineTuningClassifier": [
        dict(encoder=_lazy_encoder(), max_epochs=15, steps_per_epoch=4, lr=1e-2,
             unfreeze_after=2, random_state=0),
    ],
    # One growth step in the middle of a short training.
    "Net2NetClassifier": [
        dict(schedule=[(3, "widen"), (6, "deepen")], max_epochs=10, steps_per_epoch=3,
             module__width=8, lr=1e-2, ema_decay=0.5, random_state=0),
    ],
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
        _Slow(max_epochs=10, steps_per_epoch=3, module__width=8, lr=1e-2,
              mixup_alpha=0.5, ema_decay=None, random_state=0),
    ],
    # Six epochs are enough for the checks of FixMatch, the Pi model, temporal
    # ensembling, entropy minimisation and VAT (Mean Teacher's moving average
    # and MixMatch's ramp-up need ten); each epoch costs every check a fit.
    "FixMatchClassifier": [
        dict(max_epochs=6, steps_per_epoch=3, module__width=8, lr=1e-2, ema_decay=0.5,
             random_state=0),
    ],
    "MixMatchClassifier": [
        dict(max_epochs=10, steps_per_epoch=3, module__width=8, lr=1e-2, lambda_u=10.0,
             ema_decay=0.5, random_state=0),
    ],
    "PiModelClassifier": [
        dict(max_epochs=6, steps_per_epoch=3, module__width=8, lr=1e-2, random_state=0),
    ],
    "TemporalEnsemblingClassifier": [
        dict(max_epochs=6, steps_per_epoch=3, module__width=8, lr=1e-2, random_state=0),
    ],
    "MeanTeacherClassifier": [
        dict(max_epochs=10, steps_per_epoch=3, module__width=8, lr=1e-2, random_state=0),
        _Slow(max_epochs=10, steps_per_epoch=3, module__width=8, lr=1e-2,
              predict_with="student", ema_decay_after_rampup=0.999, rampup_epochs=2,
              consistency_weight=10.0, random_state=0),
    ],
    # steps_per_epoch=5: on the 90-row check data an epoch is a single step
    # otherwise, too few for the pseudo labels of t1..t2 to be right.
    "DeepPseudoLabelClassifier": [
        dict(max_epochs=10, steps_per_epoch=5, module__width=8, lr=1e-2, t1=3, t2=6,
             random_state=0),
        _Slow(max_epochs=10, steps_per_epoch=5, module__width=8, lr=1e-2, t1=3, t2=6,
              threshold=0.9, random_state=0),
    ],
    "EntropyMinimizationClassifier": [
        dict(max_epochs=6, steps_per_epoch=5, module__width=8, lr=1e-2, rampup=3,
             random_state=0),
    ],
    "VATClassifier": [
        dict(max_epochs=6, steps_per_epoch=5, module__width=8, lr=1e-2, random_state=0),
        _Slow(max_epochs=10, steps_per_epoch=5, module__width=8, lr=1e-2, n_power=2,
              entropy_weight=0.5, random_state=0),
    ],
    "CoTrainingClassifier": [
        dict(estimator=LogisticRegression(), k=4, pool_size=20, max_iter=3),
        dict(estimator=LogisticRegression(), estimator2=GaussianNB(), k=6,
             pool_size=30, max_iter=3, threshold=0.5, require_agreement=False),
    ],
    # Equal weights and learned (uncertainty) weights. The check data is
    # single-task: there PCGrad and GradNorm take the plain step.
    "MultiTaskNetClassifier": [
        dict(max_epochs=10, steps_per_epoch=3, module__width=8, lr=1e-2, random_state=0),
        dict(weighting="uncertainty", max_epochs=10, steps_per_epoch=3,
             module__width=8, lr=1e-2, random_state=0),
    ],
    # Transfer: one instance per way of estimating the weights.
    "ImportanceWeightingClassifier": [
        dict(random_state=0),
        dict(method="kmm", max_iter=100),
        dict(method="kliep", n_centers=20, cv=2, max_iter=100, random_state=0),
    ],
    "TCA": [dict(n_components=2)],
    # Few-shot: tiny trunks and a few short episodes of the check data's
    # classes (k_shot + n_query = 2 rows per class).
    "ProtoNetEncoder": [
        dict(k_shot=1, n_query=1, max_epochs=2, episodes_per_epoch=3, module__width=8,
             random_state=0),
    ],
    "BaselineEncoder": [
        dict(max_epochs=2, module__width=8, random_state=0),
        dict(head="linear", max_epochs=2, module__width=8, random_state=0),
    ],
    "MAML": [
        dict(n_way=2, k_shot=1, n_query=1, inner_steps=2, meta_batch_size=2,
             max_epochs=1, episodes_per_epoch=4, module__width=8, random_state=0),
    ],
    "PrototypeClassifier": [dict(), dict(metric="cosine", soft_kmeans_steps=2)],
    "FineTunedHeadClassifier": [dict(), dict(head="cosine")],
    # maml=None adapts a random initialisation (no meta-training to do here).
    "MAMLClassifier": [dict(inner_steps=20, random_state=0)],
    # Self-supervised encoders: tiny trunks and heads, two epochs.
    **{name: [dict(max_epochs=2, batch_size=32, module__width=8, projection_dim=8,
                   hidden_dim=16, random_state=0)]
       for name in ("SimCLREncoder", "BarlowTwinsEncoder", "VICRegEncoder")},
    "MoCoEncoder": [dict(max_epochs=2, batch_size=32, module__width=8, projection_dim=8,
                         hidden_dim=16, queue_size=64, random_state=0)],
    "AutoEncoder": [dict(max_epochs=2, batch_size=32, module__width=8, hidden_dim=16,
                         random_state=0)],
    "DenoisingAutoEncoder": [dict(max_epochs=2, batch_size=32, module__width=8,
                                  hidden_dim=16, random_state=0)],
    "RotationEncoder": [dict(max_epochs=2, batch_size=32, module__width=8, random_state=0)],
    **{name: [dict(max_epochs=2, batch_size=32, module__width=8, hidden_dim=16,
                   random_state=0)]
       for name in ("JigsawEncoder", "RelativePatchEncoder", "InpaintingEncoder",
                    "ColorizationEncoder")},
    "MAEEncoder": [dict(max_epochs=1, batch_size=32, decoder_dim=8, decoder_num_heads=2,
                        module__embed_dim=8, module__depth=1, module__num_heads=2,
                        random_state=0)],
    "CLIPEncoder": [dict(max_epochs=2, batch_size=32, module__width=8, embed_dim=8,
                         text_hidden_dim=16, random_state=0)],
    "ZeroShotClassifier": [_zero_shot_params],
    # Stride 1 and one prediction step: the checks' rows of 2 features are
    # one-channel signals long enough for CPC.
    "CPCEncoder": [dict(max_epochs=2, batch_size=32, module__width=8, module__strides=(1,),
                        latent_dim=8, context_dim=8, n_steps=1, random_state=0)],
}

# Encoders whose pretext task needs images (rotate, cut into tiles, crop
# patches, mask patches, colourise) refuse the checks' tabular rows (n, d).
_NEEDS_IMAGES = (
    "The check fits on tabular rows (n, d); the encoder's pretext task rotates, cuts, "
    "crops or masks images, so fit refuses rows with a clear ValueError ('needs images "
    "(n, c, h, w)'; RGB ones for colorization). The tests of the self-supervised "
    "encoders check the same properties (fit returns self, pickling, idempotence, "
    "dtypes...) on digit images.")
_IMAGES_ONLY_FITTING_CHECKS = (
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object",
    "check_estimators_dtypes", "check_estimators_fit_returns_self",
    "check_estimators_nan_inf", "check_estimators_overwrite_params",
    "check_estimators_pickle", "check_f_contiguous_array_estimator",
    "check_fit2d_1feature", "check_fit2d_1sample", "check_fit2d_predict1d",
    "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_n_features_in", "check_n_features_in_after_fitting",
    "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input", "check_transformer_data_not_an_array",
    "check_transformer_general", "check_transformer_preserve_dtypes",
)

# Domain adaptation estimators refuse a fit without target rows, and
# scikit-learn's checks fit on fully labeled targets with no sample_domain:
# every check that fits fails at that error. The properties those checks
# cover are tested on source + target data in tests/test_transfer_*.py.
_NO_TARGET = (
    "The check fits on a fully labeled y without sample_domain: there are no target "
    "rows (y == -1) to adapt to, which fit refuses with a clear ValueError ('no target "
    "rows'). tests/test_transfer_*.py test the same property on source + target data."
)
_FITTING_CHECKS = (
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object",
    "check_estimators_dtypes", "check_estimators_fit_returns_self",
    "check_estimators_nan_inf", "check_estimators_overwrite_params",
    "check_estimators_pickle", "check_f_contiguous_array_estimator",
    "check_fit2d_1feature", "check_fit2d_predict1d", "check_fit_check_is_fitted",
    "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_n_features_in", "check_n_features_in_after_fitting",
    "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
)
_DOMAIN_CLASSIFIER = {
    **dict.fromkeys(
        _FITTING_CHECKS + (
            "check_classifier_data_not_an_array", "check_classifiers_train",
            "check_classifiers_one_label_sample_weights", "check_supervised_y_2d",
            "check_non_transformer_estimators_n_iter",
            "check_decision_proba_consistency"),
        _NO_TARGET),
    "check_classifiers_classes": (
        "The check uses -1 as a class label; in sklabelfree -1 marks an unlabeled "
        "(target) row, so that target has one class."),
}
_DOMAIN_TRANSFORMER = dict.fromkeys(
    _FITTING_CHECKS + (
        "check_fit2d_1sample", "check_transformer_data_not_an_array",
        "check_transformer_general", "check_transformer_preserve_dtypes"),
    _NO_TARGET)

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

# The meta-trained few-shot nets (skorch NeuralNet transformers).
_FEW_SHOT_NET = {"check_no_attributes_set_in_init": _SKORCH["check_no_attributes_set_in_init"]}

# check name -> reason, per estimator class name.
_META = {
    "check_classifiers_classes": _MINUS_ONE_CLASS,
    "check_non_transformer_estimators_n_iter": _NO_ROUND_WHEN_ALL_LABELED,
}
_ZERO_SHOT_FIXED_WIDTH = (
    "A zero-shot classifier learns nothing from X: the pre-trained encoder fixes the "
    "input shape (3 features in the check's instance), and the check's data has another "
    "number of features, which fit (X is checked when given) and predict refuse with a "
    "clear ValueError.")
_ZERO_SHOT_NOT_FROM_Y = (
    "fit ignores y: the classes come from class_prompts (zero-shot), so the check's "
    "labels are neither learned nor validated.")

_IMAGES_ONLY_ENCODER = {
    "check_no_attributes_set_in_init": _SKORCH["check_no_attributes_set_in_init"],
    **dict.fromkeys(_IMAGES_ONLY_FITTING_CHECKS, _NEEDS_IMAGES),
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
    # Trained on the labeled rows only: -1 rows are ignored, so a target
    # that uses -1 as a class has one class.
    "Net2NetClassifier": _SKORCH,
    "FineTuningClassifier": _SKORCH,
    "MultiTaskLinearClassifier": {
        "check_classifiers_classes": _MINUS_ONE_CLASS,
        "check_classifier_multioutput": (
            "The check indexes classes_ as one array shared by every output (a "
            "multilabel classifier); a multi-task classifier has one array of classes "
            "per task, a list, as sklearn's MultiOutputClassifier has."),
    },
    "MultiTaskNetClassifier": {
        **_SKORCH,
        "check_classifier_multioutput": (
            "The check indexes classes_ as one array shared by every output (a "
            "multilabel classifier); a multi-task classifier has one array of classes "
            "per task, a list, as sklearn's MultiOutputClassifier has."),
    },
    "ImportanceWeightingClassifier": _DOMAIN_CLASSIFIER,
    "SourceOnlyClassifier": {"check_classifiers_classes": _MINUS_ONE_CLASS},
    "CORAL": _DOMAIN_TRANSFORMER,
    "TCA": _DOMAIN_TRANSFORMER,
    "ProtoNetEncoder": _FEW_SHOT_NET,
    "BaselineEncoder": _FEW_SHOT_NET,
    "MAML": _FEW_SHOT_NET,
    # -1 marks an unlabeled support row: a target of -1 and 1 has one class.
    "PrototypeClassifier": {"check_classifiers_classes": _MINUS_ONE_CLASS},
    "FineTunedHeadClassifier": {"check_classifiers_classes": _MINUS_ONE_CLASS},
    "MAMLClassifier": {"check_classifiers_classes": _MINUS_ONE_CLASS},
    # Self-supervised encoders (skorch NeuralNet transformers).
    **dict.fromkeys(
        ("SimCLREncoder", "BarlowTwinsEncoder", "VICRegEncoder", "MoCoEncoder",
         "AutoEncoder", "DenoisingAutoEncoder", "CPCEncoder", "CLIPEncoder"),
        {"check_no_attributes_set_in_init": _SKORCH["check_no_attributes_set_in_init"]}),
    **dict.fromkeys(("RotationEncoder", "JigsawEncoder", "RelativePatchEncoder",
                     "MAEEncoder"), _IMAGES_ONLY_ENCODER),
    # Their sample-count check comes first: check_fit2d_1sample gets the error it expects.
    **dict.fromkeys(("InpaintingEncoder", "ColorizationEncoder"),
                    {k: v for k, v in _IMAGES_ONLY_ENCODER.items()
                     if k != "check_fit2d_1sample"}),
    "ZeroShotClassifier": {
        **dict.fromkeys(
            ("check_estimators_overwrite_params", "check_estimators_fit_returns_self",
             "check_readonly_memmap_input", "check_n_features_in_after_fitting",
             "check_positive_only_tag_during_fit", "check_estimators_dtypes",
             "check_dtype_object", "check_classifier_data_not_an_array",
             "check_fit2d_1sample", "check_fit2d_1feature", "check_fit_idempotent",
             "check_fit_check_is_fitted", "check_n_features_in"),
            _ZERO_SHOT_FIXED_WIDTH),
        **dict.fromkeys(
            ("check_classifiers_one_label", "check_classifiers_classes",
             "check_classifiers_regression_target", "check_supervised_y_2d"),
            _ZERO_SHOT_NOT_FROM_Y),
        "check_classifiers_train": _ZERO_SHOT_NOT_FROM_Y + " " + _ZERO_SHOT_FIXED_WIDTH,
    },
}


_IMAGE_INPUT = ("RotationEncoder", "JigsawEncoder", "RelativePatchEncoder",
                "InpaintingEncoder", "MAEEncoder")


def fit_data(estimator, X, y):
    """Data to fit ``estimator`` on, made from digits rows ``X`` (n, 64) and ``y``.

    Encoders that need images get ``X`` as ``(n, 1, 8, 8)`` images (the
    colorization encoder, coloured ones); the zero-shot classifier of
    :data:`CHECK_PARAMS`, whose encoder takes 3 features, the first 3
    columns.
    """
    name = type(estimator).__name__
    if name in _IMAGE_INPUT:
        return X.reshape(-1, 1, 8, 8), y
    if name == "ColorizationEncoder":
        from ..datasets import colorize_digits

        return colorize_digits(X.reshape(-1, 1, 8, 8), y, random_state=0), y
    if name == "ZeroShotClassifier":
        return X[:, :3], y
    return X, y


def construct_instances(cls, slow=False):
    """Yield cheap instances of ``cls`` for the checks.

    ``slow=True`` yields the variants kept for ``pytest -m slow`` instead.
    """
    for params in CHECK_PARAMS.get(cls.__name__, [{}]):
        if isinstance(params, _Slow) != slow:
            continue
        yield cls(**(params() if callable(params) else params))


def expected_failed_checks(estimator):
    """The checks ``estimator`` is expected to fail, with their reasons."""
    name = type(estimator).__name__
    if name == "SupervisedNetClassifier" and getattr(estimator, "mixup_alpha", 0):
        return dict(_MIXING)
    return dict(EXPECTED_FAILED_CHECKS.get(name, {}))


def device_params():
    """``['cpu', 'cuda']`` for ``pytest.mark.parametrize``; 'cuda' skips without a GPU."""
    import pytest
    import torch

    return ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
        not torch.cuda.is_available(), reason="needs a CUDA GPU"))]


def check_fit_on_device(encoder, X, device, fit_args=()):
    """Fit a deep encoder on ``device``; its weights live there, it transforms and pickles.

    ``transform`` must give a finite NumPy array of one row per sample, and
    a pickled copy the same features as the original on the same rows (the
    same batch: on a GPU, TF32 convolutions may differ in the last digits
    between batch sizes).
    """
    import pickle

    import numpy as np

    encoder.fit(X, *fit_args)
    assert all(p.device.type == device for p in encoder.module_.parameters())
    Z = encoder.transform(X)
    assert isinstance(Z, np.ndarray) and len(Z) == len(X) and np.isfinite(Z).all()
    again = pickle.loads(pickle.dumps(encoder))
    np.testing.assert_allclose(again.transform(X[:10]), encoder.transform(X[:10]),
                               rtol=1e-5, atol=1e-6)
    return Z
