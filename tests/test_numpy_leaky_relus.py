"""activation="prelu" and "rrelu" on the numpy step give autograd's model."""

import numpy as np
import pytest
import torch
from _paths import assert_same_state, both_paths
from _targets import TARGETS, X

from sknn import TorchMLPClassifier
from sknn._activations import RReLU
from sknn._numpy_leaky_relus import NumpyPReLU, NumpyRReLU
from sknn._numpy_mlp import NumpyMLPStep

# The numpy step is a CPU path (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cpu_only")

SW = np.random.RandomState(3).uniform(0.5, 2.0, size=len(X))


def _both_paths(monkeypatch, target, fit=None, **params):
    return both_paths(monkeypatch, target, fit, **{"activation": "prelu", **params})


def _assert_same_model(a, b, atol=1e-10):
    assert_same_state(a, b, atol=atol)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("kwargs", [None, {"init": -0.5}, {"num_parameters": 7}], ids=str)
def test_prelu_numpy_step_equals_autograd(monkeypatch, target, kwargs):
    # One slope per layer, or one per unit (num_parameters is one number for
    # every hidden layer, so the layers are equally wide).
    params = {"activation_kwargs": kwargs}
    if kwargs and "num_parameters" in kwargs:
        params["hidden_layer_sizes"] = (7, 7)
    a, b = _both_paths(monkeypatch, target, **params)
    _assert_same_model(a, b)
    assert isinstance(_array_step(a), NumpyMLPStep)
    slopes = [m.weight for m in a.module_.hidden_leaky_relus()]
    assert all(not torch.equal(s, torch.full_like(s, (kwargs or {}).get("init", 0.25)))
               for s in slopes)  # the slopes were trained


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("kwargs", [None, {"lower": 0.05, "upper": 0.6}], ids=str)
def test_rrelu_numpy_step_equals_autograd(monkeypatch, target, kwargs):
    # The slopes are drawn from the module's generator in the module's order.
    a, b = _both_paths(monkeypatch, target, activation="rrelu", activation_kwargs=kwargs)
    _assert_same_model(a, b)
    assert isinstance(_array_step(a), NumpyMLPStep)


@pytest.mark.parametrize("activation", ["prelu", "rrelu"])
@pytest.mark.parametrize("extra", [{"dropout": 0.3}, {"normalization": "layer"},
                                   {"normalization": "batch", "early_stopping": True},
                                   {"early_stopping": True, "dropout": [0.2, 0.0]},
                                   {"solver": "sgd"}], ids=str)
def test_leaky_relus_numpy_step_with_other_options(monkeypatch, activation, extra):
    # Dropout draws interleave with RReLU's; validation uses the mean slope.
    a, b = _both_paths(monkeypatch, "multiclass", activation=activation, **extra,
                       fit=lambda est, y: est.fit(X, y, sample_weight=SW))
    # Biases in front of BatchNorm take round-off steps (tests/test_numpy_norm.py).
    _assert_same_model(a, b, atol=1e-8 if extra.get("normalization") else 1e-10)
    if extra.get("early_stopping"):
        np.testing.assert_allclose(a.validation_scores_, b.validation_scores_)


def _array_step(est):
    # As during fit, where the estimator gives RReLU (and dropout) its generator.
    est.module_.set_generator(torch.Generator())
    weights = [layer.weight for layer in est.module_.linear_layers()]
    return est._array_step(est._optimizer, weights, 32 * est._n_weights())


def test_prelu_networks_use_the_numpy_step():
    y = TARGETS["multiclass"][1]
    est = TorchMLPClassifier((8, 5), activation="prelu", max_iter=1).fit(X, y)
    assert isinstance(_array_step(est), NumpyMLPStep)
    est = TorchMLPClassifier((8, 5), activation="rrelu", max_iter=1).fit(X, y)
    assert isinstance(_array_step(est), NumpyMLPStep)
    # A per-unit slope count that does not match the layer's width: autograd.
    assert not NumpyPReLU.supports(torch.nn.PReLU(3), 8)
    assert NumpyPReLU.supports(torch.nn.PReLU(8), 8) and NumpyPReLU.supports(torch.nn.PReLU(), 8)
    # torch's own RReLU draws from the global generator in its own way.
    assert not NumpyRReLU.supports(torch.nn.RReLU(), 8)
    rrelu = RReLU()
    assert not NumpyRReLU.supports(rrelu, 8)
    rrelu.generator = torch.Generator()
    assert NumpyRReLU.supports(rrelu, 8)
