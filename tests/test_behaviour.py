"""What users rely on beyond the estimator checks: inputs, attributes, output, history."""

import copy
import io
import pickle
import warnings
from functools import partial

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import GridSearchCV, LeaveOneOut, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import MLPModule, TorchMLPClassifier, TorchMLPRegressor

X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)


# rrelu: autograd, relu: hand-derived step; lbfgs refuses random layers.
@pytest.mark.parametrize("solver, activation, dropout",
                         [("adam", "rrelu", 0.2), ("adam", "relu", 0.2), ("lbfgs", "relu", 0.0)])
def test_same_random_state_same_predictions_and_global_rng_untouched(solver, activation, dropout):
    rng_state = torch.random.get_rng_state()
    params = dict(hidden_layer_sizes=(8, 8), max_iter=15, random_state=7, dropout=dropout,
                  activation=activation, init="kaiming_normal", solver=solver)
    a = TorchMLPClassifier(**params).fit(X, y).predict_proba(X)
    b = TorchMLPClassifier(**params).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert torch.equal(torch.random.get_rng_state(), rng_state)


def test_sparse_input_equals_dense():
    dense = TorchMLPClassifier((6,), max_iter=10, random_state=0).fit(X, y)
    for fmt in (sp.csr_matrix, sp.csc_matrix):
        est = TorchMLPClassifier((6,), max_iter=10, random_state=0).fit(fmt(X), y)
        np.testing.assert_allclose(est.predict_proba(fmt(X)), dense.predict_proba(X))


def test_string_labels_and_column_vector_y():
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    est = TorchMLPClassifier((6,), max_iter=30, random_state=0).fit(X, labels)
    assert list(est.classes_) == ["setosa", "versicolor", "virginica"]
    assert set(est.predict(X)) <= set(labels)
    with pytest.warns(DataConversionWarning):
        TorchMLPClassifier((4,), max_iter=2).fit(X, labels.reshape(-1, 1))


def test_binary_predict_proba_columns_and_threshold():
    yb = (y > 0).astype(int)
    est = TorchMLPClassifier((6,), max_iter=30, random_state=0).fit(X, yb)
    proba = est.predict_proba(X)
    assert est.n_outputs_ == 1 and est.out_activation_ == "logistic"
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(est.predict(X), (proba[:, 1] > 0.5).astype(int))
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(proba))


def test_single_class_predicts_that_class():
    est = TorchMLPClassifier((4,), max_iter=3).fit(X[:20], ["a"] * 20)
    assert list(est.predict(X[:3])) == ["a"] * 3


def test_pandas_feature_names():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    est = TorchMLPClassifier((4,), max_iter=3).fit(df, pd.Series(y))
    np.testing.assert_array_equal(est.feature_names_in_, ["sl", "sw", "pl", "pw"])
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        est.predict(X)


def test_coefs_agree_with_module_and_can_be_set():
    est = TorchMLPClassifier((5,), max_iter=3, random_state=0).fit(X, y)
    layers = est.module_.linear_layers()
    for coef, intercept, layer in zip(est.coefs_, est.intercepts_, layers):
        np.testing.assert_array_equal(coef,
                                      layer.weight.detach().cpu().numpy().T.astype(np.float64))
        np.testing.assert_array_equal(intercept,
                                      layer.bias.detach().cpu().numpy().astype(np.float64))
    assert [c.shape for c in est.coefs_] == [(4, 5), (5, 3)]
    est.coefs_ = [np.zeros((4, 5)), np.zeros((5, 3))]
    est.intercepts_ = [np.zeros(5), np.array([0.0, 5.0, 0.0])]
    assert (est.predict(X) == 1).all()
    with pytest.raises(ValueError, match="Expected shape"):
        est.coefs_ = [np.zeros((3, 5)), np.zeros((5, 3))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_coefs_refuse_in_place_edits_and_assignment_reaches_every_predict(dtype):
    # float32 data: the last layer's (5, 1) weights and the biases were live
    # views once, whose edits reached float32 predictions but not float64 ones.
    yb = (y == 1).astype(int)
    est = TorchMLPClassifier((5,), max_iter=3, random_state=0).fit(X.astype(dtype), yb)
    for arrays in (est.coefs_, est.intercepts_):
        for a in arrays:
            with pytest.raises(ValueError, match="read-only"):
                a += 1
    est.intercepts_ = [b + 5 for b in est.intercepts_]
    np.testing.assert_allclose(est.predict_proba(X.astype(np.float32)), est.predict_proba(X),
                               atol=1e-6)  # float32 against float64 arithmetic
    np.testing.assert_array_equal(est.intercepts_[-1],
                                  est.module_.linear_layers()[-1].bias.detach().cpu().numpy())


def test_fitted_attributes_like_sklearn():
    est = TorchMLPClassifier((5, 4), max_iter=7, random_state=0).fit(X, y)
    assert est.n_layers_ == 4 and est.n_outputs_ == 3 and est.out_activation_ == "softmax"
    assert est.n_iter_ == 7 and est.t_ == 7 * 150 and len(est.loss_curve_) == 7
    assert est.loss_ == est.loss_curve_[-1] and est.best_loss_ == min(est.loss_curve_)
    # numpy floats, as scikit-learn's (its validation scores are Python floats)
    assert all(type(v) is np.float64 for v in [est.loss_, est.best_loss_, *est.loss_curve_])
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    auto = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # device="auto"
    assert isinstance(est.module_, MLPModule) and est.device_ == auto
    lb = TorchMLPClassifier((5,), solver="lbfgs", max_iter=5).fit(X, y)
    assert not hasattr(lb, "loss_curve_") and lb.t_ == 0 and type(lb.loss_) is np.float64


def test_history_records_every_epoch():
    est = TorchMLPClassifier((5,), max_iter=6, early_stopping=True, random_state=0,
                             n_iter_no_change=100).fit(X, y)
    assert len(est.history_) == est.n_iter_ == 6
    assert [h["epoch"] for h in est.history_] == list(range(1, 7))
    assert [h["loss"] for h in est.history_] == est.loss_curve_
    assert [h["val_score"] for h in est.history_] == est.validation_scores_
    assert all(h["val_loss"] > 0 and h["time"] >= 0 and h["lr"] == 1e-3 for h in est.history_)
    est.set_params(warm_start=True, max_iter=3).fit(X, y)
    assert [h["epoch"] for h in est.history_] == list(range(1, 10))
    est = TorchMLPClassifier((5,), random_state=0)
    for _ in range(2):
        est.partial_fit(X, y, classes=[0, 1, 2])
    assert [h["epoch"] for h in est.history_] == [1, 2] and est.history_[0]["val_loss"] is None


def test_convergence_warning_and_verbose_lines(capsys):
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(3\\) reached"):
        TorchMLPClassifier((4,), max_iter=3, verbose=True, early_stopping=True).fit(X, y)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Iteration 1, loss = ") and out[1].startswith("Validation score: ")
    TorchMLPClassifier((4,), tol=1e9, n_iter_no_change=1, verbose=True).fit(X, y)
    out = capsys.readouterr().out
    assert "Training loss did not improve more than tol=1000000000.000000 for 1 consecutive " \
           "epochs. Stopping." in out
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TorchMLPClassifier((4,), max_iter=3, verbose=False).partial_fit(X, y, classes=[0, 1, 2])
    assert capsys.readouterr().out == ""


def test_pickle_and_joblib_round_trip(tmp_path):
    est = TorchMLPClassifier((6,), max_iter=5, random_state=0, dropout=0.1).fit(X, y)
    # Exactly the same on the CPU. A model fitted on a GPU comes back on the CPU and
    # predicts there, in float64 as on the GPU, but with other roundings.
    same = (np.testing.assert_array_equal if est.device_.type == "cpu"
            else partial(np.testing.assert_allclose, rtol=1e-12, atol=1e-15))
    expected = est.predict_proba(X)
    clone_ = pickle.loads(pickle.dumps(est))
    same(clone_.predict_proba(X), expected)
    joblib.dump(est, tmp_path / "m.joblib")
    loaded = joblib.load(tmp_path / "m.joblib")
    same(loaded.predict_proba(X), expected)
    # Training goes on where it stopped, optimizer state included.
    a = pickle.loads(pickle.dumps(est)).partial_fit(X, y)
    b = est.partial_fit(X, y)
    same(a.predict_proba(X), b.predict_proba(X))


def test_a_pickle_from_other_versions_warns_like_sklearn():
    from sklearn.exceptions import InconsistentVersionWarning

    est = TorchMLPClassifier((5,), max_iter=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        loaded = pickle.loads(pickle.dumps(est))  # the same versions: silent
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    state = est.__getstate__()
    assert state["_sknn_versions"].startswith("sknn ")
    for saved in ("sknn 0.0.1, scikit-learn 1.0, torch 1.0", None):
        other = dict(state, _sknn_versions=saved) if saved else {
            k: v for k, v in state.items() if k != "_sknn_versions"}
        new = TorchMLPClassifier.__new__(TorchMLPClassifier)
        with pytest.warns(InconsistentVersionWarning, match=saved or "unknown"):
            new.__setstate__(other)
        assert "_sknn_versions" not in vars(new)
        np.testing.assert_array_equal(new.predict(X), est.predict(X))


@pytest.mark.parametrize("start, change", [
    ({"solver": "adam"}, {"solver": "sgd"}),
    ({"solver": "nadam", "lr_scheduler": "step"}, {"lr_scheduler": "onecycle"}),
    ({"solver": "adamw"}, {"solver": "adam"}),
    ({"solver": "sgd", "learning_rate": "invscaling"}, {"learning_rate_init": 0.01}),
    ({"solver": "adam"}, {"activation": "tanh", "solver": "rmsprop"}),  # new layers too
    ({"lr_scheduler": "plateau", "early_stopping": True}, {"early_stopping": False}),
])
def test_a_pickled_model_trains_on_as_the_live_one_after_set_params(start, change):
    # A live partial_fit keeps its optimizer and schedule whatever set_params
    # changed, as scikit-learn's; a pickled copy rebuilt them from the current
    # parameters and loaded the old state into them (KeyError: 'momentum', or
    # another learning rate). The plateau schedule watched a validation score
    # that no longer was (TypeError) on both.
    first = TorchMLPClassifier((4,), max_iter=3, random_state=0, **start)
    (first.fit(X, y) if start.get("early_stopping") else first.partial_fit(X, y, classes=[0, 1, 2]))
    live, loaded = first, pickle.loads(pickle.dumps(first))
    for est in (live, loaded):
        est.set_params(**change)
        est.partial_fit(X, y)
    for a, b in zip(live.coefs_ + live.intercepts_, loaded.coefs_ + loaded.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_pickled_state_holds_only_cpu_tensors():
    est = TorchMLPRegressor(hidden_layer_sizes=(4,), max_iter=3).fit(X, y)
    state = est.__getstate__()
    assert all(t.device.type == "cpu" for t in state["module_"].state_dict().values())
    assert "_optimizer" not in state and "_optimizer_state" in state


@pytest.mark.parametrize("copier", [lambda e: pickle.dumps(e), copy.deepcopy,
                                    lambda e: joblib.dump(e, io.BytesIO())],
                         ids=["pickle", "deepcopy", "joblib"])
def test_pickling_leaves_the_live_estimator_as_it_was(copier):
    est = TorchMLPClassifier((6,), max_iter=5, random_state=0).fit(X, y)
    before = dict(vars(est))
    copier(est)
    assert vars(est).keys() == before.keys()
    assert all(vars(est)[k] is v for k, v in before.items())


def test_model_selection_tools():
    pipe = make_pipeline(StandardScaler(), TorchMLPClassifier((5,), max_iter=50, random_state=0,
                                                              learning_rate_init=0.05))
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.7
    loo = cross_val_score(clone(pipe), X[::10], y[::10], cv=LeaveOneOut())
    assert len(loo) == 15
    grid = GridSearchCV(pipe, {"torchmlpclassifier__activation": ["relu", "gelu"]}, cv=2,
                        n_jobs=2).fit(X, y)
    assert grid.best_params_["torchmlpclassifier__activation"] in ("relu", "gelu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_predicts_on_cpu_after_unpickling():
    est = TorchMLPClassifier((8,), max_iter=5, device="cuda", random_state=0).fit(X, y)
    assert est.device_.type == "cuda" and next(est.module_.parameters()).is_cuda
    expected = est.predict_proba(X)
    loaded = pickle.loads(pickle.dumps(est))
    assert next(loaded.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=1e-5)


def test_verbose_on_a_terminal_shows_a_progress_bar(monkeypatch, capsys):
    import sknn._progress as progress

    monkeypatch.setattr(progress, "_is_terminal", lambda: True)
    TorchMLPClassifier((4,), max_iter=5, verbose=True, early_stopping=True,
                       n_iter_no_change=100).fit(X, y)
    captured = capsys.readouterr()
    assert "Iteration" not in captured.out  # a bar, not a line per epoch
    assert "5/5" in captured.err and "val_score" in captured.err


def test_a_fit_failing_before_training_closes_its_progress_bar(monkeypatch):
    import sknn._progress as progress

    opened = []

    class Recorded(progress.Reporter):
        def __init__(self, *args):
            super().__init__(*args)
            opened.append(self)

    monkeypatch.setattr(progress, "_is_terminal", lambda: True)
    monkeypatch.setattr("sknn._estimator_base.Reporter", Recorded)
    with pytest.raises(ValueError, match="test_size = 1 should be greater or equal"):
        TorchMLPClassifier((4,), max_iter=3, verbose=True, early_stopping=True,
                           random_state=0).fit(X[45:55], y[45:55])  # the split fails
    assert len(opened) == 1 and opened[0].bar is None  # closed


def test_quiet_fit_creates_no_progress_bar(monkeypatch):
    import sknn._progress as progress

    monkeypatch.setattr(progress, "_is_terminal", lambda: True)
    reporter = progress.Reporter(False, 10)
    assert reporter.bar is None and reporter.say is None
