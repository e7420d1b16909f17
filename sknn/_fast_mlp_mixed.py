"""The hand-derived training step under mixed precision (``autocast="bfloat16"``).

:class:`~sknn._fast_mlp.ManualMLPGrad` with ``torch.autocast``'s recipe for a
plain network, done by hand: every matmul and every element-wise operation
between them runs in the low precision (inputs, weights and biases are cast
to it at each step, as autocast casts them), the network's output is cast back
to the weights' dtype for the loss and its gradient, and the weight and bias
gradients are cast up into the parameters' ``.grad`` with the L2 penalty
added there. Autograd under ``torch.autocast`` computes the same operations
in the same precision (``tests/test_fast_path.py`` compares them); what this
saves is autograd's bookkeeping, which on a (256, 256) network costs more
than bfloat16 matmuls gain.
"""

from __future__ import annotations

import torch

from ._fast_mlp import ManualMLPGrad, _Buffers

__all__ = ["MixedPrecisionMLPGrad"]


class MixedPrecisionMLPGrad(ManualMLPGrad):
    """:class:`~sknn._fast_mlp.ManualMLPGrad` with its matmuls in ``low`` precision.

    Parameters
    ----------
    weights, biases, activation, output, alpha, dropouts, log_cap
        As for :class:`~sknn._fast_mlp.ManualMLPGrad` (float32 parameters).
    low : torch.dtype, default=torch.bfloat16
        The precision of the matmuls and the activations between them.
    """

    def __init__(self, weights, biases, activation, output, alpha, dropouts=None,
                 low=torch.bfloat16, log_cap=None):
        super().__init__(weights, biases, activation, output, alpha, dropouts, log_cap=log_cap)
        self.low = low
        self._w_low = [torch.empty_like(w, dtype=low) for w in self.weights]
        self._w_low_t = [w.t() for w in self._w_low]
        self._b_low = [torch.empty_like(b, dtype=low) for b in self.biases]
        self._gW_low = [torch.empty_like(w, dtype=low) for w in self.weights]
        self._gb_low = [torch.empty_like(b, dtype=low) for b in self.biases]
        # (low-precision copy, parameter) pairs, cast at every step.
        self._casts = list(zip([*self._w_low, *self._b_low], [*self.weights, *self.biases]))
        self._low_buffers = {}

    def _low_for(self, X):
        """Low-precision buffers for this batch size: the input's, and the layers'."""
        n = X.shape[0]
        if n not in self._low_buffers:
            self._low_buffers[n] = (
                torch.empty(n, X.shape[1], dtype=self.low, device=X.device),
                _Buffers(n, self._widths, self.alpha, self.low, X.device,
                         self.activation, self.dropouts),
            )
        return self._low_buffers[n]

    def _forward_low(self, X, train):
        """Cast X and the parameters (they change every step, as autocast
        casts them every step), then the forward pass in low precision."""
        for target, source in self._casts:
            target.copy_(source)
        x, low = self._low_for(X)
        x.copy_(X)
        return self._forward(x, low, train, self._w_low_t, self._b_low), x, low

    @torch.no_grad()
    def forward(self, X):
        """The raw output ``z`` in the parameters' dtype, computed in low precision."""
        return self._forward_low(X, train=False)[0].to(self.weights[0].dtype)

    @torch.no_grad()
    def __call__(self, X, Y, sw=None):
        """As :meth:`ManualMLPGrad.__call__`, with low-precision matmuls."""
        buf = self._get_buffers(X.shape[0], X)
        gWs, gbs = self._grads()
        self._check_views()  # the penalty reads views of the weights
        z_low, x, low = self._forward_low(X, train=True)
        z = buf.acts[-1]
        z.copy_(z_low)
        D = buf.deltas[-1]
        data_loss, penalty, pen_beta, pen_coef = self._loss_and_output_delta(z, Y, sw, D, buf)
        D = low.deltas[-1]
        D.copy_(buf.deltas[-1])

        for i in range(len(self.weights) - 1, -1, -1):
            a_prev = x if i == 0 else low.outs[i - 1]
            gW = gWs[i]
            gW.copy_(torch.mm(low.deltas_t[i], a_prev, out=self._gW_low[i]))
            if pen_coef is not None:
                if self.alpha != 0.0:
                    gW.addcmul_(self.weights[i], pen_coef)
            elif pen_beta:
                gW.add_(self.weights[i], alpha=pen_beta)
            gbs[i].copy_(torch.sum(D, 0, out=self._gb_low[i]))
            if i > 0:
                D = self._delta_below(i, D, self._w_low[i], low)
        return data_loss, penalty
