"""Mixed precision (``autocast='bfloat16'``) against float32 training, by width.

Usage::

    python benchmarks/bench_autocast.py
    python benchmarks/bench_autocast.py --repeats 5 --nets 1024x1024/1024

Fits TorchMLPClassifier on synthetic data (20,000 x 100, 10 classes,
standardised; a quarter held out) once in float32 and once with
``autocast='bfloat16'``, alternating, median of ``--repeats``, for networks
from the large case's (256, 256) to (2048, 2048). Prints the fit times, their
ratio, the training GFLOP/s, and both models' test accuracy; first the
machine's measured float32 and bfloat16 matmul peaks and whether its CPU
flags list native bfloat16 instructions (a CPU without them emulates
bfloat16 and gets slower, not faster).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch
from _common import (
    RANDOM_STATE,
    Case,
    TorchMLPClassifier,
    chosen,
    matmul_peak_gflops,
    median,
    quiet,
    subset_option,
    training_flops,
)

# name -> (hidden layers, batch size)
NETS = {
    "256x256/256": ((256, 256), 256),
    "512x512/256": ((512, 512), 256),
    "1024x1024/256": ((1024, 1024), 256),
    "1024x1024/1024": ((1024, 1024), 1024),
    "2048x2048/1024": ((2048, 2048), 1024),
}
EPOCHS = 2


def cpu_bf16_flags():
    """The CPU's native bfloat16 instruction sets, from /proc/cpuinfo (Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")),
                         [])
    except OSError:
        return "unknown (no /proc/cpuinfo)"
    found = [flag for flag in ("avx512_bf16", "amx_bf16") if flag in flags]
    return ", ".join(found) or "none"


def _fit(hidden, batch, autocast, data):
    X_train, X_test, y_train, y_test = data
    est = TorchMLPClassifier(hidden_layer_sizes=hidden, batch_size=batch, max_iter=EPOCHS,
                             tol=0.0, n_iter_no_change=EPOCHS, random_state=RANDOM_STATE,
                             autocast=autocast)
    with quiet():
        t0 = time.perf_counter()
        est.fit(X_train, y_train)
        seconds = time.perf_counter() - t0
    return seconds, est.score(X_test, y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    subset_option(parser, "--nets", NETS)
    args = parser.parse_args(argv)
    names = chosen(parser, args.nets, NETS, "nets")

    data = Case("autocast", "synthetic-100000x100", (), EPOCHS, None).load(quick=True)
    n_train, n_in = data[0].shape
    print(f"data: synthetic {n_train} training rows x {n_in}, 10 classes; {EPOCHS} epochs; "
          f"median of {args.repeats}; torch threads {torch.get_num_threads()}")
    print(f"CPU bfloat16 instructions: {cpu_bf16_flags()}; matmul peak float32 "
          f"{matmul_peak_gflops(torch.float32):.0f} GFLOP/s, bfloat16 "
          f"{matmul_peak_gflops(torch.bfloat16):.0f} GFLOP/s")
    print(f"{'network/batch':16s} {'float32 s':>9s} {'bfloat16 s':>10s} {'bf16/f32':>8s} "
          f"{'f32 GFLOP/s':>11s} {'bf16 GFLOP/s':>12s} {'acc f32':>7s} {'acc bf16':>8s}")
    for name in names:
        hidden, batch = NETS[name]
        _fit(hidden, batch, "bfloat16", data)  # warm-up: first use of the kernels
        full, mixed, acc_full, acc_mixed = [], [], [], []
        for r in range(args.repeats):
            order = [(None, full, acc_full), ("bfloat16", mixed, acc_mixed)]
            for autocast, times, accs in order if r % 2 == 0 else order[::-1]:
                seconds, acc = _fit(hidden, batch, autocast, data)
                times.append(seconds)
                accs.append(acc)
        flops = training_flops(n_in, hidden, 10, n_train, EPOCHS)
        print(f"{name:16s} {median(full):9.3f} {median(mixed):10.3f} "
              f"{median([m / f for m, f in zip(mixed, full)]):7.2f}x "
              f"{flops / median(full) / 1e9:11.1f} {flops / median(mixed) / 1e9:12.1f} "
              f"{median(acc_full):7.3f} {median(acc_mixed):8.3f}")


if __name__ == "__main__":
    main()
