"""Where do two intra-op threads start to pay? (sknn's thread budget.)

sknn trains on one thread (torch's, and numpy's BLAS where the step runs in
numpy) when a step's forward pass has fewer than ``sknn._device.PARALLEL_WORK``
multiply-adds, and leaves the settings alone above that. This script times
the benchmark cases with the budget forced to one thread and forced to the
libraries' defaults, alternating, and prints the ratio next to each case's
work per step, so the threshold can be checked on the machine at hand.

    python benchmarks/bench_threads.py [--cases tiny,small,medium,large] [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import time

import torch
from _common import CASES, make_sknn, median, quick_case, quiet

import sknn._device as device


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="tiny,small,medium,large")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    default_threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, default intra-op threads: {default_threads}, "
          f"PARALLEL_WORK = {device.PARALLEL_WORK:,}")
    print(f"{'case':8} {'work/step':>12} {'1 thread s':>11} {f'{default_threads} threads s':>12}"
          f" {'1 / default':>12}")
    for name in args.cases.split(","):
        case = quick_case(CASES[name]) if args.quick else CASES[name]
        X, _, y, _ = case.load(quick=args.quick)
        est = make_sknn(case, len(X))
        times = {1: [], default_threads: []}
        with quiet():
            est.fit(X, y)  # warm-up
            for _ in range(args.repeats):
                for threshold, threads in ((float("inf"), 1), (0, default_threads)):
                    device.PARALLEL_WORK = threshold
                    tic = time.perf_counter()
                    est.fit(X, y)
                    times[threads].append(time.perf_counter() - tic)
        n_in, n_out = X.shape[1], len(set(y))
        units = [n_in, *case.hidden, n_out]
        work = case.batch_size(len(X)) * sum(a * b for a, b in zip(units[:-1], units[1:]))
        one, many = median(times[1]), median(times[default_threads])
        print(f"{name:8} {work:>12,} {one:>11.3f} {many:>12.3f} {one / many:>12.2f}")


if __name__ == "__main__":
    main()
