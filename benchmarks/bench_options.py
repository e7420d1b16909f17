"""Fit time of sknn's options: the hand-derived steps against autograd.

Usage::

    python benchmarks/bench_options.py
    python benchmarks/bench_options.py --repeats 5 --options gelu,silu,dropout
    python benchmarks/bench_options.py --case large --first-fit '' \
        --options relu,prelu,rrelu,dropout,batchnorm,layernorm

The ``small`` case of ``bench_fit.py`` (digits, (100,), 50 epochs, batch 200)
is fitted once per option with sknn as shipped and once with its hand-derived
training steps switched off (``sknn._estimator_base._FAST_PATH = False``:
every step through autograd, as any other network), alternating, median of
``--repeats``. scikit-learn's MLPClassifier with its defaults (ReLU, Adam) is
timed in the same repeats as a yardstick: it has none of these options, so
that ratio says what an option costs next to the estimator users know, not a
like-for-like race.

A second table does the same for TorchMLPRegressor's losses on the diabetes
data (standardised features and target), with MLPRegressor as the yardstick.

``--case large`` times both tables on the ``large`` case instead (100 000
rows, (256, 256), 3 epochs, batch 256; the losses on 100 000 x 100 synthetic
regression data), where a step does enough arithmetic for sknn to use all
cores (``--quick``: 20 000 samples).

A third table times the first fit of a fresh process per solver (what each
worker of a parallel grid search pays once), with sknn's twins of the
``torch.optim`` classes (``sknn/_lean_optim.py``) and with torch's own
classes, whose compiler guards import ``torch._dynamo``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from sklearn.datasets import load_diabetes, make_regression
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (
    CASES,
    TorchMLPClassifier,
    chosen,
    fit_timed,
    make_sklearn,
    median,
    sklearn_like_kwargs,
    subset_option,
)

from sknn import TorchMLPRegressor

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
    "prelu": {"activation": "prelu"},
    "rrelu": {"activation": "rrelu"},
    "dropout": {"dropout": 0.1},
    "batchnorm": {"normalization": "batch"},
    "layernorm": {"normalization": "layer"},
    # Every epoch still runs (the case's n_iter_no_change is its epoch count).
    "early_stopping": {"early_stopping": True},
    "cosine": {"lr_scheduler": "cosine"},
    "sgd": {"solver": "sgd"},
    "adamw": {"solver": "adamw"},
    "rmsprop": {"solver": "rmsprop"},
    "adagrad": {"solver": "adagrad"},
    "rmsprop-centered": {"solver": "rmsprop",
                         "optimizer_kwargs": {"momentum": 0.9, "centered": True}},
    "adadelta": {"solver": "adadelta"},
    "adamax": {"solver": "adamax"},
    "nadam": {"solver": "nadam"},
    "radam": {"solver": "radam"},
    "asgd": {"solver": "asgd"},
}


# TorchMLPRegressor's losses, on a small regression problem.
LOSSES = {
    "squared_error": {},
    "absolute_error": {"loss": "absolute_error"},
    "huber": {"loss": "huber"},
}
REGRESSION = {
    "small": {"hidden_layer_sizes": (100,), "max_iter": 200, "batch_size": 200},
    "large": {"hidden_layer_sizes": (256, 256), "max_iter": 3, "batch_size": 256},
}


def regression_data(case, quick):
    """``(X, y, description)``: standardised features and target."""
    if case == "small":
        X, y = load_diabetes(return_X_y=True)
        description = "diabetes (442x10, standardised)"
    else:
        rows = 20_000 if quick else 100_000
        X, y = make_regression(rows, 100, n_informative=50, noise=1.0, random_state=0)
        description = f"synthetic {rows}x100 (make_regression, standardised)"
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std(), description


def _timed_fit(make, X, y, fast):
    return fit_timed(make, X, y, fast)[0]


# The default adam (LeanAdam) and sgd (SklearnSGD) never used torch.optim's classes.
FIRST_FIT_SOLVERS = ["adamw", "rmsprop", "adagrad", "nadam", "radam"]

# Run in a fresh interpreter: import, one fit of the small case, report.
_FIRST_FIT = """
import sys, time
sys.path.insert(0, {here!r})
from _common import CASES, TorchMLPClassifier, quiet, sklearn_like_kwargs
import sknn._optimizers
if {torch_classes!r}:
    sknn._optimizers.TWINS = {{}}
case = CASES["small"]
X, _, y, _ = case.load()
est = TorchMLPClassifier(**sklearn_like_kwargs(case, X.shape[0]), solver={solver!r})
with quiet():
    t0 = time.perf_counter()
    est.fit(X, y)
print(time.perf_counter() - t0, "torch._dynamo" in sys.modules)
"""


def _first_fit(solver, torch_classes):
    code = _FIRST_FIT.format(here=os.path.dirname(os.path.abspath(__file__)), solver=solver,
                             torch_classes=torch_classes)
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), out[1] == "True"


def first_fit_table(solvers, repeats):
    """Print the first fit of a fresh process per solver, twins vs torch's classes."""
    if not solvers:
        return
    print(f"\nfirst fit of a fresh process (small case); median of {repeats}")
    print(f"{'solver':12s} {'sknn s':>8s} {'torch.optim s':>13s} {'sknn/torch.optim':>16s} "
          "torch._dynamo imported (sknn / torch.optim)")
    for solver in solvers:
        lean, full, imported = [], [], set()
        for r in range(repeats):
            for flag in ((False, True) if r % 2 == 0 else (True, False)):
                seconds, dynamo = _first_fit(solver, flag)
                (full if flag else lean).append(seconds)
                imported.add((flag, dynamo))
        print(f"{solver:12s} {median(lean):8.3f} {median(full):13.3f} "
              f"{median(lean) / median(full):15.2f}x "
              f"  {_yes_no(imported, False)} / {_yes_no(imported, True)}")


def _yes_no(imported, torch_classes):
    return "/".join(sorted({"yes" if d else "no" for f, d in imported if f == torch_classes}))


def options_table(names, options, make_sknn, make_ref, ref_name, X, y, repeats):
    """Print one row per option: sknn as shipped, through autograd, and ``make_ref()``."""
    _timed_fit(make_ref, X, y, True)  # warm-up
    ref_col = f"sknn/{ref_name}"
    print(f"{'option':16s} {'sknn s':>8s} {'autograd s':>10s} {'sknn/autograd':>13s} "
          f"{ref_col:>18s}")
    for name in names:
        def make(name=name):
            return make_sknn(options[name])

        _timed_fit(make, X, y, True)  # warm-up (first use of kernels, imports)
        fast, slow, ref = [], [], []
        for r in range(repeats):
            runs = [(fast, make, True), (slow, make, False), (ref, make_ref, True)]
            for out, factory, flag in runs[r % 3:] + runs[: r % 3]:
                out.append(_timed_fit(factory, X, y, flag))
        print(f"{name:16s} {median(fast):8.3f} {median(slow):10.3f} "
              f"{median([f / s for f, s in zip(fast, slow)]):12.2f}x "
              f"{median([f / s for f, s in zip(fast, ref)]):17.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--case", choices=("small", "large"), default="small")
    parser.add_argument("--quick", action="store_true",
                        help="the large case on 20 000 samples")
    subset_option(parser, "--options", OPTIONS)
    subset_option(parser, "--losses", LOSSES)
    parser.add_argument("--first-fit", default=",".join(FIRST_FIT_SOLVERS),
                        help="solvers for the first-fit table ('' skips it)")
    args = parser.parse_args(argv)
    names = chosen(parser, args.options, OPTIONS, "options")

    case = CASES[args.case]
    X_train, _, y_train, _ = case.load(quick=args.quick)
    kw = sklearn_like_kwargs(case, X_train.shape[0])
    data = f"{X_train.shape[0]} training rows of {case.data}" if args.quick else case.data
    print(f"case: {case.name} ({data}, {case.hidden}, {case.epochs} epochs, "
          f"batch {case.batch}); median of {args.repeats}")
    options_table(names, OPTIONS, lambda o: TorchMLPClassifier(**kw, **o),
                  lambda: make_sklearn(case, X_train.shape[0]), "MLPClassifier",
                  X_train, y_train, args.repeats)

    losses = chosen(parser, args.losses, LOSSES, "losses")
    if losses:
        X, y, description = regression_data(args.case, args.quick)
        net = REGRESSION[args.case]
        reg_kw = {**net, "tol": 0.0, "n_iter_no_change": net["max_iter"], "random_state": 0}
        print(f"\nregression losses: {description}, {net['hidden_layer_sizes']}, "
              f"{net['max_iter']} epochs, batch {net['batch_size']}; "
              "MLPRegressor (squared error) as yardstick")
        options_table(losses, LOSSES, lambda o: TorchMLPRegressor(**reg_kw, **o),
                      lambda: MLPRegressor(**reg_kw), "MLPRegressor", X, y, args.repeats)
    first_fit_table([s for s in args.first_fit.split(",") if s], args.repeats)


if __name__ == "__main__":
    main()
