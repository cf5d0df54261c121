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
from .contrastive import info_nce_loss, nt_xent_loss
from .redundancy import barlow_twins_loss, vicreg_loss

__all__ += ["info_nce_loss", "nt_xent_loss", "barlow_twins_loss", "vicreg_loss"]
