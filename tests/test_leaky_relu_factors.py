"""PReLU's and RReLU's hand-derived forms, which keep each element's factor (1, or its
slope) for the backward pass, give the modules' values and input gradients to the bit:
at zeros of either sign, subnormals, and for slopes beyond [0, 1] (the factor
``pos + slope * (1 - pos)`` is exact for any slope)."""

import numpy as np
import pytest
import torch

from sknn._activations import RReLU
from sknn._numpy_leaky_relus import NumpyPReLU, NumpyRReLU
from sknn._pointwise import Scratch
from sknn._torch_leaky_relus import TorchPReLU, TorchRReLU

TINY = float(np.finfo(np.float32).smallest_subnormal)


def _input(dtype):
    edge = torch.tensor([0.0, -0.0, TINY, -TINY, 1e-30, -1e-30, 3.0, -3.0], dtype=dtype)
    rest = torch.randn(3, 8, generator=torch.Generator().manual_seed(0), dtype=dtype)
    return torch.cat([edge[None], rest])


def _module(lower, upper, seed):
    module = RReLU(lower, upper)
    module.generator = torch.Generator().manual_seed(seed)
    return module


def _reference(x, delta, lower, upper):
    x = x.clone().requires_grad_(True)
    y = _module(lower, upper, 5)(x)
    y.backward(delta)
    return y.detach(), x.grad


def _bitwise(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}"))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("lower, upper", [(1 / 8, 1 / 3), (0.0, 1.0), (0.5, 1.5), (-0.2, 0.4)])
def test_rrelu_forms_equal_the_module_bitwise(dtype, lower, upper):
    x = _input(dtype)
    delta = torch.randn(x.shape, generator=torch.Generator().manual_seed(1), dtype=dtype)
    value, grad = _reference(x, delta, lower, upper)

    torch_form = TorchRReLU(_module(lower, upper, 5))
    out, d = torch.empty_like(x), delta.clone()
    torch_form.forward(x, out)
    torch_form.backward(d, x)
    _bitwise(out.numpy(), value.numpy())
    _bitwise(d.numpy(), grad.numpy())

    numpy_form = NumpyRReLU(_module(lower, upper, 5))
    xn, dn = x.numpy(), delta.numpy().copy()
    outn, scratch = np.empty_like(xn), Scratch(xn.shape, xn.dtype)
    numpy_form.forward(xn, outn, scratch)
    numpy_form.backward(dn, xn, scratch)
    _bitwise(outn, value.numpy())
    _bitwise(dn, grad.numpy())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("units, init", [(1, 0.25), (8, -0.3), (8, 1.7)])
def test_prelu_forms_equal_the_module(dtype, units, init):
    x = _input(dtype)
    delta = torch.randn(x.shape, generator=torch.Generator().manual_seed(1), dtype=dtype)
    module = torch.nn.PReLU(units, init).to(dtype)
    if units > 1:  # a different slope per unit
        with torch.no_grad():
            module.weight.mul_(torch.linspace(0.5, 1.5, units, dtype=dtype))
    xr = x.clone().requires_grad_(True)
    value = module(xr)
    value.backward(delta)
    slope_grad = module.weight.grad.clone()
    module.weight.grad = None

    form = TorchPReLU(module)
    for _ in range(2):  # the second call reuses the buffers and overwrites the gradient
        out, d = torch.empty_like(x), delta.clone()
        form.forward(x, out)
        form.backward(d, x)
        _bitwise(out.numpy(), value.detach().numpy())
        _bitwise(d.numpy(), xr.grad.numpy())
        # The slope's gradient is a sum: the same terms, maybe in another order.
        torch.testing.assert_close(module.weight.grad, slope_grad, rtol=1e-6, atol=1e-7)

    slope = module.weight.detach().numpy()
    gslope = np.zeros_like(slope)
    numpy_form = NumpyPReLU(module, slope, gslope)
    xn, scratch = x.numpy(), Scratch(tuple(x.shape), x.numpy().dtype)
    for _ in range(2):
        outn, dn = np.empty_like(xn), delta.numpy().copy()
        numpy_form.forward(xn, outn, scratch)
        numpy_form.backward(dn, xn, scratch)
        _bitwise(outn, value.detach().numpy())
        _bitwise(dn, xr.grad.numpy())
        np.testing.assert_allclose(gslope, slope_grad.numpy(), rtol=1e-6, atol=1e-7)
