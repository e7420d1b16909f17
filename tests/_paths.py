"""Fitting one configuration on the numpy step and without it, and comparing the models.

Shared by the tests of the numpy step's layers (normalisation, PReLU/RReLU):
without the numpy step those networks train through autograd.
"""

import numpy as np
from _targets import TARGETS, X

import sknn._estimator_base as base

DEFAULTS = {"hidden_layer_sizes": (7, 6), "max_iter": 12, "batch_size": 32, "random_state": 0,
            "alpha": 1e-2, "tol": 0.0, "n_iter_no_change": 100, "compute_dtype": "float64"}


def both_paths(monkeypatch, target, fit=None, **params):
    """``[numpy step's model, the other path's model]`` for one target of
    tests/_targets.py; ``fit(est, y)`` replaces ``est.fit(X, y)``."""
    Estimator, y = TARGETS[target]
    if target == "poisson":
        params["loss"] = "poisson"
    models = []
    for numpy_path in (True, False):
        monkeypatch.setattr(base, "_NUMPY_PATH", numpy_path)
        est = Estimator(**{**DEFAULTS, **params})
        models.append(est.fit(X, y) if fit is None else fit(est, y))
    monkeypatch.setattr(base, "_NUMPY_PATH", True)
    return models


def assert_same_state(a, b, rtol=1e-9, atol=1e-10):
    """Same loss curve, and the same module state (parameters and buffers)."""
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=rtol)
    sa, sb = a.module_.state_dict(), b.module_.state_dict()
    assert sa.keys() == sb.keys()
    for key in sb:
        np.testing.assert_allclose(sa[key].cpu(), sb[key].cpu(), rtol=rtol, atol=atol,
                                   err_msg=key)


def count_numpy_steps(monkeypatch) -> list:
    """A list that gains an entry each time a fit builds a numpy step."""
    built = []
    original = base.NumpyMLPStep

    def counting(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    counting.supports = original.supports
    monkeypatch.setattr(base, "NumpyMLPStep", counting)
    return built
