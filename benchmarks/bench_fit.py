"""Fit-time benchmark: sknn vs scikit-learn, skorch and a hand-written torch loop.

Usage::

    python benchmarks/bench_fit.py                      # all cases, 3 repeats
    python benchmarks/bench_fit.py --cases tiny,small --repeats 5
    python benchmarks/bench_fit.py --quick --json out.json

Within every repeat each library is fitted once, in an order rotated from one
repeat to the next so that no library always runs first (cold caches) or last
(thermal throttling, noisy neighbours). Ratios are computed *per repeat*
(sknn time / peer time, both measured back to back) and the median of those
ratios is reported, which is far more robust on a shared machine than a ratio
of medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (
    CASES,
    SKNN_VERSION,
    SKORCH_VERSION,
    available_libraries,
    matmul_peak_gflops,
    median,
    quick_case,
    timed_fit,
    training_flops,
)
from _floor import matmul_floor

# Targets from issue 5, as ratios sknn_time / peer_time (lower is better).
TARGET_VS_SKLEARN = {"tiny": 0.33}
TARGET_VS_SKLEARN_DEFAULT = 0.5
TARGET_VS_SKORCH = 0.2
TARGET_VS_TORCH = 1.0
ACC_TOLERANCE = 0.01

PEERS = ("sklearn", "skorch", "torch")


def warm_up(libs):
    """Fit every library once on a throwaway problem.

    The first fit in a process pays one-off costs (torch thread-pool start,
    lazy imports, MKL/OpenBLAS initialisation) that are not what we measure.
    """
    case = quick_case(CASES["tiny"])
    X_train, X_test, y_train, y_test = case.load()
    for lib in libs:
        timed_fit(lib, case, X_train, y_train, X_test, y_test)


def run_case(case, libs, repeats, quick):
    """Return a result dict for one case: per-library times, accuracies, ratios."""
    X_train, X_test, y_train, y_test = case.load(quick=quick)
    times = {lib: [] for lib in libs}
    accs = {lib: [] for lib in libs}
    for r in range(repeats):
        order = libs[r % len(libs) :] + libs[: r % len(libs)]
        for lib in order:
            t, a = timed_fit(lib, case, X_train, y_train, X_test, y_test)
            times[lib].append(t)
            accs[lib].append(a)
    result = {
        "case": case.name,
        "data": case.data,
        "n_train": int(X_train.shape[0]),
        "n_features": int(X_train.shape[1]),
        "n_classes": len(np.unique(y_train)),
        "hidden": list(case.hidden),
        "epochs": case.epochs,
        "batch": case.batch_size(X_train.shape[0]),
        "libs": {},
    }
    for lib in libs:
        entry = {
            "times": times[lib],
            "fit_time": median(times[lib]),
            "accuracy": median(accs[lib]),
        }
        for peer in PEERS:
            if peer in libs and peer != lib:
                per_repeat = [a / b for a, b in zip(times[lib], times[peer])]
                entry[f"ratio_vs_{peer}"] = median(per_repeat)
        result["libs"][lib] = entry
    result["matmul_floor"] = {
        threads: matmul_floor(result["n_features"], case.hidden, result["n_classes"],
                              result["n_train"], result["batch"], case.epochs, threads)
        for threads in sorted({1, torch.get_num_threads()})
    }
    if case.name == "large":
        flops = training_flops(
            result["n_features"],
            case.hidden,
            result["n_classes"],
            result["n_train"],
            case.epochs,
        )
        result["train_gflop"] = flops / 1e9
        for lib in libs:
            result["libs"][lib]["gflops"] = flops / result["libs"][lib]["fit_time"] / 1e9
    return result


def check_targets(result):
    """Return a list of ``(description, passed)`` for sknn's issue-5 targets."""
    libs = result["libs"]
    if "sknn" not in libs:
        return []
    s = libs["sknn"]
    checks = []
    if "sklearn" in libs:
        target = TARGET_VS_SKLEARN.get(result["case"], TARGET_VS_SKLEARN_DEFAULT)
        checks.append((f"time <= {target}x MLPClassifier", s["ratio_vs_sklearn"] <= target))
        gap = libs["sklearn"]["accuracy"] - s["accuracy"]
        checks.append(("accuracy within 1 point of MLPClassifier", gap <= ACC_TOLERANCE))
    if "skorch" in libs:
        checks.append(
            (f"time <= {TARGET_VS_SKORCH}x skorch", s["ratio_vs_skorch"] <= TARGET_VS_SKORCH)
        )
    if "torch" in libs:
        checks.append(("no slower than torch loop", s["ratio_vs_torch"] <= TARGET_VS_TORCH))
    return checks


def fmt_ratio(entry, peer):
    value = entry.get(f"ratio_vs_{peer}")
    return "-" if value is None else f"{value:.2f}x"


def print_result(result, peak):
    header = (
        f"\n== {result['case']}: {result['data']} "
        f"train {result['n_train']}x{result['n_features']}, "
        f"{result['n_classes']} classes, hidden {tuple(result['hidden'])}, "
        f"{result['epochs']} epochs, batch {result['batch']}"
    )
    print(header)
    cols = (
        f"{'library':<9} {'fit s':>8} {'vs sklearn':>11} {'vs skorch':>10} "
        f"{'vs torch':>9} {'test acc':>9}"
    )
    if "train_gflop" in result:
        cols += f" {'GFLOP/s':>8} {'% peak':>7}"
    print(cols)
    for lib, e in result["libs"].items():
        line = (
            f"{lib:<9} {e['fit_time']:8.3f} {fmt_ratio(e, 'sklearn'):>11} "
            f"{fmt_ratio(e, 'skorch'):>10} {fmt_ratio(e, 'torch'):>9} {e['accuracy']:9.3f}"
        )
        if "gflops" in e:
            line += f" {e['gflops']:8.1f} {100 * e['gflops'] / peak:6.1f}%"
        print(line)
    for desc, ok in check_targets(result):
        print(f"  sknn target: {desc}: {'PASS' if ok else 'FAIL'}")
    print_floor(result)


def print_floor(result):
    """The case's matmul floor (``_floor.matmul_floor``) against the fit times."""
    floors = result["matmul_floor"]
    libs = result["libs"]
    parts = [f"{t} thread{'s' if t > 1 else ''} {s:.3f} s" for t, s in floors.items()]
    line = f"  matmul floor (the products alone, float32): {', '.join(parts)}"
    if "sknn" in libs:
        ratios = " and ".join(f"{libs['sknn']['fit_time'] / s:.1f}x" for s in floors.values())
        line += f"; sknn's fit is {ratios} {'those' if len(floors) > 1 else 'that'}"
    print(line)
    threads = min(floors, key=floors.get)
    best = floors[threads]
    shares = [f"{best / libs[p]['fit_time']:.2f}x {p}'s fit" for p in PEERS if p in libs]
    if shares:
        print(f"  the {threads}-thread floor (the lower) is {', '.join(shares)}")
    skorch = libs.get("skorch")
    if skorch is not None and best > TARGET_VS_SKORCH * skorch["fit_time"]:
        print(f"  {TARGET_VS_SKORCH}x skorch is below the floor: no float32 fit reaches it here")
    elif skorch is not None and "sknn" in libs:
        room = TARGET_VS_SKORCH * skorch["fit_time"] - best
        steps = result["epochs"] * -(-result["n_train"] // result["batch"])
        print(f"  {TARGET_VS_SKORCH}x skorch leaves {room:.3f} s beyond the {threads}-thread "
              f"floor: {1e6 * room / steps:.0f} us per step for everything else")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases",
        default="tiny,small,medium,large",
        help="comma-separated subset of tiny,small,medium,large",
    )
    parser.add_argument("--repeats", type=int, default=3, help="repeats per case (median reported)")
    parser.add_argument("--json", metavar="OUT", help="write all raw timings and ratios to OUT")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="reduced epochs and a 20k-row large case, for smoke tests",
    )
    parser.add_argument(
        "--libs", default=None, help="comma-separated subset of sknn,sklearn,skorch,torch"
    )
    args = parser.parse_args(argv)

    names = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in names if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {unknown}; choose from {list(CASES)}")
    libs, notes = available_libraries()
    if args.libs:
        wanted = args.libs.split(",")
        libs = [lib for lib in libs if lib in wanted]

    peak32 = matmul_peak_gflops(torch.float32)
    peak64 = matmul_peak_gflops(torch.float64)
    print(
        f"python {platform.python_version()}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), sknn {SKNN_VERSION}, skorch {SKORCH_VERSION}, "
        f"cpus {os.cpu_count()}"
    )
    print(f"measured matmul peak: float32 {peak32:.1f} GFLOP/s, float64 {peak64:.1f} GFLOP/s")
    for note in notes:
        print(f"note: {note}")
    print(f"repeats: {args.repeats} (median; ratios are medians of per-repeat ratios)")

    warm_up(libs)
    results = []
    for name in names:
        case = quick_case(CASES[name]) if args.quick else CASES[name]
        result = run_case(case, libs, args.repeats, args.quick)
        print_result(result, peak32)
        results.append(result)

    if args.json:
        payload = {
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "sknn": SKNN_VERSION,
            "skorch": SKORCH_VERSION,
            "peak_gflops_float32": peak32,
            "peak_gflops_float64": peak64,
            "repeats": args.repeats,
            "quick": args.quick,
            "notes": notes,
            "results": results,
        }
        with open(args.json, "w") as fh:
            json.dump(payload, fh, indent=2)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
