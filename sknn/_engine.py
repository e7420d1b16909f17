"""The training loop: epochs over tensors that already live on the device.

Knows torch, not scikit-learn. Speed rules kept here: the data is moved to the
device once per fit; a batch is a slice of a permutation (no Dataset or
DataLoader); losses are accumulated on the device and read back once per
epoch, together with the validation results, in a single host sync. Small
plain networks on the CPU step through numpy views of the same tensors
(``array_step``, :mod:`sknn._numpy_mlp`) with the same loop around them.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ._cuda_graph import GraphedStep, replayable_update
from ._fast_mlp import FastAdamStep
from ._losses import OUTPUT_ACTIVATIONS, weight_sum


@dataclass
class TensorData:
    """Inputs, encoded targets and optional sample weights, all on one device.

    ``X_dtype``, when set, is the compute dtype that batches of ``X`` are cast
    to as they are taken (``X`` is then the caller's float64 data, uncopied).
    """

    X: torch.Tensor
    Y: torch.Tensor
    sw: torch.Tensor | None = None
    X_dtype: torch.dtype | None = None

    def __len__(self) -> int:
        return self.X.shape[0]


def batch_bounds(n: int, batch_size: int, min_size: int = 1) -> list[tuple[int, int]]:
    """``(start, stop)`` of each batch, as ``sklearn.utils.gen_batches``.

    A trailing batch smaller than ``min_size`` is merged into the previous one
    (batch normalisation cannot train on a single row).
    """
    bounds = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < min_size:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


def nonzero_weight_batches(order, sw: np.ndarray, bounds: list[tuple[int, int]]):
    """``order`` checked so that no batch's sample weights sum to zero.

    scikit-learn's weighted loss refuses such a batch with a ZeroDivisionError;
    the step would divide by zero too. The check runs on the host, on each
    epoch's order as it is drawn, so a step on an accelerator never waits for
    it; without shuffling (``order`` None) it runs once, here.

    Parameters
    ----------
    order : callable or None
        Returns each epoch's row order; None keeps the data's order.
    sw : ndarray of shape (n_samples,)
        The training rows' sample weights, in the training dtype.
    bounds : list of (int, int)
        The epoch's batches, as :func:`batch_bounds` gives them.

    Returns
    -------
    callable or None
        ``order``, checking what it returns.
    """
    starts = [start for start, _ in bounds]

    def checked(idx):
        # != 0, not > 0: negative weights are allowed, as in scikit-learn.
        # Added up in float64, as every step adds a batch's weights (weight_sum).
        sums = np.add.reduceat(sw if idx is None else sw[idx], starts, dtype=np.float64)
        if not np.all(sums != 0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        return idx

    if order is None:
        return checked(None)
    return lambda: checked(order())


def _take_rows(a, idx):
    return a.take(idx, axis=0) if isinstance(a, np.ndarray) else a.index_select(0, idx)


def _gather(arrays, perm, bounds, graphed_size=None):
    """The epoch's shuffled batches of ``(X, Y, sw)``, gathered lazily one at a time.

    Batches of ``graphed_size`` rows come as ``(idx, None, None, None)``: a
    :class:`~sknn._cuda_graph.GraphedStep` gathers them itself.
    """
    X, Y, sw = arrays
    for start, stop in bounds:
        idx = perm[start:stop]
        if stop - start == graphed_size:
            yield idx, None, None, None
            continue
        swb = None if sw is None else _take_rows(sw, idx)
        yield _take_rows(X, idx), _take_rows(Y, idx), swb, (stop - start) if swb is None else None


def make_autograd_step(module, loss_fn, alpha: float, weights, autocast=None):
    """General training step: forward, scikit-learn's L2 term, backward.

    With ``autocast`` (a torch dtype) the forward pass, and with it the
    backward pass, runs under ``torch.autocast``: matmuls in that precision,
    the weights, their gradients and the optimizer in theirs. The network's
    output goes back to the weights' dtype before the loss, so the loss, its
    gradient and the penalty are computed at full precision.

    Returns ``step(X, Y, sw, sw_sum) -> reported_loss`` (a 0-d tensor).
    """
    forward = module
    if autocast is not None:
        device_type = next(module.parameters()).device.type
        full = next(module.parameters()).dtype

        def forward(X):
            with torch.autocast(device_type, dtype=autocast):
                z = module(X)
            return z.to(full)

    def step(X, Y, sw, sw_sum):
        module.zero_grad(set_to_none=True)
        objective, reported = loss_fn(forward(X), Y, sw, sw_sum)
        if alpha:
            # scikit-learn divides the penalty by the batch's weight sum.
            penalty = (0.5 * alpha) * sum(w.square().sum() for w in weights) / sw_sum
            objective = objective + penalty
            reported = reported + penalty
        objective.backward()
        return reported.detach()

    return step


class StoppingRule:
    """scikit-learn's no-improvement counter; kept across warm starts and partial_fit.

    Without validation data it watches the training loss, with it the
    validation score, and then keeps a copy of the best weights of the
    current call. The first call of a new rule starts from a copy of the
    weights it starts with, as scikit-learn snapshots a network it has just
    initialised: a fit whose every validation score is NaN ends with those
    weights, not with the NaN ones.
    """

    def __init__(self, tol: float, n_iter_no_change, use_validation: bool):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.use_validation = use_validation
        self.count = 0
        self.best_loss = None if use_validation else np.inf
        self.best_score = -np.inf if use_validation else None
        self.best_state: dict | None = None
        self.snapshot_start = use_validation

    def start(self, module) -> None:
        """Called as a call's training starts (see the class docstring)."""
        if self.snapshot_start:
            self.best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            self.snapshot_start = False

    def update(self, loss: float, score: float | None, module, sync=None) -> bool:
        """Record one epoch; return True once it has stalled too long.

        ``sync``, if given, brings ``module`` up to date; it is called only
        when the best weights are about to be copied from it.
        """
        if self.use_validation:
            self.count = self.count + 1 if score < self.best_score + self.tol else 0
            if score > self.best_score:
                self.best_score = score
                if sync is not None:
                    sync()
                self.best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        else:
            self.count = self.count + 1 if loss > self.best_loss - self.tol else 0
            self.best_loss = min(self.best_loss, loss)
        return self.count > self.n_iter_no_change


@dataclass
class Outcome:
    """What one call of :func:`train_stochastic` did."""

    n_iter: int = 0
    samples_seen: int = 0
    loss: float = np.nan
    stopped: bool = False
    records: list[dict] = field(default_factory=list)


def _validate(module, data: TensorData, loss_fn, output: str, score_fn):
    """Validation loss and score as device tensors (no host sync)."""
    module.eval()
    with torch.no_grad():
        scores = _validation_scores(module(data.X), data, loss_fn, output, score_fn)
    module.train()
    return scores


def _validation_scores(z, data: TensorData, loss_fn, output: str, score_fn):
    """Validation loss and score of the raw outputs ``z`` (0-d tensors)."""
    sw_sum = len(data) if data.sw is None else data.sw.sum()
    _, val_loss = loss_fn(z, data.Y, data.sw, sw_sum)
    return val_loss, score_fn(z, OUTPUT_ACTIVATIONS[output](z), data.Y, data.sw)


def train_stochastic(
    *,
    module: torch.nn.Module,
    step: Callable,
    optimizer: torch.optim.Optimizer,
    schedule,
    train: TensorData,
    batch_size: int,
    min_batch: int,
    max_iter: int,
    order: Callable[[], np.ndarray] | None,
    stopper: StoppingRule,
    reporter,
    incremental: bool,
    first_epoch: int,
    t0: int,
    loss_fn=None,
    output: str = "identity",
    validation: TensorData | None = None,
    score_fn: Callable | None = None,
    array_step: Callable | None = None,
    cuda_graph: bool = False,
) -> Outcome:
    """Run epochs of mini-batch training with scikit-learn's stopping rules.

    Parameters
    ----------
    module : torch.nn.Module
        Trained in place.
    step : callable or None
        ``step(X, Y, sw, sw_sum) -> reported loss``; computes gradients
        (None with ``array_step``).
    optimizer : torch.optim.Optimizer
    schedule : sknn._schedulers.Schedule
    train : TensorData
    batch_size, min_batch : int
        Rows per batch; a trailing batch under ``min_batch`` joins the previous one.
    max_iter : int
        Epochs at most (partial_fit: exactly one).
    order : callable or None
        Returns the epoch's row permutation; None keeps the data's order.
    stopper : StoppingRule
    reporter : sknn._progress.Reporter
    incremental : bool
        One epoch only (partial_fit).
    first_epoch, t0 : int
        Epochs and samples seen before this call.
    loss_fn, output, validation, score_fn :
        Validation data and how to score it (early stopping), or None.
    array_step : sknn._numpy_mlp.NumpyMLPStep, optional
        Trains on numpy views of ``train`` instead of ``step`` and
        ``optimizer`` (gradient and update in one call, the loss a float),
        and is synced back into ``module`` before it is read.
    cuda_graph : bool, default=False
        Replay the step and the Adam update of every full-size batch from a
        CUDA graph (:class:`sknn._cuda_graph.GraphedStep`). Needs ``train``
        on a CUDA device and an optimizer
        :func:`sknn._cuda_graph.supports_graphs` accepts.

    Returns
    -------
    Outcome
    """
    n = len(train)
    bounds = batch_bounds(n, batch_size, min_batch)
    full_batch = len(bounds) == 1
    arrays = (train.X, train.Y, train.sw)
    if array_step is not None:
        arrays = tuple(None if a is None else a.numpy() for a in arrays)
        val_X = None if validation is None else validation.X.numpy()
    X, Y, sw = arrays
    # Batches of a large float64 X are cast as they are taken (TensorData.X_dtype).
    cast = train.X_dtype
    if cast is not None and array_step is not None:
        cast = np.float32 if cast == torch.float32 else np.float64
    # Batches in the data's order, sliced once (views): used without
    # shuffling, and for a single full batch, where order does not matter.
    static = [
        (
            X[start:stop], Y[start:stop], None if sw is None else sw[start:stop],
            (stop - start) if sw is None else None,
        )
        for start, stop in bounds
    ]
    out = Outcome(samples_seen=t0)
    is_lbfgs = isinstance(optimizer, torch.optim.LBFGS)
    # Adam's Optimizer.step() spends more time in Python bookkeeping than in
    # arithmetic on small networks; step the same state with one fused kernel.
    adam = (FastAdamStep(optimizer)
            if array_step is None and FastAdamStep.supports(optimizer) else None)
    optimizer_step = optimizer.step if adam is None else adam.step
    graphed = None
    if cuda_graph:
        update = replayable_update(optimizer, adam)
        if update is None or train.X.device.type != "cuda" or cast is not None:
            raise ValueError("cuda_graph needs CUDA tensors and sknn's fused Adam update")
        graphed = GraphedStep(step, optimizer, update, arrays, batch_size)
        optimizer_step = graphed.update_eagerly
        # Replays read their rows through an index, also in the data's order.
        rows = torch.arange(n, device=train.X.device)
    # On an accelerator the next epoch's order is drawn while the device still
    # trains on this one (shuffling a million rows takes the host ~20-30 ms):
    # the same draws in the same order, but one more when training stops early,
    # which advances a RandomState passed as random_state by one more shuffle.
    prefetch = order is not None and not incremental and train.X.device.type != "cpu"
    upcoming = None
    # The numpy step never calls the module (it applies dropout and
    # normalisation itself); switching modes walks every submodule, ~12 us each way.
    if array_step is None:
        module.train()
    stopper.start(module)
    try:
        for epoch in range(max_iter):
            tic = time.perf_counter()
            lr = float(optimizer.param_groups[0]["lr"])
            perm = upcoming if upcoming is not None else order() if order is not None else None
            upcoming = None
            if isinstance(perm, Exception):
                raise perm  # drawn ahead, failed; raised now that its epoch runs
            if perm is not None and (graphed is not None or not full_batch) and array_step is None:
                perm = torch.from_numpy(perm).to(train.X.device, non_blocking=True)
            total = None
            if graphed is not None:
                batches = _gather(arrays, rows if perm is None else perm, bounds, batch_size)
            else:
                batches = static if perm is None or full_batch else _gather(arrays, perm, bounds)
            for Xb, Yb, swb, sw_sum in batches:
                if cast is not None:
                    Xb = Xb.astype(cast) if array_step is not None else Xb.to(cast)
                if array_step is not None:
                    # Gradient and update in one call; the loss is a float.
                    reported = array_step(Xb, Yb, swb)
                    total = reported * len(Xb) + (0.0 if total is None else total)
                    schedule.batch_end()
                    continue
                if Yb is None:  # a full-size batch's indices, for the graph
                    reported = graphed(Xb)
                else:
                    if sw_sum is None:
                        sw_sum = weight_sum(swb)
                    if is_lbfgs:
                        reported = optimizer.step(
                            lambda Xb=Xb, Yb=Yb, swb=swb, s=sw_sum: step(Xb, Yb, swb, s)
                        )
                    else:
                        reported = step(Xb, Yb, swb, sw_sum)
                        optimizer_step()
                schedule.batch_end()
                if full_batch:
                    total = reported
                elif total is None:
                    total = reported * len(Xb)
                else:
                    total.add_(reported, alpha=len(Xb))
            if prefetch and epoch + 1 < max_iter:
                try:
                    upcoming = order()  # before this epoch's host sync, below
                except Exception as exc:  # a check of the order (nonzero_weight_batches)
                    upcoming = exc  # for an epoch that may never run (stopping)
            if not full_batch or array_step is not None:
                total = total / n
            if array_step is not None:
                loss, val_loss, val_score = total, None, None
                if validation is not None:
                    # The numpy forward pass at the current weights: no sync
                    # into the module (the stopper syncs it to copy the best).
                    z = torch.from_numpy(array_step.raw_output(val_X))
                    val_loss, val_score = _validation_scores(z, validation, loss_fn, output,
                                                             score_fn)
                    val_loss, val_score = torch.stack([val_loss, val_score]).tolist()
            # One host sync per epoch for everything we need to read.
            elif validation is not None:
                val_loss, val_score = _validate(module, validation, loss_fn, output, score_fn)
                loss, val_loss, val_score = torch.stack([total, val_loss, val_score]).tolist()
            else:
                loss, val_loss, val_score = total.item(), None, None
            out.n_iter += 1
            out.samples_seen += n
            out.loss = loss
            record = {
                "epoch": first_epoch + out.n_iter, "loss": loss, "val_loss": val_loss,
                "val_score": val_score, "lr": lr, "time": time.perf_counter() - tic,
            }
            out.records.append(record)
            reporter.epoch(out.n_iter, record)
            stalled = stopper.update(loss, val_score, module,
                                     None if array_step is None else array_step.sync)
            schedule.epoch_end(out.samples_seen, loss, val_score)
            if stalled:
                what = "Validation score" if stopper.use_validation else "Training loss"
                msg = "%s did not improve more than tol=%f for %d consecutive epochs." % (
                    what, stopper.tol, stopper.n_iter_no_change
                )
                if schedule.on_stall(msg, reporter.say):
                    out.stopped = True
                    break
                stopper.count = 0
            if incremental:
                break
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.")
        out.stopped = True
    finally:
        if array_step is not None:
            array_step.sync()
        reporter.close()
    if stopper.use_validation and stopper.best_state is not None:
        module.load_state_dict(stopper.best_state)
        # From here the weights are the best so far, as in scikit-learn, whose
        # coefs_ *are* its snapshot after this point: a warm-started fit
        # trains them in place, so one whose epochs never beat this score
        # ends with its last weights, not these.
        stopper.best_state = None
    if array_step is None or module.training:  # also after a switch by hand
        module.eval()
    return out
