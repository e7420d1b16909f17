"""ManualMLPGrad must match autograd on scikit-learn's loss definitions."""

import itertools

import pytest
import torch
from _activations import ACTIVATION_CASES, IDS

from sknn._adam_update import SklearnAdam
from sknn._fast_mlp import OUTPUTS, FastAdamStep, ManualMLPGrad, make_fast_step
from sknn._pointwise import as_rule

TOL = {torch.float64: 1e-10, torch.float32: 1e-5}
N_IN, HIDDEN, N_OUT, N = 5, (7, 6), 3, 11


def _reference(weights, biases, act, output, alpha, X, Y, sw):
    """Losses and gradients by autograd, written literally from the definitions
    (``act``: the hidden activation)."""
    ws = [w.detach().clone().requires_grad_(True) for w in weights]
    bs = [b.detach().clone().requires_grad_(True) for b in biases]
    a = X
    for i, (w, b) in enumerate(zip(ws, bs)):
        a = a @ w.T + b
        if i < len(ws) - 1:
            a = act(a)
    z = a
    w_s = torch.ones(X.shape[0], dtype=X.dtype) if sw is None else sw
    sw_sum = w_s.sum()
    if output == "identity":
        per = 0.5 * (z - Y) ** 2
    elif output == "logistic":
        # -[y log p + (1 - y) log(1 - p)] with p = sigmoid(z), via logsigmoid.
        per = -(
            Y * torch.nn.functional.logsigmoid(z) + (1 - Y) * torch.nn.functional.logsigmoid(-z)
        )
    elif output == "softmax":
        per = -Y * torch.log_softmax(z, dim=1)
    else:
        per = torch.special.xlogy(Y, Y) - Y * z - Y + torch.exp(z)
    data_loss = (per.sum(1) * w_s).sum() / sw_sum
    penalty = 0.5 * alpha * sum((w**2).sum() for w in ws) / sw_sum
    (data_loss + penalty).backward()
    return data_loss.detach(), penalty.detach(), [w.grad for w in ws], [b.grad for b in bs]


def _problem(output, dtype, weighted, seed=0, n=N):
    g = torch.Generator().manual_seed(seed)
    sizes = [N_IN, *HIDDEN, N_OUT]
    weights = [
        torch.nn.Parameter(torch.randn(o, i, generator=g, dtype=dtype) * 0.7)
        for i, o in itertools.pairwise(sizes)
    ]
    biases = [torch.nn.Parameter(torch.randn(o, generator=g, dtype=dtype) * 0.3) for o in sizes[1:]]
    X = torch.randn(n, N_IN, generator=g, dtype=dtype)
    if output == "softmax":
        Y = torch.nn.functional.one_hot(torch.randint(N_OUT, (n,), generator=g), N_OUT).to(dtype)
    elif output == "logistic":
        Y = torch.randint(2, (n, N_OUT), generator=g).to(dtype)
    elif output == "exp":
        Y = torch.poisson(torch.full((n, N_OUT), 2.0, dtype=dtype), generator=g)
    else:
        Y = torch.randn(n, N_OUT, generator=g, dtype=dtype)
    sw = torch.rand(n, generator=g, dtype=dtype) * 2 + 0.1 if weighted else None
    return weights, biases, X, Y, sw


def _assert_close(actual, expected, tol):
    torch.testing.assert_close(actual, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=IDS)
def test_matches_autograd(case, output, weighted, dtype):
    alpha = 0.37
    _, name, kwargs, definition = case
    weights, biases, X, Y, sw = _problem(output, dtype, weighted)
    grad_fn = ManualMLPGrad(weights, biases, as_rule(name, kwargs), output, alpha)
    ref_loss, ref_pen, ref_gw, ref_gb = _reference(
        weights, biases, definition, output, alpha, X, Y, sw
    )
    tol = TOL[dtype]
    if dtype == torch.float32 and name not in ("identity", "relu", "tanh", "logistic"):
        # The literal definitions (erf, exp, log1p composed) round differently
        # from torch's fused kernels; float64 above holds them to 1e-10.
        tol = 1e-4
    # Twice: the second call reuses the cached buffers and .grad tensors and
    # must overwrite (not accumulate into) the gradients.
    for _ in range(2):
        loss, pen = grad_fn(X, Y, sw)
        assert loss.shape == () and pen.shape == ()
        _assert_close(loss, ref_loss, tol)
        _assert_close(pen, ref_pen, tol)
        for p, ref in zip(weights + biases, ref_gw + ref_gb):
            _assert_close(p.grad, ref, tol)


@pytest.mark.parametrize("output", OUTPUTS)
def test_alpha_zero_and_batch_size_change(output):
    dtype = torch.float64
    weights, biases, *_ = _problem(output, dtype, False, seed=1, n=9)
    grad_fn = ManualMLPGrad(weights, biases, "relu", output, 0.0)
    grad_ptrs = None
    for n in (9, 4, 9):  # full batch, smaller last batch, back to full
        _, _, Xb, Yb, _ = _problem(output, dtype, False, seed=n, n=n)
        loss, pen = grad_fn(Xb, Yb)
        ref_loss, _, ref_gw, ref_gb = _reference(weights, biases, torch.relu, output, 0.0, Xb, Yb,
                                              None)
        _assert_close(loss, ref_loss, 1e-10)
        assert float(pen) == 0.0
        for p, ref in zip(weights + biases, ref_gw + ref_gb):
            _assert_close(p.grad, ref, 1e-10)
        # .grad tensors are allocated on the first call, then reused in place.
        ptrs = [p.grad.data_ptr() for p in weights + biases]
        assert grad_ptrs is None or ptrs == grad_ptrs
        grad_ptrs = ptrs


def test_logistic_is_stable_for_large_logits():
    dtype = torch.float64
    w = [torch.nn.Parameter(torch.tensor([[500.0], [-500.0]], dtype=dtype))]
    b = [torch.nn.Parameter(torch.zeros(2, dtype=dtype))]
    X = torch.ones(1, 1, dtype=dtype)
    Y = torch.tensor([[0.0, 1.0]], dtype=dtype)  # both maximally wrong
    loss, _ = ManualMLPGrad(w, b, "relu", "logistic", 0.0)(X, Y)
    _assert_close(loss, torch.tensor(1000.0, dtype=dtype), 1e-12)
    assert torch.isfinite(w[0].grad).all()


def test_single_layer_and_zero_grad_none():
    # No hidden layer at all (a linear/logistic model) must also work, and a
    # caller resetting .grad to None must get fresh gradients.
    dtype = torch.float64
    g = torch.Generator().manual_seed(3)
    w = [torch.nn.Parameter(torch.randn(3, 4, generator=g, dtype=dtype))]
    b = [torch.nn.Parameter(torch.randn(3, generator=g, dtype=dtype))]
    X = torch.randn(6, 4, generator=g, dtype=dtype)
    Y = torch.nn.functional.one_hot(torch.arange(6) % 3, 3).to(dtype)
    fn = ManualMLPGrad(w, b, "tanh", "softmax", 0.5)
    fn(X, Y)
    w[0].grad = None
    b[0].grad = None
    loss, pen = fn(X, Y)
    ref_loss, ref_pen, ref_gw, ref_gb = _reference(w, b, torch.tanh, "softmax", 0.5, X, Y, None)
    _assert_close(loss, ref_loss, 1e-10)
    _assert_close(pen, ref_pen, 1e-10)
    _assert_close(w[0].grad, ref_gw[0], 1e-10)
    _assert_close(b[0].grad, ref_gb[0], 1e-10)


def test_forward_matches_module():
    dtype = torch.float32
    weights, biases, X, _, _ = _problem("identity", dtype, False)
    fn = ManualMLPGrad(weights, biases, "tanh", "identity", 0.0)
    ref = X
    for i, (w, b) in enumerate(zip(weights, biases)):
        ref = torch.nn.functional.linear(ref, w, b)
        if i < len(weights) - 1:
            ref = torch.tanh(ref)
    _assert_close(fn.forward(X), ref.detach(), 1e-5)


def test_invalid_arguments():
    w = [torch.nn.Parameter(torch.zeros(2, 2))]
    b = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(ValueError, match="activation"):
        ManualMLPGrad(w, b, "prelu", "identity", 0.0)
    with pytest.raises(ValueError, match="output"):
        ManualMLPGrad(w, b, "relu", "tanh", 0.0)
    with pytest.raises(ValueError, match="equal length"):
        ManualMLPGrad(w, [], "relu", "identity", 0.0)


def test_parameter_updates_are_seen():
    # In-place updates (what optimizers do) and storage swaps (p.data = ...)
    # must both be picked up by the cached weight views.
    dtype = torch.float64
    weights, biases, X, Y, _ = _problem("softmax", dtype, False, seed=4)
    fn = ManualMLPGrad(weights, biases, "tanh", "softmax", 0.1)
    fn(X, Y)
    with torch.no_grad():
        weights[0].mul_(0.5)
    weights[1].data = weights[1].data * 2.0
    loss, pen = fn(X, Y)
    ref_loss, ref_pen, ref_gw, ref_gb = _reference(
        weights, biases, torch.tanh, "softmax", 0.1, X, Y, None
    )
    _assert_close(loss, ref_loss, 1e-10)
    _assert_close(pen, ref_pen, 1e-10)
    for p, ref in zip(weights + biases, ref_gw + ref_gb):
        _assert_close(p.grad, ref, 1e-10)


def _adam_pair(opt_cls, dtype, **kw):
    params = []
    for _ in range(2):
        g = torch.Generator().manual_seed(5)
        ps = [
            torch.nn.Parameter(torch.randn(4, 3, generator=g, dtype=dtype)),
            torch.nn.Parameter(torch.randn(4, generator=g, dtype=dtype)),
        ]
        params.append(ps)
    return params, opt_cls(params[0], **kw), opt_cls(params[1], **kw)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(
    "opt_cls, kw",
    [
        (torch.optim.Adam, {"lr": 1e-2, "foreach": True}),
        (torch.optim.Adam, {"lr": 1e-2, "fused": True, "weight_decay": 0.1}),
        (torch.optim.AdamW, {"lr": 1e-2, "weight_decay": 0.1, "eps": 1e-3}),
        # scikit-learn's rule (solver="adam"); a large eps shows where it sits.
        (SklearnAdam, {"lr": 1e-2, "weight_decay": 0.1, "eps": 1e-3}),
        (SklearnAdam, {"lr": 1e-2, "weight_decay": 0.1, "eps": 1e-3,
                       "decoupled_weight_decay": True}),
    ],
    ids=["adam-foreach", "adam-fused-wd", "adamw", "sklearn", "sklearn-decoupled"],
)
def test_fast_adam_matches_optimizer_step(opt_cls, kw, dtype):
    (p_ref, p_fast), opt_ref, opt_fast = _adam_pair(opt_cls, dtype, **kw)
    g = torch.Generator().manual_seed(6)
    grads = [[torch.randn(p.shape, generator=g, dtype=dtype) for p in p_ref] for _ in range(5)]
    # One ordinary step first: the fast stepper must continue from that state.
    for ps, opt in ((p_ref, opt_ref), (p_fast, opt_fast)):
        for p, gr in zip(ps, grads[0]):
            p.grad = gr.clone()
        opt.step()
    fast = FastAdamStep(opt_fast)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt_fast, 0.5)
    sched_ref = torch.optim.lr_scheduler.ExponentialLR(opt_ref, 0.5)
    for step_grads in grads[1:]:
        for p, gr in zip(p_ref, step_grads):
            p.grad = gr.clone()
        for p, gr in zip(p_fast, step_grads):
            p.grad.copy_(gr)
        opt_ref.step()
        fast.step()
        sched.step()
        sched_ref.step()
    for a, b in zip(p_fast, p_ref):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    assert int(opt_fast.state[p_fast[0]]["step"]) == 5
    torch.testing.assert_close(
        opt_fast.state[p_fast[0]]["exp_avg_sq"], opt_ref.state[p_ref[0]]["exp_avg_sq"]
    )


def test_fast_adam_supports():
    p = [torch.nn.Parameter(torch.zeros(3))]
    assert FastAdamStep.supports(torch.optim.Adam(p))
    assert not FastAdamStep.supports(torch.optim.Adam(p, amsgrad=True))
    assert not FastAdamStep.supports(torch.optim.Adam(p, maximize=True))
    assert not FastAdamStep.supports(torch.optim.SGD(p, lr=0.1))
    assert not FastAdamStep.supports(
        torch.optim.Adam([{"params": p}, {"params": [torch.nn.Parameter(torch.zeros(2))]}])
    )
    with pytest.raises(ValueError, match="not supported"):
        FastAdamStep(torch.optim.NAdam(p))


def test_make_fast_step_reports_objective():
    dtype = torch.float64
    weights, biases, X, Y, sw = _problem("logistic", dtype, True, seed=8)
    step = make_fast_step(weights, biases, "relu", "logistic", 0.2)
    reported = step(X, Y, sw, sw.sum())
    ref_loss, ref_pen, ref_gw, _ = _reference(weights, biases, torch.relu, "logistic", 0.2, X, Y,
                                                 sw)
    _assert_close(reported, ref_loss + ref_pen, 1e-10)
    _assert_close(weights[0].grad, ref_gw[0], 1e-10)
