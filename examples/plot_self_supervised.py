"""
====================================================
A self-supervised encoder on digits with 50 labels
====================================================

An encoder learns a representation of the digits from the images alone, no
label used; a logistic regression then learns the classes from 50 labeled
images (5 per class) on top of that representation. We compare it with the
same logistic regression on the raw pixels, look at the embeddings in two
dimensions with t-SNE, and at what a masked autoencoder rebuilds of images
it sees only a quarter of.

About a minute on a CPU.
"""

# %%
# Data: the PROTOCOL split, 50 labeled training rows
# --------------------------------------------------
# Every training image is available to the encoder; only 50 of them carry
# a label for the classifier.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE
from sklearn.model_selection import train_test_split

from sklabelfree.datasets import load_digits_images
from sklabelfree.self_supervised import MAEEncoder, VICRegEncoder, linear_probe_score

X, y = load_digits_images()  # (1797, 1, 8, 8), pixels in [0, 1]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)
rng = np.random.RandomState(0)
labeled = np.concatenate([rng.choice(np.flatnonzero(y_train == c), 5, replace=False)
                          for c in range(10)])
y_partial = np.full_like(y_train, -1)  # -1: unlabeled
y_partial[labeled] = y_train[labeled]

# %%
# Fit the encoder without labels
# ------------------------------
# VICReg makes two augmented views of every image (small rotations, shears,
# shifts, noise, cutout) and trains a small ConvNet so that the views agree
# while every embedding dimension keeps its variance and the dimensions
# stay uncorrelated. Half the default epochs keep this example short.
encoder = VICRegEncoder(max_epochs=60, random_state=0).fit(X_train)
print(f"{encoder.n_steps_} steps, last loss {encoder.history_[-1, 'train_loss']:.2f}")

# %%
# Linear probe with 50 labels, against raw pixels
# -----------------------------------------------
# ``linear_probe_score`` fits ``LogisticRegression`` on the embeddings of
# the labeled rows (``y != -1``) and scores it on the test rows.
probe = linear_probe_score(encoder, X_train, y_partial, X_test, y_test)
raw = (LogisticRegression(max_iter=1000)
       .fit(X_train[labeled].reshape(50, -1), y_train[labeled])
       .score(X_test.reshape(len(X_test), -1), y_test))
print(f"raw pixels: {raw:.3f}   VICReg embeddings: {probe:.3f}")

# %%
# The embeddings in two dimensions
# --------------------------------
# t-SNE of the test embeddings, coloured by the true class (which the
# encoder never saw).
Z = TSNE(n_components=2, init="pca", random_state=0).fit_transform(
    encoder.transform(X_test))
fig, ax = plt.subplots(figsize=(6, 5))
points = ax.scatter(Z[:, 0], Z[:, 1], c=y_test, cmap="tab10", s=8)
ax.legend(*points.legend_elements(), title="digit", fontsize="small",
          loc="center left", bbox_to_anchor=(1, 0.5))
ax.set_title("VICReg embeddings of the test digits (t-SNE)")
ax.set_xticks([])
ax.set_yticks([])
fig.tight_layout()
plt.show()

# %%
# Masked autoencoder: rebuild the hidden three quarters
# -----------------------------------------------------
# ``MAEEncoder`` cuts each image into 2x2 patches, hides 75 % of them, and
# trains a small Vision Transformer on the visible ones with a light
# decoder that fills in the rest. ``reconstruct`` hides a random 75 % of
# each image and shows the decoder's guesses in their place. For its first
# thousand steps or so, the decoder fills every hidden patch with the
# average digit and ignores the visible ones; the defaults (about 5,900
# steps, a minute and a half) get past that plateau. The 800 steps here
# keep the example short, so the guesses are still close to the average
# digit (see the user guide).
mae = MAEEncoder(max_epochs=20, random_state=0).fit(X_train)
X_rec, mask = mae.reconstruct(X_test[:8], random_state=0, return_mask=True)
fig, axes = plt.subplots(3, 8, figsize=(8, 3.3))
rows = [("image", X_test[:8, 0]),
        ("visible", np.where(mask, np.nan, X_test[:8, 0])),
        ("rebuilt", X_rec[:, 0])]
for r, (label, images) in enumerate(rows):
    for i in range(8):
        axes[r, i].imshow(images[i], cmap="gray_r", vmin=0, vmax=1)
        axes[r, i].set_xticks([])
        axes[r, i].set_yticks([])
    axes[r, 0].set_ylabel(label)
fig.suptitle("MAEEncoder: test digits, their visible patches, the rebuilt images")
fig.tight_layout()
plt.show()
