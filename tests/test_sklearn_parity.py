"""Side by side with scikit-learn's MLPClassifier / MLPRegressor.

With ``init='sklearn'`` and the same ``random_state``, sknn draws the same
initial weights, the same early-stopping split and the same batch order as
scikit-learn, so in float64 the two agree to optimizer round-off.

The comparisons run on the CPU, also on a machine with a GPU: cuBLAS sums
in another order than scikit-learn's BLAS, so a GPU fit drifts from it by
round-off that training amplifies (``tests/test_device.py`` compares the
devices with tolerances of their own).
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from sknn import TorchMLPClassifier, TorchMLPRegressor

pytestmark = pytest.mark.usefixtures("cpu_only")


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _pair(cls_sk, cls_torch, **params):
    return cls_sk(**params), cls_torch(compute_dtype="float64", **params)


def test_initial_weights_equal_sklearn(iris):
    X, y = iris
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, hidden_layer_sizes=(7, 5),
                     random_state=3, max_iter=1, learning_rate_init=1e-12)
    sk.fit(X, y)
    ours.fit(X, y)
    for a, b in zip(sk.coefs_ + sk.intercepts_, ours.coefs_ + ours.intercepts_):
        np.testing.assert_allclose(a, b, atol=1e-9)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_stochastic_training_matches_sklearn(iris, solver, activation):
    X, y = iris
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, hidden_layer_sizes=(10,),
                     activation=activation, solver=solver, batch_size=32, max_iter=30,
                     random_state=0, alpha=1e-3)
    sk.fit(X, y)
    ours.fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-12)
    assert ours.n_iter_ == sk.n_iter_ and ours.t_ == sk.t_


def test_lbfgs_matches_sklearn(iris):
    X, y = iris
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, hidden_layer_sizes=(6,),
                     solver="lbfgs", max_iter=50, random_state=0)
    sk.fit(X, y)
    ours.fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-4)
    assert ours.n_iter_ == sk.n_iter_
    assert ours.loss_ == pytest.approx(sk.loss_, rel=1e-5)
    assert ours.coefs_[0].dtype == np.float64


def test_early_stopping_matches_sklearn(iris):
    X, y = iris
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, hidden_layer_sizes=(10,),
                     early_stopping=True, n_iter_no_change=3, max_iter=200,
                     learning_rate_init=0.01, random_state=1)
    sk.fit(X, y)
    ours.fit(X, y)
    assert ours.n_iter_ == sk.n_iter_
    np.testing.assert_allclose(ours.validation_scores_, sk.validation_scores_)
    assert ours.best_validation_score_ == sk.best_validation_score_
    assert ours.best_loss_ is None and sk.best_loss_ is None
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-12)


def test_stopping_rule_counts_like_sklearn(iris):
    # tol huge: nothing ever improves after the first epoch -> n_iter_no_change + 2 epochs.
    X, y = iris
    for est in _pair(MLPClassifier, TorchMLPClassifier, tol=1e9, n_iter_no_change=3,
                     random_state=0):
        est.fit(X, y)
        assert est.n_iter_ == 5


@pytest.mark.parametrize("nesterovs_momentum", [True, False])
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling", "adaptive"])
def test_sgd_learning_rate_schedules_follow_sklearn(iris, learning_rate, nesterovs_momentum):
    # scikit-learn's velocity keeps the learning rate it was built with; so does
    # sknn's SGD, so even a changing rate gives the same model.
    X, y = iris
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, solver="sgd",
                     nesterovs_momentum=nesterovs_momentum, learning_rate=learning_rate,
                     learning_rate_init=0.05, tol=1e-2, n_iter_no_change=2, max_iter=60,
                     random_state=0)
    sk.fit(X, y)
    ours.fit(X, y)
    assert ours.n_iter_ == sk.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-12)
    if learning_rate == "invscaling":
        expected = [0.05] + [0.05 / (150 * k + 1) ** 0.5 for k in range(1, ours.n_iter_)]
        np.testing.assert_allclose([h["lr"] for h in ours.history_], expected)


def test_multilabel_matches_sklearn():
    X, Y = make_multilabel_classification(n_samples=80, n_features=6, n_classes=3,
                                          random_state=0)
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, hidden_layer_sizes=(12,),
                     max_iter=40, random_state=0)
    sk.fit(X, Y)
    ours.fit(X, Y)
    assert ours.out_activation_ == sk.out_activation_ == "logistic"
    np.testing.assert_array_equal(ours.classes_, sk.classes_)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), sk.predict(X))


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_regressor_matches_sklearn(loss):
    X, y = make_regression(n_samples=120, n_features=5, n_targets=2, noise=0.1,
                           random_state=0)
    X = StandardScaler().fit_transform(X)
    y = StandardScaler().fit_transform(y)
    if loss == "poisson":
        y = np.exp(y / 3)
    sk, ours = _pair(MLPRegressor, TorchMLPRegressor, loss=loss, hidden_layer_sizes=(16,),
                     max_iter=40, random_state=0)
    sk.fit(X, y)
    ours.fit(X, y)
    assert ours.out_activation_ == sk.out_activation_
    assert ours.n_outputs_ == 2
    np.testing.assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-10, atol=1e-12)
    # scikit-learn reports the squared error averaged over outputs.
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-10)


def test_sample_weight_matches_sklearn(iris):
    X, y = iris
    sw = np.random.RandomState(0).uniform(0.1, 3, len(y))
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, max_iter=20, random_state=0)
    sk.fit(X, y, sample_weight=sw)
    ours.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-12)
    assert ours.score(X, y, sample_weight=sw) == sk.score(X, y, sample_weight=sw)


def test_float32_keeps_sklearn_dtypes(iris):
    X, y = iris
    X32 = X.astype(np.float32)
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, max_iter=5, random_state=0)
    sk.fit(X32, y)
    ours.fit(X32, y)
    assert ours.coefs_[0].dtype == sk.coefs_[0].dtype == np.float32
    assert ours.predict_proba(X32).dtype == sk.predict_proba(X32).dtype == np.float32
    assert ours.predict_proba(X).dtype == sk.predict_proba(X).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float16, np.int8, np.uint8, np.int16, np.uint16, bool,
                                   np.int32, np.int64])
@pytest.mark.parametrize("trained_on", [np.float32, np.float64])
def test_predict_dtype_follows_numpy_like_sklearn(iris, dtype, trained_on):
    # scikit-learn's outputs have the dtype of X @ coef: small integer, bool
    # or float16 features on a float32-trained model give float32.
    X, y = iris
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, max_iter=2, random_state=0)
    for est in (sk, ours):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X.astype(trained_on), y)
    X_new = (3 * X).astype(dtype)
    for method in ("predict_proba", "predict"):
        theirs, mine = getattr(sk, method)(X_new), getattr(ours, method)(X_new)
        assert mine.dtype == theirs.dtype
        np.testing.assert_allclose(mine, theirs, atol=1e-5)


def test_partial_fit_matches_sklearn(iris):
    X, y = iris
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, random_state=0)
    for _ in range(3):
        sk.partial_fit(X, y, classes=np.unique(y))
        ours.partial_fit(X, y, classes=np.unique(y))
    assert ours.n_iter_ == sk.n_iter_ == 1
    assert ours.t_ == sk.t_ == 450
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-12)


@pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning")  # both clip, both warn
@pytest.mark.parametrize("random_state", [0, None, "instance"])
def test_online_learning_in_uneven_chunks_matches_sklearn(random_state):
    # Single rows (which draw no shuffle) between larger chunks (which do):
    # each call's shuffles come from the same seed as scikit-learn's.
    X, y = make_regression(n_samples=60, n_features=5, noise=1.0, random_state=0)
    X, y = X / X.std(axis=0), y / y.std()
    bounds = [0, 1, 2, 17, 18, 40, 41, 60]
    fitted = []
    for make in (MLPRegressor, TorchMLPRegressor):
        np.random.seed(7)  # noqa: NPY002 (random_state=None draws from the global state)
        seed = np.random.RandomState(5) if random_state == "instance" else random_state
        est = make(hidden_layer_sizes=(8,), batch_size=4, random_state=seed,
                   **({"compute_dtype": "float64"} if make is TorchMLPRegressor else {}))
        for start, stop in zip(bounds, bounds[1:]):
            est.partial_fit(X[start:stop], y[start:stop])
        fitted.append(est)
    sk, ours = fitted
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-12, atol=1e-12)


def test_warm_start_matches_sklearn(iris):
    X, y = iris
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, warm_start=True, max_iter=10,
                     random_state=0)
    for _ in range(2):
        sk.fit(X, y)
        ours.fit(X, y)
    assert len(ours.loss_curve_) == len(sk.loss_curve_) == 20
    assert ours.n_iter_ == 10 and len(ours.history_) == 20
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-12)


def test_warm_start_with_a_new_activation_matches_sklearn(iris):
    # scikit-learn applies the new activation to the trained weights.
    X, y = iris
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, warm_start=True, max_iter=10,
                     random_state=0)
    for est in (sk, ours):
        est.fit(X, y)
        est.set_params(activation="tanh").fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-5)


# The three training paths of a plain network: the numpy step (small networks
# on the CPU), the torch step with hand-derived gradients, and autograd.
PATHS = {"numpy": {}, "torch": {"_NUMPY_PATH": False},
         "autograd": {"_NUMPY_PATH": False, "_FAST_PATH": False}}


@pytest.fixture(params=list(PATHS))
def training_path(request, monkeypatch):
    import sknn._estimator_base as base

    for name, value in PATHS[request.param].items():
        monkeypatch.setattr(base, name, value)
    return request.param


def _saturating(kind):
    """Unscaled data on which the first epochs make confident mistakes:
    probabilities below float64's eps, which scikit-learn clips."""
    from sklearn.datasets import load_breast_cancer, load_digits

    if kind == "binary":
        return load_breast_cancer(return_X_y=True)
    if kind == "multiclass":
        X, y = load_digits(return_X_y=True)
        return X * 4, y
    X, Y = make_multilabel_classification(n_samples=200, n_features=20, n_classes=4,
                                          random_state=0)
    return X * 20, Y


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_saturated_log_loss_is_reported_like_sklearn(kind, weighted, training_path):
    # scikit-learn clips probabilities to [eps, 1 - eps] before the log, so a
    # confidently wrong sample adds at most -log(eps) = 36.04 to its loss;
    # from the raw scores it would add far more (the breast-cancer fit's first
    # epoch reports 13.2; its uncapped terms sum to thousands).
    X, y = _saturating(kind)
    sw = np.random.RandomState(0).uniform(0.1, 3, len(X)) if weighted else None
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, solver="sgd", hidden_layer_sizes=(20,),
                     learning_rate_init=0.01, max_iter=8, random_state=0)
    with pytest.warns(ConvergenceWarning):
        sk.fit(X, y, sample_weight=sw)
    with pytest.warns(ConvergenceWarning):
        ours.fit(X, y, sample_weight=sw)
    # A term was capped in the first epoch:
    assert sk.loss_curve_[0] > 1
    # scikit-learn's log(1 - p) for p near 1 is exact only to eps / (1 - p):
    # 3e-5 of the multilabel fit's first epochs.
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(ours.coefs_[0], sk.coefs_[0], rtol=1e-7, atol=1e-10)


def test_saturated_log_loss_of_float32_data_is_capped_at_float32_eps():
    # scikit-learn computes float32 data in float32: eps 1.19e-7, cap 15.94.
    X, y = _saturating("binary")
    X = X.astype(np.float32)
    sk = MLPClassifier(solver="sgd", hidden_layer_sizes=(20,), max_iter=4,
                       random_state=0).fit(X, y)
    ours = TorchMLPClassifier(solver="sgd", hidden_layer_sizes=(20,), max_iter=4,
                              random_state=0).fit(X, y)
    assert ours.coefs_[0].dtype == sk.coefs_[0].dtype == np.float32
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-4)


def _lbfgs_pair(Sklearn, Sknn, X, y, **params):
    """scikit-learn's and sknn's lbfgs fits, checked for the same iterations and loss."""
    sk, ours = _pair(Sklearn, Sknn, solver="lbfgs", random_state=0, **params)
    for est in (sk, ours):
        with pytest.warns(ConvergenceWarning):
            est.fit(X, y)
    assert ours.n_iter_ == sk.n_iter_
    np.testing.assert_allclose(ours.loss_, sk.loss_, rtol=1e-7)
    return sk, ours


def test_lbfgs_on_saturated_data_matches_sklearn(training_path):
    # scipy sees scikit-learn's loss (capped terms) with the gradient p - y;
    # the loss values steer its line searches.
    X, y = _saturating("multiclass")
    sk, ours = _lbfgs_pair(MLPClassifier, TorchMLPClassifier, X, y, hidden_layer_sizes=(10,),
                           max_iter=30)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-7)


def test_multi_output_lbfgs_matches_sklearn(training_path):
    # scikit-learn gives scipy the squared error averaged over outputs and the
    # gradient of its sum; scipy's line searches depend on both.
    X, Y = make_regression(n_samples=60, n_features=4, n_targets=3, noise=1.0,
                           random_state=1)
    sk, ours = _lbfgs_pair(MLPRegressor, TorchMLPRegressor, X, Y, hidden_layer_sizes=(6,),
                           max_iter=25)
    np.testing.assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("improves", [False, True])
def test_warm_start_with_early_stopping_matches_sklearn(iris, improves):
    # A warm-started fit restores the best weights of its own epochs; when none
    # beats the earlier fits' best validation score it keeps its last weights
    # (scikit-learn trains its restored snapshot in place).
    X, y = iris
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, solver="sgd", early_stopping=True,
                     validation_fraction=0.3, n_iter_no_change=3, learning_rate_init=0.01,
                     max_iter=2 if improves else 200, random_state=0)
    for est in (sk, ours):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
            first = len(est.validation_scores_)
            est.set_params(warm_start=True, max_iter=6).fit(X, y)
    scores = sk.validation_scores_
    assert (max(scores[first:]) > max(scores[:first])) is improves
    np.testing.assert_allclose(ours.validation_scores_, scores)
    assert ours.best_validation_score_ == sk.best_validation_score_
    for ours_w, sk_w in zip(ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(ours_w, sk_w, rtol=1e-7, atol=1e-10)


def test_early_stopping_with_only_nan_scores_keeps_the_initial_weights(training_path):
    # scikit-learn snapshots the weights it initialises as the best so far; no
    # NaN score beats -inf, so a fit that diverges at once ends with them.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, 2.0, 3.0]
    sk, ours = _pair(MLPRegressor, TorchMLPRegressor, hidden_layer_sizes=(3,), solver="sgd",
                     batch_size=1, learning_rate_init=1.0, early_stopping=True, max_iter=2,
                     random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X, y)
        ours.fit(X, y)
    assert np.isnan(sk.validation_scores_).all() and np.isnan(ours.validation_scores_).all()
    assert ours.best_validation_score_ == sk.best_validation_score_ == -np.inf
    for a, b in zip(sk.coefs_ + sk.intercepts_, ours.coefs_ + ours.intercepts_):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def test_partial_fit_after_a_new_activation_keeps_the_optimizer_like_sklearn():
    # scikit-learn's optimizer (here its momentum) carries on over the same
    # weights when only the activation changes.
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    sk, ours = _pair(MLPRegressor, TorchMLPRegressor, hidden_layer_sizes=(5,), solver="sgd",
                     momentum=0.9, max_iter=5, random_state=3)
    for est in (sk, ours):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        est.set_params(activation="tanh")
        for _ in range(2):
            est.partial_fit(X[:20], y[:20])
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-9, atol=1e-12)


def test_warm_start_with_a_new_activation_draws_like_sklearn(iris):
    # Rebuilding the network for the new activation draws nothing from the
    # call's random stream: the shuffles and the validation split stay
    # scikit-learn's.
    X, y = iris
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, hidden_layer_sizes=(5,), solver="sgd",
                     early_stopping=True, max_iter=5, warm_start=True, random_state=72)
    for est in (sk, ours):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
            est.set_params(activation="tanh").fit(X, y)
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(ours.validation_scores_, sk.validation_scores_)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-10)


@pytest.mark.parametrize("name", ["iris", "digits", "breast_cancer", "diabetes"])
def test_default_adam_matches_sklearn(name, training_path):
    # solver="adam" is scikit-learn's Adam (epsilon added to sqrt(v) before the
    # bias correction): with default settings a float64 fit is scikit-learn's
    # to round-off, on every training path.
    from sklearn import datasets

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    regression = name == "diabetes"
    if regression:
        y = (y - y.mean()) / y.std()
    Sklearn, Sknn = (MLPRegressor, TorchMLPRegressor) if regression else (MLPClassifier,
                                                                        TorchMLPClassifier)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk, ours = _pair(Sklearn, Sknn, random_state=0)
        sk.fit(X, y)
        ours.fit(X, y)
    assert ours.n_iter_ == sk.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-12)
    for a, b in zip(ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_adam_with_torch_machinery_matches_sklearn(iris):
    # An optimizer_kwargs entry or a scheduler makes solver="adam" a torch
    # optimizer (sknn's SklearnAdam): still scikit-learn's rule.
    X, y = iris
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, max_iter=50, random_state=0,
                     epsilon=1e-4)
    ours.set_params(optimizer_kwargs={"weight_decay": 0.0})
    sk.fit(X, y)
    ours.fit(X, y)
    assert type(ours._optimizer).__name__ == "SklearnAdam"
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-12)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("calls", ["fit partial_fit partial_fit", "partial_fit fit partial_fit",
                                   "fit warm_start partial_fit", "partial_fit warm_start",
                                   "fit partial_fit warm_start partial_fit"])
def test_mixed_call_sequences_match_sklearn(iris, solver, calls):
    # partial_fit continues the optimizer of the call before it (Adam's step
    # count and moments), fit and warm-started fits start a new one: as in
    # scikit-learn. A large epsilon makes Adam's step count matter.
    X, y = iris
    sk, ours = _pair(MLPClassifier, TorchMLPClassifier, hidden_layer_sizes=(10,), solver=solver,
                     max_iter=15, random_state=0, epsilon=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for call in calls.split():
            for est in (sk, ours):
                if call == "fit":
                    est.fit(X, y)
                elif call == "warm_start":
                    est.set_params(warm_start=True).fit(X, y)
                else:
                    est.partial_fit(X, y, classes=np.unique(y))
    assert (ours.n_iter_, ours.t_) == (sk.n_iter_, sk.t_)
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-12)
    for a, b in zip(ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
