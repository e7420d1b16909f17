"""
==========================
Comparing activations
==========================

The lecture plots sigmoid, tanh, ReLU and its variants and discusses which
to use in hidden layers. Here each one trains the same network on the same
data, and the loss curves and test accuracies are compared. Any name in the
``activation`` table of :ref:`options` works; scikit-learn's
``MLPClassifier`` knows only four of them.
"""

# %%
# The shapes
# ----------
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sknn import TorchMLPClassifier

QUICK = os.environ.get("SKNN_EXAMPLE_QUICK") == "1"
warnings.filterwarnings("ignore", category=ConvergenceWarning)

x = torch.linspace(-4, 4, 200)
shapes = {
    "logistic": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu (0.1)": lambda t: torch.nn.functional.leaky_relu(t, 0.1),
    "elu": torch.nn.functional.elu,
    "gelu": torch.nn.functional.gelu,
}
fig, ax = plt.subplots(figsize=(6, 4))
for name, f in shapes.items():
    ax.plot(x, f(x), label=name)
ax.axhline(0, color="grey", lw=0.5)
ax.axvline(0, color="grey", lw=0.5)
ax.legend()
ax.set_title("hidden-layer activations")
plt.show()

# %%
# Training with each activation
# -----------------------------
# Two interleaved half-moons with noise; two hidden layers of 16 units; Adam.
# ``n_iter_no_change=np.inf`` switches the stopping rule off, so every network
# trains for the same number of epochs.
X, y = make_moons(n_samples=300 if QUICK else 1000, noise=0.3, random_state=0)
X = StandardScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

activations = (
    ["identity", "logistic", "tanh", "relu", "elu", "gelu"]
    if QUICK
    else ["identity", "logistic", "tanh", "relu", "leaky_relu", "prelu", "rrelu", "elu",
          "selu", "celu", "gelu", "silu", "mish", "softplus", "softsign"]
)
results = {}
for activation in activations:
    clf = TorchMLPClassifier(
        hidden_layer_sizes=(16, 16),
        activation=activation,
        learning_rate_init=0.01,
        batch_size=32,
        max_iter=30 if QUICK else 150,
        n_iter_no_change=np.inf,
        random_state=0,
    ).fit(X_train, y_train)
    results[activation] = clf
    print(f"{activation:>10}: test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# Loss curves and test accuracy
# -----------------------------
# ``identity`` makes the whole network linear, so it cannot fit the moons;
# the smooth and the piecewise-linear activations end up close to each other.
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4.5))
for activation, clf in results.items():
    ax_loss.plot(clf.loss_curve_, label=activation)
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("training loss")
ax_loss.set_yscale("log")
ax_loss.legend(ncol=2, fontsize="small")
scores = [clf.score(X_test, y_test) for clf in results.values()]
ax_acc.barh(list(results), scores, color="C0")
ax_acc.set_xlim(min(scores) - 0.05, 1)
ax_acc.set_xlabel("test accuracy")
fig.tight_layout()
plt.show()
