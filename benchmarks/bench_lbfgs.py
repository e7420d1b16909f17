"""``solver="lbfgs"``: sknn against scikit-learn's MLPClassifier, same settings.

Usage::

    python benchmarks/bench_lbfgs.py
    python benchmarks/bench_lbfgs.py --repeats 5 --cases tiny,small

Both estimators run scipy's L-BFGS-B on the full training set with
scikit-learn's defaults (``max_iter=200``, ``tol=1e-4``, ``alpha=1e-4``) and
the same ``random_state``, on the data and networks of ``bench_fit.py``'s
tiny, small and medium cases; alternating, median of ``--repeats``. Printed:
fit times and their ratio, both iteration counts (equal when both follow the
same path) and test accuracy. A third column is sknn with its closed-form
gradients switched off (``sknn._estimator_base._FAST_PATH = False``: the
objective through torch's autograd, as for any other network). A fourth is
MLPClassifier fitted inside ``threadpoolctl.threadpool_limits(1,
user_api="blas")``, as sknn runs L-BFGS-B (``sknn._device.one_blas_thread``).
"""

from __future__ import annotations

import argparse
import os
import sys

from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (
    CASES,
    RANDOM_STATE,
    MLPClassifier,
    TorchMLPClassifier,
    chosen,
    fit_timed,
    median,
    subset_option,
)

LBFGS_CASES = ("tiny", "small", "medium")


class _OneBlasThread:
    """An estimator whose ``fit`` runs with every BLAS library on one thread."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        with threadpool_limits(1, user_api="blas"):
            self.estimator.fit(X, y)
        return self

    def __getattr__(self, name):
        return getattr(self.estimator, name)


def _fit(make, data, fast=True):
    X_train, X_test, y_train, y_test = data
    seconds, est = fit_timed(make, X_train, y_train, fast)
    return seconds, est.n_iter_, est.score(X_test, y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    subset_option(parser, "--cases", LBFGS_CASES)
    args = parser.parse_args(argv)
    names = chosen(parser, args.cases, LBFGS_CASES, "cases")

    print(f"solver='lbfgs', max_iter=200, scikit-learn's defaults; median of {args.repeats}")
    print(f"{'case':8s} {'sknn s':>8s} {'sklearn s':>9s} {'sknn/sklearn':>12s} "
          f"{'autograd s':>10s} {'n_iter sknn/sklearn':>19s} {'acc sknn/sklearn':>16s} "
          f"{'sklearn 1-BLAS s':>16s}")
    for name in names:
        case = CASES[name]
        data = case.load()
        kwargs = {"hidden_layer_sizes": case.hidden, "solver": "lbfgs",
                  "random_state": RANDOM_STATE}
        runs = {
            "sknn": (lambda kw=kwargs: TorchMLPClassifier(**kw), True),
            "sklearn": (lambda kw=kwargs: MLPClassifier(**kw), True),
            "autograd": (lambda kw=kwargs: TorchMLPClassifier(**kw), False),
            "sklearn_1t": (lambda kw=kwargs: _OneBlasThread(MLPClassifier(**kw)), True),
        }
        for make, fast in runs.values():
            _fit(make, data, fast)  # warm-up
        results = {key: [] for key in runs}
        for r in range(args.repeats):
            keys = list(runs)
            for key in keys[r % len(keys):] + keys[: r % len(keys)]:
                make, fast = runs[key]
                results[key].append(_fit(make, data, fast))
        sknn, sk, auto, sk1 = (results[k] for k in ("sknn", "sklearn", "autograd", "sklearn_1t"))
        ratio = median([a[0] / b[0] for a, b in zip(sknn, sk)])
        print(f"{name:8s} {median([r[0] for r in sknn]):8.3f} {median([r[0] for r in sk]):9.3f} "
              f"{ratio:11.2f}x {median([r[0] for r in auto]):10.3f} "
              f"{sknn[0][1]:>11d} / {sk[0][1]:<5d} {sknn[0][2]:10.3f} / {sk[0][2]:.3f} "
              f"{median([r[0] for r in sk1]):15.3f}")


if __name__ == "__main__":
    main()
