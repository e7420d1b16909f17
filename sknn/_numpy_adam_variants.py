"""``solver="adamax"``, ``"nadam"`` and ``"radam"`` on flat numpy arrays.

The numpy step (:class:`sknn._numpy_mlp.NumpyMLPStep`) with torch's Adamax,
NAdam and RAdam updates, operation for operation as their single-tensor
implementations run them on the CPU, weight decay (coupled, or decoupled for
NAdam and RAdam) included. Adam and AdamW themselves are
:class:`sknn._numpy_updates.NumpyAdam`.
"""

from __future__ import annotations

import numpy as np
import torch

from ._numpy_state import TwinUpdate, add_weight_decay, addcdiv_, addcmul_, lerp_, numpy_dtype


class _MomentsUpdate(TwinUpdate):
    """Shared state: ``exp_avg`` and a second moment, zeros at first."""

    #: The second moment's state key.
    second_moment = "exp_avg_sq"

    @classmethod
    def state_keys(cls, group):
        return ("exp_avg", cls.second_moment)

    def _decay(self, flat, g, tmp):
        """Weight decay: on the parameters (decoupled) or added to the gradient."""
        group = self.group
        weight_decay = group["weight_decay"]
        if weight_decay and group.get("decoupled_weight_decay"):
            np.multiply(flat, 1 - group["lr"] * weight_decay, out=flat)
        else:
            add_weight_decay(flat, g, tmp, weight_decay)

    def _update_moments(self, g, tmp):
        """Adam's moments: ``exp_avg.lerp_(grad, 1 - beta1)``,
        ``exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)``."""
        beta1, beta2 = self.group["betas"]
        m, v = self._state.arrays["exp_avg"], self._state.arrays["exp_avg_sq"]
        lerp_(m, g, 1 - beta1, tmp)
        np.multiply(v, beta2, out=v)
        addcmul_(v, g, g, 1 - beta2, tmp)
        return m, v


class NumpyAdamax(_MomentsUpdate):
    """``torch.optim.Adamax``'s update."""

    torch_class = torch.optim.Adamax
    second_moment = "exp_inf"

    def apply(self, flat, g, tmp):
        group = self.group
        beta1, beta2 = group["betas"]
        m, u = self._state.arrays["exp_avg"], self._state.arrays["exp_inf"]
        self._state.t += 1
        add_weight_decay(flat, g, tmp, group["weight_decay"])
        lerp_(m, g, 1 - beta1, tmp)
        # torch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)
        np.multiply(u, beta2, out=u)
        np.abs(g, out=tmp)
        np.add(tmp, group["eps"], out=tmp)
        np.maximum(u, tmp, out=u)
        clr = group["lr"] / (1 - beta1**self._state.t)
        addcdiv_(flat, m, u, -clr, tmp)


class NumpyNAdam(_MomentsUpdate):
    """``torch.optim.NAdam``'s update (Nesterov momentum with its ``momentum_decay``)."""

    torch_class = torch.optim.NAdam
    scalars = ("mu_product",)

    def __init__(self, optimizer, params):
        super().__init__(optimizer, params)
        # mu_product is a 0-d tensor: its running product rounds to its dtype.
        self._round = numpy_dtype(optimizer.state[params[0]]["mu_product"].dtype).type

    @classmethod
    def initial_state(cls, p, group):
        return {"step": cls._scalar(0.0), "mu_product": cls._scalar(1.0),
                **cls._zeros(p, group)}

    def apply(self, flat, g, tmp):
        group = self.group
        lr, (beta1, beta2), psi = group["lr"], group["betas"], group["momentum_decay"]
        self._state.t += 1
        step = float(self._state.t)
        self._decay(flat, g, tmp)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * psi)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * psi)))
        values = self._state.values
        mu_product = values["mu_product"] = float(self._round(values["mu_product"])
                                                  * self._round(mu))
        m, v = self._update_moments(g, tmp)
        # denom = exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
        np.divide(v, 1 - beta2**step, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.add(tmp, group["eps"], out=tmp)
        mu_product_next = mu_product * mu_next
        addcdiv_(flat, g, tmp, -lr * (1.0 - mu) / (1.0 - mu_product), g)
        addcdiv_(flat, m, tmp, (-lr * mu_next) / (1.0 - mu_product_next), g)


class NumpyRAdam(_MomentsUpdate):
    """``torch.optim.RAdam``'s update (rectified once the variance estimate is tractable)."""

    torch_class = torch.optim.RAdam

    def apply(self, flat, g, tmp):
        group = self.group
        lr, (beta1, beta2) = group["lr"], group["betas"]
        self._state.t += 1
        step = float(self._state.t)
        self._decay(flat, g, tmp)
        m, v = self._update_moments(g, tmp)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        # update = exp_avg / bias_correction1 * lr [* adaptive_lr * rect]; param -= update
        np.divide(m, bias_correction1, out=g)
        np.multiply(g, lr, out=g)
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            # adaptive_lr = bias_correction2**0.5 / (exp_avg_sq.sqrt() + eps), which
            # torch computes as the reciprocal times the scalar.
            np.sqrt(v, out=tmp)
            np.add(tmp, group["eps"], out=tmp)
            np.reciprocal(tmp, out=tmp)
            np.multiply(tmp, bias_correction2**0.5, out=tmp)
            np.multiply(g, tmp, out=g)
            np.multiply(g, rect, out=g)
        np.subtract(flat, g, out=flat)
