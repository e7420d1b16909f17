"""Where do two intra-op threads start to pay? (sknn's thread budget.)

sknn trains on one thread (torch's, and numpy's BLAS where the step runs in
numpy) when a step's forward pass has fewer than ``sknn._device.PARALLEL_WORK``
multiply-adds, and leaves the settings alone above that. This script times
each benchmark case three ways, alternating, median of ``--repeats``:

* ``as shipped``: sknn's own choice (numpy step on one thread below the
  threshold, torch on the default threads above);
* ``torch, 1 thread``: the torch step (``sknn._fast_mlp``) on one thread;
* ``torch, N threads``: the torch step on torch's default thread count.

``--busy`` runs a process that keeps one core busy during the whole
measurement, as another job on a shared machine (or a second grid-search
worker) would: two threads that each wait for the other at every operation
suffer most from that.

    python benchmarks/bench_threads.py [--cases tiny,small,medium,large] [--repeats 3]
                                       [--quick] [--busy]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import torch
from _common import CASES, chosen, make_sknn, median, quick_case, quiet, subset_option

import sknn._device as device
import sknn._estimator_base as estimator_base

SHIPPED = (estimator_base.NUMPY_MAX_WORK, device.PARALLEL_WORK)


def _modes(default_threads):
    # name -> (numpy step's work limit, one-thread work limit)
    return {
        "as shipped": SHIPPED,
        "torch, 1 thread": (0, float("inf")),
        f"torch, {default_threads} threads": (0, 0),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    subset_option(parser, "--cases", list(CASES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--busy", action="store_true",
                        help="keep one core busy with another process while timing")
    args = parser.parse_args(argv)
    names = chosen(parser, args.cases, list(CASES), "cases")
    default_threads = torch.get_num_threads()
    modes = _modes(default_threads)
    print(f"torch {torch.__version__}, default intra-op threads: {default_threads}, "
          f"PARALLEL_WORK = {device.PARALLEL_WORK:,}; another process busy: {args.busy}")
    print(f"{'case':8} {'work/step':>12} " + " ".join(f"{m + ' s':>18}" for m in modes))
    hog = None
    if args.busy:
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        for name in names:
            case = quick_case(CASES[name]) if args.quick else CASES[name]
            X, _, y, _ = case.load(quick=args.quick)
            est = make_sknn(case, len(X))
            times = {m: [] for m in modes}
            with quiet():
                est.fit(X, y)  # warm-up
                for r in range(args.repeats):
                    order = list(modes)
                    for mode in order[r % 3:] + order[: r % 3]:
                        estimator_base.NUMPY_MAX_WORK, device.PARALLEL_WORK = modes[mode]
                        tic = time.perf_counter()
                        est.fit(X, y)
                        times[mode].append(time.perf_counter() - tic)
            estimator_base.NUMPY_MAX_WORK, device.PARALLEL_WORK = SHIPPED
            n_in, n_out = X.shape[1], len(set(y))
            units = [n_in, *case.hidden, n_out]
            work = case.batch_size(len(X)) * sum(a * b for a, b in zip(units[:-1], units[1:]))
            print(f"{name:8} {work:>12,} "
                  + " ".join(f"{median(times[m]):>18.3f}" for m in modes))
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()


if __name__ == "__main__":
    main()
