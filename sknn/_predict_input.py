"""Recognising prediction input that scikit-learn's validation would pass as is.

``validate_data(est, X, reset=False)`` costs about 60 us per call on the
2 vCPU box, most of it looking for pandas, polars and array-API inputs, while
the forward pass of one row through a small network takes under 10 us. For
the input that single-row serving sends (a float ndarray with the fitted
number of columns and finite values) validation changes nothing: it returns
``X`` itself, without a warning. :func:`passes_unchanged` recognises exactly
that case with a few attribute reads; every other input, including every
input that would raise or warn, still goes through ``validate_data``, so
errors and warnings stay scikit-learn's own. tests/test_predict_input.py
checks the claim against ``validate_data`` input by input.
"""

from __future__ import annotations

import numpy as np

# float16 and other floats are converted or checked differently by numpy's
# BLAS path; non-native byte orders compare unequal to these and fall back.
_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


def passes_unchanged(estimator, X) -> bool:
    """Whether ``validate_data(estimator, X, reset=False)`` would return ``X`` unchanged.

    True only for a plain 2-D float32/float64 ``np.ndarray`` (no subclass,
    no sparse matrix, no DataFrame) with at least one row, the fitted
    ``n_features_in_`` columns and only finite values, given to an estimator
    fitted without feature names (otherwise scikit-learn warns that ``X`` has
    none).

    Parameters
    ----------
    estimator : fitted estimator
        Its ``n_features_in_`` and ``feature_names_in_`` are read from its
        ``__dict__``, where ``validate_data`` stored them at fit time.
    X : object
        The input given to ``predict``.

    Returns
    -------
    bool
    """
    if type(X) is not np.ndarray or X.ndim != 2 or X.dtype not in _FLOATS:
        return False
    state = estimator.__dict__
    if X.shape[0] < 1 or X.shape[1] != state.get("n_features_in_") or "feature_names_in_" in state:
        return False
    # scikit-learn's own first pass: the sum is finite only if every value is
    # (NaN and infinities propagate). An overflowing sum of finite values
    # falls back to validate_data, which decides without this shortcut.
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(X.sum()))
