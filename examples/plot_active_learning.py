"""
==========================================
Active learning on digits: which labels?
==========================================

Labels cost time. When an annotator can label only a hundred images, which
hundred should they be? Active learning lets the model choose: it asks for
the label of the image it is least sure of, learns from the answer, and
asks again.

This example replays that loop on scikit-learn's digits, where every label
is known in advance and plays the annotator (the *oracle*), with
:func:`~sklabelfree.active.simulate_active_learning`, and compares three
learners started from the same 10 random labels:

- a :class:`~sklearn.linear_model.LogisticRegression` that gets the labels
  of random images, the baseline;
- the same model asking for the images with the smallest *margin* between
  its two most likely classes;
- margin sampling over scikit-learn's
  :class:`~sklearn.semi_supervised.LabelSpreading`, a semi-supervised model
  that also learns from the images nobody labeled: active and
  semi-supervised learning together.

:class:`~sklabelfree.active.ActiveLearningCurveDisplay` draws the learning
curves.
"""

# %%
# The data
# --------
# The split of sklabelfree's benchmarks: 70 % of the images to learn from,
# 30 % to measure test accuracy. Here every training label is known; the
# simulation hides all but 10 of them and reveals one each time the learner
# asks.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.semi_supervised import LabelSpreading

from sklabelfree.active import (
    ActiveLearner,
    ActiveLearningCurveDisplay,
    simulate_active_learning,
)
from sklabelfree.datasets import digits_benchmark_split

X, _, X_test, y_test, y = digits_benchmark_split(10, random_state=0)
print(f"training images: {X.shape[0]}, test images: {X_test.shape[0]}")

# LabelSpreading divides 0 by 0 for the images its nearest-neighbor graph
# does not reach from any label (NaN probabilities, see below); silence that.
warnings.filterwarnings("ignore", message="invalid value encountered in divide",
                        category=RuntimeWarning)

# %%
# Three learners, three random starts
# -----------------------------------
# An :class:`~sklabelfree.active.ActiveLearner` wraps any classifier. It is
# fitted with ``-1`` for the images whose label is unknown (the *pool*);
# ``query()`` names the pool images to label next and ``teach()`` adds their
# labels and refits. A classifier like ``LogisticRegression`` is fitted on
# the labeled images only; a semi-supervised one like ``LabelSpreading`` on
# all of them, ``-1`` included.
#
# :func:`~sklabelfree.active.simulate_active_learning` runs that loop with
# the true labels as the oracle, from ``n_initial`` random labels up to
# ``budget`` labels in all, and scores the learner on the test images after
# every answer. The random start depends on ``random_state``: each learner
# starts from the same 10 images for a given seed, and three seeds show how
# much the curves depend on the start.
learners = {
    "random": ActiveLearner(LogisticRegression(max_iter=1000), "random"),
    "margin": ActiveLearner(LogisticRegression(max_iter=1000), "margin"),
    "margin + LabelSpreading": ActiveLearner(LabelSpreading(kernel="knn"), "margin"),
}
budget = 80
curves = {
    name: [
        simulate_active_learning(learner, X, y, X_test, y_test, budget=budget,
                                 n_initial=10, random_state=seed, name=name)
        for seed in (0, 1, 2)
    ]
    for name, learner in learners.items()
}

print(f"{'test accuracy, mean of 3 starts':34s}{'20 labels':>10s}{'40 labels':>10s}"
      f"{'80 labels':>10s}{'AUC':>7s}")
for name, runs in curves.items():
    at = [np.mean([c.score_at(n) for c in runs]) for n in (20, 40, 80)]
    auc = np.mean([c.auc for c in runs])
    print(f"{name:34s}{at[0]:10.3f}{at[1]:10.3f}{at[2]:10.3f}{auc:7.3f}")

# %%
# The learning curves
# -------------------
# Each line is the mean of the three starts, the band one standard deviation
# around it. The legend gives the normalised area under each curve (AUC):
# the mean test accuracy over the whole budget, a single number that
# rewards learning fast as well as learning well.
fig, ax = plt.subplots(figsize=(8, 4.5))
display = ActiveLearningCurveDisplay(curves).plot(ax=ax)
ax.set_ylim(0.3, 1.0)
ax.set_title("Digits: test accuracy as the labels come in")
fig.tight_layout()

# %%
# With a plain classifier, asking for the images at the margin pulls ahead
# of random labeling after about ten questions and stays ahead: to reach a
# given accuracy it needs far fewer labels. The very first questions gain
# little, because a model fitted on 10 labels is not yet a good judge of
# what it does not know.
#
# Over ``LabelSpreading`` both ideas add up. The unlabeled images carry the
# shape of the data: labels spread along the nearest-neighbor graph, so a
# handful of well-placed labels already classify most images, and margin
# sampling places them where the spread labels disagree, between the
# clusters of two digits. A ``LabelSpreading`` whose graph does not reach
# an image returns NaN probabilities for it; the learner counts such images
# as maximally uncertain, so they are asked about early.
#
# What did the learner ask?
# -------------------------
# The ``queried`` attribute of a curve lists the images in the order they
# were asked for. The first questions of the semi-supervised learner
# (first start):
first = curves["margin + LabelSpreading"][0]
fig, axes = plt.subplots(2, 8, figsize=(8, 2.6))
for ax, row in zip(axes.ravel(), first.queried[:16]):
    ax.imshow(X[row].reshape(8, 8), cmap="gray_r")
    ax.set_title(str(y[row]), fontsize=9)
    ax.set_axis_off()
fig.suptitle("The first 16 images asked for, with the oracle's answer")
fig.tight_layout()

# %%
# The 10 random labels of this start hold no 0 and no 1: the first
# questions find those two digits, then come images that could pass for
# two digits at once. The ``fit_seconds`` and ``query_seconds`` of a curve
# tell what each step cost:
for name, runs in curves.items():
    fit = np.mean([c.fit_seconds.sum() for c in runs])
    query = np.mean([c.query_seconds.sum() for c in runs])
    print(f"{name:26s} fits {fit:5.2f} s, queries {query:5.2f} s per run of "
          f"{budget - 10} questions")

plt.show()
