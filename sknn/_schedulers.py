"""Registry of learning-rate schedules.

``lr_scheduler=None`` keeps scikit-learn's ``learning_rate`` behaviour
(constant, invscaling, adaptive; SGD only). A name or a
``torch.optim.lr_scheduler`` class wraps the torch scheduler. Defaults are
chosen relative to ``max_iter`` so that a schedule does something useful
without tuning; every default can be overridden through
``lr_scheduler_kwargs``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch.optim import lr_scheduler as lrs


class Schedule:
    """Base schedule: constant learning rate, stop when training stalls."""

    def batch_end(self) -> None:
        """Called after every optimizer step."""

    def epoch_end(self, t: int, loss: float, val_score: float | None) -> None:
        """Called after every epoch with the samples seen so far and the epoch's results."""

    def on_stall(self, msg: str, say) -> bool:
        """Training stopped improving; return True to stop.

        ``say`` prints a line (or is None when not verbose).
        """
        if say:
            say(msg + " Stopping.")
        return True

    def state_dict(self) -> dict:
        """Serializable state."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`."""


class SklearnSchedule(Schedule):
    """scikit-learn's ``learning_rate`` for SGD: constant, invscaling or adaptive."""

    def __init__(self, optimizer, learning_rate: str, learning_rate_init: float, power_t: float):
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t

    def _set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def epoch_end(self, t, loss, val_score):  # noqa: D102
        if self.learning_rate == "invscaling":
            # Per epoch and on samples seen, as sklearn's SGDOptimizer.iteration_ends.
            self._set_lr(self.learning_rate_init / (t + 1) ** self.power_t)

    def on_stall(self, msg, say):  # noqa: D102
        if self.learning_rate != "adaptive":
            return super().on_stall(msg, say)
        lr = self.optimizer.param_groups[0]["lr"]
        if lr <= 1e-6:
            if say:
                say(msg + " Learning rate too small. Stopping.")
            return True
        self._set_lr(lr / 5.0)
        if say:
            say(msg + " Setting learning rate to %f" % (lr / 5.0))
        return False


class TorchSchedule(Schedule):
    """A ``torch.optim.lr_scheduler`` stepped per epoch (or per batch for one-cycle)."""

    def __init__(self, scheduler, per_batch: bool, metric: str):
        self.scheduler = scheduler
        self.per_batch = per_batch
        self.metric = metric  # "loss" or "val_score", for ReduceLROnPlateau
        self.is_plateau = isinstance(scheduler, lrs.ReduceLROnPlateau)

    def batch_end(self):  # noqa: D102
        # The schedule's last point is step total_steps - 1; past it OneCycleLR
        # extrapolates (then raises), e.g. when partial_fit runs beyond
        # max_iter epochs: hold the final learning rate instead.
        if self.per_batch and self.scheduler.last_epoch + 1 < self.scheduler.total_steps:
            self.scheduler.step()

    def epoch_end(self, t, loss, val_score):  # noqa: D102
        if self.per_batch:
            return
        if self.is_plateau:
            value = val_score if self.metric == "val_score" else loss
            self.scheduler.step(value)
        else:
            self.scheduler.step()

    def state_dict(self):  # noqa: D102
        return self.scheduler.state_dict()

    def load_state_dict(self, state):  # noqa: D102
        self.scheduler.load_state_dict(state)


@dataclass(frozen=True)
class SchedulerSpec:
    """One named scheduler: its class, defaults from the fit's context, docs."""

    cls: type
    defaults: Callable[[dict], dict]
    description: str
    lecture: str
    per_batch: bool = False


SCHEDULERS: dict[str, SchedulerSpec] = {
    "step": SchedulerSpec(
        lrs.StepLR, lambda c: {"step_size": max(1, c["max_iter"] // 4), "gamma": 0.5},
        "StepLR: multiply by gamma=0.5 every step_size epochs (default max_iter // 4)",
        "001 StepLR",
    ),
    "multistep": SchedulerSpec(
        lrs.MultiStepLR,
        lambda c: {
            "milestones": sorted({max(1, c["max_iter"] * k // 40) for k in (10, 25, 32)}),
            "gamma": 0.5,
        },
        "MultiStepLR: multiply by gamma=0.5 at milestones (default 25%, 62.5%, 80% of max_iter)",
        "001 MultiStepLR",
    ),
    "exponential": SchedulerSpec(
        lrs.ExponentialLR, lambda c: {"gamma": 0.95},
        "ExponentialLR: multiply by gamma=0.95 every epoch", "001 ExponentialLR",
    ),
    "cosine": SchedulerSpec(
        lrs.CosineAnnealingLR, lambda c: {"T_max": c["max_iter"]},
        "CosineAnnealingLR: cosine decay to eta_min=0 over T_max=max_iter epochs",
        "001 learning-rate decay",
    ),
    "plateau": SchedulerSpec(
        lrs.ReduceLROnPlateau,
        lambda c: {"mode": "max" if c["metric"] == "val_score" else "min", "factor": 0.1,
                   "patience": 5},
        "ReduceLROnPlateau: multiply by factor=0.1 after patience=5 epochs without improvement "
        "of the training loss (validation score with early_stopping)",
        "001 learning-rate decay",
    ),
    "onecycle": SchedulerSpec(
        lrs.OneCycleLR,
        lambda c: {"max_lr": c["learning_rate_init"],
                   "total_steps": c["max_iter"] * c["steps_per_epoch"]},
        "OneCycleLR: warm up to max_lr=learning_rate_init then anneal, stepped per batch "
        "over max_iter epochs",
        "001 learning-rate decay", per_batch=True,
    ),
}


def make_schedule(lr_scheduler, kwargs: dict | None, optimizer, context: dict) -> Schedule:
    """Build the schedule for one fit.

    Parameters
    ----------
    lr_scheduler : None, str or type
    kwargs : dict or None
        ``lr_scheduler_kwargs``; override the defaults.
    optimizer : torch.optim.Optimizer
    context : dict
        ``solver``, ``learning_rate``, ``learning_rate_init``, ``power_t``,
        ``max_iter``, ``steps_per_epoch`` and ``metric`` (``"loss"`` or
        ``"val_score"``).

    Returns
    -------
    schedule : Schedule
    """
    if lr_scheduler is None:
        if context["solver"] == "sgd":
            return SklearnSchedule(
                optimizer, context["learning_rate"], context["learning_rate_init"],
                context["power_t"],
            )
        return Schedule()
    if isinstance(lr_scheduler, str):
        spec = SCHEDULERS[lr_scheduler]
        cls, per_batch = spec.cls, spec.per_batch
        full = {**spec.defaults(context), **(kwargs or {})}
    else:
        cls, per_batch, full = lr_scheduler, False, dict(kwargs or {})
    return TorchSchedule(cls(optimizer, **full), per_batch, context["metric"])
