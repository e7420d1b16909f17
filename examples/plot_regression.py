"""
==========================================
Regression: TorchMLPRegressor and losses
==========================================

For regression the output layer has no activation and the lecture's loss is
the mean squared error; it also introduces the L1 loss and the smooth L1
(Huber) loss, which are less sensitive to outliers. Here
:class:`~sknn.TorchMLPRegressor` is compared with scikit-learn's
:class:`~sklearn.neural_network.MLPRegressor` on the diabetes data, with each
``loss``, on clean targets and on targets with outliers.
"""

# %%
# Data
# ----
# Targets range from 25 to 346. Scaling them to about unit variance, with
# :class:`~sklearn.compose.TransformedTargetRegressor` and fixed constants
# (a fitted scaler would be thrown off by the outliers below), lets the default
# learning rate work; the ``huber`` loss's ``huber_delta=1.0`` is then about
# one standard deviation of the clean target.
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import TorchMLPRegressor

QUICK = os.environ.get("SKNN_EXAMPLE_QUICK") == "1"
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

# The same data with 10% of the training targets replaced by wild values.
rng = np.random.RandomState(0)
y_outliers = y_train.copy()
bad = rng.choice(len(y_train), size=len(y_train) // 10, replace=False)
y_outliers[bad] = rng.uniform(600, 1000, size=len(bad))


def scale(y):
    return (y - 150.0) / 75.0


def unscale(y):
    return y * 75.0 + 150.0


def make(regressor):
    return TransformedTargetRegressor(
        regressor=make_pipeline(StandardScaler(), regressor), func=scale, inverse_func=unscale
    )


common = dict(hidden_layer_sizes=(32, 16), alpha=1e-3, batch_size=32,
              max_iter=40 if QUICK else 60, random_state=0)
models = {
    "MLPRegressor": MLPRegressor(**common),
    "squared_error": TorchMLPRegressor(loss="squared_error", **common),
    "absolute_error": TorchMLPRegressor(loss="absolute_error", **common),
    "huber": TorchMLPRegressor(loss="huber", huber_delta=1.0, **common),
}

# %%
# Fit and score
# -------------
scores = {}
predictions = {}
for targets, y_fit in [("clean", y_train), ("10% outliers", y_outliers)]:
    for name, regressor in models.items():
        model = make(regressor).fit(X_train, y_fit)
        y_pred = model.predict(X_test)
        predictions[targets, name] = y_pred
        scores[targets, name] = r2_score(y_test, y_pred)
        print(f"{targets:>13} {name:>15}: test R^2 {scores[targets, name]:6.3f}, "
              f"MAE {mean_absolute_error(y_test, y_pred):6.1f}")

# %%
# With clean targets the losses give similar models, and sknn's squared error
# behaves like ``MLPRegressor``. The outliers drag the squared-error models'
# predictions up; the absolute and Huber losses largely ignore them.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharex=True, sharey=True)
for ax, targets in zip(axes, ["clean", "10% outliers"]):
    for name in models:
        ax.scatter(y_test, predictions[targets, name], s=10,
                   label=f"{name} (R^2 {scores[targets, name]:.2f})")
    ax.plot([25, 350], [25, 350], color="k", lw=1)
    ax.set(title=f"{targets} training targets", xlabel="true")
axes[0].set_ylabel("predicted")
for ax in axes:
    ax.legend(fontsize="small")
fig.tight_layout()
plt.show()
