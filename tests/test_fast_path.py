"""The hand-derived training step gives the same model as the general autograd path."""

import numpy as np
import pytest
import torch
from _activations import ACTIVATION_CASES, IDS
from _targets import TARGETS, X
from sklearn.neural_network import MLPClassifier

import sknn._estimator_base as base
from sknn import TorchMLPClassifier, TorchMLPRegressor
from sknn._engine import TensorData
from sknn._fast_mlp import ManualMLPGrad
from sknn._lbfgs import _torch_objective
from sknn._losses import make_loss
from sknn._pointwise import as_rule

rng = np.random.RandomState(1)


def _fit(monkeypatch, fast, Estimator, y, sample_weight=None, **params):
    monkeypatch.setattr(base, "_FAST_PATH", fast)
    # The torch step is under test here; tests/test_numpy_path.py compares the numpy one.
    monkeypatch.setattr(base, "_NUMPY_PATH", False)
    if Estimator is TorchMLPRegressor and y.ndim == 1:
        params.setdefault("loss", "poisson")
    params = {"hidden_layer_sizes": (7, 6), "max_iter": 15, "batch_size": 32, "random_state": 0,
              "compute_dtype": "float64", "alpha": 1e-2, **params}
    return Estimator(**params).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=IDS)
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_fast_path_equals_autograd(monkeypatch, target, case, solver):
    Estimator, y = TARGETS[target]
    _, activation, kwargs, _ = case
    params = {"activation": activation, "activation_kwargs": kwargs, "solver": solver}
    fast = _fit(monkeypatch, True, Estimator, y, **params)
    slow = _fit(monkeypatch, False, Estimator, y, **params)
    np.testing.assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=1e-9)
    for a, b in zip(fast.coefs_ + fast.intercepts_, slow.coefs_ + slow.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


# Activations whose numpy kernels the torch step runs on few CPU threads
# (Pointwise.numpy_threads): the test above, on one thread, trains with those.
NUMPY_KERNEL_CASES = [c for c in ACTIVATION_CASES if as_rule(c[1], c[2]).numpy_threads]


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("case", NUMPY_KERNEL_CASES, ids=[c[0] for c in NUMPY_KERNEL_CASES])
def test_fast_path_with_torch_kernels_equals_autograd(monkeypatch, target, case):
    """The same activations with torch's kernels, as on many threads or a GPU."""
    Estimator, y = TARGETS[target]
    _, activation, kwargs, _ = case
    rule = as_rule(activation, kwargs)
    assert rule.numpy_threads > 0
    params = {"activation": activation, "activation_kwargs": kwargs}
    before = rule.numpy_threads
    object.__setattr__(rule, "numpy_threads", 0)  # a frozen dataclass, shared
    try:
        fast = _fit(monkeypatch, True, Estimator, y, **params)
    finally:
        object.__setattr__(rule, "numpy_threads", before)
    slow = _fit(monkeypatch, False, Estimator, y, **params)
    np.testing.assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=1e-9)
    for a, b in zip(fast.coefs_ + fast.intercepts_, slow.coefs_ + slow.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


DROPOUTS = [0.2, [0.3, 0.0], [0.0, 0.5]]


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("dropout", DROPOUTS, ids=str)
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_fast_path_with_dropout_equals_autograd(monkeypatch, target, dropout, activation):
    # The masks come from the module's generator in the module's order: same model.
    Estimator, y = TARGETS[target]
    params = {"activation": activation, "dropout": dropout}
    fast = _fit(monkeypatch, True, Estimator, y, **params)
    slow = _fit(monkeypatch, False, Estimator, y, **params)
    np.testing.assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=1e-9)
    for a, b in zip(fast.coefs_ + fast.intercepts_, slow.coefs_ + slow.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_fast_path_with_sample_weights_and_float32(monkeypatch):
    Estimator, y = TARGETS["multiclass"]
    sw = rng.uniform(0.5, 2, len(y))
    models = []
    for fast in (True, False):
        monkeypatch.setattr(base, "_FAST_PATH", fast)
        models.append(TorchMLPClassifier((8,), max_iter=10, random_state=0).fit(X, y, sw))
    np.testing.assert_allclose(models[0].predict_proba(X), models[1].predict_proba(X),
                               atol=1e-5)


def test_fast_path_is_used_for_plain_networks_only():
    Estimator, y = TARGETS["multiclass"]
    est = TorchMLPClassifier((4,), max_iter=1).fit(X, y)
    weights = [layer.weight for layer in est.module_.linear_layers()]
    loss_fn = lambda *a: None  # noqa: E731 (only passed through)
    assert hasattr(est._training_step(loss_fn, weights), "grad_fn")
    for params in ({"activation": "gelu"}, {"dropout": [0.2, 0.0]}):
        est = TorchMLPClassifier((4, 3), max_iter=1, **params).fit(X, y)
        weights = [layer.weight for layer in est.module_.linear_layers()]
        assert hasattr(est._training_step(loss_fn, weights), "grad_fn"), params
    for params in ({"normalization": "layer"}, {"normalization": "batch", "dropout": 0.1},
                   {"activation": "prelu"}, {"activation": "prelu", "normalization": "layer"}):
        est = TorchMLPClassifier((4, 3), max_iter=1, **params).fit(X, y)
        weights = [layer.weight for layer in est.module_.linear_layers()]
        assert hasattr(est._training_step(loss_fn, weights), "grad_fn"), params
    for params in ({"activation": torch.nn.Hardshrink},  # no closed form
                   # RReLU draws from a generator only while the estimator trains.
                   {"activation": "rrelu"},
                   # The mixed-precision step has plain networks only.
                   {"normalization": "layer", "autocast": "bfloat16"},
                   {"activation": "prelu", "autocast": "bfloat16"}):
        est = TorchMLPClassifier((4,), max_iter=1, **params).fit(X, y)
        weights = [layer.weight for layer in est.module_.linear_layers()]
        assert not hasattr(est._training_step(loss_fn, weights), "grad_fn"), params
    reg = TorchMLPRegressor(hidden_layer_sizes=(4,), loss="huber", max_iter=1)
    reg.fit(X, X[:, 0])
    weights = [layer.weight for layer in reg.module_.linear_layers()]
    assert hasattr(reg._training_step(loss_fn, weights), "grad_fn")


def _assert_same_state(fast, slow):
    np.testing.assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=1e-9)
    sa, sb = fast.module_.state_dict(), slow.module_.state_dict()
    assert sa.keys() == sb.keys()
    for key in sb:
        # Atol: the bias in front of a BatchNorm has a zero gradient up to
        # round-off, which Adam turns into tiny steps that differ by path.
        np.testing.assert_allclose(sa[key].cpu(), sb[key].cpu(), rtol=1e-8, atol=1e-8,
                                   err_msg=key)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("normalization", ["batch", "layer"])
@pytest.mark.parametrize("params", [{}, {"activation": "tanh", "dropout": 0.2},
                                    {"activation": "identity", "solver": "sgd"},
                                    {"activation": "gelu", "early_stopping": True}],
                         ids=["relu", "tanh-dropout", "identity-sgd", "gelu-early"])
def test_fast_path_with_normalization_equals_autograd(monkeypatch, target, normalization,
                                                      params):
    # Running estimates and batch counts included (state_dict), and early
    # stopping's validation reads them in evaluation mode.
    Estimator, y = TARGETS[target]
    params = {**params, "normalization": normalization}
    fast = _fit(monkeypatch, True, Estimator, y, **params)
    slow = _fit(monkeypatch, False, Estimator, y, **params)
    _assert_same_state(fast, slow)


LAYERS = [{"activation": "prelu"}, {"activation": "prelu", "activation_kwargs": {"init": 0.1}},
          # One slope per unit (one count for every layer: equally wide layers).
          {"activation": "prelu", "activation_kwargs": {"num_parameters": 6},
           "hidden_layer_sizes": (6, 6)},
          {"activation": "rrelu"}, {"activation": "rrelu", "dropout": 0.2},
          {"activation": "rrelu", "activation_kwargs": {"lower": -0.2, "upper": 1.5}},
          {"activation": "prelu", "normalization": "batch"},
          {"activation": "rrelu", "normalization": "layer", "early_stopping": True}]


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("params", LAYERS, ids=lambda p: "-".join(map(str, p.values())))
def test_fast_path_with_prelu_and_rrelu_equals_autograd(monkeypatch, target, params):
    params = dict(params)
    Estimator, y = TARGETS[target]
    fast = _fit(monkeypatch, True, Estimator, y, **params)
    slow = _fit(monkeypatch, False, Estimator, y, **params)
    _assert_same_state(fast, slow)


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
@pytest.mark.parametrize("params", [{}, {"huber_delta": 0.3, "dropout": 0.1},
                                    {"normalization": "batch", "activation": "prelu"}],
                         ids=["plain", "delta-dropout", "batch-prelu"])
@pytest.mark.parametrize("outputs", [1, 2])
def test_fast_path_with_absolute_and_huber_losses_equals_autograd(monkeypatch, loss, params,
                                                                   outputs):
    y = TARGETS["squared_error"][1][:, :outputs].squeeze()
    sw = rng.uniform(0.5, 2, len(y)) if outputs == 2 else None
    models = [_fit(monkeypatch, fast, TorchMLPRegressor, y, sw, loss=loss, **params)
              for fast in (True, False)]
    _assert_same_state(*models)


# Dropout and RReLU are refused with lbfgs (tests/test_validation.py).
LBFGS_CASES = [{}, {"activation": "tanh"}, {"activation": "gelu"},
               {"normalization": "batch"}, {"normalization": "layer", "activation": "prelu"}]


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("params", LBFGS_CASES, ids=str)
def test_lbfgs_closed_form_objective_equals_autograd(monkeypatch, target, params):
    # The torch closed form (networks too large for the numpy objective) against autograd:
    # BatchNorm's running estimates advance at every evaluation on both, and are then
    # set at the solution. L-BFGS amplifies round-off: few iterations.
    Estimator, y = TARGETS[target]
    params = {"solver": "lbfgs", "max_iter": 8, **params}
    sw = np.random.RandomState(3).uniform(0.5, 2.0, size=len(X))
    fast = _fit(monkeypatch, True, Estimator, y, sample_weight=sw, **params)
    slow = _fit(monkeypatch, False, Estimator, y, sample_weight=sw, **params)
    _assert_same_lbfgs_fit(fast, slow)


def _assert_same_lbfgs_fit(fast, slow):
    assert fast.n_iter_ == slow.n_iter_ > 1
    # No loss_curve_ with lbfgs (as in scikit-learn); history_ has the losses.
    np.testing.assert_allclose([r["loss"] for r in fast.history_],
                               [r["loss"] for r in slow.history_], rtol=1e-7)
    assert fast.loss_ == pytest.approx(slow.loss_, rel=1e-7)
    sa, sb = fast.module_.state_dict(), slow.module_.state_dict()
    assert sa.keys() == sb.keys()
    for key in sb:
        np.testing.assert_allclose(sa[key].cpu(), sb[key].cpu(), rtol=1e-6, atol=1e-8,
                                   err_msg=key)


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_lbfgs_closed_form_objective_with_other_losses_equals_autograd(monkeypatch, loss):
    y = np.c_[TARGETS["squared_error"][1], rng.normal(size=len(X))]
    fast = _fit(monkeypatch, True, TorchMLPRegressor, y, solver="lbfgs", max_iter=8, loss=loss)
    slow = _fit(monkeypatch, False, TorchMLPRegressor, y, solver="lbfgs", max_iter=8, loss=loss)
    _assert_same_lbfgs_fit(fast, slow)


@pytest.mark.parametrize("params", [{"loss": "squared_error"}, {"loss": "huber"},
                                    {"loss": "squared_error", "normalization": "batch",
                                     "activation": "tanh", "alpha": 0.3}], ids=str)
def test_lbfgs_closed_form_objective_values_equal_autograds(monkeypatch, params):
    # scipy's line search reads the objective's value: compare it (and the gradient and the
    # reported loss, half the squared error averaged over the outputs) where it is evaluated.
    monkeypatch.setattr(base, "_NUMPY_PATH", False)
    y = np.c_[TARGETS["squared_error"][1], rng.normal(size=len(X))]
    est = TorchMLPRegressor(hidden_layer_sizes=(7, 6), solver="lbfgs", max_iter=2, random_state=0,
                            **params)
    est.fit(X, y)
    module = est.module_.train()
    sw = np.random.RandomState(3).uniform(0.5, 2.0, size=len(X))
    data = TensorData(*(torch.from_numpy(a).to(est.device_) for a in (X, y, sw)))
    k = y.shape[1]
    loss_fn = make_loss(est._loss_name(), k, **est._loss_kwargs())
    weights = [layer.weight for layer in module.linear_layers()]
    grad_fn = est._torch_gradient(weights)
    assert grad_fn is not None and grad_fn[1] == (1 / k if params["loss"] == "squared_error" else 1)
    runs, points = {}, None
    for name, closed_form in (("autograd", None), ("closed form", grad_fn)):
        last = {}
        fun, x0 = _torch_objective(module, loss_fn, est.alpha, weights, data, last, closed_form)
        if points is None:  # fun moves the parameters: x0 is the fitted ones only at first
            points = [x0, x0 + np.random.RandomState(4).normal(scale=0.1, size=x0.shape)]
        runs[name] = []
        for x in points:
            value, grad = fun(x)
            runs[name].append((value, grad, last["reported"]))
    for (va, ga, ra), (vc, gc, rc) in zip(runs["autograd"], runs["closed form"]):
        assert vc == pytest.approx(va, rel=1e-12)
        assert rc == pytest.approx(ra, rel=1e-12)
        np.testing.assert_allclose(gc, ga, rtol=1e-9, atol=1e-12)


def test_lbfgs_uses_the_closed_form_objective_where_numpy_does_not(monkeypatch):
    monkeypatch.setattr(base, "_NUMPY_PATH", False)  # as for a large network
    est = TorchMLPClassifier((6,), solver="lbfgs", max_iter=2).fit(X, TARGETS["multiclass"][1])
    weights = [layer.weight for layer in est.module_.linear_layers()]
    assert est._numpy_gradient(weights, 1) is None
    grad_fn, scale = est._torch_gradient(weights)
    assert isinstance(grad_fn, ManualMLPGrad) and scale == 1.0
    est.set_params(activation=torch.nn.Hardshrink).fit(X, TARGETS["multiclass"][1])
    weights = [layer.weight for layer in est.module_.linear_layers()]
    assert est._torch_gradient(weights) is None  # no closed form: autograd


def test_fast_path_with_normalization_sample_weights_and_partial_fit(monkeypatch):
    Estimator, y = TARGETS["multiclass"]
    sw = rng.uniform(0.5, 2, len(y))
    models = [_fit(monkeypatch, fast, Estimator, y, sw, normalization="batch", max_iter=5)
              for fast in (True, False)]
    for est in models:  # on the path it was fitted on
        monkeypatch.setattr(base, "_FAST_PATH", est is models[0])
        est.partial_fit(X[:45], y[:45])
    _assert_same_state(*models)


@pytest.mark.parametrize("case", [*ACTIVATION_CASES, ("prelu", "prelu", None, None),
                                  ("rrelu", "rrelu", None, None)], ids=[*IDS, "prelu", "rrelu"])
@pytest.mark.parametrize("target", list(TARGETS))
def test_numpy_predict_equals_torch_predict(monkeypatch, target, case):
    import sknn._fitted_state as fitted_state

    Estimator, y = TARGETS[target]
    _, activation, kwargs, _ = case
    params = {"loss": "poisson"} if target == "poisson" else {}
    est = Estimator(hidden_layer_sizes=(6,), activation=activation, activation_kwargs=kwargs,
                    max_iter=5, random_state=0, **params).fit(X, y)
    methods = [est.predict_proba, est.predict] if hasattr(est, "predict_proba") else [est.predict]
    Xs = [X, X[:3], X[:3].astype(np.float32), np.repeat(X, 50, axis=0)]  # 4500 rows: chunks
    numpy_out = [[m(x) for x in Xs] for m in methods]
    monkeypatch.setattr(fitted_state, "_NUMPY_PREDICT", False)
    for m, outs in zip(methods, numpy_out):
        for x, out in zip(Xs, outs):
            rtol = 1e-6 if x.dtype == np.float32 else 1e-12
            expected = m(x)
            assert out.dtype == expected.dtype
            if out.dtype.kind == "f":
                np.testing.assert_allclose(out, expected, rtol=rtol, atol=1e-12)
            else:
                np.testing.assert_array_equal(out, expected)


def test_predict_sees_weights_changed_in_the_module():
    import torch

    Estimator, y = TARGETS["multiclass"]
    est = TorchMLPClassifier((4,), max_iter=3, random_state=0).fit(X, y)
    with torch.no_grad():
        est.module_.linear_layers()[-1].bias.copy_(torch.tensor([0.0, 0.0, 100.0]))
    assert (est.predict(X[:2]) == est.classes_[2]).all()
    assert (est.predict(X) == est.classes_[2]).all()


@pytest.mark.usefixtures("cpu_only")  # compared with scikit-learn to round-off
def test_default_adam_is_sklearns_and_an_adam_class_is_torchs():
    # The default solver uses LeanAdam (no torch.optim machinery) with
    # scikit-learn's rule; an Adam class passed as solver is used as given,
    # with torch's. A large epsilon shows the difference.
    Estimator, y = TARGETS["multiclass"]
    params = dict(hidden_layer_sizes=(8,), max_iter=20, batch_size=30, random_state=0,
                  epsilon=1e-3, compute_dtype="float64")
    lean = TorchMLPClassifier(**params).fit(X, y)
    full = TorchMLPClassifier(**params, solver=torch.optim.Adam,
                              optimizer_kwargs={"eps": 1e-3}).fit(X, y)
    sk = MLPClassifier(**{k: v for k, v in params.items() if k != "compute_dtype"}).fit(X, y)
    assert type(lean._optimizer).__name__ == "LeanAdam"
    assert type(full._optimizer) is torch.optim.Adam
    np.testing.assert_allclose(lean.loss_curve_, sk.loss_curve_, rtol=1e-12)
    assert np.abs(np.subtract(full.loss_curve_, sk.loss_curve_)).max() > 1e-4
    # Their states are interchangeable (torch's state_dict format).
    full._optimizer.load_state_dict(lean._optimizer.state_dict())
    lean._optimizer.load_state_dict(full._optimizer.state_dict())


def test_predict_uses_the_fitted_activation_not_a_changed_parameter():
    Estimator, y = TARGETS["multiclass"]
    est = TorchMLPClassifier((6,), max_iter=5, random_state=0).fit(X, y)
    expected = est.predict_proba(X[:3])
    est.set_params(activation="tanh", normalization="batch")  # not refitted
    np.testing.assert_array_equal(est.predict_proba(X[:3]), expected)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=IDS)
@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_mixed_precision_fast_path_equals_autograd_under_autocast(monkeypatch, target, case,
                                                                  dropout):
    # autocast="bfloat16": the hand-derived bfloat16 step against autograd under
    # torch.autocast. Most runs agree bit for bit; float32 round-off in the
    # loss or penalty can flip a bfloat16 rounding, and activations torch
    # composes from several bfloat16 operations (softsign, tanhshrink) round in
    # other places: at most 0.3% of the largest weight apart after 15 steps.
    # On a GPU, cuBLAS's bfloat16 products and autocast's CUDA rules (softplus
    # in float32) round in yet other places: a loss may differ by a bfloat16
    # rounding (2**-8 = 0.4%) more.
    # (tests/test_autocast.py checks the step against the autocast recipe.)
    Estimator, y = TARGETS[target]
    _, activation, kwargs, _ = case
    params = {"activation": activation, "activation_kwargs": kwargs, "dropout": dropout,
              "autocast": "bfloat16"}
    if Estimator is TorchMLPRegressor and y.ndim == 1:
        params["loss"] = "poisson"
    fits = []
    for fast in (True, False):
        monkeypatch.setattr(base, "_FAST_PATH", fast)
        monkeypatch.setattr(base, "_NUMPY_PATH", False)
        fits.append(Estimator(hidden_layer_sizes=(7, 6), max_iter=15, batch_size=32,
                              random_state=0, alpha=1e-2, **params).fit(X, y))
    fast, slow = fits
    rtol = 2e-3 if fast.device_.type == "cpu" else 1e-2
    np.testing.assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=rtol)
    for a, b in zip(fast.coefs_ + fast.intercepts_, slow.coefs_ + slow.intercepts_):
        np.testing.assert_allclose(a, b, rtol=0, atol=5e-3 * np.abs(b).max())


def test_mixed_precision_fast_path_is_used_for_plain_networks():
    from sknn._fast_mlp_mixed import MixedPrecisionMLPGrad

    Estimator, y = TARGETS["multiclass"]
    est = TorchMLPClassifier((6,), max_iter=2, autocast="bfloat16").fit(X, y)
    weights = [layer.weight for layer in est.module_.linear_layers()]
    assert isinstance(est._training_step(None, weights).grad_fn, MixedPrecisionMLPGrad)
    assert est._array_step(est._optimizer, weights, 1) is None  # numpy is full precision
