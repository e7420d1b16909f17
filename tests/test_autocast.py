"""Mixed precision: ``autocast='bfloat16'`` trains with bfloat16 matmuls and
float32 everything else, and behaves like any other option."""

import copy

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.utils._param_validation import InvalidParameterError

from sknn import TorchMLPClassifier, TorchMLPRegressor


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, random_state=0, stratify=y)


def _manual_step(module, X, y, lr, autocast):
    """One full-batch SGD step of torch's mixed-precision recipe, by hand."""
    module = copy.deepcopy(module)
    device = next(module.parameters()).device  # the estimator's: the recipe is per device
    X = torch.as_tensor(X, dtype=torch.float32, device=device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
        z = module(X)
    loss = torch.nn.functional.cross_entropy(z.float(), torch.as_tensor(y, device=device))
    loss.backward()
    with torch.no_grad():
        for p in module.parameters():
            p -= lr * p.grad
    return [layer.weight.detach().T.cpu().numpy() for layer in module.linear_layers()]


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
@pytest.mark.parametrize("fast", [True, False], ids=["hand-derived", "autograd"])
def test_step_is_torch_autocast_recipe(monkeypatch, digits, activation, fast):
    import sknn._estimator_base as base

    monkeypatch.setattr(base, "_FAST_PATH", fast)
    X, _, y, _ = digits
    est = TorchMLPClassifier((64, 32), activation=activation, solver="sgd", momentum=0.0,
                             learning_rate_init=0.5,
                             batch_size=len(X), shuffle=False, alpha=0.0, max_iter=1,
                             warm_start=True, random_state=0)
    with pytest.warns(Warning):
        est.fit(X, y)
    start = copy.deepcopy(est.module_)
    with pytest.warns(Warning):
        est.set_params(autocast="bfloat16").fit(X, y)
    before = [layer.weight.detach().T.cpu().numpy() for layer in start.linear_layers()]
    mixed = _manual_step(start, X, y, 0.5, autocast=True)
    full = _manual_step(start, X, y, 0.5, autocast=False)
    for got, w0, want, other in zip(est.coefs_, before, mixed, full):
        assert got.dtype == np.float64  # scikit-learn's dtype rules, whatever the training
        update, expected, float32_update = got - w0, want - w0, other - w0
        scale = np.abs(expected).max()
        assert np.abs(update - expected).max() < 1e-4 * scale
        # ... and the bfloat16 matmuls are really used: float32 updates differ.
        assert np.abs(float32_update - expected).max() > 1e-3 * scale


@pytest.mark.parametrize("params", [
    {}, {"dropout": 0.1}, {"normalization": "batch"}, {"normalization": "layer"},
    {"activation": "gelu", "solver": "adamw"}, {"early_stopping": True},
], ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()) or "defaults")
def test_fits_as_well_as_float32(digits, params):
    X_train, X_test, y_train, y_test = digits
    common = {"hidden_layer_sizes": (128,), "max_iter": 40, "random_state": 0, **params}
    mixed = TorchMLPClassifier(autocast="bfloat16", **common).fit(X_train, y_train)
    full = TorchMLPClassifier(**common).fit(X_train, y_train)
    assert mixed.score(X_test, y_test) >= full.score(X_test, y_test) - 0.02
    assert mixed.score(X_test, y_test) > 0.9
    # scikit-learn's dtype rules: float64 data, float64 outputs.
    assert mixed.predict_proba(X_test.astype(np.float32)).dtype == np.float64


def test_regressor_and_partial_fit():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 5))
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=400)
    est = TorchMLPRegressor(hidden_layer_sizes=(64,), autocast="bfloat16", max_iter=200,
                            learning_rate_init=0.01, random_state=0).fit(X, y)
    assert est.score(X, y) > 0.95
    before = est.loss_
    est.partial_fit(X, y)
    assert np.isfinite(est.loss_) and est.loss_ < 2 * before


def test_clone_and_grid_search(digits):
    X, _, y, _ = digits
    est = TorchMLPClassifier((32,), max_iter=5, random_state=0)
    assert clone(est.set_params(autocast="bfloat16")).autocast == "bfloat16"
    grid = GridSearchCV(est, {"autocast": [None, "bfloat16"]}, cv=2).fit(X, y)
    assert [p["autocast"] for p in grid.cv_results_["params"]] == [None, "bfloat16"]


@pytest.mark.parametrize("params, message", [
    ({"autocast": "float16"}, "must be a str among {'bfloat16'} or None"),
    ({"autocast": "bfloat16", "solver": "lbfgs"}, "has no effect with solver='lbfgs'"),
    ({"autocast": "bfloat16", "compute_dtype": "float64"}, "needs compute_dtype='float32'"),
])
def test_bad_settings_raise_before_the_fitted_model_changes(digits, params, message):
    X, X_test, y, _ = digits
    est = TorchMLPClassifier((16,), max_iter=3, random_state=0).fit(X, y)
    proba = est.predict_proba(X_test)
    est.set_params(**params)
    with pytest.raises(InvalidParameterError, match=f"The 'autocast' parameter .* {message}"):
        est.fit(X, y)
    np.testing.assert_array_equal(est.set_params(autocast=None, solver="adam",
                                                 compute_dtype="float32").predict_proba(X_test),
                                  proba)
