"""``MLPModule`` on its own, in a skorch net, and the estimators' ``summary()``."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal

from sknn import MLPModule, ModelSummary, TorchMLPClassifier, TorchMLPRegressor
from sknn._initializers import INITIALIZERS


@pytest.mark.parametrize("hidden", [(), (7,), (7, 5, 3)])
def test_module_output_shape_and_linear_layers(hidden):
    module = MLPModule(4, hidden, 3, random_state=0)
    out = module(torch.zeros(6, 4))
    assert out.shape == (6, 3)
    linears = module.linear_layers()
    assert len(linears) == len(hidden) + 1
    units = [4, *hidden, 3]
    assert [(m.in_features, m.out_features) for m in linears] == list(zip(units[:-1], units[1:]))
    assert all(isinstance(m, torch.nn.Linear) for m in linears)


def test_module_returns_raw_scores_without_output_activation():
    module = MLPModule(4, (8,), 2, init="normal", init_kwargs={"std": 5.0}, random_state=0)
    out = module(torch.randn(50, 4, generator=torch.Generator().manual_seed(0)))
    assert (out < 0).any() and (out.abs() > 1).any()


def test_module_dtype_and_device_are_honoured():
    module = MLPModule(3, (4,), 1, normalization="layer", dtype=torch.float64, device="cpu")
    assert all(p.dtype == torch.float64 for p in module.parameters())
    assert all(p.device.type == "cpu" for p in module.parameters())
    assert module(torch.zeros(2, 3, dtype=torch.float64)).dtype == torch.float64


@pytest.mark.parametrize("init", sorted(INITIALIZERS))
def test_module_init_is_reproducible_from_random_state(init):
    kwargs = {k: 0.2 for k in INITIALIZERS[init].required} or None
    a = MLPModule(5, (6, 4), 2, init=init, init_kwargs=kwargs, random_state=0)
    b = MLPModule(5, (6, 4), 2, init=init, init_kwargs=kwargs,
                  random_state=np.random.RandomState(0))
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.isfinite(pa).all()
        assert torch.equal(pa, pb)


def test_module_construction_leaves_the_global_torch_rng_untouched():
    state = torch.random.get_rng_state()
    for init in INITIALIZERS:
        kwargs = {k: 0.2 for k in INITIALIZERS[init].required} or None
        MLPModule(5, (6,), 2, init=init, init_kwargs=kwargs, random_state=0)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_module_rejects_bad_dropout_and_normalization():
    with pytest.raises(ValueError, match="dropout"):
        MLPModule(4, (8, 8), 2, dropout=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="normalization"):
        MLPModule(4, (8,), 2, normalization="group")


def test_set_generator_makes_dropout_and_rrelu_reproducible():
    module = MLPModule(4, (32, 32), 2, activation="rrelu", dropout=0.5, random_state=0)
    assert module.has_random_layers()
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    module.train()
    state = torch.random.get_rng_state()
    module.set_generator(torch.Generator().manual_seed(123))
    first = module(x)
    second = module(x)
    module.set_generator(torch.Generator().manual_seed(123))
    again = module(x)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(first, again)
    assert not torch.equal(first, second)
    # Without a generator the layers fall back to the global torch RNG.
    module.set_generator(None)
    torch.manual_seed(0)
    a = module(x)
    torch.manual_seed(0)
    b = module(x)
    torch.random.set_rng_state(state)
    assert torch.equal(a, b)


def test_has_random_layers_is_false_without_dropout_or_rrelu():
    assert not MLPModule(4, (8,), 2, activation="relu", dropout=0.0).has_random_layers()
    assert MLPModule(4, (8,), 2, activation="relu", dropout=0.1).has_random_layers()


def test_module_trains_in_a_plain_torch_loop(iris32):
    X, y = map(torch.from_numpy, iris32)
    module = MLPModule(4, (16,), 3, random_state=0)
    opt = torch.optim.Adam(module.parameters(), lr=0.05)
    for _ in range(60):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(module(X), y)
        loss.backward()
        opt.step()
    assert (module(X).argmax(1) == y).float().mean() > 0.9


# ---------------------------------------------------------------------------
# summary()
@pytest.mark.parametrize("Estimator", [TorchMLPClassifier, TorchMLPRegressor])
def test_summary_counts_every_parameter(Estimator, iris):
    est = Estimator(hidden_layer_sizes=(8, 5), normalization="batch", dropout=0.1, max_iter=1,
                    random_state=0)
    summary = est.fit(*iris).summary()
    assert isinstance(summary, ModelSummary)
    total = sum(p.numel() for p in est.module_.parameters())
    assert summary.total_params == total == summary.trainable_params
    assert len(summary.rows) == len(est.module_.layers)
    assert sum(row.n_params for row in summary.rows) == total
    assert summary.rows[-1].output_shape == (-1, est.n_outputs_)
    text = str(summary)
    assert "Total params" in text
    assert f"{total:,}" in text
    assert "BatchNorm1d" in text and "Dropout" in text


def test_summary_sizes_follow_torchsummary(iris):
    # The lecture's phone-price network, as torchsummary prints it for a
    # batch of 16: 36,740 parameters, "Params size (MB): 0.14".
    X = np.random.RandomState(0).normal(size=(40, 20))
    y = np.arange(40) % 4
    est = TorchMLPClassifier((128, 256), max_iter=1, random_state=0).fit(X, y)
    summary = est.summary(batch_size=16)
    assert [row.output_shape for row in summary.rows] == [
        (16, 128), (16, 128), (16, 256), (16, 256), (16, 4)]
    assert summary.total_params == 36_740
    mb = 1024**2
    assert summary.params_mb == pytest.approx(36_740 * 4 / mb)
    assert summary.input_mb == pytest.approx(20 * 16 * 4 / mb)
    assert summary.forward_backward_mb == pytest.approx(2 * 16 * (128 * 2 + 256 * 2 + 4) * 4 / mb)
    text = str(summary)
    assert "[16, 128]" in text and "Params size (MB): 0.14" in text
    assert "Estimated Total Size (MB): 0.24" in text
    assert est.summary().rows[0].output_shape == (-1, 128)
    with pytest.raises(ValueError, match="batch_size must be -1 or a positive integer"):
        est.summary(batch_size=0)


def test_summary_before_fit_raises_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TorchMLPClassifier().summary()


# ---------------------------------------------------------------------------
# skorch
def test_module_is_a_skorch_module(iris32):
    skorch = pytest.importorskip("skorch")
    X, y = iris32
    net = skorch.NeuralNetClassifier(
        module=MLPModule,
        module__n_features=4,
        module__hidden_layer_sizes=(16,),
        module__n_outputs=3,
        module__activation="tanh",
        module__random_state=0,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=0.05,
        max_epochs=20,
        batch_size=32,
        train_split=None,
        verbose=0,
    )
    net.fit(X, y)
    assert isinstance(net.module_, MLPModule)
    assert np.mean(net.predict(X) == y) > 0.8
    proba = net.predict_proba(X)
    assert proba.shape == (150, 3)
    # The module holds raw scores; skorch's classifier applies the softmax.
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert_array_equal(net.predict(X), proba.argmax(axis=1))


@pytest.mark.parametrize("options", [{}, {"dropout": 0.3, "normalization": "batch"},
                                     {"activation": "rrelu", "normalization": "layer"}])
def test_deepcopy_gives_an_independent_equal_module_and_keeps_optimizer_links(options):
    import copy

    from sknn._lean_adam import LeanAdam

    module = MLPModule(5, (8, 6), 3, random_state=0, **options)
    calls = []
    module.register_forward_hook(lambda *args: calls.append(1))
    optimizer = LeanAdam(module.parameters(), lr=0.01)
    X = torch.randn(16, 5)
    module(X).sum().backward()
    optimizer.step()
    new_module, new_optimizer = copy.deepcopy((module, optimizer))
    assert type(new_module) is MLPModule and str(new_module) == str(module)
    for (name, a), (name_b, b) in zip(module.state_dict().items(),
                                      new_module.state_dict().items()):
        assert name == name_b and torch.equal(a, b) and a.data_ptr() != b.data_ptr()
    module.eval(), new_module.eval()
    assert torch.equal(module(X), new_module(X))
    assert len(calls) == 3  # hooks are carried over, as deepcopy does
    # The copied optimizer steps the copied parameters, from copied state.
    new_params = list(new_module.parameters())
    assert new_optimizer.param_groups[0]["params"] == new_params
    assert set(map(id, new_optimizer.state)) == set(map(id, new_params))
    before = [p.detach().clone() for p in module.parameters()]
    new_module.train()
    new_module(X).sum().backward()
    new_optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(before, module.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(before, new_module.parameters()))
    assert float(optimizer.state[next(module.parameters())]["step"]) == 1.0
