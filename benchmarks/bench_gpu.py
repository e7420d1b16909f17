"""GPU training throughput of sknn (issue 5's GPU case).

    python benchmarks/bench_gpu.py [--rows 1000000] [--epochs 3] [--repeats 3]
                                   [--variants float32,tf32,bfloat16] [--device cuda]
                                   [--no-graph-probe] [--no-update-probe]

Fits TorchMLPClassifier on synthetic data (default 1,000,000 x 100, 10
classes, network (1024, 1024), batch 4096) once per variant and repeat,
alternating the variants, and reports the median samples per second, the
achieved share of the device's measured matmul throughput in the variant's
precision, the epoch times and the accuracy on 50,000 held-out rows:

* ``float32``: the defaults;
* ``tf32``: ``matmul_precision="high"`` (TensorFloat-32 matmuls on the
  tensor cores of NVIDIA GPUs from Ampere on);
* ``bfloat16``: ``autocast="bfloat16"`` (mixed precision);
* each of them ``+graphs``: with ``cuda_graphs=True`` (CUDA only).

First, the update probe times Adam's update alone, replayed from a CUDA
graph, on three networks' parameters: the update sknn's graphed fits replay
for ``solver="adam"`` (scikit-learn's rule, its step size computed on the
device), the same fused kernel with torch's rule, and ``torch.optim.Adam``
(fused, capturable). The first two differ by what scikit-learn's rule costs a
replayed step.

The engine reads the loss back once per epoch, so the epoch itself has no host
sync. The graph probe then times a minimal hand-written PyTorch step of the
same network (fused, capturable Adam) eagerly and replayed from a CUDA graph,
in each precision: where the graph is much faster than the eager step, launch
overhead rather than arithmetic bounds the step, and sknn's per-step time is
printed beside it. Without CUDA it says so and exits, unless ``--device cpu``
(a smoke run, e.g. with ``--rows 20000``; the graph probe needs CUDA, the
update probe then times eager calls).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings

import numpy as np
import torch
from _common import TorchMLPClassifier

#: precision -> (estimator parameters, float32 matmul precision, matmul dtype of the peak).
PRECISIONS = {
    "float32": ({}, "highest", torch.float32),
    "tf32": ({"matmul_precision": "high"}, "high", torch.float32),
    "bfloat16": ({"autocast": "bfloat16"}, "highest", torch.bfloat16),
}
#: Each precision as it is, and with its full batches replayed from a CUDA graph.
VARIANTS = {
    **PRECISIONS,
    **{f"{name}+graphs": ({**params, "cuda_graphs": True}, precision, dtype)
       for name, (params, precision, dtype) in PRECISIONS.items()},
}


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_tflops(device: torch.device, n: int = 8192, repeats: int = 10,
                  dtype=torch.float32, precision: str = "highest") -> float:
    """Best ``dtype`` matmul throughput over ``repeats`` n x n products, TFLOP/s,
    at the float32 matmul ``precision`` given."""
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(precision)
    try:
        gen = torch.Generator(device=device).manual_seed(0)
        a = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
        b = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
        best = float("inf")
        for _ in range(repeats + 1):
            _sync(device)
            tic = time.perf_counter()
            a @ b
            _sync(device)
            best = min(best, time.perf_counter() - tic)
    finally:
        torch.set_float32_matmul_precision(before)
    return 2 * n**3 / best / 1e12


def make_data(rows: int, features: int, classes: int = 10, test_rows: int = 50_000):
    """A synthetic problem whose classes depend on the features (as bench_fit's)."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((rows + test_rows, features))
    scores = X[:, :20] @ rng.standard_normal((20, classes))
    y = scores.argmax(axis=1)
    return X[:rows], y[:rows], X[rows:], y[rows:]


def graph_probe(device, features, hidden, classes, batch, variant, steps=100):
    """ms per step of a hand-written PyTorch step, eager and from a CUDA graph."""
    _, precision, _ = PRECISIONS[variant]
    low = variant == "bfloat16"
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(precision)
    try:
        torch.manual_seed(0)
        units = [features, *hidden]
        layers = []
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
        model = torch.nn.Sequential(*layers, torch.nn.Linear(units[-1], classes)).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True, capturable=True)
        data_x = torch.randn(8 * batch, features, device=device)
        data_y = torch.randint(0, classes, (8 * batch,), device=device)
        static_x = data_x[:batch].clone()
        static_y = data_y[:batch].clone()

        def step():
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=low, cache_enabled=False):
                z = model(static_x)
            loss = torch.nn.functional.cross_entropy(z.float(), static_y)
            loss.backward()
            opt.step()
            return loss

        def load(i):
            k = i % 8
            static_x.copy_(data_x[k * batch:(k + 1) * batch])
            static_y.copy_(data_y[k * batch:(k + 1) * batch])

        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for i in range(3):
                opt.zero_grad(set_to_none=True)
                load(i)
                step()
        torch.cuda.current_stream(device).wait_stream(side)

        def timed(run):
            _sync(device)
            tic = time.perf_counter()
            for i in range(steps):
                run(i)
            _sync(device)
            return (time.perf_counter() - tic) / steps * 1e3

        def eager(i):
            opt.zero_grad(set_to_none=True)
            load(i)
            step()

        eager_ms = min(timed(eager) for _ in range(3))
        graph = torch.cuda.CUDAGraph()
        opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            step()

        def replay(i):
            load(i)
            graph.replay()

        graph_ms = min(timed(replay) for _ in range(3))
    finally:
        torch.set_float32_matmul_precision(before)
    return eager_ms, graph_ms


#: Networks whose Adam update the update probe replays: (features, hidden, classes).
UPDATE_PROBE_NETWORKS = [(100, (64,), 10), (100, (256, 256), 10), (100, (1024, 1024), 10)]


def _network_parameters(device, units):
    """Weights and biases of a ``units`` network, with gradients in ``.grad``."""
    gen = torch.Generator(device=device).manual_seed(0)
    params = []
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        params += [torch.randn(fan_out, fan_in, device=device, generator=gen) * 0.05,
                   torch.zeros(fan_out, device=device)]
    for p in params:
        p.requires_grad_()
        p.grad = torch.randn(p.shape, device=device, generator=gen) * 1e-3
    return params


def _adam_updates(device):
    """name -> (params, lr tensor) -> the update, called with no arguments."""
    from sknn._adam_update import fused_adam_
    from sknn._lean_adam import LeanAdam

    def sklearn_rule(params, lr):
        # What sknn's graphed fits replay for solver="adam".
        optimizer = LeanAdam(params, lr=1e-3)
        return lambda: optimizer.step(lr=lr)

    def torch_rule(params, lr):
        # The same fused kernel with torch's rule: the kernel corrects the bias
        # from the count tensor itself (what sknn replayed before).
        state = ([torch.zeros((), device=device) for _ in params],
                 [torch.zeros_like(p) for p in params], [torch.zeros_like(p) for p in params])
        steps, exp_avgs, exp_avg_sqs = state
        return lambda: fused_adam_(params, exp_avgs, exp_avg_sqs, steps, lr=lr,
                                   betas=(0.9, 0.999), eps=1e-8)

    def torch_optim(params, lr):
        optimizer = torch.optim.Adam(params, lr=lr, fused=True,
                                     capturable=device.type == "cuda")
        return optimizer.step

    return {"sklearn rule": sklearn_rule, "torch rule": torch_rule,
            "torch.optim.Adam": torch_optim}


def _per_call_us(device, fn, calls):
    """Best of three: microseconds per call of ``fn``, replayed from a CUDA graph
    on CUDA (captured after three eager calls on a side stream), else eager."""
    run = fn
    if device.type == "cuda":
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(3):
                fn()
        torch.cuda.current_stream(device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            fn()
        run = graph.replay
    else:
        fn()
    best = float("inf")
    for _ in range(3):
        _sync(device)
        tic = time.perf_counter()
        for _ in range(calls):
            run()
        _sync(device)
        best = min(best, (time.perf_counter() - tic) / calls * 1e6)
    return best


def update_probe(device, networks=UPDATE_PROBE_NETWORKS, calls=1000):
    """Print the cost of an Adam update alone, per network, by rule.

    ``sklearn rule`` is the update sknn's graphed fits replay for
    ``solver="adam"``: scikit-learn's step size computed on the device from
    the step count, then the fused kernel. ``torch rule`` is the same fused
    kernel with torch's bias correction, ``torch.optim.Adam`` torch's own fused
    capturable optimizer; their difference from the first is what scikit-learn's
    rule costs a replayed step.
    """
    updates = _adam_updates(device)
    how = "replayed from a CUDA graph" if device.type == "cuda" else "eager (no graphs here)"
    print(f"\nAdam update alone, us per call, {how}, best of 3 x {calls}")
    print(f"{'network':>22} {'parameters':>11} " + " ".join(f"{n:>17}" for n in updates))
    for features, hidden, classes in networks:
        units = [features, *hidden, classes]
        cells = []
        for make in updates.values():
            params = _network_parameters(device, units)
            lr = torch.full((), 1e-3, device=device)
            try:
                cells.append(f"{_per_call_us(device, make(params, lr), calls):17.1f}")
            except Exception as exc:  # one rule failing leaves the others, and the fits, their say
                cells.append(f"{type(exc).__name__:>17}")
        size = sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(units[:-1], units[1:]))
        name = "-".join(str(u) for u in units)
        print(f"{name:>22} {size:11,} " + " ".join(cells), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--hidden", default="1024,1024")
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", default=None,
                        help=f"comma-separated, from {', '.join(VARIANTS)} (default: all on "
                             "CUDA, those without graphs on the CPU)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--no-graph-probe", action="store_true",
                        help="skip the eager vs CUDA-graph step of a hand-written loop")
    parser.add_argument("--no-update-probe", action="store_true",
                        help="skip the timing of Adam's update alone, by rule")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if args.variants is None:
        variants = list(VARIANTS if device.type == "cuda" else PRECISIONS)
    else:
        variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; choose from {list(VARIANTS)}")
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device here: nothing to measure (use --device cpu for a smoke run)")
        return 0
    hidden = tuple(int(h) for h in args.hidden.split(","))
    if not args.no_update_probe:
        # First: it takes seconds, and it reports even if the fits run long.
        update_probe(device, calls=1000 if device.type == "cuda" else 20)
    X, y, X_test, y_test = make_data(args.rows, args.features)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device: {name}; torch {torch.__version__}; {args.rows:,} x {args.features}, "
          f"network {hidden}, batch {args.batch}, {args.epochs} epochs, "
          f"median of {args.repeats}")
    steps_per_epoch = -(-args.rows // args.batch)
    times = {v: [] for v in variants}
    epochs = {v: [] for v in variants}
    scores = {}
    for r in range(args.repeats):
        for v in variants[r % len(variants):] + variants[:r % len(variants)]:
            params, _, _ = VARIANTS[v]
            est = TorchMLPClassifier(hidden, max_iter=args.epochs, batch_size=args.batch,
                                     tol=0.0, n_iter_no_change=args.epochs, random_state=0,
                                     device=device, **params)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if r == 0:  # warm-up: CUDA context, kernels, cuBLAS handles
                    est.set_params(max_iter=1).fit(X[: 4 * args.batch], y[: 4 * args.batch])
                    est.set_params(max_iter=args.epochs)
                tic = time.perf_counter()
                est.fit(X, y)
                times[v].append(time.perf_counter() - tic)
            # The first epoch meets the short last batch's shapes first (kernel choice).
            epochs[v].extend(h["time"] for h in est.history_[1:])
            scores[v] = est.score(X_test, y_test)
    units = [args.features, *hidden, len(np.unique(y))]
    macs = sum(a * b for a, b in zip(units[:-1], units[1:]))
    flops = 6 * macs * args.rows * args.epochs  # forward + backward
    # 8192-wide products keep a GPU busy; a CPU smoke run needs far less.
    n = 8192 if device.type == "cuda" else 512
    rows = []
    for v in variants:
        _, precision, dtype = VARIANTS[v]
        seconds = statistics.median(times[v])
        peak = matmul_tflops(device, n=n, dtype=dtype, precision=precision)
        step_ms = statistics.median(epochs[v]) / steps_per_epoch * 1e3 if epochs[v] else None
        rows.append((v, seconds, step_ms, peak))
        print(f"fit ({v}): {seconds:.2f} s, {args.rows * args.epochs / seconds:,.0f} samples/s, "
              f"{flops / seconds / 1e12:.2f} TFLOP/s = "
              f"{100 * flops / seconds / 1e12 / peak:.1f}% of measured "
              f"{'tf32' if precision == 'high' else str(dtype).split('.')[1]} matmul "
              f"({peak:.1f} TFLOP/s); held-out accuracy {scores[v]:.4f}")
        print(f"  fit times (s): {[round(t, 3) for t in times[v]]}; later epochs' median "
              f"{statistics.median(epochs[v]) if epochs[v] else float('nan'):.3f} s")
    if device.type == "cuda" and not args.no_graph_probe:
        step_ms = {v: ms for v, _, ms, _ in rows}
        print(f"\nper training step ({args.batch} rows), ms: sknn's (later epochs; '-' not "
              "run) against a hand-written PyTorch step, eager and replayed from a CUDA graph")
        print(f"{'precision':>10} {'sknn':>8} {'+graphs':>8} {'loop':>8} {'+graph':>8}")
        for v in PRECISIONS:
            if v not in step_ms and f"{v}+graphs" not in step_ms:
                continue
            eager_ms, graph_ms = graph_probe(device, args.features, hidden, units[-1],
                                             args.batch, v)
            ours = [step_ms.get(name) for name in (v, f"{v}+graphs")]
            cells = " ".join("       -" if ms is None else f"{ms:8.3f}" for ms in ours)
            print(f"{v:>10} {cells} {eager_ms:8.3f} {graph_ms:8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
