"""
=========================================================
Estimating accuracy: k-fold, leave-one-out and bootstrap
=========================================================

A single hold-out split gives one noisy number. The lecture compares three
resampling schemes on iris: k-fold cross-validation, leave-one-out and the
bootstrap with :func:`sklearn.utils.resample`. Because
:class:`~sknn.TorchMLPClassifier` is a scikit-learn estimator, the first two
are one call to :func:`~sklearn.model_selection.cross_val_score`, and the
bootstrap is a short loop with :func:`~sklearn.base.clone`.
"""

# %%
# The model
# ---------
# A small network trained with L-BFGS, which converges in a few dozen
# iterations on a data set this size. The scaler sits in the pipeline so that
# every split standardises with its own training rows only.
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, LeaveOneOut, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import resample

from sknn import TorchMLPClassifier

QUICK = os.environ.get("SKNN_EXAMPLE_QUICK") == "1"
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_iris(return_X_y=True)
if QUICK:
    # Every third flower: leave-one-out then needs 50 fits instead of 150.
    X, y = X[::3], y[::3]
model = make_pipeline(
    StandardScaler(),
    TorchMLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=200, random_state=0),
)

# %%
# k-fold cross-validation
# -----------------------
kfold_scores = cross_val_score(model, X, y, cv=KFold(n_splits=5, shuffle=True, random_state=0))
print(f"5-fold:        {kfold_scores.mean():.3f} +/- {kfold_scores.std():.3f}")

# %%
# Leave-one-out
# -------------
# One fit per sample; each score is 0 or 1, their mean is the estimate.
loo_scores = cross_val_score(model, X, y, cv=LeaveOneOut())
print(f"leave-one-out: {loo_scores.mean():.3f} over {len(loo_scores)} fits")

# %%
# Bootstrap
# ---------
# Draw n samples with replacement to train on, and score on the samples that
# were not drawn (the "out-of-bag" samples, about 37% of the data).
n_rounds = 10 if QUICK else 50
rng = np.random.RandomState(0)
indices = np.arange(len(y))
boot_scores = []
for _ in range(n_rounds):
    train = resample(indices, replace=True, n_samples=len(y), random_state=rng)
    test = np.setdiff1d(indices, train)
    boot_scores.append(clone(model).fit(X[train], y[train]).score(X[test], y[test]))
boot_scores = np.array(boot_scores)
print(f"bootstrap:     {boot_scores.mean():.3f} +/- {boot_scores.std():.3f} over {n_rounds} rounds")

# %%
# Comparison
# ----------
# The three schemes agree on the mean; they differ in how many fits they cost
# and in the spread of the individual scores.
fig, ax = plt.subplots(figsize=(6, 4))
ax.boxplot([kfold_scores, boot_scores], showmeans=True)
ax.set_xticks([1, 2], ["5-fold (per fold)", f"bootstrap ({n_rounds} rounds)"])
ax.axhline(loo_scores.mean(), color="C2", linestyle="--", label="leave-one-out mean")
ax.set_ylabel("accuracy")
ax.legend(loc="lower left")
ax.set_title("iris: accuracy estimates")
plt.show()
