"""Adam's update: scikit-learn's rule for ``solver="adam"``, torch's for the rest.

scikit-learn adds ``epsilon`` to the square root of the raw second moment::

    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g**2
    p -= lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps)

``torch.optim.Adam`` adds it after dividing by the bias correction,
``sqrt(v / (1 - b2**t)) + eps``. The two rules are the same update with torch's
``eps`` replaced by ``eps / sqrt(1 - b2**t)``, so on a CPU scikit-learn's rule
runs torch's fused kernel with that number (:func:`sklearn_eps`). The numbers
differ while ``v`` is small, in the first steps, and a fit then follows
another path; ``solver="adam"`` uses scikit-learn's rule everywhere
(:class:`SklearnAdam`, :class:`sknn._lean_adam.LeanAdam`, the numpy step), so a
float64 fit agrees with ``MLPClassifier``/``MLPRegressor`` to round-off.

The step count is kept on the host (:class:`StepCount`): on a GPU reading
the count tensor stops the host until the device has caught up. A CUDA graph
cannot replay a number that changes, though: the update it replays (called
with the learning rate as a tensor) computes its step size on the device from
the count tensor (:func:`_device_sklearn_adam_`).
"""

from __future__ import annotations

import math

import torch

from ._lean_optim import TWINS


def sklearn_eps(eps: float, beta2: float, t: int) -> float:
    """torch's ``eps`` that gives scikit-learn's update at step ``t`` (from 1)."""
    return eps / math.sqrt(1.0 - beta2**t)


def fused_adam_(params, exp_avgs, exp_avg_sqs, steps, *, lr, betas, eps, weight_decay=0.0,
                decoupled=False):
    """One update by torch's rule (Adam, or AdamW), in one fused kernel.

    The state tensors are torch's own (``steps`` float32 0-d, moments like the
    parameters) and are updated in place, ``steps`` included. The gradients are
    the parameters' ``.grad``.
    """
    fn = torch._fused_adamw_ if decoupled else torch._fused_adam_
    with torch.no_grad():
        torch._foreach_add_(steps, 1)
        fn(
            params, [p.grad for p in params], exp_avgs, exp_avg_sqs, [], steps,
            amsgrad=False, lr=lr, beta1=betas[0], beta2=betas[1], weight_decay=weight_decay,
            eps=eps, maximize=False,
        )


class StepCount:
    """Adam's shared step count, as the host and the device use it.

    The host keeps a copy (:meth:`next`), read from the tensor only when
    something else has changed it since the last update (a
    ``load_state_dict``, the numpy step writing its state back, a replayed
    CUDA graph): on a GPU each read waits for the device. The update a CUDA
    graph replays derives scikit-learn's step size from the tensor on the
    device instead (:meth:`device_step_size`), with a few constants kept
    here so that a replay runs no kernel to make them.
    """

    __slots__ = ("tensor", "version", "value", "_constants")

    def __init__(self):
        self.tensor, self.version, self.value = None, -1, 0
        self._constants = None  # (device, betas, bases, exponents, no_correction)

    def forget(self) -> None:
        """Read the tensor again at the next update (it is advanced where the
        host does not see it: graph replays change no version counter)."""
        self.tensor = None

    def next(self, step: torch.Tensor) -> int:
        """The count the coming update will reach."""
        if step is not self.tensor or step._version != self.version:
            self.tensor, self.value = step, int(step)
        self.value += 1
        return self.value

    def done(self) -> None:
        """Record the tensor's state after the update incremented it."""
        self.version = self.tensor._version

    def _device_constants(self, device, betas):
        key = (device, tuple(float(b) for b in betas))
        if self._constants is None or self._constants[:2] != key:
            beta1, beta2 = key[1]
            # linspace and full write their values from kernel arguments: no
            # copy from the host, which a CUDA graph being captured refuses.
            f64 = {"dtype": torch.float64, "device": device}
            self._constants = (
                *key,
                torch.linspace(beta2, beta1, 2, **f64),  # exact at both ends
                torch.linspace(0.5, -1.0, 2, **f64),
                torch.full((), float("inf"), dtype=torch.float32, device=device),
            )
        return self._constants[2:]

    def device_step_size(self, step, lr, betas) -> tuple[torch.Tensor, torch.Tensor]:
        """scikit-learn's step size ``lr * sqrt(1 - b2**t) / (1 - b1**t)``, computed
        on the device from the count ``t`` in ``step`` (a float32 0-d tensor).

        ``lr`` is a float32 0-d tensor on that device; so is the step size. The
        arithmetic is float64 (float32 would lose ~1e-5 of the step size in the
        first steps): five small kernels, ``1 - [b2, b1]**t``, raised to
        ``[0.5, -1]``, their product, times ``lr``.

        Returns
        -------
        step_size, no_correction : torch.Tensor
            The step size, and a step count of infinity to hand torch's fused
            kernel with it (its own bias corrections are then 1).
        """
        bases, exponents, no_correction = self._device_constants(step.device, betas)
        factors = torch.rsub(torch.pow(bases, step), 1.0).pow_(exponents)
        rate = torch.empty((), dtype=torch.float32, device=step.device)
        return torch.mul(torch.prod(factors), lr, out=rate), no_correction


def sklearn_adam_(params, exp_avgs, exp_avg_sqs, steps, *, lr, betas, eps, weight_decay=0.0,
                  decoupled=False, count=None):
    """One update by scikit-learn's rule, state in torch's layout (as :func:`fused_adam_`).

    Parameters
    ----------
    params : list of torch.Tensor
        Parameters of one dtype on one device, their gradients in ``.grad``.
    exp_avgs, exp_avg_sqs, steps : list of torch.Tensor
        torch's Adam state: the moments and the float32 0-d step counts (one
        shared count; the first is read).
    lr : float or torch.Tensor
        A float32 0-d tensor on the parameters' device is what a CUDA graph
        replays: the step size is then computed on the device, from ``steps``.
    betas : tuple of float
    eps : float
    weight_decay : float, default=0.0
        Added to the gradient as ``weight_decay * p`` or, ``decoupled``, taken
        from the parameters first as ``p *= 1 - lr * weight_decay`` (AdamW's).
    decoupled : bool, default=False
    count : StepCount, optional
        The caller's host copy of the step count (read from ``steps`` if None).
    """
    if isinstance(lr, torch.Tensor):
        count = StepCount() if count is None else count
        count.forget()
        _device_sklearn_adam_(params, exp_avgs, exp_avg_sqs, steps, lr=lr, betas=betas, eps=eps,
                              weight_decay=weight_decay, decoupled=decoupled, count=count)
        return
    t = int(steps[0]) + 1 if count is None else count.next(steps[0])
    fused_adam_(params, exp_avgs, exp_avg_sqs, steps, lr=lr, betas=betas,
                eps=sklearn_eps(eps, betas[1], t), weight_decay=weight_decay,
                decoupled=decoupled)
    if count is not None:
        count.done()


@torch.no_grad()
def _device_sklearn_adam_(params, exp_avgs, exp_avg_sqs, steps, *, lr, betas, eps,
                          weight_decay, decoupled, count):
    """scikit-learn's update with its step size computed on the device.

    scikit-learn's step size (:meth:`StepCount.device_step_size`) is handed to
    torch's fused kernel as its (tensor) learning rate, while the kernel reads
    a count of infinity, so that its own bias corrections are 1: its
    ``lr * m / (sqrt(v) + eps)`` is then scikit-learn's update. Nothing reads
    the device and no number changes from step to step, so a CUDA graph can
    capture it.
    """
    torch._foreach_add_(steps, 1)
    rate, no_correction = count.device_step_size(steps[0], lr, betas)
    if weight_decay and decoupled:
        # AdamW's decay uses the plain rate, not scikit-learn's step size.
        torch._foreach_mul_(params, 1.0 - lr * weight_decay)  # lr: a float or a 0-d tensor
        weight_decay = 0.0
    torch._fused_adam_(
        params, [p.grad for p in params], exp_avgs, exp_avg_sqs, [],
        [no_correction] * len(params), amsgrad=False, lr=rate, beta1=betas[0],
        beta2=betas[1], weight_decay=weight_decay, eps=eps, maximize=False,
    )


class SklearnAdam(TWINS[torch.optim.Adam]):
    """``torch.optim.Adam`` with scikit-learn's placement of ``eps``.

    ``solver="adam"`` builds this class where it needs torch's machinery (an
    ``lr_scheduler``, ``optimizer_kwargs`` such as ``weight_decay`` or
    ``amsgrad``): the same parameters, state and ``state_dict`` as
    ``torch.optim.Adam`` (an instance of it), and at every step torch's update
    with ``eps`` replaced by :func:`sklearn_eps`. With ``amsgrad`` the running
    maximum of ``v`` takes ``v``'s place, as in torch.

    The step count of a group is its first stepped parameter's; sknn's
    networks step every parameter together.
    """

    #: Read by the fast steps (:class:`sknn._fast_mlp.FastAdamStep`, the numpy step).
    sklearn_rule = True

    def step(self, closure=None):
        """One update from the gradients in ``p.grad`` (``closure``: as torch's)."""
        saved = [group["eps"] for group in self.param_groups]
        try:
            for group in self.param_groups:
                counts = (self.state[p].get("step") for p in group["params"] if self.state.get(p))
                count = next(counts, None)
                t = 1 if count is None else int(count) + 1
                group["eps"] = sklearn_eps(group["eps"], float(group["betas"][1]), t)
            return super().step(closure)
        finally:
            for group, eps in zip(self.param_groups, saved):
                group["eps"] = eps


def uses_sklearn_rule(optimizer) -> bool:
    """Whether ``optimizer`` steps by scikit-learn's Adam rule."""
    return bool(getattr(type(optimizer), "sklearn_rule", False))
