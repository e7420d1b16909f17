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

from ._fast_mlp import ManualMLPGrad

__all__ = ["MixedPrecisionMLPGrad"]


class _LowBuffers:
    """Low-precision activations and deltas for one batch size."""

    def __init__(self, n, n_in, widths, low, device, keeps_input, dropouts):
        self.x = torch.empty(n, n_in, dtype=low, device=device)
        self.acts = [torch.empty(n, w, dtype=low, device=device) for w in widths]
        self.pres = [
            torch.empty(n, w, dtype=low, device=device) if keeps_input and i < len(widths) - 1
            else a for i, (w, a) in enumerate(zip(widths, self.acts))
        ]
        self.keeps = [None if d is None else torch.empty(n, w, dtype=low, device=device)
                      for w, d in zip(widths, dropouts)]
        self.outs = [a if k is None else torch.empty_like(a) for a, k in zip(self.acts, self.keeps)]
        self.deltas = [torch.empty(n, w, dtype=low, device=device) for w in widths]
        self.deltas_t = [d.t() for d in self.deltas]


class MixedPrecisionMLPGrad(ManualMLPGrad):
    """:class:`~sknn._fast_mlp.ManualMLPGrad` with its matmuls in ``low`` precision.

    Parameters
    ----------
    weights, biases, activation, output, alpha, dropouts
        As for :class:`~sknn._fast_mlp.ManualMLPGrad` (float32 parameters).
    low : torch.dtype, default=torch.bfloat16
        The precision of the matmuls and the activations between them.
    """

    def __init__(self, weights, biases, activation, output, alpha, dropouts=None,
                 low=torch.bfloat16):
        super().__init__(weights, biases, activation, output, alpha, dropouts)
        self.low = low
        self._w_low = [torch.empty_like(w, dtype=low) for w in self.weights]
        self._w_low_t = [w.t() for w in self._w_low]
        self._b_low = [torch.empty_like(b, dtype=low) for b in self.biases]
        self._gW_low = [torch.empty_like(w, dtype=low) for w in self.weights]
        self._gb_low = [torch.empty_like(b, dtype=low) for b in self.biases]
        self._low_buffers = {}

    def _low_for(self, X):
        n = X.shape[0]
        buf = self._low_buffers.get(n)
        if buf is None:
            buf = self._low_buffers[n] = _LowBuffers(
                n, X.shape[1], self._widths, self.low, X.device,
                self.activation.keeps_input, self.dropouts,
            )
        return buf

    def _forward_low(self, X, low, train):
        # autocast casts the parameters at every step: they change every step.
        for target, source in zip([*self._w_low, *self._b_low], [*self.weights, *self.biases]):
            target.copy_(source)
        low.x.copy_(X)
        act_fwd = self.activation.torch_forward
        last = len(self.weights) - 1
        a = low.x
        for i, (w_t, b) in enumerate(zip(self._w_low_t, self._b_low)):
            pre = low.pres[i]
            torch.addmm(b, a, w_t, out=pre)
            if i != last and act_fwd is not None:
                act_fwd(pre, low.acts[i])
            a = low.acts[i]
            drop = self.dropouts[i]
            if drop is not None and train:
                keep = low.keeps[i].bernoulli_(1 - drop.p, generator=drop.generator)
                a = torch.mul(a, keep, out=low.outs[i]).div_(1 - drop.p)
        return a

    @torch.no_grad()
    def forward(self, X):
        """The raw output ``z`` in the parameters' dtype, computed in low precision."""
        return self._forward_low(X, self._low_for(X), train=False).to(self.weights[0].dtype)

    @torch.no_grad()
    def __call__(self, X, Y, sw=None):
        """As :meth:`ManualMLPGrad.__call__`, with low-precision matmuls."""
        buf = self._get_buffers(X.shape[0], X)
        low = self._low_for(X)
        gWs, gbs = self._grads()
        z = buf.acts[-1]
        z.copy_(self._forward_low(X, low, train=True))
        D = buf.deltas[-1]
        data_loss, penalty, pen_beta, pen_coef = self._loss_and_output_delta(z, Y, sw, D, buf)
        D = low.deltas[-1]
        D.copy_(buf.deltas[-1])

        act_bwd = self.activation.torch_backward
        for i in range(len(self.weights) - 1, -1, -1):
            a_prev = low.x if i == 0 else low.outs[i - 1]
            gW = gWs[i]
            gW.copy_(torch.mm(low.deltas_t[i], a_prev, out=self._gW_low[i]))
            if pen_coef is not None:
                if self.alpha != 0.0:
                    gW.addcmul_(self.weights[i], pen_coef)
            elif pen_beta:
                gW.add_(self.weights[i], alpha=pen_beta)
            gbs[i].copy_(torch.sum(D, 0, out=self._gb_low[i]))
            if i > 0:
                D_prev = low.deltas[i - 1]
                torch.mm(D, self._w_low[i], out=D_prev)
                drop = self.dropouts[i - 1]
                if drop is not None:
                    D_prev.div_(1 - drop.p).mul_(low.keeps[i - 1])
                if act_bwd is not None:
                    act_bwd(D_prev, low.pres[i - 1], low.acts[i - 1])
                D = D_prev
        return data_loss, penalty
