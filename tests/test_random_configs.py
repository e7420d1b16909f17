"""Random configurations, fixed seeds: sknn against scikit-learn, and sknn's
three training paths against each other.

Each seed draws a small data set (binary, multi-class, multilabel, string or
bool labels, single- or multi-output regression), a network and a
combination of options, and a way to train (``fit``, ``warm_start`` refits,
``partial_fit`` chunks). The hand-written parity tests check one option at a
time; these check how they combine. The seeds are fixed, so a failure names
a reproducible configuration (its parameters are in the test id's seed and
in the assertion message).
"""

import warnings

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor

import sknn._estimator_base as base
from sknn import TorchMLPClassifier, TorchMLPRegressor

KINDS = ["binary", "bool", "multiclass", "strings", "multilabel", "regression", "multi-output"]


def _data(rng, kind):
    n, d = int(rng.integers(8, 80)), int(rng.integers(1, 6))
    X = rng.normal(size=(n, d))
    signal = X[:, 0] + rng.normal(size=n)
    y = {
        "binary": lambda: (signal > 0).astype(int),
        "bool": lambda: signal > 0,
        "multiclass": lambda: rng.integers(0, 4, n),
        "strings": lambda: np.array(["a", "b", "c"])[rng.integers(0, 3, n)],
        "multilabel": lambda: (rng.random((n, 3)) < 0.5).astype(int),
        "regression": lambda: X @ rng.normal(size=d) + 0.1 * rng.normal(size=n),
        "multi-output": lambda: X @ rng.normal(size=(d, 2)),
    }[kind]()
    return X, y


def _estimators(kind):
    if kind in ("regression", "multi-output"):
        return MLPRegressor, TorchMLPRegressor
    return MLPClassifier, TorchMLPClassifier


def _train(est, X, y, how, sample_weight):
    """Train ``est`` as ``how`` says; the warnings it gave, as sorted text."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if how == "partial_fit":
            half = len(X) // 2
            # Classifiers need ``classes`` first: the labels, or a multilabel
            # target's column indices.
            classes = np.unique(y) if y.ndim == 1 else np.arange(y.shape[1])
            first = {"classes": classes} if _is_classifier(est) else {}
            est.partial_fit(X[:half], y[:half], **first)
            est.partial_fit(X[half:], y[half:])
        else:
            est.fit(X, y, sample_weight=sample_weight)
            if how == "warm_start":
                est.set_params(warm_start=True, max_iter=3).fit(X, y, sample_weight=sample_weight)
    return sorted({f"{w.category.__name__}: {w.message}".replace("TorchMLP", "MLP")
                   for w in caught})


def _is_classifier(est):
    return isinstance(est, (MLPClassifier, TorchMLPClassifier))


def _sklearn_config(seed, solver):
    """A configuration on which sknn (float64) and scikit-learn run the same
    updates: 'sgd' or 'adam', scikit-learn's own options only."""
    rng = np.random.default_rng(seed)
    kind = KINDS[int(rng.integers(len(KINDS)))]
    X, y = _data(rng, kind)
    how = ["fit", "fit", "warm_start", "partial_fit"][int(rng.integers(4))]
    params = {
        "hidden_layer_sizes": tuple(int(v) for v in rng.integers(1, 9, int(rng.integers(1, 4)))),
        "activation": ["identity", "logistic", "tanh", "relu"][int(rng.integers(4))],
        "solver": solver,
        "alpha": [0.0, 1e-4, 0.1][int(rng.integers(3))],
        "batch_size": "auto" if rng.random() < 0.5 else int(rng.integers(1, 100)),
        "learning_rate": ["constant", "invscaling", "adaptive"][int(rng.integers(3))],
        "learning_rate_init": [1e-3, 1e-2][int(rng.integers(2))],
        "momentum": [0.0, 0.5, 0.9][int(rng.integers(3))],
        "nesterovs_momentum": bool(rng.random() < 0.5),
        "max_iter": int(rng.integers(1, 30)),
        "shuffle": bool(rng.random() < 0.8),
        "tol": [0.0, 1e-4, 1e-2][int(rng.integers(3))],
        "n_iter_no_change": int(rng.integers(1, 10)),
        "early_stopping": bool(rng.random() < 0.3) and kind != "multilabel",
        "validation_fraction": [0.2, 0.3][int(rng.integers(2))],
        "random_state": int(rng.integers(1000)),
    }
    if solver == "adam":  # (learning_rate and momentum stay: scikit-learn's Adam ignores them)
        params.update(beta_1=[0.9, 0.5, 0.0][int(rng.integers(3))],
                      beta_2=[0.999, 0.9, 0.5][int(rng.integers(3))],
                      epsilon=[1e-8, 1e-4, 1e-2][int(rng.integers(3))])
    if how == "partial_fit":
        params.update(early_stopping=False, learning_rate="constant")
    sample_weight = rng.uniform(0.2, 2.0, len(X)) if how != "partial_fit" and rng.random() < 0.3 \
        else None
    return kind, X, y, how, params, sample_weight


# scikit-learn's arithmetic, compared on the CPU (see tests/test_sklearn_parity.py).
@pytest.mark.usefixtures("cpu_only")
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("seed", range(40))
def test_random_configuration_matches_sklearn(seed, solver):
    kind, X, y, how, params, sample_weight = _sklearn_config(seed, solver)
    Sklearn, Sknn = _estimators(kind)
    theirs, ours = Sklearn(**params), Sknn(compute_dtype="float64", **params)
    about = f"{kind}, {how}, weighted={sample_weight is not None}, {params}"
    assert _train(ours, X, y, how, sample_weight) == _train(theirs, X, y, how, sample_weight), about
    assert (ours.n_iter_, ours.t_) == (theirs.n_iter_, theirs.t_), about
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-7, err_msg=about)
    if params["early_stopping"]:
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_,
                                   err_msg=about)
    for mine, theirs_w in zip(ours.coefs_ + ours.intercepts_,
                              theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(mine, theirs_w, rtol=1e-6, atol=1e-9, err_msg=about)
    if _is_classifier(ours):
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X), err_msg=about)
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X),
                                   rtol=1e-6, atol=1e-9, err_msg=about)
    else:
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-6, atol=1e-9,
                                   err_msg=about)


ACTIVATIONS = ["celu", "elu", "gelu", "hardtanh", "identity", "leaky_relu", "logistic", "mish",
               "prelu", "relu", "rrelu", "selu", "silu", "softplus", "softsign", "tanh",
               "tanhshrink"]
SOLVERS = ["adadelta", "adagrad", "adam", "adamax", "adamw", "asgd", "nadam", "radam",
           "rmsprop", "sgd", "lbfgs"]
SCHEDULERS = [None, "cosine", "exponential", "multistep", "onecycle", "plateau", "step"]
NO_MOMENTUM = ("adadelta", "adagrad", "asgd")


def _extended_config(seed):
    """Any of sknn's options for plain networks (every one of them trains on
    all three paths)."""
    rng = np.random.default_rng(seed)
    kind = ["binary", "multiclass", "multilabel", "regression", "multi-output"][
        int(rng.integers(5))]
    X, y = _data(rng, kind)
    solver = SOLVERS[int(rng.integers(len(SOLVERS)))]
    how = ["fit", "fit", "warm_start", "partial_fit"][int(rng.integers(4))]
    if solver == "lbfgs" and how == "partial_fit":
        how = "fit"
    params = {
        "hidden_layer_sizes": tuple(int(v) for v in rng.integers(2, 9, int(rng.integers(1, 3)))),
        "activation": ACTIVATIONS[int(rng.integers(len(ACTIVATIONS)))],
        "solver": solver,
        "alpha": [0.0, 1e-3, 0.1][int(rng.integers(3))],
        "batch_size": int(rng.integers(3, 40)),
        "max_iter": int(rng.integers(1, 6)),
        "learning_rate_init": [1e-3, 1e-2][int(rng.integers(2))],
        "tol": 0.0,
        "n_iter_no_change": 100,
        "shuffle": bool(rng.random() < 0.8),
        "random_state": int(rng.integers(1000)),
        "compute_dtype": "float64",
        "early_stopping": bool(rng.random() < 0.2) and kind != "multilabel"
        and solver != "lbfgs" and how != "partial_fit",
    }
    if solver != "lbfgs":
        params["lr_scheduler"] = SCHEDULERS[int(rng.integers(len(SCHEDULERS)))]
        if params["lr_scheduler"] == "onecycle" and solver in NO_MOMENTUM:
            params["lr_scheduler"] = "cosine"  # onecycle cycles a momentum or beta1
        if rng.random() < 0.3:
            params["dropout"] = [0.1, 0.5][int(rng.integers(2))]
    if rng.random() < 0.3:
        params["normalization"] = ["batch", "layer"][int(rng.integers(2))]
    if kind == "regression" and rng.random() < 0.4:
        params["loss"] = ["absolute_error", "huber", "poisson"][int(rng.integers(3))]
        if params["loss"] == "poisson":
            y = np.abs(y)
    if kind in ("binary", "multiclass") and how != "partial_fit" and rng.random() < 0.2:
        params["class_weight"] = "balanced"
    sample_weight = rng.uniform(0.2, 2.0, len(X)) if how != "partial_fit" and rng.random() < 0.3 \
        else None
    return kind, X, y, how, params, sample_weight


@pytest.mark.parametrize("seed", range(40))
def test_random_configuration_trains_alike_on_every_path(seed, monkeypatch):
    kind, X, y, how, params, sample_weight = _extended_config(seed)
    _, Sknn = _estimators(kind)
    about = f"{kind}, {how}, weighted={sample_weight is not None}, {params}"
    models = []
    for numpy_step, fast_step in [(True, True), (False, True), (False, False)]:
        monkeypatch.setattr(base, "_NUMPY_PATH", numpy_step)
        monkeypatch.setattr(base, "_FAST_PATH", fast_step)
        est = Sknn(**params)
        _train(est, X, y, how, sample_weight)
        models.append(est)
    first = models[0]
    out = "predict_proba" if _is_classifier(first) else "predict"
    for other in models[1:]:
        assert other.n_iter_ == first.n_iter_, about
        np.testing.assert_allclose(other.loss_curve_ if hasattr(other, "loss_curve_")
                                   else other.loss_, first.loss_curve_
                                   if hasattr(first, "loss_curve_") else first.loss_,
                                   rtol=1e-5, atol=1e-8, err_msg=about)
        np.testing.assert_allclose(getattr(other, out)(X), getattr(first, out)(X),
                                   rtol=1e-4, atol=1e-6, err_msg=about)
