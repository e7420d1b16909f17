"""Cross-validated comparison of sknn's MLPs with scikit-learn's.

This is the engine behind ``python -m sknn compare`` (see :mod:`sknn.__main__`).
It cross-validates ``TorchMLPClassifier``/``TorchMLPRegressor``
and sklearn's ``MLPClassifier``/``MLPRegressor`` with the same hyper-parameters
on the same folds, and formats the results as a table, JSON or a bar chart.
Data loading lives in :mod:`sknn._compare_data`.
"""

import json
import os
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import _safe_indexing

from ._classifier import TorchMLPClassifier
from ._compare_data import (
    BUILTIN_DATASETS,
    DEFAULT_DATASETS,
    CompareError,
    Dataset,
    _check_folds,
    infer_task,
    load_dataset,
    parse_hidden,
)
from ._regressor import TorchMLPRegressor

__all__ = [
    "BUILTIN_DATASETS",
    "DEFAULT_DATASETS",
    "CompareError",
    "Dataset",
    "format_table",
    "infer_task",
    "load_dataset",
    "parse_hidden",
    "plot_results",
    "run_comparison",
    "to_json",
]

# sklearn's MLPs only know these; other sknn options get no sklearn baseline.
SKLEARN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
SKLEARN_SOLVERS = ("lbfgs", "sgd", "adam")

# Scorer name -> (column label, sign). Error scorers are negated by sklearn
# ("greater is better"), so the sign turns them back into plain errors.
SCORING = {
    "classification": {
        "accuracy": ("accuracy", 1),
        "f1_macro": ("f1_macro", 1),
    },
    "regression": {
        "r2": ("r2", 1),
        "neg_mean_absolute_error": ("mae", -1),
        "neg_root_mean_squared_error": ("rmse", -1),
    },
}

# --------------------------------------------------------------------------
# Cross-validation
# --------------------------------------------------------------------------


def _preprocessor(data):
    if not data.categorical:
        return StandardScaler()
    numeric = [c for c in data.X.columns if c not in data.categorical]
    return ColumnTransformer(
        [
            ("num", StandardScaler(), numeric),
            # Dense output: the torch estimators take dense arrays; ignore
            # categories met only in a test fold instead of failing on them.
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), data.categorical),
        ]
    )


def _make_models(task, params, device):
    """Return ``[(name, estimator or None, note)]``: sknn first, sklearn second."""
    if task == "classification":
        torch_cls, sk_cls = TorchMLPClassifier, MLPClassifier
    else:
        torch_cls, sk_cls = TorchMLPRegressor, MLPRegressor
    models = [(f"sknn.{torch_cls.__name__}", torch_cls(**params, device=device), None)]
    name = f"sklearn.{sk_cls.__name__}"
    if params["activation"] not in SKLEARN_ACTIVATIONS:
        models.append((name, None, f"activation {params['activation']!r} not in sklearn"))
    elif params["solver"] not in SKLEARN_SOLVERS:
        models.append((name, None, f"solver {params['solver']!r} not in sklearn"))
    else:
        models.append((name, sk_cls(**params), None))
    return models


def _jsonable(value):
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def _cross_validate(estimator, data, splitter, scoring):
    pipe = make_pipeline(_preprocessor(data), estimator)
    # Short --max-iter runs warn once per fold; count the warnings for a
    # footnote instead of burying the table under them.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        # An untimed one-epoch fit first: torch initialises lazily (optimizer
        # and autograd machinery on first use), seconds that would otherwise
        # be charged to the first fold's fit time.
        warm_up = clone(estimator).set_params(max_iter=1)
        make_pipeline(_preprocessor(data), warm_up).fit(data.X, data.y)
        del caught[:]
        cv = cross_validate(
            pipe, data.X, data.y, cv=splitter, scoring=scoring,
            return_train_score=False, error_score="raise",
            return_estimator=True, return_indices=True,
        )
    cv["predict_time"] = _predict_times(cv, data.X)
    n_convergence = 0
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            n_convergence += 1
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return cv, n_convergence


def _predict_times(cv, X, repeats=3):
    """Seconds of each fold's ``predict`` on its test rows, preprocessing included.

    cross_validate's ``score_time`` also counts every scorer's own input
    checks (several times the prediction of a small test fold), so the
    column it fed read as if sknn predicted slower than scikit-learn when it
    predicts faster. Fastest of ``repeats`` calls per fold.
    """
    times = []
    for pipe, rows in zip(cv["estimator"], cv["indices"]["test"]):
        X_test = _safe_indexing(X, rows)
        best = np.inf
        for _ in range(repeats):
            start = time.perf_counter()
            pipe.predict(X_test)
            best = min(best, time.perf_counter() - start)
        times.append(best)
    return np.asarray(times)


def run_comparison(data, params, cv=5, device="auto"):
    """Cross-validate sknn's and sklearn's MLP on one data set.

    Both models get the same preprocessing (standard scaling, one-hot encoding
    of categorical columns), hyper-parameters and folds.

    Parameters
    ----------
    data : Dataset
    params : dict
        Constructor parameters shared by both estimators.
    cv : int, default=5
        Number of folds; shuffled with ``params["random_state"]`` (or 0) so
        that reruns and both models see the same split.
    device : str, default="auto"
        Torch device, for the sknn estimator only.

    Returns
    -------
    dict
        JSON-ready: ``dataset``, ``task``, ``n_samples``, ``n_features``,
        ``cv``, ``metrics`` and ``models``, a list with, per model, ``name``,
        ``params``, per-fold ``scores``, ``mean``, ``std``, ``fit_time``,
        ``predict_time`` (per fold: the fitted pipeline's ``predict`` on the
        fold's test rows, fastest of 3), ``mean_fit_time``,
        ``mean_predict_time`` and ``convergence_warnings``; or ``skipped``
        with a reason.

    Raises
    ------
    CompareError
        For too few rows for the folds, or parameters an estimator rejects.
    """
    _check_folds(data, cv)
    seed = params.get("random_state")
    seed = 0 if seed is None else seed
    splitter_cls = StratifiedKFold if data.task == "classification" else KFold
    splitter = splitter_cls(n_splits=cv, shuffle=True, random_state=seed)
    scoring_spec = SCORING[data.task]
    scoring = {label: scorer for scorer, (label, _) in scoring_spec.items()}
    signs = {label: sign for label, sign in scoring_spec.values()}

    result = {
        "dataset": data.name,
        "task": data.task,
        "task_inferred": data.task_inferred,
        "n_samples": int(data.n_samples),
        "n_features": int(data.n_features),
        "categorical_features": [str(c) for c in data.categorical],
        "cv": cv,
        "metrics": list(scoring),
        "params": _jsonable(params),
        "models": [],
    }
    for name, estimator, note in _make_models(data.task, params, device):
        if estimator is None:
            result["models"].append({"name": name, "skipped": note})
            continue
        try:
            scores, n_warn = _cross_validate(estimator, data, splitter, scoring)
        except ValueError as exc:
            # Mostly a parameter the estimator rejects (e.g. an unknown
            # activation or device); report it like any other bad input.
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CompareError(f"{name} on {data.name}: {msg}") from exc
        per_fold = {m: (signs[m] * scores[f"test_{m}"]).tolist() for m in scoring}
        result["models"].append({
            "name": name,
            "params": _jsonable(estimator.get_params()),
            "scores": per_fold,
            "mean": {m: float(np.mean(v)) for m, v in per_fold.items()},
            "std": {m: float(np.std(v)) for m, v in per_fold.items()},
            "fit_time": scores["fit_time"].tolist(),
            "predict_time": scores["predict_time"].tolist(),
            "mean_fit_time": float(np.mean(scores["fit_time"])),
            "mean_predict_time": float(np.mean(scores["predict_time"])),
            "convergence_warnings": n_warn,
        })
    return result


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def format_table(result):
    """Format one :func:`run_comparison` result as a plain-text table.

    Parameters
    ----------
    result : dict

    Returns
    -------
    str
    """
    task = result["task"] + (" (inferred; see --task)" if result.get("task_inferred") else "")
    params = ", ".join(
        # Lists come from JSON-ready tuples; show them the way --hidden takes them.
        f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in result.get("params", {}).items()
    )
    lines = [
        (
            f"{result['dataset']}: {task}, {result['n_samples']} samples, "
            f"{result['n_features']} features, {result['cv']}-fold CV"
        ),
    ]
    if params:
        lines.append(f"params: {params}")

    header = ["model", *result["metrics"], "fit (s)", "predict (ms)"]
    rows, notes = [], []
    for model in result["models"]:
        if "skipped" in model:
            rows.append([model["name"], f"skipped: {model['skipped']}"])
            continue
        rows.append([
            model["name"],
            *(f"{model['mean'][m]:.4f} ± {model['std'][m]:.4f}" for m in result["metrics"]),
            f"{model['mean_fit_time']:.3f}",
            f"{model['mean_predict_time'] * 1e3:.3f}",
        ])
        if model["convergence_warnings"]:
            notes.append(
                f"note: {model['name']} reached max_iter without converging in "
                f"{model['convergence_warnings']} of {result['cv']} folds"
            )
    # Skipped rows hold one free-text cell and do not set column widths.
    full = [header] + [r for r in rows if len(r) == len(header)]
    widths = [max(len(r[i]) for r in full) for i in range(len(header))]

    def fmt(row):
        if len(row) != len(header):
            return f"{row[0]:<{widths[0]}}  {row[1]}"
        cells = [f"{row[0]:<{widths[0]}}"] + [f"{c:>{w}}" for c, w in zip(row[1:], widths[1:])]
        return "  ".join(cells)

    lines += [fmt(header), "-" * len(fmt(header))] + [fmt(r) for r in rows]
    return "\n".join(lines + notes)


def to_json(results, header):
    """Serialise a list of results, with a header dict, as indented JSON.

    Parameters
    ----------
    results : list of dict
        :func:`run_comparison` results.
    header : dict
        Run-wide information (versions, parameters).

    Returns
    -------
    str
    """
    return json.dumps({**header, "results": results}, indent=2)


def plot_results(results, path):
    """Save a bar chart of scores and times, one row of panels per data set.

    Parameters
    ----------
    results : list of dict
        :func:`run_comparison` results.
    path : str
        Output image file; the format follows its extension.
    """
    from .plotting import _import_matplotlib

    _import_matplotlib()
    # The object-oriented Figure API needs no GUI backend and leaves
    # pyplot's global state alone.
    from matplotlib.figure import Figure

    panels = [r["metrics"] + ["fit time (s)", "predict time (s)"] for r in results]
    ncols = max(len(p) for p in panels)
    fig = Figure(figsize=(2.6 * ncols, 2.6 * len(results)), layout="constrained")
    axes = fig.subplots(len(results), ncols, squeeze=False)
    for row, (result, titles) in enumerate(zip(results, panels)):
        models = [m for m in result["models"] if "skipped" not in m]
        names = [m["name"].split(".", 1)[0] for m in models]
        colors = [f"C{i}" for i in range(len(models))]
        for col, title in enumerate(titles):
            ax = axes[row, col]
            if title in result["metrics"]:
                heights = [m["mean"][title] for m in models]
                errors = [m["std"][title] for m in models]
            else:
                key = "mean_fit_time" if title.startswith("fit") else "mean_predict_time"
                heights, errors = [m[key] for m in models], None
            ax.bar(names, heights, yerr=errors, color=colors, capsize=4)
            ax.set_title(f"{os.path.basename(result['dataset'])}: {title}", fontsize=9)
            ax.tick_params(labelsize=8)
        for col in range(len(titles), ncols):
            axes[row, col].set_visible(False)
    fig.savefig(path, dpi=100)
