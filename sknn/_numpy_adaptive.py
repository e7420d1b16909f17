"""``solver="rmsprop"``, ``"adagrad"`` and ``"adadelta"`` on flat numpy arrays.

The numpy step (:class:`sknn._numpy_mlp.NumpyMLPStep`) with torch's RMSprop
(with or without momentum and centering), Adagrad and Adadelta updates,
operation for operation as their single-tensor implementations run them on
the CPU, weight decay included.
"""

from __future__ import annotations

import numpy as np
import torch

from ._numpy_state import TwinUpdate, add_weight_decay, addcdiv_, addcmul_, lerp_


class NumpyRMSprop(TwinUpdate):
    """``torch.optim.RMSprop``'s update."""

    torch_class = torch.optim.RMSprop
    n_buffers = 1  # the denominator

    @classmethod
    def state_keys(cls, group):
        return (("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    def apply(self, flat, g, tmp):
        group = self.group
        alpha, momentum, lr = group["alpha"], group["momentum"], group["lr"]
        arrays, avg = self._state.arrays, self._buffers[0]
        self._state.t += 1
        add_weight_decay(flat, g, tmp, group["weight_decay"])
        square_avg = arrays["square_avg"]
        np.multiply(square_avg, alpha, out=square_avg)
        addcmul_(square_avg, g, g, 1.0 - alpha, tmp)
        if group["centered"]:
            grad_avg = arrays["grad_avg"]
            lerp_(grad_avg, g, 1.0 - alpha, tmp)
            # avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
            np.copyto(avg, square_avg)
            addcmul_(avg, grad_avg, grad_avg, -1.0, tmp)
            np.sqrt(avg, out=avg)
        else:
            np.sqrt(square_avg, out=avg)
        np.add(avg, group["eps"], out=avg)
        if momentum > 0:
            buf = arrays["momentum_buffer"]
            np.multiply(buf, momentum, out=buf)
            addcdiv_(buf, g, avg, 1.0, tmp)
            # param.add_(buf, alpha=-lr)
            np.multiply(buf, -lr, out=tmp)
            np.add(flat, tmp, out=flat)
        else:
            addcdiv_(flat, g, avg, -lr, tmp)


class NumpyAdagrad(TwinUpdate):
    """``torch.optim.Adagrad``'s update (dense state, any ``lr_decay``)."""

    torch_class = torch.optim.Adagrad

    @classmethod
    def state_keys(cls, group):
        return ("sum",)

    @classmethod
    def initial_state(cls, p, group):
        # What Adagrad's constructor creates (it does not wait for a first step).
        return {"step": cls._scalar(0.0),
                "sum": torch.full_like(p, group["initial_accumulator_value"],
                                       memory_format=torch.preserve_format)}

    def apply(self, flat, g, tmp):
        group = self.group
        self._state.t += 1
        add_weight_decay(flat, g, tmp, group["weight_decay"])
        clr = group["lr"] / (1 + (self._state.t - 1) * group["lr_decay"])
        state_sum = self._state.arrays["sum"]
        addcmul_(state_sum, g, g, 1.0, tmp)
        # std = state_sum.sqrt().add_(eps); param.addcdiv_(grad, std, value=-clr)
        np.sqrt(state_sum, out=tmp)
        np.add(tmp, group["eps"], out=tmp)
        addcdiv_(flat, g, tmp, -clr, g)  # the gradient is not needed afterwards


class NumpyAdadelta(TwinUpdate):
    """``torch.optim.Adadelta``'s update."""

    torch_class = torch.optim.Adadelta
    n_buffers = 1  # the step's delta

    @classmethod
    def state_keys(cls, group):
        return ("square_avg", "acc_delta")

    def apply(self, flat, g, tmp):
        group = self.group
        rho, eps = group["rho"], group["eps"]
        square_avg, acc_delta = self._state.arrays["square_avg"], self._state.arrays["acc_delta"]
        delta = self._buffers[0]
        self._state.t += 1
        add_weight_decay(flat, g, tmp, group["weight_decay"])
        np.multiply(square_avg, rho, out=square_avg)
        addcmul_(square_avg, g, g, 1.0 - rho, tmp)
        # std = square_avg.add(eps).sqrt_(); delta = acc_delta.add(eps).sqrt_()
        np.add(square_avg, eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.add(acc_delta, eps, out=delta)
        np.sqrt(delta, out=delta)
        # delta.div_(std).mul_(grad)
        np.divide(delta, tmp, out=delta)
        np.multiply(delta, g, out=delta)
        np.multiply(acc_delta, rho, out=acc_delta)
        addcmul_(acc_delta, delta, delta, 1.0 - rho, tmp)
        # param.add_(delta, alpha=-lr)
        np.multiply(delta, -group["lr"], out=delta)
        np.add(flat, delta, out=flat)
