"""Fit time of sknn's options: the hand-derived steps against autograd.

Usage::

    python benchmarks/bench_options.py
    python benchmarks/bench_options.py --repeats 5 --options gelu,silu,dropout

The ``small`` case of ``bench_fit.py`` (digits, (100,), 50 epochs, batch 200)
is fitted once per option with sknn as shipped and once with its hand-derived
training steps switched off (``sknn._estimator_base._FAST_PATH = False``:
every step through autograd, as any other network), alternating, median of
``--repeats``. scikit-learn's MLPClassifier with its defaults (ReLU, Adam) is
timed in the same repeats as a yardstick: it has none of these options, so
that ratio says what an option costs next to the estimator users know, not a
like-for-like race.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import CASES, TorchMLPClassifier, make_sklearn, median, quiet, sklearn_like_kwargs

import sknn._estimator_base as estimator_base

OPTIONS = {
    "relu": {},
    "logistic": {"activation": "logistic"},
    "tanh": {"activation": "tanh"},
    "leaky_relu": {"activation": "leaky_relu"},
    "elu": {"activation": "elu"},
    "selu": {"activation": "selu"},
    "gelu": {"activation": "gelu"},
    "gelu-tanh": {"activation": "gelu", "activation_kwargs": {"approximate": "tanh"}},
    "silu": {"activation": "silu"},
    "mish": {"activation": "mish"},
    "softplus": {"activation": "softplus"},
    "softsign": {"activation": "softsign"},
    "dropout": {"dropout": 0.1},
    "sgd": {"solver": "sgd"},
    "adamw": {"solver": "adamw"},
}


def _timed_fit(make, X, y, fast):
    estimator_base._FAST_PATH = fast
    try:
        est = make()
        with quiet():
            t0 = time.perf_counter()
            est.fit(X, y)
        return time.perf_counter() - t0
    finally:
        estimator_base._FAST_PATH = True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--options", default=",".join(OPTIONS),
                        help=f"comma-separated subset of {', '.join(OPTIONS)}")
    args = parser.parse_args(argv)
    names = [n for n in args.options.split(",") if n]
    unknown = sorted(set(names) - set(OPTIONS))
    if unknown:
        parser.error(f"unknown options {unknown}; choose from {list(OPTIONS)}")

    case = CASES["small"]
    X_train, _, y_train, _ = case.load()
    kw = sklearn_like_kwargs(case, X_train.shape[0])
    sklearn = lambda: make_sklearn(case, X_train.shape[0])  # noqa: E731
    print(f"case: {case.name} ({case.data}, {case.hidden}, {case.epochs} epochs, "
          f"batch {case.batch}); median of {args.repeats}")
    _timed_fit(sklearn, X_train, y_train, True)  # warm-up
    header = (f"{'option':12s} {'sknn s':>8s} {'autograd s':>10s} {'sknn/autograd':>13s} "
              f"{'sknn/MLPClassifier':>18s}")
    print(header)
    for name in names:
        def make(name=name):
            return TorchMLPClassifier(**kw, **OPTIONS[name])

        _timed_fit(make, X_train, y_train, True)  # warm-up (first use of kernels, imports)
        fast, slow, ref = [], [], []
        for r in range(args.repeats):
            runs = [(fast, make, True), (slow, make, False), (ref, sklearn, True)]
            for out, factory, flag in runs[r % 3:] + runs[: r % 3]:
                out.append(_timed_fit(factory, X_train, y_train, flag))
        print(f"{name:12s} {median(fast):8.3f} {median(slow):10.3f} "
              f"{median([f / s for f, s in zip(fast, slow)]):12.2f}x "
              f"{median([f / s for f, s in zip(fast, ref)]):17.2f}x")


if __name__ == "__main__":
    main()
