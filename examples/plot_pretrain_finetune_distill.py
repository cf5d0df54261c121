"""
=====================================================
Pretrain, fine-tune, distill: 50 labels on the digits
=====================================================

The recipe of SimCLRv2 (Chen et al., "Big Self-Supervised Models are Strong
Semi-Supervised Learners", NeurIPS 2020) in three scikit-learn steps:

1. **pretrain** an encoder on every image without labels (here
   :class:`~sklabelfree.self_supervised.VICRegEncoder`);
2. **fine-tune** the pretrained network with the few labels
   (:class:`~sklabelfree.transfer.FineTuningClassifier`: a new head, the
   trunk unfrozen after a few epochs of linear probing);
3. **distill** the fine-tuned teacher into a student trained on the
   teacher's class distributions over the unlabeled images
   (:class:`~sklabelfree.semi_supervised.NoisyStudentClassifier` with soft
   labels, no threshold and one generation: distillation with unlabeled
   rows, the student noised by strong augmentation).

Each step is compared with the network trained on the 50 labels alone.
About a minute and a half on a CPU.
"""

# %%
# Data: the PROTOCOL split, 50 labeled training rows
# --------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split

from sklabelfree.datasets import load_digits_images
from sklabelfree.self_supervised import VICRegEncoder, linear_probe_score
from sklabelfree.semi_supervised import NoisyStudentClassifier, SupervisedNetClassifier
from sklabelfree.transfer import FineTuningClassifier

X, y = load_digits_images()  # (1797, 1, 8, 8), pixels in [0, 1]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)
rng = np.random.RandomState(0)
labeled = np.concatenate([rng.choice(np.flatnonzero(y_train == c), 5, replace=False)
                          for c in range(10)])
y_partial = np.full_like(y_train, -1)  # -1: unlabeled
y_partial[labeled] = y_train[labeled]
scores = {}

# %%
# The baseline: the same kind of network on the 50 labels only
# ------------------------------------------------------------
# It trains on the labeled rows only; the -1 rows size its epochs.
scratch = SupervisedNetClassifier(random_state=0).fit(X_train, y_partial)
scores["from scratch\n(50 labels)"] = scratch.score(X_test, y_test)

# %%
# 1. Pretrain on every training image, no label
# ---------------------------------------------
# Half the default epochs keep this example short.
encoder = VICRegEncoder(max_epochs=60, random_state=0).fit(X_train)
scores["linear probe\n(pretrained)"] = linear_probe_score(
    encoder, X_train, y_partial, X_test, y_test)

# %%
# 2. Fine-tune with the 50 labels
# -------------------------------
# ``FrozenEstimator`` keeps the fitted encoder as it is when the classifier
# is cloned (by ``NoisyStudentClassifier`` below, or a grid search).
teacher = FineTuningClassifier(FrozenEstimator(encoder), max_epochs=40, random_state=0)
teacher.fit(X_train, y_partial)
scores["fine-tuned\n(teacher)"] = teacher.score(X_test, y_test)

# %%
# 3. Distill into a student on the unlabeled images
# -------------------------------------------------
# The teacher labels every unlabeled training image with its class
# distribution (sharpened with temperature 0.25); the student, a network
# trained from scratch with strong augmentation, learns from those soft
# labels and the 50 true ones.
student = SupervisedNetClassifier(augment="strong", random_state=0)
distill = NoisyStudentClassifier(teacher, student=student, n_generations=1, threshold=0.0,
                                 class_balance=False, random_state=0)
distill.fit(X_train, y_partial)
scores["distilled\n(student)"] = distill.score(X_test, y_test)

for name, score in scores.items():
    print(f"{name.replace(chr(10), ' '):<28} {score:.3f}")

# %%
# The three steps side by side
# ----------------------------
fig, ax = plt.subplots(figsize=(6, 3.5))
bars = ax.bar(list(scores), list(scores.values()), color=["0.6", "C0", "C1", "C2"])
ax.bar_label(bars, fmt="%.3f")
ax.set_ylim(0.5, 1.0)
ax.set_ylabel("test accuracy")
ax.set_title("Digits, 50 labels: pretrain, fine-tune, distill")
fig.tight_layout()
plt.show()
