"""``activation="prelu"`` and ``"rrelu"`` in the numpy training step.

``torch.nn.PReLU``: ``x`` where ``x > 0``, else ``a * x``, with the slope
``a`` learned (one per layer, or one per unit with ``num_parameters``). Its
gradients, as torch takes them::

    dx = dy          where x > 0, else a * dy
    da = sum of x * dy over the elements with x <= 0 (per unit: over the rows)

sknn's :class:`~sknn._activations.RReLU`: while training, ``x`` where
``x >= 0``, else ``r * x`` with ``r`` drawn uniformly from ``[lower, upper]``
for every element from the module's generator (the same draws, in the same
order, as the module's forward pass); at evaluation a leaky ReLU with the
mean slope.

While training, both keep each element's factor from the forward pass (1 on
the positive side, the slope on the other: ``pos + slope * (1 - pos)`` with
the 0/1 indicator ``pos`` from ``sign``, exact for any slope), so the forward
value and the backward pass are one product each, torch's values exactly, from
fast ufuncs instead of masked copies; as :mod:`sknn._torch_leaky_relus` does.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._activations import RReLU
from ._recent import Recent

_add_reduce = np.add.reduce


class NumpyPReLU:
    """One hidden layer's PReLU on views of the step's flat arrays.

    Parameters
    ----------
    module : torch.nn.PReLU
    slope, gslope : ndarray
        Views of the slope(s) in the flat parameters and in the flat gradient.
    """

    def __init__(self, module, slope, gslope):
        self.module = module
        self.slope, self.gslope = slope, gslope
        self._per_unit = slope.shape[0] > 1

    @staticmethod
    def supports(module, width) -> bool:
        """An ``nn.PReLU`` with one slope, or one per unit of a layer ``width`` wide."""
        return type(module) is nn.PReLU and module.weight.shape[0] in (1, width)

    def forward(self, pre, out, scratch, train=True):
        """``out = pre * factor``, the factor 1 where ``pre > 0`` and the slope
        elsewhere, kept (scratch value 0) with the 0/1 indicators of
        ``pre <= 0`` (value 1) for the backward pass."""
        factor, neg = scratch.values(0), scratch.values(1)
        np.sign(pre, out=factor)
        np.maximum(factor, 0.0, out=factor)  # pos: 1 where pre > 0, else 0
        np.subtract(1.0, factor, out=neg)
        np.multiply(neg, self.slope, out=out)  # out is free until the last line
        np.add(factor, out, out=factor)  # pos + slope * neg: exactly 1 or the slope
        np.multiply(pre, factor, out=out)

    def backward(self, delta, pre, scratch):
        """Turn ``delta`` (at the output) into the gradient at ``pre``, in place,
        and write the slope's gradient (``pre * delta`` summed where ``pre <= 0``)."""
        factor, neg, terms = scratch.values(0), scratch.values(1), scratch.values(2)
        np.multiply(pre, delta, out=terms)
        np.multiply(terms, neg, out=terms)
        if self._per_unit:
            _add_reduce(terms, 0, out=self.gslope)
        else:
            self.gslope[0] = _add_reduce(terms, None)
        np.multiply(delta, factor, out=delta)


class NumpyRReLU:
    """One hidden layer's randomised leaky ReLU (sknn's ``RReLU`` with its generator).

    While training, the forward pass keeps each element's factor (1 where
    ``pre >= 0``, its slope elsewhere) for a one-product backward pass, as
    :class:`sknn._torch_leaky_relus.TorchRReLU` computes it.
    """

    def __init__(self, module):
        self.module = module
        self.lower, self.upper = float(module.lower), float(module.upper)
        # Torch views of the slope buffers, made once per batch size; as few
        # as the buffers they view (a view keeps its buffer's memory).
        self._slopes_t = Recent()

    @staticmethod
    def supports(module, width) -> bool:
        """sknn's RReLU, drawing from a generator (set while the estimator trains)."""
        return type(module) is RReLU and module.generator is not None

    def forward(self, pre, out, scratch, train=True):
        """Apply this step's slopes, drawn into scratch value 0, their factors
        kept in scratch value 1 for the backward pass; at evaluation the mean slope."""
        slopes, factor = scratch.values(0), scratch.values(1)
        if not train:
            pos, neg = scratch.values(2), scratch.values(3)
            _sides(pre, pos, neg)
            np.multiply(pre, (self.lower + self.upper) / 2, out=factor)
            np.multiply(factor, neg, out=factor)
            np.multiply(pre, pos, out=out)
            np.add(out, factor, out=out)
            return
        # Keyed by address too: a view keeps its array alive, so no other
        # array of that shape can take the address while the view is kept.
        slopes_t = self._slopes_t((slopes.ctypes.data, slopes.shape),
                                  lambda: torch.from_numpy(slopes))
        slopes_t.uniform_(self.lower, self.upper, generator=self.module.generator)
        np.sign(pre, out=factor)
        np.add(factor, 1.0, out=factor)
        np.minimum(factor, 1.0, out=factor)  # pos: 1 where pre >= 0 (-0.0 too), else 0
        np.subtract(1.0, factor, out=out)  # 1 - pos (out is free until the last line)
        np.multiply(out, slopes, out=out)
        np.add(factor, out, out=factor)  # pos + r (1 - pos): exactly 1 or r
        np.multiply(pre, factor, out=out)

    def backward(self, delta, pre, scratch):
        """``delta`` where ``pre >= 0``, else ``r * delta``, in place."""
        np.multiply(delta, scratch.values(1), out=delta)  # the factors


def _sides(pre, pos, neg):
    """0/1 indicators of ``pre >= 0`` and of the other side."""
    np.greater_equal(pre, 0, out=pos, casting="unsafe")
    np.subtract(1.0, pos, out=neg)


def numpy_leaky_relu(module, slope=None, gslope=None):
    """The numpy form of a PReLU (on views of its slopes) or RReLU module."""
    if type(module) is nn.PReLU:
        return NumpyPReLU(module, slope, gslope)
    return NumpyRReLU(module)


def supports_leaky_relu(module, width) -> bool:
    """Whether the numpy step has this PReLU/RReLU module's closed form."""
    return NumpyPReLU.supports(module, width) or NumpyRReLU.supports(module, width)
