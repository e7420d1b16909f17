"""
=====================
Comparing optimizers
=====================

The lecture moves from plain gradient descent to momentum, AdaGrad, RMSProp
and Adam, calling ``torch.optim`` directly. In sknn the optimizer is the
``solver`` parameter: scikit-learn's three names plus every ``torch.optim``
optimizer in the ``solver`` table of :ref:`options`. Optimizer-specific
arguments go in ``optimizer_kwargs``.
"""

# %%
# Data and settings
# -----------------
# Handwritten digits, standardised; one hidden layer of 64 units.
# ``early_stopping=True`` holds out 10% of the training rows to record a
# validation accuracy per epoch, and ``n_iter_no_change=np.inf`` keeps every
# run going for the same number of epochs.
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sknn import TorchMLPClassifier

QUICK = os.environ.get("SKNN_EXAMPLE_QUICK") == "1"
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
if QUICK:
    X, y = X[:600], y[:600]
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# Each optimizer with a learning rate in its usual range.
optimizers = {
    "SGD": dict(solver="sgd", momentum=0.0, learning_rate_init=0.01),
    "SGD + momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False,
                           learning_rate_init=0.01),
    "AdaGrad": dict(solver="adagrad", learning_rate_init=0.01),
    "RMSProp": dict(solver="rmsprop", learning_rate_init=0.001,
                    optimizer_kwargs={"alpha": 0.9}),
    "Adam": dict(solver="adam", learning_rate_init=0.001),
}
if not QUICK:
    optimizers.update({
        "AdamW": dict(solver="adamw", learning_rate_init=0.001),
        "NAdam": dict(solver="nadam", learning_rate_init=0.001),
        "Adadelta": dict(solver="adadelta", learning_rate_init=1.0),
    })

# %%
# Training
# --------
results = {}
for name, params in optimizers.items():
    clf = TorchMLPClassifier(
        hidden_layer_sizes=(64,),
        batch_size=32,
        max_iter=15 if QUICK else 60,
        early_stopping=True,
        n_iter_no_change=np.inf,
        random_state=0,
        **params,
    ).fit(X_train, y_train)
    results[name] = clf
    print(f"{name:>15}: test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# Curves
# ------
# Adaptive methods (AdaGrad, RMSProp, Adam) make fast progress early; plain SGD
# with a small learning rate is the slowest, and momentum speeds it up.
fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(11, 4.5))
for name, clf in results.items():
    epochs = [h["epoch"] for h in clf.history_]
    ax_loss.plot(epochs, [h["loss"] for h in clf.history_], label=name)
    ax_val.plot(epochs, [h["val_score"] for h in clf.history_], label=name)
ax_loss.set_yscale("log")
ax_loss.set(xlabel="epoch", ylabel="training loss")
ax_val.set(xlabel="epoch", ylabel="validation accuracy")
ax_loss.legend()
fig.tight_layout()
plt.show()
