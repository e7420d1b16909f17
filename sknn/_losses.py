"""Registry of losses (name -> output activation + loss) and torch validation scores.

Every loss follows scikit-learn's convention: a per-sample loss summed over
outputs, averaged over samples with the sample weights (``sum(w * l) / sum(w)``).
That normalisation is what makes integer sample weights equal to repeated rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F


def _squared_error(z, Y, **_):
    return 0.5 * (z - Y).square().sum(dim=1)


def _poisson(z, Y, **_):
    # Half Poisson deviance with an exp link, written on the raw score z.
    return (torch.special.xlogy(Y, Y) - Y * z - Y + torch.exp(z)).sum(dim=1)


class _AbsKeepingNaN(torch.autograd.Function):
    """``abs`` whose gradient at a NaN is NaN, as numpy's ``sign`` gives it.

    torch's is ``sign(r)``, 0 at a NaN: a fit whose outputs overflowed to NaN
    would train on with finite weights and a NaN loss, where the numpy step
    (and scikit-learn's arithmetic) carries the NaN into the weights and the
    fit fails.
    """

    @staticmethod
    def forward(ctx, r):
        ctx.save_for_backward(r)
        return r.abs()

    @staticmethod
    def backward(ctx, grad):
        (r,) = ctx.saved_tensors
        return grad * r.sign().masked_fill_(r.isnan(), math.nan)


def _absolute_error(z, Y, **_):
    return _AbsKeepingNaN.apply(z - Y).mean(dim=1)


def _huber(z, Y, *, huber_delta=1.0, **_):
    return F.huber_loss(z, Y, reduction="none", delta=huber_delta).mean(dim=1)


def _log_loss_terms(z, Y):
    # One log term per sample: -log p of its class (Y is one-hot).
    return -(Y * torch.log_softmax(z, dim=1)).sum(dim=1, keepdim=True)


def _binary_log_loss_terms(z, Y):
    # One log term per sample and label.
    return F.binary_cross_entropy_with_logits(z, Y, reduction="none")


def _log_loss(z, Y, **_):
    return _log_loss_terms(z, Y).sum(dim=1)


def _binary_log_loss(z, Y, **_):
    return _binary_log_loss_terms(z, Y).sum(dim=1)


def log_loss_cap(dtype) -> float:
    """The largest log term scikit-learn reports for probabilities of ``dtype``.

    scikit-learn clips probabilities to ``[eps, 1 - eps]`` (``eps`` of the
    dtype it computes in) before taking logs, so no term of its log losses
    exceeds ``-log(eps)``: 36.04 in float64, 15.94 in float32. sknn computes
    the terms from the raw scores (stable for any score) and caps the
    *reported* terms there; gradients stay ``p - y`` as in scikit-learn. The
    other end of the clip (terms at least ``-log(1 - eps)``, about ``eps``) is
    left out: it moves a loss by at most ``eps``.
    """
    return -math.log(float(np.finfo(dtype).eps))


@dataclass(frozen=True)
class LossSpec:
    """One loss.

    Parameters
    ----------
    per_sample : callable
        ``per_sample(z, Y, **loss_kwargs)`` -> (n_samples,) loss from raw scores.
    output : str
        Output activation (scikit-learn's ``out_activation_``).
    mean_over_outputs : bool
        scikit-learn reports the squared error averaged over outputs but trains
        on its sum; ``True`` reproduces that: the reported loss is divided by
        the number of outputs, the gradient is not.
    description, lecture : str
        One line for the docs and the course topic.
    log_terms : callable, optional
        For scikit-learn's log losses, ``log_terms(z, Y)`` -> (n_samples, k)
        terms summing to ``per_sample`` over columns, each reported capped at
        :func:`log_loss_cap`.
    """

    per_sample: Callable
    output: str
    mean_over_outputs: bool
    description: str
    lecture: str
    log_terms: Callable | None = None


LOSSES: dict[str, LossSpec] = {
    "squared_error": LossSpec(
        _squared_error, "identity", True, "half squared error (MSE / 2)", "002 MSE for regression"
    ),
    "poisson": LossSpec(
        _poisson, "exp", False, "half Poisson deviance with an exp output, for counts",
        "004 output activations per task",
    ),
    "absolute_error": LossSpec(
        _absolute_error, "identity", False, "mean absolute error (L1 loss)", "001 L1 loss"
    ),
    "huber": LossSpec(
        _huber, "identity", False,
        "Huber loss: squared below huber_delta, linear above (smooth L1)", "001 smooth L1",
    ),
    "log_loss": LossSpec(
        _log_loss, "softmax", False, "softmax + cross entropy (multi-class)",
        "002 softmax + cross entropy", _log_loss_terms,
    ),
    "binary_log_loss": LossSpec(
        _binary_log_loss, "logistic", False, "sigmoid + binary cross entropy (binary, multilabel)",
        "004 sigmoid + BCE", _binary_log_loss_terms,
    ),
}

OUTPUT_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "identity": lambda z: z,
    "exp": torch.exp,
    "softmax": lambda z: torch.softmax(z, dim=1),
    "logistic": torch.sigmoid,
}


def weight_sum(sw: torch.Tensor) -> torch.Tensor:
    """A batch's sample-weight sum, added up in float64, in ``sw``'s dtype.

    Every training path sums a batch's weights this way (the numpy step and
    the host's check of each epoch's batches with numpy's float64 sum), so they
    agree on which batch sums to zero: float32 weights whose magnitudes lie
    within about 5e8 of each other add up exactly in float64, in any order,
    where a float32 sum depends on the order of its additions.
    """
    return sw.sum(dtype=torch.float64).to(sw.dtype)


def weighted_mean(values: torch.Tensor, sw: torch.Tensor | None, sw_sum) -> torch.Tensor:
    """``sum(sw / sw_sum * values)`` (plain mean when ``sw`` is None).

    The weights are normalised before they multiply the values, as in the
    hand-derived steps: large weights times large losses would overflow
    float32 before the division.
    """
    if sw is None:
        return values.sum() / sw_sum
    return torch.dot(values, sw / sw_sum)


def make_loss(name: str, n_outputs: int, log_cap: float | None = None, **loss_kwargs):
    """Build ``loss(z, Y, sw, sw_sum) -> (objective, reported)`` for one task.

    ``objective`` is what is differentiated; ``reported`` is the value
    scikit-learn would print and store in ``loss_curve_``. They differ for
    multi-output squared error (reported averaged over outputs), and for the
    log losses when ``log_cap`` (:func:`log_loss_cap`) is given and a term
    exceeds it.
    """
    spec = LOSSES[name]
    scale = 1.0 / n_outputs if spec.mean_over_outputs else 1.0
    cap = log_cap if spec.log_terms is not None else None

    def loss(z, Y, sw, sw_sum):
        if cap is not None:
            terms = spec.log_terms(z, Y)
            value = weighted_mean(terms.sum(dim=1), sw, sw_sum)
            capped = terms.detach().clamp(max=cap).sum(dim=1)
            return value, weighted_mean(capped, sw, sw_sum)
        value = weighted_mean(spec.per_sample(z, Y, **loss_kwargs), sw, sw_sum)
        return value, value * scale if scale != 1.0 else value

    return loss


def accuracy(z: torch.Tensor, Y: torch.Tensor, output: str, sw: torch.Tensor | None):
    """Weighted (subset) accuracy of raw scores ``z`` against the indicator ``Y``."""
    if output == "softmax":
        correct = z.argmax(dim=1) == Y.argmax(dim=1)
    else:
        # sigmoid(z) > 0.5  <=>  z > 0; all labels must match (subset accuracy).
        correct = ((z > 0) == (Y > 0.5)).all(dim=1)
    correct = correct.to(z.dtype)
    return weighted_mean(correct, sw, correct.numel() if sw is None else sw.sum())


def r2(pred: torch.Tensor, Y: torch.Tensor, sw: torch.Tensor | None):
    """Weighted R^2 averaged over outputs, as ``sklearn.metrics.r2_score``."""
    w = torch.ones_like(Y[:, 0]) if sw is None else sw
    w = w[:, None]
    mean = (w * Y).sum(dim=0) / w.sum()
    num = (w * (Y - pred).square()).sum(dim=0)
    den = (w * (Y - mean).square()).sum(dim=0)
    # r2_score's force_finite convention for constant targets.
    score = torch.where(den != 0, 1 - num / den, torch.where(num == 0, 1.0, 0.0).to(Y.dtype))
    return score.mean()
