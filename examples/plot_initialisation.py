"""
===========================
Weight initialisation
===========================

The lecture initialises ``nn.Linear`` weights by hand with ``nn.init``:
uniform, normal, zeros, ones, constant, Kaiming and Xavier. In sknn the
scheme is the ``init`` parameter (see the ``init`` table of :ref:`options`);
``init="sklearn"`` reproduces scikit-learn's initial weights exactly. This
example shows the initial weight distributions and how the scheme affects
training.
"""

# %%
# Initial weights
# ---------------
# :class:`~sknn.MLPModule` is the network the estimators train; built on its
# own, it shows what each scheme draws for the first layer (64 inputs, 64
# hidden units).
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sknn import MLPModule, TorchMLPClassifier

QUICK = os.environ.get("SKNN_EXAMPLE_QUICK") == "1"
warnings.filterwarnings("ignore", category=ConvergenceWarning)

schemes = ["sklearn", "pytorch", "xavier_uniform", "xavier_normal", "kaiming_uniform",
           "kaiming_normal"]
fig, axes = plt.subplots(2, 3, figsize=(10, 5.5), sharex=True)
for ax, init in zip(axes.ravel(), schemes):
    net = MLPModule(64, (64,), 10, activation="relu", init=init, random_state=0)
    weights = net.linear_layers()[0].weight.detach().numpy().ravel()
    ax.hist(weights, bins=40, color="C0")
    ax.set_title(f"{init}\nstd {weights.std():.3f}", fontsize="small")
fig.suptitle("first-layer weights, 64 -> 64, relu")
fig.tight_layout()
plt.show()

# %%
# Training from each starting point
# ---------------------------------
# Handwritten digits, one hidden layer of 64 ReLU units, plain SGD with
# momentum. The constant schemes start every hidden unit with the same
# weights; the units then receive the same gradient and stay identical, so the
# network has in effect a single hidden unit.
X, y = load_digits(return_X_y=True)
if QUICK:
    X, y = X[:600], y[:600]
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

settings = {
    "sklearn": {},
    "pytorch": {},
    "xavier_uniform": {},
    "kaiming_normal": {},
    "normal": {"std": 0.01},
    "uniform": {"a": -0.1, "b": 0.1},
    "zeros": {},
    "constant": {"val": 0.1},
}
results = {}
for init, init_kwargs in settings.items():
    clf = TorchMLPClassifier(
        hidden_layer_sizes=(64,),
        solver="sgd",
        learning_rate_init=0.01,
        batch_size=32,
        max_iter=15 if QUICK else 60,
        n_iter_no_change=np.inf,
        init=init,
        init_kwargs=init_kwargs,
        random_state=0,
    ).fit(X_train, y_train)
    results[init] = clf
    print(f"{init:>15} {init_kwargs!s:>24}: test accuracy {clf.score(X_test, y_test):.3f}")

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
for init, clf in results.items():
    ax.plot(clf.loss_curve_, label=init)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_yscale("log")
ax.legend(ncol=2)
ax.set_title("digits: training loss per initialisation")
plt.show()
