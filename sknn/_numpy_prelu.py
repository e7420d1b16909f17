"""``activation="prelu"`` in the numpy training step.

``torch.nn.PReLU``: ``x`` where ``x > 0``, else ``a * x``, with the slope
``a`` learned (one per layer, or one per unit with ``num_parameters``). Its
gradients, as torch takes them::

    dx = dy          where x > 0, else a * dy
    da = sum of x * dy over the elements with x <= 0 (per unit: over the rows)
"""

from __future__ import annotations

import numpy as np
from torch import nn

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

    def forward(self, pre, out, scratch):
        """``out = max(pre, 0) + slope * min(pre, 0)``: torch's values exactly
        (one of the two terms is 0), with fast ufuncs instead of masked copies."""
        neg = scratch.values(0)
        np.minimum(pre, 0, out=neg)
        np.maximum(pre, 0, out=out)
        np.multiply(neg, self.slope, out=neg)
        np.add(out, neg, out=out)

    def backward(self, delta, pre, scratch):
        """Turn ``delta`` (at the output) into the gradient at ``pre``, in place,
        and write the slope's gradient."""
        neg, terms, pos = scratch.values(0), scratch.values(1), scratch.values(2)
        np.minimum(pre, 0, out=neg)  # x where x <= 0, else 0
        np.multiply(neg, delta, out=terms)
        if self._per_unit:
            _add_reduce(terms, 0, out=self.gslope)
        else:
            self.gslope[0] = _add_reduce(terms, None)
        # delta * 1 where x > 0, slope * delta * 1 elsewhere (the other term 0):
        # torch's values exactly.
        np.greater(pre, 0, out=pos, casting="unsafe")
        np.subtract(1.0, pos, out=neg)
        np.multiply(delta, self.slope, out=terms)
        np.multiply(terms, neg, out=terms)
        np.multiply(delta, pos, out=delta)
        np.add(delta, terms, out=delta)
