"""The hidden activations' kernels in the torch step and in prediction: torch's against numpy's.

Usage::

    python benchmarks/bench_activations.py
    python benchmarks/bench_activations.py --threads 1 --fit-activations tanh --quick

The torch training step (``sknn/_fast_mlp.py``, networks of 16M multiply-adds
per step and up) runs each hidden activation's value and derivative as
element-wise kernels. For a few activations numpy's kernel on one thread is
faster than torch's, and the step then runs numpy's on the tensors' memory
when torch runs at most ``Pointwise.numpy_threads`` threads
(``sknn/_pointwise.py``). This script measures both choices.

The first table times the value plus the derivative (in place, as the step
runs them) of every activation on a float32 array of one large-case layer
(batch 256 x 256 units) with torch's kernels and with numpy's, for each torch
thread count in ``--threads`` (numpy's run on one thread in any case); the
"step uses" column says which the torch step picks there.

The second table times the value alone on a prediction chunk (2048 rows x
256 units, as ``predict`` evaluates plain networks in numpy), float32 and
float64, with numpy's form and with torch's kernel on one torch thread; the
"predict uses" column says which :meth:`Pointwise.numpy_apply` picks for
arrays of that size (``Pointwise.torch_predicts``).

The third table fits the ``large`` case of ``bench_fit.py`` (100 000 rows,
(256, 256), 3 epochs, batch 256; ``--quick``: 20 000 rows) with each
activation that has ``numpy_threads`` set, once as shipped and once with
torch's kernels (``numpy_threads=0``), alternating, median of ``--repeats``
(the ratio: the median of the per-repeat ratios), per thread count.
scikit-learn's MLPClassifier with the same activation, where it has it
(tanh), is timed in the same repeats as a yardstick.
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit
from contextlib import contextmanager, nullcontext

import numpy as np
import torch
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import CASES, TorchMLPClassifier, fit_timed, median, sklearn_like_kwargs

from sknn._fitted_state import _CPU_PREDICT_CHUNK
from sknn._pointwise import ACTIVATION_NAMES, IDENTITY, TORCH_PREDICT_MIN_SIZE, Scratch, as_rule

SHAPE = (256, 256)
PREDICT_SHAPE = (_CPU_PREDICT_CHUNK, 256)
SKLEARN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


@contextmanager
def threads(n):
    """torch and the BLAS libraries on ``n`` threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


def kernel_us(rule, forms, calls):
    """Microseconds per value + derivative with the rule's ``forms``, best of 5."""
    g = torch.Generator().manual_seed(0)
    base = torch.randn(SHAPE, generator=g)
    pre = base.clone()
    act = torch.empty_like(pre) if rule.keeps_input else pre
    delta = torch.randn(SHAPE, generator=g)
    if forms == "torch":
        def run():
            pre.copy_(base)
            rule.torch_forward(pre, act)
            rule.torch_backward(delta, pre, act)
    else:
        p, a, d, s = pre.numpy(), act.numpy(), delta.numpy(), Scratch(SHAPE, np.float32)

        def run():
            pre.copy_(base)
            rule.numpy_forward(p, a, s)
            rule.numpy_backward(d, p, a, s)
    with np.errstate(all="ignore"):
        run()
        best = min(timeit.repeat(run, number=calls, repeat=5))
    return best / calls * 1e6


def kernel_table(names, thread_counts, calls):
    print(f"value + derivative of one float32 {SHAPE[0]}x{SHAPE[1]} array, us (best of 5)")
    head = f"{'activation':12s}"
    for t in thread_counts:
        head += f" {'torch ' + str(t) + 't':>9s} {'numpy':>7s} {'np/torch':>8s} {'step uses':>9s}"
    print(head)
    for name in names:
        rule = as_rule(name)
        if rule is IDENTITY:
            continue
        row = f"{name:12s}"
        for t in thread_counts:
            with threads(t):
                a = kernel_us(rule, "torch", calls)
                b = kernel_us(rule, "numpy", calls)
                uses = rule.step_forms(torch.float32, torch.device("cpu"))[0]
            picked = "torch" if uses is rule.torch_forward else "numpy"
            row += f" {a:9.1f} {b:7.1f} {b / a:7.2f}x {picked:>9s}"
        print(row, flush=True)


def predict_us(rule, forms, dtype, calls):
    """Microseconds per value of a prediction chunk with the rule's ``forms``, best of 5."""
    g = torch.Generator().manual_seed(0)
    base = (torch.randn(PREDICT_SHAPE, generator=g) * 2).numpy().astype(dtype)
    x = base.copy()
    out = np.empty_like(x) if rule.keeps_input else x
    scratch = Scratch(PREDICT_SHAPE, dtype)

    def run():
        np.copyto(x, base)  # in-place rules would otherwise see their own output
        if forms == "torch":
            rule.torch_forward(torch.from_numpy(x), torch.from_numpy(out))
        else:
            rule.numpy_forward(x, out, scratch)
    with np.errstate(all="ignore"), threads(1):
        run()
        best = min(timeit.repeat(run, number=calls, repeat=5))
    return best / calls * 1e6


def predict_table(names, calls):
    print(f"\nvalue of one {PREDICT_SHAPE[0]}x{PREDICT_SHAPE[1]} prediction chunk, us, one "
          f"thread (best of 5; includes restoring the input)")
    head = f"{'activation':12s}"
    for dtype in ("float32", "float64"):
        head += f" {dtype + ' numpy':>13s} {'torch':>7s} {'torch/np':>8s}"
    print(head + f" {'predict uses':>12s}")
    for name in names:
        rule = as_rule(name)
        if rule is IDENTITY:
            continue
        row = f"{name:12s}"
        for dtype in (np.float32, np.float64):
            a = predict_us(rule, "numpy", dtype, calls)
            b = predict_us(rule, "torch", dtype, calls)
            row += f" {a:13.1f} {b:7.1f} {b / a:7.2f}x"
        # uses_torch: the rule's numpy form itself calls torch's kernel (gelu's erf).
        picked = "torch" if rule.torch_predicts or rule.uses_torch else "numpy"
        print(f"{row} {picked:>12s}", flush=True)
    print(f"(\"torch\" from {TORCH_PREDICT_MIN_SIZE} values per array on; fewer stay in numpy)")


@contextmanager
def torch_kernels(rule):
    """The rule with torch's kernels only (rules are frozen and shared)."""
    before = rule.numpy_threads
    object.__setattr__(rule, "numpy_threads", 0)
    try:
        yield
    finally:
        object.__setattr__(rule, "numpy_threads", before)


def fit_table(names, thread_counts, repeats, quick):
    case = CASES["large"]
    X, _, y, _ = case.load(quick=quick)
    kw = sklearn_like_kwargs(case, X.shape[0])
    print(f"\nfit of the large case ({X.shape[0]} training rows, {case.hidden}, "
          f"{case.epochs} epochs, batch {case.batch}); median of {repeats}")
    print(f"{'activation':12s} {'threads':>7s} {'shipped s':>9s} {'torch kernels s':>15s} "
          f"{'shipped/torch':>13s} {'MLPClassifier s':>15s}")
    for name in names:
        rule = as_rule(name)

        def sknn_fit(torch_only=False, name=name, rule=rule):
            with torch_kernels(rule) if torch_only else nullcontext():
                return fit_timed(lambda: TorchMLPClassifier(**kw, activation=name), X, y)[0]

        def sklearn_fit(name=name):
            return fit_timed(lambda: MLPClassifier(**kw, activation=name), X, y)[0]

        for t in thread_counts:
            times = {False: [], True: [], "sklearn": []}
            with threads(t):
                sknn_fit()  # warm-up
                for r in range(repeats):
                    for torch_only in (False, True)[:: 1 if r % 2 == 0 else -1]:
                        times[torch_only].append(sknn_fit(torch_only))
                    if name in SKLEARN_ACTIVATIONS:
                        times["sklearn"].append(sklearn_fit())
            a, b = median(times[False]), median(times[True])
            # The ratio within each repeat, then their median (as bench_fit.py).
            ratio = median([s / k for s, k in zip(times[False], times[True])])
            ref = f"{median(times['sklearn']):15.3f}" if times["sklearn"] else f"{'-':>15s}"
            print(f"{name:12s} {t:7d} {a:9.3f} {b:15.3f} {ratio:12.2f}x {ref}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2",
                        help="comma-separated torch thread counts (default 1,2)")
    parser.add_argument("--activations", default=",".join(ACTIVATION_NAMES),
                        help="activations of the kernel table")
    parser.add_argument("--fit-activations", default=None,
                        help="activations of the fit table (default: those with "
                             "numpy_threads set; '' skips it)")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="the large case on 20 000 samples")
    args = parser.parse_args(argv)
    thread_counts = [int(t) for t in args.threads.split(",") if t]
    names = [n for n in args.activations.split(",") if n]
    unknown = sorted(set(names) - set(ACTIVATION_NAMES))
    if unknown:
        parser.error(f"unknown activations {unknown}; choose from {list(ACTIVATION_NAMES)}")
    fit_names = (
        [n for n in ACTIVATION_NAMES if as_rule(n).numpy_threads]
        if args.fit_activations is None
        else [n for n in args.fit_activations.split(",") if n]
    )
    kernel_table(names, thread_counts, args.calls)
    predict_table(names, max(args.calls // 4, 1))
    if fit_names:
        fit_table(fit_names, thread_counts, args.repeats, args.quick)


if __name__ == "__main__":
    main()
