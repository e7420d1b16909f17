"""Optimizer updates on flat numpy arrays, for :class:`sknn._numpy_mlp.NumpyMLPStep`.

Each rule copies its optimizer's state into flat arrays laid out like the
step's flat parameters, applies the optimizer's own update to them (reading
the learning rate from ``param_groups`` at every step, so scikit-learn's
'invscaling'/'adaptive' schedules keep working) and writes the state back in
the optimizer's own format with :meth:`sync`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._adam_update import sklearn_eps, uses_sklearn_rule
from ._fast_mlp import FastAdamStep, init_adam_state
from ._lean_adam import LeanAdam
from ._numpy_adam_variants import NumpyAdamax, NumpyNAdam, NumpyRAdam
from ._numpy_adaptive import NumpyAdadelta, NumpyAdagrad, NumpyRMSprop
from ._numpy_asgd import NumpyASGD
from ._numpy_state import FlatState, lerp_, write_back
from ._sgd import SklearnSGD

#: Parameters from which Adam runs as torch's fused kernel on the flat arrays.
FUSED_MIN_SIZE = 1024


class NumpyAdam:
    """Adam's update: scikit-learn's rule or torch's, as the optimizer steps.

    For :class:`~sknn._lean_adam.LeanAdam` (the default solver) and for the
    Adam/AdamW optimizers :class:`~sknn._fast_mlp.FastAdamStep` steps
    (``solver="adam"`` with ``optimizer_kwargs``, which is
    :class:`~sknn._adam_update.SklearnAdam`, and ``solver="adamw"``), with
    their weight decay: added to the gradient (Adam) or applied to the
    parameters first (AdamW, decoupled). scikit-learn's rule is written as
    scikit-learn writes it, so float64 fits agree with scikit-learn's to round-off.

    From :data:`FUSED_MIN_SIZE` parameters up the update is torch's fused Adam
    kernel (with :func:`~sknn._adam_update.sklearn_eps` for scikit-learn's
    rule), called once on 1-D tensors that view the flat numpy arrays (no
    copies): one pass over memory instead of ~13 numpy ufuncs, 2-3x faster
    from 7 000 parameters up. Below that the ufuncs are cheaper than the
    kernel's dispatch (``python benchmarks/bench_step.py --threads 1``: iris
    step 48 us with ufuncs, 51 us with the kernel; medium 637 vs 601 us).
    """

    def __init__(self, optimizer, params):
        self.group = optimizer.param_groups[0]
        if type(optimizer) is LeanAdam:
            optimizer._moments()  # creates the state on a first call
        else:
            init_adam_state(optimizer, params)
        self._decoupled = bool(self.group.get("decoupled_weight_decay"))
        self._sklearn = uses_sklearn_rule(optimizer)
        self._state = FlatState(optimizer, params, ("exp_avg", "exp_avg_sq"))
        self._m, self._v = self._state.arrays["exp_avg"], self._state.arrays["exp_avg_sq"]
        self._fused = self._m.size >= FUSED_MIN_SIZE
        self._tensors = None

    @staticmethod
    def supports(optimizer, params) -> bool:
        """A LeanAdam whose parameters all share one step count, or an
        Adam/AdamW that :class:`~sknn._fast_mlp.FastAdamStep` supports."""
        if type(optimizer) is LeanAdam:
            return len({int(s.item()) for s in optimizer._moments()[1]}) == 1
        return FastAdamStep.supports(optimizer)

    def apply(self, flat, g, tmp):
        """One update of ``flat`` from the gradient ``g`` (``tmp``: scratch;
        ``g`` is overwritten)."""
        group = self.group
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        self._state.t += 1
        t = self._state.t
        if self._fused:
            if self._tensors is None:
                # Built once: the kernel call is then the only dispatch besides
                # the step count (plain tensors, no autograd).
                self._tensors = ([torch.from_numpy(flat)], [torch.from_numpy(g)],
                                 [torch.from_numpy(self._m)], [torch.from_numpy(self._v)],
                                 [self._state.step])
            params, grads, exp_avgs, exp_avg_sqs, steps = self._tensors
            self._state.step.add_(1)
            kernel = torch._fused_adamw_ if self._decoupled else torch._fused_adam_
            kernel(params, grads, exp_avgs, exp_avg_sqs, [], steps, amsgrad=False, lr=lr,
                   beta1=beta1, beta2=beta2, weight_decay=weight_decay,
                   eps=sklearn_eps(eps, beta2, t) if self._sklearn else eps, maximize=False)
            return
        if weight_decay:
            if self._decoupled:  # param.mul_(1 - lr * weight_decay)
                np.multiply(flat, 1.0 - lr * weight_decay, out=flat)
            else:  # grad = grad + weight_decay * param
                np.multiply(flat, weight_decay, out=tmp)
                np.add(g, tmp, out=g)
        if self._sklearn:
            self._sklearn_update(flat, g, tmp, lr, beta1, beta2, eps, t)
            return
        m, v = self._m, self._v
        lerp_(m, g, 1.0 - beta1, tmp)
        # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        np.multiply(g, g, out=tmp)
        np.multiply(tmp, 1.0 - beta2, out=tmp)
        np.multiply(v, beta2, out=v)
        np.add(v, tmp, out=v)
        # param -= lr / bc1 * exp_avg / (sqrt(exp_avg_sq) / sqrt(bc2) + eps)
        bias_correction1 = 1.0 - beta1**t
        bias_correction2_sqrt = (1.0 - beta2**t) ** 0.5
        np.sqrt(v, out=tmp)
        np.multiply(tmp, 1.0 / bias_correction2_sqrt, out=tmp)
        np.add(tmp, eps, out=tmp)
        np.divide(m, tmp, out=tmp)
        np.multiply(tmp, lr / bias_correction1, out=tmp)
        np.subtract(flat, tmp, out=flat)

    def _sklearn_update(self, flat, g, tmp, lr, beta1, beta2, eps, t):
        """scikit-learn's ``AdamOptimizer`` update, operation for operation."""
        m, v = self._m, self._v
        # m = beta_1 * m + (1 - beta_1) * grad
        np.multiply(m, beta1, out=m)
        np.multiply(g, 1.0 - beta1, out=tmp)
        np.add(m, tmp, out=m)
        # v = beta_2 * v + (1 - beta_2) * grad**2
        np.multiply(v, beta2, out=v)
        np.multiply(g, g, out=tmp)
        np.multiply(tmp, 1.0 - beta2, out=tmp)
        np.add(v, tmp, out=v)
        # param += -learning_rate * m / (sqrt(v) + epsilon)
        learning_rate = lr * math.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)
        np.multiply(m, -learning_rate, out=g)
        np.sqrt(v, out=tmp)
        np.add(tmp, eps, out=tmp)
        np.divide(g, tmp, out=g)
        np.add(flat, g, out=flat)

    def sync(self):
        """Write the moments and step count back into the optimizer's state."""
        self._state.sync()


class NumpySGD:
    """scikit-learn's SGD with momentum (:class:`~sknn._sgd.SklearnSGD`)."""

    def __init__(self, optimizer: SklearnSGD, params):
        self.group = optimizer.param_groups[0]
        self._state = optimizer.state
        self._params = list(params)
        self._velocity = np.concatenate([
            optimizer.state[p]["velocity"].detach().numpy().ravel()
            if "velocity" in optimizer.state.get(p, {})
            else np.zeros(p.numel(), dtype=p.detach().numpy().dtype)
            for p in self._params
        ])

    @staticmethod
    def supports(optimizer, params) -> bool:
        """A SklearnSGD with one parameter group."""
        return type(optimizer) is SklearnSGD and len(optimizer.param_groups) == 1

    def apply(self, flat, g, tmp):
        """One update of ``flat`` from the gradient ``g`` (``tmp``: scratch)."""
        group = self.group
        lr, momentum = group["lr"], group["momentum"]
        if group["weight_decay"]:
            np.multiply(flat, group["weight_decay"], out=tmp)
            np.add(g, tmp, out=g)
        v = self._velocity
        # v = momentum * v - lr * g
        np.multiply(v, momentum, out=v)
        np.multiply(g, lr, out=tmp)
        np.subtract(v, tmp, out=v)
        if group["nesterov"]:
            # p += momentum * v - lr * g
            np.multiply(v, momentum, out=g)
            np.subtract(g, tmp, out=g)
            np.add(flat, g, out=flat)
        else:
            np.add(flat, v, out=flat)

    def sync(self):
        """Write the velocities back into the optimizer's state."""
        for p in self._params:
            state = self._state[p]
            if "velocity" not in state:
                state["velocity"] = torch.zeros_like(p)
        write_back([self._state[p]["velocity"] for p in self._params], self._velocity)


#: The numpy update rules, each with ``supports(optimizer, params)``; the first
#: that supports an optimizer steps it.
UPDATES = (NumpyAdam, NumpySGD, NumpyRMSprop, NumpyAdagrad, NumpyAdadelta, NumpyAdamax,
           NumpyNAdam, NumpyRAdam, NumpyASGD)


def numpy_update(optimizer, params):
    """The numpy update rule for ``optimizer``, or None where there is none."""
    for rule in UPDATES:
        if rule.supports(optimizer, params):
            return rule(optimizer, params)
    return None
