"""How sknn draws a dropout mask: one definition for every training path.

The module's forward pass under autograd (:class:`sknn._module.Dropout`), the
hand-derived torch step (:mod:`sknn._fast_mlp`) and the numpy step
(:mod:`sknn._numpy_mlp`) all draw a layer's mask here, from the layer's
generator, so that equal seeds give equal models on every path.

A mask keeps each element with probability ``1 - p`` and holds ``1 / (1 - p)``
where it keeps, 0 elsewhere; the layer's output is ``input * mask`` (torch's
own dropout computes the same product). What costs is the drawing:
``Tensor.bernoulli_(1 - p)`` on the CPU takes a double from the generator's
Mersenne Twister per element, 5.8 ns each on a 2 vCPU AMD EPYC, more than a
(256, 256) by (256, 256) matmul per mask. Here each element gets 32 random
bits instead -- ``random_`` fills 64-bit words, read as pairs of int32 -- and
is kept where its bits fall below ``(1 - p) * 2**32``: the keep probability is
exact to ``2**-32`` (float32's ``bernoulli_`` compares against a 24-bit
uniform). On the CPU the comparison and the scaling run as numpy ufuncs on
views of the same memory; ``python benchmarks/bench_options.py`` measures the
dropout row.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["DropoutMask", "dropout_mask", "keep_threshold"]

_INT64_MIN = -(2**63)
_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}


def keep_threshold(p: float) -> int:
    """The int32 value below which a draw keeps its element, for drop probability ``p``.

    Draws are uniform over the ``2**32`` int32 values, ``-2**31`` up, so
    ``threshold + 2**31`` of them keep: the nearest count to ``(1 - p) * 2**32``.
    """
    kept = round((1.0 - p) * 2**32)
    # A count of 2**32 (p below 2**-33) has no int32 threshold; keep all but one value.
    return min(kept, 2**32 - 1) - 2**31


class DropoutMask:
    """Scratch for drawing one layer's masks of a fixed shape, reused every step.

    Parameters
    ----------
    shape : tuple of int
        The layer's output shape, ``(n_samples, width)``.
    p : float
        The drop probability, in ``(0, 1)``.
    dtype : torch.dtype
        The mask's dtype: the layer output's.
    device : torch.device

    Attributes
    ----------
    mask : torch.Tensor
        The last mask drawn.
    array : numpy.ndarray or None
        A numpy view of :attr:`mask` on the CPU in float32/float64, else None.
    """

    def __init__(self, shape, p, dtype, device):
        count = int(np.prod(shape))
        # Two draws per 64-bit word (random_ from int64's minimum up fills all
        # 64 bits; plain random_ leaves the sign bit 0).
        self._words = torch.empty((count + 1) // 2, dtype=torch.int64, device=device)
        self._bits = self._words.view(torch.int32)[:count].view(shape)
        self._keep = torch.empty(shape, dtype=torch.bool, device=device)
        self.mask = torch.empty(shape, dtype=dtype, device=device)
        self._threshold = keep_threshold(p)
        # The scale rounded to the mask's dtype, as torch rounds a 0-d operand.
        # ``full`` fills on the device: the autograd path's Dropout builds a
        # mask at every step, and ``torch.tensor`` would copy from the host,
        # which waits for the GPU.
        self._scale = torch.full((), 1.0 / (1.0 - p), dtype=dtype, device=device)
        self._zero = torch.zeros((), dtype=dtype, device=device)
        self.array = None
        if self.mask.device.type == "cpu" and dtype in _NUMPY_DTYPES:
            # numpy's ufuncs compare and scale a (200, 256) mask in under half
            # the time of torch's single-threaded kernels.
            self.array = self.mask.numpy()
            self._bits_array = self._bits.numpy()
            self._keep_array = self._keep.numpy()
            self._scale_value = _NUMPY_DTYPES[dtype](self._scale.item())

    def draw(self, generator):
        """Draw the next mask from ``generator`` into :attr:`mask` and return it."""
        self._words.random_(_INT64_MIN, None, generator=generator)
        if self.array is not None:
            np.less(self._bits_array, self._threshold, out=self._keep_array)
            np.multiply(self._keep_array, self._scale_value, out=self.array)
        else:
            torch.lt(self._bits, self._threshold, out=self._keep)
            torch.where(self._keep, self._scale, self._zero, out=self.mask)
        return self.mask


def dropout_mask(like, p, generator):
    """A fresh mask shaped, typed and placed like the tensor ``like``."""
    return DropoutMask(tuple(like.shape), p, like.dtype, like.device).draw(generator)
