"""``solver="asgd"`` on flat numpy arrays.

The numpy step (:class:`sknn._numpy_mlp.NumpyMLPStep`) with torch's ASGD
update (averaged SGD), operation for operation as its single-tensor
implementation runs it on the CPU, weight decay included.
"""

from __future__ import annotations

import numpy as np
import torch

from ._numpy_state import TwinUpdate, add_weight_decay, numpy_dtype


class NumpyASGD(TwinUpdate):
    """``torch.optim.ASGD``'s update: decayed SGD steps and the running average ``ax``."""

    torch_class = torch.optim.ASGD
    scalars = ("eta", "mu")

    def __init__(self, optimizer, params):
        super().__init__(optimizer, params)
        state = optimizer.state[params[0]]
        # torch stores each new eta and mu through a tensor of the default
        # dtype (torch.as_tensor of a float), then into the state's dtype.
        default = numpy_dtype(torch.get_default_dtype()).type
        state_dtype = numpy_dtype(state["eta"].dtype).type
        self._round = lambda value: float(state_dtype(default(value)))

    @classmethod
    def state_keys(cls, group):
        return ("ax",)

    @classmethod
    def initial_state(cls, p, group):
        return {"step": cls._scalar(0.0), "eta": cls._scalar(group["lr"]),
                "mu": cls._scalar(1.0), **cls._zeros(p, group)}

    def apply(self, flat, g, tmp):
        group = self.group
        lambd, lr = group["lambd"], group["lr"]
        values, ax = self._state.values, self._state.arrays["ax"]
        self._state.t += 1
        add_weight_decay(flat, g, tmp, group["weight_decay"])
        eta = values["eta"]
        np.multiply(flat, 1 - lambd * eta, out=flat)
        # param.add_(grad, alpha=-eta)
        np.multiply(g, -eta, out=g)
        np.add(flat, g, out=flat)
        if values["mu"] != 1:
            # ax.add_(param.sub(ax).mul_(mu))
            np.subtract(flat, ax, out=tmp)
            np.multiply(tmp, values["mu"], out=tmp)
            np.add(ax, tmp, out=ax)
        else:
            np.copyto(ax, flat)
        step = float(self._state.t)
        values["eta"] = self._round(lr / ((1 + lambd * lr * step) ** group["alpha"]))
        values["mu"] = self._round(1 / max(1, step - group["t0"]))
