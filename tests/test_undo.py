"""A failed call leaves a fitted estimator exactly as it was: training on
afterwards gives the model of an estimator that never saw the failed call."""

import copy
import pickle

import numpy as np
import pytest
import torch

import sknn._estimator_base as base
from sknn import TorchMLPClassifier, TorchMLPRegressor
from sknn._undo import Undo

rng = np.random.RandomState(0)
X = rng.normal(size=(80, 5))
y_reg = X @ rng.normal(size=5)
y_clf = (y_reg > 0).astype(int) + (y_reg > 1)

CONFIGS = {
    "adam": {},
    "sgd invscaling": {"solver": "sgd", "learning_rate": "invscaling", "momentum": 0.9},
    "adamw cosine": {"solver": "adamw", "lr_scheduler": "cosine"},
    "rmsprop step": {"solver": "rmsprop", "lr_scheduler": "step"},
    "batch norm dropout": {"normalization": "batch", "dropout": 0.2},
    "prelu layer norm": {"activation": "prelu", "normalization": "layer"},
    "float64": {"compute_dtype": "float64"},
}


def _make(Estimator, config):
    return Estimator(hidden_layer_sizes=(16,), batch_size=20, max_iter=3, random_state=0,
                     **CONFIGS[config])


def _diverge(est, X, y):
    """A call that fails after training: non-finite weights."""
    est.set_params(learning_rate_init=1e30)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        est.partial_fit(X * 1e30, y * 1e30 if y.dtype.kind == "f" else y)
    est.set_params(learning_rate_init=1e-3)


def _optimizer_state(est):
    """The optimizer's state dict; a deep copy of an estimator holds it as
    pickling does, to rebuild the optimizer at the next partial_fit."""
    if "_optimizer" in vars(est):
        return est._optimizer.state_dict()
    return est._optimizer_state


def _schedule_state(est):
    if "_schedule" in vars(est):
        return est._schedule.state_dict()
    return est._schedule_state


def _assert_same(a, b):
    # On the CPU: a deep copy of a model fitted on a GPU is parked there, as a
    # pickle is, until its next partial_fit moves it back.
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(wa, wb)
    assert a.loss_curve_ == b.loss_curve_ and a.n_iter_ == b.n_iter_ and a.t_ == b.t_
    sa, sb = a.module_.state_dict(), b.module_.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k].dtype == sb[k].dtype
        torch.testing.assert_close(sa[k].cpu(), sb[k].cpu(), rtol=0, atol=0)
    assert _schedule_state(a) == _schedule_state(b)
    assert vars(a._stopper) == vars(b._stopper)
    oa, ob = _optimizer_state(a), _optimizer_state(b)
    assert oa["param_groups"] == ob["param_groups"]
    for k, entry in oa["state"].items():
        for name, value in entry.items():
            torch.testing.assert_close(torch.as_tensor(value).cpu(),
                                       torch.as_tensor(ob["state"][k][name]).cpu(),
                                       rtol=0, atol=0)


def _fail_after_training(est, X, y):
    """A call that trains a whole epoch, then fails its check of the weights."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(base, "_finite", lambda t: False)
        with pytest.raises(ValueError, match="non-finite parameter weights"):
            est.partial_fit(X, y)


@pytest.mark.parametrize("numpy_step", [True, False], ids=["numpy step", "torch step"])
@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("Estimator, y", [(TorchMLPRegressor, y_reg),
                                          (TorchMLPClassifier, y_clf)], ids=["reg", "clf"])
def test_training_on_after_a_failed_call_is_as_if_it_never_happened(
        monkeypatch, Estimator, y, config, numpy_step):
    monkeypatch.setattr(base, "_NUMPY_PATH", numpy_step)
    est = _make(Estimator, config)
    for part in np.array_split(np.arange(len(X)), 2):
        est.partial_fit(X[part], y[part], **({"classes": [0, 1, 2]} if y is y_clf else {}))
    reference = copy.deepcopy(est)
    _fail_after_training(est, X, y)
    _assert_same(est, reference)
    for e in (est, reference):
        e.partial_fit(X, y)
        e.partial_fit(X, y)
    _assert_same(est, reference)
    for e in (est, reference):
        e.set_params(warm_start=True).fit(X, y)
    _assert_same(est, reference)


def test_failed_call_after_a_change_of_dtype_puts_the_weights_back():
    est = _make(TorchMLPRegressor, "adam").fit(X, y_reg)
    reference = copy.deepcopy(est)
    est.set_params(compute_dtype="float64")  # moves the network to float64 in place
    _fail_after_training(est, X, y_reg)
    assert all(p.dtype == torch.float32 for p in est.module_.parameters())
    est.set_params(compute_dtype="float32")
    _assert_same(est, reference)
    for e in (est, reference):
        e.partial_fit(X, y_reg)
    _assert_same(est, reference)


def test_failed_first_call_after_unpickling_keeps_the_saved_optimizer_state():
    est = _make(TorchMLPRegressor, "adam").fit(X, y_reg)
    est = pickle.loads(pickle.dumps(est))
    reference = copy.deepcopy(est)
    _diverge(est, X, y_reg)
    for e in (est, reference):
        e.partial_fit(X, y_reg)
    _assert_same(est, reference)


def test_undo_restores_values_modes_slots_and_optimizer_state():
    est = _make(TorchMLPClassifier, "batch norm dropout").fit(X, y_clf)
    module, optimizer = est.module_, est._optimizer
    weight = module.linear_layers()[0].weight
    before = {k: v.clone() for k, v in module.state_dict().items()}
    moments = {id(p): {k: v.clone() for k, v in s.items()} for p, s in optimizer.state.items()}
    lr = optimizer.param_groups[0]["lr"]
    undo = Undo(module, optimizer)
    module.train()
    module.to(torch.float64)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(1.0)
    for s in optimizer.state.values():
        s["exp_avg"].add_(1.0)
    optimizer.param_groups[0]["lr"] = 0.5
    optimizer.state[torch.nn.Parameter(torch.zeros(1))] = {}
    undo.restore()
    assert module.linear_layers()[0].weight is weight and weight.dtype == torch.float32
    assert not any(m.training for m in module.modules())
    for k, v in module.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    assert len(optimizer.state) == len(moments) and optimizer.param_groups[0]["lr"] == lr
    for p, s in optimizer.state.items():
        for k, v in s.items():
            torch.testing.assert_close(v, moments[id(p)][k], rtol=0, atol=0)


def test_a_failed_call_leaves_the_lists_a_caller_holds_as_they_were():
    # The failed call's epochs were appended to the lists, and a copy of each
    # put back: a caller's reference to loss_curve_ kept the failed epochs.
    est = TorchMLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0,
                             warm_start=True, early_stopping=True).fit(X, y_clf)
    held = est.loss_curve_, est.history_, est.validation_scores_
    lengths = [len(lst) for lst in held]
    est.set_params(learning_rate_init=1e30)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        est.fit(X * 1e30, y_clf)
    assert [len(lst) for lst in held] == lengths
    assert est.loss_curve_ is held[0] and est.history_ is held[1]
