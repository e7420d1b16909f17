"""scikit-learn's ``solver="lbfgs"``: scipy's L-BFGS-B on the full data set.

The loss and its gradient come from autograd (any module, any loss in the
registry), or for plain networks from the closed-form gradients of the
stochastic solvers' fast steps: :class:`sknn._numpy_mlp.NumpyMLPGradient` for
small ones on the CPU (scipy evaluates the objective a few hundred times per
fit, and torch's per-operation and autograd overhead was most of the fit's
time on small data), :class:`sknn._fast_mlp.ManualMLPGrad` for the others
(no graph to record, buffers reused across evaluations). scipy drives the
iterations in float64 exactly as scikit-learn does, and is given the same
pair: the loss as scikit-learn reports it (averaged over the outputs of a
multi-output squared error, log terms capped as scikit-learn's clipped
probabilities give them) with the gradient of the loss trained on (summed
over outputs, uncapped). The two disagree in those cases, in scikit-learn
too; giving scipy anything else would change the iterates.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.optimize
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from ._engine import TensorData


def train_lbfgs(
    *, module, loss_fn, alpha: float, weights, data: TensorData, max_iter: int,
    max_fun: int, tol: float, reporter, first_epoch: int, numpy_gradient=None,
    torch_gradient=None,
):
    """Minimise the full-batch objective with L-BFGS-B.

    Parameters
    ----------
    module : torch.nn.Module
        Trained in place.
    loss_fn : callable
        ``loss_fn(z, Y, sw, sw_sum) -> (objective, reported)``.
    alpha : float
        L2 penalty, scikit-learn's ``0.5 * alpha * ||W||^2 / sw_sum``.
    weights : list of torch.Tensor
        The penalised weight matrices.
    data : TensorData
    max_iter, max_fun : int
        scipy's ``maxiter`` and ``maxfun``.
    tol : float
        scipy's ``gtol``.
    reporter : sknn._progress.Reporter
    first_epoch : int
        Iterations recorded before this call (for ``history_``).
    numpy_gradient : sknn._numpy_mlp.NumpyMLPGradient, optional
        Computes the objective and its gradient instead of ``module`` and
        ``loss_fn`` (same values to round-off), on its own flat copy of the
        parameters, written back into ``module`` at the end.
    torch_gradient : (sknn._fast_mlp.ManualMLPGrad, float), optional
        The closed-form gradient of ``module``'s plain network and the factor
        of its reported loss (``report_scale``), used instead of autograd.

    Returns
    -------
    result : scipy.optimize.OptimizeResult
        With ``reported`` (the loss as scikit-learn reports it) and
        ``records`` (one ``history_`` entry per iteration) added.
    """
    if data.sw is not None and float(data.sw.sum()) == 0:  # one read per fit
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    last = {}
    if numpy_gradient is not None:
        fun, x0 = _numpy_objective(numpy_gradient, data, last)
    else:
        fun, x0 = _torch_objective(module, loss_fn, alpha, weights, data, last, torch_gradient)

    records = []
    tic = [time.perf_counter()]

    def callback(intermediate_result):
        record = {
            "epoch": first_epoch + len(records) + 1, "loss": last["reported"],
            "val_loss": None, "val_score": None, "lr": None,
            "time": time.perf_counter() - tic[0],
        }
        records.append(record)
        reporter.epoch(len(records), record)
        tic[0] = time.perf_counter()

    module.train()
    try:
        result = scipy.optimize.minimize(
            fun, x0, method="L-BFGS-B", jac=True, callback=callback,
            options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
        )
    finally:
        reporter.close()
    fun(result.x)  # leave the module at the solution and read its reported loss
    if numpy_gradient is not None:
        numpy_gradient.sync()
    _batch_statistics_at_solution(module, data.X)
    module.zero_grad(set_to_none=True)
    module.eval()
    result.reported = last["reported"]
    result.records = records
    return result


def _batch_statistics_at_solution(module, X) -> None:
    """Set batch normalisation's running statistics to the full data's at the
    solution, the statistics every evaluation trained with.

    Each of scipy's evaluations, rejected line-search points included, moved
    the running averages a step towards that point's statistics; predictions
    would then normalise with a blend of points the solution is not.
    """
    norms = [m for m in module.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average: after one batch, its statistics
    try:
        with torch.no_grad():
            module(X)
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum


def _torch_objective(module, loss_fn, alpha, weights, data: TensorData, last: dict,
                     torch_gradient=None):
    """scipy's ``fun`` and ``x0`` over ``module``'s parameters: through autograd,
    or ``torch_gradient``'s closed form (see :func:`train_lbfgs`)."""
    params = [p for p in module.parameters() if p.requires_grad]
    device, dtype = params[0].device, params[0].dtype
    sw_sum = len(data) if data.sw is None else data.sw.sum()

    def autograd():
        module.zero_grad(set_to_none=True)
        objective, reported = loss_fn(module(data.X), data.Y, data.sw, sw_sum)
        if alpha:
            penalty = (0.5 * alpha) * sum(w.square().sum() for w in weights) / sw_sum
            objective, reported = objective + penalty, reported + penalty
        objective.backward()
        return objective, reported

    def closed_form():
        # Every parameter's .grad is overwritten: the network is plain, so
        # grad_fn writes all of them.
        grad_fn, report_scale = torch_gradient
        data_loss, penalty = grad_fn(data.X, data.Y, data.sw)
        return data_loss + penalty, data_loss * report_scale + penalty

    evaluate = autograd if torch_gradient is None else closed_form

    def fun(x):
        with torch.no_grad():
            vector_to_parameters(torch.from_numpy(x).to(device, dtype), params)
        _, reported = evaluate()
        grad = torch.cat([p.grad.reshape(-1) for p in params])
        last["reported"] = reported.item()
        return last["reported"], grad.detach().cpu().numpy().astype(np.float64)

    return fun, parameters_to_vector(params).detach().cpu().numpy().astype(np.float64)


def _numpy_objective(gradient, data: TensorData, last: dict):
    """scipy's ``fun`` and ``x0`` over the flat parameters of ``gradient``."""
    X, Y = data.X.numpy(), data.Y.numpy()
    sw = None if data.sw is None else data.sw.numpy()

    def fun(x):
        np.copyto(gradient.flat, x)
        data_loss, penalty = gradient.gradient(X, Y, sw)
        last["reported"] = data_loss * gradient.report_scale + penalty
        # A copy: scipy keeps the arrays it is given across calls.
        return last["reported"], gradient.grad.astype(np.float64)

    return fun, gradient.flat.astype(np.float64)
