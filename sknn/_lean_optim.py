"""``torch.optim``'s optimizers without the import of ``torch._dynamo``.

Every ``torch.optim.Optimizer`` wraps ``add_param_group``, ``zero_grad``,
``state_dict`` and ``load_state_dict`` so that the compiler skips them, and
``step`` so that it switches grad mode and marks graph breaks. Each wrapper
imports ``torch._dynamo`` when it first runs: about 1 s and 70 MiB on the first
fit of every process, paid again in every worker of a parallel grid search and
by pickling a fitted estimator, for code sknn never compiles.

The classes here are the optimizers' own classes with those methods
replaced by the functions the wrappers call, so the arithmetic, the state
layout, ``state_dict`` and the step hooks are torch's. Only the compiler
guards are gone, which matters only inside ``torch.compile``: a user who
compiles their training loop passes the torch class as ``solver``, which
sknn uses as given.
"""

from __future__ import annotations

import inspect

import torch

# The methods torch.optim wraps with ``torch._disable_dynamo``.
_GUARDED = ("add_param_group", "zero_grad", "state_dict", "load_state_dict")


class CompilerFreeMethods:
    """Mixin: ``torch.optim.Optimizer``'s guarded methods, unwrapped.

    For optimizers written on ``torch.optim.Optimizer`` (place it first in the
    bases); :func:`compiler_free` makes the twin of an existing torch class.
    """

    add_param_group = inspect.unwrap(torch.optim.Optimizer.add_param_group)
    zero_grad = inspect.unwrap(torch.optim.Optimizer.zero_grad)
    state_dict = inspect.unwrap(torch.optim.Optimizer.state_dict)
    load_state_dict = inspect.unwrap(torch.optim.Optimizer.load_state_dict)


def compiler_free(cls: type) -> type:
    """The twin of the ``torch.optim`` class ``cls`` without its compiler guards.

    Parameters
    ----------
    cls : type
        A ``torch.optim.Optimizer`` subclass whose ``step`` is torch's usual
        ``_use_grad_for_differentiable`` method.

    Returns
    -------
    type
        A subclass of ``cls`` (``isinstance`` checks keep working) of the same
        name, defined in this module so that it pickles.
    """
    raw_step = inspect.unwrap(cls.step)

    def step(self, closure=None):
        # What torch's ``_use_grad_for_differentiable`` does, minus its graph breaks.
        previous = torch.is_grad_enabled()
        try:
            torch.set_grad_enabled(self.defaults["differentiable"])
            return raw_step(self, closure)
        finally:
            torch.set_grad_enabled(previous)

    step.__doc__ = raw_step.__doc__
    name = cls.__name__
    methods = {guarded: inspect.unwrap(getattr(cls, guarded)) for guarded in _GUARDED}
    return type(name, (cls,), {
        **methods,
        "step": step,
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": f"``torch.optim.{name}`` without the compiler guards ({__name__}).",
    })


#: torch.optim class -> its compiler-free twin (also a global of this module, for pickle).
TWINS = {cls: compiler_free(cls) for cls in (
    torch.optim.Adam, torch.optim.AdamW, torch.optim.Adamax, torch.optim.NAdam,
    torch.optim.RAdam, torch.optim.RMSprop, torch.optim.Adagrad, torch.optim.Adadelta,
    torch.optim.ASGD,
)}
globals().update({twin.__name__: twin for twin in TWINS.values()})
