"""Registry of hidden-layer activations: name -> factory of a ``torch.nn.Module``.

This is the single place an activation is added. Each entry also names the gain
that weight initialisers use for it (see :mod:`sknn._initializers`) and the
lecture topic it comes from, so docs, validation and initialisation agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


class RReLU(nn.RReLU):
    """Randomised leaky ReLU that draws its slopes from an explicit generator.

    ``torch.nn.RReLU`` samples from the global torch RNG, which sknn never
    touches; with ``generator=None`` this falls back to that behaviour so the
    layer also works on its own.
    """

    generator: torch.Generator | None = None

    def forward(self, input: torch.Tensor) -> torch.Tensor:  # noqa: D102
        if not self.training or self.generator is None:
            return super().forward(input)
        slopes = torch.empty_like(input).uniform_(
            self.lower, self.upper, generator=self.generator
        )
        return torch.where(input >= 0, input, input * slopes)


@dataclass(frozen=True)
class ActivationSpec:
    """How to build one activation and how initialisers should treat it.

    Parameters
    ----------
    factory : callable
        Called with the user's ``activation_kwargs``; returns a new module.
    gain : str
        Name understood by :func:`torch.nn.init.calculate_gain`.
    description : str
        One line for the documentation.
    lecture : str
        The course topic this option comes from.
    """

    factory: Callable[..., nn.Module]
    gain: str
    description: str
    lecture: str


ACTIVATIONS: dict[str, ActivationSpec] = {
    "identity": ActivationSpec(
        nn.Identity, "linear", "f(x) = x; no non-linearity", "001 activation table"
    ),
    "logistic": ActivationSpec(
        nn.Sigmoid, "sigmoid", "logistic sigmoid 1 / (1 + e^-x) (scikit-learn's name)",
        "001 sigmoid",
    ),
    "sigmoid": ActivationSpec(
        nn.Sigmoid, "sigmoid", "same as 'logistic' (PyTorch's name)", "001 sigmoid"
    ),
    "tanh": ActivationSpec(nn.Tanh, "tanh", "hyperbolic tangent", "001 tanh"),
    "relu": ActivationSpec(nn.ReLU, "relu", "max(0, x)", "001 ReLU"),
    "leaky_relu": ActivationSpec(
        nn.LeakyReLU, "leaky_relu", "x if x > 0 else negative_slope * x (default 0.01)",
        "001 Leaky ReLU",
    ),
    "prelu": ActivationSpec(
        nn.PReLU, "leaky_relu", "leaky ReLU whose slope is learned (init 0.25)",
        "001 PReLU",
    ),
    "rrelu": ActivationSpec(
        RReLU, "leaky_relu",
        "leaky ReLU with a random slope in [lower, upper] while training, their mean "
        "at predict time", "001 RReLU",
    ),
    "elu": ActivationSpec(nn.ELU, "relu", "x if x > 0 else alpha * (e^x - 1)", "001 ELU"),
    "selu": ActivationSpec(
        nn.SELU, "selu", "scaled ELU (self-normalising networks)", "001 ELU family"
    ),
    "celu": ActivationSpec(
        nn.CELU, "relu", "continuously differentiable ELU", "001 ELU family"
    ),
    "gelu": ActivationSpec(
        nn.GELU, "relu", "x * Phi(x), Gaussian error linear unit", "002 activation table"
    ),
    "silu": ActivationSpec(nn.SiLU, "relu", "x * sigmoid(x) (swish)", "002 activation table"),
    "mish": ActivationSpec(nn.Mish, "relu", "x * tanh(softplus(x))", "002 activation table"),
    "softsign": ActivationSpec(
        nn.Softsign, "tanh", "x / (1 + |x|)", "002 activation table"
    ),
    "softplus": ActivationSpec(
        nn.Softplus, "relu", "log(1 + e^x), a smooth ReLU", "002 activation table"
    ),
    "hardtanh": ActivationSpec(
        nn.Hardtanh, "tanh", "tanh clipped to a line in [-1, 1]", "002 activation table"
    ),
    "tanhshrink": ActivationSpec(
        nn.Tanhshrink, "linear", "x - tanh(x)", "002 activation table"
    ),
}

def make_activation(activation, kwargs: dict | None) -> nn.Module:
    """Build one activation module from a registry name or a module class.

    Parameters
    ----------
    activation : str or type
        A key of :data:`ACTIVATIONS` or a ``torch.nn.Module`` subclass.
    kwargs : dict or None
        Keyword arguments for the module's constructor.

    Returns
    -------
    module : torch.nn.Module
    """
    kwargs = dict(kwargs or {})
    factory = ACTIVATIONS[activation].factory if isinstance(activation, str) else activation
    if factory is nn.Identity and kwargs:  # nn.Identity would swallow them
        raise TypeError(f"Identity takes no keyword arguments; got {sorted(kwargs)}.")
    return factory(**kwargs)


def activation_gain(activation, kwargs: dict | None) -> tuple[str, float | None]:
    """Return the ``calculate_gain`` name and parameter suited to an activation.

    Custom activation classes get the ReLU gain, the usual choice for
    unbounded modern activations.
    """
    if not isinstance(activation, str):
        return "relu", None
    kwargs = kwargs or {}
    if activation == "leaky_relu":
        return "leaky_relu", kwargs.get("negative_slope", 0.01)
    if activation == "prelu":
        return "leaky_relu", kwargs.get("init", 0.25)
    if activation == "rrelu":
        return "leaky_relu", (kwargs.get("lower", 1 / 8) + kwargs.get("upper", 1 / 3)) / 2
    return ACTIVATIONS[activation].gain, None
