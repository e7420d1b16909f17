"""Hidden activations in closed form, for the hand-derived steps and numpy predictions.

The hand-derived training steps (:mod:`sknn._fast_mlp` in torch,
:mod:`sknn._numpy_mlp` in numpy) and numpy predictions
(:mod:`sknn._numpy_forward`) need each hidden activation as two element-wise
operations written into preallocated arrays: its value, and the product of an
incoming gradient with its derivative. :class:`Pointwise` holds both, in torch
and in numpy, for one activation *with its settings* (a leaky ReLU's slope, a
softplus' beta and threshold, GELU's approximation, ...).

:func:`pointwise_rule` maps an activation *module* to its rule, by exact
type: a subclass may change ``forward``, so it gets None and autograd.
The torch forms call the kernels autograd itself calls for these modules
(``gelu_backward``, ``elu_backward``, ...), so the torch step reproduces
autograd's numbers; the numpy forms are the same formulas (tests compare both
against autograd on the literal definitions: tests/test_pointwise.py; and the
training paths with each other: tests/test_fast_path.py, tests/test_numpy_path.py).

ReLU, tanh, logistic and identity have a derivative that is a function of
the activation's value, so they run in place and keep no pre-activation
(``keeps_input=False``); the others keep it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ._activations import ACTIVATIONS, RReLU, make_activation
from ._device import thread_budget

__all__ = [
    "ACTIVATION_NAMES", "IDENTITY", "TORCH_PREDICT_MIN_SIZE", "Pointwise", "Scratch", "as_rule",
    "pointwise_rule",
]

_aten = torch.ops.aten
_nn = torch._C._nn

# torch's SELU constants (aten/src/ATen/native/Activation.cpp).
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_GELU_BETA = math.sqrt(2.0 / math.pi)
_GELU_KAPPA = 0.044715

#: Values from which :meth:`Pointwise.numpy_apply` hands a ``torch_predicts``
#: rule's array to torch's kernel: below it numpy's smaller per-call cost wins
#: (ReLU on 1 120 float32 values: numpy 1.3 us, torch 1.4 us; on 4 096: 2.4 us
#: against 1.6 us; a /tmp measurement on the 2 vCPU box), and a single row's
#: prediction stays in numpy.
TORCH_PREDICT_MIN_SIZE = 2048


class Scratch:
    """Scratch arrays of one layer's activation shape, each allocated on first use."""

    __slots__ = ("_mask", "_values", "dtype", "shape")

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype
        self._mask = None
        self._values = []

    def mask(self) -> np.ndarray:
        """A boolean array."""
        if self._mask is None:
            self._mask = np.empty(self.shape, dtype=bool)
        return self._mask

    def values(self, k: int = 0) -> np.ndarray:
        """The ``k``-th floating-point array."""
        while len(self._values) <= k:
            self._values.append(np.empty(self.shape, dtype=self.dtype))
        return self._values[k]


def sigmoid(x, out):
    """``out = 1 / (1 + exp(-x))`` with numpy's vectorised exp.

    scipy's ``expit`` is ~5x slower on a (200, 100) float32 array. For
    ``x`` below about -88 (float32) ``exp`` overflows to inf and the result is
    0 instead of a denormal: callers silence that warning (training runs under
    ``np.errstate``, prediction too).
    """
    np.negative(x, out=out)
    np.exp(out, out=out)
    np.add(out, 1.0, out=out)
    np.divide(1.0, out, out=out)
    return out


def _softplus_np(x, out):
    """``log1p(exp(x))`` for ``x <= 20``; above, tanh of it is 1 in float64 anyway."""
    np.minimum(x, 20.0, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)


@dataclass(frozen=True, eq=False)
class Pointwise:
    """One hidden activation with its settings, as element-wise operations.

    Parameters
    ----------
    name : str
        Registry name (:data:`sknn._activations.ACTIVATIONS`).
    settings : tuple
        The activation's constructor settings; two rules are equal when their
        names and settings are.
    keeps_input : bool
        Whether the derivative needs the pre-activation (kept in its own
        buffer); otherwise the activation overwrites it.
    torch_forward : callable
        ``(pre, out)``: writes the activation of ``pre`` into ``out`` (the same
        tensor when ``keeps_input`` is False).
    torch_backward : callable
        ``(delta, pre, act)``: ``delta *= f'(pre)``, in place.
    numpy_forward, numpy_backward : callable
        The same in numpy, with a trailing :class:`Scratch` argument. Where
        numpy has no fast kernel (``erf``) they run torch's on the same memory.
    uses_torch : bool
        Whether the numpy forms call torch kernels (run them on one thread
        next to numpy's BLAS).
    numpy_threads : int, default=0
        The torch step (:mod:`sknn._fast_mlp`) runs the numpy forms on CPU
        tensors' memory when torch runs at most this many threads
        (:meth:`step_forms`): for these activations numpy's kernel on one
        thread beats torch's on that many (``tanh``'s value and derivative
        of a float32 (256, 256) array took 184 us with torch's kernels on
        one thread here, 49 us with numpy's;
        ``python benchmarks/bench_activations.py`` times every rule).
    torch_predicts : bool, default=False
        Prediction (:meth:`numpy_apply`) runs the torch forward form on the
        array's memory, on one torch thread, for arrays of at least
        :data:`TORCH_PREDICT_MIN_SIZE` values: for these activations torch's
        kernel is the faster there (``relu`` of a float32 (2048, 256) array:
        numpy's ``maximum`` 0.25 ms, torch's 0.07 ms; the "prediction" table
        of ``python benchmarks/bench_activations.py``).
    """

    name: str
    settings: tuple
    keeps_input: bool
    torch_forward: Callable | None = field(repr=False)
    torch_backward: Callable | None = field(repr=False)
    numpy_forward: Callable | None = field(repr=False)
    numpy_backward: Callable | None = field(repr=False)
    uses_torch: bool = False
    numpy_threads: int = 0
    torch_predicts: bool = False

    def __eq__(self, other):
        return isinstance(other, Pointwise) and (self.name, self.settings) == (
            other.name, other.settings)

    def __hash__(self):
        return hash((self.name, self.settings))

    def step_forms(self, dtype: torch.dtype, device: torch.device) -> tuple:
        """``(forward, backward)`` for the torch step on tensors of ``dtype`` on ``device``.

        The torch forms, or (see ``numpy_threads``) the numpy forms applied
        to float32/float64 CPU tensors' memory. Decided once per set of
        buffers, under the fit's thread setting.
        """
        if (
            device.type == "cpu"
            and dtype in (torch.float32, torch.float64)
            and torch.get_num_threads() <= self.numpy_threads
        ):
            forms = _NumpyOnTensors(self)
            return forms.forward, forms.backward
        return self.torch_forward, self.torch_backward

    def numpy_apply(self, x: np.ndarray) -> np.ndarray:
        """The activation of ``x`` for prediction (``x`` may be overwritten)."""
        if self.numpy_forward is None:
            return x
        out = np.empty_like(x) if self.keeps_input else x
        if self.torch_predicts and x.size >= TORCH_PREDICT_MIN_SIZE:
            with thread_budget(0):  # see below
                self.torch_forward(torch.from_numpy(x), torch.from_numpy(out))
            return out
        # One torch thread: a pool spinning next to numpy's BLAS slows both.
        with np.errstate(over="ignore"), thread_budget(0) if self.uses_torch else nullcontext():
            self.numpy_forward(x, out, Scratch(x.shape, x.dtype))
        return out


class _NumpyOnTensors:
    """A rule's numpy forms with the torch forms' signatures, on CPU tensors.

    ``Tensor.numpy()`` shares memory, so the results land in the torch
    step's buffers. Errors are silenced as on the numpy step: a diverging fit
    is reported once, as non-finite weights, not at every operation.
    """

    __slots__ = ("_rule", "_scratch")

    def __init__(self, rule: Pointwise):
        self._rule = rule
        self._scratch = {}  # shape -> Scratch, one per layer width

    def _scratch_for(self, a: np.ndarray) -> Scratch:
        scratch = self._scratch.get(a.shape)
        if scratch is None:
            scratch = self._scratch[a.shape] = Scratch(a.shape, a.dtype)
        return scratch

    def forward(self, pre: torch.Tensor, out: torch.Tensor) -> None:
        out = out.numpy()
        with np.errstate(all="ignore"):
            self._rule.numpy_forward(pre.numpy(), out, self._scratch_for(out))

    def backward(self, delta: torch.Tensor, pre: torch.Tensor, act: torch.Tensor) -> None:
        delta = delta.numpy()
        with np.errstate(all="ignore"):
            self._rule.numpy_backward(delta, pre.numpy(), act.numpy(), self._scratch_for(delta))


# ---------------------------------------------------------------- in place
def _np_relu_backward(delta, pre, act, scratch):
    mask = scratch.mask()
    np.greater(act, 0, out=mask)
    np.multiply(delta, mask, out=delta)


def _np_tanh_backward(delta, pre, act, scratch):
    # delta *= 1 - act**2
    v = scratch.values()
    np.multiply(act, act, out=v)
    np.subtract(1.0, v, out=v)
    np.multiply(delta, v, out=delta)


def _np_logistic_backward(delta, pre, act, scratch):
    # delta *= act * (1 - act)
    v = scratch.values()
    np.subtract(1.0, act, out=v)
    np.multiply(v, act, out=v)
    np.multiply(delta, v, out=delta)


IDENTITY = Pointwise("identity", (), False, None, None, None, None)

_RELU = Pointwise(
    "relu", (), False,
    lambda pre, out: torch.relu_(out),
    # threshold_backward is the kernel autograd uses for ReLU; act > 0 exactly
    # where the pre-activation was > 0.
    lambda delta, pre, act: _aten.threshold_backward.grad_input(delta, act, 0.0, grad_input=delta),
    lambda pre, out, s: np.maximum(out, 0, out=out),
    _np_relu_backward,
    torch_predicts=True,
)

_TANH = Pointwise(
    "tanh", (), False,
    lambda pre, out: torch.tanh_(out),
    lambda delta, pre, act: _aten.tanh_backward.grad_input(delta, act, grad_input=delta),
    lambda pre, out, s: np.tanh(out, out=out),
    _np_tanh_backward,
    numpy_threads=2,
)

_LOGISTIC = Pointwise(
    "logistic", (), False,
    lambda pre, out: torch.sigmoid_(out),
    lambda delta, pre, act: _aten.sigmoid_backward.grad_input(delta, act, grad_input=delta),
    lambda pre, out, s: sigmoid(out, out),
    _np_logistic_backward,
    torch_predicts=True,
)


# ------------------------------------------------------- keep the input
# Masked numpy operations (``where=``, boolean indexing) cost ~10x an
# arithmetic one on random signs, so branches are written as blends: a product
# with a 0/1 mask, or a maximum.


def _leaky_relu(slope):
    # torch: x > 0 ? x : slope * x, which is max(x, slope x) for slope <= 1.
    pick = np.maximum if slope <= 1 else np.minimum

    def np_forward(x, out, s):
        np.multiply(x, slope, out=out)
        pick(out, x, out=out)

    def np_backward(delta, x, act, s):
        mask, v = s.mask(), s.values()
        np.greater(x, 0, out=mask)
        if 0 <= slope <= 1:
            np.maximum(mask, slope, out=v)  # 1 where x > 0, else slope
        else:
            np.multiply(mask, 1.0 - slope, out=v)
            np.add(v, slope, out=v)
        np.multiply(delta, v, out=delta)

    return Pointwise(
        "leaky_relu", (slope,), True,
        lambda x, out: _nn.leaky_relu(x, slope, out=out),
        lambda delta, x, act: _aten.leaky_relu_backward.grad_input(
            delta, x, slope, False, grad_input=delta),
        np_forward, np_backward, torch_predicts=True,
    )


def _elu(name, alpha, scale, input_scale):
    # torch: x > 0 ? scale * x : alpha * scale * (exp(input_scale * x) - 1)
    def np_forward(x, out, s):
        v = s.values()
        np.minimum(x, 0, out=out)  # exp of the positive side would only overflow
        np.multiply(out, input_scale, out=out)
        np.expm1(out, out=out)  # 0 where x > 0
        np.multiply(out, alpha * scale, out=out)
        np.maximum(x, 0, out=v)
        np.multiply(v, scale, out=v)
        np.add(out, v, out=out)

    def np_backward(delta, x, act, s):
        # scale where x > 0, else input_scale * alpha * scale * exp(input_scale * x)
        mask, v, w = s.mask(), s.values(0), s.values(1)
        np.minimum(x, 0, out=v)
        np.multiply(v, input_scale, out=v)
        np.exp(v, out=v)
        np.multiply(v, input_scale * alpha * scale, out=v)
        np.less_equal(x, 0, out=mask)
        np.multiply(v, mask, out=v)
        np.logical_not(mask, out=mask)
        np.multiply(mask, scale, out=w)
        np.add(v, w, out=v)
        np.multiply(delta, v, out=delta)

    return Pointwise(
        name, (alpha, scale, input_scale), True,
        lambda x, out: _nn.elu(x, alpha, scale, input_scale, out=out),
        lambda delta, x, act: _aten.elu_backward.grad_input(
            delta, alpha, scale, input_scale, False, x, grad_input=delta),
        np_forward, np_backward,
    )


def _gelu(approximate):
    if approximate == "tanh":
        def np_forward(x, out, s):
            # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
            np.multiply(x, x, out=out)
            np.multiply(out, _GELU_KAPPA, out=out)
            np.add(out, 1.0, out=out)
            np.multiply(out, x, out=out)
            np.multiply(out, _GELU_BETA, out=out)
            np.tanh(out, out=out)
            np.add(out, 1.0, out=out)
            np.multiply(out, x, out=out)
            np.multiply(out, 0.5, out=out)

        def np_backward(delta, x, act, s):
            # torch's gelu_backward (tanh): with t = tanh(inner),
            # 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2)
            t, v, w = s.values(0), s.values(1), s.values(2)
            np.multiply(x, x, out=v)
            np.multiply(v, _GELU_KAPPA, out=t)
            np.add(t, 1.0, out=t)
            np.multiply(t, x, out=t)
            np.multiply(t, _GELU_BETA, out=t)
            np.tanh(t, out=t)
            np.multiply(v, 3.0 * _GELU_KAPPA, out=v)
            np.add(v, 1.0, out=v)
            np.multiply(v, _GELU_BETA * 0.5, out=v)
            np.multiply(v, x, out=v)
            np.multiply(t, t, out=w)
            np.subtract(1.0, w, out=w)
            np.multiply(v, w, out=v)
            np.add(t, 1.0, out=t)
            np.multiply(t, 0.5, out=t)
            np.add(v, t, out=v)
            np.multiply(delta, v, out=delta)
        uses_torch = False
    else:
        # numpy has no vectorised erf (scipy's is ~8x slower than torch's
        # gelu on a (200, 100) float32 array): torch's kernels, on numpy's memory.
        def np_forward(x, out, s):
            torch_forward(torch.from_numpy(x), torch.from_numpy(out))

        def np_backward(delta, x, act, s):
            torch_backward(torch.from_numpy(delta), torch.from_numpy(x), None)

        uses_torch = True

    def torch_forward(x, out):
        _nn.gelu(x, approximate=approximate, out=out)

    def torch_backward(delta, x, act):
        _aten.gelu_backward.grad_input(delta, x, approximate=approximate, grad_input=delta)

    return Pointwise("gelu", (approximate,), True, torch_forward, torch_backward,
                     np_forward, np_backward, uses_torch)


def _np_silu(x, out, s):
    sigmoid(x, out)
    np.multiply(out, x, out=out)


def _np_silu_backward(delta, x, act, s):
    # sigmoid(x) (1 + x (1 - sigmoid(x)))
    sig, v = s.values(0), s.values(1)
    sigmoid(x, sig)
    np.subtract(1.0, sig, out=v)
    np.multiply(v, x, out=v)
    np.add(v, 1.0, out=v)
    np.multiply(v, sig, out=v)
    np.multiply(delta, v, out=delta)


_SILU = Pointwise(
    "silu", (), True,
    lambda x, out: _nn.silu(x, out=out),
    lambda delta, x, act: _aten.silu_backward.grad_input(delta, x, grad_input=delta),
    _np_silu, _np_silu_backward,
    torch_predicts=True,
)


def _np_mish(x, out, s):
    # x tanh(softplus(x))
    _softplus_np(x, out)
    np.tanh(out, out=out)
    np.multiply(out, x, out=out)


def _np_mish_backward(delta, x, act, s):
    # tanh(softplus(x)) + x sigmoid(x) (1 - tanh(softplus(x))^2)
    t, v, w = s.values(0), s.values(1), s.values(2)
    _softplus_np(x, t)
    np.tanh(t, out=t)
    np.multiply(t, t, out=w)
    np.subtract(1.0, w, out=w)
    sigmoid(x, v)
    np.multiply(v, x, out=v)
    np.multiply(v, w, out=v)
    np.add(v, t, out=v)
    np.multiply(delta, v, out=delta)


_MISH = Pointwise(
    "mish", (), True,
    lambda x, out: _nn.mish(x, out=out),
    # mish_backward has no out= form.
    lambda delta, x, act: delta.copy_(_aten.mish_backward(delta, x)),
    _np_mish, _np_mish_backward,
    numpy_threads=1,
)


def _softplus(beta, threshold):
    # torch: beta x > threshold ? x : log1p(exp(beta x)) / beta
    def np_forward(x, out, s):
        mask, v = s.mask(), s.values()
        np.multiply(x, beta, out=out)
        np.less_equal(out, threshold, out=mask)
        np.minimum(out, threshold, out=out)  # the rest is replaced: no overflow
        np.exp(out, out=out)
        np.log1p(out, out=out)
        np.divide(out, beta, out=out)
        np.multiply(out, mask, out=out)
        np.logical_not(mask, out=mask)
        np.multiply(x, mask, out=v)
        np.add(out, v, out=out)

    def np_backward(delta, x, act, s):
        # sigmoid(beta x) up to the threshold, 1 above
        mask, v = s.mask(), s.values()
        np.multiply(x, beta, out=v)
        np.less_equal(v, threshold, out=mask)
        sigmoid(v, v)
        np.multiply(v, mask, out=v)
        np.logical_not(mask, out=mask)
        np.add(v, mask, out=v)
        np.multiply(delta, v, out=delta)

    return Pointwise(
        "softplus", (beta, threshold), True,
        lambda x, out: _nn.softplus(x, beta, threshold, out=out),
        lambda delta, x, act: _aten.softplus_backward.grad_input(
            delta, x, beta, threshold, grad_input=delta),
        np_forward, np_backward, torch_predicts=True,
    )


def _hardtanh(min_val, max_val):
    def np_backward(delta, x, act, s):
        # torch: zero where x <= min_val or x >= max_val
        mask = s.mask()
        np.greater(x, min_val, out=mask)
        np.multiply(delta, mask, out=delta)
        np.less(x, max_val, out=mask)
        np.multiply(delta, mask, out=delta)

    return Pointwise(
        "hardtanh", (min_val, max_val), True,
        lambda x, out: _nn.hardtanh(x, min_val, max_val, out=out),
        lambda delta, x, act: _aten.hardtanh_backward.grad_input(
            delta, x, min_val, max_val, grad_input=delta),
        lambda x, out, s: np.clip(x, min_val, max_val, out=out),
        np_backward, torch_predicts=True,
    )


def _torch_softsign(x, out):
    torch.abs(x, out=out)
    out.add_(1.0)
    torch.div(x, out, out=out)


def _np_softsign(x, out, s):
    np.abs(x, out=out)
    np.add(out, 1.0, out=out)
    np.divide(x, out, out=out)


def _np_softsign_backward(delta, x, act, s):
    # 1 / (1 + |x|)^2
    v = s.values()
    np.abs(x, out=v)
    np.add(v, 1.0, out=v)
    np.multiply(v, v, out=v)
    np.divide(delta, v, out=delta)


_SOFTSIGN = Pointwise(
    "softsign", (), True,
    _torch_softsign,
    lambda delta, x, act: delta.div_(x.abs().add_(1.0).square_()),
    _np_softsign, _np_softsign_backward,
)


def _np_tanhshrink(x, out, s):
    np.tanh(x, out=out)
    np.subtract(x, out, out=out)


def _np_tanhshrink_backward(delta, x, act, s):
    # tanh(x)^2
    v = s.values()
    np.tanh(x, out=v)
    np.multiply(v, v, out=v)
    np.multiply(delta, v, out=delta)


def _torch_tanhshrink(x, out):
    torch.tanh(x, out=out)
    torch.sub(x, out, out=out)


_TANHSHRINK = Pointwise(
    "tanhshrink", (), True,
    _torch_tanhshrink,
    lambda delta, x, act: delta.mul_(torch.tanh(x).square_()),
    _np_tanhshrink, _np_tanhshrink_backward,
    numpy_threads=2,
)


# Module type -> rule built from the module's settings. Exact types only.
_BY_TYPE: dict[type, Callable[[nn.Module], Pointwise]] = {
    nn.Identity: lambda m: IDENTITY,
    nn.ReLU: lambda m: _RELU,
    nn.Tanh: lambda m: _TANH,
    nn.Sigmoid: lambda m: _LOGISTIC,
    nn.LeakyReLU: lambda m: _leaky_relu(float(m.negative_slope)),
    nn.ELU: lambda m: _elu("elu", float(m.alpha), 1.0, 1.0),
    nn.SELU: lambda m: _elu("selu", _SELU_ALPHA, _SELU_SCALE, 1.0),
    nn.CELU: lambda m: _elu("celu", float(m.alpha), 1.0, 1.0 / float(m.alpha)),
    nn.GELU: lambda m: _gelu(m.approximate),
    nn.SiLU: lambda m: _SILU,
    nn.Mish: lambda m: _MISH,
    nn.Softplus: lambda m: _softplus(float(m.beta), float(m.threshold)),
    nn.Hardtanh: lambda m: _hardtanh(float(m.min_val), float(m.max_val)),
    nn.Softsign: lambda m: _SOFTSIGN,
    nn.Tanhshrink: lambda m: _TANHSHRINK,
}

#: Registry names with a closed form (not prelu, whose slope is learned, nor
#: rrelu, whose slopes are drawn while training).
ACTIVATION_NAMES = tuple(name for name, spec in ACTIVATIONS.items() if spec.factory in _BY_TYPE)


def pointwise_rule(module: nn.Module, inference: bool = False) -> Pointwise | None:
    """The closed form of an activation module, or None (then autograd applies).

    With ``inference``, the module as it acts at predict time: a randomised
    leaky ReLU is then a leaky ReLU with its mean slope (as in torch).
    """
    if inference and type(module) in (nn.RReLU, RReLU):
        return _leaky_relu((float(module.lower) + float(module.upper)) / 2)
    make = _BY_TYPE.get(type(module))
    return None if make is None else make(module)


def as_rule(activation, kwargs: dict | None = None) -> Pointwise:
    """A rule as is, or the closed form of a registry activation built with ``kwargs``.

    Raises
    ------
    ValueError
        If the activation has no closed form.
    """
    if isinstance(activation, Pointwise):
        return activation
    rule = None
    if isinstance(activation, str) and activation in ACTIVATION_NAMES:
        rule = pointwise_rule(make_activation(activation, kwargs))
    if rule is None:
        raise ValueError(f"activation must be one of {ACTIVATION_NAMES}, got {activation!r}")
    return rule
