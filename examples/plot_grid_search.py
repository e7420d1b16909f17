"""
=====================================
Grid search over sknn's options
=====================================

sknn's options are ordinary constructor parameters, so
:class:`~sklearn.model_selection.GridSearchCV` tunes them like any other: here
the activation, the optimizer and dropout, next to a search
over scikit-learn's :class:`~sklearn.neural_network.MLPClassifier` as the
baseline.
"""

# %%
# Data and pipelines
# ------------------
import os
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sknn import TorchMLPClassifier

QUICK = os.environ.get("SKNN_EXAMPLE_QUICK") == "1"
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
if QUICK:
    X, y = X[:500], y[:500]
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

common = dict(hidden_layer_sizes=(64,), batch_size=64, max_iter=10 if QUICK else 40,
              random_state=0)
torch_search = GridSearchCV(
    Pipeline([("scale", StandardScaler()), ("mlp", TorchMLPClassifier(**common))]),
    param_grid={
        "mlp__activation": ["relu", "gelu"] if QUICK else ["relu", "tanh", "gelu"],
        "mlp__solver": ["adam", "rmsprop"],
        "mlp__dropout": [0.0, 0.2],
    },
    cv=3,
)
sklearn_search = GridSearchCV(
    Pipeline([("scale", StandardScaler()), ("mlp", MLPClassifier(**common))]),
    param_grid={
        "mlp__activation": ["relu", "tanh"],
        "mlp__solver": ["adam", "sgd"],
        "mlp__alpha": [1e-4] if QUICK else [1e-4, 1e-2],
    },
    cv=3,
)

# %%
# Search
# ------
# ``n_jobs`` would run the candidates in parallel processes; with several
# cores set ``n_jobs`` and each process trains its own network.
for name, search in [("TorchMLPClassifier", torch_search), ("MLPClassifier", sklearn_search)]:
    search.fit(X_train, y_train)
    print(f"{name}: best CV accuracy {search.best_score_:.3f}, "
          f"test accuracy {search.score(X_test, y_test):.3f}")
    print("    best parameters:", search.best_params_)

# %%
# All candidates
# --------------
results = pd.DataFrame(torch_search.cv_results_)
params = [c for c in results if c.startswith("param_")]
table = results[params + ["mean_test_score", "std_test_score", "mean_fit_time"]]
table = table.rename(columns=lambda c: c.removeprefix("param_mlp__")).sort_values(
    "mean_test_score", ascending=False
)
table.head(10)

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for name, search in [("TorchMLPClassifier", torch_search), ("MLPClassifier", sklearn_search)]:
    scores = sorted(search.cv_results_["mean_test_score"], reverse=True)
    ax.plot(range(1, len(scores) + 1), scores, marker="o", label=name)
ax.set(xlabel="candidate (sorted)", ylabel="mean CV accuracy", title="digits: grid search")
ax.legend()
plt.show()
