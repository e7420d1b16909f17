"""No host sync inside an epoch on the torch paths (what a GPU run relies on).

On a GPU every read of a device value (``.item()``, ``.tolist()``, ``bool(t)``,
``float(t)``, ``.numpy()``) waits for all queued kernels. The engine reads
the epoch's losses once at its end. Here, on the CPU, the calls themselves are
counted: the count of a fit must not grow with the number of batches per epoch.
"""

import numpy as np
import pytest
import torch

import sknn._estimator_base as base
from sknn import TorchMLPClassifier, TorchMLPRegressor

READS = ("item", "tolist", "__bool__", "__float__", "__int__", "__index__", "numpy")


def _count_reads(fit):
    calls = []
    with pytest.MonkeyPatch.context() as patch:
        for name in READS:
            original = getattr(torch.Tensor, name)

            def counted(self, *args, _original=original, _name=name, **kwargs):
                calls.append(_name)
                return _original(self, *args, **kwargs)

            patch.setattr(torch.Tensor, name, counted)
        fit()
    return calls


CONFIGS = {
    "hand-derived step": {},
    "autograd step": {"activation": torch.nn.Hardshrink},
    "layer norm": {"normalization": "layer"},
    "batch norm and prelu": {"normalization": "batch", "activation": "prelu"},
    "rrelu": {"activation": "rrelu"},
    "huber": {"loss": "huber"},
    "autocast": {"autocast": "bfloat16"},
    "early stopping": {"early_stopping": True, "n_iter_no_change": 100},
    "sgd adaptive": {"solver": "sgd", "learning_rate": "adaptive"},
    "onecycle": {"lr_scheduler": "onecycle"},
    "plateau": {"lr_scheduler": "plateau", "early_stopping": True},
    "rmsprop": {"solver": "rmsprop"},
    "dropout": {"dropout": 0.2},
}


@pytest.mark.parametrize("Estimator", [TorchMLPClassifier, TorchMLPRegressor])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_reads_per_fit_do_not_grow_with_batches(monkeypatch, Estimator, config):
    # The numpy step is a CPU-only path; the torch steps are what runs on a GPU.
    monkeypatch.setattr(base, "_NUMPY_PATH", False)
    if "loss" in CONFIGS[config] and Estimator is TorchMLPClassifier:
        pytest.skip("a regressor's loss")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 6))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0) if Estimator is TorchMLPClassifier \
        else X[:, 0] + X[:, 1] ** 2
    sw = rng.uniform(0.5, 2.0, size=400)
    counts = []
    for batch_size in (200, 20):  # 2 and 20 batches per epoch
        est = Estimator(hidden_layer_sizes=(16,), max_iter=4, batch_size=batch_size,
                        tol=0.0, random_state=0, **CONFIGS[config])
        with pytest.warns(Warning):  # max_iter reached
            reads = _count_reads(lambda est=est: est.fit(X, y, sample_weight=sw))
        counts.append(len(reads))
    assert counts[0] >= 4  # the epochs' losses are read (the counting works)
    assert counts[0] == counts[1], f"{counts}: reads scale with the batches"


def _cuda_syncs(fit):
    """Synchronizing CUDA calls made by ``fit``, as torch's sync debug mode reports them."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            fit()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return [w for w in caught if "synchronizing" in str(w.message)]


CUDA_CONFIGS = {
    **{name: CONFIGS[name] for name in ["hand-derived step", "autograd step",
                                        "batch norm and prelu", "rrelu", "autocast",
                                        "early stopping", "dropout"]},
    # The autograd path's Dropout draws a fresh mask at every step.
    "autograd step with dropout": {"activation": torch.nn.Hardshrink, "dropout": 0.2},
    "asgd": {"solver": "asgd"},  # torch's ASGD reads its step back unless capturable
    "cuda graphs": {"cuda_graphs": True},
    "cuda graphs, autocast": {"cuda_graphs": True, "autocast": "bfloat16"},
}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("config", list(CUDA_CONFIGS))
def test_cuda_syncs_per_fit_do_not_grow_with_batches(config):
    """The same property on a GPU, counted by torch itself rather than by patching."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 6))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    counts, where = [], []
    for batch_size in (200, 20):  # 2 and 20 batches per epoch
        est = TorchMLPClassifier(hidden_layer_sizes=(16,), max_iter=4, batch_size=batch_size,
                                 tol=0.0, random_state=0, device="cuda", **CUDA_CONFIGS[config])
        est.fit(X, y)  # warm-up: lazy CUDA initialisation syncs once
        syncs = _cuda_syncs(lambda est=est: est.fit(X, y))
        counts.append(len(syncs))
        where.append(sorted(f"{w.filename.rsplit('/', 1)[-1]}:{w.lineno}" for w in syncs))
    assert counts[0] >= 4, counts  # the epochs' losses are read (the counting works)
    # Ten times the batches, no more syncs (set-up syncs, such as the caching
    # allocator's first allocations, may differ by shape).
    assert counts[1] <= counts[0], f"{counts}: syncs grow with the batches: {where}"
