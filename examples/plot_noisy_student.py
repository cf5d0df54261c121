"""
=================================================
Noisy Student on digits: generations of students
=================================================

Noisy Student training (Xie et al., 2020) turns one classifier into a
sequence of better ones: a *teacher* fitted on the few labeled rows labels
the unlabeled rows on clean inputs, a *student* learns from the labeled and
the pseudo-labeled rows with noise on its inputs, and the student becomes
the next teacher.

This example runs :class:`~sklabelfree.semi_supervised.NoisyStudentClassifier`
around a :class:`~sklearn.linear_model.LogisticRegression` on scikit-learn's
digits with 20 labels (two per class) and 1237 unlabeled images, and plots
the test accuracy of every generation against the first teacher: the same
logistic regression fitted on the labeled rows only. It compares students
without input noise, with :class:`~sklabelfree.semi_supervised.GaussianNoise`
and with :class:`~sklabelfree.semi_supervised.FeatureDropout`, then shows
what the two choices that matter most with a linear model, class balancing
and sharpened soft labels, are worth.
"""

# %%
# The data
# --------
# :func:`~sklabelfree.datasets.digits_benchmark_split` keeps 20 of the 1257
# training labels and marks the other rows ``-1``. Pixels are scaled to
# ``[0, 1]``. Every setting runs on three seeds (another split and other
# labeled rows each time) and the mean accuracy on the 540 test images is
# reported.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

from sklabelfree.datasets import digits_benchmark_split
from sklabelfree.semi_supervised import (
    FeatureDropout,
    GaussianNoise,
    NoisyStudentClassifier,
)

n_labels = 20
seeds = (0, 1, 2)
splits = [digits_benchmark_split(n_labels, random_state=seed) for seed in seeds]
X, y, X_test, y_test, _ = splits[0]
print(f"training rows: {X.shape[0]}, labeled: {np.sum(y != -1)}, "
      f"test rows: {X_test.shape[0]}")

# %%
# Accuracy per generation
# -----------------------
# ``estimators_`` keeps the model of every generation: ``estimators_[0]`` is
# the teacher fitted on the labeled rows, ``estimators_[g]`` the student of
# generation ``g``. Scoring each of them on the test set shows how the
# accuracy grows from one generation to the next. The noise is applied to
# every row a student is trained on; the teacher always labels clean rows.
noises = {
    "no noise": None,
    "GaussianNoise(std=0.1)": GaussianNoise(std=0.1),
    "FeatureDropout(rate=0.1)": FeatureDropout(rate=0.1),
}
n_generations = 5
curves = {}
for name, noise in noises.items():
    per_seed = []
    for seed, (X, y, X_test, y_test, _) in zip(seeds, splits):
        clf = NoisyStudentClassifier(
            LogisticRegression(), n_generations=n_generations, noise=noise,
            random_state=seed,
        ).fit(X, y)
        per_seed.append([est.score(X_test, y_test) for est in clf.estimators_])
    curves[name] = np.mean(per_seed, axis=0)
    print(f"{name:26s} " + " ".join(f"{acc:.3f}" for acc in curves[name]))

# %%
# Which choices matter?
# ---------------------
# Two parameters do most of the work for a linear model:
#
# - ``sharpen_temperature``: a logistic regression fitted on its own,
#   unsharpened soft labels reproduces them and learns nothing;
#   ``sharpen_temperature=None`` keeps the teacher's distributions as they
#   are;
# - ``class_balance``: without it, the teacher's favourite classes flood the
#   student's training set.
#
# ``soft=False`` (hard pseudo labels) is shown for comparison.
ablations = {
    "defaults": {},
    "soft=False": dict(soft=False),
    "class_balance=False": dict(class_balance=False),
    "sharpen_temperature=None": dict(sharpen_temperature=None),
}
final = {}
for name, params in ablations.items():
    final[name] = np.mean([
        NoisyStudentClassifier(LogisticRegression(), random_state=seed, **params)
        .fit(X, y).score(X_test, y_test)
        for seed, (X, y, X_test, y_test, _) in zip(seeds, splits)
    ])
    print(f"{name:26s} {final[name]:.3f}")

# %%
# The figure
# ----------
# Left: test accuracy of every generation (generation 0 is the teacher
# fitted on the 20 labeled rows). Right: accuracy of the last student when
# one choice is changed; the dashed line is the first teacher.
teacher = curves["no noise"][0]
fig, (ax_gen, ax_abl) = plt.subplots(1, 2, figsize=(11, 4.2))
generations = np.arange(n_generations + 1)
for name, curve in curves.items():
    ax_gen.plot(generations, curve, marker="o", label=name)
ax_gen.axhline(teacher, color="gray", linestyle="--",
               label="teacher (labeled rows only)")
ax_gen.set_xlabel("generation")
ax_gen.set_ylabel("test accuracy (mean of 3 seeds)")
ax_gen.set_title(f"Students per generation, {n_labels} labels")
ax_gen.set_xticks(generations)
ax_gen.legend(loc="lower right")

names = list(final)
ax_abl.barh(names, [final[n] for n in names], color="tab:blue")
ax_abl.axvline(teacher, color="gray", linestyle="--")
for i, name in enumerate(names):
    ax_abl.text(final[name] + 0.003, i, f"{final[name]:.3f}", va="center")
ax_abl.set_xlim(0.65, 0.88)
ax_abl.invert_yaxis()
ax_abl.set_xlabel("test accuracy of the last student")
ax_abl.set_title("Ablations (no noise)")
fig.tight_layout()
plt.show()

# %%
# Reading the results
# -------------------
# Each generation of students beats its teacher by a little, and five
# generations take the logistic regression from about 0.73 to about 0.81
# accuracy with 20 labels. Input noise changes the result by less than a
# point here, within the spread between seeds: for a linear model it is not
# what makes the method work; class-balanced, sharpened pseudo labels from a
# clean teacher are. Without sharpening the students stay at their
# teacher's accuracy (slightly below it, in fact). In the paper the students
# are deep networks and the noise is strong data augmentation, dropout and
# stochastic depth; there the noise is what keeps a student from copying its
# teacher.
