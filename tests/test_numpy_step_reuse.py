"""partial_fit trains on with the last call's numpy step only where nothing
changed since: every sequence of calls gives the model it gives without reuse."""

import pickle

import numpy as np
import pytest
import torch

import sknn._estimator_base as base
from sknn import TorchMLPClassifier, TorchMLPRegressor
from sknn._numpy_mlp import NumpyMLPStep

pytestmark = pytest.mark.usefixtures("cpu_only")  # the numpy step runs on the CPU only

rng = np.random.RandomState(0)
X = rng.normal(size=(90, 5))
y_reg = X @ rng.normal(size=5)
y_clf = (y_reg > 0).astype(int) + (y_reg > 1)
CHUNKS = np.array_split(np.arange(len(X)), 6)


def _never_current(step, optimizer):
    return False


def _chunks(est, y, chunks=CHUNKS):
    for part in chunks:
        est.partial_fit(X[part], y[part], **({"classes": [0, 1, 2]} if y is y_clf else {}))


def _edit_coefs(est, y):
    coefs = [c.copy() for c in est.coefs_]  # coefs_ are read-only copies
    coefs[0][0, 0] += 0.5
    est.coefs_ = coefs


def _edit_through_data(est, y):
    est.module_.linear_layers()[0].weight.data.mul_(0.5)  # bumps no version counter


def _torch_step_in_between(est, y):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(base, "NUMPY_MAX_WORK", 0)  # this call trains with the torch step
        _chunks(est, y, CHUNKS[:1])


def _new_alpha(est, y):
    est.set_params(alpha=0.1)


def _failed_call(est, y):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(base, "_finite", lambda t: False)
        with pytest.raises(ValueError, match="non-finite"):
            _chunks(est, y, CHUNKS[:1])


def _older_optimizer_state(est, y):
    state = est._optimizer.state_dict()
    _chunks(est, y, CHUNKS[:1])
    est._optimizer.load_state_dict(state)


def _new_learning_rate(est, y):
    est._optimizer.param_groups[0]["lr"] = 0.05  # read at every step: no rebuild needed


def _pickle_round_trip(est, y):
    return pickle.loads(pickle.dumps(est))


EVENTS = {f.__name__.lstrip("_"): f for f in (
    _edit_coefs, _edit_through_data, _torch_step_in_between, _new_alpha, _failed_call,
    _older_optimizer_state, _new_learning_rate, _pickle_round_trip)}
SOLVERS = {
    "adam": {}, "sgd": {"solver": "sgd", "momentum": 0.9}, "rmsprop": {"solver": "rmsprop"},
    "nadam": {"solver": "nadam"}, "asgd": {"solver": "asgd"}, "dropout": {"dropout": 0.3},
    "float64": {"compute_dtype": "float64"},
}


def _model(Estimator, y, settings, event, monkeypatch, reuse):
    with monkeypatch.context() as patch:
        if not reuse:
            patch.setattr(NumpyMLPStep, "is_current", _never_current)
        est = Estimator(hidden_layer_sizes=(12,), batch_size=8, random_state=0, **settings)
        _chunks(est, y, CHUNKS[:3])
        if event is not None:
            est = EVENTS[event](est, y) or est
        _chunks(est, y, CHUNKS[3:])
        return est


def _assert_same(a, b):
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(wa, wb)
    assert a.loss_curve_ == b.loss_curve_
    sa, sb = a._optimizer.state_dict(), b._optimizer.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    for k, entry in sa["state"].items():
        for name, value in entry.items():
            torch.testing.assert_close(value, sb["state"][k][name], rtol=0, atol=0)


@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("Estimator, y", [(TorchMLPRegressor, y_reg),
                                          (TorchMLPClassifier, y_clf)], ids=["reg", "clf"])
def test_reused_step_trains_as_a_fresh_one(monkeypatch, Estimator, y, solver):
    built = []
    init = NumpyMLPStep.__init__

    def counting_init(self, *args, **kwargs):
        built.append(self)
        init(self, *args, **kwargs)

    monkeypatch.setattr(NumpyMLPStep, "__init__", counting_init)
    reused = _model(Estimator, y, SOLVERS[solver], None, monkeypatch, reuse=True)
    assert len(built) == 1  # one step for six partial_fit calls
    built.clear()
    fresh = _model(Estimator, y, SOLVERS[solver], None, monkeypatch, reuse=False)
    assert len(built) == 6
    _assert_same(reused, fresh)


@pytest.mark.parametrize("event", list(EVENTS))
@pytest.mark.parametrize("Estimator, y", [(TorchMLPRegressor, y_reg),
                                          (TorchMLPClassifier, y_clf)], ids=["reg", "clf"])
def test_changes_between_calls_are_seen(monkeypatch, Estimator, y, event):
    reused = _model(Estimator, y, {}, event, monkeypatch, reuse=True)
    fresh = _model(Estimator, y, {}, event, monkeypatch, reuse=False)
    _assert_same(reused, fresh)


def test_the_step_is_not_pickled_and_not_reused_with_normalisation():
    est = TorchMLPRegressor(hidden_layer_sizes=(12,), batch_size=8, random_state=0)
    _chunks(est, y_reg, CHUNKS[:2])
    step = est._numpy_step[1]
    assert "_numpy_step" not in est.__getstate__()
    _chunks(est, y_reg, CHUNKS[2:3])
    assert est._numpy_step[1] is step
    norm = TorchMLPRegressor(hidden_layer_sizes=(12,), batch_size=8, random_state=0,
                             normalization="batch")
    _chunks(norm, y_reg, CHUNKS[:2])
    step = norm._numpy_step[1]
    _chunks(norm, y_reg, CHUNKS[2:3])
    assert norm._numpy_step[1] is not step


def test_only_partial_fit_keeps_its_step():
    """A fitted model carries no training arrays (think of a thousand bootstrap fits)."""
    est = TorchMLPRegressor(hidden_layer_sizes=(12,), batch_size=8, max_iter=3, random_state=0)
    est.fit(X, y_reg)
    assert "_numpy_step" not in vars(est)
    _chunks(est, y_reg, CHUNKS[:2])
    assert "_numpy_step" in vars(est)
    est.fit(X, y_reg)
    assert "_numpy_step" not in vars(est)
    _chunks(est, y_reg, CHUNKS[:1])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(base, "NUMPY_MAX_WORK", 0)  # a fit on the torch step drops it too
        est.set_params(warm_start=True).fit(X, y_reg)
    assert "_numpy_step" not in vars(est)
    _chunks(est, y_reg, CHUNKS[:1])
    est.set_params(solver="lbfgs").fit(X, y_reg)  # and so does one without a numpy step
    assert "_numpy_step" not in vars(est)


@pytest.mark.parametrize("normalization, activation", [(None, "relu"), ("batch", "rrelu")])
def test_a_stream_of_varying_sizes_keeps_scratch_for_a_few_only(normalization, activation):
    # The kept step's scratch arrays, per batch size, would otherwise grow with
    # every new size a stream brings (300 sizes up to 5000 rows: +200 MB).
    from sknn._recent import KEPT

    est = TorchMLPRegressor(hidden_layer_sizes=(6,), batch_size=90, normalization=normalization,
                            activation=activation, random_state=0)
    for n in range(2, 40, 3):
        est.partial_fit(X[:n], y_reg[:n])
    step = est._numpy_step[1]
    assert isinstance(step, NumpyMLPStep)
    assert 1 <= len(step._buffers) <= KEPT
    assert all(len(m._scratch) <= KEPT for m in step._norms if m is not None)
    assert all(len(m._slopes_t) <= KEPT for m in step._leaky_relus if m is not None)
    if normalization is None:
        assert len(step._buffers) == KEPT  # one step served the whole stream
