"""Adam for the default configuration, without ``torch.optim``'s machinery.

Building any ``torch.optim.Optimizer`` imports ``torch._dynamo`` (its methods
are wrapped to be skipped by the compiler): about 2 s and 70 MiB on the first
fit of every process, and again in every worker of a parallel grid search.
``solver="adam"`` with no ``optimizer_kwargs`` and no ``lr_scheduler`` (the
defaults) needs none of that machinery, so it gets this class: scikit-learn's Adam
update (:func:`sknn._adam_update.sklearn_adam_`, torch's fused kernel on a
CPU), the same ``param_groups`` as ``torch.optim.Adam`` for scikit-learn's
learning-rate handling, and ``state_dict`` in torch's format.
"""

from __future__ import annotations

import copy

import torch

from ._adam_update import StepCount, sklearn_adam_


class LeanAdam:
    """Adam with scikit-learn's update rule and torch's state layout.

    Parameters
    ----------
    params : iterable of torch.nn.Parameter
        Dense float32/float64 parameters on one CPU or CUDA device.
    lr : float
    betas : tuple of float
    eps : float
    """

    #: Read by the numpy step, which then applies scikit-learn's rule too.
    sklearn_rule = True

    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.param_groups = [{
            "params": list(params), "lr": lr, "betas": tuple(betas), "eps": eps,
            "weight_decay": 0.0, "amsgrad": False, "maximize": False,
        }]
        self.state: dict = {}
        self._lists = None
        self._count = StepCount()

    @staticmethod
    def supports(params) -> bool:
        """Whether the fused kernel can step these parameters."""
        params = list(params)
        return (
            hasattr(torch, "_fused_adam_")
            and bool(params)
            and len({(p.device, p.dtype) for p in params}) == 1
            and params[0].device.type in ("cpu", "cuda")
            and params[0].dtype in (torch.float32, torch.float64)
        )

    def _moments(self):
        """Per-parameter state lists, created on the first step and then reused."""
        if self._lists is None:
            params = self.param_groups[0]["params"]
            for p in params:
                if not self.state.get(p):
                    # torch's layout: a float32 0-d step on the parameter's device.
                    self.state[p] = {
                        "step": torch.zeros((), dtype=torch.float32, device=p.device),
                        "exp_avg": torch.zeros_like(p),
                        "exp_avg_sq": torch.zeros_like(p),
                    }
            states = [self.state[p] for p in params]
            self._lists = (
                params, [s["step"] for s in states], [s["exp_avg"] for s in states],
                [s["exp_avg_sq"] for s in states],
            )
        return self._lists

    def step(self, closure=None, lr=None):
        """One Adam update from the gradients in ``p.grad``; ``lr``, if given,
        replaces the group's rate (a float32 tensor on the parameters' device,
        which a CUDA graph can replay)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        group = self.param_groups[0]
        params, steps, exp_avgs, exp_avg_sqs = self._moments()
        sklearn_adam_(params, exp_avgs, exp_avg_sqs, steps, lr=group["lr"] if lr is None else lr,
                      betas=group["betas"], eps=group["eps"], count=self._count)
        return loss

    def __deepcopy__(self, memo):
        # Estimators copy the optimizer with the network before every fit call
        # (to undo a failed one); cloning the state tensors directly is ~5x
        # faster than the generic walk. Parameters go through ``memo`` so that
        # the copy steps the copied network.
        new = LeanAdam.__new__(LeanAdam)
        memo[id(self)] = new
        group = self.param_groups[0]
        params = [copy.deepcopy(p, memo) for p in group["params"]]
        new.param_groups = [{**group, "params": params}]
        new.state = {
            new_p: {key: t.clone() for key, t in self.state[p].items()}
            for p, new_p in zip(group["params"], params) if self.state.get(p)
        }
        new._lists = None
        new._count = StepCount()
        return new

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients."""
        for p in self.param_groups[0]["params"]:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def state_dict(self) -> dict:
        """State in ``torch.optim.Adam.state_dict()``'s format."""
        group = self.param_groups[0]
        params = group["params"]
        return {
            "state": {i: dict(self.state[p]) for i, p in enumerate(params) if self.state.get(p)},
            "param_groups": [{**{k: v for k, v in group.items() if k != "params"},
                              "params": list(range(len(params)))}],
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore :meth:`state_dict`, moving tensors to the parameters' device."""
        group = self.param_groups[0]
        params = group["params"]
        saved = state_dict["param_groups"][0]
        if len(saved["params"]) != len(params):
            raise ValueError("loaded state dict has a different number of parameters")
        group.update({k: v for k, v in saved.items() if k != "params" and k in group})
        self.state = {}
        self._lists = None
        for i, p in enumerate(params):
            entry = state_dict["state"].get(i)
            if entry:
                self.state[p] = {
                    "step": entry["step"].to(device=p.device, dtype=torch.float32),
                    "exp_avg": entry["exp_avg"].to(device=p.device, dtype=p.dtype),
                    "exp_avg_sq": entry["exp_avg_sq"].to(device=p.device, dtype=p.dtype),
                }
