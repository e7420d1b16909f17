"""solver="adam" is scikit-learn's Adam in every implementation sknn steps it with.

scikit-learn adds epsilon to sqrt(v) before the bias correction, torch after it.
Each implementation is run on the same gradients as scikit-learn's own
``AdamOptimizer``; a large epsilon makes the placement visible.
"""

import copy
import functools

import numpy as np
import pytest
import torch
import torch.utils._python_dispatch
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

from sknn._adam_update import SklearnAdam, sklearn_adam_
from sknn._fast_mlp import FastAdamStep
from sknn._lean_adam import LeanAdam
from sknn._numpy_updates import NumpyAdam

LR, BETAS, EPS = 0.01, (0.9, 0.999), 1e-3
SHAPES = [(4, 3), (3,), (3, 2), (2,)]
STEPS = 12


def _gradients(seed=0):
    rng = np.random.RandomState(seed)
    # Gradients that shrink: sqrt(v) falls towards epsilon, where the rules differ most.
    return [[rng.normal(scale=0.5**k, size=s) for s in SHAPES] for k in range(STEPS)]


def _start(seed=1):
    rng = np.random.RandomState(seed)
    return [rng.normal(size=s) for s in SHAPES]


def _sklearn_params(grads):
    params = _start()
    optimizer = AdamOptimizer(params, LR, *BETAS, EPS)
    for g in grads:
        optimizer.update_params(params, g)
    return params


def _torch_params():
    return [torch.nn.Parameter(torch.from_numpy(p.copy())) for p in _start()]


def _run_torch(optimizer_or_step, params, grads):
    for g in grads:
        for p, gi in zip(params, g):
            p.grad = torch.from_numpy(gi.copy())
        optimizer_or_step()
    return [p.detach().numpy() for p in params]


def _sklearn_adam(params):
    return SklearnAdam(params, lr=LR, betas=BETAS, eps=EPS)


def _with_torch_machinery(params, grads):
    return _run_torch(_sklearn_adam(params).step, params, grads)


def _fast_adam_step(params, grads):
    return _run_torch(FastAdamStep(_sklearn_adam(params)).step, params, grads)


def _lean_adam(params, grads):
    return _run_torch(LeanAdam(params, lr=LR, betas=BETAS, eps=EPS).step, params, grads)


def _replayable(params, grads):
    # What a CUDA graph replays: the learning rate as a tensor, the step size
    # computed from the step count tensor (here on the CPU).
    optimizer = LeanAdam(params, lr=LR, betas=BETAS, eps=EPS)
    lr = torch.tensor(LR, dtype=torch.float32)
    return _run_torch(lambda: optimizer.step(lr=lr), params, grads)


def _numpy_steps(optimizer, params, grads, fused=False):
    """Step ``params`` with the numpy step's update (on one flat array, as the
    step keeps them) and write everything back, the step counts in place."""
    update = NumpyAdam(optimizer, params)
    assert update._fused is False  # (too few parameters: forced below)
    update._fused = fused
    flat = np.concatenate([p.detach().numpy().ravel() for p in params])
    tmp, g_flat = np.empty_like(flat), np.empty_like(flat)  # one gradient buffer, as in the step
    for g in grads:
        g_flat[:] = np.concatenate([gi.ravel() for gi in g])
        update.apply(flat, g_flat, tmp)
    update.sync()
    sizes = np.cumsum([int(np.prod(s)) for s in SHAPES])[:-1]
    with torch.no_grad():
        for p, piece in zip(params, np.split(flat, sizes)):
            p.copy_(torch.from_numpy(piece.reshape(p.shape)))
    return [p.detach().numpy() for p in params]


def _numpy(params, grads, fused):
    return _numpy_steps(LeanAdam(params, lr=LR, betas=BETAS, eps=EPS), params, grads, fused)


IMPLEMENTATIONS = {
    "torch machinery (SklearnAdam)": _with_torch_machinery,
    "FastAdamStep": _fast_adam_step,
    "LeanAdam": _lean_adam,
    "replayable update": _replayable,
    "numpy ufuncs": lambda params, grads: _numpy(params, grads, fused=False),
    "numpy fused kernel": lambda params, grads: _numpy(params, grads, fused=True),
}


@pytest.mark.parametrize("name", list(IMPLEMENTATIONS))
def test_every_implementation_is_sklearns_update(name):
    grads = _gradients()
    expected = _sklearn_params(grads)
    got = IMPLEMENTATIONS[name](_torch_params(), grads)
    for a, b in zip(got, expected):
        # The replayable update hands the kernel a float32 step size.
        rtol = 1e-7 if name == "replayable update" else 1e-13
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-15)


def test_torch_adam_is_a_different_rule():
    # The test above can tell the rules apart: torch's own Adam misses it.
    grads = _gradients()
    params = _torch_params()
    got = _run_torch(torch.optim.Adam(params, lr=LR, betas=BETAS, eps=EPS).step, params, grads)
    assert max(np.abs(a - b).max() for a, b in zip(got, _sklearn_params(grads))) > 1e-4


@pytest.mark.parametrize("writer", ["numpy step", "load_state_dict"])
def test_the_step_count_is_reread_after_another_writer(writer):
    # LeanAdam keeps its step count on the host; when something else has
    # written the count tensors it must continue from their count.
    grads = _gradients()
    params = _torch_params()
    optimizer = LeanAdam(params, lr=LR, betas=BETAS, eps=EPS)
    _run_torch(optimizer.step, params, grads[:3])  # a count of 3 on the host
    if writer == "numpy step":
        _numpy_steps(optimizer, params, grads[3:7])
    else:
        saved = copy.deepcopy(optimizer.state_dict())
        before = [p.detach().clone() for p in params]
        _run_torch(optimizer.step, params, grads[3:5])  # a detour, then back
        optimizer.load_state_dict(saved)
        with torch.no_grad():
            for p, b in zip(params, before):
                p.copy_(b)
    done = 7 if writer == "numpy step" else 3
    got = _run_torch(optimizer.step, params, grads[done:])
    for a, b in zip(got, _sklearn_params(grads)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("lr", ["float", "tensor"])
def test_decoupled_weight_decay_keeps_sklearns_rule(lr):
    # AdamW's decay (p *= 1 - lr * wd) and then scikit-learn's update, on the
    # fused kernel and on the replayable update.
    grads = _gradients()
    expected = _start()
    reference = AdamOptimizer(expected, LR, *BETAS, EPS)
    for g in grads:
        for p in expected:
            p *= 1 - LR * 0.1
        reference.update_params(expected, g)
    params = _torch_params()
    state = [[torch.zeros_like(p) for p in params] for _ in range(2)]
    steps = [torch.zeros((), dtype=torch.float32) for _ in params]
    rate = LR if lr == "float" else torch.tensor(LR, dtype=torch.float64)
    got = _run_torch(lambda: sklearn_adam_(params, *state, steps, lr=rate, betas=BETAS, eps=EPS,
                                           weight_decay=0.1, decoupled=True), params, grads)
    # (The replayable update hands the kernel a float32 step size.)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12 if lr == "float" else 1e-7, atol=1e-15)


def test_the_replayed_update_follows_changing_betas():
    # One-cycle moves beta1 every batch; the replayed update's device constants
    # must follow (its steps run eagerly then), and agree with the host's update.
    schedule = [(0.95 - 0.01 * k, 0.999 if k < 6 else 0.99) for k in range(STEPS)]
    results = []
    for lr in (LR, torch.tensor(LR, dtype=torch.float32)):
        params = _torch_params()
        optimizer = LeanAdam(params, lr=LR, betas=BETAS, eps=EPS)
        for g, betas in zip(_gradients(), schedule):
            optimizer.param_groups[0]["betas"] = betas
            _run_torch(functools.partial(optimizer.step, lr=lr), params, [g])
        results.append([p.detach().numpy() for p in params])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-7)


class _RecordOps(torch.utils._python_dispatch.TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(func.__name__)
        return func(*args, **(kwargs or {}))


def test_the_replayed_update_runs_few_kernels():
    # Every operation of the update a CUDA graph replays is a kernel at each
    # replay, most of them on 0-d tensors: the step size takes five, besides
    # the count's increment and the fused update.
    params = _torch_params()
    optimizer = LeanAdam(params, lr=LR, betas=BETAS, eps=EPS)
    lr = torch.tensor(LR, dtype=torch.float32)
    grads = _gradients()
    _run_torch(lambda: optimizer.step(lr=lr), params, grads[:2])  # warm-up, as before a capture
    with _RecordOps() as record:
        optimizer.step(lr=lr)
    kernels = [op for op in record.ops if not op.startswith("empty")]
    assert len(kernels) <= 7, kernels
    assert kernels[-1].startswith("_fused_adam_")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_replayed_update_on_a_gpu_is_sklearns(dtype):
    # On CUDA the fused kernel reads the step size as a float32 tensor and an
    # infinite step count; captured in a CUDA graph and replayed, it must still
    # be scikit-learn's update, step after step.
    grads = _gradients()
    expected = _sklearn_params(grads)
    device = torch.device("cuda")
    params = [p.detach().to(device, dtype).requires_grad_() for p in _torch_params()]
    for p in params:
        p.grad = torch.zeros_like(p)
    optimizer = LeanAdam(params, lr=LR, betas=BETAS, eps=EPS)
    lr = torch.tensor(LR, dtype=torch.float32, device=device)
    optimizer.step(lr=lr)  # an eager first step creates the state outside the graph
    graph = torch.cuda.CUDAGraph()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        graph.capture_begin()
        optimizer.step(lr=lr)
        graph.capture_end()
    torch.cuda.current_stream().wait_stream(stream)
    # The capture ran nothing: restart from the state after the eager step.
    with torch.no_grad():
        for p, start in zip(params, _torch_params()):
            p.copy_(start.to(device, dtype))
        for state in optimizer.state.values():
            for value in state.values():
                value.zero_()
    for g in grads:
        for p, gi in zip(params, g):
            p.grad.copy_(torch.from_numpy(gi))
        graph.replay()
    got = [p.detach().cpu().double().numpy() for p in params]
    rtol = 1e-7 if dtype == torch.float64 else 1e-5
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-7)
