"""
=====================================
Using MLPModule with skorch
=====================================

:class:`~sknn.MLPModule` is the plain ``torch.nn.Module`` inside sknn's
estimators. It knows nothing about scikit-learn, so it also serves as the
``module`` of a `skorch <https://skorch.readthedocs.io>`_ net, when you want
skorch's callbacks and training loop with sknn's activations, initialisations,
dropout and normalisation. The example needs skorch
(``pip install skorch``) and only prints a message without it.
"""

# %%
# A skorch classifier around MLPModule
# ------------------------------------
# The module returns raw scores (logits), so the criterion is
# ``CrossEntropyLoss``; ``module__*`` arguments go to
# :class:`~sknn.MLPModule`.
import importlib.util
import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_iris
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sknn import MLPModule

QUICK = os.environ.get("SKNN_EXAMPLE_QUICK") == "1"
HAVE_SKORCH = importlib.util.find_spec("skorch") is not None
if not HAVE_SKORCH:
    print("skorch is not installed (pip install skorch); skipping this example.")

X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X).astype(np.float32)
y = y.astype(np.int64)

if HAVE_SKORCH:
    from skorch import NeuralNetClassifier

    net = NeuralNetClassifier(
        MLPModule,
        module__n_features=4,
        module__hidden_layer_sizes=(16,),
        module__n_outputs=3,
        module__activation="gelu",
        module__init="kaiming_uniform",
        module__dropout=0.1,
        module__random_state=0,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=20 if QUICK else 100,
        batch_size=16,
        verbose=0,
    )
    net.fit(X, y)
    print("training accuracy:", net.score(X, y))

# %%
# skorch's history
# ----------------
# skorch holds out 20% of the data by default and records both losses.
if HAVE_SKORCH:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(net.history[:, "train_loss"], label="training loss")
    ax.plot(net.history[:, "valid_loss"], label="validation loss")
    ax.set(xlabel="epoch", ylabel="cross entropy", title="skorch + MLPModule on iris")
    ax.legend()
    plt.show()

# %%
# It is a scikit-learn estimator
# ------------------------------
# As with sknn's own estimators, skorch nets go into pipelines and
# cross-validation; skorch needs float32 features.
if HAVE_SKORCH:
    pipe = make_pipeline(FunctionTransformer(lambda a: a.astype(np.float32)), net)
    scores = cross_val_score(pipe, X, y, cv=3)
    print(f"3-fold accuracy: {scores.mean():.3f} +/- {scores.std():.3f}")
