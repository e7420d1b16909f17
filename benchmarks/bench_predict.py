"""Prediction benchmark: sknn vs scikit-learn's MLPClassifier.

Usage::

    python benchmarks/bench_predict.py                 # 100k-row batch + single-row latency
    python benchmarks/bench_predict.py --rows 20000 --calls 200 --json out.json

Both estimators are trained briefly on the same synthetic 10-class problem
with a (256, 256) network (prediction cost does not depend on how well they
are trained), then

* ``predict`` and ``predict_proba`` on ``--rows`` float64 rows are timed,
  alternating the two libraries, median of ``--repeats``; the ratio is the
  median of per-repeat ratios sknn / sklearn;
* single-row latency: ``predict(X[i:i+1])`` called ``--calls`` times per
  block, blocks alternating between libraries, median per-call time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
from sklearn.datasets import make_classification

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (
    RANDOM_STATE,
    SKNN_VERSION,
    TorchMLPClassifier,
    median,
    quiet,
)
from sklearn.neural_network import MLPClassifier


def fitted_models(n_features=100, n_classes=10, hidden=(256, 256)):
    X, y = make_classification(
        n_samples=5000,
        n_features=n_features,
        n_informative=30,
        n_classes=n_classes,
        random_state=RANDOM_STATE,
    )
    kw = {
        "hidden_layer_sizes": hidden,
        "max_iter": 2,
        "batch_size": 256,
        "random_state": RANDOM_STATE,
    }
    models = {"sklearn": MLPClassifier(**kw)}
    if TorchMLPClassifier is not None:
        models["sknn"] = TorchMLPClassifier(**kw)
    with quiet():
        for m in models.values():
            m.fit(X, y)
    return models


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=500, help="single-row calls per block")
    parser.add_argument("--json", metavar="OUT")
    args = parser.parse_args(argv)

    models = fitted_models()
    if "sknn" not in models:
        print("note: sknn not importable, reporting MLPClassifier only")
    rng = np.random.default_rng(RANDOM_STATE)
    X = rng.standard_normal((args.rows, 100))
    libs = list(models)
    results = {lib: {"predict": [], "predict_proba": [], "single_row": []} for lib in libs}
    for lib in libs:  # warm-up
        models[lib].predict(X[:1000])
    for r in range(args.repeats):
        order = libs if r % 2 == 0 else libs[::-1]
        for lib in order:
            for method in ("predict", "predict_proba"):
                t0 = time.perf_counter()
                getattr(models[lib], method)(X)
                results[lib][method].append(time.perf_counter() - t0)
            m = models[lib]
            t_calls = []
            for i in range(args.calls):
                row = X[i : i + 1]
                t0 = time.perf_counter()
                m.predict(row)
                t_calls.append(time.perf_counter() - t0)
            results[lib]["single_row"].append(median(t_calls))

    print(f"sknn {SKNN_VERSION}; {args.rows} rows x 100 features, (256, 256) net, 10 classes")
    print(f"{'library':<9} {'predict s':>10} {'proba s':>9} {'1-row us':>9}")
    for lib in libs:
        e = results[lib]
        print(
            f"{lib:<9} {median(e['predict']):10.4f} {median(e['predict_proba']):9.4f} "
            f"{median(e['single_row']) * 1e6:9.1f}"
        )
    if "sknn" in results:
        s, k = results["sknn"], results["sklearn"]
        for key in ("predict", "predict_proba", "single_row"):
            ratio = median([a / b for a, b in zip(s[key], k[key])])
            results.setdefault("ratios_vs_sklearn", {})[key] = ratio
            print(f"sknn / MLPClassifier {key}: {ratio:.2f}x")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": args.rows, "results": results}, fh, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
