"""
=============================================
Self-training on digits with 20 and 50 labels
=============================================

With 20 labeled images of handwritten digits (two per class) and 1237
unlabeled ones, how much do the unlabeled images help?

This example compares, on scikit-learn's digits with the split of
sklabelfree's benchmarks (70 % of the images for training, of which only 20
or 50 keep their label, and 30 % for testing):

- :class:`~sklearn.linear_model.LogisticRegression` fitted on the labeled
  rows alone, the baseline every semi-supervised method must beat;
- scikit-learn's :class:`~sklearn.semi_supervised.SelfTrainingClassifier`
  around the same logistic regression;
- :class:`~sklabelfree.semi_supervised.PseudoLabelClassifier` around the same
  logistic regression, with and without its class balancing.

Then it looks inside one fit of
:class:`~sklabelfree.semi_supervised.PseudoLabelClassifier`: how many
pseudo labels each round adds and how many of them are right, read from its
``transduction_`` and ``labeled_iter_`` attributes.
"""

# %%
# The data
# --------
# :func:`~sklabelfree.datasets.digits_benchmark_split` returns the training
# rows with ``-1`` in place of every hidden label, the test rows, and the
# full training labels (used here only to measure how good the pseudo labels
# are, never for fitting). Each setting is repeated over three seeds, each
# seed drawing another split and other labeled rows, and the mean accuracy
# is reported.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.semi_supervised import SelfTrainingClassifier

from sklabelfree.datasets import digits_benchmark_split
from sklabelfree.semi_supervised import PseudoLabelClassifier

X, y, X_test, y_test, y_true = digits_benchmark_split(20, random_state=0)
print(f"training rows: {X.shape[0]}, labeled: {np.sum(y != -1)}, "
      f"test rows: {X_test.shape[0]}")

# %%
# Four classifiers, two label budgets, three seeds
# ------------------------------------------------
# Every method wraps the same ``LogisticRegression``. The semi-supervised
# ones get the whole training part, ``-1`` included; the baseline gets the
# labeled rows only.


def make_methods(seed):
    return {
        "labeled rows only": None,
        "SelfTrainingClassifier": SelfTrainingClassifier(
            LogisticRegression(max_iter=1000)),
        "PseudoLabel, no balancing": PseudoLabelClassifier(
            LogisticRegression(max_iter=1000), class_balance=False,
            random_state=seed),
        "PseudoLabelClassifier": PseudoLabelClassifier(
            LogisticRegression(max_iter=1000), random_state=seed),
    }


budgets = (20, 50)
seeds = (0, 1, 2)
scores = {name: {n: [] for n in budgets} for name in make_methods(0)}
fitted = {}
for n_labels in budgets:
    for seed in seeds:
        X, y, X_test, y_test, _ = digits_benchmark_split(n_labels, random_state=seed)
        labeled = y != -1
        for name, clf in make_methods(seed).items():
            if clf is None:
                clf = LogisticRegression(max_iter=1000).fit(X[labeled], y[labeled])
            else:
                clf.fit(X, y)
            scores[name][n_labels].append(clf.score(X_test, y_test))
            fitted[name, n_labels, seed] = clf

print(f"{'test accuracy, mean of 3 seeds':32s}" + "".join(
    f"{n:>6d} labels" for n in budgets))
for name, by_budget in scores.items():
    print(f"{name:32s}" + "".join(
        f"{np.mean(by_budget[n]):13.3f}" for n in budgets))

# %%
# Plot the means, with one dot per seed.
fig, ax = plt.subplots(figsize=(8, 4))
width = 0.2
for i, (name, by_budget) in enumerate(scores.items()):
    xs = np.arange(len(budgets)) + (i - 1.5) * width
    means = [np.mean(by_budget[n]) for n in budgets]
    ax.bar(xs, means, width, label=name)
    for x, n in zip(xs, budgets):
        ax.plot([x] * len(seeds), by_budget[n], "k.", markersize=4)
ax.set_xticks(np.arange(len(budgets)), [f"{n} labels" for n in budgets])
ax.set_ylabel("test accuracy")
ax.set_ylim(0.3, 1.0)
ax.legend(loc="lower right", fontsize="small")
ax.set_title("Logistic regression on digits, with and without unlabeled rows")
fig.tight_layout()

# %%
# With two labels per class, scikit-learn's ``SelfTrainingClassifier`` adds
# nothing: no prediction of the logistic regression reaches its default
# threshold of 0.75, so it stops after the first round with the baseline's
# model. With five labels per class, predictions do pass the threshold, but
# unevenly: the digits the model is sure of collect a hundred pseudo labels
# or more while others get few or none, and the classifier ends up below the
# baseline. Count the pseudo labels of each digit for the first seed:
y_50 = digits_benchmark_split(50, random_state=0)[1]
for name in ("SelfTrainingClassifier", "PseudoLabelClassifier"):
    clf = fitted[name, 50, 0]
    new = (y_50 == -1) & (clf.transduction_ != -1)
    print(f"{name:24s} pseudo labels per digit: "
          f"{np.bincount(clf.transduction_[new], minlength=10)}")

# %%
# ``PseudoLabelClassifier`` (``criterion='k_best'`` by default) labels a
# growing number of the most confident rows whatever their probability, and
# selects them afresh every round, so an early mistake can be undone.
# Without class balancing the same procedure falls *below* the baseline:
# the most confident predictions come from a few easy digits, the
# classifier retrains on them and leans further towards them. Capping each
# class's pseudo labels at its share of the labeled rows
# (``class_balance=True``, the default) keeps the pseudo labels spread over
# all ten digits.
#
# Inside one fit: how good are the pseudo labels?
# -----------------------------------------------
# A fit with ``max_iter=r`` runs the first ``r`` rounds of a fit with more
# rounds (same ``random_state``), so fitting with ``max_iter`` = 1, 2, ...
# shows each round. ``transduction_`` holds each row's label after the
# last round (``-1`` where a row has no pseudo label); comparing it with the
# hidden labels gives the accuracy of the pseudo labels.
X, y, X_test, y_test, y_true = digits_benchmark_split(20, random_state=0)
unlabeled = y == -1
rounds = np.arange(1, 11)
n_pseudo, pseudo_acc, test_acc = [], [], []
for r in rounds:
    clf = PseudoLabelClassifier(LogisticRegression(max_iter=1000), max_iter=r,
                                random_state=0).fit(X, y)
    has_pseudo = unlabeled & (clf.transduction_ != -1)
    n_pseudo.append(has_pseudo.sum())
    pseudo_acc.append(np.mean(clf.transduction_[has_pseudo] == y_true[has_pseudo]))
    test_acc.append(clf.score(X_test, y_test))

fig, ax1 = plt.subplots(figsize=(8, 4))
ax1.plot(rounds, pseudo_acc, "o-", label="accuracy of the pseudo labels")
ax1.plot(rounds, test_acc, "s-", label="test accuracy")
ax1.axhline(scores["labeled rows only"][20][0], color="gray", linestyle="--",
            label="test accuracy, labeled rows only")
ax1.set_xlabel("round")
ax1.set_ylabel("accuracy")
ax1.set_ylim(0.6, 1.0)
ax2 = ax1.twinx()
ax2.bar(rounds, n_pseudo, alpha=0.2, color="C2")
ax2.set_ylabel("number of pseudo labels (bars)")
ax1.legend(loc="lower right", fontsize="small")
ax1.set_zorder(ax2.get_zorder() + 1)
ax1.patch.set_visible(False)
ax1.set_title("PseudoLabelClassifier, 20 labels: round by round")
fig.tight_layout()

# %%
# The first rounds label the easiest rows, almost all correctly; each later
# round adds harder rows, so the share of correct pseudo labels falls
# slowly while the test accuracy keeps rising: the model learns from far
# more rows than it was given labels for.
#
# ``labeled_iter_`` tells, for the last fit (10 rounds), in which round each
# row got the label it ends with: ``0`` for the given labels, ``-1`` for
# rows left without a pseudo label. Because every round predicts all
# unlabeled rows again, a row labeled early can be dropped or relabeled
# later. The rows that have held their label since the first rounds are
# right far more often than those labeled in the last rounds.
for r in rounds:
    rows = unlabeled & (clf.labeled_iter_ == r)
    if rows.any():
        acc = np.mean(clf.transduction_[rows] == y_true[rows])
        print(f"round {r:2d}: {rows.sum():4d} rows hold the pseudo label given "
              f"then, {acc:.1%} of them right")
print(f"left unlabeled: {np.sum(unlabeled & (clf.labeled_iter_ == -1))} rows; "
      f"stopped because of {clf.termination_condition_!r} after "
      f"{clf.n_iter_} rounds")

plt.show()
