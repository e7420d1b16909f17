"""Online learning benchmark: ``partial_fit`` call by call, sknn vs scikit-learn.

Usage::

    python benchmarks/bench_partial_fit.py
    python benchmarks/bench_partial_fit.py --repeats 3 --json out.json

Online learning feeds a model one sample (or a small chunk) at a time, so
what a call costs beyond its arithmetic decides the speed. For each case a
fresh estimator of each library (default settings: (100,) network, adam)
makes one pass over the standardised data set with ``partial_fit``, in
chunks of ``rows`` rows; the time per call is the pass' wall time divided by
its calls. The libraries alternate, their order rotating per repeat; ratios
are medians of per-repeat ratios sknn / scikit-learn.

Cases: the classifier on iris (one row per call, the perceptron's
error-driven online learning) and on digits (32-row chunks); the regressor
on diabetes, one row per call and 32-row chunks. The ``-list`` cases feed
the same rows as Python lists (``X[i:i+1].tolist()`` and ``y[i:i+1].tolist()``),
as an online learner fed JSON receives them; the lists are made before the
clock starts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from sklearn.datasets import load_diabetes, load_digits, load_iris
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (
    RANDOM_STATE,
    SKNN_VERSION,
    TorchMLPClassifier,
    TorchMLPRegressor,
    median,
    quiet,
    write_json,
)
from sklearn.neural_network import MLPClassifier, MLPRegressor

# name -> (kind, loader, rows per call, chunks as Python lists)
CASES = {
    "iris-1": ("classifier", load_iris, 1, False),
    "digits-32": ("classifier", load_digits, 32, False),
    "diabetes-1": ("regressor", load_diabetes, 1, False),
    "diabetes-32": ("regressor", load_diabetes, 32, False),
    "iris-1-list": ("classifier", load_iris, 1, True),
    "diabetes-1-list": ("regressor", load_diabetes, 1, True),
}
LIBS = {
    "classifier": {"sklearn": MLPClassifier, "sknn": TorchMLPClassifier},
    "regressor": {"sklearn": MLPRegressor, "sknn": TorchMLPRegressor},
}


def load(case):
    """Standardised X, y (the regressor's target scaled too), shuffled once."""
    kind, loader, _, _ = CASES[case]
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if kind == "regressor":
        y = (y - y.mean()) / y.std()
    order = np.random.default_rng(RANDOM_STATE).permutation(len(y))
    return X[order], y[order]


def one_pass(cls, X, y, rows, classes, as_lists=False):
    """Seconds per ``partial_fit`` call of one pass over X in ``rows``-row chunks
    (converted to Python lists before the clock starts, with ``as_lists``)."""
    est = cls(random_state=RANDOM_STATE)
    kwargs = {} if classes is None else {"classes": classes}
    chunks = [(X[start : start + rows], y[start : start + rows])
              for start in range(0, len(y), rows)]
    if as_lists:
        chunks = [(Xc.tolist(), yc.tolist()) for Xc, yc in chunks]
    with quiet():
        t0 = time.perf_counter()
        for Xc, yc in chunks:
            est.partial_fit(Xc, yc, **kwargs)
            kwargs = {}
        return (time.perf_counter() - t0) / len(chunks)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", metavar="OUT")
    args = parser.parse_args(argv)
    cases = args.cases.split(",")
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {sorted(CASES)}")

    print(f"sknn {SKNN_VERSION}; partial_fit, one pass, default settings ((100,), adam), "
          f"median of {args.repeats}")
    print(f"{'case':<15} {'rows/call':>9} {'calls':>6} {'sklearn us':>11} {'sknn us':>9} "
          f"{'sknn/sklearn':>13}")
    payload = {}
    for case in cases:
        kind, _, rows, as_lists = CASES[case]
        X, y = load(case)
        classes = np.unique(y) if kind == "classifier" else None
        libs = {k: v for k, v in LIBS[kind].items() if v is not None}
        for cls in libs.values():  # warm-up: imports, first-call set-up
            one_pass(cls, X[:64], y[:64], rows, classes, as_lists)
        times = {lib: [] for lib in libs}
        for r in range(args.repeats):
            order = list(libs) if r % 2 == 0 else list(libs)[::-1]
            for lib in order:
                times[lib].append(one_pass(libs[lib], X, y, rows, classes, as_lists))
        entry = {"rows": rows, "calls": len(range(0, len(y), rows)), "times": times}
        line = (f"{case:<15} {rows:9d} {entry['calls']:6d} "
                f"{median(times['sklearn']) * 1e6:11.0f}")
        if "sknn" in times:
            entry["ratio"] = median([a / b for a, b in zip(times["sknn"], times["sklearn"])])
            line += f" {median(times['sknn']) * 1e6:9.0f} {entry['ratio']:12.2f}x"
        print(line)
        payload[case] = entry
    if args.json:
        write_json(args.json, payload)


if __name__ == "__main__":
    main()
