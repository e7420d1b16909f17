"""``cuda_graphs=True``: full-size batches replayed from a CUDA graph train the same model.

The graph itself needs a GPU; on the CPU the replayed body (static batch
buffers, a learning rate read from a tensor) is checked against the engine's
eager step, and the errors for what a graph cannot replay.
"""

import numpy as np
import pytest
import torch
from _targets import TARGETS, X
from sklearn.utils._param_validation import InvalidParameterError

from sknn import TorchMLPClassifier, TorchMLPRegressor
from sknn._adam_update import SklearnAdam
from sknn._cuda_graph import GraphedStep, replayable_update, supports_graphs
from sknn._engine import make_autograd_step
from sknn._fast_mlp import FastAdamStep, make_fast_step
from sknn._lean_adam import LeanAdam
from sknn._losses import make_loss

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
rng = np.random.RandomState(0)
SW = rng.uniform(0.5, 2.0, size=len(X))


@pytest.mark.parametrize("params, message", [
    ({"solver": "lbfgs"}, "has no effect with solver='lbfgs'"),
    ({"solver": "sgd"}, "needs solver='adam' or 'adamw'; got solver='sgd'"),
    ({"solver": torch.optim.NAdam}, "needs solver='adam' or 'adamw'"),
    ({"optimizer_kwargs": {"amsgrad": True}}, "which has no amsgrad; drop it"),
    ({"dropout": 0.1}, "cannot replay dropout or RReLU"),
    ({"dropout": [0.0, 0.2], "hidden_layer_sizes": (4, 4)}, "cannot replay dropout or RReLU"),
    ({"activation": "rrelu"}, "cannot replay dropout or RReLU"),
    ({"activation": torch.nn.RReLU}, "cannot replay dropout or RReLU"),
])
def test_what_a_graph_cannot_replay_is_an_error(params, message):
    y = TARGETS["multiclass"][1]
    with pytest.raises(InvalidParameterError, match=message):
        TorchMLPClassifier(cuda_graphs=True, **params).fit(X, y)


def test_needs_a_cuda_device():
    y = TARGETS["multiclass"][1]
    fitted = TorchMLPClassifier((4,), max_iter=2, device="cpu").fit(X, y)
    coefs = [c.copy() for c in fitted.coefs_]
    with pytest.raises(ValueError, match="cuda_graphs=True needs a CUDA device; device='cpu'"):
        fitted.set_params(cuda_graphs=True).fit(X, y)
    for a, b in zip(fitted.coefs_, coefs):  # the fitted model is kept
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("lean", [True, False], ids=["LeanAdam", "torch Adam"])
@pytest.mark.parametrize("hand_derived", [True, False], ids=["hand-derived", "autograd"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_replayed_body_equals_the_eager_step(hand_derived, weighted, lean):
    """What the graph records, run eagerly on the CPU: the same updates as the
    engine's step with the learning rate as a float."""
    torch.manual_seed(0)
    Xt = torch.as_tensor(X, dtype=torch.float32)
    Y = torch.nn.functional.one_hot(torch.as_tensor(TARGETS["multiclass"][1])).float()
    sw = torch.as_tensor(SW, dtype=torch.float32) if weighted else None
    batches = [torch.as_tensor(np.random.RandomState(i).permutation(len(X))[:32])
               for i in range(4)]
    models = []
    for graphed in (True, False):
        torch.manual_seed(0)
        module = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 8), torch.nn.Tanh(),
                                     torch.nn.Linear(8, Y.shape[1]))
        weights = [module[0].weight, module[2].weight]
        biases = [module[0].bias, module[2].bias]
        if hand_derived:
            step = make_fast_step(weights, biases, "tanh", "softmax", alpha=1e-3)
        else:
            loss_fn = make_loss("log_loss", Y.shape[1])
            step = make_autograd_step(module, loss_fn, 1e-3, weights)
        if lean:  # solver="adam"'s defaults
            optimizer = LeanAdam(module.parameters(), lr=0.01)
            eager_update = optimizer.step
        else:
            optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
            eager_update = FastAdamStep(optimizer).step
        assert supports_graphs(optimizer)
        body = GraphedStep(step, optimizer, eager_update, (Xt, Y, sw), batch_size=32)
        losses = []
        for idx, lr in zip(batches, [0.01, 0.01, 0.003, 0.003]):  # a schedule moves the rate
            if graphed:  # the rate comes from the tensor alone (the group keeps 0.01)
                body.lr.fill_(lr)
                body.idx.copy_(idx)
                losses.append(body._body().item())
            else:
                optimizer.param_groups[0]["lr"] = lr
                swb = None if sw is None else sw[idx]
                losses.append(step(Xt[idx], Y[idx], swb, 32 if sw is None else swb.sum()).item())
                eager_update()
        models.append((losses, [p.detach().clone() for p in module.parameters()]))
    (la, pa), (lb, pb) = models
    np.testing.assert_allclose(la, lb, rtol=1e-6)
    for a, b in zip(pa, pb):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_which_updates_a_graph_can_replay():
    params = [torch.nn.Parameter(torch.zeros(3))]
    for adam in (torch.optim.Adam(params), SklearnAdam(params)):
        assert replayable_update(adam, FastAdamStep(adam)) is not None
    assert not supports_graphs(torch.optim.Adam(params, amsgrad=True))
    assert not supports_graphs(torch.optim.SGD(params, lr=0.1))
    assert supports_graphs(LeanAdam(params, lr=0.1))


def _decisions(monkeypatch, calls, between=lambda i, optimizer, graphed: None):
    """What GraphedStep does at each of ``calls`` full batches, on the CPU: its
    CUDA parts (side-stream steps, the capture, the replay) become markers
    around the same body."""
    events = []

    class Recorded:
        def __init__(self, owner):
            self.owner = owner

        def replay(self):
            events.append("replay")
            self.owner.reported = self.owner._body()

    monkeypatch.setattr(GraphedStep, "_eager", lambda self: events.append("eager") or self._body())
    monkeypatch.setattr(GraphedStep, "_capture",
                        lambda self: events.append("capture") or Recorded(self))
    params = [torch.nn.Parameter(torch.zeros(3, 2))]

    def step(Xb, Yb, swb, sw_sum):
        params[0].grad = torch.ones_like(params[0])
        return Xb.sum()

    optimizer = torch.optim.Adam(params, lr=0.01)
    adam = FastAdamStep(optimizer)
    graphed = GraphedStep(step, optimizer, adam.step, (torch.ones(90, 2), torch.ones(90, 3), None),
                          batch_size=32)
    for i in range(calls):
        graphed(torch.arange(32))
        between(i, optimizer, graphed)
    return events


def test_replayed_and_eager_adam_steps_share_one_step_count(monkeypatch):
    # scikit-learn's Adam computes its step size from the count tensor in the
    # replayed update, and from a host copy in eager steps. Full batches
    # (eager warm-up, capture, replays: simulated on the CPU), a ragged batch
    # (GraphedStep.update_eagerly), then an ordinary step, as the next call
    # would take: the same parameters as ordinary steps all along.
    monkeypatch.setattr(GraphedStep, "_eager", lambda self: self._body())

    class Replayed:
        def __init__(self, owner):
            self.owner = owner

        def replay(self):
            self.owner.reported = self.owner._body()

    monkeypatch.setattr(GraphedStep, "_capture", lambda self: Replayed(self))
    grads = torch.randn(10, 3, 2, generator=torch.Generator().manual_seed(0),
                        dtype=torch.float64)
    results = []
    for graphs in (True, False):
        params = [torch.nn.Parameter(torch.ones(3, 2, dtype=torch.float64))]
        optimizer = LeanAdam(params, lr=0.1, eps=1e-3)
        taken = iter(grads)

        def step(Xb=None, Yb=None, swb=None, sw_sum=None, params=params, taken=taken):
            params[0].grad = next(taken).clone()
            return torch.zeros(())

        if graphs:
            data = (torch.ones(90, 2, dtype=torch.float64), torch.ones(90, 3), None)
            graphed = GraphedStep(step, optimizer, optimizer.step, data, batch_size=32)
            for _ in range(8):
                graphed(torch.arange(32))
            step()
            graphed.update_eagerly()
        else:
            for _ in range(9):
                step()
                optimizer.step()
        step()
        optimizer.step()
        results.append(params[0].detach().clone())
    # The replayed update hands the kernel a float32 step size.
    torch.testing.assert_close(results[0], results[1], rtol=1e-7, atol=0)


def test_replay_decisions_follow_the_optimizer(monkeypatch):
    # Two eager warm-up steps, then one capture (replayed at once for its own
    # batch), replayed from then on.
    assert _decisions(monkeypatch, 6) == ["eager"] * 2 + ["capture"] + ["replay"] * 4

    # A schedule moving the learning rate keeps the graph: the rate is a tensor.
    def decay(i, optimizer, graphed):
        optimizer.param_groups[0]["lr"] *= 0.5
        assert graphed.lr.item() == pytest.approx(0.01 * 0.5 ** i)

    assert _decisions(monkeypatch, 6, decay).count("replay") == 4

    # Betas moved at every step (one-cycle): always eager, never captured.
    def cycle(i, optimizer, graphed):
        optimizer.param_groups[0]["betas"] = (0.85 + 0.01 * i, 0.999)

    assert set(_decisions(monkeypatch, 12, cycle)) == {"eager"}

    # Moved once after the capture: eager until they have held for 20 steps,
    # then captured again with the new numbers.
    def once(i, optimizer, graphed):
        if i == 4:
            optimizer.param_groups[0]["betas"] = (0.8, 0.999)

    events = _decisions(monkeypatch, 30, once)
    assert events[:6] == ["eager"] * 2 + ["capture"] + ["replay"] * 3  # calls 1-5
    assert events[6:26] == ["eager"] * 20  # calls 6-25
    assert events[26:] == ["capture"] + ["replay"] * 5  # calls 26-30


CONFIGS = {
    "defaults": {},
    "adam, cosine schedule": {"lr_scheduler": "cosine"},
    # One-cycle moves Adam's beta1 at every batch too: those steps run eagerly.
    "adamw, onecycle per batch": {"solver": "adamw", "lr_scheduler": "onecycle"},
    "batch norm, prelu": {"normalization": "batch", "activation": "prelu"},
    "layer norm, huber": {"normalization": "layer", "loss": "huber"},
    "autograd activation": {"activation": torch.nn.Hardshrink},
    "early stopping, no shuffle": {"early_stopping": True, "shuffle": False},
    "tf32": {"matmul_precision": "high"},
}


@needs_cuda
@pytest.mark.parametrize("Estimator", [TorchMLPClassifier, TorchMLPRegressor])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_graphed_fit_equals_eager_fit(Estimator, config):
    params = dict(CONFIGS[config])
    if "loss" in params and Estimator is TorchMLPClassifier:
        pytest.skip("a regressor's loss")
    y = TARGETS["multiclass" if Estimator is TorchMLPClassifier else "squared_error"][1]
    # 90 rows in batches of 32: two replayed batches and a ragged one per epoch.
    common = dict(hidden_layer_sizes=(16, 8), batch_size=32, max_iter=6, tol=0.0,
                  n_iter_no_change=100, random_state=0, device="cuda", compute_dtype="float64",
                  **params)
    if params.get("matmul_precision"):
        common["compute_dtype"] = "float32"
    eager = Estimator(**common).fit(X, y, sample_weight=SW)
    graphed = Estimator(cuda_graphs=True, **common).fit(X, y, sample_weight=SW)
    tol = 1e-6 if common["compute_dtype"] == "float64" else 1e-4
    np.testing.assert_allclose(graphed.loss_curve_, eager.loss_curve_, rtol=tol)
    for a, b in zip(graphed.coefs_ + graphed.intercepts_, eager.coefs_ + eager.intercepts_):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * np.abs(b).max())
    # Training goes on, eagerly or replayed, from the same optimizer state.
    for est in (graphed, eager):
        est.set_params(early_stopping=False).partial_fit(X, y)
    np.testing.assert_allclose(graphed.coefs_[0], eager.coefs_[0], rtol=tol, atol=tol)


@needs_cuda
def test_graphed_mixed_precision_fit_fits_as_well():
    Estimator, y = TARGETS["multiclass"]
    common = dict(hidden_layer_sizes=(64,), batch_size=30, max_iter=30, random_state=0,
                  device="cuda", autocast="bfloat16")
    eager = Estimator(**common).fit(X, y)
    graphed = Estimator(cuda_graphs=True, **common).fit(X, y)
    # bfloat16 products: the same steps up to bfloat16 rounding, far from float32's.
    np.testing.assert_allclose(graphed.loss_curve_, eager.loss_curve_, rtol=2e-2)
    assert graphed.score(X, y) >= eager.score(X, y) - 0.05


@needs_cuda
@pytest.mark.parametrize("schedule, expected", [(None, 6 * 2 - 2), ("onecycle", 0)])
def test_full_batches_are_replayed(monkeypatch, schedule, expected):
    """The graph really runs: every full batch after the two eager warm-up
    steps is a replay. One-cycle moves beta1 at every batch, so no graph is
    captured (test_replay_decisions_follow_the_optimizer's numbers, on the CPU)."""
    replays = []
    replay = torch.cuda.CUDAGraph.replay

    def counted(self):
        replays.append(1)
        return replay(self)

    monkeypatch.setattr(torch.cuda.CUDAGraph, "replay", counted)
    Estimator, y = TARGETS["multiclass"]
    # 90 rows in batches of 32: two full batches per epoch, for 6 epochs.
    Estimator((16,), batch_size=32, max_iter=6, random_state=0, device="cuda", cuda_graphs=True,
              solver="adamw", lr_scheduler=schedule).fit(X, y)
    assert len(replays) == expected
