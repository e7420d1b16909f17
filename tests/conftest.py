"""Small shared data sets: every test here trains on a few hundred numbers."""

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.preprocessing import StandardScaler


@pytest.fixture(scope="session")
def iris():
    """Standardised iris (150 x 4, three classes)."""
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def iris32(iris):
    """The same, as float32 features and int64 labels (for skorch / torch)."""
    X, y = iris
    return X.astype(np.float32), y.astype(np.int64)


@pytest.fixture(scope="session")
def regression():
    """A standardised linear regression problem (80 x 4)."""
    X, y = make_regression(n_samples=80, n_features=4, noise=5.0, random_state=0)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


@pytest.fixture(scope="session")
def counts():
    """Non-negative count targets for the Poisson loss (80 x 4)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 4))
    y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1])).astype(float)
    return X, y


@pytest.fixture
def cpu_only(monkeypatch):
    """``device='auto'`` means the CPU, also on a machine with a GPU.

    For tests of the CPU-only numpy step: on a GPU machine their fits would
    otherwise train on CUDA, where that step never runs.
    """
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
