"""
===========================================
Drop-in: the same training as MLPClassifier
===========================================

The course's first network is scikit-learn's ``MLPClassifier``; the ones
after it are PyTorch loops. :class:`~sknn.TorchMLPClassifier` takes
``MLPClassifier``'s parameters and, in float64, trains as it does: the same
initial weights, batches, Adam updates and stopping rule, so the two loss
curves agree to round-off. Its default float32 training follows the same
path closely. ``solver=torch.optim.Adam`` shows the one place where PyTorch's
Adam differs from scikit-learn's: where it adds ``epsilon``.
"""

# %%
# Four fits of one network
# ------------------------
# The breast cancer data, standardised on the training rows; one hidden layer
# of 64 ReLU units, Adam, batches of 200, the same ``random_state``.
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sknn import TorchMLPClassifier

QUICK = os.environ.get("SKNN_EXAMPLE_QUICK") == "1"

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

params = dict(hidden_layer_sizes=(64,), max_iter=30 if QUICK else 200, random_state=0)
models = {
    "MLPClassifier": MLPClassifier(**params),
    "sknn, float64": TorchMLPClassifier(**params, compute_dtype="float64"),
    "sknn, float32 (default)": TorchMLPClassifier(**params),
    "sknn, float64, PyTorch's Adam": TorchMLPClassifier(
        **params, compute_dtype="float64", solver=torch.optim.Adam
    ),
}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter ends every fit here
    for model in models.values():
        model.fit(X_train, y_train)

reference = np.asarray(models["MLPClassifier"].loss_curve_)
print(f"{'':31s} epochs  final loss  test acc  max |loss - MLPClassifier's|")
for name, model in models.items():
    gap = np.abs(np.asarray(model.loss_curve_) - reference).max()
    print(f"{name:31s} {model.n_iter_:6d}  {model.loss_:10.6f}  "
          f"{model.score(X_test, y_test):8.3f}  {gap:.1e}")

# %%
# How far apart the curves are
# ----------------------------
# On the left the loss curves, which lie on top of each other. On the right
# their distance from ``MLPClassifier``'s, epoch by epoch (shown at 1e-17
# where it is zero): sknn in float64 stays at round-off; float32 training
# keeps float32's precision; PyTorch's Adam moves away in the first steps,
# while the second-moment estimate is still small next to ``epsilon``, and the
# fit then follows a path of its own.
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
styles = {"MLPClassifier": "-", "sknn, float64": "--"}
for (name, model), color in zip(models.items(), ["C0", "C1", "C2", "C3"]):
    curve = np.asarray(model.loss_curve_)
    left.plot(curve, styles.get(name, ":"), color=color, label=name)
    if name != "MLPClassifier":
        right.semilogy(np.maximum(np.abs(curve - reference), 1e-17), color=color, label=name)
left.set(xlabel="epoch", ylabel="training loss", yscale="log", title="Loss curves")
left.legend()
right.set(xlabel="epoch", ylabel="|loss - MLPClassifier's loss|",
          title="Distance from MLPClassifier")
right.legend()
fig.tight_layout()
plt.show()
