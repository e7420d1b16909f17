"""Named solvers run torch.optim's own optimizers minus the compiler guards.

The twins in ``sknn._lean_optim`` must step, save and load exactly like the
torch classes, and a fit with any named solver must not import torch._dynamo.
"""

import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from _targets import TARGETS, X

from sknn import TorchMLPClassifier
from sknn._lean_optim import TWINS
from sknn._optimizers import OPTIMIZERS

# Per class: the defaults and settings that take other branches of its step.
SETTINGS = {
    torch.optim.Adam: [{}, {"amsgrad": True, "weight_decay": 0.1}, {"maximize": True}],
    torch.optim.AdamW: [{}, {"amsgrad": True}],
    torch.optim.Adamax: [{}, {"weight_decay": 0.1}],
    torch.optim.NAdam: [{}, {"decoupled_weight_decay": True, "weight_decay": 0.1}],
    torch.optim.RAdam: [{}, {"decoupled_weight_decay": True, "weight_decay": 0.1}],
    torch.optim.RMSprop: [{}, {"centered": True, "momentum": 0.5}],
    torch.optim.Adagrad: [{}, {"lr_decay": 0.1, "initial_accumulator_value": 0.2}],
    torch.optim.Adadelta: [{}, {"rho": 0.5, "weight_decay": 0.1}],
    torch.optim.ASGD: [{}, {"t0": 2.0, "lambd": 0.1}],
}
CASES = [(cls, kw) for cls, settings in SETTINGS.items() for kw in settings]
IDS = [f"{cls.__name__}-{'-'.join(kw) or 'defaults'}" for cls, kw in CASES]


def _train(optimizer_cls, kwargs, steps=6):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    optimizer = optimizer_cls(net.parameters(), lr=0.05, **kwargs)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    data = torch.Generator().manual_seed(1)
    for _ in range(steps):
        Xb, yb = torch.randn(8, 4, generator=data), torch.randn(8, 2, generator=data)
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(net(Xb), yb).backward()
        optimizer.step()
        schedule.step()
    return net, optimizer


def test_every_named_solver_has_a_twin():
    named = {spec.cls for spec in OPTIMIZERS.values() if spec.cls is not None}
    # 'sgd' and 'adam' are scikit-learn's updates (sknn's classes, built on the twins' methods).
    own = {OPTIMIZERS["sgd"].cls, OPTIMIZERS["adam"].cls}
    assert named - own == set(TWINS) - {torch.optim.Adam}
    assert issubclass(OPTIMIZERS["adam"].cls, TWINS[torch.optim.Adam])
    for cls, twin in TWINS.items():
        assert issubclass(twin, cls) and twin.__name__ == cls.__name__


@pytest.mark.parametrize("cls, kwargs", CASES, ids=IDS)
def test_twin_steps_saves_and_loads_like_torch(cls, kwargs):
    net, optimizer = _train(cls, kwargs)
    twin_net, twin = _train(TWINS[cls], kwargs)
    for p, q in zip(net.parameters(), twin_net.parameters()):
        torch.testing.assert_close(q, p, rtol=0, atol=0)
    saved, twin_saved = optimizer.state_dict(), twin.state_dict()
    assert twin_saved["param_groups"] == saved["param_groups"]
    for i, entry in saved["state"].items():
        assert set(twin_saved["state"][i]) == set(entry)
        for key, value in entry.items():
            torch.testing.assert_close(twin_saved["state"][i][key], value, rtol=0, atol=0)
    # States move both ways, and training goes on identically.
    twin.load_state_dict(copy.deepcopy(saved))
    optimizer.load_state_dict(copy.deepcopy(twin_saved))
    for opt, model in ((optimizer, net), (twin, twin_net)):
        opt.zero_grad()
        model(torch.ones(3, 4)).sum().backward()
        opt.step()
    for p, q in zip(net.parameters(), twin_net.parameters()):
        torch.testing.assert_close(q, p, rtol=0, atol=0)


def test_twin_keeps_grad_mode_runs_hooks_and_pickles():
    param = torch.nn.Parameter(torch.ones(3))
    twin = TWINS[torch.optim.RMSprop]([param], lr=0.1)
    calls = []
    twin.register_step_pre_hook(lambda opt, args, kwargs: calls.append("pre"))
    twin.register_step_post_hook(lambda opt, args, kwargs: calls.append("post"))
    param.grad = torch.ones(3)
    assert torch.is_grad_enabled()
    twin.step(lambda: calls.append("closure"))
    assert torch.is_grad_enabled()
    assert calls == ["pre", "closure", "post"]
    # The in-place update of a leaf that requires grad only works with grad off.
    assert (param.detach() < 1).all()
    restored = pickle.loads(pickle.dumps(twin))
    assert type(restored) is type(twin)
    assert restored.state_dict()["param_groups"] == twin.state_dict()["param_groups"]


@pytest.mark.parametrize("solver", sorted(set(OPTIMIZERS) - {"lbfgs", "sgd"}))
def test_named_solver_fits_the_same_model_as_its_torch_class(solver):
    Estimator, y = TARGETS["multiclass"]
    spec = OPTIMIZERS[solver]
    common = {"hidden_layer_sizes": (6,), "max_iter": 8, "batch_size": 32, "random_state": 0}
    named = Estimator(solver=solver, **common).fit(X, y)
    kwargs = {k: v for k, v in spec.kwargs(named.get_params()).items() if k != "lr"}
    plain = Estimator(solver=spec.cls, optimizer_kwargs=kwargs or None, **common).fit(X, y)
    assert type(plain._optimizer) is spec.cls
    if solver != "adam":  # the default adam is LeanAdam, see test_fast_path.py
        assert type(named._optimizer) is TWINS[spec.cls]
    np.testing.assert_allclose(named.loss_curve_, plain.loss_curve_, rtol=1e-6)
    for a, b in zip(named.coefs_, plain.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_no_named_solver_or_scheduler_imports_the_compiler():
    # torch._dynamo (imported by torch.optim's guards) costs ~1 s and 70 MiB
    # per process: fits, schedules, pickling and resuming must all avoid it.
    code = (
        "import pickle, sys, numpy as np\n"
        "from sknn import TorchMLPClassifier, TorchMLPRegressor\n"
        "from sknn._optimizers import OPTIMIZERS\n"
        "X = np.random.rand(30, 3); y = np.arange(30) % 2\n"
        "for solver in OPTIMIZERS:\n"
        "    for scheduler in ([None] if solver == 'lbfgs' else [None, 'cosine', 'plateau']):\n"
        "        est = TorchMLPClassifier((4,), max_iter=3, solver=solver,\n"
        "                                 lr_scheduler=scheduler).fit(X, y)\n"
        "        est.predict(X)\n"
        "        est = pickle.loads(pickle.dumps(est))\n"
        "        if solver != 'lbfgs':\n"
        "            est.partial_fit(X, y)\n"
        "TorchMLPRegressor(hidden_layer_sizes=(4,), max_iter=3, solver='rmsprop')"
        ".fit(X, y.astype(float))\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"


def test_user_optimizer_class_is_used_as_given():
    Estimator, y = TARGETS["multiclass"]
    est = TorchMLPClassifier((4,), max_iter=2, solver=torch.optim.RMSprop).fit(X, y)
    assert type(est._optimizer) is torch.optim.RMSprop
