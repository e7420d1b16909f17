"""Prediction benchmark: sknn vs scikit-learn's MLPClassifier and MLPRegressor.

Usage::

    python benchmarks/bench_predict.py                 # 100k-row batch + single-row latency
    python benchmarks/bench_predict.py --rows 20000 --calls 200 --json out.json
    python benchmarks/bench_predict.py --estimators regressor

For each estimator kind, sknn and scikit-learn are trained briefly on the same
synthetic 100-feature problem (10 classes for the classifiers) with a
(256, 256) network (prediction cost does not depend on how well they are
trained), then

* ``predict`` (and the classifiers' ``predict_proba``) on ``--rows`` float64
  rows are timed, alternating the two libraries, median of ``--repeats``; the
  ratio is the median of per-repeat ratios sknn / scikit-learn;
* single-row latency: ``predict(X[i:i+1])`` called ``--calls`` times per
  block, blocks alternating between libraries, median per-call time; then
  the same rows as Python lists (``X[i:i+1].tolist()``, as a JSON payload
  arrives), converted before the clock starts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from sklearn.datasets import make_classification, make_regression

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

# kind -> (scikit-learn's class, sknn's, timed batch methods, data)
KINDS = {
    "classifier": (MLPClassifier, TorchMLPClassifier, ("predict", "predict_proba"),
                   lambda: make_classification(n_samples=5000, n_features=100, n_informative=30,
                                               n_classes=10, random_state=RANDOM_STATE)),
    "regressor": (MLPRegressor, TorchMLPRegressor, ("predict",),
                  lambda: make_regression(n_samples=5000, n_features=100, n_informative=30,
                                          noise=1.0, random_state=RANDOM_STATE)),
}


def fitted_models(kind, hidden=(256, 256)):
    """scikit-learn's and (when importable) sknn's estimator of ``kind``, fitted briefly."""
    sk_cls, sknn_cls, _, data = KINDS[kind]
    X, y = data()
    kw = {
        "hidden_layer_sizes": hidden,
        "max_iter": 2,
        "batch_size": 256,
        "random_state": RANDOM_STATE,
    }
    models = {"sklearn": sk_cls(**kw)}
    if sknn_cls is not None:
        models["sknn"] = sknn_cls(**kw)
    with quiet():
        for m in models.values():
            m.fit(X, y)
    return models


def time_models(models, methods, X, repeats, calls):
    """Per library: seconds per batch call of each method, and median 1-row latency."""
    libs = list(models)
    results = {lib: {**{m: [] for m in methods}, "single_row": [], "single_row_list": []}
               for lib in libs}
    lists = [X[i : i + 1].tolist() for i in range(calls)]
    for lib in libs:  # warm-up
        models[lib].predict(X[:1000])
    for r in range(repeats):
        for lib in libs if r % 2 == 0 else libs[::-1]:
            m = models[lib]
            for method in methods:
                t0 = time.perf_counter()
                getattr(m, method)(X)
                results[lib][method].append(time.perf_counter() - t0)
            t_calls = []
            for i in range(calls):
                row = X[i : i + 1]
                t0 = time.perf_counter()
                m.predict(row)
                t_calls.append(time.perf_counter() - t0)
            results[lib]["single_row"].append(median(t_calls))
            t_calls = []
            for row in lists:
                t0 = time.perf_counter()
                m.predict(row)
                t_calls.append(time.perf_counter() - t0)
            results[lib]["single_row_list"].append(median(t_calls))
    return results


def report(kind, results, methods, rows):
    """Print one kind's table and ratios; return the ratios sknn / scikit-learn."""
    peer = KINDS[kind][0].__name__
    extra = ", 10 classes" if kind == "classifier" else ""
    print(f"\n{kind}: {rows} rows x 100 features, (256, 256) net{extra}")
    heads = {"predict": "predict s", "predict_proba": "proba s"}
    print(f"{'library':<9} " + " ".join(f"{heads[m]:>10}" for m in methods)
          + f" {'1-row us':>9} {'list us':>8}")
    for lib, e in results.items():
        print(f"{lib:<9} " + " ".join(f"{median(e[m]):10.4f}" for m in methods)
              + f" {median(e['single_row']) * 1e6:9.1f} {median(e['single_row_list']) * 1e6:8.1f}")
    ratios = {}
    if "sknn" in results:
        s, k = results["sknn"], results["sklearn"]
        for key in (*methods, "single_row", "single_row_list"):
            ratios[key] = median([a / b for a, b in zip(s[key], k[key])])
            print(f"sknn / {peer} {key}: {ratios[key]:.2f}x")
    return ratios


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=500, help="single-row calls per block")
    parser.add_argument("--estimators", default="classifier,regressor",
                        help="comma-separated: classifier, regressor")
    parser.add_argument("--json", metavar="OUT")
    args = parser.parse_args(argv)
    kinds = args.estimators.split(",")
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"unknown estimators {unknown}; choose from {sorted(KINDS)}")

    if TorchMLPClassifier is None:
        print("note: sknn not importable, reporting scikit-learn only")
    print(f"sknn {SKNN_VERSION}")
    X = np.random.default_rng(RANDOM_STATE).standard_normal((args.rows, 100))
    payload = {"rows": args.rows, "results": {}}
    for kind in kinds:
        methods = KINDS[kind][2]
        results = time_models(fitted_models(kind), methods, X, args.repeats, args.calls)
        ratios = report(kind, results, methods, args.rows)
        payload["results"][kind] = {**results, "ratios_vs_sklearn": ratios}
    if args.json:
        write_json(args.json, payload)


if __name__ == "__main__":
    main()
