"""normalization="batch"/"layer" on the numpy step gives autograd's model."""

import numpy as np
import pytest
import torch
from _activations import ACTIVATION_CASES, IDS
from _paths import assert_same_state, both_paths, count_numpy_steps
from _targets import TARGETS, X

import sknn._estimator_base as base
from sknn import TorchMLPClassifier
from sknn._numpy_mlp import NumpyMLPStep
from sknn._numpy_norm import supports_norm

# The numpy step is a CPU path (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cpu_only")

SW = np.random.RandomState(2).uniform(0.5, 2.0, size=len(X))


def _both_paths(monkeypatch, target, fit=None, **params):
    return both_paths(monkeypatch, target, fit, **{"normalization": "batch", **params})


def _assert_same_model(a, b):
    # The bias of a Linear layer before BatchNorm has a zero gradient up to
    # round-off, which Adam turns into tiny (~1e-12 per step in float64) steps
    # that differ between the paths; hence the absolute tolerance.
    assert_same_state(a, b, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("normalization", ["batch", "layer"])
@pytest.mark.parametrize("target", list(TARGETS))
def test_normalized_numpy_step_equals_autograd(monkeypatch, normalization, target):
    a, b = _both_paths(monkeypatch, target, normalization=normalization)
    _assert_same_model(a, b)


@pytest.mark.parametrize("normalization", ["batch", "layer"])
@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=IDS)
def test_normalized_numpy_step_with_every_activation(monkeypatch, normalization, case):
    _, activation, kwargs, _ = case
    a, b = _both_paths(monkeypatch, "multiclass", normalization=normalization,
                       activation=activation, activation_kwargs=kwargs)
    _assert_same_model(a, b)


@pytest.mark.parametrize("normalization", ["batch", "layer"])
def test_normalized_numpy_step_with_dropout_sample_weights_and_early_stopping(
        monkeypatch, normalization):
    a, b = _both_paths(monkeypatch, "multiclass", normalization=normalization, dropout=0.2,
                       fit=lambda est, y: est.fit(X, y, sample_weight=SW))
    _assert_same_model(a, b)
    # Validation scores come from the evaluation-mode forward pass (BatchNorm's
    # running estimates), and the best epoch's weights and buffers are kept.
    a, b = _both_paths(monkeypatch, "multiclass", normalization=normalization,
                       early_stopping=True, n_iter_no_change=3, tol=1e-3, max_iter=40)
    np.testing.assert_allclose(a.validation_scores_, b.validation_scores_)
    assert a.n_iter_ == b.n_iter_ < 40
    _assert_same_model(a, b)


@pytest.mark.parametrize("normalization", ["batch", "layer"])
@pytest.mark.parametrize("solver", ["sgd", "rmsprop", "nadam"])
def test_normalized_numpy_step_with_other_solvers_and_resumed_training(
        monkeypatch, normalization, solver):
    # fit on one path, partial_fit on the other: parameters, optimizer state
    # and running estimates carry over in torch's layout.
    def fit_then_resume(est, y):
        est.fit(X, y)
        monkeypatch.setattr(base, "_NUMPY_PATH", not base._NUMPY_PATH)
        return est.partial_fit(X, y)

    a, b = _both_paths(monkeypatch, "squared_error", fit=fit_then_resume,
                       normalization=normalization, solver=solver)
    _assert_same_model(a, b)


@pytest.mark.parametrize("normalization", ["batch", "layer"])
def test_normalized_numpy_step_in_float32(monkeypatch, normalization):
    a, b = _both_paths(monkeypatch, "multiclass", normalization=normalization,
                       compute_dtype="float32")
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-4)
    # In float32 the round-off steps of the biases before BatchNorm (see
    # _assert_same_model) reach ~1e-4 per step, so its running means drift
    # apart by as much; the layers after LayerNorm see every bias.
    atol = 1e-2 if normalization == "batch" else 1e-4
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=atol)


def test_which_normalized_networks_use_the_numpy_step():
    y = TARGETS["multiclass"][1]

    def step(**params):
        est = TorchMLPClassifier(**{"hidden_layer_sizes": (8, 4), "max_iter": 1, **params})
        est.fit(X, y)
        weights = [layer.weight for layer in est.module_.linear_layers()]
        return est._array_step(est._optimizer, weights, 32 * est._n_weights())

    assert isinstance(step(normalization="batch"), NumpyMLPStep)
    assert isinstance(step(normalization="layer", dropout=0.1), NumpyMLPStep)
    assert isinstance(step(normalization="batch", activation="prelu"), NumpyMLPStep)
    # A custom activation class has no closed form.
    assert step(normalization="batch", activation=torch.nn.Hardshrink) is None
    # The hand-derived torch step (larger networks) has them too (tests/test_fast_path.py).
    est = TorchMLPClassifier((8,), normalization="batch", activation="prelu", max_iter=1)
    assert est.fit(X, y)._plain_network() is not None


def test_only_the_normalization_modules_sknn_builds_are_replayed():
    assert supports_norm(torch.nn.BatchNorm1d(4))
    assert supports_norm(torch.nn.LayerNorm(4))
    assert not supports_norm(torch.nn.BatchNorm1d(4, momentum=None))  # cumulative average
    assert not supports_norm(torch.nn.BatchNorm1d(4, affine=False))
    assert not supports_norm(torch.nn.BatchNorm1d(4, track_running_stats=False))
    assert not supports_norm(torch.nn.LayerNorm(4, bias=False))
    assert not supports_norm(torch.nn.LayerNorm((2, 4)))


def test_an_overflowing_layer_norm_variance_fails_the_fit_as_in_torch(monkeypatch):
    # 1 / sqrt(inf) is 0: the numpy step zeroed such rows and trained on,
    # where torch's kernel gives NaN and the fit fails (every GPU fit).
    from sknn import TorchMLPRegressor

    built = count_numpy_steps(monkeypatch)
    rng = np.random.RandomState(0)
    Xl = rng.randn(20, 2)
    yl = Xl[:, 0].copy()
    Xl[0] = [1e20, 0.0]
    for seed in (4, 5, 6):  # seeds whose torch fits fail
        est = TorchMLPRegressor(hidden_layer_sizes=(8,), normalization="layer", max_iter=2,
                                random_state=seed)
        with pytest.raises(ValueError, match="non-finite parameter weights"):
            est.fit(Xl, yl)
    assert built == [1, 1, 1]
