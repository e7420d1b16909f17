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
tensors, which the kernel increments. Only full-size batches are replayed; a
ragged last batch runs eagerly on the same parameters and optimizer state.
"""

from __future__ import annotations

import torch

from ._fast_mlp import FastAdamStep


class GraphedStep:
    """``step`` plus an Adam update, replayed from a CUDA graph for full batches.

    Parameters
    ----------
    step : callable
        ``step(X, Y, sw, sw_sum) -> reported_loss`` (the engine's), writing
        gradients into ``.grad``.
    adam : sknn._fast_mlp.FastAdamStep
        Steps the optimizer; its learning rate is read from the optimizer's
        ``param_groups`` before every step, so schedules keep working.
    arrays : tuple of (X, Y, sw or None)
        The training tensors on the GPU.
    batch_size : int
        Rows of the replayed batches.
    warmup : int, default=2
        Eager steps before the capture (on a side stream, as torch asks), so
        that lazy initialisation (cuBLAS workspaces, buffers sized by the
        batch) happens outside the graph. They are real training steps.
    """

    def __init__(self, step, adam: FastAdamStep, arrays, batch_size: int, warmup: int = 2):
        if adam.eps_mode != "torch":  # its correction is computed on the host, per step
            raise ValueError("a graphed step needs FastAdamStep(eps_mode='torch')")
        X, Y, sw = arrays
        self.step, self.adam, self.arrays = step, adam, arrays
        self.batch_size = batch_size
        self.warmup = warmup
        device = X.device
        self.idx = torch.zeros(batch_size, dtype=torch.long, device=device)
        self.Xb = X.new_empty((batch_size, *X.shape[1:]))
        self.Yb = Y.new_empty((batch_size, *Y.shape[1:]))
        self.swb = None if sw is None else sw.new_empty(batch_size)
        # The fused Adam kernel reads a float32 learning rate from the device.
        self.lr_value = float(adam.optimizer.param_groups[0]["lr"])
        self.lr = torch.tensor(self.lr_value, dtype=torch.float32, device=device)
        self.graph = None
        self.reported = None
        self.eager_steps = 0

    def _body(self):
        X, Y, sw = self.arrays
        torch.index_select(X, 0, self.idx, out=self.Xb)
        torch.index_select(Y, 0, self.idx, out=self.Yb)
        if sw is None:
            sw_sum = self.batch_size
        else:
            torch.index_select(sw, 0, self.idx, out=self.swb)
            sw_sum = self.swb.sum()
        reported = self.step(self.Xb, self.Yb, self.swb, sw_sum)
        self.adam.step(lr=self.lr)
        return reported

    def __call__(self, idx: torch.Tensor) -> torch.Tensor:
        """Train on the rows ``idx`` (a device tensor of ``batch_size`` indices);
        return the reported loss (a 0-d tensor, overwritten by the next call)."""
        lr = float(self.adam.optimizer.param_groups[0]["lr"])
        if lr != self.lr_value:
            self.lr.fill_(lr)
            self.lr_value = lr
        self.idx.copy_(idx)
        if self.graph is not None:
            self.graph.replay()
            return self.reported
        current = torch.cuda.current_stream(self.idx.device)
        if self.eager_steps < self.warmup:
            self.eager_steps += 1
            side = torch.cuda.Stream(self.idx.device)
            side.wait_stream(current)
            with torch.cuda.stream(side):
                reported = self._body()
            current.wait_stream(side)
            reported.record_stream(current)  # made on the side stream, read on this one
            return reported
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self.reported = self._body()
        self.graph = graph
        graph.replay()  # the capture only recorded this batch's step
        return self.reported
