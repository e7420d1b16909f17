"""Prediction of small batches with numpy, as scikit-learn does it.

For a handful of rows, a torch forward pass costs more in dispatch than the
arithmetic (tens of microseconds per operation); scikit-learn's numpy forward
does not. Plain networks (linear layers and one of scikit-learn's four
activations; dropout is inactive at predict time) are evaluated here when the
batch is small and the model lives on the CPU. tests/test_fast_path.py checks
that both paths agree.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.utils.extmath import safe_sparse_dot

# Rows up to which numpy beats torch's per-operation overhead.
MAX_ROWS = 64


def _softmax(x):
    x -= x.max(axis=1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=1, keepdims=True)
    return x


HIDDEN = {
    "identity": lambda x: x,
    "logistic": lambda x: expit(x, out=x),
    "sigmoid": lambda x: expit(x, out=x),
    "tanh": lambda x: np.tanh(x, out=x),
    "relu": lambda x: np.maximum(x, 0, out=x),
}

OUTPUT = {
    "identity": lambda x: x,
    "logistic": lambda x: expit(x, out=x),
    "softmax": _softmax,
    "exp": lambda x: np.exp(x, out=x),
}


def numpy_forward(X, layers, activation: str, output: str) -> np.ndarray:
    """Output activations of a plain MLP.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    layers : list of (ndarray, ndarray)
        ``(coef, intercept)`` per layer, coef in (fan_in, fan_out) layout.
    activation, output : str
        Hidden and output activation names.
    """
    hidden = HIDDEN[activation]
    last = len(layers) - 1
    for i, (coef, intercept) in enumerate(layers):
        # safe_sparse_dot costs ~8 us of checks per call; only sparse input needs it.
        X = X @ coef if isinstance(X, np.ndarray) else safe_sparse_dot(X, coef)
        X += intercept
        X = hidden(X) if i < last else OUTPUT[output](X)
    return X
