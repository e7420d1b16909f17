"""
==========================================
XOR: a hidden layer versus a linear model
==========================================

XOR is the classic problem a linear model cannot solve: the two classes sit
on opposite corners of a square, so no straight line separates them. One
hidden layer is enough. The lecture solves it with scikit-learn's
``MLPClassifier``; :class:`~sknn.TorchMLPClassifier` is a drop-in
replacement.
"""

# %%
# The four points of the truth table
# ----------------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.linear_model import LogisticRegression

from sknn import TorchMLPClassifier

QUICK = os.environ.get("SKNN_EXAMPLE_QUICK") == "1"

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
y = np.array([0, 1, 1, 0])

linear = LogisticRegression().fit(X, y)
mlp = TorchMLPClassifier(
    hidden_layer_sizes=(4,), activation="tanh", solver="lbfgs", random_state=1
).fit(X, y)
print("inputs            ", X.tolist())
print("target            ", y.tolist())
print("logistic regression", linear.predict(X).tolist())
print("MLP, 4 tanh units  ", mlp.predict(X).tolist())

# %%
# A noisy XOR cloud
# -----------------
# With noise around the four corners the decision boundaries become visible:
# the linear model draws one line and gets about half of the points right,
# the MLP bends its boundary around the corners.
rng = np.random.RandomState(0)
n = 100 if QUICK else 400
X_cloud = rng.uniform(-1, 1, size=(n, 2))
y_cloud = np.logical_xor(X_cloud[:, 0] > 0, X_cloud[:, 1] > 0).astype(int)

models = {
    "logistic regression": LogisticRegression(),
    # L-BFGS needs more than the default 200 iterations to settle on the
    # noisy corners (the lecture gives it 10 000).
    "TorchMLPClassifier (8,)": TorchMLPClassifier(
        hidden_layer_sizes=(8,), activation="tanh", solver="lbfgs", max_iter=2000,
        random_state=0
    ),
}
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, (name, model) in zip(axes, models.items()):
    model.fit(X_cloud, y_cloud)
    DecisionBoundaryDisplay.from_estimator(
        model, X_cloud, response_method="predict", cmap="coolwarm", alpha=0.3, ax=ax
    )
    ax.scatter(X_cloud[:, 0], X_cloud[:, 1], c=y_cloud, cmap="coolwarm", s=12, edgecolor="k")
    ax.set_title(f"{name}\ntraining accuracy {model.score(X_cloud, y_cloud):.2f}")
fig.tight_layout()
plt.show()
