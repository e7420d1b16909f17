"""Every named option of issue 4 fits, predicts, clones, grid-searches and is validated.

The option lists are read from the registries themselves, so a new entry is
tested without touching this file.
"""

import time

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

from sknn import TorchMLPClassifier, TorchMLPRegressor
from sknn._activations import ACTIVATIONS
from sknn._initializers import INITIALIZERS
from sknn._module import NORMALIZATIONS
from sknn._optimizers import OPTIMIZERS
from sknn._schedulers import SCHEDULERS

LOSSES = sorted(TorchMLPRegressor._parameter_constraints["loss"][0].options)
SMALL = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0}


def _init_params(name):
    """``init`` plus the ``init_kwargs`` the scheme cannot do without."""
    required = INITIALIZERS[name].required
    return {"init": name, "init_kwargs": {k: 0.1 for k in required} or None}


def _check_fit_predict_clone(est, X, y):
    """Fit and predict; a clone refits to the very same predictions."""
    pred = est.fit(X, y).predict(X)
    assert pred.shape == y.shape
    if hasattr(est, "classes_"):
        assert set(np.unique(pred)) <= set(est.classes_)
        proba = est.predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    else:
        assert np.all(np.isfinite(pred))
    twin = clone(est)
    assert twin.get_params() == {**est.get_params()}
    assert not hasattr(twin, "module_")
    assert_array_equal(twin.fit(X, y).predict(X), pred)
    return est


# ---------------------------------------------------------------------------
# Each named option fits, predicts and survives clone
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_fits_predicts_and_clones(activation, iris):
    _check_fit_predict_clone(TorchMLPClassifier(activation=activation, **SMALL), *iris)


@pytest.mark.parametrize("init", sorted(INITIALIZERS))
def test_every_init_fits_predicts_and_clones(init, iris):
    _check_fit_predict_clone(TorchMLPClassifier(**_init_params(init), **SMALL), *iris)


@pytest.mark.parametrize("solver", sorted(OPTIMIZERS))
def test_every_solver_fits_predicts_and_clones(solver, iris):
    _check_fit_predict_clone(TorchMLPClassifier(solver=solver, **SMALL), *iris)


@pytest.mark.parametrize("solver", sorted(OPTIMIZERS))
def test_every_solver_fits_the_regressor(solver, regression):
    _check_fit_predict_clone(TorchMLPRegressor(solver=solver, **SMALL), *regression)


@pytest.mark.parametrize("lr_scheduler", [None, *sorted(SCHEDULERS)])
def test_every_lr_scheduler_fits_predicts_and_clones(lr_scheduler, iris):
    est = TorchMLPClassifier(lr_scheduler=lr_scheduler, batch_size=64, **SMALL)
    _check_fit_predict_clone(est, *iris)
    assert len(est.history_) == est.n_iter_


@pytest.mark.parametrize("normalization", [None, *sorted(NORMALIZATIONS)])
@pytest.mark.parametrize("Estimator", [TorchMLPClassifier, TorchMLPRegressor])
def test_every_normalization_fits_predicts_and_clones(Estimator, normalization, iris):
    X, y = iris
    _check_fit_predict_clone(Estimator(normalization=normalization, **SMALL), X, y)


@pytest.mark.parametrize("dropout", [0.0, 0.3, (0.5, 0.1)])
def test_dropout_float_or_per_layer_fits_predicts_and_clones(dropout, iris):
    est = TorchMLPClassifier(dropout=dropout, **{**SMALL, "hidden_layer_sizes": (8, 6)})
    _check_fit_predict_clone(est, *iris)


@pytest.mark.parametrize("loss", LOSSES)
def test_every_regressor_loss_fits_predicts_and_clones(loss, counts):
    # Count targets suit every loss, Poisson included.
    _check_fit_predict_clone(TorchMLPRegressor(loss=loss, **SMALL), *counts)


@pytest.mark.parametrize("huber_delta", [0.1, 5.0])
def test_huber_with_huber_delta_fits_predicts_and_clones(huber_delta, regression):
    est = TorchMLPRegressor(loss="huber", huber_delta=huber_delta, **SMALL)
    _check_fit_predict_clone(est, *regression)


@pytest.mark.parametrize("class_weight", [None, "balanced", {0: 3.0, 1: 1.0, 2: 0.5}])
def test_every_class_weight_fits_predicts_and_clones(class_weight, iris):
    _check_fit_predict_clone(TorchMLPClassifier(class_weight=class_weight, **SMALL), *iris)


# ---------------------------------------------------------------------------
# GridSearchCV in parallel over all names of one kind of option
GRIDS = {
    "activation": (TorchMLPClassifier, {"activation": sorted(ACTIVATIONS)}),
    "init": (
        TorchMLPClassifier,
        [
            {"init": sorted(k for k, v in INITIALIZERS.items() if not v.required)},
            *[
                {"init": [k], "init_kwargs": [{r: 0.1 for r in v.required}]}
                for k, v in INITIALIZERS.items() if v.required
            ],
        ],
    ),
    "solver": (TorchMLPClassifier, {"solver": sorted(OPTIMIZERS)}),
    "lr_scheduler": (TorchMLPClassifier, {"lr_scheduler": [None, *sorted(SCHEDULERS)]}),
    "normalization": (TorchMLPRegressor, {"normalization": [None, *sorted(NORMALIZATIONS)]}),
    "dropout": (TorchMLPClassifier, {"dropout": [0.0, 0.2, 0.5]}),
    "loss": (TorchMLPRegressor, {"loss": LOSSES, "huber_delta": [0.5]}),
    "class_weight": (
        TorchMLPClassifier, {"class_weight": [None, "balanced", {0: 2.0, 1: 1.0, 2: 1.0}]}
    ),
}


@pytest.mark.parametrize("kind", sorted(GRIDS))
def test_grid_search_over_all_names_of_one_option(kind, iris, counts):
    Estimator, grid = GRIDS[kind]
    X, y = iris if Estimator is TorchMLPClassifier else counts
    search = GridSearchCV(Estimator(**SMALL), grid, cv=2, n_jobs=2, error_score="raise")
    search.fit(X, y)
    grids = grid if isinstance(grid, list) else [grid]
    n_candidates = sum(int(np.prod([len(v) for v in g.values()])) for g in grids)
    assert len(search.cv_results_["params"]) == n_candidates
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.predict(X).shape == y.shape


# ---------------------------------------------------------------------------
# Unknown names: InvalidParameterError naming the choices, before any training
UNKNOWN = [
    (TorchMLPClassifier, "activation", sorted(ACTIVATIONS)),
    (TorchMLPClassifier, "init", sorted(INITIALIZERS)),
    (TorchMLPClassifier, "solver", sorted(OPTIMIZERS)),
    (TorchMLPClassifier, "lr_scheduler", sorted(SCHEDULERS)),
    (TorchMLPClassifier, "normalization", sorted(NORMALIZATIONS)),
    (TorchMLPClassifier, "class_weight", ["balanced"]),
    (TorchMLPRegressor, "loss", LOSSES),
    (TorchMLPRegressor, "activation", sorted(ACTIVATIONS)),
]


def _fitted(Estimator, iris, regression):
    X, y = iris if Estimator is TorchMLPClassifier else regression
    return Estimator(**SMALL).fit(X, y), X, y


def _assert_fails_before_training(est, X, y, params, match=None):
    """``fit`` with ``params`` fails fast and leaves the fitted model untouched."""
    coefs, n_iter, n_hist = est.coefs_, est.n_iter_, len(est.history_)
    est.set_params(max_iter=10**9, **params)
    tic = time.perf_counter()
    with pytest.raises(InvalidParameterError, match=match) as info:
        est.fit(X, y)
    assert time.perf_counter() - tic < 5
    for before, after in zip(coefs, est.coefs_):
        assert_array_equal(before, after)
    assert est.n_iter_ == n_iter and len(est.history_) == n_hist
    return str(info.value)


@pytest.mark.parametrize(
    "Estimator, param, valid", UNKNOWN, ids=[f"{E.__name__}-{p}" for E, p, _ in UNKNOWN]
)
def test_unknown_option_name_raises_invalid_parameter_error_listing_choices(
    Estimator, param, valid, iris, regression
):
    est, X, y = _fitted(Estimator, iris, regression)
    msg = _assert_fails_before_training(est, X, y, {param: "no_such_option"}, match=param)
    assert "no_such_option" in msg
    for name in valid:
        assert repr(name) in msg, f"{name!r} missing from: {msg}"


def test_unknown_name_in_unfitted_estimator_raises_without_fitted_attributes(iris):
    est = TorchMLPClassifier(activation="swishy", max_iter=10**9)
    with pytest.raises(InvalidParameterError, match="activation"):
        est.fit(*iris)
    assert not hasattr(est, "module_")


def _lambda_half(epoch):
    return 0.5**epoch


BAD_KWARGS = {
    "activation_kwargs": {"activation": "leaky_relu", "activation_kwargs": {"bogus": 1}},
    "custom_activation_kwargs": {
        "activation": torch.nn.Hardswish, "activation_kwargs": {"bogus": 1}
    },
    "init_kwargs": {"init": "normal", "init_kwargs": {"bogus": 1}},
    "init_kwargs_missing_val": {"init": "constant", "init_kwargs": None},
    "init_kwargs_missing_val_other_key": {"init": "constant", "init_kwargs": {"std": 1.0}},
    "callable_init_kwargs": {"init": torch.nn.init.zeros_, "init_kwargs": {"bogus": 1}},
    "optimizer_kwargs": {"solver": "adam", "optimizer_kwargs": {"bogus": 1}},
    "optimizer_kwargs_bad_value": {"solver": "sgd", "optimizer_kwargs": {"momentum": -1.0}},
    "custom_solver_kwargs": {"solver": torch.optim.SGD, "optimizer_kwargs": {"bogus": 1}},
    "optimizer_kwargs_with_lbfgs": {"solver": "lbfgs", "optimizer_kwargs": {"weight_decay": 1}},
    "lr_scheduler_with_lbfgs": {"solver": "lbfgs", "lr_scheduler": "step"},
    "lr_scheduler_kwargs": {"lr_scheduler": "step", "lr_scheduler_kwargs": {"bogus": 1}},
    "custom_scheduler_missing_kwargs": {"lr_scheduler": torch.optim.lr_scheduler.LambdaLR},
    "custom_scheduler_bad_kwargs": {
        "lr_scheduler": torch.optim.lr_scheduler.LambdaLR,
        "lr_scheduler_kwargs": {"lr_lambda": _lambda_half, "bogus": 1},
    },
    "scheduler_and_sgd_learning_rate": {
        "solver": "sgd", "learning_rate": "invscaling", "lr_scheduler": "cosine"
    },
    "dropout_per_layer_wrong_length": {"dropout": [0.1, 0.2, 0.3]},
    "dropout_per_layer_out_of_range": {"dropout": [1.5]},
}


@pytest.mark.parametrize("case", sorted(BAD_KWARGS))
def test_bad_option_kwargs_raise_invalid_parameter_error_before_training(case, iris):
    est, X, y = _fitted(TorchMLPClassifier, iris, None)
    _assert_fails_before_training(est, X, y, BAD_KWARGS[case])


def test_init_constant_without_val_names_the_missing_key(iris):
    est = TorchMLPClassifier(init="constant", max_iter=10**9)
    with pytest.raises(InvalidParameterError, match="val"):
        est.fit(*iris)


# ---------------------------------------------------------------------------
# *_kwargs reach the torch objects
def test_activation_kwargs_negative_slope_reaches_every_leaky_relu(iris):
    est = TorchMLPClassifier(
        (8, 6), "leaky_relu", activation_kwargs={"negative_slope": 0.2}, max_iter=2,
        random_state=0,
    ).fit(*iris)
    leaky = [m for m in est.module_.layers if isinstance(m, torch.nn.LeakyReLU)]
    assert len(leaky) == 2
    assert all(m.negative_slope == 0.2 for m in leaky)


def test_init_kwargs_constant_val_sets_every_weight(iris):
    # No training step can happen on an estimator that was never fitted; use
    # a learning rate so small that one epoch leaves the weights as drawn.
    est = TorchMLPClassifier(
        (8,), init="constant", init_kwargs={"val": 0.3}, max_iter=1,
        learning_rate_init=1e-12, random_state=0,
    ).fit(*iris)
    for coef, intercept in zip(est.coefs_, est.intercepts_):
        np.testing.assert_allclose(coef, 0.3, atol=1e-8)
        np.testing.assert_allclose(intercept, 0.0, atol=1e-8)


def test_optimizer_kwargs_weight_decay_reaches_param_groups(iris):
    est = TorchMLPClassifier(
        solver="adamw", optimizer_kwargs={"weight_decay": 0.05, "amsgrad": True}, **SMALL
    ).fit(*iris)
    group = est._optimizer.param_groups[0]
    assert isinstance(est._optimizer, torch.optim.AdamW)
    assert group["weight_decay"] == 0.05
    assert group["amsgrad"] is True


def test_optimizer_kwargs_override_the_sklearn_mapping(iris):
    est = TorchMLPClassifier(
        solver="sgd", momentum=0.9, optimizer_kwargs={"momentum": 0.5, "nesterov": False},
        **SMALL,
    ).fit(*iris)
    group = est._optimizer.param_groups[0]
    assert group["momentum"] == 0.5 and group["nesterov"] is False


def test_lr_scheduler_kwargs_step_size_and_gamma_shape_recorded_lr(iris):
    est = TorchMLPClassifier(
        (8,), max_iter=6, random_state=0, learning_rate_init=0.01, n_iter_no_change=100,
        lr_scheduler="step", lr_scheduler_kwargs={"step_size": 2, "gamma": 0.1},
    ).fit(*iris)
    lrs = [r["lr"] for r in est.history_]
    np.testing.assert_allclose(lrs, [1e-2, 1e-2, 1e-3, 1e-3, 1e-4, 1e-4], rtol=1e-6)


# ---------------------------------------------------------------------------
# Custom torch classes instead of names
def test_custom_activation_class_gives_one_instance_per_hidden_layer(iris):
    est = TorchMLPClassifier((8, 6, 4), torch.nn.Hardswish, max_iter=3, random_state=0)
    _check_fit_predict_clone(est, *iris)
    acts = [m for m in est.module_.layers if isinstance(m, torch.nn.Hardswish)]
    assert len(acts) == 3
    assert len({id(m) for m in acts}) == 3


def test_custom_activation_class_with_kwargs(iris):
    est = TorchMLPClassifier(
        (8,), torch.nn.Hardtanh, activation_kwargs={"min_val": -2.0, "max_val": 2.0},
        max_iter=3, random_state=0,
    ).fit(*iris)
    (act,) = [m for m in est.module_.layers if isinstance(m, torch.nn.Hardtanh)]
    assert (act.min_val, act.max_val) == (-2.0, 2.0)


@pytest.mark.parametrize("solver", [torch.optim.LBFGS, torch.optim.Rprop, torch.optim.SparseAdam])
def test_any_torch_optimizer_class_trains(iris, solver):
    # Each steps as torch's class does (LBFGS with a closure), also while
    # the options are tried before the fit; SparseAdam refuses dense grads.
    est = TorchMLPClassifier(solver=solver, **SMALL)
    if solver is torch.optim.SparseAdam:
        with pytest.raises(InvalidParameterError, match="The 'solver' parameter .* trial step"):
            est.fit(*iris)
        return
    _check_fit_predict_clone(est, *iris)
    assert type(est._optimizer) is solver


def test_custom_optimizer_class_gets_learning_rate_init_and_kwargs(iris):
    est = TorchMLPClassifier(
        solver=torch.optim.SGD, learning_rate_init=0.05, optimizer_kwargs={"momentum": 0.5},
        **SMALL,
    )
    _check_fit_predict_clone(est, *iris)
    assert type(est._optimizer) is torch.optim.SGD
    assert est._optimizer.param_groups[0]["lr"] == 0.05
    assert est._optimizer.param_groups[0]["momentum"] == 0.5


def test_custom_scheduler_class_with_kwargs_sets_recorded_lr(iris):
    est = TorchMLPClassifier(
        (8,), max_iter=4, random_state=0, learning_rate_init=0.01, n_iter_no_change=100,
        lr_scheduler=torch.optim.lr_scheduler.LambdaLR,
        lr_scheduler_kwargs={"lr_lambda": _lambda_half},
    )
    _check_fit_predict_clone(est, *iris)
    lrs = [r["lr"] for r in est.history_]
    np.testing.assert_allclose(lrs, [0.01, 0.005, 0.0025, 0.00125], rtol=1e-6)


def _quarter(weight, scale=1.0):
    with torch.no_grad():
        weight.fill_(0.25 * scale)


def test_callable_init_is_applied_to_every_weight_with_its_kwargs(iris):
    est = TorchMLPClassifier(
        (8, 6), init=_quarter, init_kwargs={"scale": 2.0}, max_iter=1,
        learning_rate_init=1e-12, random_state=0,
    ).fit(*iris)
    for coef, intercept in zip(est.coefs_, est.intercepts_):
        np.testing.assert_allclose(coef, 0.5, atol=1e-8)
        np.testing.assert_allclose(intercept, 0.0, atol=1e-8)
    _check_fit_predict_clone(clone(est).set_params(learning_rate_init=1e-3), *iris)


def test_callable_init_returning_a_tensor_is_used(iris):
    est = TorchMLPClassifier(
        (8,), init=lambda w: torch.full_like(w, -0.1), max_iter=1, learning_rate_init=1e-12,
        random_state=0,
    ).fit(*iris)
    np.testing.assert_allclose(est.coefs_[0], -0.1, atol=1e-8)
