"""Thread budget and the training copy of X (sknn._device), through the estimators."""

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

import sknn._device as device
import sknn._estimator_base as base
from sknn import TorchMLPClassifier

rng = np.random.RandomState(0)
X = rng.normal(size=(300, 6))
y = rng.randint(0, 3, 300)


def _blas_threads():
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_thread_budget_holds_small_work_to_one_thread_and_restores():
    torch_before, blas_before = torch.get_num_threads(), _blas_threads()
    with device.thread_budget(1_000, blas=True):
        assert torch.get_num_threads() == 1
        assert all(n == 1 for n in _blas_threads())
    assert torch.get_num_threads() == torch_before and _blas_threads() == blas_before
    with device.thread_budget(1_000):  # torch only
        assert torch.get_num_threads() == 1 and _blas_threads() == blas_before
    with device.thread_budget(device.PARALLEL_WORK, blas=True):  # big work: untouched
        assert torch.get_num_threads() == torch_before and _blas_threads() == blas_before


@pytest.mark.parametrize("hidden", [(4,), (1024, 1024)], ids=["numpy-objective", "torch"])
def test_lbfgs_runs_on_one_blas_thread_and_restores(monkeypatch, hidden):
    # scipy's L-BFGS-B calls BLAS on the parameter vector; threads of several
    # BLAS pools contending for the cores made it 3x slower.
    before = _blas_threads()
    seen = []

    def spy(**kwargs):
        seen.append(_blas_threads())
        return train_lbfgs(**kwargs)

    train_lbfgs = base.train_lbfgs
    monkeypatch.setattr(base, "train_lbfgs", spy)
    TorchMLPClassifier(hidden, solver="lbfgs", max_iter=2).fit(X, y)
    assert seen and all(n == 1 for n in seen[0])
    assert _blas_threads() == before


@pytest.mark.parametrize("numpy_path", [True, False])
def test_large_inputs_cast_per_batch_train_the_same_model(monkeypatch, numpy_path):
    # Below LAZY_CAST_BYTES X is copied to float32 once; above, batches of the
    # caller's float64 array are cast as they are taken. Same model either way.
    monkeypatch.setattr(base, "_NUMPY_PATH", numpy_path)
    X_user = X.copy()
    models = []
    for threshold in (1 << 40, 0):
        monkeypatch.setattr(device, "LAZY_CAST_BYTES", threshold)
        est = TorchMLPClassifier((16,), max_iter=5, batch_size=32, random_state=0)
        models.append(est.fit(X_user, y))
    np.testing.assert_array_equal(X_user, X)  # the caller's data is left as it was
    np.testing.assert_allclose(models[0].loss_curve_, models[1].loss_curve_, rtol=1e-6)
    for a, b in zip(models[0].coefs_, models[1].coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_lazy_cast_only_views_c_ordered_float64_cpu_arrays(monkeypatch):
    monkeypatch.setattr(device, "LAZY_CAST_BYTES", 0)
    cpu = torch.device("cpu")
    tensor, cast = device.training_inputs(X, torch.float32, cpu)
    assert cast == torch.float32 and tensor.dtype == torch.float64
    assert tensor.data_ptr() == X.__array_interface__["data"][0]  # a view, no copy
    for other in (np.asfortranarray(X), X.astype(np.float32)):
        tensor, cast = device.training_inputs(other, torch.float32, cpu)
        assert cast is None and tensor.dtype == torch.float32
    tensor, cast = device.training_inputs(X, torch.float64, cpu)
    assert cast is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("early_stopping", [False, True])
def test_cuda_fit_follows_the_cpu_fit(monkeypatch, early_stopping):
    """The same shuffles and steps on both devices (the GPU draws each next
    epoch's order ahead): float64 models agree to round-off."""
    monkeypatch.setattr(base, "_NUMPY_PATH", False)  # the torch step on both
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0)
    common = dict(hidden_layer_sizes=(8,), batch_size=32, max_iter=12, random_state=0,
                  compute_dtype="float64", early_stopping=early_stopping, n_iter_no_change=3)
    cpu = TorchMLPClassifier(device="cpu", **common).fit(X, y)
    gpu = TorchMLPClassifier(device="cuda", **common).fit(X, y)
    assert gpu.n_iter_ == cpu.n_iter_
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=1e-9)
    for a, b in zip(gpu.coefs_, cpu.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_with_zero_weight_batches_ends_as_the_cpu_fit(monkeypatch):
    """A batch whose weights sum to zero raises scikit-learn's error in the
    epoch that takes it; the GPU checks each next order ahead, and must not
    raise for an epoch that stopping leaves out."""
    monkeypatch.setattr(base, "_NUMPY_PATH", False)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5))
    y = (X[:, 0] > 0).astype(int)
    # Batches of 8 rows, half of them weighted 0: one batch in 256 weighs
    # nothing, about one epoch in seven has one; tol=1e9 stops after 4 epochs.
    sw = (rng.uniform(size=300) < 0.5).astype(float)
    ends = {}
    for seed in range(24):
        for where in ("cpu", "cuda"):
            est = TorchMLPClassifier(hidden_layer_sizes=(8,), batch_size=8, max_iter=30,
                                     n_iter_no_change=2, tol=1e9, random_state=seed,
                                     device=where, compute_dtype="float64")
            try:
                est.fit(X, y, sample_weight=sw)
                ends[seed, where] = ("stopped", est.n_iter_)
            except ZeroDivisionError as exc:
                ends[seed, where] = ("raised", str(exc))
    assert {end[0] for end in ends.values()} == {"stopped", "raised"}
    assert all(ends[seed, "cuda"] == ends[seed, "cpu"] for seed in range(24)), ends


def test_module_on_the_current_cuda_device_counts_as_placed_for_device_cuda(monkeypatch):
    # device="cuda" names the current device; its tensors say cuda:N. Each
    # partial_fit call would otherwise walk every module with Module.to.
    from types import SimpleNamespace

    def fake(index, dtype=torch.float32):
        return SimpleNamespace(device=torch.device("cuda", index), dtype=dtype,
                               is_floating_point=lambda: True)

    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    cuda = torch.device("cuda")
    assert base._placed([fake(1), fake(1)], cuda, torch.float32)
    assert not base._placed([fake(1), fake(0)], cuda, torch.float32)
    assert not base._placed([fake(1, torch.float64)], cuda, torch.float32)
    assert base._placed([fake(0)], torch.device("cuda:0"), torch.float32)
    assert not base._placed([fake(0)], torch.device("cuda:1"), torch.float32)
