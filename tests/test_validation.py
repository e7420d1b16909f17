"""Bad input gets scikit-learn's error, before anything changes."""

import re

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

import sknn._estimator_base as base
from sknn import TorchMLPClassifier, TorchMLPRegressor

X, y = load_iris(return_X_y=True)


@pytest.fixture
def fitted():
    return TorchMLPClassifier((5,), max_iter=5, random_state=0).fit(X, y)


def _state(est):
    return [c.copy() for c in est.coefs_], est.n_features_in_, list(est.loss_curve_)


def _assert_unchanged(est, before):
    coefs, n_features, curve = before
    for a, b in zip(coefs, est.coefs_):
        np.testing.assert_array_equal(a, b)
    assert est.n_features_in_ == n_features
    assert est.loss_curve_ == curve


@pytest.mark.parametrize(
    "params, message",
    [
        ({"activation": "gelux"}, "The 'activation' parameter of TorchMLPClassifier must be"),
        ({"solver": "adamm"}, "The 'solver' parameter"),
        ({"alpha": -1}, "The 'alpha' parameter"),
        ({"max_iter": 0}, "The 'max_iter' parameter"),
        ({"batch_size": 0}, "The 'batch_size' parameter"),
        ({"learning_rate": "cyclic"}, "The 'learning_rate' parameter"),
        ({"momentum": 1.5}, "The 'momentum' parameter"),
        ({"validation_fraction": 1.0}, "The 'validation_fraction' parameter"),
        ({"n_iter_no_change": 0}, "The 'n_iter_no_change' parameter"),
        ({"device": "gpu0"}, "The 'device' parameter"),
        ({"compute_dtype": "float16"}, "The 'compute_dtype' parameter"),
        ({"matmul_precision": "tf32"}, "The 'matmul_precision' parameter"),
        ({"matmul_precision": "high", "compute_dtype": "float64"},
         "needs compute_dtype='float32'"),
        ({"matmul_precision": "medium", "solver": "lbfgs"}, "leave it 'highest'"),
        ({"cuda_graphs": True, "solver": "sgd"}, "needs solver='adam' or 'adamw'"),
        ({"activation_kwargs": {"no_such": 1}}, "The 'activation_kwargs' parameter"),
        ({"optimizer_kwargs": {"no_such": 1}}, "The 'optimizer_kwargs' parameter"),
        ({"init": "constant"}, "must give \\['val'\\]"),
        ({"dropout": [0.1, 0.2]}, "one value per hidden layer"),
        ({"solver": "lbfgs", "lr_scheduler": "step"}, "has no effect with solver='lbfgs'"),
        ({"solver": "sgd", "learning_rate": "adaptive", "lr_scheduler": "step"},
         "both set the learning rate"),
        # Keyword arguments that construct but fail when used, caught by a probe.
        ({"lr_scheduler": "step", "lr_scheduler_kwargs": {"step_size": 0}},
         "The 'lr_scheduler_kwargs' parameter .* lr_scheduler='step': integer modulo by zero"),
        ({"lr_scheduler": "cosine", "lr_scheduler_kwargs": {"T_max": 0}},
         "The 'lr_scheduler_kwargs' parameter"),
        ({"lr_scheduler": torch.optim.lr_scheduler.LRScheduler}, "NotImplementedError"),
        ({"activation": "prelu", "activation_kwargs": {"num_parameters": 7}},
         "Mismatch of parameter numbers"),
        ({"activation": "leaky_relu", "activation_kwargs": {"negative_slope": "x"}},
         "The 'activation_kwargs' parameter"),
        ({"activation": "rrelu", "activation_kwargs": {"lower": 0.5, "upper": 0.1}},
         "The 'activation_kwargs' parameter"),
        ({"activation": "gelu", "activation_kwargs": {"approximate": "foo"}},
         "The 'activation_kwargs' parameter"),
        ({"activation": "hardtanh", "activation_kwargs": {"min_val": 1, "max_val": -1}},
         "The 'activation_kwargs' parameter"),
        ({"activation": "softplus", "activation_kwargs": {"beta": 0}}, "non-finite values"),
        ({"activation": "identity", "activation_kwargs": {"negative_slope": 0.1}},
         "Identity takes no keyword arguments"),
        ({"solver": "adamw", "optimizer_kwargs": {"capturable": True}, "device": "cpu"},
         "The 'optimizer_kwargs' parameter .* capturable=True"),
        ({"optimizer_kwargs": {"differentiable": True}}, "The 'optimizer_kwargs' parameter"),
        ({"device": "meta"}, "holds no data"),
        ({"dropout": ["a"]}, "one value per hidden layer"),
        ({"dropout": {"a": 0.1}}, "one value per hidden layer"),
        ({"dropout": [np.nan]}, "values must be in \\[0, 1\\)"),
        # scipy's line search needs the same loss for the same weights.
        ({"solver": "lbfgs", "dropout": 0.2}, "The 'dropout' parameter .* stochastic solver"),
        ({"solver": "lbfgs", "activation": "rrelu"},
         "The 'activation' parameter .* stochastic solver"),
        ({"activation": ["relu", "tanh"]}, "one entry per hidden layer \\(1\\); got 2"),
        ({"activation": ["gelux"]}, "The 'activation' parameter .* entries must be among"),
        ({"init": ["ones"]}, "one entry per layer, the output layer last \\(2\\); got 1"),
        ({"init": ["ones", 3]}, "The 'init' parameter .* entries must be among"),
        ({"init": ["constant", "zeros"]}, "must give \\['val'\\] for init='constant'"),
        ({"activation_kwargs": [1]}, "entries must be dicts or None"),
        ({"activation": ["leaky_relu"], "activation_kwargs": [{"bogus": 1}]},
         "The 'activation_kwargs' parameter"),
        ({"class_weight": {0: np.nan, 1: 1.0, 2: 1.0}}, "The 'class_weight' parameter"),
        ({"class_weight": {0: -1.0, 1: 1.0, 2: 1.0}}, "finite, non-negative weight"),
    ],
)
def test_invalid_parameters_raise_before_training(fitted, params, message):
    before = _state(fitted)
    fitted.set_params(max_iter=10**9, **{k: v for k, v in params.items() if k != "max_iter"})
    if "max_iter" in params:
        fitted.set_params(max_iter=params["max_iter"])
    with pytest.raises(InvalidParameterError, match=message):
        fitted.fit(X, y)
    _assert_unchanged(fitted, before)


def test_hidden_layer_sizes_errors():
    with pytest.raises(ValueError, match=re.escape("hidden_layer_sizes must be > 0, got [3, 0].")):
        TorchMLPClassifier((3, 0)).fit(X, y)
    for sizes in [(2.5,), (True,), ("3",)]:
        with pytest.raises(TypeError, match="hidden_layer_sizes must contain integers"):
            TorchMLPClassifier(sizes).fit(X, y)


def test_empty_hidden_layers_is_a_linear_model():
    est = TorchMLPClassifier((), max_iter=50, random_state=0).fit(X, y)
    assert est.n_layers_ == 2 and est.coefs_[0].shape == (4, 3)


@pytest.mark.parametrize(
    "X_bad, message",
    [
        (np.where(X == X[0, 0], np.nan, X), "Input X contains NaN"),
        (np.where(X == X[0, 0], np.inf, X), "Input X contains infinity"),
        (X[:, 0], "Expected 2D array, got 1D array instead"),
        (X.astype(complex), "Complex data not supported"),
    ],
)
def test_bad_X_raises_sklearn_errors(fitted, X_bad, message):
    before = _state(fitted)
    with pytest.raises(ValueError, match=message):
        fitted.fit(X_bad, y)
    _assert_unchanged(fitted, before)


def test_empty_and_inconsistent_input(fitted):
    with pytest.raises(ValueError, match=re.escape("Found array with 0 sample(s)")):
        TorchMLPClassifier().fit(np.empty((0, 4)), [])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fitted.fit(X, y[:-1])
    with pytest.raises(ValueError, match="Input y contains NaN"):
        TorchMLPRegressor().fit(X, np.full(len(X), np.nan))
    with pytest.raises(ValueError, match="Unknown label type"):
        TorchMLPClassifier().fit(X, np.linspace(0, 1, len(X)))
    with pytest.raises(ValueError, match="could not convert|argument must be"):
        TorchMLPClassifier().fit(np.array([["a"] * 4] * 5, dtype=object), [0, 1, 0, 1, 0])


def test_wrong_number_of_features_at_predict(fitted):
    msg = "X has 3 features, but TorchMLPClassifier is expecting 4 features as input."
    with pytest.raises(ValueError, match=msg):
        fitted.predict(X[:, :3])
    with pytest.raises(ValueError, match=msg):
        fitted.partial_fit(X[:, :3], y)


def test_unfitted_estimator_raises_not_fitted():
    for method in ("predict", "predict_proba"):
        with pytest.raises(NotFittedError, match="This TorchMLPClassifier instance is not fitted"):
            getattr(TorchMLPClassifier(), method)(X)
    assert not hasattr(TorchMLPClassifier(), "coefs_")


def test_partial_fit_class_errors():
    est = TorchMLPClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        est.partial_fit(X, y)
    assert not hasattr(est, "classes_")
    est.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert est.n_outputs_ == 3  # y may hold a subset of the classes
    with pytest.raises(ValueError, match="`y` has classes not in `self.classes_`"):
        est.partial_fit(X, np.where(y == 2, 7, y))
    with pytest.raises(ValueError, match="is not the same as on last call to partial_fit"):
        est.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        est.set_params(early_stopping=True).partial_fit(X, y)


def test_partial_fit_only_for_stochastic_solvers():
    assert not hasattr(TorchMLPClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(TorchMLPRegressor(solver="lbfgs"), "partial_fit")
    assert hasattr(TorchMLPClassifier(solver="rmsprop"), "partial_fit")


def test_warm_start_with_other_classes_raises(fitted):
    before = _state(fitted)
    fitted.set_params(warm_start=True)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same"):
        fitted.fit(X, np.where(y == 2, 5, y))
    _assert_unchanged(fitted, before)
    with pytest.raises(ValueError, match="differs from the fitted network"):
        fitted.set_params(hidden_layer_sizes=(6,)).fit(X, y)


def test_sample_weight_errors():
    with pytest.raises(ValueError, match="sample_weight.shape == \\(149,\\), expected \\(150,\\)"):
        TorchMLPClassifier().fit(X, y, sample_weight=np.ones(149))
    with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero"):
        TorchMLPClassifier().fit(X, y, sample_weight=np.zeros(150))


def test_poisson_rejects_negative_targets():
    with pytest.raises(ValueError, match="Some value\\(s\\) of y are negative"):
        TorchMLPRegressor(loss="poisson").fit(X, X[:, 0] - 10)


def test_validation_set_too_small():
    with pytest.raises(ValueError, match="The validation set is too small"):
        TorchMLPClassifier(early_stopping=True, validation_fraction=0.01).fit(X[:50], y[:50])


def test_non_finite_weights_error_keeps_previous_model():
    Xr = np.random.RandomState(0).normal(size=(60, 3))
    yr = Xr.sum(axis=1)
    est = TorchMLPRegressor(hidden_layer_sizes=(8,), solver="sgd", max_iter=5, random_state=0)
    est.fit(Xr, yr)
    before = [c.copy() for c in est.coefs_]
    est.set_params(warm_start=True, learning_rate_init=1e6, momentum=0.0)
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
        est.fit(Xr * 1e20, yr * 1e20)
    for a, b in zip(before, est.coefs_):
        np.testing.assert_array_equal(a, b)


def test_cuda_device_without_cuda_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        TorchMLPClassifier(device="cuda").fit(X, y)


def test_no_torch_internals_in_errors(fitted):
    # A wrong shape never reaches torch's "mat1 and mat2 shapes cannot be multiplied".
    with pytest.raises(ValueError) as info:
        fitted.predict(sp.csr_matrix(X[:, :2]))
    assert "mat1" not in str(info.value) and "features" in str(info.value)


def test_failed_partial_fit_keeps_history_optimizer_and_predictions():
    est = TorchMLPClassifier((5,), random_state=0)
    for _ in range(3):
        est.partial_fit(X, y, classes=[0, 1, 2])
    history, proba = list(est.history_), est.predict_proba(X[:5])
    optimizer_state = est._optimizer.state_dict()
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[:, :2], y)
    assert est.history_ == history and est.loss_curve_ == [h["loss"] for h in history]
    np.testing.assert_array_equal(est.predict_proba(X[:5]), proba)
    for k, v in est._optimizer.state_dict()["state"].items():
        np.testing.assert_array_equal(v["exp_avg"].cpu(),
                                      optimizer_state["state"][k]["exp_avg"].cpu())
    # and training goes on from there
    est.partial_fit(X, y)
    assert len(est.history_) == 4


@pytest.mark.parametrize("call", ["fit", "partial_fit"])
def test_failed_first_call_leaves_the_estimator_unfitted(call):
    est = TorchMLPClassifier()
    kwargs = {"classes": [0.0, 0.5, 1.0]} if call == "partial_fit" else {}
    with pytest.raises(ValueError):
        getattr(est, call)(X, np.linspace(0, 1, len(X)), **kwargs)
    assert [k for k in vars(est) if k.endswith("_")] == []
    with pytest.raises(NotFittedError):
        est.predict(X)


def _label_sequences():
    """Calls that change the kind or set of labels between calls."""
    y3 = np.repeat([0, 1, 2], 10)
    onehot = np.eye(3)[y3].astype(int)
    return {
        "classes too few": lambda e: e.partial_fit(X[:30], y3, classes=[0, 1]),
        "new label later": lambda e: (e.partial_fit(X[:30], y3, classes=[0, 1, 2]),
                                      e.partial_fit(X[:30], np.full(30, 5))),
        "other classes later": lambda e: (e.partial_fit(X[:30], y3, classes=[0, 1, 2]),
                                          e.partial_fit(X[:30], y3, classes=[0, 1, 2, 3])),
        "warm start, other labels": lambda e: (e.set_params(warm_start=True).fit(X[:30], y3),
                                               e.fit(X[:30], np.repeat([0, 1, 3], 10))),
        "new label after fit": lambda e: (e.fit(X[:30], y3), e.partial_fit(X[:30], np.full(30, 7))),
        "mixed label types": lambda e: e.fit(X[:30], np.array([0, "a", 1] * 10, dtype=object)),
        "continuous labels": lambda e: e.fit(X[:30], y3 + 0.5),
        "multilabel after multiclass": lambda e: (e.partial_fit(X[:30], y3, classes=[0, 1, 2]),
                                                  e.partial_fit(X[:30], onehot)),
    }


@pytest.mark.parametrize("case", list(_label_sequences()))
def test_label_errors_are_sklearns(case):
    from sklearn.neural_network import MLPClassifier

    call = _label_sequences()[case]
    raised = []
    for Estimator in (MLPClassifier, TorchMLPClassifier):
        with pytest.raises((ValueError, TypeError)) as info:
            call(Estimator(hidden_layer_sizes=(3,), max_iter=2, random_state=0))
        raised.append((info.type, str(info.value).replace("TorchMLP", "MLP")))
    assert raised[1] == raised[0]


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_missing_values_in_a_list_or_object_array_at_predict(fitted, method):
    # A None in a list makes an object array, which scikit-learn's default
    # check lets through (MLPClassifier then fails mid-computation); sknn
    # reads it as the missing value it is.
    row = [5.1, None, 1.4, 0.2]
    for bad in ([row], np.array([row], dtype=object)):
        with pytest.raises(ValueError, match="Input X contains NaN"):
            getattr(fitted, method)(bad)
    numbers = np.array([[5.1, 3.5, 1.4, 0.2]], dtype=object)
    np.testing.assert_array_equal(getattr(fitted, method)(numbers),
                                  getattr(fitted, method)(numbers.astype(float)))


@pytest.mark.parametrize("kind", ["str", "bytes"])
def test_regressor_text_targets_get_check_arrays_error(kind):
    # MLPRegressor fails on them inside its loss, with a numpy TypeError.
    est = TorchMLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(
        X, y.astype(float))
    before = _state(est)
    for call in (est.fit, est.partial_fit):
        with pytest.raises(ValueError, match="dtype='numeric' is not compatible with arrays of"):
            call(X, y.astype(kind))
        _assert_unchanged(est, before)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
def test_text_X_at_predict_gets_sklearns_error(fitted, method):
    for text in (X[:3].astype(str), X[:3].astype(bytes), [["5.1", "3.5", "1.4", "0.2"]],
                 [[5.1, "a", 1.4, 0.2]]):
        targets = (y[:len(text)],) if method == "score" else ()
        with pytest.raises(ValueError, match="dtype='numeric' is not compatible with arrays of"):
            getattr(fitted, method)(text, *targets)


def test_batch_normalisation_refuses_one_row_batches(fitted):
    before = _state(fitted)
    fitted.set_params(normalization="batch", batch_size=1)
    with pytest.raises(ValueError, match="at least 2 samples per batch; got batch_size=1"):
        fitted.fit(X, y)
    _assert_unchanged(fitted, before)
    # A trailing batch of one row joins the one before it.
    TorchMLPClassifier((5,), normalization="batch", batch_size=7, max_iter=2).fit(X[:148], y[:148])


def test_class_weight_of_zero_for_every_sample(fitted):
    before = _state(fitted)
    fitted.set_params(class_weight={0: 0.0, 1: 0.0, 2: 0.0})
    with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero"):
        fitted.fit(X, y)
    _assert_unchanged(fitted, before)


@pytest.mark.parametrize("hidden", [(5,), (300, 300)])  # numpy step, torch step
def test_a_batch_whose_weights_sum_to_zero_gets_sklearns_error(hidden):
    from sklearn.neural_network import MLPClassifier

    sw = np.ones(len(X))
    sw[:10] = 0  # the first batch of 10, without shuffling
    raised = []
    for Estimator in (MLPClassifier, TorchMLPClassifier):
        with pytest.raises(ZeroDivisionError) as info:
            Estimator(hidden, batch_size=10, shuffle=False, max_iter=2).fit(X, y, sample_weight=sw)
        raised.append(str(info.value))
    assert raised[1] == raised[0] == "Weights sum to zero, can't be normalized"
    # Zero weights spread over the batches train as scikit-learn does.
    sw = np.ones(len(X))
    sw[::7] = 0
    TorchMLPClassifier(hidden, batch_size=10, max_iter=2, random_state=0).fit(
        X, y, sample_weight=sw)


def test_unfitted_weights_raise_pythons_attribute_error():
    for name in ("coefs_", "intercepts_"):
        with pytest.raises(AttributeError,
                           match=f"^'TorchMLPClassifier' object has no attribute '{name}'$"):
            getattr(TorchMLPClassifier(), name)


def test_classifier_loss_attribute_is_mlpclassifiers():
    from sklearn.neural_network import MLPClassifier

    est = TorchMLPClassifier()
    assert est.loss == MLPClassifier().loss == "log_loss"
    assert "loss" not in est.get_params()


def test_options_tried_again_whenever_a_parameter_changes(fitted):
    # The probes of keyword arguments run once per set of parameters; a change,
    # also one made inside a dict in place, is tried again.
    kwargs = {"step_size": 3}
    fitted.set_params(lr_scheduler="step", lr_scheduler_kwargs=kwargs).fit(X, y)
    fitted.partial_fit(X, y)
    before = _state(fitted)
    kwargs["step_size"] = 0
    for call in (fitted.fit, fitted.partial_fit):
        with pytest.raises(InvalidParameterError, match="integer modulo by zero"):
            call(X, y)
        _assert_unchanged(fitted, before)


@pytest.mark.parametrize("Estimator, params, hint", [
    (TorchMLPClassifier, {"activation": "LeakyReLU"}, "activation='leaky_relu'"),
    (TorchMLPClassifier, {"solver": "Adam"}, "solver='adam'"),
    (TorchMLPClassifier, {"lr_scheduler": "StepLR"}, "lr_scheduler='step'"),
    (TorchMLPClassifier, {"init": "he_normal"}, "init='kaiming_normal'"),
    (TorchMLPClassifier, {"normalization": "BatchNorm1d"}, "normalization='batch'"),
    (TorchMLPRegressor, {"loss": "mse"}, "loss='squared_error'"),
    (TorchMLPRegressor, {"loss": "L1Loss"}, "loss='absolute_error'"),
    (TorchMLPClassifier, {"activation": "relux"}, "activation='relu'"),
])
def test_pytorch_spellings_get_a_hint(Estimator, params, hint):
    # scikit-learn's message, then the registry's name for what was meant.
    with pytest.raises(InvalidParameterError,
                       match=f"Got .* instead. Did you mean {re.escape(hint)}\\?$"):
        Estimator(**params).fit(X, y)


def test_no_hint_where_nothing_is_close():
    with pytest.raises(InvalidParameterError) as info:
        TorchMLPClassifier(activation="banana").fit(X, y)
    assert str(info.value).endswith("Got 'banana' instead.")


def test_weights_may_be_negative_where_no_batch_sums_to_zero():
    # scikit-learn trains on them; only a batch whose weights sum to zero fails.
    from sklearn.neural_network import MLPClassifier

    sw = np.ones(len(X))
    sw[::10] = -0.5
    for Estimator in (MLPClassifier, TorchMLPClassifier):
        Estimator((5,), batch_size=1, max_iter=2, random_state=0).fit(X, y, sample_weight=sw)


def test_scheduler_kwargs_are_ignored_without_a_scheduler():
    # One grid may search lr_scheduler over None and a scheduler with its kwargs.
    from sklearn.model_selection import GridSearchCV

    est = TorchMLPClassifier((5,), max_iter=3, random_state=0,
                             lr_scheduler_kwargs={"step_size": 1})
    grid = GridSearchCV(est, {"lr_scheduler": [None, "step"]}, cv=2, error_score="raise")
    grid.fit(X, y)
    assert len(grid.cv_results_["mean_test_score"]) == 2


def test_other_attributes_do_not_reach_the_option_checks():
    class Unprintable:
        def __repr__(self):
            raise RuntimeError("no repr")

    est = TorchMLPClassifier((5,), max_iter=2, lr_scheduler="step", random_state=0)
    est.note = Unprintable()  # a user's own attribute, not a parameter
    est.fit(X, y)


@pytest.mark.parametrize("numpy_step", [True, False], ids=["numpy step", "torch step"])
def test_weights_cancelling_in_float32_get_sklearns_error(monkeypatch, numpy_step):
    # They pass the float64 check, then sum (or round) to exactly 0 in float32. The torch
    # step (every GPU fit) divided by that zero and reported non-finite weights.
    monkeypatch.setattr(base, "_NUMPY_PATH", numpy_step)
    sw = np.where(np.arange(len(X)) % 2, -1.0, 1.0 + 1e-9)
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero, can't be normalized"):
        TorchMLPClassifier((4,), batch_size=2, shuffle=False, solver="sgd",
                           max_iter=2).fit(X, y, sample_weight=sw)
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero, can't be normalized"):
        TorchMLPClassifier((4,), max_iter=2).fit(X, y, sample_weight=np.full(len(X), 1e-50))
    sw = np.where(np.arange(len(X)) % 2, -1.0, 1.0)  # the whole set, for lbfgs
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero, can't be normalized"):
        TorchMLPClassifier((4,), solver="lbfgs", max_iter=2).fit(X, y, sample_weight=sw)


PATHS = {"numpy step": (True, True), "torch step": (False, True), "autograd": (False, False)}


@pytest.fixture(params=list(PATHS))
def training_path(request, monkeypatch):
    """Each training path in turn: the numpy step, the torch step, autograd."""
    numpy_step, fast = PATHS[request.param]
    monkeypatch.setattr(base, "_NUMPY_PATH", numpy_step)
    monkeypatch.setattr(base, "_FAST_PATH", fast)
    return request.param


def test_every_path_agrees_on_which_weights_sum_to_zero(training_path):
    # 1e8 + 1 - 1e8 is 1 in float64 and 0 or 1 in float32, by the order of the
    # additions: the torch step divided by a zero that the host's check (another
    # order) had not seen. Every path now adds a batch's weights in float64.
    rng = np.random.RandomState(0)
    Xs = rng.randn(20, 3)
    ys = (Xs[:, 0] > 0).astype(int)
    sw = np.r_[1e8, 1.0, -1e8, np.zeros(17)]
    for seed in range(6):  # shuffles that reordered the three weights
        TorchMLPClassifier((4,), max_iter=3, random_state=seed).fit(Xs, ys, sample_weight=sw)
    est = TorchMLPClassifier((4,), max_iter=3, random_state=0)
    est.partial_fit(Xs, ys, sample_weight=sw, classes=[0, 1])
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero, can't be normalized"):
        est.partial_fit(Xs, ys, sample_weight=np.r_[1e8, -1e8, np.zeros(18)])


def test_a_diverging_absolute_error_fit_fails_on_every_path(training_path):
    # Outputs that overflow to NaN: torch's sign(nan) is 0, so the torch paths
    # trained on with a NaN loss and returned the model; numpy's sign keeps NaN.
    rng = np.random.RandomState(0)
    Xa = rng.randn(40, 3) * 100
    est = TorchMLPRegressor(hidden_layer_sizes=(4,), loss="absolute_error", solver="asgd",
                            max_iter=10, learning_rate_init=0.1, batch_size=2, random_state=0)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        est.fit(Xa, Xa[:, 0] / 100)


@pytest.mark.parametrize("activation", ["relu", "a class"])
def test_huge_weights_report_the_loss_on_every_path(regression, activation):
    # A class trains through autograd, which multiplied the weights into the
    # losses before normalising them: 1e36 * loss overflowed float32 to inf.
    class ReLU(torch.nn.ReLU):
        pass

    Xr, yr = regression
    est = TorchMLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0,
                            activation=ReLU if activation == "a class" else "relu")
    reference = TorchMLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    est.fit(Xr, yr * 10, sample_weight=np.full(len(yr), 1e36))
    reference.fit(Xr, yr * 10)
    np.testing.assert_allclose(est.loss_curve_, reference.loss_curve_, rtol=1e-5)


def test_an_unusable_device_is_reported_as_a_device_error():
    class Act(torch.nn.Module):
        def forward(self, x):
            return torch.relu(x)

    if torch.backends.mps.is_available():
        pytest.skip("MPS is available here")
    with pytest.raises(ValueError, match="MPS is not available"):
        TorchMLPClassifier((4,), Act, device="mps", max_iter=1).fit(X, y)


def _raised(fit):
    """``(type, message)`` of what ``fit()`` raises, and the warnings before it."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(Exception) as info:
            fit()
    return type(info.value), str(info.value), [type(w.message) for w in caught]


def _sklearn_pair(name):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    return {"clf": (MLPClassifier, TorchMLPClassifier),
            "reg": (MLPRegressor, TorchMLPRegressor)}[name]


@pytest.mark.parametrize("case", ["1-D X", "column y", "zero weights"])
def test_partial_fit_with_early_stopping_checks_its_inputs_first_like_sklearn(case):
    rng = np.random.RandomState(0)
    Xr = rng.normal(size=(20, 2))
    yr = Xr @ [1.0, 2.0]
    args, kwargs = {"1-D X": ((Xr[:, 0], yr), {}), "column y": ((Xr, yr[:, None]), {}),
                    "zero weights": ((Xr, yr), {"sample_weight": np.zeros(20)})}[case]
    outcomes = [_raised(lambda c=cls: c(early_stopping=True).partial_fit(*args, **kwargs))
                for cls in _sklearn_pair("reg")]
    assert outcomes[0] == outcomes[1]


def test_validation_weights_all_zero_get_sklearns_error():
    rng = np.random.RandomState(0)
    Xr = rng.normal(size=(20, 2))
    yr = Xr @ [1.0, 2.0]
    w = np.zeros(20)
    w[[0, 2, 3, 8, 9, 11, 14, 18, 19]] = 1  # the 4 validation rows get none
    outcomes = [
        _raised(lambda c=cls: c(hidden_layer_sizes=(3,), early_stopping=True,
                                validation_fraction=0.2, max_iter=2,
                                random_state=0).fit(Xr, yr, sample_weight=w))[:2]
        for cls in _sklearn_pair("reg")
    ]
    assert outcomes[0] == outcomes[1] == (
        ValueError, "Sample weights must contain at least one non-zero number.")


def test_too_few_members_for_the_split_are_named_like_sklearn():
    yb = np.array([0] * 19 + [1])
    Xb = np.random.RandomState(0).normal(size=(20, 2))
    outcomes = [_raised(lambda c=cls: c(early_stopping=True).fit(Xb, yb))[:2]
                for cls in _sklearn_pair("clf")]
    assert outcomes[0] == outcomes[1] and "['True']" in outcomes[1][1]


@pytest.mark.parametrize("bad", [{"activation": "nope"}, {"alpha": -1}, {"batch_size": 0},
                                 {"learning_rate_init": float("nan")},
                                 {"compute_dtype": "float16"}])
def test_partial_fit_checks_parameters_set_since_fitting(bad):
    # scikit-learn checks parameters in fit and a first partial_fit only: a
    # value set later gave a KeyError from deep inside, or trained.
    est = TorchMLPClassifier((4,), max_iter=3, random_state=0).fit(X, y)
    before = est.coefs_
    est.set_params(**bad)
    with pytest.raises(InvalidParameterError, match=f"The '{next(iter(bad))}' parameter"):
        est.partial_fit(X, y)
    for a, b in zip(est.coefs_, before):
        np.testing.assert_array_equal(a, b)
