"""The matmul floor of a benchmark case: its matrix products alone, timed.

A float32 training step of a dense network is, at these sizes, mostly its
matrix products: per layer the forward product, the weight gradient and (but
for the first layer) the input gradient. :func:`matmul_floor` times exactly
those products for a case -- the case's layer shapes, the batch sizes of one
epoch (the ragged last batch included), times its epochs -- with nothing else:
no gather, no activation, no loss, no optimizer, operands already in memory
and outputs preallocated. No float32 implementation of the same training on
the same BLAS and threads can be faster, so the floor says how far a fit-time
target is reachable at all on this machine.

torch's ``mm`` is the BLAS sknn's torch step calls. Its numpy step calls
numpy's OpenBLAS instead, which the floor does not time: on these shapes the
two were close in a one-off comparison, OpenBLAS slightly ahead, so read
the numpy-step cases' floor as approximate.
"""

from __future__ import annotations

import itertools
import time

import torch

__all__ = ["epoch_products", "matmul_floor"]


def epoch_products(n_in, hidden, n_out, n_train, batch):
    """One epoch's matrix products, in step order, as ``(a, b, out)`` for ``mm(a, b, out=out)``.

    The operands are random float32 tensors with the layouts sknn's torch
    step uses (transposed weights and deltas are views); batches of the same
    size share their tensors.
    """
    sizes = [n_in, *hidden, n_out]
    sizes_by_batch = {}
    for start in range(0, n_train, batch):
        rows = min(batch, n_train - start)
        sizes_by_batch[rows] = sizes_by_batch.get(rows, 0) + 1
    products = []
    for rows, count in sizes_by_batch.items():
        step = []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            a = torch.randn(rows, fan_in)
            w = torch.randn(fan_out, fan_in)
            delta = torch.randn(rows, fan_out)
            # forward z = a W^T; weight gradient D^T a; input gradient D W.
            step.append((a, w.t(), torch.empty(rows, fan_out)))
            step.append((delta.t(), a, torch.empty(fan_out, fan_in)))
            if i > 0:
                step.append((delta, w, torch.empty(rows, fan_in)))
        products.extend(step * count)
    return products


def matmul_floor(n_in, hidden, n_out, n_train, batch, epochs, threads, repeats=3):
    """Seconds the case's matrix products alone take in float32.

    Parameters
    ----------
    n_in, n_out : int
        Input features and output units.
    hidden : tuple of int
        Hidden layer widths.
    n_train, batch : int
        Training rows and batch size; the epoch's batches are those of
        ``range(0, n_train, batch)``, as every library here slices them.
    epochs : int
        Epochs of the fit: the epoch's time is multiplied by it.
    threads : int
        torch intra-op threads to time with (restored afterwards).
    repeats : int, default=3
        Epochs timed; the fastest counts, as a floor should.

    Returns
    -------
    float
        Seconds for ``epochs`` epochs of products.
    """
    products = epoch_products(n_in, hidden, n_out, n_train, batch)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    mm = torch.mm
    try:
        for a, b, out in products[: 2 * len(hidden) + 2]:  # warm the pool and caches
            mm(a, b, out=out)
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            for a, b, out in products:
                mm(a, b, out=out)
            best = min(best, time.perf_counter() - t0)
    finally:
        torch.set_num_threads(before)
    return best * epochs
