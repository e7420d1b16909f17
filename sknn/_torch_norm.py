"""``normalization="batch"`` and ``"layer"`` in the hand-derived torch step.

:class:`sknn._fast_mlp.ManualMLPGrad` places one of these between a hidden
``Linear`` and its activation, as :class:`sknn.MLPModule` does with
``torch.nn.BatchNorm1d`` and ``torch.nn.LayerNorm``. Both directions call the
ATen kernels autograd itself runs for those modules (``native_batch_norm``,
``native_layer_norm`` and their backward functions), so the step computes
what autograd computes, without the graph: BatchNorm's running estimates and
batch counter are updated in the module's own buffers, as its forward pass
does. tests/test_fast_path.py checks both against autograd.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["TorchNorm"]

_aten = torch.ops.aten
_ALL_GRADS = [True, True, True]


class TorchNorm:
    """One hidden layer's normalisation module, forward and backward by its kernels.

    Parameters
    ----------
    module : torch.nn.BatchNorm1d or torch.nn.LayerNorm
        As sknn builds them (:func:`sknn._numpy_norm.supports_norm`).
    """

    def __init__(self, module):
        self.module = module
        self.batch = type(module) is nn.BatchNorm1d
        self._saved = None

    def forward(self, z, train=True):
        """The module's output for the linear output ``z`` (a new tensor).

        In training BatchNorm normalises with the batch's statistics and
        updates its running estimates; in evaluation it uses them.
        """
        m = self.module
        if self.batch:
            out, mean, invstd = torch.native_batch_norm(
                z, m.weight, m.bias, m.running_mean, m.running_var, train, m.momentum, m.eps)
            if train:
                m.num_batches_tracked.add_(1)
        else:
            out, mean, invstd = torch.native_layer_norm(z, m.normalized_shape, m.weight, m.bias,
                                                        m.eps)
        self._saved = (z, mean, invstd) if train else None
        return out

    def backward(self, dy):
        """The gradient at the module's input for ``dy`` at its output (a new
        tensor) after the last training :meth:`forward`; the gradients of its
        weight and bias go into their ``.grad``."""
        m = self.module
        z, mean, invstd = self._saved
        if self.batch:
            dz, dw, db = _aten.native_batch_norm_backward(
                dy, z, m.weight, m.running_mean, m.running_var, mean, invstd, True, m.eps,
                _ALL_GRADS)
        else:
            dz, dw, db = _aten.native_layer_norm_backward(
                dy, z, m.normalized_shape, mean, invstd, m.weight, m.bias, _ALL_GRADS)
        for p, g in ((m.weight, dw), (m.bias, db)):
            if p.grad is None:
                p.grad = g
            else:
                p.grad.copy_(g)
        return dz
