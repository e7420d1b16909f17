"""predict and partial_fit skip validate_data only where it would change nothing."""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.neural_network import MLPRegressor
from sklearn.utils.validation import validate_data

import sknn._estimator_base as estimator_base
import sknn._fitted_state as fitted_state
from sknn import TorchMLPClassifier, TorchMLPRegressor
from sknn._unchanged_input import (
    predict_input_array,
    predict_input_unchanged,
    training_input_arrays,
    training_input_unchanged,
)

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

# Lists, as predict takes them from a JSON payload and otherwise.
LISTS = {
    "list": X.tolist(),
    "one-row list": X[:1].tolist(),
    "list of row arrays": list(X),
    "ints in a float list": [[1, 2.5, 3, 4, 5]] + X[1:].tolist(),
    "list of ints": (X * 10).astype(int).tolist(),
    "list of bools": (X > 0).tolist(),
    "list of strings": X.astype(str).tolist(),
    "list with None": [[None, *row[1:]] for row in X.tolist()],
    "list with nan": [[float("nan"), *row[1:]] for row in X.tolist()],
    "list of float32 rows": list(X.astype(np.float32)),
    "ragged list": [row[: 4 + i % 2] for i, row in enumerate(X.tolist())],
    "flat list": X[0].tolist(),
    "narrow list": X[:, :4].tolist(),
    "empty list": [],
    "list of lists of lists": X[None].tolist(),
    "complex list": (X + 1j).tolist(),
}


@pytest.mark.parametrize("name", list(CANDIDATES))
def test_accepted_input_is_what_validate_data_returns_unchanged(reg, name):
    data = CANDIDATES[name]
    if not predict_input_unchanged(reg, data):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert validate_data(reg, data, accept_sparse=["csr", "csc"], reset=False) is data


def test_plain_float_arrays_are_accepted_and_everything_else_is_not(reg):
    accepted = {name for name, data in CANDIDATES.items() if predict_input_unchanged(reg, data)}
    assert accepted == {"float64", "float32", "one row", "fortran", "strided", "read-only"}


@pytest.mark.parametrize("name", list(LISTS))
def test_accepted_list_becomes_what_validate_data_makes_of_it(reg, name):
    data = LISTS[name]
    array = predict_input_array(reg, data)
    if array is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expected = validate_data(reg, data, accept_sparse=["csr", "csc"], reset=False)
    assert array.dtype == expected.dtype and array.flags.c_contiguous
    np.testing.assert_array_equal(array, expected)


def test_lists_of_finite_floats_are_accepted_and_no_other_list_is(reg):
    accepted = {name for name, data in LISTS.items() if predict_input_array(reg, data) is not None}
    assert accepted == {"list", "one-row list", "list of row arrays", "ints in a float list"}
    for name, data in CANDIDATES.items():  # arrays: as predict_input_unchanged says
        array = predict_input_array(reg, data)
        if name != "list":
            assert (array is data) if predict_input_unchanged(reg, data) else array is None


def test_estimator_fitted_with_feature_names_always_validates():
    est = TorchMLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    est.fit(pd.DataFrame(X, columns=list("abcde")), y)
    assert not predict_input_unchanged(est, X)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        est.predict(X)


@pytest.mark.parametrize("name", list(CANDIDATES) + [f"{n} (list)" for n in LISTS])
def test_predict_unchanged_by_the_shortcut(reg, name, monkeypatch):
    """Same predictions, errors and warnings with the shortcut as without it."""
    data = LISTS[name[: -len(" (list)")]] if name.endswith(" (list)") else CANDIDATES[name]

    def outcome():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = reg.predict(data)
            except Exception as exc:  # noqa: BLE001 - the outcome compared is any error
                result = (type(exc), str(exc))
        return result, [(w.category, str(w.message)) for w in caught]

    fast = outcome()
    monkeypatch.setattr(fitted_state, "predict_input_array", lambda est, X: None)
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


TARGETS = {
    "float": y,
    "float32": y.astype(np.float32),
    "int": (y > 0).astype(int),
    "bool": y > 0,
    "strings": np.where(y > 0, "up", "down"),
    "column": y[:, None],
    "two columns": np.c_[y, -y],
    "no columns": np.empty((len(y), 0)),
    "nan": np.where(y > 1, np.nan, y),
    "inf": np.where(y > 1, np.inf, y),
    "object": (y > 0).astype(object),
    "complex": y + 0j,
    "too short": y[:-1],
    "0-d": np.asarray(1.0),
    "3-D": y[:, None, None],
    "list": y.tolist(),
    "Series": pd.Series(y),
}


@pytest.mark.parametrize("y_name", list(TARGETS))
@pytest.mark.parametrize("x_name", ["float64", "one row", "nan", "too few columns", "list"])
@pytest.mark.parametrize("y_numeric", [False, True])
def test_accepted_training_input_is_what_validate_data_returns_unchanged(reg, x_name, y_name,
                                                                         y_numeric):
    data, target = CANDIDATES[x_name], TARGETS[y_name]
    if x_name == "one row" and np.ndim(target) >= 1:
        target = target[3:4]
    if not training_input_unchanged(reg, data, target):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X_out, y_out = validate_data(reg, data, target, accept_sparse=["csr", "csc"],
                                     multi_output=True, y_numeric=y_numeric,
                                     dtype=(np.float64, np.float32), reset=False)
    assert X_out is data and y_out is target


def test_plain_targets_are_accepted_and_everything_else_is_not(reg):
    accepted = {name for name, target in TARGETS.items()
                if training_input_unchanged(reg, X, target)}
    assert accepted == {"float", "float32", "int", "bool", "strings", "column", "two columns"}
    assert not training_input_unchanged(reg, X[:, :4], y)
    assert not training_input_unchanged(reg, X.tolist(), y)


TARGET_LISTS = {
    "float list": y.tolist(),
    "int list": (y > 0).astype(int).tolist(),
    "bool list": (y > 0).tolist(),
    "string list": np.where(y > 0, "up", "down").tolist(),
    "mixed int and float list": [1, *y[1:].tolist()],
    "column list": y[:, None].tolist(),
    "list with None": [None, *y[1:].tolist()],
    "list with nan": [float("nan"), *y[1:].tolist()],
    "ragged list": [[v] if i % 2 else [v, v] for i, v in enumerate(y.tolist())],
    "short list": y[:-1].tolist(),
    "empty list": [],
}


@pytest.mark.parametrize("y_name", list(TARGET_LISTS) + ["float", "strings"])
@pytest.mark.parametrize("x_name", ["list", "list of row arrays", "list of ints", "ragged list",
                                    "narrow list", "list with nan"])
@pytest.mark.parametrize("y_numeric", [False, True])
def test_accepted_training_lists_become_what_validate_data_makes_of_them(reg, x_name, y_name,
                                                                          y_numeric):
    data, target = LISTS[x_name], {**TARGETS, **TARGET_LISTS}[y_name]
    arrays = training_input_arrays(reg, data, target)
    if arrays is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expected = validate_data(reg, data, target, accept_sparse=["csr", "csc"],
                                 multi_output=True, y_numeric=y_numeric,
                                 dtype=(np.float64, np.float32), reset=False)
    for got, want in zip(arrays, expected):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_lists_of_rows_and_plain_target_lists_are_accepted_and_no_others(reg):
    accepted = {name for name, target in TARGET_LISTS.items()
                if training_input_arrays(reg, X.tolist(), target) is not None}
    assert accepted == {"float list", "int list", "bool list", "string list",
                        "mixed int and float list", "column list"}
    assert training_input_arrays(reg, LISTS["list of ints"], y) is None
    assert training_input_arrays(reg, LISTS["narrow list"], y) is None
    fitted_with_names = TorchMLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    fitted_with_names.fit(pd.DataFrame(X, columns=list("abcde")), y)
    assert training_input_arrays(fitted_with_names, X.tolist(), y.tolist()) is None


def _partial_fit_outcome(est, data, target):
    est = copy.deepcopy(est)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.partial_fit(data, target)
            result = [c.copy() for c in est.coefs_]
        except Exception as exc:  # noqa: BLE001 - the outcome compared is any error
            result = (type(exc), str(exc))
    return result, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("y_name", ["float", "int", "column", "nan", "too short", "object",
                                    "float list", "list with None", "column list"])
@pytest.mark.parametrize("x_name", ["float64", "one row", "float32", "nan", "too few columns",
                                    "list", "list of ints", "ragged list"])
def test_partial_fit_unchanged_by_the_shortcut(reg, x_name, y_name, monkeypatch):
    """Same weights, errors and warnings with the shortcut as without it."""
    data = {**CANDIDATES, **LISTS}[x_name]
    target = {**TARGETS, **TARGET_LISTS}[y_name]
    if x_name == "one row":
        target = target[3:4]
    fast = _partial_fit_outcome(reg, data, target)
    monkeypatch.setattr(estimator_base, "training_input_arrays", lambda est, X, y: None)
    slow = _partial_fit_outcome(reg, data, target)
    if isinstance(fast[0], list):
        for a, b in zip(fast[0], slow[0]):
            np.testing.assert_array_equal(a, b)
        assert fast[1] == slow[1]
    else:
        assert fast == slow


def test_classifier_partial_fit_keeps_scikit_learns_label_errors():
    labels = np.where(y > 0, "up", "down")
    clf = TorchMLPClassifier((8,), max_iter=5, random_state=0).fit(X, labels)
    assert training_input_unchanged(clf, X[:2], np.array(["up", "sideways"]))
    with pytest.raises(ValueError, match="`y` has classes not in `self.classes_`"):
        clf.partial_fit(X[:2], np.array(["up", "sideways"]))
    np.testing.assert_array_equal(clf.classes_, ["down", "up"])
    assert training_input_arrays(clf, X[:2].tolist(), ["up", "sideways"]) is not None
    with pytest.raises(ValueError, match="`y` has classes not in `self.classes_`"):
        clf.partial_fit(X[:2].tolist(), ["up", "sideways"])
