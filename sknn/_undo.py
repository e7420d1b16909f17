"""Undoing what a failed ``fit``/``partial_fit`` call changed in place.

A call that fails (bad input, training that diverges, an interrupt) must
leave a fitted estimator exactly as it was. Training changes the network and
the optimizer in place: parameter and buffer values, ``Module.to``'s new
devices and dtypes, training flags, the optimizer's per-parameter state and
hyper-parameters (which schedules move). Deep-copying the two objects before
every call took about 200 us of a ``partial_fit`` call on one row (more than
scikit-learn's whole ``MLPRegressor.partial_fit``): the generic walk visits
every bookkeeping attribute of every module. :class:`Undo` instead records
only those values, clones of the tensors and shallow copies of the dicts,
and on failure writes them back into the same objects, so that everything
else holding them (the estimator, the schedule, cached views) stays valid.
Everything else the estimator keeps is small and deep-copied as before,
sharing the network and the optimizer (:meth:`Undo.memo`).
tests/test_undo.py checks that a failed call leaves nothing changed.
"""

from __future__ import annotations

import torch
from torch import nn


def _clone(t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else t.detach().clone()


def _put_back(tensor: torch.Tensor, value: torch.Tensor) -> None:
    """Give ``tensor`` the value (and device, dtype, shape) of ``value``: in
    place where they match, so views and references of it stay valid."""
    with torch.no_grad():
        if (tensor.shape, tensor.dtype, tensor.device) == (value.shape, value.dtype, value.device):
            tensor.copy_(value)
        else:
            tensor.data = value


class Undo:
    """What training may change in place in a network and its optimizer.

    Parameters
    ----------
    module : torch.nn.Module
        The fitted network.
    optimizer : torch.optim.Optimizer or None
        Its optimizer (any class with ``param_groups`` and ``state``), if one
        is kept between calls.
    """

    def __init__(self, module: nn.Module, optimizer=None):
        self.module, self.optimizer = module, optimizer
        modules = list(module.modules())
        self._modes = [(m, m.training) for m in modules]
        # (the dict holding the slot, its name, the tensor there, its value, its grad)
        self._slots = [
            (store, name, t, _clone(t), _clone(t.grad) if t is not None else None)
            for m in modules
            for store in (m._parameters, m._buffers)
            for name, t in store.items()
        ]
        self._shared = [module, *(slot[2] for slot in self._slots if slot[2] is not None)]
        if optimizer is not None:
            self._shared.append(optimizer)
            self._attributes = dict(vars(optimizer))
            self._groups = [(group, dict(group)) for group in optimizer.param_groups]
            self._state = [
                (param, entry, dict(entry),
                 {key: _clone(v) for key, v in entry.items() if isinstance(v, torch.Tensor)})
                for param, entry in optimizer.state.items()
            ]

    def memo(self) -> dict:
        """A ``copy.deepcopy`` memo that shares the network, its parameters and
        the optimizer: deep copies of the schedule and the stopping rule then
        point at the objects this undo restores, not at copies of them."""
        return {id(obj): obj for obj in self._shared}

    def restore(self) -> None:
        """Write every recorded value back into the objects it was read from."""
        for m, mode in self._modes:
            m.training = mode
        for store, name, tensor, value, grad in self._slots:
            store[name] = tensor
            if tensor is not None:
                _put_back(tensor, value)
                if tensor.grad is not None or grad is not None:
                    tensor.grad = grad
        if self.optimizer is None:
            return
        attributes = vars(self.optimizer)
        attributes.clear()
        attributes.update(self._attributes)
        for group, values in self._groups:
            group.clear()
            group.update(values)
        state = self.optimizer.state
        state.clear()
        for param, entry, values, tensors in self._state:
            entry.clear()
            entry.update(values)
            for key, value in tensors.items():
                _put_back(values[key], value)
            state[param] = entry
