"""Optimizer state on flat numpy arrays: copies of the torch tensors, written back.

Shared by the numpy updates (:mod:`sknn._numpy_updates`,
:mod:`sknn._numpy_adaptive`).
"""

from __future__ import annotations

import numpy as np
import torch


def _flat_copy(tensors):
    return np.concatenate([t.detach().numpy().ravel() for t in tensors])


def write_back(tensors, flat):
    """Copy consecutive pieces of ``flat`` into ``tensors`` (torch ops: versions bump)."""
    offset = 0
    with torch.no_grad():
        for t in tensors:
            size = t.numel()
            t.copy_(torch.from_numpy(flat[offset : offset + size].reshape(t.shape)))
            offset += size


class FlatState:
    """Per-parameter state tensors of an optimizer as flat arrays, and their step count.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer or LeanAdam
        Its ``state[p]`` holds, for every parameter, a 0-d ``"step"`` tensor
        (one shared count) and the tensors named in ``keys``.
    params : list of torch.Tensor
        In the step's flat order (weights first), not the optimizer's.
    keys : tuple of str
    """

    def __init__(self, optimizer, params, keys):
        states = [optimizer.state[p] for p in params]
        self._steps = [s["step"] for s in states]
        self._tensors = {key: [s[key] for s in states] for key in keys}
        self.arrays = {key: _flat_copy(tensors) for key, tensors in self._tensors.items()}
        self.step = self._steps[0].detach().clone()
        self.t = int(self.step.item())

    def sync(self):
        """Write the arrays and the step count back into the optimizer's state."""
        for key, tensors in self._tensors.items():
            write_back(tensors, self.arrays[key])
        for step in self._steps:
            step.fill_(float(self.t))
