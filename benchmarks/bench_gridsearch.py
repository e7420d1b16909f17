"""Parallel-scaling and memory benchmark for sknn.

Usage::

    python benchmarks/bench_gridsearch.py               # grid search + peak RSS
    python benchmarks/bench_gridsearch.py --skip-rss --repeats 5

1. A 12-fit ``GridSearchCV`` (2 alphas x 2 architectures x 3 folds, digits,
   200 epochs) is run with ``n_jobs=1`` and ``n_jobs=2``, alternating, median
   of ``--repeats``; the speed-up is the median of per-repeat ratios
   ``time(n_jobs=1) / time(n_jobs=2)`` (issue-5 target: >= 1.6x on 2 cores).
   MLPClassifier is measured the same way for reference.
2. Peak resident memory of fitting the ``large`` case of ``bench_fit.py``
   (75 000 x 100, (256, 256), 3 epochs): each library is fitted in a fresh
   subprocess that generates the data, resets its peak-RSS counter
   (``/proc/self/clear_refs``), records its RSS, fits, and reports its
   ``VmHWM`` (peak RSS) from ``/proc`` (``ru_maxrss`` where /proc is
   unavailable; then the data-generation peak is included), so what the fit
   itself adds is reported separately, and split (at the end of the fit) into
   shared-library code paged in by the fit (``RssFile``: torch's kernels,
   numpy's) and the process' own memory (``RssAnon``). Both subprocesses import torch,
   scikit-learn and sknn (the harness does), so the peaks compare the fits;
   the RSS of a fresh interpreter after ``import sknn`` (torch included) and
   after ``import sklearn.neural_network`` is printed too, the fixed cost a
   process pays for choosing sknn.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (
    CASES,
    RANDOM_STATE,
    SKNN_VERSION,
    TorchMLPClassifier,
    median,
    quiet,
    sklearn_like_kwargs,
    write_json,
)
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

GRID = {"mlp__alpha": [1e-4, 1e-3], "mlp__hidden_layer_sizes": [(50,), (100,)]}
# scikit-learn's default epoch budget: a grid users actually run, where each fit
# is long enough (a few hundred ms) for two workers to pay off.
EPOCHS = 200


def grid_search_time(est_cls, n_jobs, X, y):
    est = est_cls(
        max_iter=EPOCHS, batch_size=200, tol=0.0, n_iter_no_change=EPOCHS,
        random_state=RANDOM_STATE,
    )
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", est)])
    gs = GridSearchCV(pipe, GRID, cv=3, n_jobs=n_jobs)
    with quiet():
        t0 = time.perf_counter()
        gs.fit(X, y)
    return time.perf_counter() - t0


def _proc_status_mib(field):
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mib():
    """Peak RSS of this process in MiB (VmHWM, falling back to ru_maxrss)."""
    peak = _proc_status_mib("VmHWM")
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak


def reset_peak_rss():
    """Reset VmHWM to the current RSS (Linux >= 4.0); return whether it worked.

    Data generation (make_classification, the split, the scaler) peaks above
    the fit itself, so without a reset both libraries would report the same
    data-generation peak.
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def rss_child(lib):
    """Run in a fresh subprocess: fit the large case once, print JSON."""
    case = CASES["large"]
    X_train, X_test, y_train, y_test = case.load()
    gc.collect()
    reset = reset_peak_rss()
    before = _proc_status_mib("VmRSS") if reset else peak_rss_mib()
    kinds = {k: _proc_status_mib(k) for k in ("RssFile", "RssAnon")}
    kw = sklearn_like_kwargs(case, X_train.shape[0])
    est = TorchMLPClassifier(**kw) if lib == "sknn" else MLPClassifier(**kw)
    with quiet():
        est.fit(X_train, y_train)
    after = peak_rss_mib()
    # Split of the growth: pages of shared libraries' code first touched by the
    # fit (file-backed, shared, droppable by the kernel) vs the process' own
    # memory. Read at the end of the fit (VmHWM has no such split).
    growth = {k: _proc_status_mib(k) - v for k, v in kinds.items() if v is not None}
    print(json.dumps({"lib": lib, "before_fit_mib": before, "peak_mib": after, "reset": reset,
                      "file_growth_mib": growth.get("RssFile"),
                      "anon_growth_mib": growth.get("RssAnon")}))


IMPORTS = {"sknn": "import sknn", "sklearn": "import sklearn.neural_network"}


def import_rss_mib(lib):
    """RSS of a fresh interpreter after importing only ``lib``'s estimator module."""
    code = (
        f"{IMPORTS[lib]}\n"
        "for line in open('/proc/self/status'):\n"
        "    if line.startswith('VmRSS:'): print(int(line.split()[1]) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True,
                         capture_output=True, text=True)
    text = out.stdout.strip()
    return float(text) if text else None


def measure_rss(lib):
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--rss-child", lib],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--skip-grid", action="store_true")
    parser.add_argument("--json", metavar="OUT")
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        rss_child(args.rss_child)
        return

    payload = {"sknn": SKNN_VERSION, "cpus": os.cpu_count()}
    libs = {"sklearn": MLPClassifier}
    if TorchMLPClassifier is not None:
        libs = {"sknn": TorchMLPClassifier, **libs}
    else:
        print("note: sknn not importable, reporting MLPClassifier only")

    if not args.skip_grid:
        X, y = load_digits(return_X_y=True)
        times = {(lib, j): [] for lib in libs for j in (1, 2)}
        for cls in libs.values():  # warm-up (imports, worker start-up), both modes
            for n_jobs in (1, 2):
                grid_search_time(cls, n_jobs, X[:300], y[:300])
        for r in range(args.repeats):
            for lib, cls in libs.items():
                for j in (1, 2) if r % 2 == 0 else (2, 1):
                    times[(lib, j)].append(grid_search_time(cls, j, X, y))
        print(f"GridSearchCV, 12 fits on digits, {os.cpu_count()} cpus, median of {args.repeats}")
        print(f"{'library':<9} {'n_jobs=1 s':>11} {'n_jobs=2 s':>11} {'speed-up':>9}")
        payload["grid"] = {}
        for lib in libs:
            t1, t2 = times[(lib, 1)], times[(lib, 2)]
            speedup = median([a / b for a, b in zip(t1, t2)])
            payload["grid"][lib] = {"n_jobs_1": t1, "n_jobs_2": t2, "speedup": speedup}
            print(f"{lib:<9} {median(t1):11.2f} {median(t2):11.2f} {speedup:8.2f}x")
        if "sknn" in libs:
            ok = payload["grid"]["sknn"]["speedup"] >= 1.6
            print(f"  sknn target: n_jobs=2 >= 1.6x faster: {'PASS' if ok else 'FAIL'}")

    if not args.skip_rss:
        print("\nPeak RSS fitting the large case (fresh subprocess each)")
        print(f"{'library':<9} {'before fit MiB':>15} {'peak MiB':>9} {'fit adds MiB':>13} "
              f"{'of it code':>11} {'own memory':>11}")
        payload["rss"] = {}
        for lib in libs:
            res = measure_rss(lib)
            payload["rss"][lib] = res
            split = [res.get("file_growth_mib"), res.get("anon_growth_mib")]
            print(
                f"{lib:<9} {res['before_fit_mib']:15.0f} {res['peak_mib']:9.0f} "
                f"{res['peak_mib'] - res['before_fit_mib']:13.0f} "
                + " ".join("          -" if v is None else f"{v:11.1f}" for v in split)
            )
        if "sknn" in libs:
            ratio = payload["rss"]["sknn"]["peak_mib"] / payload["rss"]["sklearn"]["peak_mib"]
            payload["rss_ratio"] = ratio
            print(f"sknn / MLPClassifier peak RSS: {ratio:.2f}x")
        # Both fits above ran in processes that had imported torch, scikit-learn
        # and sknn (the harness does), so the fixed cost of torch is not in them.
        imports = {lib: import_rss_mib(lib) for lib in libs}
        payload["import_rss_mib"] = imports
        if all(v is not None for v in imports.values()):
            print("RSS right after import in a fresh interpreter: "
                  + ", ".join(f"{IMPORTS[lib]!r} {mib:.0f} MiB" for lib, mib in imports.items()))

    if args.json:
        write_json(args.json, payload)


if __name__ == "__main__":
    main()
