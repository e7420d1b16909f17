"""The numpy training step (small plain networks, Adam or SGD) gives the torch step's model."""

import pickle

import numpy as np
import pytest
import torch
from _activations import ACTIVATION_CASES, IDS
from _targets import TARGETS, X

import sknn._estimator_base as base
from sknn import TorchMLPClassifier
from sknn._numpy_mlp import NUMPY_MAX_WORK, NumpyMLPStep
from sknn._numpy_updates import FUSED_MIN_SIZE
from sknn._optimizers import STOCHASTIC

# The numpy step is a CPU path (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cpu_only")

rng = np.random.RandomState(1)
SW = rng.uniform(0.5, 2.0, size=90)


def _make(target, **params):
    Estimator, y = TARGETS[target]
    if target == "poisson":
        params["loss"] = "poisson"
    params = {"hidden_layer_sizes": (7, 6), "max_iter": 15, "batch_size": 32,
              "random_state": 0, "alpha": 1e-2, "tol": 0.0, "n_iter_no_change": 100, **params}
    return Estimator(**params), y


def _both_paths(monkeypatch, target, fit=lambda est, y: est.fit(X, y), **params):
    models = []
    for numpy_path in (True, False):
        monkeypatch.setattr(base, "_NUMPY_PATH", numpy_path)
        est, y = _make(target, **params)
        models.append(fit(est, y))
    return models


def _assert_same_model(a, b, rtol=1e-9, atol=1e-10):
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=rtol)
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=atol)
    # Adam's moments and step count were written back into the optimizer too.
    sa, sb = a._optimizer.state_dict()["state"], b._optimizer.state_dict()["state"]
    for i in sb:
        assert float(sa[i]["step"]) == float(sb[i]["step"])
        for key in ("exp_avg", "exp_avg_sq"):
            np.testing.assert_allclose(sa[i][key].numpy(), sb[i][key].numpy(), rtol=rtol,
                                       atol=atol)


def _assert_same_sgd_state(a, b):
    sa, sb = a._optimizer.state_dict()["state"], b._optimizer.state_dict()["state"]
    assert sa.keys() == sb.keys()
    for i in sb:
        np.testing.assert_allclose(sa[i]["velocity"].numpy(), sb[i]["velocity"].numpy(),
                                   rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=IDS)
def test_numpy_step_equals_torch_step(monkeypatch, target, case):
    # Shuffled mini-batches, a ragged last batch, L2 penalty, float64.
    _, activation, kwargs, _ = case
    numpy_fit, torch_fit = _both_paths(monkeypatch, target, activation=activation,
                                       activation_kwargs=kwargs, compute_dtype="float64")
    assert numpy_fit.n_iter_ == 15
    _assert_same_model(numpy_fit, torch_fit)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("dropout", [0.2, [0.0, 0.5]], ids=str)
@pytest.mark.parametrize("activation", ["tanh", "silu"])
def test_numpy_step_with_dropout_equals_torch_step(monkeypatch, target, dropout, activation):
    numpy_fit, torch_fit = _both_paths(monkeypatch, target, activation=activation,
                                       dropout=dropout, compute_dtype="float64")
    _assert_same_model(numpy_fit, torch_fit)


def test_numpy_step_with_the_fused_adam_kernel_equals_torch_step(monkeypatch):
    # (64, 32) has more than FUSED_MIN_SIZE parameters: Adam runs as torch's
    # fused kernel on the flat arrays; then training resumes with partial_fit.
    def fit_then_resume(est, y):
        est.fit(X, y)
        return est.partial_fit(X, y)

    a, b = _both_paths(monkeypatch, "multiclass", fit=fit_then_resume,
                       hidden_layer_sizes=(64, 32), compute_dtype="float64")
    assert a._n_weights() > FUSED_MIN_SIZE
    _assert_same_model(a, b)


ADAM_VARIANTS = [
    {"solver": "adamw"},
    {"solver": "adamw", "optimizer_kwargs": {"weight_decay": 0.1}, "hidden_layer_sizes": (64, 32)},
    {"optimizer_kwargs": {"weight_decay": 0.05}},
    {"optimizer_kwargs": {"weight_decay": 0.05, "decoupled_weight_decay": True}},
]


@pytest.mark.parametrize("target", ["multiclass", "squared_error"])
@pytest.mark.parametrize("settings", ADAM_VARIANTS, ids=str)
def test_numpy_adam_variants_equal_torch_step(monkeypatch, target, settings):
    # AdamW, and Adam with weight decay (torch's classes, compiler-free twins):
    # ufuncs below FUSED_MIN_SIZE parameters, torch's fused kernel above.
    a, b = _both_paths(monkeypatch, target, compute_dtype="float64", **settings)
    _assert_same_model(a, b)
    monkeypatch.setattr(base, "_NUMPY_PATH", True)
    assert isinstance(_array_step(a, TARGETS[target][1]), NumpyMLPStep)


@pytest.mark.parametrize("target", ["multiclass", "squared_error"])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("scheduler", ["step", "cosine", "onecycle", "plateau"])
def test_numpy_step_with_lr_schedulers_equals_torch_step(monkeypatch, target, solver, scheduler):
    # The schedulers change param_groups' lr; the numpy updates read it at each step.
    import warnings

    with warnings.catch_warnings():
        # torch's warnings about the order of optimizer.step() and lr_scheduler.step()
        warnings.filterwarnings("error", message=".*optimizer.step()")
        a, b = _both_paths(monkeypatch, target, compute_dtype="float64", solver=solver,
                           lr_scheduler=scheduler, early_stopping=scheduler == "plateau")
    np.testing.assert_allclose([r["lr"] for r in a.history_], [r["lr"] for r in b.history_])
    if solver == "sgd":
        _assert_same_sgd_state(a, b)
        for u, v in zip(a.coefs_, b.coefs_):
            np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-10)
    else:
        _assert_same_model(a, b)


# Every torch.optim solver with a numpy update, with settings that take each branch
# of its step (lerp's two formulas, centering, momentum, decoupled decay, RAdam's
# warm-up then rectified steps, ASGD's averaging from step t0 on).
TWIN_SETTINGS = [
    {"solver": "rmsprop"},
    {"solver": "rmsprop", "optimizer_kwargs": {"weight_decay": 0.01, "alpha": 0.9}},
    {"solver": "rmsprop", "optimizer_kwargs": {"momentum": 0.9}},
    {"solver": "rmsprop", "optimizer_kwargs": {"centered": True, "alpha": 0.3}},
    {"solver": "rmsprop", "optimizer_kwargs": {"centered": True, "momentum": 0.5,
                                               "weight_decay": 0.01}},
    {"solver": "adagrad", "learning_rate_init": 0.05},
    {"solver": "adagrad", "learning_rate_init": 0.05,
     "optimizer_kwargs": {"lr_decay": 0.01, "initial_accumulator_value": 0.1,
                          "weight_decay": 0.01}},
    {"solver": "adadelta", "learning_rate_init": 1.0},
    {"solver": "adadelta", "optimizer_kwargs": {"rho": 0.4, "weight_decay": 0.01}},
    {"solver": "adamax"},
    {"solver": "adamax", "beta_1": 0.3, "optimizer_kwargs": {"weight_decay": 0.01}},
    {"solver": "nadam"},
    {"solver": "nadam", "beta_1": 0.3, "optimizer_kwargs": {"momentum_decay": 0.01,
                                                            "weight_decay": 0.01}},
    {"solver": "nadam", "optimizer_kwargs": {"decoupled_weight_decay": True,
                                             "weight_decay": 0.1}},
    {"solver": "radam"},
    {"solver": "radam", "beta_2": 0.9, "optimizer_kwargs": {"weight_decay": 0.01}},
    {"solver": "radam", "optimizer_kwargs": {"decoupled_weight_decay": True,
                                             "weight_decay": 0.1}},
    {"solver": "asgd", "learning_rate_init": 0.05},
    {"solver": "asgd", "learning_rate_init": 0.05,
     "optimizer_kwargs": {"t0": 10, "lambd": 1e-3, "alpha": 0.5, "weight_decay": 0.01}},
    {"beta_1": 0.3},  # the default Adam, lerp's second formula
]


@pytest.mark.parametrize("target", ["multiclass", "binary", "squared_error"])
@pytest.mark.parametrize("settings", TWIN_SETTINGS, ids=str)
def test_numpy_optimizer_updates_equal_torch_step(monkeypatch, target, settings):
    # fit, then partial_fit on the other path: the state is torch's layout both ways.
    def fit_then_resume(est, y):
        est.fit(X, y)
        monkeypatch.setattr(base, "_NUMPY_PATH", not base._NUMPY_PATH)
        return est.partial_fit(X, y)

    a, b = _both_paths(monkeypatch, target, fit=fit_then_resume, compute_dtype="float64",
                       **settings)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-9)
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-10)
    sa, sb = a._optimizer.state_dict()["state"], b._optimizer.state_dict()["state"]
    assert sa.keys() == sb.keys()
    for i in sb:
        assert sa[i].keys() == sb[i].keys()
        for key in sb[i]:
            np.testing.assert_allclose(sa[i][key].numpy(), sb[i][key].numpy(), rtol=1e-9,
                                       atol=1e-12)
    monkeypatch.setattr(base, "_NUMPY_PATH", True)
    assert isinstance(_array_step(a, TARGETS[target][1]), NumpyMLPStep)


@pytest.mark.parametrize("solver", sorted({p["solver"] for p in TWIN_SETTINGS if "solver" in p}))
@pytest.mark.parametrize("scheduler", ["cosine", "onecycle"])
def test_numpy_optimizer_updates_follow_lr_schedulers(monkeypatch, solver, scheduler):
    # The updates read lr (and the betas or momentum OneCycleLR cycles) at every step.
    kwargs = None
    if scheduler == "onecycle" and solver in ("adadelta", "adagrad", "asgd"):
        kwargs = {"cycle_momentum": False}  # they have no momentum or betas to cycle
    a, b = _both_paths(monkeypatch, "multiclass", compute_dtype="float64", solver=solver,
                       lr_scheduler=scheduler, lr_scheduler_kwargs=kwargs)
    np.testing.assert_allclose([r["lr"] for r in a.history_], [r["lr"] for r in b.history_])
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-9)
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("solver", sorted({p["solver"] for p in TWIN_SETTINGS if "solver" in p}))
def test_numpy_optimizer_updates_in_float32(monkeypatch, solver):
    # The default compute dtype: the two paths agree to float32 round-off.
    a, b = _both_paths(monkeypatch, "multiclass", solver=solver)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-5)
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("loss", [{"loss": "absolute_error"}, {"loss": "huber"},
                                  {"loss": "huber", "huber_delta": 0.3}], ids=str)
@pytest.mark.parametrize("extra", [{}, {"activation": "tanh", "dropout": 0.2},
                                   {"normalization": "batch"}], ids=str)
@pytest.mark.parametrize("fit", ["two outputs", "one output", "sample weights"])
def test_numpy_step_with_l1_and_huber_losses_equals_autograd(monkeypatch, loss, extra, fit):
    # The torch path has no hand-derived gradient for these losses: autograd.
    fits = {"two outputs": lambda est, y: est.fit(X, y),
            "one output": lambda est, y: est.fit(X, y[:, 0]),
            "sample weights": lambda est, y: est.fit(X, y, sample_weight=SW)}
    a, b = _both_paths(monkeypatch, "squared_error", fit=fits[fit], compute_dtype="float64",
                       **loss, **extra)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-9)
    # Biases in front of BatchNorm take round-off steps (tests/test_numpy_norm.py).
    atol = 1e-8 if extra.get("normalization") else 1e-10
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(u, v, rtol=1e-9, atol=atol)
    monkeypatch.setattr(base, "_NUMPY_PATH", True)
    assert isinstance(_array_step(a, TARGETS["squared_error"][1]), NumpyMLPStep)


SGD_SETTINGS = [
    {"learning_rate": "constant"},
    {"learning_rate": "invscaling", "learning_rate_init": 0.05},
    {"learning_rate": "adaptive", "tol": 1e-2, "n_iter_no_change": 2},
    {"nesterovs_momentum": False, "momentum": 0.5},
    {"optimizer_kwargs": {"weight_decay": 1e-3}},
]


@pytest.mark.parametrize("target", ["multiclass", "squared_error"])
@pytest.mark.parametrize("settings", SGD_SETTINGS, ids=lambda p: str(p))
def test_numpy_sgd_step_equals_torch_sgd_step(monkeypatch, target, settings):
    numpy_fit, torch_fit = _both_paths(monkeypatch, target, solver="sgd",
                                       compute_dtype="float64", **settings)
    _assert_same_sgd_state(numpy_fit, torch_fit)
    np.testing.assert_allclose(numpy_fit.loss_curve_, torch_fit.loss_curve_, rtol=1e-9)
    for u, v in zip(numpy_fit.coefs_ + numpy_fit.intercepts_,
                    torch_fit.coefs_ + torch_fit.intercepts_):
        np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-10)
    assert numpy_fit._optimizer.param_groups[0]["lr"] == torch_fit._optimizer.param_groups[0]["lr"]


@pytest.mark.parametrize("target", ["multiclass", "squared_error"])
def test_numpy_step_with_sample_weights_full_batch_and_float32(monkeypatch, target):
    fit = lambda est, y: est.fit(X, y, sample_weight=SW)  # noqa: E731
    a, b = _both_paths(monkeypatch, target, fit=fit, compute_dtype="float64",
                       batch_size=len(X))
    _assert_same_model(a, b)
    a, b = _both_paths(monkeypatch, target, fit=fit)  # float32: round-off apart
    _assert_same_model(a, b, rtol=1e-4, atol=1e-5)


def test_numpy_step_with_early_stopping(monkeypatch):
    a, b = _both_paths(monkeypatch, "multiclass", compute_dtype="float64", early_stopping=True,
                       max_iter=25, learning_rate_init=0.05, n_iter_no_change=3, tol=1e-4)
    np.testing.assert_allclose(a.validation_scores_, b.validation_scores_)
    assert a.n_iter_ == b.n_iter_ < 25  # stopped early, and the best weights restored
    _assert_same_model(a, b)


@pytest.mark.parametrize("target", ["multiclass", "multilabel", "squared_error"])
def test_numpy_validation_with_dropout_and_sample_weights(monkeypatch, target):
    # The numpy path scores the validation split with its own forward pass (no
    # dropout draws, as the module in eval mode) and syncs the module only to
    # copy the best weights: same scores, same stop, same restored weights.
    fit = lambda est, y: est.fit(X, y, sample_weight=SW)  # noqa: E731
    a, b = _both_paths(monkeypatch, target, fit=fit, compute_dtype="float64",
                       early_stopping=True, dropout=0.2, max_iter=40, learning_rate_init=0.05,
                       n_iter_no_change=3, tol=1e-4)
    np.testing.assert_allclose(a.validation_scores_, b.validation_scores_, rtol=1e-9)
    np.testing.assert_allclose([r["val_loss"] for r in a.history_],
                               [r["val_loss"] for r in b.history_], rtol=1e-9)
    assert a.n_iter_ == b.n_iter_
    _assert_same_model(a, b)


def test_numpy_step_partial_fit_and_pickle_resume(monkeypatch):
    def stream(est, y):
        for part in np.array_split(np.arange(len(X)), 3):
            est.partial_fit(X[part], y[part], classes=np.unique(y))
        est = pickle.loads(pickle.dumps(est))
        return est.partial_fit(X, y)

    a, b = _both_paths(monkeypatch, "multiclass", fit=stream, compute_dtype="float64",
                       batch_size=16)
    _assert_same_model(a, b)


def test_predictions_follow_weights_trained_by_the_numpy_step():
    # The float64 layer cache used for small predictions must see the new weights.
    est, y = _make("multiclass", max_iter=1)
    est.partial_fit(X, y, classes=np.unique(y))
    before = est.predict_proba(X[:4])
    est.partial_fit(X, y)
    after = est.predict_proba(X[:4])
    assert not np.allclose(before, after)
    h = X[:4]
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_)):
        h = h @ W + b
        if i < len(est.coefs_) - 1:
            h = np.maximum(h, 0)
    expected = np.exp(h - h.max(1, keepdims=True))
    np.testing.assert_allclose(after, expected / expected.sum(1, keepdims=True), rtol=1e-5)


def test_numpy_step_leaves_the_module_in_evaluation_mode(monkeypatch):
    """The numpy step does not switch the module's mode, so a module put in
    training mode by hand is still switched back (dropout off at predict time)."""
    calls, sync = [], NumpyMLPStep.sync

    def spy(step):
        calls.append(step)
        sync(step)

    monkeypatch.setattr(NumpyMLPStep, "sync", spy)  # proves the numpy step trained
    est, y = _make("multiclass", max_iter=2, dropout=0.3)
    est.partial_fit(X, y, classes=np.unique(y))
    assert calls and not any(m.training for m in est.module_.modules())
    est.module_.train()
    est.partial_fit(X, y)
    assert not any(m.training for m in est.module_.modules())
    np.testing.assert_array_equal(est.predict_proba(X[:5]), est.predict_proba(X[:5]))


def _array_step(est, y):
    est.fit(X, y)
    weights = [layer.weight for layer in est.module_.linear_layers()]
    batch = min(200, len(X)) if est.batch_size == "auto" else est.batch_size
    return est._array_step(est._optimizer, weights, batch * est._n_weights())


def test_numpy_step_is_used_only_where_it_applies():
    y = TARGETS["multiclass"][1]
    for solver in sorted(STOCHASTIC):  # every named solver but lbfgs, with its defaults
        est = TorchMLPClassifier((8,), max_iter=2, solver=solver)
        assert isinstance(_array_step(est, y), NumpyMLPStep), solver
    for params in ({"activation": "gelu"}, {"activation": torch.nn.SiLU},
                   {"activation": "elu", "activation_kwargs": {"alpha": 0.5}},
                   {"dropout": 0.1}, {"lr_scheduler": "step"},
                   {"solver": "sgd", "lr_scheduler": "cosine"}, {"solver": "adamw"},
                   {"normalization": "layer"}, {"normalization": "batch"},
                   {"activation": "prelu"}):
        est = TorchMLPClassifier((8,), max_iter=2, **params)
        assert isinstance(_array_step(est, y), NumpyMLPStep), params
    not_eligible = [
        {"solver": torch.optim.RMSprop},  # a class passed as solver is used as given
        {"solver": "nadam", "optimizer_kwargs": {"maximize": True}},  # another step
        {"solver": "adagrad", "optimizer_kwargs": {"fused": True}},
        {"optimizer_kwargs": {"amsgrad": True}},  # torch.optim.Adam, not LeanAdam
        {"activation": torch.nn.Hardshrink},  # no closed form
    ]
    for params in not_eligible:
        est = TorchMLPClassifier(**{"hidden_layer_sizes": (8,), "max_iter": 2, **params})
        assert _array_step(est, y) is None, params
    # Big enough for torch's kernels to win: the torch step, whatever the layers.
    assert 90 * (5 * 1024 + 1024 * 1024 + 1024 * 3) > NUMPY_MAX_WORK
    for params in ({}, {"dropout": 0.1}, {"solver": "nadam"}, {"normalization": "layer"},
                   {"normalization": "batch", "activation": "prelu"},
                   {"target": "squared_error", "loss": "huber"}):
        params = dict(params)
        Estimator, big_y = TARGETS[params.pop("target", "multiclass")]
        big = Estimator(hidden_layer_sizes=(1024, 1024), max_iter=1, **params)
        assert _array_step(big, big_y) is None, params
        weights = [layer.weight for layer in big.module_.linear_layers()]
        assert hasattr(big._training_step(None, weights), "grad_fn"), params


# -- solver="lbfgs": scipy's iterations on the numpy objective ------------------------------


def _assert_same_lbfgs_model(a, b, rtol=1e-7):
    assert a.n_iter_ == b.n_iter_
    # No loss_curve_ with lbfgs (as in scikit-learn); history_ has the losses.
    np.testing.assert_allclose([r["loss"] for r in a.history_],
                               [r["loss"] for r in b.history_], rtol=rtol)
    assert a.loss_ == pytest.approx(b.loss_, rel=rtol)
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=1e-9)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=IDS)
def test_numpy_lbfgs_equals_torch_lbfgs(monkeypatch, target, case):
    # L-BFGS amplifies round-off over its iterations: few of them, tight tolerance.
    _, activation, kwargs, _ = case
    numpy_fit, torch_fit = _both_paths(monkeypatch, target, solver="lbfgs", max_iter=12,
                                       activation=activation, activation_kwargs=kwargs)
    assert numpy_fit.n_iter_ > 1
    _assert_same_lbfgs_model(numpy_fit, torch_fit)


@pytest.mark.parametrize("target", ["multiclass", "binary", "squared_error"])
def test_numpy_lbfgs_with_sample_weights_and_warm_start(monkeypatch, target):
    def fit(est, y):
        est.fit(X, y, sample_weight=SW)
        return est.set_params(warm_start=True, max_iter=5).fit(X, y, sample_weight=SW)

    a, b = _both_paths(monkeypatch, target, fit=fit, solver="lbfgs", max_iter=10)
    _assert_same_lbfgs_model(a, b)


@pytest.mark.parametrize("params", [
    {"normalization": "batch"}, {"normalization": "layer"}, {"activation": "prelu"},
    {"loss": "absolute_error"}, {"loss": "huber", "huber_delta": 0.5},
], ids=str)
def test_numpy_lbfgs_with_the_numpy_steps_layers_and_losses(monkeypatch, params):
    # The other path is torch's closed form (tests/test_fast_path.py compares it with
    # autograd): BatchNorm's running estimates advance at every evaluation of the
    # objective on both, and are then set at the solution.
    target = "squared_error" if "loss" in params else "multiclass"
    a, b = _both_paths(monkeypatch, target, solver="lbfgs", max_iter=10, **params)
    assert a.n_iter_ > 1
    _assert_same_lbfgs_model(a, b, rtol=1e-6)
    monkeypatch.setattr(base, "_NUMPY_PATH", True)
    a.module_.set_generator(torch.Generator())  # as during fit (RReLU draws from it)
    weights = [layer.weight for layer in a.module_.linear_layers()]
    assert a._numpy_gradient(weights, len(X) * a._n_weights()) is not None
    if params.get("normalization") == "batch":
        for key, value in b.module_.state_dict().items():
            np.testing.assert_allclose(a.module_.state_dict()[key].numpy(), value.numpy(),
                                       rtol=1e-6, atol=1e-8, err_msg=key)


def test_numpy_lbfgs_is_used_only_where_it_applies():
    y = TARGETS["multiclass"][1]
    for params, expected in [({}, True), ({"activation": "gelu"}, True),
                             ({"activation": "prelu"}, True), ({"normalization": "batch"}, True),
                             ({"activation": torch.nn.Hardshrink}, False)]:
        est = TorchMLPClassifier(**{"hidden_layer_sizes": (8,), "max_iter": 2,
                                    "solver": "lbfgs", **params}).fit(X, y)
        weights = [layer.weight for layer in est.module_.linear_layers()]
        got = est._numpy_gradient(weights, len(X) * est._n_weights())
        assert (got is not None) == expected, params
    assert est._numpy_gradient(weights, NUMPY_MAX_WORK) is None  # big: torch's threads
