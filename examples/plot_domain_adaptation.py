"""
======================================================
Domain adaptation: digits under a change of appearance
======================================================

A classifier trained on scikit-learn's digits is used on the same digits
written a little to the right with a softer, dimmer pen
(:func:`~sklabelfree.transfer.shift_digits`). Its accuracy drops by almost
half. The target images are unlabeled, but they are there at fit time: this
example compares three ways to use them,

- :class:`~sklabelfree.transfer.ImportanceWeightingClassifier`: weight the
  source images that look like target images more;
- :class:`~sklabelfree.transfer.CORAL`: re-colour the source images with the
  target's covariance;
- :class:`~sklabelfree.transfer.TCA`: embed both domains where their means
  agree,

beside the source-only classifier and one trained on the target's labels.
"""

# %%
# The data
# --------
# :func:`~sklabelfree.transfer.make_shifted_digits` returns the source rows
# with their labels and the target rows with ``-1`` in one ``(X, y)``, the
# convention of every estimator of :mod:`sklabelfree.transfer`, and the
# target's true labels apart, to score on.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklabelfree.transfer import (
    CORAL,
    TCA,
    ImportanceWeightingClassifier,
    SourceOnlyClassifier,
    make_shifted_digits,
)

X, y, X_target, y_target = make_shifted_digits(random_state=0)
source = y != -1
print(f"{source.sum()} labeled source rows, {(~source).sum()} unlabeled target rows")

fig, axes = plt.subplots(2, 6, figsize=(7, 2.6))
for i, ax in enumerate(axes[0]):
    ax.imshow(X[source][i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_axis_off()
for i, ax in enumerate(axes[1]):
    ax.imshow(X_target[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_axis_off()
axes[0, 0].set_title("source", loc="left", fontsize=9)
axes[1, 0].set_title("target", loc="left", fontsize=9)
plt.tight_layout()

# %%
# The methods
# -----------
# Every method ends in the same logistic regression. CORAL and TCA are
# transformers: the classifier after them is wrapped in
# :class:`~sklabelfree.transfer.SourceOnlyClassifier`, which fits on the
# labeled source rows and ignores the target rows (``-1``).


def lr():
    return LogisticRegression(max_iter=1000)


models = {
    "source only": SourceOnlyClassifier(lr()),
    "IW (domain classifier)": ImportanceWeightingClassifier(lr(), random_state=0),
    "IW (KMM)": ImportanceWeightingClassifier(lr(), method="kmm"),
    "IW (KLIEP)": ImportanceWeightingClassifier(lr(), method="kliep", random_state=0),
    "CORAL": make_pipeline(CORAL(), SourceOnlyClassifier(lr())),
    "TCA": make_pipeline(TCA(n_components=30), StandardScaler(), SourceOnlyClassifier(lr())),
}
scores = {name: model.fit(X, y).score(X_target, y_target) for name, model in models.items()}
scores["target labels (train = test)"] = lr().fit(X_target, y_target).score(X_target,
                                                                           y_target)
for name, score in scores.items():
    print(f"{name:<30} {score:.3f}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(scores), list(scores.values()), color="tab:blue")
ax.axvline(scores["source only"], color="k", lw=1, ls="--")
ax.set_xlabel("accuracy on the target rows")
ax.invert_yaxis()
plt.tight_layout()

# %%
# What the weights look at
# ------------------------
# KLIEP's weights are large for source images that resemble the target
# images. The source images with the largest and the smallest weights:
kliep = models["IW (KLIEP)"]
w = kliep.weights_[source]
order = np.argsort(w)
fig, axes = plt.subplots(2, 6, figsize=(7, 2.6))
for ax, i in zip(axes[0], order[::-1][:6]):
    ax.imshow(X[source][i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"{w[i]:.1f}", fontsize=8)
    ax.set_axis_off()
for ax, i in zip(axes[1], order[:6]):
    ax.imshow(X[source][i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"{w[i]:.2f}", fontsize=8)
    ax.set_axis_off()
plt.tight_layout()

# %%
# Importance weighting can only re-weight the source: it helps when some
# source images already look like the target. CORAL changes the source
# images themselves, and here closes most of the gap to the classifier that
# saw the target's labels. See the :ref:`user guide <transfer>` for what
# each method assumes, and ``python -m sklabelfree.benchmarks transfer`` for
# the same comparison over three splits.
plt.show()
