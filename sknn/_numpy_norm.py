"""``normalization="batch"`` and ``"layer"`` in the numpy training step.

:class:`sknn._numpy_mlp.NumpyMLPGradient` places one of these between a
hidden ``Linear`` and its activation, as :class:`sknn.MLPModule` does with
``torch.nn.BatchNorm1d`` and ``torch.nn.LayerNorm``. The forward pass is the
modules' (biased variance for normalising; BatchNorm's running estimates
updated with its momentum and the unbiased variance, in the module's own
buffers), the backward pass their closed-form gradient::

    dxhat = dy * gamma
    dz = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sqrt(var + eps)
    dgamma = sum over rows of dy * xhat,  dbeta = sum over rows of dy

with the means over the batch (BatchNorm) or over each row's units
(LayerNorm). tests/test_numpy_norm.py checks both against autograd.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from ._recent import Recent

_add_reduce = np.add.reduce


class _Norm:
    """Shared parts: the affine parameters (views of the step's flat arrays)
    and scratch arrays per batch size."""

    #: The axis the statistics are taken over: 0 (the batch) or 1 (the units).
    axis: int

    def __init__(self, module, gamma, beta, ggamma, gbeta):
        self.module = module
        self.eps = float(module.eps)
        self.gamma, self.beta, self.ggamma, self.gbeta = gamma, beta, ggamma, gbeta
        self._scratch = Recent(self._make_buffers)

    def buffers(self, n):
        """``(z, xhat, tmp, mean, inv_std, stat, stat2)`` for a batch of ``n``
        rows: the linear layer's output, its normalised form, one scratch
        array, the forward pass' statistics and two arrays for the backward
        pass' (one value per unit, or per row)."""
        return self._scratch(n)

    def _make_buffers(self, n):
        width = self.gamma.shape[0]
        dtype = self.gamma.dtype
        stat_shape = (1, width) if self.axis == 0 else (n, 1)
        return (
            *(np.empty((n, width), dtype=dtype) for _ in range(3)),
            *(np.empty(stat_shape, dtype=dtype) for _ in range(4)),
        )

    def _normalize(self, z, xhat, tmp, mean, inv_std):
        """xhat = (z - mean(z)) / sqrt(var(z) + eps), biased variance; leaves
        the mean in ``mean`` and 1 / sqrt(var + eps) in ``inv_std``."""
        count = z.shape[self.axis]
        _add_reduce(z, self.axis, keepdims=True, out=mean)
        np.divide(mean, count, out=mean)
        np.subtract(z, mean, out=xhat)
        np.multiply(xhat, xhat, out=tmp)
        _add_reduce(tmp, self.axis, keepdims=True, out=inv_std)
        np.divide(inv_std, count, out=inv_std)  # the biased variance, for now
        return count

    def _scale_shift(self, xhat, y):
        np.multiply(xhat, self.gamma, out=y)
        np.add(y, self.beta, out=y)

    def backward(self, dy, n):
        """Turn ``dy`` (the gradient at the layer's output) into the gradient at
        its input, in place, and write the gradients of gamma and beta."""
        _, xhat, tmp, _, inv_std, mean_dxhat, mean_dxhat_xhat = self.buffers(n)
        _add_reduce(dy, 0, out=self.gbeta)
        np.multiply(dy, xhat, out=tmp)
        _add_reduce(tmp, 0, out=self.ggamma)
        np.multiply(dy, self.gamma, out=dy)  # dxhat
        count = dy.shape[self.axis]
        _add_reduce(dy, self.axis, keepdims=True, out=mean_dxhat)
        np.divide(mean_dxhat, count, out=mean_dxhat)
        np.multiply(dy, xhat, out=tmp)
        _add_reduce(tmp, self.axis, keepdims=True, out=mean_dxhat_xhat)
        np.divide(mean_dxhat_xhat, count, out=mean_dxhat_xhat)
        np.subtract(dy, mean_dxhat, out=dy)
        np.multiply(xhat, mean_dxhat_xhat, out=tmp)
        np.subtract(dy, tmp, out=dy)
        np.multiply(dy, inv_std, out=dy)


class NumpyBatchNorm(_Norm):
    """``torch.nn.BatchNorm1d`` (affine, with running estimates and a momentum)."""

    axis = 0

    def __init__(self, module, gamma, beta, ggamma, gbeta):
        super().__init__(module, gamma, beta, ggamma, gbeta)
        # The module's buffers themselves: the running estimates are current
        # at every step (early stopping's validation reads them).
        self.running_mean = module.running_mean.detach().numpy()
        self.running_var = module.running_var.detach().numpy()
        self.num_batches_tracked = module.num_batches_tracked.detach().numpy()
        self.momentum = float(module.momentum)

    @staticmethod
    def supports(module) -> bool:
        """The BatchNorm1d sknn builds: affine, tracking running estimates with a momentum."""
        return (type(module) is nn.BatchNorm1d and module.affine and module.track_running_stats
                and module.momentum is not None)

    def forward(self, n, y, train):
        """Normalise the linear output (``buffers(n)[0]``) into ``y``."""
        z, xhat, tmp, mean, inv_std, stat = self.buffers(n)[:6]
        if train:
            count = self._normalize(z, xhat, tmp, mean, inv_std)
            var = inv_std
            # running = momentum * batch statistic + (1 - momentum) * running;
            # the batch mean is not needed any more, so it takes its product.
            m = self.momentum
            np.multiply(self.running_mean, 1 - m, out=self.running_mean)
            np.multiply(mean, m, out=mean)
            np.add(self.running_mean, mean[0], out=self.running_mean)
            np.multiply(self.running_var, 1 - m, out=self.running_var)
            np.multiply(var, m * count / (count - 1), out=stat)
            np.add(self.running_var, stat[0], out=self.running_var)
            self.num_batches_tracked += 1
            np.add(var, self.eps, out=inv_std)
            np.sqrt(inv_std, out=inv_std)
            np.divide(1.0, inv_std, out=inv_std)
            np.multiply(xhat, inv_std, out=xhat)
        else:  # evaluation: the running estimates
            np.add(self.running_var, self.eps, out=inv_std[0])
            np.sqrt(inv_std, out=inv_std)
            np.subtract(z, self.running_mean, out=xhat)
            np.divide(xhat, inv_std, out=xhat)
        self._scale_shift(xhat, y)


class NumpyLayerNorm(_Norm):
    """``torch.nn.LayerNorm`` over the units (with a weight and a bias)."""

    axis = 1

    @staticmethod
    def supports(module) -> bool:
        """The LayerNorm sknn builds: over the last dimension, weight and bias."""
        return (type(module) is nn.LayerNorm and module.elementwise_affine
                and module.bias is not None and len(module.normalized_shape) == 1)

    def forward(self, n, y, train):
        """Normalise the linear output (``buffers(n)[0]``) into ``y``."""
        z, xhat, tmp, mean, inv_std = self.buffers(n)[:5]
        self._normalize(z, xhat, tmp, mean, inv_std)
        if not np.isfinite(_add_reduce(inv_std, None)):  # one number, no mask per step
            # A variance that overflowed: torch's kernel (Welford's update)
            # gives NaN, so the fit fails as on every other path, where
            # 1 / sqrt(inf) would quietly zero the row.
            inv_std[~np.isfinite(inv_std)] = np.nan
        np.add(inv_std, self.eps, out=inv_std)
        np.sqrt(inv_std, out=inv_std)
        np.divide(1.0, inv_std, out=inv_std)
        np.multiply(xhat, inv_std, out=xhat)
        self._scale_shift(xhat, y)


def numpy_norm(module, gamma, beta, ggamma, gbeta):
    """The numpy form of a normalisation module, on views of the step's arrays."""
    cls = NumpyBatchNorm if type(module) is nn.BatchNorm1d else NumpyLayerNorm
    return cls(module, gamma, beta, ggamma, gbeta)


def supports_norm(module) -> bool:
    """Whether the numpy step has this normalisation module's closed form."""
    return NumpyBatchNorm.supports(module) or NumpyLayerNorm.supports(module)
