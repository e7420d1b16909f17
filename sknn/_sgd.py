"""scikit-learn's SGD update as a ``torch.optim.Optimizer``.

scikit-learn keeps a velocity that already includes the learning rate,
``v = momentum * v - lr * g``, while ``torch.optim.SGD`` keeps a gradient
buffer and multiplies by the *current* learning rate. The two agree while the
rate is constant and drift apart once 'invscaling', 'adaptive' or a scheduler
changes it; ``solver="sgd"`` uses this class so it matches scikit-learn in
every case (``solver=torch.optim.SGD`` gives PyTorch's variant).
"""

from __future__ import annotations

import torch

from ._lean_optim import CompilerFreeMethods


class SklearnSGD(CompilerFreeMethods, torch.optim.Optimizer):
    """Stochastic gradient descent with scikit-learn's momentum.

    Parameters
    ----------
    params : iterable of torch.nn.Parameter
    lr : float
        Learning rate.
    momentum : float, default=0.9
    nesterov : bool, default=True
        Nesterov's momentum: the update is ``momentum * v - lr * g`` after
        ``v`` has been updated.
    weight_decay : float, default=0.0
        Added to the gradient as ``weight_decay * p`` (scikit-learn's own L2
        term is ``alpha``, added to the loss).
    """

    def __init__(self, params, lr: float, momentum: float = 0.9, nesterov: bool = True,
                 weight_decay: float = 0.0):
        if lr <= 0 or not 0 <= momentum <= 1 or weight_decay < 0:
            raise ValueError(
                f"Invalid SGD settings: lr={lr}, momentum={momentum}, "
                f"weight_decay={weight_decay}."
            )
        super().__init__(params, {"lr": lr, "momentum": momentum, "nesterov": nesterov,
                                  "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        """Apply one update from the gradients in ``p.grad``."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            if group["weight_decay"]:
                grads = torch._foreach_add(grads, params, alpha=group["weight_decay"])
            velocities = []
            for p in params:
                state = self.state[p]
                if "velocity" not in state:
                    state["velocity"] = torch.zeros_like(p)
                velocities.append(state["velocity"])
            lr, momentum = group["lr"], group["momentum"]
            # v = momentum * v - lr * g
            torch._foreach_mul_(velocities, momentum)
            torch._foreach_add_(velocities, grads, alpha=-lr)
            if group["nesterov"]:
                # p += momentum * v - lr * g
                torch._foreach_add_(params, velocities, alpha=momentum)
                torch._foreach_add_(params, grads, alpha=-lr)
            else:
                torch._foreach_add_(params, velocities)
        return loss
