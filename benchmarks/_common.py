"""Shared helpers for the sknn benchmark scripts.

Everything here is deliberately dependency-light: numpy, scikit-learn and
torch are required, skorch and sknn are optional and reported as skipped
when they cannot be imported.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import statistics
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.datasets import load_digits, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

RANDOM_STATE = 0

try:  # optional peer
    import skorch
    from skorch import NeuralNetClassifier

    SKORCH_VERSION = skorch.__version__
except ImportError:  # pragma: no cover - depends on the environment
    NeuralNetClassifier = None
    SKORCH_VERSION = None

# Benchmark the working tree's sknn even when it is not pip-installed.
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

try:  # the library under test; absent while the core is being written
    import sknn
    from sknn import TorchMLPClassifier, TorchMLPRegressor

    SKNN_VERSION = getattr(sknn, "__version__", "dev")
except ImportError:  # pragma: no cover - depends on the environment
    TorchMLPClassifier = TorchMLPRegressor = None
    SKNN_VERSION = None


@dataclass
class Case:
    """One benchmark configuration (data set, network, training budget)."""

    name: str
    data: str
    hidden: tuple
    epochs: int
    batch: int | None  # None = full batch

    def load(self, quick=False):
        """Return ``X_train, X_test, y_train, y_test`` as float64 / int64 numpy arrays.

        All features are standardised with a scaler fitted on the training part
        only, as a user would do in a pipeline.
        """
        X, y = _load_raw(self.data, quick)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=RANDOM_STATE, stratify=y
        )
        scaler = StandardScaler().fit(X_train)
        return (
            scaler.transform(X_train).astype(np.float64),
            scaler.transform(X_test).astype(np.float64),
            y_train,
            y_test,
        )

    def batch_size(self, n_train):
        """Return the concrete minibatch size for ``n_train`` training rows."""
        return n_train if self.batch is None else self.batch


CASES = {
    "tiny": Case("tiny", "iris", (10,), 200, None),
    "small": Case("small", "digits", (100,), 50, 200),
    "medium": Case("medium", "synthetic-2000x20", (128, 256), 50, 200),
    "large": Case("large", "synthetic-100000x100", (256, 256), 3, 256),
}


def _load_raw(name, quick):
    if name == "iris":
        return load_iris(return_X_y=True)
    if name == "digits":
        return load_digits(return_X_y=True)
    if name == "synthetic-2000x20":
        return make_classification(
            n_samples=2000,
            n_features=20,
            n_informative=10,
            n_classes=4,
            random_state=RANDOM_STATE,
        )
    if name == "synthetic-100000x100":
        return make_classification(
            n_samples=20000 if quick else 100000,
            n_features=100,
            n_informative=30,
            n_classes=10,
            random_state=RANDOM_STATE,
        )
    raise ValueError(f"unknown data set {name!r}")


def quick_case(case):
    """Return a reduced copy of ``case`` for ``--quick`` smoke runs."""
    epochs = {"tiny": 50, "small": 10, "medium": 10, "large": 1}[case.name]
    return Case(case.name, case.data, case.hidden, epochs, case.batch)


def write_json(path, payload):
    """Store a benchmark's raw numbers (its ``--json OUT``) and say where."""
    with open(path, "w") as fh:
        json.dump(payload, fh, indent=2)
    print(f"wrote {path}")


@contextlib.contextmanager
def quiet():
    """Silence the ConvergenceWarning every fixed-epoch run would raise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        warnings.simplefilter("ignore", category=UserWarning)
        yield


# ---------------------------------------------------------------------------
# Estimator factories. sklearn and sknn get identical arguments: the
# architecture, the epoch budget, the batch size, and the settings that make
# every epoch run (tol=0 plus n_iter_no_change=max_iter), nothing else.
# ---------------------------------------------------------------------------


def sklearn_like_kwargs(case, n_train):
    """Keyword arguments shared by MLPClassifier and TorchMLPClassifier."""
    return {
        "hidden_layer_sizes": case.hidden,
        "max_iter": case.epochs,
        "batch_size": case.batch_size(n_train),
        "tol": 0.0,
        "n_iter_no_change": case.epochs,
        "random_state": RANDOM_STATE,
    }


def make_sklearn(case, n_train):
    """Return scikit-learn's MLPClassifier configured for ``case``."""
    return MLPClassifier(**sklearn_like_kwargs(case, n_train))


def make_sknn(case, n_train):
    """Return sknn's TorchMLPClassifier configured for ``case``."""
    return TorchMLPClassifier(**sklearn_like_kwargs(case, n_train))


def mlp_sequential(n_in, hidden, n_out):
    """Plain ``nn.Sequential`` MLP with ReLU, logits out (what skorch users write)."""
    layers = []
    prev = n_in
    for h in hidden:
        layers += [torch.nn.Linear(prev, h), torch.nn.ReLU()]
        prev = h
    layers.append(torch.nn.Linear(prev, n_out))
    return torch.nn.Sequential(*layers)


def make_skorch(case, n_train, n_in, n_out):
    """Return a skorch NeuralNetClassifier equivalent to the other peers.

    shuffle=True for the training iterator because sklearn (and sknn) shuffle
    every epoch; skorch's default of not shuffling would make it do less work
    per epoch (no permutation gather) and train a different model.
    """
    torch.manual_seed(RANDOM_STATE)
    return NeuralNetClassifier(
        mlp_sequential(n_in, case.hidden, n_out),
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=case.epochs,
        batch_size=case.batch_size(n_train),
        train_split=None,
        verbose=0,
        iterator_train__shuffle=True,
    )


class TorchLoop:
    """Minimal hand-written PyTorch training loop, the "no library" floor.

    float32, Adam(lr=1e-3), CrossEntropyLoss, one permutation per epoch and
    plain tensor slicing (no DataLoader). Conversion of the float64 input is
    inside ``fit`` so it is timed like every library's input validation.
    """

    def __init__(self, case, n_train):
        self.case = case
        self.batch = case.batch_size(n_train)

    def fit(self, X, y):
        torch.manual_seed(RANDOM_STATE)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        Xt = torch.as_tensor(X, dtype=torch.float32)
        yt = torch.as_tensor(y_idx, dtype=torch.int64)
        self.model = mlp_sequential(X.shape[1], self.case.hidden, len(self.classes_))
        opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        n = Xt.shape[0]
        for _ in range(self.case.epochs):
            perm = torch.randperm(n)
            Xp, yp = Xt[perm], yt[perm]
            for start in range(0, n, self.batch):
                xb = Xp[start : start + self.batch]
                yb = yp[start : start + self.batch]
                opt.zero_grad(set_to_none=True)
                loss_fn(self.model(xb), yb).backward()
                opt.step()
        return self

    def predict(self, X):
        with torch.inference_mode():
            logits = self.model(torch.as_tensor(X, dtype=torch.float32))
        return self.classes_[logits.argmax(1).numpy()]


def available_libraries():
    """Return ``(names, notes)``: runnable library names and skip notes."""
    names, notes = [], []
    if TorchMLPClassifier is not None:
        names.append("sknn")
    else:
        notes.append("sknn: not importable yet, skipped")
    names.append("sklearn")
    if NeuralNetClassifier is not None:
        names.append("skorch")
    else:
        notes.append("skorch: not installed (pip install skorch), skipped")
    names.append("torch")
    return names, notes


def build(lib, case, X_train, y_train):
    """Return an unfitted estimator of library ``lib`` configured for ``case``."""
    n_train, n_in = X_train.shape
    if lib == "sknn":
        return make_sknn(case, n_train)
    if lib == "sklearn":
        return make_sklearn(case, n_train)
    if lib == "skorch":
        return make_skorch(case, n_train, n_in, len(np.unique(y_train)))
    if lib == "torch":
        return TorchLoop(case, n_train)
    raise ValueError(lib)


def timed_fit(lib, case, X_train, y_train, X_test, y_test):
    """Fit one library once and return ``(seconds, test_accuracy)``."""
    est = build(lib, case, X_train, y_train)
    with quiet():
        t0 = time.perf_counter()
        if lib == "skorch":
            # skorch users must cast themselves; that is part of their cost.
            est.fit(X_train.astype(np.float32), y_train.astype(np.int64))
        else:
            est.fit(X_train, y_train)
        elapsed = time.perf_counter() - t0
        Xp = X_test.astype(np.float32) if lib == "skorch" else X_test
        acc = float(np.mean(est.predict(Xp) == y_test))
    return elapsed, acc


def subset_option(parser, flag, choices):
    """Add ``flag`` to ``parser``: a comma-separated subset of ``choices``, all by default."""
    parser.add_argument(flag, default=",".join(choices),
                        help=f"comma-separated subset of {', '.join(choices)}")


def chosen(parser, value, choices, what):
    """The names in the comma-separated ``value``; a parser error for unknown ones."""
    names = [n for n in value.split(",") if n]
    unknown = sorted(set(names) - set(choices))
    if unknown:
        parser.error(f"unknown {what} {unknown}; choose from {list(choices)}")
    return names


def fit_timed(make, X, y, fast=True):
    """Fit ``make()`` on ``X, y``; return ``(seconds, estimator)``.

    ``fast=False`` switches sknn's hand-derived steps off for the fit
    (``sknn._estimator_base._FAST_PATH``): every step through autograd.
    """
    import sknn._estimator_base as estimator_base

    estimator_base._FAST_PATH = fast
    try:
        est = make()
        with quiet():
            t0 = time.perf_counter()
            est.fit(X, y)
            return time.perf_counter() - t0, est
    finally:
        estimator_base._FAST_PATH = True


def median(values):
    """Median that tolerates an empty list (returns nan)."""
    return statistics.median(values) if values else float("nan")


def matmul_peak_gflops(dtype=torch.float32, n=1024, repeats=15):
    """Measure this machine's matmul throughput for ``dtype`` in GFLOP/s.

    Best of ``repeats`` single n x n @ n x n products using the torch thread
    pool as configured (the same one the fits use); the best rather than the
    median because a peak is wanted and a shared machine only ever slows a
    run down.
    """
    a = torch.randn(n, n, dtype=dtype)
    b = torch.randn(n, n, dtype=dtype)
    out = torch.empty(n, n, dtype=dtype)
    for _ in range(2):
        torch.mm(a, b, out=out)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b, out=out)
        times.append(time.perf_counter() - t0)
    return 2.0 * n**3 / min(times) / 1e9


def training_flops(n_in, hidden, n_out, n_samples, epochs):
    """Dense-layer FLOPs of ``epochs`` epochs of minibatch training.

    Forward 2*in*out per layer and sample, backward 2*in*out for the weight
    gradient plus 2*in*out for the input gradient (not needed for the first
    layer). Elementwise work is ignored: it is a few percent at these widths.
    """
    sizes = [n_in, *hidden, n_out]
    macs = [a * b for a, b in itertools.pairwise(sizes)]
    per_sample = 6 * sum(macs) - 2 * macs[0]
    return float(per_sample) * n_samples * epochs
