"""
==============================================
Tuning a semi-supervised pipeline with -1 rows
==============================================

Cross-validation was designed for fully labeled data. Given a target in
which most rows are ``-1``, scikit-learn's splitters and scorers do
something, but not what you want: they put unlabeled rows in the test folds
and score the predictions against ``-1``, and they take a share of the
unlabeled rows away from every training fold.

This example tunes a
``Pipeline([MinMaxScaler(), PseudoLabelClassifier(LogisticRegression())])``
on digits with 50 labels, and shows:

- what plain ``KFold`` cross-validation reports on such a target;
- :func:`~sklabelfree.utils.model_selection.make_labeled_scorer`, which
  scores on the labeled rows only;
- :class:`~sklabelfree.utils.model_selection.SemiSupervisedStratifiedKFold`,
  which keeps every unlabeled row in every training fold and tests on
  labeled rows only, as the ``cv`` of
  :class:`~sklearn.model_selection.GridSearchCV`.
"""

# %%
# The data and the pipeline
# -------------------------
# 1257 training rows, 50 of them labeled (five per digit), and 540 test
# rows kept aside to check the search at the end. The scaler is fitted on
# every training row, unlabeled ones included: unsupervised steps of a
# pipeline learn from the unlabeled rows too.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from sklabelfree.datasets import digits_benchmark_split
from sklabelfree.semi_supervised import PseudoLabelClassifier
from sklabelfree.utils.model_selection import (
    SemiSupervisedStratifiedKFold,
    make_labeled_scorer,
)

X, y, X_test, y_test, _ = digits_benchmark_split(50, random_state=0)
print(f"{X.shape[0]} training rows, {np.sum(y != -1)} labeled, "
      f"{X_test.shape[0]} test rows")

pipe = Pipeline([
    ("scale", MinMaxScaler()),
    ("clf", PseudoLabelClassifier(LogisticRegression(max_iter=1000),
                                  random_state=0)),
])

# %%
# Plain K-fold cross-validation
# -----------------------------
# ``KFold`` splits all rows, so each test fold is mostly unlabeled rows.
# The ``'accuracy'`` scorer compares the predictions with ``-1`` there; the
# model never predicts ``-1``, so every unlabeled test row counts as an
# error, and the score means nothing.
naive_cv = KFold(3, shuffle=True, random_state=0)
naive = cross_val_score(pipe, X, y, cv=naive_cv, scoring="accuracy")
print("KFold, 'accuracy':", naive.round(3))

# %%
# :func:`~sklabelfree.utils.model_selection.make_labeled_scorer` wraps any
# scorer (a name such as ``'accuracy'`` or ``'f1_macro'``, or a callable) so
# that it drops the rows with ``y == -1`` before scoring, and slices
# per-row arguments such as ``sample_weight`` along. The score is now
# computed on the labeled test rows only:
labeled_accuracy = make_labeled_scorer("accuracy")
masked = cross_val_score(pipe, X, y, cv=naive_cv, scoring=labeled_accuracy)
print("KFold, make_labeled_scorer('accuracy'):", masked.round(3))

# %%
# The split itself is still wasteful: a third of the unlabeled rows sits in
# each test fold, where it is never used, and the 50 labeled rows fall into
# the folds unevenly. ``SemiSupervisedStratifiedKFold`` splits the labeled
# rows only, stratified by class, and adds every unlabeled row to every
# training fold.
semi_cv = SemiSupervisedStratifiedKFold(3)
for name, cv in (("KFold", naive_cv), ("SemiSupervisedStratifiedKFold", semi_cv)):
    print(name)
    for train, test in cv.split(X, y):
        print(f"  train: {np.sum(y[train] != -1):2d} labeled + "
              f"{np.sum(y[train] == -1):4d} unlabeled rows | test: "
              f"{np.sum(y[test] != -1):2d} labeled + {np.sum(y[test] == -1):3d} "
              "unlabeled rows")

semi = cross_val_score(pipe, X, y, cv=semi_cv)
print("SemiSupervisedStratifiedKFold, accuracy:", semi.round(3))

# %%
# No scorer is given above: ``cross_val_score`` then uses the pipeline's
# ``score``, that is :meth:`PseudoLabelClassifier.score
# <sklabelfree.semi_supervised.PseudoLabelClassifier.score>`, which
# already ignores ``-1`` rows. Any other metric works too, wrapped in
# ``make_labeled_scorer`` so that it stays correct whatever the splitter:
semi_f1 = cross_val_score(pipe, X, y, cv=semi_cv,
                          scoring=make_labeled_scorer("f1_macro"))
print("SemiSupervisedStratifiedKFold, f1_macro:", semi_f1.round(3))

# %%
# A grid search
# -------------
# Tune the number of pseudo labels added per round (``k_best``, a fraction
# of the unlabeled rows) and the regularisation ``C`` of the logistic
# regression inside, reached through the pipeline and the meta-estimator as
# ``clf__estimator__C``.
param_grid = {
    "clf__k_best": [0.05, 0.1, 0.2],
    "clf__estimator__C": [0.1, 1.0, 10.0],
}
search = GridSearchCV(pipe, param_grid, cv=semi_cv).fit(X, y)
print("best parameters:", search.best_params_)
print(f"best cross-validated accuracy: {search.best_score_:.3f}")

# %%
# The mean accuracy of each candidate over the three folds, from
# ``cv_results_``:
results = pd.DataFrame(search.cv_results_)
grid = results.pivot(index="param_clf__estimator__C", columns="param_clf__k_best",
                     values="mean_test_score")
print(grid.round(3))

fig, ax = plt.subplots(figsize=(5, 4))
image = ax.imshow(grid.to_numpy(), cmap="viridis")
ax.set_xticks(range(grid.shape[1]), grid.columns)
ax.set_yticks(range(grid.shape[0]), grid.index)
ax.set_xlabel("k_best (share of the unlabeled rows per round)")
ax.set_ylabel("C of the logistic regression")
middle = (grid.to_numpy().min() + grid.to_numpy().max()) / 2
for (i, j), value in np.ndenumerate(grid.to_numpy()):
    ax.text(j, i, f"{value:.3f}", ha="center", va="center",
            color="k" if value > middle else "w")
fig.colorbar(image, ax=ax, label="mean cross-validated accuracy")
ax.set_title("SemiSupervisedStratifiedKFold(3)")
fig.tight_layout()

# %%
# Check the refitted best pipeline, and the default one, on the test rows
# that neither has seen:
default_score = pipe.fit(X, y).score(X_test, y_test)
print(f"default parameters: test accuracy {default_score:.3f}")
print(f"best parameters:    test accuracy {search.score(X_test, y_test):.3f}")

# %%
# With 50 labels each test fold holds only about 17 labeled rows, so the
# cross-validated scores of neighbouring candidates differ by one or two
# rows: treat small differences as noise, and prefer more folds (or
# repeated splits with ``shuffle=True`` and several ``random_state``) when
# the budget allows. What matters is that every candidate is trained with
# all the unlabeled rows and judged on labels it never saw.
plt.show()
