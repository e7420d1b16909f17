"""Each option really takes effect: layers, initial weights, learning rates, losses."""

import math
import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.neural_network import MLPClassifier
from sklearn.utils.class_weight import compute_sample_weight

from sknn import MLPModule, TorchMLPClassifier, TorchMLPRegressor
from sknn._activations import ACTIVATIONS, make_activation

LOSSES = sorted(TorchMLPRegressor._parameter_constraints["loss"][0].options)


# ---------------------------------------------------------------------------
# Activations
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_fitted_module_holds_the_named_activation_in_every_hidden_layer(activation, iris):
    est = TorchMLPClassifier((8, 6), activation, max_iter=1, random_state=0).fit(*iris)
    expected = type(make_activation(activation, None))
    acts = [m for m in est.module_.layers if type(m) is expected]
    assert len(acts) == 2
    # The output layer is a bare Linear: raw scores, no activation after it.
    assert isinstance(est.module_.layers[-1], torch.nn.Linear)


# ---------------------------------------------------------------------------
# Initialisation
def test_zeros_init_gives_zero_weights_and_biases():
    module = MLPModule(4, (8, 6), 3, init="zeros", random_state=0)
    for p in module.parameters():
        assert torch.count_nonzero(p) == 0


def test_zeros_init_estimator_starts_from_zero_weights(iris):
    est = TorchMLPClassifier(
        (8,), init="zeros", max_iter=1, learning_rate_init=1e-12, random_state=0
    ).fit(*iris)
    for coef, intercept in zip(est.coefs_, est.intercepts_):
        assert_allclose(coef, 0.0, atol=1e-8)
        assert_allclose(intercept, 0.0, atol=1e-8)


@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_sklearn_init_is_scikit_learns_glorot_draws_from_the_same_seed(activation):
    module = MLPModule(4, (8, 5), 3, activation=activation, random_state=0,
                       dtype=torch.float64)
    rng = np.random.RandomState(0)
    factor = 2.0 if activation == "logistic" else 6.0
    for layer, (fan_in, fan_out) in zip(module.linear_layers(), [(4, 8), (8, 5), (5, 3)]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = rng.uniform(-bound, bound, (fan_in, fan_out))
        intercept = rng.uniform(-bound, bound, fan_out)
        assert_array_equal(layer.weight.detach().numpy().T, coef)
        assert_array_equal(layer.bias.detach().numpy(), intercept)


@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_sklearn_init_matches_mlpclassifier_initial_coefs(activation, iris):
    # One SGD epoch at a negligible learning rate leaves both at their start.
    params = dict(hidden_layer_sizes=(8, 5), activation=activation, solver="sgd",
                  momentum=0.0, learning_rate_init=1e-12, max_iter=1, random_state=3)
    ref = MLPClassifier(**params).fit(*iris)
    est = TorchMLPClassifier(**params, compute_dtype="float64").fit(*iris)
    for a, b in zip(est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_):
        assert_allclose(a, b, rtol=0, atol=1e-9)


GAINS = {
    "relu": ({}, torch.nn.init.calculate_gain("relu")),
    "tanh": ({}, torch.nn.init.calculate_gain("tanh")),
    "selu": ({}, torch.nn.init.calculate_gain("selu")),
    "logistic": ({}, torch.nn.init.calculate_gain("sigmoid")),
    "leaky_relu": ({"negative_slope": 0.2}, torch.nn.init.calculate_gain("leaky_relu", 0.2)),
}
FAN = 256


def _first_weight(activation, init):
    kwargs, _ = GAINS[activation]
    module = MLPModule(FAN, (FAN,), 1, activation=activation, activation_kwargs=kwargs,
                       init=init, random_state=0, dtype=torch.float64)
    return module.linear_layers()[0].weight.detach().numpy()


@pytest.mark.parametrize("activation", sorted(GAINS))
def test_kaiming_uniform_bound_uses_the_activation_gain(activation):
    w = _first_weight(activation, "kaiming_uniform")
    bound = GAINS[activation][1] * math.sqrt(3 / FAN)
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.999 * bound


@pytest.mark.parametrize("activation", sorted(GAINS))
def test_xavier_uniform_bound_uses_the_activation_gain(activation):
    w = _first_weight(activation, "xavier_uniform")
    bound = GAINS[activation][1] * math.sqrt(6 / (FAN + FAN))
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.999 * bound


@pytest.mark.parametrize("activation", sorted(GAINS))
@pytest.mark.parametrize("init", ["kaiming_normal", "xavier_normal"])
def test_normal_inits_std_uses_the_activation_gain(init, activation):
    w = _first_weight(activation, init)
    scale = 1 / math.sqrt(FAN) if init == "kaiming_normal" else math.sqrt(2 / (FAN + FAN))
    # 65536 draws: the sample std is within ~0.3% of the truth.
    assert_allclose(w.std(), GAINS[activation][1] * scale, rtol=0.012)
    assert abs(w.mean()) < 0.05 * w.std()


def test_orthogonal_init_is_gain_times_orthogonal():
    w = _first_weight("tanh", "orthogonal")
    gain = GAINS["tanh"][1]
    assert_allclose(w @ w.T, gain**2 * np.eye(FAN), atol=1e-8)


def test_callable_init_is_seeded_by_random_state_and_called_once_per_layer(iris):
    # torch.nn.init functions draw from torch's global RNG: the fit seeds it
    # from random_state and puts the user's state back.
    X, y = iris
    calls = []

    def init(weight):
        calls.append(tuple(weight.shape))
        torch.nn.init.xavier_normal_(weight)

    state = torch.random.get_rng_state()
    fits = [TorchMLPClassifier((5,), init=init, max_iter=1, random_state=seed).fit(X, y).coefs_[0]
            for seed in (0, 0, 1)]
    assert torch.equal(torch.random.get_rng_state(), state)
    assert_array_equal(fits[0], fits[1])
    assert not np.array_equal(fits[0], fits[2])
    assert calls == [(5, 4), (3, 5)] * 3  # no extra call to try it out


class _DrawingActivation(torch.nn.Module):
    """An activation whose parameter is drawn from torch's global RNG."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.rand(1) + 0.5)

    def forward(self, x):
        return torch.relu(x) * self.scale


def test_activation_class_draws_are_seeded_by_random_state(iris, monkeypatch):
    X, y = iris
    reseeded = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", reseeded.append)
    state = torch.random.get_rng_state()
    scales = [float(TorchMLPClassifier((5,), _DrawingActivation, max_iter=1, random_state=seed)
                    .fit(X, y).module_.layers[1].scale) for seed in (0, 0, 1, 2)]
    assert torch.equal(torch.random.get_rng_state(), state)
    assert reseeded == []  # CUDA generators are not reseeded either
    assert scales[0] == scales[1] and len(set(scales[1:])) == 3
    # scikit-learn's initial weights do not depend on the activation's draws.
    plain = TorchMLPClassifier((5,), max_iter=1, learning_rate_init=1e-12, random_state=0)
    drawing = TorchMLPClassifier((5,), _DrawingActivation, max_iter=1, learning_rate_init=1e-12,
                                 random_state=0)
    assert_allclose(plain.fit(X, y).coefs_[0], drawing.fit(X, y).coefs_[0], atol=1e-9)


def test_random_inits_zero_the_biases():
    for init in ("xavier_uniform", "kaiming_normal", "orthogonal", "normal"):
        module = MLPModule(4, (8,), 2, init=init, random_state=0)
        assert all(torch.count_nonzero(layer.bias) == 0 for layer in module.linear_layers())


# ---------------------------------------------------------------------------
# Learning-rate schedules, as recorded in history_
LR0 = 0.01


def _lrs(X, y, max_iter=8, **params):
    params = {"hidden_layer_sizes": (4,), "max_iter": max_iter, "random_state": 0,
              "learning_rate_init": LR0, "n_iter_no_change": 1000, "batch_size": 50,
              **params}
    est = TorchMLPClassifier(**params).fit(X, y)
    assert len(est.history_) == max_iter
    return np.array([r["lr"] for r in est.history_]), est


def test_step_schedule_recorded_lr(iris):
    lrs, _ = _lrs(*iris, lr_scheduler="step", lr_scheduler_kwargs={"step_size": 3, "gamma": 0.5})
    assert_allclose(lrs, LR0 * 0.5 ** (np.arange(8) // 3), rtol=1e-6)


def test_step_schedule_default_halves_every_quarter_of_max_iter(iris):
    lrs, _ = _lrs(*iris, lr_scheduler="step")
    assert_allclose(lrs, LR0 * 0.5 ** (np.arange(8) // 2), rtol=1e-6)


def test_multistep_schedule_recorded_lr(iris):
    lrs, _ = _lrs(*iris, lr_scheduler="multistep",
                  lr_scheduler_kwargs={"milestones": [2, 5], "gamma": 0.1})
    assert_allclose(lrs, LR0 * np.array([1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01]), rtol=1e-6)


def test_exponential_schedule_recorded_lr(iris):
    lrs, _ = _lrs(*iris, lr_scheduler="exponential", lr_scheduler_kwargs={"gamma": 0.8})
    assert_allclose(lrs, LR0 * 0.8 ** np.arange(8), rtol=1e-6)


def test_cosine_schedule_anneals_over_max_iter(iris):
    lrs, _ = _lrs(*iris, lr_scheduler="cosine")
    expected = LR0 * (1 + np.cos(np.pi * np.arange(8) / 8)) / 2
    assert_allclose(lrs, expected, rtol=1e-5)


def test_onecycle_schedule_is_stepped_per_batch(iris):
    # 150 rows, batch_size=50: three optimizer steps per epoch.
    lrs, _ = _lrs(*iris, lr_scheduler="onecycle")
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=LR0)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR0, total_steps=8 * 3)
    expected = []
    for _ in range(8):
        expected.append(opt.param_groups[0]["lr"])
        for _ in range(3):
            opt.step()
            ref.step()
    assert_allclose(lrs, expected, rtol=1e-6)
    assert lrs[0] == pytest.approx(LR0 / 25)
    assert lrs.max() > 5 * lrs[0]


def test_onecycle_partial_fit_beyond_max_iter_holds_the_final_lr(iris):
    X, y = iris
    est = TorchMLPClassifier((4,), max_iter=3, batch_size=50, learning_rate_init=LR0,
                             lr_scheduler="onecycle", random_state=0)
    for _ in range(5):
        est.partial_fit(X, y, classes=[0, 1, 2])
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=LR0)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR0, total_steps=3 * 3)
    for _ in range(3 * 3 - 1):
        opt.step()
        ref.step()
    final = opt.param_groups[0]["lr"]
    lrs = [r["lr"] for r in est.history_]
    assert lrs[3:] == pytest.approx([final, final], rel=1e-6)


def test_onecycle_ends_its_cycle_when_batch_norm_merges_a_one_row_tail(iris):
    # 148 rows in batches of 7: 21 batches, the 22nd (one row) joins the 21st.
    X, y = iris
    est = TorchMLPClassifier((5,), lr_scheduler="onecycle", normalization="batch", batch_size=7,
                             max_iter=3, learning_rate_init=LR0, random_state=0)
    est.fit(X[:148], y[:148])
    scheduler = est._schedule.scheduler
    assert scheduler.total_steps == 3 * 21
    assert scheduler.last_epoch == scheduler.total_steps - 1  # the cycle's last point


def test_plateau_schedule_reduces_lr_after_a_stall(iris):
    # A threshold no loss can beat: every epoch after the first is a stall.
    lrs, _ = _lrs(*iris, lr_scheduler="plateau", lr_scheduler_kwargs={
        "patience": 2, "threshold": 1e9, "threshold_mode": "abs"})
    assert_allclose(lrs, LR0 * np.array([1, 1, 1, 1, 0.1, 0.1, 0.1, 0.01]), rtol=1e-6)


def test_plateau_schedule_watches_validation_score_with_early_stopping(iris):
    _, est = _lrs(*iris, max_iter=2, lr_scheduler="plateau", early_stopping=True)
    assert est._schedule.scheduler.mode == "max"
    _, est = _lrs(*iris, max_iter=2, lr_scheduler="plateau")
    assert est._schedule.scheduler.mode == "min"


def test_sgd_invscaling_lr_is_lr_init_over_samples_seen_power_t(iris):
    X, y = iris
    lrs, est = _lrs(X, y, max_iter=5, solver="sgd", learning_rate="invscaling", power_t=0.4)
    t = np.arange(5) * X.shape[0]
    assert_allclose(lrs, LR0 / (t + 1) ** 0.4, rtol=1e-6)
    assert est.t_ == 5 * X.shape[0]


def test_sgd_invscaling_starts_from_an_lr_given_in_optimizer_kwargs(iris):
    X, y = iris
    lrs, _ = _lrs(X, y, max_iter=4, solver="sgd", learning_rate="invscaling", power_t=0.4,
                  optimizer_kwargs={"lr": 0.5})
    t = np.arange(4) * X.shape[0]
    assert_allclose(lrs, 0.5 / (t + 1) ** 0.4, rtol=1e-6)


def test_sgd_adaptive_lr_divides_by_five_on_each_stall(iris):
    # tol so large that no epoch counts as an improvement after the first.
    lrs, _ = _lrs(*iris, solver="sgd", learning_rate="adaptive", tol=1e9, n_iter_no_change=2)
    assert_allclose(lrs, LR0 * np.array([1, 1, 1, 1, 0.2, 0.2, 0.2, 0.04]), rtol=1e-6)


def test_sgd_constant_lr_stays_constant(iris):
    lrs, _ = _lrs(*iris, solver="sgd", max_iter=4)
    assert_array_equal(lrs, LR0)


# ---------------------------------------------------------------------------
# Dropout and normalisation
def test_dropout_is_active_in_train_mode_and_off_in_eval_mode():
    module = MLPModule(4, (64,), 3, dropout=0.5, random_state=0)
    module.set_generator(torch.Generator().manual_seed(0))
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(1))
    module.train()
    assert not torch.equal(module(x), module(x))
    module.eval()
    assert torch.equal(module(x), module(x))


def test_dropout_predictions_are_deterministic_and_seeded(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(16,), dropout=0.5, max_iter=10, random_state=0)
    est = TorchMLPClassifier(**params).fit(X, y)
    assert not est.module_.training
    assert_array_equal(est.predict_proba(X), est.predict_proba(X))
    # The fitted module still drops units when put back in training mode.
    Xt = torch.as_tensor(X, dtype=torch.float32, device=est.device_)
    est.module_.set_generator(torch.Generator(est.device_).manual_seed(0))
    est.module_.train()
    assert not torch.equal(est.module_(Xt), est.module_(Xt))
    est.module_.eval()
    est.module_.set_generator(None)
    assert torch.equal(est.module_(Xt), est.module_(Xt))
    twin = TorchMLPClassifier(**params).fit(X, y)
    assert_array_equal(twin.predict_proba(X), est.predict_proba(X))
    other = TorchMLPClassifier(**{**params, "random_state": 1}).fit(X, y)
    assert not np.array_equal(other.predict_proba(X), est.predict_proba(X))


def test_dropout_changes_training(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    plain = TorchMLPClassifier(**params).fit(X, y)
    dropped = TorchMLPClassifier(dropout=0.5, **params).fit(X, y)
    assert not np.allclose(plain.loss_curve_, dropped.loss_curve_)


@pytest.mark.parametrize("normalization, norm_type",
                         [("batch", torch.nn.BatchNorm1d), ("layer", torch.nn.LayerNorm)])
def test_norm_layers_sit_between_linear_and_activation_then_dropout(
    normalization, norm_type, iris
):
    est = TorchMLPClassifier((8, 6), "tanh", normalization=normalization, dropout=0.2,
                             max_iter=2, random_state=0).fit(*iris)
    types = [type(m) for m in est.module_.layers]
    drop = type(est.module_.layers[3])
    assert issubclass(drop, torch.nn.Dropout)
    linear, tanh = torch.nn.Linear, torch.nn.Tanh
    assert types == [linear, norm_type, tanh, drop, linear, norm_type, tanh, drop, linear]
    norms = [m for m in est.module_.layers if isinstance(m, norm_type)]
    widths = [m.num_features if norm_type is torch.nn.BatchNorm1d else m.normalized_shape[0]
              for m in norms]
    assert widths == [8, 6]


def test_warm_start_with_changed_layer_options_does_not_silently_keep_old_layers(iris):
    X, y = iris
    est = TorchMLPClassifier((8,), max_iter=2, random_state=0, warm_start=True).fit(X, y)
    est.set_params(activation="tanh", dropout=0.5, normalization="layer")
    before = est.coefs_
    est.set_params(max_iter=1, learning_rate_init=1e-12).fit(X, y)
    for a, b in zip(before, est.coefs_):  # the trained weights carry over
        np.testing.assert_allclose(a, b, atol=1e-6)
    types = {type(m) for m in est.module_.layers}
    assert {torch.nn.Tanh, torch.nn.LayerNorm} <= types
    assert any(isinstance(m, torch.nn.Dropout) for m in est.module_.layers)


def test_batch_norm_running_stats_are_updated_by_training(iris):
    est = TorchMLPClassifier((8,), normalization="batch", max_iter=2, random_state=0)
    bn = est.fit(*iris).module_.layers[1]
    assert bn.num_batches_tracked.item() > 0
    assert not torch.allclose(bn.running_mean, torch.zeros_like(bn.running_mean))


def test_lbfgs_batch_norm_statistics_are_the_datas_at_the_solution(iris):
    X, y = iris
    est = TorchMLPClassifier((20,), solver="lbfgs", normalization="batch", max_iter=200,
                             random_state=0, compute_dtype="float64").fit(X, y)
    linear, norm = est.module_.layers[0], est.module_.layers[1]
    with torch.no_grad():
        h = linear(torch.as_tensor(X, device=est.device_)).cpu()
    assert_allclose(norm.running_mean.cpu().numpy(), h.mean(0).numpy(), rtol=1e-10, atol=1e-12)
    assert_allclose(norm.running_var.cpu().numpy(), h.var(0, unbiased=True).numpy(), rtol=1e-10)
    assert norm.momentum == 0.1  # as built


def test_no_dropout_layer_when_dropout_is_zero(iris):
    est = TorchMLPClassifier((8,), max_iter=1, random_state=0).fit(*iris)
    assert not any(isinstance(m, torch.nn.Dropout) for m in est.module_.layers)


# ---------------------------------------------------------------------------
# class_weight
@pytest.fixture(scope="module")
def imbalanced(iris):
    X, y = iris
    keep = np.r_[0:50, 50:70, 100:110]
    return X[keep], y[keep]


@pytest.mark.parametrize("class_weight", ["balanced", {0: 0.5, 1: 2.0, 2: 4.0}])
def test_class_weight_equals_compute_sample_weight(class_weight, imbalanced):
    X, y = imbalanced
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    weighted = TorchMLPClassifier(class_weight=class_weight, **params).fit(X, y)
    sw = compute_sample_weight(class_weight, y)
    ref = TorchMLPClassifier(**params).fit(X, y, sample_weight=sw)
    assert_allclose(weighted.loss_curve_, ref.loss_curve_, rtol=1e-6)
    assert_allclose(weighted.predict_proba(X), ref.predict_proba(X), rtol=1e-5, atol=1e-7)


def test_class_weight_multiplies_sample_weight(imbalanced):
    X, y = imbalanced
    cw = {0: 0.5, 1: 2.0, 2: 4.0}
    sw = np.random.RandomState(0).uniform(0.5, 2, len(y))
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    weighted = TorchMLPClassifier(class_weight=cw, **params).fit(X, y, sample_weight=sw)
    ref = TorchMLPClassifier(**params).fit(X, y, sample_weight=sw * np.vectorize(cw.get)(y))
    assert_allclose(weighted.predict_proba(X), ref.predict_proba(X), rtol=1e-5, atol=1e-7)


def test_class_weight_refuses_multilabel_targets_and_its_tags_say_so():
    Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]] * 5)
    X = np.random.RandomState(0).normal(size=(20, 3))
    est = TorchMLPClassifier((4,), class_weight="balanced", max_iter=2)
    assert est.__sklearn_tags__().classifier_tags.multi_label is False
    with pytest.raises(ValueError, match="class_weight is not supported for multilabel"):
        est.fit(X, Y)
    assert TorchMLPClassifier().__sklearn_tags__().classifier_tags.multi_label is True


def test_heavy_class_weight_increases_that_class_predicted_frequency():
    X, y = make_classification(n_samples=200, n_features=4, n_informative=2, class_sep=0.3,
                               flip_y=0.2, random_state=0)
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=100, random_state=0)
    plain = TorchMLPClassifier(**params).fit(X, y).predict(X)
    heavy = TorchMLPClassifier(class_weight={0: 10.0, 1: 1.0}, **params).fit(X, y).predict(X)
    assert np.mean(heavy == 0) > np.mean(plain == 0) + 0.1


def test_balanced_class_weight_with_partial_fit_raises(iris):
    X, y = iris
    est = TorchMLPClassifier((8,), class_weight="balanced", random_state=0)
    with pytest.raises(ValueError, match="balanced"):
        est.partial_fit(X, y, classes=[0, 1, 2])
    assert not hasattr(est, "module_")
    est.set_params(class_weight={0: 1.0, 1: 2.0, 2: 1.0}).partial_fit(X, y, classes=[0, 1, 2])
    assert est.n_iter_ == 1


# ---------------------------------------------------------------------------
# Regressor losses
def test_huber_with_huge_delta_is_squared_error(regression):
    X, y = regression
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    sq = TorchMLPRegressor(loss="squared_error", **params).fit(X, y)
    hub = TorchMLPRegressor(loss="huber", huber_delta=1e6, **params).fit(X, y)
    assert_allclose(hub.loss_curve_, sq.loss_curve_, rtol=1e-5)


def test_huber_delta_changes_the_loss(regression):
    X, y = regression
    params = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    # Full batch: the first recorded loss is that of the shared initial weights.
    small = TorchMLPRegressor(loss="huber", huber_delta=0.1, **params).fit(X, y)
    large = TorchMLPRegressor(loss="huber", huber_delta=10.0, **params).fit(X, y)
    assert small.loss_curve_[0] < large.loss_curve_[0]
    assert not np.allclose(small.predict(X), large.predict(X))


def _reference_loss(loss, pred, y, delta=1.0):
    r = pred - y
    if loss == "squared_error":
        return 0.5 * np.mean(r**2)
    if loss == "absolute_error":
        return np.mean(np.abs(r))
    if loss == "huber":
        return np.mean(np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta)))
    if loss == "poisson":
        z = np.log(pred)
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1)), 0.0)
        return np.mean(ylogy - y * z - y + pred)
    raise AssertionError(loss)


@pytest.mark.parametrize("loss", LOSSES)
def test_recorded_loss_is_the_named_loss_of_the_predictions(loss, counts):
    X, y = counts
    est = TorchMLPRegressor(loss=loss, hidden_layer_sizes=(8,), alpha=0.0, max_iter=1,
                            learning_rate_init=1e-12, random_state=0, huber_delta=0.7,
                            compute_dtype="float64").fit(X, y)
    expected = _reference_loss(loss, est.predict(X), y, delta=0.7)
    assert est.loss_curve_[0] == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("incremental", [True, False])
def test_a_new_loss_brings_its_output_activation(counts, incremental):
    X, y = counts
    est = TorchMLPRegressor(loss="squared_error", hidden_layer_sizes=(5,), max_iter=5,
                            warm_start=True, random_state=0)
    (est.partial_fit if incremental else est.fit)(X, y)
    est.set_params(loss="poisson")
    (est.partial_fit if incremental else est.fit)(X, y)
    assert est.out_activation_ == "exp"
    z = est.module_(torch.as_tensor(X, dtype=torch.float32, device=est.device_))
    z = z.detach().cpu().numpy().ravel()
    assert_allclose(est.predict(X), np.exp(z), rtol=1e-5)


@pytest.mark.parametrize("loss", LOSSES)
def test_each_regressor_loss_decreases_over_training(loss, counts):
    X, y = counts
    est = TorchMLPRegressor(loss=loss, hidden_layer_sizes=(8,), max_iter=30,
                            learning_rate_init=0.01, random_state=0, n_iter_no_change=1000)
    est.fit(X, y)
    assert est.loss_curve_[-1] < 0.75 * est.loss_curve_[0]
    assert [r["loss"] for r in est.history_] == est.loss_curve_


# ---------------------------------------------------------------------------
# Reproducibility
RANDOM_CONFIG = dict(hidden_layer_sizes=(16, 8), activation="rrelu", dropout=0.3,
                     normalization="batch", init="kaiming_normal", max_iter=10, batch_size=32)


@pytest.mark.parametrize("Estimator", [TorchMLPClassifier, TorchMLPRegressor])
def test_same_random_state_same_predictions_for_random_layers(Estimator, iris):
    X, y = iris

    def output(random_state):
        est = Estimator(random_state=random_state, **RANDOM_CONFIG).fit(X, y)
        return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)

    first = output(0)
    assert_array_equal(output(0), first)
    assert not np.allclose(output(1), first)


def test_fit_and_predict_leave_the_global_torch_rng_untouched(iris):
    X, y = iris
    state = torch.random.get_rng_state()
    est = TorchMLPClassifier(random_state=0, **RANDOM_CONFIG).fit(X, y)
    est.predict(X)
    est.partial_fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_random_state_none_still_leaves_the_global_torch_rng_untouched(iris):
    X, y = iris
    state = torch.random.get_rng_state()
    TorchMLPClassifier(**RANDOM_CONFIG).fit(X, y).predict(X)
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize("pickled", [False, True])
@pytest.mark.parametrize("change, resumes", [({"dropout": 0.3}, True),
                                             ({"activation": "prelu"}, False)])
def test_partial_fit_after_a_layer_change(iris, pickled, change, resumes):
    # A new dropout rate keeps every parameter, so the optimizer's state
    # carries over (a live optimizer's, or a pickled model's saved state);
    # PReLU's slopes are new parameters, so the optimizer starts afresh.
    X, y = iris
    est = TorchMLPClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    if pickled:
        est = pickle.loads(pickle.dumps(est))
    steps = est.n_iter_  # one full batch per epoch (150 rows, batch_size 200)
    est.set_params(**change).partial_fit(X, y)
    state = est._optimizer.state_dict()["state"]
    assert len(state) == len(list(est.module_.parameters()))
    assert all(s["step"] == (steps + 1 if resumes else 1) for s in state.values())


@pytest.mark.parametrize("solver", ["adam", "adamw", "sgd", "nadam", "radam", "asgd", "rmsprop",
                                    "adagrad", "adadelta", "adamax"])
def test_partial_fit_after_a_pickle_round_trip_continues_exactly(solver):
    # Loading an optimizer's state casts its scalar state to the parameters'
    # dtype in torch (NAdam's float32 mu_product); sknn keeps the saved dtypes.
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(60, 4)), rng.normal(size=60)
    models = []
    for round_trip in (False, True):
        est = TorchMLPRegressor(hidden_layer_sizes=(6,), solver=solver, batch_size=8,
                                random_state=0, compute_dtype="float64")
        est.partial_fit(X[:30], y[:30])
        if round_trip:
            est = pickle.loads(pickle.dumps(est))
        for _ in range(3):
            est.partial_fit(X[30:], y[30:])
        models.append(est)
    a, b = models
    assert a.loss_curve_ == b.loss_curve_
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_array_equal(wa, wb)


@pytest.mark.parametrize("solver", ["adam", "nadam", "asgd"])
@pytest.mark.parametrize("dtypes", [("float64", "float32"), ("float32", "float64")])
@pytest.mark.parametrize("hidden", [(8,), (400, 400)], ids=["numpy step", "torch step"])
def test_partial_fit_after_a_pickle_in_a_new_compute_dtype(iris, solver, dtypes, hidden):
    # The moments follow the parameters into the new dtype (the torch step's
    # fused kernels need them alike); scalar state keeps torch's float32.
    X, y = iris
    est = TorchMLPClassifier(hidden_layer_sizes=hidden, solver=solver, max_iter=1,
                             random_state=0, compute_dtype=dtypes[0])
    est.partial_fit(X, y, classes=np.unique(y))
    est = pickle.loads(pickle.dumps(est)).set_params(compute_dtype=dtypes[1])
    est.partial_fit(X, y)
    dtype = getattr(torch, dtypes[1])
    assert next(est.module_.parameters()).dtype == dtype
    for state in est._optimizer.state_dict()["state"].values():
        for value in state.values():
            if torch.is_tensor(value):
                assert value.dtype == (dtype if value.dim() else torch.float32)
    assert np.isfinite(est.predict_proba(X)).all()


@pytest.mark.parametrize("solver", ["adam", "adamw", "sgd", "nadam"])
@pytest.mark.parametrize("dtypes", [("float64", "float32"), ("float32", "float64")])
@pytest.mark.parametrize("hidden", [(8,), (400, 400)], ids=["numpy step", "torch step"])
def test_partial_fit_in_a_new_compute_dtype_resumes_as_after_a_pickle(
        iris, solver, dtypes, hidden):
    # The live optimizer's state follows the module into the new dtype (it
    # failed with "expected scalar type Double but found Float" before), as a
    # pickled model's does.
    X, y = iris
    fits = []
    for pickled in (False, True):
        est = TorchMLPClassifier(hidden_layer_sizes=hidden, solver=solver, max_iter=1,
                                 random_state=0, compute_dtype=dtypes[0])
        est.partial_fit(X, y, classes=np.unique(y))
        if pickled:
            est = pickle.loads(pickle.dumps(est))
        est.set_params(compute_dtype=dtypes[1]).partial_fit(X, y)
        est.partial_fit(X, y)
        fits.append(est)
    live, loaded = fits
    assert live.loss_curve_ == loaded.loss_curve_
    for a, b in zip(live.coefs_, loaded.coefs_):
        assert_array_equal(a, b)


def test_activation_kwargs_in_float64_train_in_float64(regression):
    X, y = regression
    est = TorchMLPRegressor(hidden_layer_sizes=(5,), activation=torch.nn.PReLU,
                            activation_kwargs={"dtype": torch.float64},
                            compute_dtype="float64", max_iter=3, random_state=0)
    est.fit(X, y)
    assert est.module_.layers[1].weight.dtype == torch.float64


def test_asgd_state_saved_capturable_steps_on_the_cpu(iris, cpu_only):
    # A model trained with ASGD on a GPU saves capturable=True with its state.
    X, y = iris
    est = TorchMLPClassifier((5,), solver="asgd", max_iter=2, random_state=0)
    est.partial_fit(X, y, classes=np.unique(y))
    est._optimizer.param_groups[0]["capturable"] = True  # as on CUDA
    loaded = pickle.loads(pickle.dumps(est))
    loaded.partial_fit(X, y)
    assert loaded._optimizer.param_groups[0]["capturable"] is False
    # A capturable the user chose is applied to the loaded state too.
    loaded = pickle.loads(pickle.dumps(est))
    loaded._optimizer_state["param_groups"][0]["capturable"] = True
    loaded.set_params(optimizer_kwargs={"capturable": False}).partial_fit(X, y)
    assert loaded._optimizer.param_groups[0]["capturable"] is False


# ---------------------------------------------------------------------------
# Per-layer activations and initialisations
def test_per_layer_activations_and_inits_build_the_lectures_network():
    # The lectures' first network: Xavier then a sigmoid, Kaiming then a ReLU.
    module = MLPModule(3, (3, 2), 2, activation=["logistic", "relu"],
                       init=["xavier_normal", "kaiming_normal", "constant"],
                       init_kwargs=[None, None, {"val": 0.5}], random_state=0)
    kinds = [type(m).__name__ for m in module.layers]
    assert kinds == ["Linear", "Sigmoid", "Linear", "ReLU", "Linear"]
    first, second, out = module.linear_layers()
    assert (out.weight == 0.5).all() and (out.bias == 0).all()
    # Each scheme with its own layer's gain: the same draws as the scheme alone.
    alone = MLPModule(3, (3, 2), 2, activation="logistic", init="xavier_normal", random_state=0)
    assert_array_equal(first.weight.detach(), alone.linear_layers()[0].weight.detach())
    assert not torch.equal(second.weight, alone.linear_layers()[1].weight)


def test_per_layer_lists_of_one_value_train_as_that_value(iris):
    X, y = iris
    fits = [TorchMLPClassifier((8, 6), activation=act, init=init, max_iter=15,
                               random_state=0).fit(X, y)
            for act, init in [("tanh", "xavier_uniform"),
                              (["tanh", "tanh"], ["xavier_uniform"] * 3)]]
    assert fits[0].loss_curve_ == fits[1].loss_curve_


def test_mixed_activations_train_through_autograd_and_predict_as_the_module(iris):
    X, y = iris
    est = TorchMLPClassifier((8, 6), activation=["logistic", "relu"], learning_rate_init=0.01,
                             max_iter=200, random_state=0).fit(X, y)
    assert est.score(X, y) > 0.95
    scores = est.module_(torch.as_tensor(X, dtype=torch.float32, device=est.device_))
    assert_allclose(est.predict_proba(X), torch.softmax(scores, 1).detach().cpu().numpy(),
                    atol=1e-6)
    loaded = pickle.loads(pickle.dumps(est))
    assert_array_equal(loaded.predict(X), est.predict(X))
    assert est.get_params()["activation"] == ["logistic", "relu"]


def test_module_refuses_per_layer_lists_of_the_wrong_length():
    for kwargs in [{"activation": ["relu"]}, {"activation_kwargs": [None, None, None]},
                   {"init": ["zeros"]}, {"init_kwargs": [None]}]:
        with pytest.raises(ValueError, match="entries for"):
            MLPModule(3, (4, 5), 2, **kwargs)


def test_warm_start_keeps_prelu_slopes_across_equal_spellings_and_other_layers(iris):
    X, y = iris
    est = TorchMLPClassifier((5, 4), activation=["prelu", "prelu"], learning_rate_init=0.05,
                             random_state=0)
    for _ in range(10):
        est.partial_fit(X, y, classes=[0, 1, 2])
    module = est.module_
    est.set_params(activation="prelu").partial_fit(X, y)  # the same layers: no rebuild
    assert est.module_ is module
    trained = float(est.module_.hidden_activations()[0].weight)
    # A rebuild (the second layer changes), with a step too small to move anything.
    est.set_params(activation=["prelu", "tanh"], learning_rate_init=1e-12).partial_fit(X, y)
    assert est.module_ is not module
    first = est.module_.hidden_activations()[0]
    assert isinstance(first, torch.nn.PReLU)
    assert float(first.weight) == pytest.approx(trained, abs=1e-6)  # not PReLU's 0.25
