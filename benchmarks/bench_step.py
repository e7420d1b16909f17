"""Per-step cost of one Adam training step: autograd vs sknn's hand-derived gradient.

Usage::

    python benchmarks/bench_step.py                 # tiny, small, medium nets
    python benchmarks/bench_step.py --steps 300 --rounds 7
    python benchmarks/bench_step.py --threads 1 --nets tiny,small,medium,wide,deep
    python benchmarks/bench_step.py --compile --nets small,medium,large

Variants (all float32, softmax/cross-entropy, ReLU, L2 alpha=1e-4 as in
scikit-learn, Adam lr=1e-3):

* ``autograd+foreach`` / ``autograd+fused``: nn.Sequential forward, loss
  ``cross_entropy + 0.5 * alpha * sum ||W||^2 / n``, ``backward()``,
  ``torch.optim.Adam(foreach=True)`` or ``Adam(fused=True)``;
* ``manual+foreach`` / ``manual+fused``: ``sknn._fast_mlp.ManualMLPGrad``
  writes the same gradient, then the same optimizer steps;
* ``manual+raw_fused``: the same, stepping with ``torch._fused_adam_`` called
  directly (skips ``Optimizer.step``'s Python bookkeeping);
* ``numpy+lean``: ``sknn._numpy_mlp.NumpyMLPStep``, the same gradient and
  Adam update in numpy on a flat copy of the parameters (what sknn runs when
  a step is at most ``NUMPY_MAX_WORK`` multiply-adds). ``--threads 1`` also
  limits numpy's BLAS to one thread, as sknn does for such steps. Without it
  the variant shows why sknn does: its Adam update is torch's fused kernel,
  and BLAS's and torch's threads spin against each other at every step;
* ``compiled+fused`` (with ``--compile``): the autograd forward and backward
  under ``torch.compile`` (inductor's default mode), then
  ``Adam(fused=True)``. Its warm-up -- compiling, for the full and the ragged
  batch size -- is timed and printed, with the steps it takes a faster step to
  win that time back against ``autograd+fused`` and against sknn's step
  (``manual+raw_fused`` or ``numpy+lean``, whichever is faster).

Rounds alternate the variants; each round times ``--steps`` consecutive
steps (cycling over minibatch slices of a permuted data set) and reports
µs/step. The median over rounds is printed along with the median of the
per-round ratios against ``autograd+foreach``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from sknn._fast_mlp import ManualMLPGrad
from sknn._lean_adam import LeanAdam
from sknn._numpy_mlp import NumpyMLPStep

ALPHA = 1e-4
LR = 1e-3

NETS = {
    # name: (n_rows, n_features, hidden, n_classes, batch)
    "tiny": (112, 4, (10,), 3, 112),
    "small": (1347, 64, (100,), 10, 200),
    "medium": (1500, 20, (128, 256), 4, 200),
    "wide": (1000, 100, (256,), 10, 200),
    "deep": (1000, 100, (256, 128), 10, 200),
    "large": (5000, 100, (256, 256), 10, 256),
    "large_batch": (6000, 100, (256, 256), 10, 1024),
}


def make_net(n_in, hidden, n_out, seed=0):
    torch.manual_seed(seed)
    layers, prev = [], n_in
    for h in hidden:
        layers += [torch.nn.Linear(prev, h), torch.nn.ReLU()]
        prev = h
    layers.append(torch.nn.Linear(prev, n_out))
    return torch.nn.Sequential(*layers)


def linear_params(net):
    lins = [m for m in net if isinstance(m, torch.nn.Linear)]
    return [m.weight for m in lins], [m.bias for m in lins]


class RawFusedAdam:
    """Adam via one ``torch._fused_adam_`` call per step, no Optimizer machinery.

    Same update as ``torch.optim.Adam(fused=True)`` (amsgrad=False,
    weight_decay=0, maximize=False).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = list(params)
        self.grads = None
        self.exp_avgs = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sqs = [torch.zeros_like(p) for p in self.params]
        # One step counter tensor per parameter, as the fused kernel expects.
        self.steps = [torch.zeros((), dtype=torch.float32) for _ in self.params]
        self.lr, self.betas, self.eps = lr, betas, eps

    def step(self):
        if self.grads is None:
            self.grads = [p.grad for p in self.params]
        torch._foreach_add_(self.steps, 1)
        with torch.no_grad():
            torch._fused_adam_(
                self.params,
                self.grads,
                self.exp_avgs,
                self.exp_avg_sqs,
                [],
                self.steps,
                amsgrad=False,
                lr=self.lr,
                beta1=self.betas[0],
                beta2=self.betas[1],
                weight_decay=0.0,
                eps=self.eps,
                maximize=False,
            )


def make_variant(name, shape):
    n_rows, n_in, hidden, n_out, batch = shape
    net = make_net(n_in, hidden, n_out)
    weights, biases = linear_params(net)
    params = list(net.parameters())
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n_rows, n_in, generator=g)
    y = torch.randint(n_out, (n_rows,), generator=g)
    Y = F.one_hot(y, n_out).to(torch.float32)
    slices = [(s, min(s + batch, n_rows)) for s in range(0, n_rows, batch)]
    opt_kind = name.split("+")[1]
    if opt_kind == "lean":
        opt = LeanAdam(params, lr=LR)
    elif opt_kind == "raw_fused":
        opt = RawFusedAdam(params, lr=LR)
    else:
        opt = torch.optim.Adam(params, lr=LR, **{opt_kind: True})

    if name.startswith("compiled"):

        def fwd_bwd(xb, yb):
            loss = F.cross_entropy(net(xb), yb)
            pen = sum((w * w).sum() for w in weights) * (0.5 * ALPHA / xb.shape[0])
            (loss + pen).backward()
            return loss

        compiled = torch.compile(fwd_bwd)

        def step(i):
            a, b = slices[i % len(slices)]
            opt.zero_grad(set_to_none=True)
            loss = compiled(X[a:b], y[a:b])
            opt.step()
            return loss

    elif name.startswith("numpy"):
        numpy_step = NumpyMLPStep(weights, biases, opt, "relu", "softmax", ALPHA)
        Xn, Yn = X.numpy(), Y.numpy()

        def step(i):
            a, b = slices[i % len(slices)]
            return numpy_step(Xn[a:b], Yn[a:b])

    elif name.startswith("autograd"):

        def step(i):
            a, b = slices[i % len(slices)]
            xb, yb = X[a:b], y[a:b]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(xb), yb)
            pen = sum((w * w).sum() for w in weights) * (0.5 * ALPHA / (b - a))
            (loss + pen).backward()
            opt.step()
            return loss
    else:
        grad_fn = ManualMLPGrad(weights, biases, "relu", "softmax", ALPHA)

        def step(i):
            a, b = slices[i % len(slices)]
            loss, _ = grad_fn(X[a:b], Y[a:b])
            opt.step()
            return loss

    return step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", default="tiny,small,medium")
    parser.add_argument("--steps", type=int, default=200, help="steps timed per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (median)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--compile", action="store_true",
                        help="add the torch.compile'd autograd step and its compile time")
    parser.add_argument("--warm-cache", action="store_true",
                        help="with --compile, use inductor's on-disk cache as it is (what a "
                             "later process pays) instead of an empty one (a first compile)")
    args = parser.parse_args(argv)
    with _inductor_cache(fresh=args.compile and not args.warm_cache) as cache_root:
        _run(args, cache_root)


@contextlib.contextmanager
def _inductor_cache(fresh):
    """A temporary root for inductor's caches (None unless ``fresh``); removed after."""
    if not fresh:
        yield None
        return
    before = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    root = tempfile.mkdtemp(prefix="bench_step_inductor_")
    try:
        yield root
    finally:
        if before is None:
            os.environ.pop("TORCHINDUCTOR_CACHE_DIR", None)
        else:
            os.environ["TORCHINDUCTOR_CACHE_DIR"] = before
        shutil.rmtree(root, ignore_errors=True)


def _run(args, cache_root=None):
    if args.threads:
        torch.set_num_threads(args.threads)
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads, user_api="blas")
    variants = [
        "autograd+foreach",
        "autograd+fused",
        "manual+foreach",
        "manual+fused",
        "manual+raw_fused",
        "numpy+lean",
    ]
    if args.compile:
        variants.append("compiled+fused")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; µs/step, "
        f"median of {args.rounds} rounds x {args.steps} steps; ratio = per-round "
        f"time / autograd+foreach"
    )
    for net_name in args.nets.split(","):
        shape = NETS[net_name]
        if args.compile:
            # Dynamo's in-memory cache is reset per network: the step is the
            # same code object each time, and dynamo stops compiling it after
            # a few. Inductor's on-disk cache is empty unless --warm-cache.
            torch._dynamo.reset()
            if cache_root is not None:
                os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(dir=cache_root)
        steps = {v: make_variant(v, shape) for v in variants}
        warm_up = {}
        for v in list(variants):  # warm-up: buffers, optimizer state, lazy init, compiling
            t0 = time.perf_counter()
            try:
                for i in range(20):
                    steps[v](i)
            except Exception as exc:  # torch.compile needs a working C++ compiler
                if v != "compiled+fused":
                    raise
                print(f"torch.compile failed here, so no compiled step: {exc!r:.300}")
                variants.remove(v)
                continue
            warm_up[v] = time.perf_counter() - t0
        per = {v: [] for v in variants}
        for r in range(args.rounds):
            order = variants[r % len(variants) :] + variants[: r % len(variants)]
            for v in order:
                fn = steps[v]
                t0 = time.perf_counter()
                for i in range(args.steps):
                    fn(i)
                per[v].append((time.perf_counter() - t0) / args.steps * 1e6)
        n_rows, n_in, hidden, n_out, batch = shape
        print(f"\n{net_name}: {n_in}-{'-'.join(map(str, hidden))}-{n_out}, batch {batch}")
        base = per["autograd+foreach"]
        for v in variants:
            ratio = statistics.median(a / b for a, b in zip(per[v], base))
            print(f"  {v:<18} {statistics.median(per[v]):8.1f} µs/step   {ratio:5.2f}x")
        if "compiled+fused" in variants:
            print_compile_payback(per, warm_up)


def print_compile_payback(per, warm_up):
    """The compile time, and the steps it takes a faster step to win it back."""
    us = {v: statistics.median(t) for v, t in per.items()}
    compiled = us["compiled+fused"]
    # The warm-up's 20 steps would have cost this much without compiling.
    compile_s = warm_up["compiled+fused"] - 20 * compiled / 1e6
    print(f"  compiling (20 warm-up steps, less their steady cost): {compile_s:.2f} s")
    sknn_step = min(("manual+raw_fused", "numpy+lean"), key=us.get)
    for other in ("autograd+fused", sknn_step):
        gain = us[other] - compiled
        if gain > 0:
            verdict = f"pays back after {compile_s * 1e6 / gain:,.0f} steps"
        else:
            verdict = f"never pays back: {-gain:.1f} µs/step slower"
        print(f"  compiled+fused against {other}: {verdict}")


if __name__ == "__main__":
    main()
