"""``solver="rmsprop"`` and ``solver="adagrad"`` on flat numpy arrays.

The numpy step (:class:`sknn._numpy_mlp.NumpyMLPStep`) with torch's RMSprop
and Adagrad updates, operation for operation as their single-tensor
implementations run them on the CPU, for the settings the lectures use
(RMSprop without momentum or centering; Adagrad with any ``lr_decay`` and
initial accumulator), both with ``weight_decay``. The state keeps torch's
layout, so the torch path can take over (a larger ``partial_fit`` batch) and
``state_dict`` is torch's.
"""

from __future__ import annotations

import numpy as np
import torch

from ._lean_optim import TWINS
from ._numpy_state import FlatState

_FLAGS = ("maximize", "differentiable", "capturable", "foreach")


def _plain_group(optimizer, cls) -> dict | None:
    """The only parameter group of a ``cls`` twin with float settings, else None."""
    if type(optimizer) is not TWINS[cls] or len(optimizer.param_groups) != 1:
        return None
    group = optimizer.param_groups[0]
    if any(group.get(flag) for flag in _FLAGS) or group.get("fused"):
        return None
    if any(isinstance(v, torch.Tensor) for v in group.values()):
        return None
    return group


def _one_step_count(optimizer, params, keys) -> bool:
    """Whether every parameter's state is empty, or all are complete with one count."""
    states = [optimizer.state.get(p) for p in params]
    if not any(states):
        return True
    return (
        all(s and isinstance(s.get("step"), torch.Tensor) and all(k in s for k in keys)
            for s in states)
        and len({float(s["step"]) for s in states}) == 1
    )


def _add_weight_decay(flat, g, tmp, weight_decay):
    """grad = grad + weight_decay * param (torch's coupled weight decay)."""
    if weight_decay:
        np.multiply(flat, weight_decay, out=tmp)
        np.add(g, tmp, out=g)


def _scaled_step(flat, g, accumulated, eps, lr, tmp):
    """param.addcdiv_(grad, accumulated.sqrt() + eps, value=-lr)."""
    np.sqrt(accumulated, out=tmp)
    np.add(tmp, eps, out=tmp)
    np.divide(g, tmp, out=tmp)
    np.multiply(tmp, lr, out=tmp)
    np.subtract(flat, tmp, out=flat)


class NumpyRMSprop:
    """``torch.optim.RMSprop``'s update without momentum or centering."""

    def __init__(self, optimizer, params):
        self.group = optimizer.param_groups[0]
        for p in params:
            state = optimizer.state[p]
            if not state:  # what RMSprop's first step creates
                state["step"] = torch.zeros((), dtype=torch.float32)
                state["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        self._state = FlatState(optimizer, params, ("square_avg",))

    @staticmethod
    def supports(optimizer, params) -> bool:
        """An RMSprop twin with one group, ``momentum=0`` and ``centered=False``."""
        group = _plain_group(optimizer, torch.optim.RMSprop)
        return (group is not None and not group["momentum"] and not group["centered"]
                and _one_step_count(optimizer, params, ("square_avg",)))

    def apply(self, flat, g, tmp):
        """One update of ``flat`` from the gradient ``g`` (``tmp``: scratch)."""
        group = self.group
        alpha = group["alpha"]
        self._state.t += 1
        _add_weight_decay(flat, g, tmp, group["weight_decay"])
        square_avg = self._state.arrays["square_avg"]
        # square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        np.multiply(square_avg, alpha, out=square_avg)
        np.multiply(g, g, out=tmp)
        np.multiply(tmp, 1.0 - alpha, out=tmp)
        np.add(square_avg, tmp, out=square_avg)
        _scaled_step(flat, g, square_avg, group["eps"], group["lr"], tmp)

    def sync(self):
        """Write the averages and the step count back into the optimizer's state."""
        self._state.sync()


class NumpyAdagrad:
    """``torch.optim.Adagrad``'s update."""

    def __init__(self, optimizer, params):
        self.group = optimizer.param_groups[0]
        self._state = FlatState(optimizer, params, ("sum",))  # Adagrad creates it up front

    @staticmethod
    def supports(optimizer, params) -> bool:
        """An Adagrad twin with one group and dense state."""
        group = _plain_group(optimizer, torch.optim.Adagrad)
        return group is not None and _one_step_count(optimizer, params, ("sum",)) and all(
            optimizer.state.get(p) for p in params)

    def apply(self, flat, g, tmp):
        """One update of ``flat`` from the gradient ``g`` (``tmp``: scratch)."""
        group = self.group
        self._state.t += 1
        _add_weight_decay(flat, g, tmp, group["weight_decay"])
        clr = group["lr"] / (1 + (self._state.t - 1) * group["lr_decay"])
        state_sum = self._state.arrays["sum"]
        # state_sum.addcmul_(grad, grad, value=1)
        np.multiply(g, g, out=tmp)
        np.add(state_sum, tmp, out=state_sum)
        _scaled_step(flat, g, state_sum, group["eps"], clr, tmp)

    def sync(self):
        """Write the sums and the step count back into the optimizer's state."""
        self._state.sync()
