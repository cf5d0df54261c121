"""
=============================================================
Deep semi-supervised nets on digit images: FixMatch, MixMatch
=============================================================

The deep semi-supervised classifiers of sklabelfree train one neural network
on the labeled and the unlabeled rows at once. This example fits three of
them on scikit-learn's digits as ``(1, 8, 8)`` images, with 50 labels (five
per digit) and 1207 unlabeled images:

- :class:`~sklabelfree.semi_supervised.SupervisedNetClassifier`, the same
  network trained on the labeled rows only: the baseline;
- :class:`~sklabelfree.semi_supervised.FixMatchClassifier`, which turns its
  confident predictions on weakly augmented images into pseudo labels for
  strongly augmented ones;
- :class:`~sklabelfree.semi_supervised.MixMatchClassifier`, which guesses
  sharpened labels over several augmentations and mixes labeled and
  unlabeled images with MixUp.

It compares their test accuracy, then looks inside the training with
``history_``: how many unlabeled images pass FixMatch's confidence threshold
as training goes on, and what the training loss of each net does.

**The training budget is cut short** so that the example runs in about a
minute on one CPU core: each net gets a small ``max_epochs``, a fraction of
its default. The nets are far from done after so few steps, and their ranking
here says little about what they reach with their defaults; the benchmark
(see the end) trains them with their defaults.
"""

# %%
# The data
# --------
# :func:`~sklabelfree.datasets.digits_benchmark_split` keeps 50 of the 1257
# training labels and marks the other rows ``-1``; ``as_images=True`` gives
# the pixels, scaled to ``[0, 1]``, as ``(n, 1, 8, 8)`` float32 images, for
# which the nets build a small ConvNet and augment with random shifts (and,
# for FixMatch's strong view, RandAugment and cutout).
import time

import matplotlib.pyplot as plt
import numpy as np

from sklabelfree.datasets import digits_benchmark_split
from sklabelfree.semi_supervised import (
    FixMatchClassifier,
    MixMatchClassifier,
    SupervisedNetClassifier,
)

X, y, X_test, y_test, _ = digits_benchmark_split(50, random_state=0, as_images=True)
print(f"training images: {X.shape}, labeled: {np.sum(y != -1)}, "
      f"test images: {X_test.shape[0]}")

# %%
# Three nets, a short budget
# --------------------------
# Every net takes the same ``random_state``, which seeds the weights, the
# batches and the augmentations: the example gives the same numbers at every
# run on a CPU. An epoch is a fixed number of steps, each with
# ``batch_size`` labeled images and ``mu * batch_size`` images for the
# unlabeled term, enough steps to go once through the images. The nets draw
# different numbers of images per step, hence take different numbers of
# steps per epoch: MixMatch takes more, and gets fewer epochs here, so that
# the three nets make about as many weight updates (``n_steps_``).
nets = {
    "supervised": SupervisedNetClassifier(max_epochs=20, random_state=0),
    "FixMatch": FixMatchClassifier(max_epochs=20, random_state=0),
    "MixMatch": MixMatchClassifier(max_epochs=5, random_state=0),
}
accuracy = {}
for name, net in nets.items():
    start = time.perf_counter()
    net.fit(X, y)
    seconds = time.perf_counter() - start
    accuracy[name] = net.score(X_test, y_test)
    print(f"{name:10s} {net.max_epochs:2d} epochs, {net.n_steps_:3d} steps, "
          f"{seconds:4.0f} s: test accuracy {accuracy[name]:.3f}")

# %%
# Test accuracy side by side
# --------------------------
# ``score`` is the accuracy on the 540 test images. With so short a run, a
# few points either way are within the noise of the seed: refit with another
# ``random_state`` to see how much the numbers move.
fig, ax = plt.subplots(figsize=(6, 3))
names = list(accuracy)
bars = ax.barh(names, [accuracy[n] for n in names],
               color=["tab:gray", "tab:blue", "tab:orange"])
ax.bar_label(bars, fmt="%.3f", padding=3)
ax.set_xlim(0, 1.08)
ax.invert_yaxis()
ax.set_xlabel("test accuracy")
ax.set_title("Digits, 50 labels, shortened training")
fig.tight_layout()
plt.show()

# %%
# Inside FixMatch: the mask rate
# ------------------------------
# FixMatch trains on the pseudo label of an unlabeled image only where its
# prediction on the weak view reaches ``threshold``. ``history_`` is skorch's
# history; FixMatch records, at every step, ``mask_rate``: the fraction of the
# step's unlabeled images above the threshold. Its mean per epoch shows the
# unlabeled term switching on: at first the network is confident about almost
# nothing, and the loss is the supervised one; as it learns, more and more
# images pass the threshold and teach the strong view. A mask rate that stays
# near zero means that the threshold is too high for the network, or that
# the run is too short. In a shortened run, a large share of the steps go by
# before many images pass the threshold: one reason why FixMatch needs its
# full budget.
fixmatch = nets["FixMatch"]
mask_rate = [np.mean(epoch)
             for epoch in fixmatch.history_[:, "batches", :, "mask_rate"]]
epochs = fixmatch.history_[:, "epoch"]
print("FixMatch mask rate per epoch:", " ".join(f"{m:.2f}" for m in mask_rate))

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(epochs, mask_rate, marker="o")
ax.set_ylim(0, 1)
ax.set_xticks(epochs)
ax.set_xlabel("epoch")
ax.set_ylabel("mask rate")
ax.set_title(f"FixMatch: unlabeled images above threshold={fixmatch.threshold}")
fig.tight_layout()
plt.show()

# %%
# The training loss of each net
# -----------------------------
# ``history_[:, "batches", :, "train_loss"]`` holds the loss of every step
# (``history_[:, "train_loss"]`` its mean per epoch). The curves below are
# plotted against the step, smoothed over 10 steps. They are not comparable
# between methods: each loss has its own unlabeled term. The supervised net
# fits its 50 labeled images and its loss falls towards zero. FixMatch's loss
# can *rise* while the net improves, because more unlabeled images pass the
# threshold and add their cross-entropy on a strongly augmented view.
# MixMatch's loss is computed on mixed images and mixed targets, and its
# unlabeled term is weighted by a ramp-up measured in epochs: in a
# shortened run the weight may not have reached ``lambda_u`` yet (printed
# below).
def per_step(net, key="train_loss"):
    return np.concatenate([np.asarray(epoch, dtype=float)
                           for epoch in net.history_[:, "batches", :, key]])


def smooth(values, width=10):
    kernel = np.ones(width) / width
    return np.convolve(values, kernel, mode="valid")


fig, ax = plt.subplots(figsize=(7, 3.5))
for (name, net), color in zip(nets.items(), ["tab:gray", "tab:blue", "tab:orange"]):
    loss = per_step(net)
    ax.plot(np.arange(len(loss)), loss, color=color, alpha=0.2)
    ax.plot(np.arange(9, len(loss)), smooth(loss), color=color, label=name)
ax.set_xlabel("training step")
ax.set_ylabel("training loss")
ax.set_yscale("log")
ax.legend()
ax.set_title("Training loss per step (light: raw; dark: mean of 10 steps)")
fig.tight_layout()
plt.show()

mixmatch = nets["MixMatch"]
print(f"MixMatch weight of the unlabeled term at the last step: "
      f"{per_step(mixmatch, 'lambda_u')[-1]:.1f} (lambda_u={mixmatch.lambda_u})")

# %%
# What the defaults reach
# -----------------------
# With their default parameters the semi-supervised nets train several
# times longer than here, and on this split they end well above the
# supervised net: the unlabeled images are worth more than the few epochs of
# this example show. The table of the :ref:`user guide <deep_results>` gives
# the accuracies. The benchmark fits the nets with their defaults, beside
# the classic methods, and prints such a table::
#
#     python -m sklabelfree.benchmarks semi-supervised
#
# which runs the three deep nets of this example at 20 labels on one seed
# (a few minutes on one core); add ``--labels 50`` for this budget, or
# ``--full`` for every net, label budget and seed. The
# :ref:`user guide <deep_ssl>` explains each method and its parameters.
