"""Recognising input that scikit-learn's validation would pass on unchanged.

``validate_data`` costs about 60 us per call on the 2 vCPU box for ``X``
alone and about 170 us for ``X`` and ``y``, most of it looking for pandas,
polars and array-API inputs, while one row through a small network takes
under 10 us. Single-row serving (``predict``) and online learning
(``partial_fit`` a row or a few at a time) pay it on every call. For the
input those calls usually get (float ndarrays with the fitted number of
columns and finite values) validation changes nothing: it returns the arrays
themselves, without a warning. ``predict_input_unchanged`` and
``training_input_unchanged`` recognise exactly that case with a few
attribute reads. ``predict_input_array`` and ``training_input_arrays``,
which the estimators call, also take lists of float rows (a JSON payload)
and, for training, lists of targets, converted as ``np.asarray`` converts
them (what validation would do). Every other input, including every input
that would raise or warn, still goes through ``validate_data``, so errors
and warnings stay scikit-learn's own. tests/test_unchanged_input.py checks
the claim against ``validate_data`` input by input.
"""

from __future__ import annotations

import numpy as np

# The dtypes the estimators validate X to; float16 and other floats are
# converted, and non-native byte orders compare unequal to these and fall back.
_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))
# Target kinds scikit-learn leaves as they are (dtype=None): bool, integers,
# unsigned, floats (checked finite) and fixed-width strings. Object targets
# are checked for NaN and, for a regressor, converted.
_TARGET_KINDS = "biufU"


def _finite(a) -> bool:
    """scikit-learn's own first pass: the sum is finite only if every value
    is (NaN and infinities propagate). An overflowing sum of finite values
    falls back to validate_data, which decides without this shortcut."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(a.sum()))


def predict_input_unchanged(estimator, X) -> bool:
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
    return _finite(X)


def predict_input_array(estimator, X):
    """What ``validate_data(estimator, X, reset=False)`` would return, where
    that is known without calling it; else None.

    ``X`` itself where :func:`predict_input_unchanged` accepts it. For a
    ``list`` (rows of Python floats, as a JSON payload arrives), validation
    makes ``np.asarray(X)`` and checks it; where that is a float64 array the
    first function accepts, it is returned (validation would give an equal
    array, without a warning). Lists of other values (ints, bools, strings,
    ``None``, ragged rows) go through ``validate_data``.

    Parameters
    ----------
    estimator : fitted estimator
    X : object
        The input given to ``predict``.

    Returns
    -------
    ndarray or None
    """
    X = _listed(X, np.float64)
    return X if X is not None and predict_input_unchanged(estimator, X) else None


def _listed(values, dtype=None):
    """``values``; for a list, ``np.asarray(values)`` (what ``check_array``
    makes of it) if that is of ``dtype`` (when given), else None. None too
    where numpy refuses the list (ragged rows: ``validate_data`` says so in
    its own words)."""
    if type(values) is not list:
        return values
    try:
        array = np.asarray(values)
    except (ValueError, TypeError):
        return None
    return array if dtype is None or array.dtype == dtype else None


def training_input_arrays(estimator, X, y):
    """What the estimators' ``validate_data(estimator, X, y, ..., reset=False)``
    would return, where that is known without calling it; else None.

    ``(X, y)`` themselves where :func:`training_input_unchanged` accepts
    them. Lists (an online learner fed JSON rows) are converted as
    validation converts them, ``X`` as in :func:`predict_input_array` and
    ``y`` by ``np.asarray``, and accepted on the same terms. The parameters
    are those of :func:`training_input_unchanged`.

    Returns
    -------
    tuple of ndarray, or None
    """
    X, y = _listed(X, np.float64), _listed(y)
    if X is None or y is None:
        return None
    return (X, y) if training_input_unchanged(estimator, X, y) else None


def training_input_unchanged(estimator, X, y) -> bool:
    """Whether ``validate_data(estimator, X, y, multi_output=True, reset=False)``
    would return ``(X, y)`` unchanged.

    ``X`` as in :func:`predict_input_unchanged`; ``y`` a plain 1-D or 2-D
    ``np.ndarray`` (at least one column) of bool, integers, floats (all
    finite) or fixed-width strings, with one entry per row of ``X``. This is
    what the estimators' ``validate_data`` calls (``dtype`` float64 or
    float32, ``y_numeric`` for the regressor, which converts only object
    targets) return as they are.

    Parameters
    ----------
    estimator : fitted estimator
    X, y : object
        The input given to ``partial_fit`` (or a warm-started ``fit``).

    Returns
    -------
    bool
    """
    if type(y) is not np.ndarray or not 1 <= y.ndim <= 2 or y.dtype.kind not in _TARGET_KINDS:
        return False
    if not predict_input_unchanged(estimator, X):
        return False
    if y.shape[0] != X.shape[0] or (y.ndim == 2 and y.shape[1] < 1):
        return False
    return y.dtype.kind != "f" or _finite(y)
