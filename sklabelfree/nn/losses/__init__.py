"""Losses, one file per family, re-exported here."""

from .mixmatch import mixmatch_guess_labels, mixmatch_labeled_loss, mixmatch_unlabeled_loss

from .consistency import (
    mean_teacher_consistency_loss,
    pi_model_consistency_loss,
    softmax_mse_loss,
    temporal_ensembling_consistency_loss,
    temporal_ensembling_targets,
)

from .pseudo_label import pseudo_label_loss, pseudo_label_weight
from .entropy import entropy_loss
from .vat import frozen_batch_norm_stats, kl_div_with_logits, vat_loss, vat_perturbation
from .prototypical import class_prototypes, prototype_logits, prototypical_loss

__all__ = []
__all__ += ["mixmatch_guess_labels", "mixmatch_labeled_loss", "mixmatch_unlabeled_loss"]
__all__ += ["mean_teacher_consistency_loss", "pi_model_consistency_loss", "softmax_mse_loss",
            "temporal_ensembling_consistency_loss", "temporal_ensembling_targets"]
__all__ += ["pseudo_label_loss", "pseudo_label_weight", "entropy_loss"]
__all__ += ["frozen_batch_norm_stats", "kl_div_with_logits", "vat_loss", "vat_perturbation"]
__all__ += ["class_prototypes", "prototype_logits", "prototypical_loss"]
from .multitask import (
    gradnorm_loss,
    masked_task_losses,
    pcgrad_project,
    uncertainty_weighted_loss,
)

__all__ += ["gradnorm_loss", "masked_task_losses", "pcgrad_project",
            "uncertainty_weighted_loss"]
from .contrastive import clip_loss, cpc_loss, info_nce_loss, nt_xent_loss
from .redundancy import barlow_twins_loss, vicreg_loss

__all__ += ["clip_loss", "cpc_loss", "info_nce_loss", "nt_xent_loss", "barlow_twins_loss", "vicreg_loss"]
from .pretext import (
    RELATIVE_POSITIONS,
    crop_patches,
    extract_tiles,
    hamming_distances,
    jigsaw_permutations,
    relative_patch_pairs,
    rotate_batch,
    shuffle_tiles,
)

from .colorization import (
    ab_grid,
    annealed_mean_ab,
    class_rebalancing_weights,
    lab_to_rgb,
    occupied_ab_bins,
    quantize_ab,
    rebalanced_cross_entropy,
    rgb_to_lab,
    soft_encode_ab,
)
from .inpainting import inpainting_loss_weights, masked_reconstruction_loss, region_masks
from .masked import masked_patch_loss, n_masked_patches, normalize_patches, random_masking

__all__ += ["ab_grid", "annealed_mean_ab", "class_rebalancing_weights", "lab_to_rgb",
            "occupied_ab_bins", "quantize_ab", "rebalanced_cross_entropy", "rgb_to_lab",
            "soft_encode_ab", "inpainting_loss_weights", "masked_reconstruction_loss",
            "region_masks", "masked_patch_loss", "n_masked_patches", "normalize_patches",
            "random_masking"]
__all__ += ["RELATIVE_POSITIONS", "crop_patches", "extract_tiles", "hamming_distances",
            "jigsaw_permutations", "relative_patch_pairs", "rotate_batch", "shuffle_tiles"]
