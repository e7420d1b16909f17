"""
===========================
Learning-rate schedulers
===========================

The lecture builds ``StepLR``, ``MultiStepLR`` and ``ExponentialLR`` around a
training loop and plots the learning rate per epoch. In sknn the scheduler is
the ``lr_scheduler`` parameter (see the ``lr_scheduler`` table of
:ref:`options`), its arguments go in ``lr_scheduler_kwargs``, and the learning
rate used in every epoch is recorded in ``history_``.
"""

# %%
# Fitting with each scheduler
# ---------------------------
# SGD with momentum, starting at 0.1. ``n_iter_no_change=np.inf`` keeps every
# run going for ``max_iter`` epochs so that whole schedules are visible. With
# ``early_stopping=True`` the 'plateau' scheduler watches the validation
# accuracy (the training loss otherwise).
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sknn import TorchMLPClassifier

QUICK = os.environ.get("SKNN_EXAMPLE_QUICK") == "1"
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_classification(n_samples=300 if QUICK else 1000, n_features=20, n_informative=10,
                           n_classes=3, random_state=0)
X = StandardScaler().fit_transform(X)
max_iter = 20 if QUICK else 60

schedulers = {
    "None (constant)": (None, None),
    "step": ("step", {"step_size": max_iter // 4, "gamma": 0.5}),
    "multistep": ("multistep", {"milestones": [max_iter // 4, max_iter // 2], "gamma": 0.2}),
    "exponential": ("exponential", {"gamma": 0.9}),
    "cosine": ("cosine", None),
    "plateau": ("plateau", {"patience": 2, "factor": 0.5}),
    "onecycle": ("onecycle", None),
}
results = {}
for name, (scheduler, kwargs) in schedulers.items():
    results[name] = TorchMLPClassifier(
        hidden_layer_sizes=(32,),
        solver="sgd",
        learning_rate_init=0.1,
        batch_size=32,
        max_iter=max_iter,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=np.inf,
        lr_scheduler=scheduler,
        lr_scheduler_kwargs=kwargs,
        random_state=0,
    ).fit(X, y)
    print(f"{name:>16}: final lr {results[name].history_[-1]['lr']:.2e}, "
          f"final loss {results[name].loss_:.4f}")

# %%
# The recorded learning rate and loss
# -----------------------------------
# ``history_[i]["lr"]`` is the learning rate used in epoch ``i + 1``. The
# one-cycle policy changes it after every batch; the value recorded is the one
# at the start of the epoch.
fig, (ax_lr, ax_loss) = plt.subplots(1, 2, figsize=(11, 4.5))
for name, clf in results.items():
    epochs = [h["epoch"] for h in clf.history_]
    ax_lr.plot(epochs, [h["lr"] for h in clf.history_], label=name)
    ax_loss.plot(epochs, [h["loss"] for h in clf.history_], label=name)
ax_lr.set(xlabel="epoch", ylabel="learning rate", title="learning rate per epoch")
ax_loss.set(xlabel="epoch", ylabel="training loss", yscale="log", title="training loss")
ax_lr.legend(fontsize="small")
fig.tight_layout()
plt.show()
