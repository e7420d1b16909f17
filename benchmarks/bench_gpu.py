"""GPU training throughput of sknn (issue 5's GPU case).

    python benchmarks/bench_gpu.py [--rows 1000000] [--epochs 3] [--device cuda]
                                   [--autocast bfloat16]

Fits TorchMLPClassifier on synthetic data (default 1,000,000 x 100, 10
classes, network (1024, 1024), batch 4096) and reports samples per second and
the achieved share of the device's measured float32 matmul throughput. The
engine reads the loss back once per epoch, so the epoch itself has no host
sync. Without CUDA it says so and exits, unless ``--device cpu`` (a smoke
run, e.g. with ``--rows 20000``). ``--autocast bfloat16`` times the
mixed-precision fit as well, against the measured bfloat16 matmul throughput.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
import torch
from _common import TorchMLPClassifier


def matmul_tflops(device: torch.device, n: int = 8192, repeats: int = 10,
                  dtype=torch.float32) -> float:
    """Best ``dtype`` matmul throughput over ``repeats`` n x n products, TFLOP/s."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(repeats + 1):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        tic = time.perf_counter()
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - tic)
    return 2 * n**3 / best / 1e12


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--hidden", default="1024,1024")
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--autocast", choices=["bfloat16"], default=None,
                        help="also time the fit with this autocast setting")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device here: nothing to measure (use --device cpu for a smoke run)")
        return 0
    hidden = tuple(int(h) for h in args.hidden.split(","))
    rng = np.random.RandomState(0)
    X = rng.standard_normal((args.rows, args.features))
    y = (X[:, :10] @ rng.standard_normal(10) > 0).astype(int) + 2 * (X[:, 10] > 0)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device: {name}; {args.rows:,} x {args.features}, network {hidden}, "
          f"batch {args.batch}, {args.epochs} epochs")
    for autocast in [None] + ([args.autocast] if args.autocast else []):
        est = TorchMLPClassifier(hidden, max_iter=args.epochs, batch_size=args.batch, tol=0.0,
                                 n_iter_no_change=args.epochs, random_state=0, device=device,
                                 autocast=autocast)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.set_params(max_iter=1).fit(X[: 4 * args.batch], y[: 4 * args.batch])  # warm-up
            est.set_params(max_iter=args.epochs)
            tic = time.perf_counter()
            est.fit(X, y)
            seconds = time.perf_counter() - tic
        units = [args.features, *hidden, est.n_outputs_]
        macs = sum(a * b for a, b in zip(units[:-1], units[1:]))
        flops = 6 * macs * args.rows * args.epochs  # forward + backward
        dtype = torch.bfloat16 if autocast else torch.float32
        # 8192-wide products keep a GPU busy; a CPU smoke run needs far less.
        peak = matmul_tflops(device, n=8192 if device.type == "cuda" else 1024, dtype=dtype)
        print(f"fit ({autocast or 'float32'}): {seconds:.2f} s, "
              f"{args.rows * args.epochs / seconds:,.0f} samples/s, "
              f"{flops / seconds / 1e12:.2f} TFLOP/s = "
              f"{100 * flops / seconds / 1e12 / peak:.1f}% of measured {dtype} matmul "
              f"({peak:.1f} TFLOP/s)")
        print(f"  epoch times (s): {[round(h['time'], 3) for h in est.history_]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
