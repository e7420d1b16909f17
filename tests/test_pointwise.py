"""The closed forms of the hidden activations, in torch and numpy, against their definitions."""

import dataclasses
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
import torch
from _activations import ACTIVATION_CASES, IDS

from sknn import MLPModule
from sknn._activations import RReLU
from sknn._pointwise import (
    IDENTITY,
    TORCH_PREDICT_MIN_SIZE,
    Scratch,
    as_rule,
    pointwise_rule,
)

TOL = {torch.float64: 1e-12, torch.float32: 2e-6}


def _reference(definition, x, delta):
    """The activation of ``x`` and ``delta * f'(x)``, by autograd on the definition."""
    x = x.clone().requires_grad_(True)
    y = definition(x)
    y.backward(delta)
    return y.detach(), x.grad


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=IDS)
def test_torch_and_numpy_forms_match_the_definition(case, dtype):
    _, name, kwargs, definition = case
    rule = as_rule(name, kwargs)
    g = torch.Generator().manual_seed(0)
    # Both signs, values near zero, and some far out (overflow-prone branches).
    x = torch.cat([torch.randn(40, 6, generator=g, dtype=dtype) * 2,
                   torch.tensor([[-30.0, -3.0, -1e-3, 1e-3, 3.0, 30.0]], dtype=dtype)])
    delta = torch.randn(x.shape, generator=g, dtype=dtype)
    value, grad = _reference(definition, x, delta)
    tol = TOL[dtype]
    if rule is IDENTITY:
        assert rule.torch_forward is rule.numpy_forward is None
        return

    pre = x.clone()
    act = torch.empty_like(x) if rule.keeps_input else pre
    rule.torch_forward(pre, act)
    torch.testing.assert_close(act, value, rtol=tol, atol=tol)
    d = delta.clone()
    rule.torch_backward(d, pre, act)
    torch.testing.assert_close(d, grad, rtol=tol, atol=tol)

    pre_np = x.numpy().copy()
    act_np = np.empty_like(pre_np) if rule.keeps_input else pre_np
    scratch = Scratch(pre_np.shape, pre_np.dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # far-out inputs: no warnings
        rule.numpy_forward(pre_np, act_np, scratch)
        np.testing.assert_allclose(act_np, value.numpy(), rtol=tol, atol=tol)
        d_np = delta.numpy().copy()
        rule.numpy_backward(d_np, pre_np, act_np, scratch)
    np.testing.assert_allclose(d_np, grad.numpy(), rtol=tol, atol=tol)
    assert d_np.dtype == act_np.dtype == pre_np.dtype
    # Prediction's form leaves a kept input intact and returns the activation;
    # from TORCH_PREDICT_MIN_SIZE values on, some rules predict with torch's kernel.
    out = rule.numpy_apply(x.numpy().copy())
    np.testing.assert_allclose(out, value.numpy(), rtol=tol, atol=tol)
    large = torch.randn(TORCH_PREDICT_MIN_SIZE // 16 + 1, 16, generator=g, dtype=dtype) * 3
    out = rule.numpy_apply(large.numpy().copy())
    np.testing.assert_allclose(out, definition(large).numpy(), rtol=tol, atol=tol)
    assert out.dtype == pre_np.dtype


def test_rules_are_found_by_exact_module_type_with_their_settings():
    assert pointwise_rule(torch.nn.LeakyReLU(0.2)) == as_rule("leaky_relu", {"negative_slope": 0.2})
    assert pointwise_rule(torch.nn.LeakyReLU(0.2)) != pointwise_rule(torch.nn.LeakyReLU(0.3))
    assert len({pointwise_rule(torch.nn.GELU()), as_rule("gelu")}) == 1

    class MyGELU(torch.nn.GELU):  # may compute anything: autograd
        def forward(self, x):
            return 2 * super().forward(x)

    assert pointwise_rule(MyGELU()) is None
    assert pointwise_rule(torch.nn.PReLU()) is None
    for name in ("prelu", "rrelu", "no_such"):
        with pytest.raises(ValueError, match="activation must be one of"):
            as_rule(name)


def test_randomised_leaky_relu_has_a_closed_form_at_predict_time_only():
    m = RReLU(0.1, 0.3)
    assert pointwise_rule(m) is None
    assert pointwise_rule(m, inference=True) == as_rule("leaky_relu", {"negative_slope": 0.2})


@pytest.mark.parametrize(
    "params, training, inference, rates",
    [
        ({"activation": "gelu"}, "gelu", "gelu", [None, None]),
        ({"activation": torch.nn.SiLU}, "silu", "silu", [None, None]),
        ({"activation": "prelu"}, None, None, [None, None]),
        ({"activation": "rrelu"}, None, "leaky_relu", [None, None]),
        ({"dropout": 0.2}, "relu", "relu", [0.2, 0.2]),
        ({"dropout": [0.0, 0.3], "activation": "tanh"}, "tanh", "tanh", [None, 0.3]),
        ({"normalization": "layer"}, None, None, [None, None]),
        ({"hidden_layer_sizes": ()}, "identity", "identity", []),
    ],
)
def test_plain_activation_of_a_module(params, training, inference, rates):
    params = {"hidden_layer_sizes": (4, 3), **params}
    net = MLPModule(5, params.pop("hidden_layer_sizes"), 2, random_state=0, **params)
    for found, expected in ((net.plain_activation(), training),
                            (net.plain_activation(inference=True), inference)):
        assert (found and found.name) == expected
    assert [None if d is None else d.p for d in net.hidden_dropouts()] == rates


@contextmanager
def _torch_threads(n):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=IDS)
def test_torch_step_forms_write_the_definition_into_the_tensors(case, dtype):
    _, name, kwargs, definition = case
    rule = as_rule(name, kwargs)
    if rule is IDENTITY:
        return
    g = torch.Generator().manual_seed(1)
    tol = TOL[dtype]
    with _torch_threads(1):
        forward, backward = rule.step_forms(dtype, torch.device("cpu"))
    # Two layer widths: the numpy forms keep scratch arrays per shape.
    for width in (6, 3, 6):
        x = torch.cat([torch.randn(20, width, generator=g, dtype=dtype) * 2,
                       torch.full((1, width), 30.0, dtype=dtype)])
        delta = torch.randn(x.shape, generator=g, dtype=dtype)
        value, grad = _reference(definition, x, delta)
        pre = x.clone()
        act = torch.empty_like(x) if rule.keeps_input else pre
        forward(pre, act)
        torch.testing.assert_close(act, value, rtol=tol, atol=tol)
        backward(delta, pre, act)
        torch.testing.assert_close(delta, grad, rtol=tol, atol=tol)


def test_torch_step_runs_numpy_kernels_only_where_they_are_faster():
    cpu = torch.device("cpu")
    tanh = as_rule("tanh")
    assert tanh.numpy_threads == 2
    for threads, dtype, numpy_forms in [
        (1, torch.float32, True),
        (2, torch.float64, True),
        (3, torch.float32, False),  # torch's kernel on three threads or more
        (1, torch.bfloat16, False),  # no bfloat16 in numpy
    ]:
        with _torch_threads(threads):
            forward, backward = tanh.step_forms(dtype, cpu)
        assert (forward is tanh.torch_forward) is (not numpy_forms)
        assert (backward is tanh.torch_backward) is (not numpy_forms)
    assert tanh.step_forms(torch.float32, torch.device("meta"))[0] is tanh.torch_forward
    with _torch_threads(1):
        # torch's own kernels where they are as fast or faster
        relu = as_rule("relu")
        assert relu.step_forms(torch.float32, cpu) == (relu.torch_forward, relu.torch_backward)
        assert IDENTITY.step_forms(torch.float32, cpu) == (None, None)


def test_torch_step_numpy_forms_stay_silent_on_non_finite_values():
    with _torch_threads(1):
        forward, backward = as_rule("tanh").step_forms(torch.float32, torch.device("cpu"))
    act = torch.tensor([[float("inf"), float("nan"), 1.0]])
    delta = torch.tensor([[float("inf"), 1.0, float("inf")]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        forward(act, act)
        backward(delta, act, act)  # inf * 0: invalid, silenced as on the numpy step
    assert torch.isnan(delta[0, :2]).all()


def _spied(rule, calls):
    """``rule`` with forward forms that record the torch threads they ran on."""
    def spy(form, kind):
        def run(*args):
            calls.append((kind, torch.get_num_threads()))
            return form(*args)
        return run

    return dataclasses.replace(rule, torch_forward=spy(rule.torch_forward, "torch"),
                               numpy_forward=spy(rule.numpy_forward, "numpy"))


def test_prediction_hands_large_arrays_to_torch_on_one_thread():
    calls = []
    relu = _spied(as_rule("relu"), calls)
    tanh = _spied(as_rule("tanh"), calls)
    assert relu.torch_predicts and not tanh.torch_predicts
    large = np.full((TORCH_PREDICT_MIN_SIZE // 8, 8), -1.5, dtype=np.float32)
    small = large[:-1]  # one row short of the threshold
    with _torch_threads(2):
        out = relu.numpy_apply(large.copy())
        assert torch.get_num_threads() == 2  # restored
        relu.numpy_apply(small.copy())
        tanh.numpy_apply(large.copy())
    assert calls == [("torch", 1), ("numpy", 2), ("numpy", 2)]
    assert (out == 0).all()
