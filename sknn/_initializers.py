"""Registry of weight initialisation schemes: name -> function on one ``nn.Linear``.

Every scheme draws from generators it is given (a numpy ``RandomState`` for the
scikit-learn scheme, a ``torch.Generator`` for the others), never from the
global torch RNG, so ``random_state`` alone decides the initial weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._activations import activation_gain


@dataclass(frozen=True)
class InitContext:
    """What a scheme may need besides the layer and the user's ``init_kwargs``."""

    activation: object
    activation_kwargs: dict | None
    rng: np.random.RandomState
    generator: torch.Generator


def _sklearn(layer: nn.Linear, ctx: InitContext) -> None:
    # Glorot uniform on weights *and* biases, drawn in scikit-learn's order
    # (coef then intercept, layer by layer) so the same random_state gives the
    # same initial network as MLPClassifier.
    fan_out, fan_in = layer.weight.shape
    factor = 2.0 if ctx.activation in ("logistic", "sigmoid") else 6.0
    bound = np.sqrt(factor / (fan_in + fan_out))
    coef = ctx.rng.uniform(-bound, bound, (fan_in, fan_out))
    intercept = ctx.rng.uniform(-bound, bound, fan_out)
    layer.weight.copy_(torch.from_numpy(coef.T))
    layer.bias.copy_(torch.from_numpy(intercept))


def _pytorch(layer: nn.Linear, ctx: InitContext) -> None:
    # nn.Linear.reset_parameters, but with our generator instead of the global one.
    nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=ctx.generator)
    bound = 1 / math.sqrt(layer.weight.shape[1])
    nn.init.uniform_(layer.bias, -bound, bound, generator=ctx.generator)


def _gain(ctx: InitContext, kwargs: dict) -> float:
    name, param = activation_gain(ctx.activation, ctx.activation_kwargs)
    return kwargs.pop("gain", nn.init.calculate_gain(name, param))


def _weights_only(fn: Callable, uses_gain: bool = False, random: bool = True):
    """Wrap ``torch.nn.init.<fn>`` to set weights and zero the biases."""

    def scheme(layer: nn.Linear, ctx: InitContext, **kwargs) -> None:
        if uses_gain:
            kwargs["gain"] = _gain(ctx, kwargs)
        if random:
            kwargs["generator"] = ctx.generator
        fn(layer.weight, **kwargs)
        nn.init.zeros_(layer.bias)

    return scheme


def _kaiming(fn: Callable):
    def scheme(layer: nn.Linear, ctx: InitContext, **kwargs) -> None:
        name, param = activation_gain(ctx.activation, ctx.activation_kwargs)
        if name not in ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"):
            name = "relu"
        kwargs.setdefault("nonlinearity", name)
        if kwargs["nonlinearity"] == "leaky_relu":
            kwargs.setdefault("a", 0.01 if param is None else param)
        fn(layer.weight, generator=ctx.generator, **kwargs)
        nn.init.zeros_(layer.bias)

    return scheme


@dataclass(frozen=True)
class InitSpec:
    """One initialisation scheme.

    Parameters
    ----------
    apply : callable
        ``apply(layer, ctx, **init_kwargs)`` initialises one ``nn.Linear`` in place.
    description : str
        One line for the documentation.
    lecture : str
        The course topic this option comes from.
    required : tuple of str
        ``init_kwargs`` keys the scheme cannot do without.
    """

    apply: Callable
    description: str
    lecture: str
    required: tuple = ()


INITIALIZERS: dict[str, InitSpec] = {
    "sklearn": InitSpec(
        _sklearn,
        "scikit-learn's Glorot uniform on weights and biases (factor 2 for logistic); "
        "identical to MLPClassifier for the same random_state",
        "002 MLPClassifier",
    ),
    "pytorch": InitSpec(
        _pytorch,
        "PyTorch's nn.Linear default: kaiming_uniform(a=sqrt(5)), uniform bias",
        "000 nn.Sequential",
    ),
    "xavier_uniform": InitSpec(
        _weights_only(nn.init.xavier_uniform_, uses_gain=True),
        "Glorot uniform with the activation's gain, zero biases", "001 Xavier init",
    ),
    "xavier_normal": InitSpec(
        _weights_only(nn.init.xavier_normal_, uses_gain=True),
        "Glorot normal with the activation's gain, zero biases", "001 Xavier init",
    ),
    "kaiming_uniform": InitSpec(
        _kaiming(nn.init.kaiming_uniform_),
        "He uniform for the activation's non-linearity, zero biases", "001 Kaiming init",
    ),
    "kaiming_normal": InitSpec(
        _kaiming(nn.init.kaiming_normal_),
        "He normal for the activation's non-linearity, zero biases", "001 Kaiming init",
    ),
    "uniform": InitSpec(
        _weights_only(nn.init.uniform_),
        "uniform on [a, b) (default [0, 1) as torch), zero biases", "001 uniform init",
    ),
    "normal": InitSpec(
        _weights_only(nn.init.normal_),
        "normal(mean, std) (default N(0, 1) as torch), zero biases", "001 normal init",
    ),
    "trunc_normal": InitSpec(
        _weights_only(nn.init.trunc_normal_),
        "normal truncated to [a, b] (default N(0, 1) on [-2, 2]), zero biases",
        "001 normal init",
    ),
    "orthogonal": InitSpec(
        _weights_only(nn.init.orthogonal_, uses_gain=True),
        "(semi-)orthogonal weights scaled by the activation's gain, zero biases",
        "001 weight init",
    ),
    "zeros": InitSpec(
        _weights_only(nn.init.zeros_, random=False), "all weights and biases 0",
        "001 zeros init",
    ),
    "ones": InitSpec(
        _weights_only(nn.init.ones_, random=False), "all weights 1, zero biases",
        "001 ones init",
    ),
    "constant": InitSpec(
        _weights_only(nn.init.constant_, random=False),
        "all weights equal to init_kwargs['val'], zero biases", "001 constant init",
        required=("val",),
    ),
}


@torch.no_grad()
def init_linear(layer: nn.Linear, init, init_kwargs: dict | None, ctx: InitContext) -> None:
    """Initialise one linear layer in place.

    Parameters
    ----------
    layer : torch.nn.Linear
    init : str or callable
        A key of :data:`INITIALIZERS`, or a callable applied to the weight
        tensor (in place, or returning the new values); biases are then zeroed.
    init_kwargs : dict or None
        Keyword arguments for the scheme.
    ctx : InitContext
    """
    kwargs = dict(init_kwargs or {})
    if callable(init):
        out = init(layer.weight, **kwargs)
        if isinstance(out, torch.Tensor) and out is not layer.weight:
            layer.weight.copy_(out)
        nn.init.zeros_(layer.bias)
        return
    INITIALIZERS[init].apply(layer, ctx, **kwargs)
