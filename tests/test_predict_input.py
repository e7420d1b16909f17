"""Prediction skips validate_data only where validate_data would change nothing."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.neural_network import MLPRegressor
from sklearn.utils.validation import validate_data

import sknn._fitted_state as fitted_state
from sknn import TorchMLPClassifier, TorchMLPRegressor
from sknn._predict_input import passes_unchanged

rng = np.random.RandomState(0)
X = rng.normal(size=(60, 5))
y = X @ rng.normal(size=5)


@pytest.fixture(scope="module")
def reg():
    return TorchMLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)


def _overflowing_float32():
    big = np.full((2, 5), 3e38, dtype=np.float32)  # finite values, infinite float32 sum
    with np.errstate(over="ignore"):
        assert not np.isfinite(big.sum())
    return big


def _matrix():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.asmatrix(X)


CANDIDATES = {
    "float64": X,
    "float32": X.astype(np.float32),
    "one row": X[3:4],
    "fortran": np.asfortranarray(X),
    "strided": X[::2, :],
    "read-only": np.frombuffer(X.tobytes()).reshape(X.shape),
    "float16": X.astype(np.float16),
    "int": (X * 10).astype(int),
    "big-endian": X.astype(">f8"),
    "nan": np.where(X > 2, np.nan, X),
    "inf": np.where(X > 2, np.inf, X),
    "overflowing float32 sum": _overflowing_float32(),
    "too few columns": X[:, :4],
    "too many columns": np.hstack([X, X]),
    "1-D": X[0],
    "3-D": X[None],
    "no rows": X[:0],
    "matrix": _matrix(),
    "csr": sp.csr_matrix(X),
    "list": X.tolist(),
    "object": X.astype(object),
    "DataFrame": pd.DataFrame(X),
}


@pytest.mark.parametrize("name", list(CANDIDATES))
def test_accepted_input_is_what_validate_data_returns_unchanged(reg, name):
    data = CANDIDATES[name]
    if not passes_unchanged(reg, data):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert validate_data(reg, data, accept_sparse=["csr", "csc"], reset=False) is data


def test_plain_float_arrays_are_accepted_and_everything_else_is_not(reg):
    accepted = {name for name, data in CANDIDATES.items() if passes_unchanged(reg, data)}
    assert accepted == {"float64", "float32", "one row", "fortran", "strided", "read-only"}


def test_estimator_fitted_with_feature_names_always_validates():
    est = TorchMLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    est.fit(pd.DataFrame(X, columns=list("abcde")), y)
    assert not passes_unchanged(est, X)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        est.predict(X)


@pytest.mark.parametrize("name", list(CANDIDATES))
def test_predict_unchanged_by_the_shortcut(reg, name, monkeypatch):
    """Same predictions, errors and warnings with the shortcut as without it."""
    data = CANDIDATES[name]

    def outcome():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = reg.predict(data)
            except Exception as exc:  # noqa: BLE001 - the outcome compared is any error
                result = (type(exc), str(exc))
        return result, [(w.category, str(w.message)) for w in caught]

    fast = outcome()
    monkeypatch.setattr(fitted_state, "passes_unchanged", lambda est, X: False)
    slow = outcome()
    if isinstance(fast[0], np.ndarray):
        np.testing.assert_array_equal(fast[0], slow[0])
        assert fast[1] == slow[1]
    else:
        assert fast == slow


def test_one_row_errors_match_mlp_regressor(reg):
    ref = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    for bad in (np.where(X[:1] > -9, np.nan, 0.0), X[:1, :4]):
        with pytest.raises(ValueError) as ours:
            reg.predict(bad)
        with pytest.raises(ValueError) as theirs:
            ref.predict(bad)
        assert str(ours.value).replace("TorchMLPRegressor", "MLPRegressor") == str(theirs.value)


def test_assume_finite_lets_nan_through_as_in_scikit_learn(reg):
    bad = np.where(X[:2] > 0, np.nan, X[:2])
    with sklearn.config_context(assume_finite=True):
        assert np.isnan(reg.predict(bad)).any()


def test_classifier_single_row_predictions_follow_the_full_batch():
    labels = (y > 0).astype(int)
    clf = TorchMLPClassifier((8,), max_iter=5, random_state=0).fit(X, labels)
    rows = np.array([clf.predict(X[i : i + 1])[0] for i in range(len(X))])
    np.testing.assert_array_equal(rows, clf.predict(X))
    np.testing.assert_allclose(clf.predict_proba(X[:1]), clf.predict_proba(X)[:1])
