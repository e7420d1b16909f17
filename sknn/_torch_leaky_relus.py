"""``activation="prelu"`` and ``"rrelu"`` in the hand-derived torch step.

The torch twins of :mod:`sknn._numpy_leaky_relus`, for
:class:`sknn._fast_mlp.ManualMLPGrad`: ``torch.nn.PReLU`` (one slope, or one
per unit) and sknn's :class:`~sknn._activations.RReLU`, with its slopes drawn
from the module's generator in the module's order. Both keep each element's
factor from the forward pass (1, or its slope), computed with fast
element-wise kernels, so the values and input gradients are the modules' to
the bit (tests/test_leaky_relu_factors.py); tests/test_fast_path.py checks
whole fits against autograd.
"""

from __future__ import annotations

import torch
from torch import nn

from ._activations import RReLU

__all__ = ["TorchPReLU", "TorchRReLU", "torch_leaky_relu"]


def _buffers(cache, like, count):
    """``count`` tensors shaped like ``like`` and a 0-d 1 (a Python scalar
    operand is wrapped into a new tensor at every call), made once per shape."""
    buffers = cache.get(like.shape)
    if buffers is None:
        one = torch.ones((), dtype=like.dtype, device=like.device)
        buffers = cache[like.shape] = (*(torch.empty_like(like) for _ in range(count)), one)
    return buffers


class TorchPReLU:
    """One hidden layer's ``nn.PReLU`` (one slope, or one per unit).

    As for :class:`TorchRReLU`, the forward pass keeps each element's factor,
    1 where ``pre > 0`` and the slope elsewhere (``pos + slope * neg`` with
    ``pos = max(sign(pre), 0)`` and ``neg = 1 - pos``, exact), and ``neg``
    for the slope's gradient, the sum of ``pre * delta`` over the elements
    with ``pre <= 0``. torch's ``_prelu_kernel`` and its backward allocate
    their results at every step and took 2-3x as long here on one thread.
    """

    def __init__(self, module):
        self.module = module
        # Per batch shape: factors, the 0/1 indicators of pre <= 0, and
        # scratch for the slope gradient's terms.
        self._buffers = {}

    def _slope(self):
        # As torch.prelu reshapes a per-unit weight to broadcast over the rows.
        w = self.module.weight.detach()
        return w if w.numel() == 1 else w.view(1, -1)

    def forward(self, pre, out, train=True):
        """``out = pre`` where ``pre > 0``, else ``slope * pre``."""
        factor, neg, _, one = _buffers(self._buffers, pre, 3)
        torch.sign(pre, out=factor)
        factor.clamp_min_(0.0)  # pos: 1 where pre > 0, else 0
        torch.sub(one, factor, out=neg)
        factor.addcmul_(neg, self._slope())  # pos + slope * neg: exactly 1 or the slope
        torch.mul(pre, factor, out=out)

    def backward(self, delta, pre):
        """Turn ``delta`` into the gradient at ``pre``, in place, and write the slope's gradient."""
        factor, neg, terms, _ = self._buffers[pre.shape]
        weight = self.module.weight
        if weight.grad is None:
            weight.grad = torch.zeros_like(weight)
        torch.mul(pre, delta, out=terms)
        terms.mul_(neg)
        if weight.numel() == 1:
            torch.sum(terms.view(-1), 0, keepdim=True, out=weight.grad)
        else:
            torch.sum(terms, 0, out=weight.grad)
        delta.mul_(factor)


class TorchRReLU:
    """One hidden layer's sknn ``RReLU``: random slopes while training, their mean at evaluation.

    While training, the forward pass keeps each element's factor, 1 where
    ``pre >= 0`` and its slope ``r`` elsewhere, so that the backward pass is
    one product. The factor is ``pos + r * (1 - pos)`` with ``pos`` the 0/1
    indicator ``min(sign(pre) + 1, 1)`` (1 for ``-0.0`` too), exact for any
    slope range (``1 + r * 0`` is 1, ``0 + r * 1`` is ``r``), so the products
    are the module's to the bit. These are torch's fast arithmetic kernels in
    place of a comparison and a ``where`` per direction (the RReLU rows of
    ``python benchmarks/bench_options.py --case large`` before and after are
    in docs/benchmarks.rst).
    """

    def __init__(self, module):
        self.module = module
        self.lower, self.upper = float(module.lower), float(module.upper)
        # Per batch shape: the slopes, drawn anew at every training step, and
        # the factors.
        self._buffers = {}

    def forward(self, pre, out, train=True):
        """``out = pre`` where ``pre >= 0``, else ``r * pre`` (as the module computes it)."""
        if not train:
            torch.mul(pre, (self.lower + self.upper) / 2, out=out)
            torch.where(pre >= 0, pre, out, out=out)
            return
        slopes, factor, one = _buffers(self._buffers, pre, 2)
        slopes.uniform_(self.lower, self.upper, generator=self.module.generator)
        torch.sign(pre, out=factor)  # 1, 0 or -1
        factor.add_(one).clamp_max_(1.0)  # pos: 1 where pre >= 0, else 0
        torch.sub(one, factor, out=out)  # 1 - pos (out is free until the last line)
        factor.addcmul_(slopes, out)
        torch.mul(pre, factor, out=out)

    def backward(self, delta, pre):
        """``delta`` where ``pre >= 0``, else ``r * delta``, in place."""
        delta.mul_(self._buffers[pre.shape][1])  # the factors


def torch_leaky_relu(module):
    """The torch-step form of a PReLU or RReLU module
    (:func:`sknn._numpy_leaky_relus.supports_leaky_relu` says which qualify)."""
    if type(module) is nn.PReLU:
        return TorchPReLU(module)
    if type(module) is RReLU:
        return TorchRReLU(module)
    raise TypeError(f"no torch-step form for {type(module).__name__}")
