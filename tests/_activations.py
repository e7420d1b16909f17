"""Every activation with a closed form, with its definition written out literally.

Shared by the tests of the closed forms (tests/test_pointwise.py) and of the
training paths that use them. Settings other than the defaults are chosen so
that every branch is reached by standard-normal inputs.
"""

import math

import torch

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _elu(a, alpha, scale=1.0, input_scale=1.0):
    return scale * torch.where(a > 0, a, alpha * (torch.exp(a * input_scale) - 1))


def _softplus(a, beta, threshold):
    return torch.where(a * beta > threshold, a, torch.log1p(torch.exp(a * beta)) / beta)


# (test id, registry name, activation_kwargs, definition)
ACTIVATION_CASES = [
    ("identity", "identity", None, lambda a: a),
    ("relu", "relu", None, lambda a: torch.where(a > 0, a, 0 * a)),
    ("tanh", "tanh", None, lambda a: (torch.exp(2 * a) - 1) / (torch.exp(2 * a) + 1)),
    ("logistic", "logistic", None, lambda a: 1 / (1 + torch.exp(-a))),
    ("leaky_relu", "leaky_relu", None, lambda a: torch.where(a > 0, a, 0.01 * a)),
    ("leaky_relu-0.3", "leaky_relu", {"negative_slope": 0.3},
     lambda a: torch.where(a > 0, a, 0.3 * a)),
    ("elu-0.7", "elu", {"alpha": 0.7}, lambda a: _elu(a, 0.7)),
    ("selu", "selu", None, lambda a: _elu(a, _SELU_ALPHA, _SELU_SCALE)),
    ("celu-1.5", "celu", {"alpha": 1.5}, lambda a: _elu(a, 1.5, 1.0, 1 / 1.5)),
    ("gelu", "gelu", None, lambda a: 0.5 * a * (1 + torch.erf(a / math.sqrt(2)))),
    ("gelu-tanh", "gelu", {"approximate": "tanh"},
     lambda a: 0.5 * a * (1 + torch.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)))),
    ("silu", "silu", None, lambda a: a / (1 + torch.exp(-a))),
    ("mish", "mish", None, lambda a: a * torch.tanh(torch.log1p(torch.exp(a)))),
    ("softplus-2-1", "softplus", {"beta": 2.0, "threshold": 1.0},
     lambda a: _softplus(a, 2.0, 1.0)),
    ("hardtanh", "hardtanh", {"min_val": -0.5, "max_val": 0.8},
     lambda a: torch.where(a < -0.5, -0.5 + 0 * a, torch.where(a > 0.8, 0.8 + 0 * a, a))),
    ("softsign", "softsign", None, lambda a: a / (1 + a.abs())),
    ("tanhshrink", "tanhshrink", None, lambda a: a - torch.tanh(a)),
]

IDS = [case[0] for case in ACTIVATION_CASES]
