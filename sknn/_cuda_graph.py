"""One training step replayed from a CUDA graph (``cuda_graphs=True``).

A training step is a few dozen kernel launches: the batch's gather, the
forward and backward matmuls and element-wise kernels, the loss and the Adam
update. On a GPU whose matmuls are fast (TensorFloat-32, bfloat16) launching
them from Python takes longer than running them. A CUDA graph records the
launches of one step once and replays them with a single call.

What a replay needs is fixed at capture: the tensors' addresses and every
Python number. So the step reads its batch through a static index tensor
(filled before each replay), the learning rate from a device tensor (filled
when the schedule changes it), and Adam's step counts from torch's own state
tensors, which the update increments (scikit-learn's rule computes its step
size from them on the device). Adam's betas, eps and weight decay are
numbers to the kernels: while a schedule moves them (one-cycle's momentum),
the steps run eagerly. Only full-size batches are replayed; a ragged last
batch runs eagerly on the same parameters and optimizer state.
"""

from __future__ import annotations

import torch

from ._fast_mlp import FastAdamStep
from ._lean_adam import LeanAdam
from ._losses import weight_sum


def supports_graphs(optimizer) -> bool:
    """Whether a graph can replay ``optimizer``'s update: sknn's fused Adam."""
    return isinstance(optimizer, LeanAdam) or FastAdamStep.supports(optimizer)


def replayable_update(optimizer, adam: FastAdamStep | None):
    """The update of ``optimizer`` that takes its learning rate as a tensor
    (``update(lr=tensor)``), or None where a graph cannot replay it."""
    if isinstance(optimizer, LeanAdam):
        return optimizer.step
    if adam is not None and adam.optimizer is optimizer:
        return adam.step
    return None


def _numbers(group) -> tuple:
    """The group's hyper-parameters that the kernel takes as numbers."""
    return tuple(group["betas"]), group["eps"], group.get("weight_decay", 0.0)


class GraphedStep:
    """``step`` plus an Adam update, replayed from a CUDA graph for full batches.

    Parameters
    ----------
    step : callable
        ``step(X, Y, sw, sw_sum) -> reported_loss`` (the engine's), writing
        gradients into ``.grad``.
    optimizer : torch.optim.Optimizer or sknn._lean_adam.LeanAdam
        Its ``param_groups[0]`` is read before every step, so schedules keep
        working.
    update : callable
        ``update(lr=tensor)``, from :func:`replayable_update`.
    arrays : tuple of (X, Y, sw or None)
        The training tensors on the GPU.
    batch_size : int
        Rows of the replayed batches.
    warmup : int, default=2
        Eager steps before the capture (on a side stream, as torch asks), so
        that lazy initialisation (cuBLAS workspaces, buffers sized by the
        batch) happens outside the graph. They are real training steps.
    """

    def __init__(self, step, optimizer, update, arrays, batch_size: int, warmup: int = 2):
        X, Y, sw = arrays
        self.step, self.optimizer, self.update, self.arrays = step, optimizer, update, arrays
        self.batch_size = batch_size
        self.warmup = warmup
        device = X.device
        self.idx = torch.zeros(batch_size, dtype=torch.long, device=device)
        self.Xb = X.new_empty((batch_size, *X.shape[1:]))
        self.Yb = Y.new_empty((batch_size, *Y.shape[1:]))
        self.swb = None if sw is None else sw.new_empty(batch_size)
        group = optimizer.param_groups[0]
        # The fused Adam kernel reads a float32 learning rate from the device.
        self.lr_value = float(group["lr"])
        self.lr = torch.full((), self.lr_value, dtype=torch.float32, device=device)
        self.numbers = _numbers(group)  # as at the last step
        self.graph = None
        self.side = None  # the side stream, made on first use and kept
        self.reported = None
        self.steady_steps = 0  # eager steps in a row with the same numbers
        self.moving = False  # the numbers changed since a capture

    def _body(self):
        X, Y, sw = self.arrays
        torch.index_select(X, 0, self.idx, out=self.Xb)
        torch.index_select(Y, 0, self.idx, out=self.Yb)
        if sw is None:
            sw_sum = self.batch_size
        else:
            torch.index_select(sw, 0, self.idx, out=self.swb)
            sw_sum = weight_sum(self.swb)
        reported = self.step(self.Xb, self.Yb, self.swb, sw_sum)
        self.update(lr=self.lr)
        return reported

    def _read_lr(self, group) -> None:
        lr = float(group["lr"])
        if lr != self.lr_value:
            self.lr.fill_(lr)
            self.lr_value = lr

    def update_eagerly(self) -> None:
        """The optimizer update of a batch stepped outside the graph (a ragged
        last batch): the replayed update, run eagerly, so that every step of
        the fit keeps its step count on the device alone."""
        self._read_lr(self.optimizer.param_groups[0])
        self.update(lr=self.lr)

    def __call__(self, idx: torch.Tensor) -> torch.Tensor:
        """Train on the rows ``idx`` (a device tensor of ``batch_size`` indices);
        return the reported loss (a 0-d tensor, overwritten by the next call)."""
        group = self.optimizer.param_groups[0]
        self._read_lr(group)
        numbers = _numbers(group)
        if numbers != self.numbers:
            # A replay would use the captured numbers: step eagerly until they
            # settle, and once they have moved, capture again only if they stay.
            self.numbers, self.steady_steps = numbers, 0
            if self.graph is not None:
                self.graph, self.moving = None, True
        self.idx.copy_(idx)
        if self.graph is not None:
            self.graph.replay()
            return self.reported
        if self.steady_steps < self.warmup * (10 if self.moving else 1):
            self.steady_steps += 1
            return self._eager()
        self.graph = self._capture()
        self.graph.replay()  # the capture only recorded this batch's step
        return self.reported

    def _on_side_stream(self, fn):
        """``fn()`` on a side stream ordered after this one's work, and before its next."""
        current = torch.cuda.current_stream(self.idx.device)
        if self.side is None:
            # One stream for every eager step and capture: while one-cycle moves
            # Adam's betas every batch steps run eagerly, and a new stream per
            # batch would be an allocation on the hot path.
            self.side = torch.cuda.Stream(self.idx.device)
        side = self.side
        side.wait_stream(current)
        with torch.cuda.stream(side):
            out = fn()
        current.wait_stream(side)
        return out

    def _eager(self):
        reported = self._on_side_stream(self._body)
        # Made on the side stream, read on this one.
        reported.record_stream(torch.cuda.current_stream(self.idx.device))
        return reported

    def _capture(self):
        # CUDAGraph's own capture_begin/capture_end: the ``torch.cuda.graph``
        # context also runs gc.collect() and empties the allocator's cache
        # first, about 0.1 s in a process with torch and scikit-learn loaded,
        # for memory a step this size does not need.
        graph = torch.cuda.CUDAGraph()

        def record():
            graph.capture_begin()
            try:
                self.reported = self._body()
            except BaseException:
                try:
                    graph.capture_end()
                except RuntimeError:
                    pass  # the capture is broken already: the body's error is the one to show
                raise
            graph.capture_end()

        self._on_side_stream(record)
        return graph
