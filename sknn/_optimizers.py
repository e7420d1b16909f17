"""Registry of optimizers: name -> ``torch.optim`` class and the mapping of
scikit-learn's parameters (``learning_rate_init``, ``momentum``, ``beta_1`` ...)
onto its keyword arguments. ``lbfgs`` is scikit-learn's full-batch L-BFGS-B,
run by :mod:`sknn._lbfgs`, and has no entry here beyond its name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ._adam_update import SklearnAdam
from ._lean_adam import LeanAdam
from ._lean_optim import TWINS
from ._sgd import SklearnSGD


def _lr(p):
    return {"lr": p["learning_rate_init"]}


def _adam_like(p):
    return {**_lr(p), "betas": (p["beta_1"], p["beta_2"]), "eps": p["epsilon"]}


def _sgd(p):
    return {**_lr(p), "momentum": p["momentum"], "nesterov": bool(p["nesterovs_momentum"])}


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer.

    Parameters
    ----------
    cls : type or None
        The ``torch.optim.Optimizer`` subclass (None for lbfgs). sknn builds
        its twin from :mod:`sknn._lean_optim` (same arithmetic and state,
        no import of ``torch._dynamo``); 'sgd' and 'adam' are scikit-learn's
        updates, sknn's own classes built without those guards.
    kwargs : callable
        Maps the estimator's parameters (a dict) to constructor keyword arguments.
    description, lecture : str
        One line for the docs and the course topic.
    """

    cls: type | None
    kwargs: Callable[[dict], dict]
    description: str
    lecture: str


OPTIMIZERS: dict[str, OptimizerSpec] = {
    "lbfgs": OptimizerSpec(
        None, lambda p: {}, "scikit-learn's full-batch L-BFGS-B (scipy); max_fun applies",
        "003 gradient descent",
    ),
    "sgd": OptimizerSpec(
        SklearnSGD, _sgd,
        "SGD with scikit-learn's momentum / nesterovs_momentum (also when the rate changes)",
        "001 SGD, momentum",
    ),
    "adam": OptimizerSpec(
        SklearnAdam, _adam_like,
        "scikit-learn's Adam (beta_1, beta_2, epsilon added before the bias correction); "
        "solver=torch.optim.Adam gives PyTorch's", "001 Adam",
    ),
    "adamw": OptimizerSpec(
        torch.optim.AdamW, _adam_like, "Adam with decoupled weight decay (default 0.01)",
        "001 Adam",
    ),
    "adamax": OptimizerSpec(
        torch.optim.Adamax, _adam_like, "Adam with an infinity-norm second moment", "001 Adam"
    ),
    "nadam": OptimizerSpec(
        torch.optim.NAdam, _adam_like, "Adam with Nesterov momentum", "001 Adam"
    ),
    "radam": OptimizerSpec(
        torch.optim.RAdam, _adam_like, "rectified Adam (variance warm-up)", "001 Adam"
    ),
    "rmsprop": OptimizerSpec(
        torch.optim.RMSprop, lambda p: {**_lr(p), "eps": p["epsilon"]},
        "RMSProp (smoothing constant alpha=0.99, settable)", "001 RMSProp",
    ),
    "adagrad": OptimizerSpec(
        torch.optim.Adagrad, _lr, "AdaGrad (per-parameter accumulated squared gradients)",
        "001 AdaGrad",
    ),
    "adadelta": OptimizerSpec(
        torch.optim.Adadelta, _lr,
        "Adadelta (usually wants learning_rate_init=1.0)", "001 optimizers",
    ),
    "asgd": OptimizerSpec(torch.optim.ASGD, _lr, "averaged SGD", "001 SGD"),
}

STOCHASTIC = frozenset(name for name in OPTIMIZERS if name != "lbfgs")


def make_optimizer(solver, params, est_params: dict, optimizer_kwargs: dict | None):
    """Build the optimizer for ``params``.

    Parameters
    ----------
    solver : str or type
        A key of :data:`OPTIMIZERS` (not ``"lbfgs"``) or an Optimizer subclass,
        which gets ``lr=learning_rate_init``.
    params : iterable of torch.nn.Parameter
    est_params : dict
        The estimator's parameters by name (``get_params()`` or its ``vars``).
    optimizer_kwargs : dict or None
        Overrides and extra keyword arguments (``weight_decay``, ``alpha`` ...).

    Returns
    -------
    optimizer : torch.optim.Optimizer
    """
    if isinstance(solver, str):
        spec = OPTIMIZERS[solver]
        cls, kwargs = spec.cls, spec.kwargs(est_params)
        params = list(params)
        if (solver == "adam" and not optimizer_kwargs and est_params["lr_scheduler"] is None
                and LeanAdam.supports(params)):
            # The default configuration: no torch.optim machinery needed.
            return LeanAdam(params, **kwargs)
        cls = TWINS.get(cls, cls)
    else:
        cls, kwargs = solver, _lr(est_params)
    params = list(params)
    if solver == "asgd" and params and params[0].device.type == "cuda":
        # torch's ASGD keeps its step on the parameters' device and, unless
        # capturable, reads it back (a device sync) for every parameter at
        # every step; capturable keeps the arithmetic on the device.
        kwargs["capturable"] = True
    kwargs.update(optimizer_kwargs or {})
    return cls(params, **kwargs)


def asgd_follows_device(optimizer, solver, optimizer_kwargs: dict | None) -> None:
    """After ``load_state_dict``: ASGD capturable as ``optimizer_kwargs`` says,
    else exactly where :func:`make_optimizer` makes it so (on CUDA), and its
    scalar state on the parameters' device, where torch's ASGD keeps it.

    The loaded groups carry the ``capturable`` of the device the state was
    saved from: a model trained on a GPU would not step on a CPU.
    """
    if solver != "asgd":
        return
    chosen = (optimizer_kwargs or {}).get("capturable")
    for group in optimizer.param_groups:
        on_cuda = bool(group["params"]) and group["params"][0].device.type == "cuda"
        group["capturable"] = on_cuda if chosen is None else bool(chosen)
        for p in group["params"]:
            state = optimizer.state.get(p, {})
            for key in ("step", "eta", "mu"):
                if torch.is_tensor(state.get(key)) and state[key].device != p.device:
                    state[key] = state[key].to(p.device)
