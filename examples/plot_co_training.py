"""
=============================================
Co-training on the two halves of digit images
=============================================

Co-training (Blum & Mitchell, 1998) needs two *views* of each row, each
enough on its own to tell the class. An 8x8 image of a digit has two
natural ones: its left half and its right half. A classifier of the left
halves and one of the right halves are each trained on the few labeled
images; each round, each of them labels the unlabeled images it is surest
about, and both learn from them. A digit whose left half is easy to read
teaches the right-half classifier what its right half looks like, and the
other way round. The prediction multiplies the two classifiers'
probabilities.

This example compares, on scikit-learn's digits with the split of
sklabelfree's benchmarks (20 labeled training images, two per class, 1237
unlabeled ones, 540 test images):

- :class:`~sklearn.linear_model.LogisticRegression` on all 64 pixels of the
  labeled images, the supervised baseline;
- the same two half-image classifiers trained on the labeled images only
  (``max_iter=0``), combined as co-training combines them;
- :class:`~sklabelfree.semi_supervised.CoTrainingClassifier` as in the paper
  (``require_agreement=False``);
- :class:`~sklabelfree.semi_supervised.CoTrainingClassifier` with its
  defaults, where a view only labels a row when the combined prediction of
  both views agrees with it.

Then it follows one fit round by round.
"""

# %%
# The data and the views
# ----------------------
# :func:`~sklabelfree.datasets.image_half_views` gives the column indices of
# the left and right halves of the flattened images.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

from sklabelfree.datasets import digits_benchmark_split, image_half_views
from sklabelfree.semi_supervised import CoTrainingClassifier

left, right = image_half_views((8, 8))
X, y, X_test, y_test, y_true = digits_benchmark_split(20, random_state=0)
print(f"training rows: {X.shape[0]}, labeled: {np.sum(y != -1)}, "
      f"test rows: {X_test.shape[0]}")
print(f"left view: {left.size} pixels, right view: {right.size} pixels")

fig, axes = plt.subplots(1, 3, figsize=(6, 2.2))
image = X[np.flatnonzero(y == 3)[0]].reshape(8, 8)
for ax, cols, title in zip(axes, (None, left, right),
                           ("a labeled 3", "left view", "right view")):
    shown = image.copy()
    if cols is not None:
        mask = np.zeros(64, dtype=bool)
        mask[cols] = True
        shown[~mask.reshape(8, 8)] = np.nan
    ax.imshow(shown, cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(title, fontsize="small")
    ax.set_axis_off()
fig.tight_layout()

# %%
# Four classifiers, three seeds
# -----------------------------
# Each seed draws another split and other labeled images; the mean test
# accuracy over the three seeds is reported, with one dot per seed.
views = [left, right]
seeds = (0, 1, 2)
methods = {
    "LogisticRegression, 64 pixels": None,
    "two halves, labeled rows only": dict(max_iter=0),
    "co-training as in the paper": dict(require_agreement=False),
    "CoTrainingClassifier": dict(),
}
scores = {name: [] for name in methods}
for seed in seeds:
    X, y, X_test, y_test, _ = digits_benchmark_split(20, random_state=seed)
    labeled = y != -1
    for name, params in methods.items():
        if params is None:
            clf = LogisticRegression().fit(X[labeled], y[labeled])
        else:
            clf = CoTrainingClassifier(LogisticRegression(), views=views,
                                       random_state=seed, **params).fit(X, y)
        scores[name].append(clf.score(X_test, y_test))

for name, values in scores.items():
    print(f"{name:32s} {np.mean(values):.3f}  (seeds: "
          + ", ".join(f"{v:.3f}" for v in values) + ")")

fig, ax = plt.subplots(figsize=(8, 3.5))
for i, (name, values) in enumerate(scores.items()):
    ax.barh(i, np.mean(values), color=f"C{i}")
    ax.plot(values, [i] * len(values), "k.", markersize=5)
    ax.text(np.mean(values) + 0.005, i, f"{np.mean(values):.3f}", va="center")
ax.set_yticks(range(len(scores)), list(scores))
ax.invert_yaxis()
ax.set_xlim(0.5, 0.9)
ax.set_xlabel("test accuracy, 20 labels (mean of 3 seeds)")
ax.set_title("Co-training on the left and right halves of digits")
fig.tight_layout()

# %%
# Each half alone knows little: with two labels per class, a logistic
# regression on half an image is right on about 60 % of the test images. The
# product of the two halves' probabilities is about as good as the
# classifier of the whole image. Co-training then adds the unlabeled images.
#
# In the paper's algorithm, each view labels its most confident rows
# whatever the other view thinks of them. With views this weak, a view can
# take a whole group of one digit for another (for one seed, most unlabeled
# 7s end up labeled 3 by the view that sees the left half, which is the top
# bar of both) and both views then learn the mistake. Asking the combined
# prediction to agree with the picking view (``require_agreement=True``, the
# default) filters those picks out.
#
# Round by round
# --------------
# A fit with ``max_iter=r`` runs the first ``r`` rounds of a fit with more
# rounds (same ``random_state``), so fitting with growing ``max_iter`` shows
# how each view and their combination improve as the labeled set grows.
# ``estimators_`` holds the classifiers of the two views, ``views_`` their
# columns.
X, y, X_test, y_test, y_true = digits_benchmark_split(20, random_state=1)
rounds = [0, 5, 10, 20, 30, 50]
acc = {"left view": [], "right view": [], "combined": []}
for r in rounds:
    clf = CoTrainingClassifier(LogisticRegression(), views=views, max_iter=r,
                               random_state=1).fit(X, y)
    for name, est, cols in zip(("left view", "right view"), clf.estimators_,
                               clf.views_):
        acc[name].append(est.score(X_test[:, cols], y_test))
    acc["combined"].append(clf.score(X_test, y_test))

fig, ax = plt.subplots(figsize=(8, 3.5))
for name, values in acc.items():
    ax.plot(rounds, values, "o-", label=name)
ax.axhline(scores["LogisticRegression, 64 pixels"][1], color="gray",
           linestyle="--", label="LogisticRegression, 64 pixels, 20 labels")
ax.set_xlabel("co-training rounds")
ax.set_ylabel("test accuracy")
ax.legend(loc="lower right", fontsize="small")
ax.set_title("Each view learns from the rows the other one labeled")
fig.tight_layout()

# %%
# ``transduction_`` holds the labels of the last fit, ``labeled_iter_`` the
# round in which each row got its label (``-1`` for rows never labeled), so
# the labels the views gave can be checked against the hidden ones:
new = (y == -1) & (clf.transduction_ != -1)
print(f"{clf.n_iter_} rounds ({clf.termination_condition_!r}): "
      f"{new.sum()} rows labeled by the views, "
      f"{np.mean(clf.transduction_[new] == y_true[new]):.1%} of them correctly; "
      f"{np.sum(clf.labeled_iter_ == -1)} rows never labeled")

plt.show()
