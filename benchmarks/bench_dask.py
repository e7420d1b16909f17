"""Distributed model selection benchmark: GridSearchCV on Dask workers.

Usage::

    python benchmarks/bench_dask.py                  # needs dask.distributed
    python benchmarks/bench_dask.py --repeats 5 --json out.json

The 12-fit grid search of ``bench_gridsearch.py`` (digits, 2 alphas x 2
architectures x 3 folds, 200 epochs, a StandardScaler pipeline) is run in
this process (``n_jobs=1``) and through joblib's ``"dask"`` backend on a
local Dask cluster in two shapes that use every core: one worker process per
core with one thread each, and one worker process with a thread per core
(where the fits of a worker share one Python interpreter). The modes
alternate within each repeat; speed-ups are medians of per-repeat ratios
``time(n_jobs=1) / time(dask)``. Each search's mean test scores are compared
with the in-process search's, which they must equal exactly. MLPClassifier
runs the same way for reference. The clusters are started once, warmed up
with a small search, and reused.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import RANDOM_STATE, SKNN_VERSION, TorchMLPClassifier, median, quiet, write_json
from bench_gridsearch import GRID
from joblib import parallel_config
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler


def search(cls, epochs, n_jobs):
    """The grid search of bench_gridsearch.py for ``cls``."""
    est = cls(max_iter=epochs, batch_size=200, tol=0.0, n_iter_no_change=epochs,
              random_state=RANDOM_STATE)
    return GridSearchCV(Pipeline([("scale", StandardScaler()), ("mlp", est)]), GRID, cv=3,
                        n_jobs=n_jobs)


def timed(cls, epochs, X, y, client=None):
    """Seconds for one search, and its mean test scores; on ``client``'s cluster if given."""
    with quiet():
        t0 = time.perf_counter()
        if client is None:
            gs = search(cls, epochs, 1).fit(X, y)
        else:
            with parallel_config(backend="dask", client=client):
                gs = search(cls, epochs, -1).fit(X, y)
        return time.perf_counter() - t0, gs.cv_results_["mean_test_score"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--json", metavar="OUT")
    args = parser.parse_args(argv)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print("bench_dask needs dask.distributed: pip install 'sknn[dask]'")
        return

    logging.getLogger("distributed").setLevel(logging.ERROR)  # the scheduler's in this process
    cpus = os.cpu_count()
    libs = {"sklearn": MLPClassifier}
    if TorchMLPClassifier is not None:
        libs = {"sknn": TorchMLPClassifier, **libs}
    shapes = {f"{cpus}x1": (cpus, 1), f"1x{cpus}": (1, cpus)}
    X, y = load_digits(return_X_y=True)
    clients = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # distributed's start-up notes
        for name, (workers, threads) in shapes.items():
            cluster = LocalCluster(n_workers=workers, threads_per_worker=threads,
                                   processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR)
            clients[name] = Client(cluster)
            # The epoch budget is fixed, so every fit ends with a ConvergenceWarning.
            clients[name].run(warnings.simplefilter, "ignore")
    try:
        modes = ["local", *shapes]
        times = {(lib, m): [] for lib in libs for m in modes}
        same = {(lib, m): True for lib in libs for m in shapes}
        for cls in libs.values():  # warm-up: imports and first fits in every worker
            for m in modes:
                timed(cls, 5, X[:300], y[:300], clients.get(m))
        for r in range(args.repeats):
            for lib, cls in libs.items():
                order = modes[r % len(modes):] + modes[:r % len(modes)]
                scores = {}
                for m in order:
                    t, scores[m] = timed(cls, args.epochs, X, y, clients.get(m))
                    times[(lib, m)].append(t)
                for m in shapes:
                    same[(lib, m)] &= bool(np.array_equal(scores[m], scores["local"]))
    finally:
        for client in clients.values():
            cluster = client.cluster
            client.close()
            cluster.close()

    print(f"sknn {SKNN_VERSION}; GridSearchCV, 12 fits on digits, {args.epochs} epochs, "
          f"{cpus} cpus, median of {args.repeats}")
    print("dask workers x threads per worker; speed-up against n_jobs=1 in this process")
    head = "".join(f" {'dask ' + m + ' s':>13} {'speed-up':>9}" for m in shapes)
    print(f"{'library':<9} {'n_jobs=1 s':>11}{head}  same scores")
    payload = {"sknn": SKNN_VERSION, "cpus": cpus, "epochs": args.epochs, "results": {}}
    for lib in libs:
        local = times[(lib, "local")]
        row = f"{lib:<9} {median(local):11.2f}"
        entry = {"n_jobs_1": local}
        for m in shapes:
            speedup = median([a / b for a, b in zip(local, times[(lib, m)])])
            entry[m] = {"times": times[(lib, m)], "speedup": speedup, "same": same[(lib, m)]}
            row += f" {median(times[(lib, m)]):13.2f} {speedup:8.2f}x"
        row += "  " + ("yes" if all(same[(lib, m)] for m in shapes) else "NO")
        payload["results"][lib] = entry
        print(row)
    if args.json:
        write_json(args.json, payload)


if __name__ == "__main__":
    main()
