"""Optimizer state on flat numpy arrays: copies of the torch tensors, written back.

Shared by the numpy updates (:mod:`sknn._numpy_updates` and the modules it
collects). :class:`TwinUpdate` is the base of the updates that replay a
``torch.optim`` class's single-tensor step (the implementation torch runs on
the CPU) on the flat arrays.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.optim.optimizer import _get_scalar_dtype

from ._lean_optim import TWINS

#: Group flags under which torch runs another implementation than the plain
#: single-tensor step replayed here.
_FLAGS = ("maximize", "differentiable", "capturable", "foreach", "fused")


def _flat_copy(tensors):
    return np.concatenate([t.detach().numpy().ravel() for t in tensors])


def split_like(flat, tensors):
    """Views of consecutive pieces of ``flat``, shaped like each of ``tensors``."""
    views, offset = [], 0
    for t in tensors:
        size = t.numel()
        views.append(flat[offset : offset + size].reshape(t.shape))
        offset += size
    return views


def flat_views(flat, tensors):
    """Torch tensors viewing consecutive pieces of ``flat``, shaped like ``tensors``."""
    return [torch.from_numpy(v) for v in split_like(flat, tensors)]


def write_back(tensors, flat, sources=None):
    """Copy consecutive pieces of ``flat`` into ``tensors`` (torch ops: versions bump).

    One multi-tensor copy: a ``partial_fit`` call on a few rows syncs a dozen
    small tensors, and a dispatch per tensor cost more than the copies.
    ``sources``, :func:`flat_views` of ``flat``, saves making the views where
    the caller syncs the same arrays again.
    """
    with torch.no_grad():
        torch._foreach_copy_(tensors, flat_views(flat, tensors) if sources is None else sources)


def numpy_dtype(dtype: torch.dtype) -> np.dtype:
    """The numpy dtype of a torch floating dtype."""
    return torch.empty((), dtype=dtype).numpy().dtype


class FlatState:
    """Per-parameter state tensors of an optimizer as flat arrays, and their step count.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer or LeanAdam
        Its ``state[p]`` holds, for every parameter, a 0-d ``"step"`` tensor
        (one shared count), the tensors named in ``keys`` and the 0-d tensors
        named in ``scalars``.
    params : list of torch.Tensor
        In the step's flat order (weights first), not the optimizer's.
    keys : tuple of str
        State tensors shaped like the parameters: :attr:`arrays`.
    scalars : tuple of str
        0-d state tensors with one value shared by every parameter (NAdam's
        ``mu_product``, ASGD's ``eta``): :attr:`values`, as Python floats.
    """

    def __init__(self, optimizer, params, keys, scalars=()):
        states = [optimizer.state[p] for p in params]
        self._steps = [s["step"] for s in states]
        self._tensors = {key: [s[key] for s in states] for key in keys}
        self._scalars = {key: [s[key] for s in states] for key in scalars}
        self.arrays = {key: _flat_copy(tensors) for key, tensors in self._tensors.items()}
        self.values = {key: float(tensors[0]) for key, tensors in self._scalars.items()}
        self.step = self._steps[0].detach().clone()
        self.t = int(self.step.item())
        self._sources = {}

    def sync(self):
        """Write the arrays, the scalars and the step count back into the optimizer's state."""
        for key, tensors in self._tensors.items():
            sources = self._sources.get(key)
            if sources is None:
                sources = self._sources[key] = flat_views(self.arrays[key], tensors)
            write_back(tensors, self.arrays[key], sources)
        for key, tensors in self._scalars.items():
            for tensor in tensors:
                tensor.fill_(self.values[key])
        for step in self._steps:
            step.fill_(float(self.t))


def plain_group(optimizer, cls) -> dict | None:
    """The only parameter group of a ``cls`` twin with plain float settings, else None.

    Only sknn's twins (:mod:`sknn._lean_optim`) qualify: a class the user
    passes as ``solver``, even torch's own, may step differently and is used
    as given.
    """
    if type(optimizer) is not TWINS.get(cls) or len(optimizer.param_groups) != 1:
        return None
    group = optimizer.param_groups[0]
    if any(group.get(flag) for flag in _FLAGS):
        return None
    if any(isinstance(v, torch.Tensor) for v in group.values()):
        return None
    return group


def one_step_count(optimizer, params, keys) -> bool:
    """Whether every parameter's state is empty, or all hold ``keys`` and one step count."""
    states = [optimizer.state.get(p) for p in params]
    if not any(states):
        return True
    return (
        all(s and isinstance(s.get("step"), torch.Tensor) and all(k in s for k in keys)
            for s in states)
        and len({float(s["step"]) for s in states}) == 1
    )


def lerp_(start, end, weight, tmp):
    """``start.lerp_(end, weight)`` in place, with torch's two formulas.

    torch computes ``start + weight * (end - start)`` for ``|weight| < 0.5``
    and ``end - (end - start) * (1 - weight)`` otherwise.
    """
    np.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        np.multiply(tmp, weight, out=tmp)
        np.add(start, tmp, out=start)
    else:
        np.multiply(tmp, 1.0 - weight, out=tmp)
        np.subtract(end, tmp, out=start)


def addcmul_(out, a, b, value, tmp):
    """``out.addcmul_(a, b, value=value)``: ``out + value * a * b``, left to right."""
    np.multiply(a, value, out=tmp)
    np.multiply(tmp, b, out=tmp)
    np.add(out, tmp, out=out)


def addcdiv_(out, a, b, value, tmp):
    """``out.addcdiv_(a, b, value=value)``: ``out + value * a / b``, left to right."""
    np.multiply(a, value, out=tmp)
    np.divide(tmp, b, out=tmp)
    np.add(out, tmp, out=out)


def add_weight_decay(flat, g, tmp, weight_decay):
    """``grad = grad.add(param, alpha=weight_decay)`` (torch's coupled weight decay)."""
    if weight_decay:
        np.multiply(flat, weight_decay, out=tmp)
        np.add(g, tmp, out=g)


class TwinUpdate:
    """Base of the numpy replays of a ``torch.optim`` class's step.

    A subclass names the class (:attr:`torch_class`), the state it keeps
    (:meth:`state_keys`, :attr:`scalars`, :meth:`initial_state`: torch's lazy
    initialisation, for a first step taken here) and implements
    :meth:`apply`. The state stays in torch's layout, so the torch step can
    take over (a ``partial_fit`` batch too large for numpy) and
    ``state_dict`` is torch's.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The twin of :attr:`torch_class`, with one parameter group; the
        hyper-parameters are read from it at every step (schedulers change them).
    params : list of torch.Tensor
        In the step's flat order.
    """

    #: The ``torch.optim`` class whose step this replays (through its twin).
    torch_class: type
    #: 0-d state tensors besides ``"step"``.
    scalars: tuple = ()
    #: Scratch arrays of the parameters' size the update needs besides ``tmp``.
    n_buffers: int = 0

    def __init__(self, optimizer, params):
        self.group = optimizer.param_groups[0]
        for p in params:
            if not optimizer.state[p]:
                optimizer.state[p].update(self.initial_state(p, self.group))
        self._state = FlatState(optimizer, params, self.state_keys(self.group), self.scalars)
        size = sum(p.numel() for p in params)
        dtype = numpy_dtype(params[0].dtype)
        self._buffers = [np.empty(size, dtype=dtype) for _ in range(self.n_buffers)]

    @classmethod
    def supports(cls, optimizer, params) -> bool:
        """Whether this rule replays ``optimizer``'s steps on ``params``."""
        group = plain_group(optimizer, cls.torch_class)
        return group is not None and one_step_count(
            optimizer, params, cls.state_keys(group) + cls.scalars)

    @classmethod
    def state_keys(cls, group) -> tuple:
        """The state tensors shaped like the parameters under ``group``'s settings."""
        raise NotImplementedError

    @classmethod
    def initial_state(cls, p, group) -> dict:
        """The state torch's first step creates for parameter ``p``: by default
        a zero step count and zeros for each of :meth:`state_keys`."""
        return {"step": cls._scalar(0.0), **cls._zeros(p, group)}

    @classmethod
    def _zeros(cls, p, group) -> dict:
        """Zeros like ``p`` for each of :meth:`state_keys`."""
        return {key: torch.zeros_like(p, memory_format=torch.preserve_format)
                for key in cls.state_keys(group)}

    @staticmethod
    def _scalar(value):
        """A 0-d tensor in torch's dtype for optimizer scalars (step counts ...)."""
        return torch.tensor(value, dtype=_get_scalar_dtype())

    def apply(self, flat, g, tmp):
        """One update of ``flat`` from the gradient ``g`` (both overwritten; ``tmp``: scratch)."""
        raise NotImplementedError

    def sync(self):
        """Write the state and the step count back into the optimizer's state."""
        self._state.sync()
