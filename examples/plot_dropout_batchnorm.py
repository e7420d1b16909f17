"""
==============================================
Over-fitting, dropout and batch normalisation
==============================================

A large network trained long on few samples learns the training set by
heart: the training loss keeps falling while the validation loss turns back
up. The lecture's remedies are dropout and batch normalisation; in sknn they
are the ``dropout`` and ``normalization`` parameters.
"""

# %%
# A problem that invites over-fitting
# -----------------------------------
# 300 samples, 40 features of which only 5 are informative, and a network of
# two hidden layers of 256 units. ``early_stopping=True`` holds out 30% of the
# training rows and records the validation loss per epoch;
# ``n_iter_no_change=np.inf`` keeps training past the best epoch so that the
# over-fitting shows (the best weights are still the ones kept).
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sknn import TorchMLPClassifier

QUICK = os.environ.get("SKNN_EXAMPLE_QUICK") == "1"
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_classification(n_samples=400, n_features=40, n_informative=5, n_redundant=5,
                           flip_y=0.1, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=100, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

variants = {
    "no regularisation": {},
    "dropout=0.5": {"dropout": 0.5},
    "batch normalisation": {"normalization": "batch"},
    "batch norm + dropout": {"normalization": "batch", "dropout": 0.5},
}
results = {}
for name, params in variants.items():
    clf = TorchMLPClassifier(
        hidden_layer_sizes=(256, 256),
        alpha=0.0,
        batch_size=32,
        max_iter=25 if QUICK else 100,
        early_stopping=True,
        validation_fraction=0.3,
        n_iter_no_change=np.inf,
        random_state=0,
        **params,
    ).fit(X_train, y_train)
    results[name] = clf
    best = int(np.argmax(clf.validation_scores_)) + 1
    print(f"{name:>20}: best epoch {best:3d}, test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# Training versus validation loss
# -------------------------------
# The training loss is averaged over the epoch's batches, with dropout active,
# so it is higher with dropout than the network's loss in evaluation mode.
# Without regularisation the gap between the curves opens fastest.
fig, axes = plt.subplots(1, len(results), figsize=(14, 3.8), sharey=True)
for ax, (name, clf) in zip(axes, results.items()):
    epochs = [h["epoch"] for h in clf.history_]
    ax.plot(epochs, [h["loss"] for h in clf.history_], label="training")
    ax.plot(epochs, [h["val_loss"] for h in clf.history_], label="validation")
    ax.set(title=name, xlabel="epoch", yscale="log")
axes[0].set_ylabel("loss")
axes[0].legend()
fig.tight_layout()
plt.show()
