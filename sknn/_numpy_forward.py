"""The forward pass of a plain network with numpy, as scikit-learn computes it.

Used at predict time for plain networks (linear layers and an activation with
a closed form, :mod:`sknn._pointwise`; dropout is inactive at predict time)
that live on the CPU: for a handful of rows a torch forward pass costs more in dispatch
than the arithmetic, and for many rows numpy's BLAS is as fast as torch's
(``sknn._fitted_state`` feeds it cache-sized chunks). tests/test_fast_path.py
checks that numpy and torch predictions agree.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.utils.extmath import safe_sparse_dot

from ._pointwise import Pointwise


def _softmax(x):
    x -= x.max(axis=1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=1, keepdims=True)
    return x


OUTPUT = {
    "identity": lambda x: x,
    "logistic": lambda x: expit(x, out=x),
    "softmax": _softmax,
    "exp": lambda x: np.exp(x, out=x),
}


def numpy_forward(X, layers, activation: Pointwise, output: str) -> np.ndarray:
    """Output activations of a plain MLP.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    layers : list of (ndarray, ndarray)
        ``(coef, intercept)`` per layer, coef in (fan_in, fan_out) layout.
    activation : Pointwise
        The hidden activation.
    output : str
        Output activation name.
    """
    hidden = activation.numpy_apply
    last = len(layers) - 1
    for i, (coef, intercept) in enumerate(layers):
        # safe_sparse_dot costs ~8 us of checks per call; only sparse input needs it.
        X = X @ coef if isinstance(X, np.ndarray) else safe_sparse_dot(X, coef)
        X += intercept
        X = hidden(X) if i < last else OUTPUT[output](X)
    return X
