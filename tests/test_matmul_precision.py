"""``matmul_precision``: torch's float32 matmul precision, held while sknn trains."""

import numpy as np
import pytest
import torch
from _paths import count_numpy_steps
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split

from sknn import TorchMLPClassifier, TorchMLPRegressor


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, random_state=0, stratify=y)


class _RecordingReLU(torch.nn.ReLU):
    """A ReLU that notes torch's matmul precision each time it runs on data
    (not on the two rows the parameter check tries it on)."""

    seen: list = []

    def forward(self, x):
        if x.shape[0] > 2:
            _RecordingReLU.seen.append(torch.get_float32_matmul_precision())
        return super().forward(x)


@pytest.fixture
def user_precision():
    """The process-wide setting a user chose, put back after the test."""
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("medium")
    _RecordingReLU.seen = []
    yield "medium"
    torch.set_float32_matmul_precision(before)


@pytest.mark.parametrize("precision", ["highest", "high", "medium"])
@pytest.mark.parametrize("Estimator", [TorchMLPClassifier, TorchMLPRegressor])
def test_held_while_training_and_restored(digits, user_precision, Estimator, precision):
    X, _, y, _ = digits
    est = Estimator(hidden_layer_sizes=(16,), activation=_RecordingReLU, max_iter=2,
                    matmul_precision=precision, early_stopping=True, random_state=0)
    with pytest.warns(Warning):
        est.fit(X, y)
    est.set_params(early_stopping=False).partial_fit(X, y)
    # Training batches and the validation passes alike, whatever the user had set.
    assert set(_RecordingReLU.seen) == {precision}
    assert torch.get_float32_matmul_precision() == user_precision


def test_restored_when_the_fit_fails(digits, user_precision):
    X, _, y, _ = digits
    X = X.copy()
    X[:, 0] = 1e30  # overflows to non-finite weights: fit raises after training
    est = TorchMLPClassifier((16,), matmul_precision="high", learning_rate_init=1e10,
                             max_iter=3, random_state=0)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        est.fit(X, y)
    assert torch.get_float32_matmul_precision() == user_precision


def test_reduced_precision_trains_through_torch(monkeypatch, digits):
    """The numpy step computes in full precision, so it is not used then."""
    X, _, y, _ = digits
    built = count_numpy_steps(monkeypatch)
    common = dict(hidden_layer_sizes=(32,), max_iter=3, device="cpu", random_state=0)
    with pytest.warns(Warning):
        TorchMLPClassifier(**common).fit(X, y)
    assert built == [1]
    with pytest.warns(Warning):
        TorchMLPClassifier(matmul_precision="high", **common).fit(X, y)
    assert built == [1]


def test_grid_searchable(digits):
    X, _, y, _ = digits
    search = GridSearchCV(
        TorchMLPClassifier((32,), max_iter=30, random_state=0),
        {"matmul_precision": ["highest", "high"]}, cv=2,
    ).fit(X[:400], y[:400])
    assert search.best_params_["matmul_precision"] in ("highest", "high")
    assert clone(search.best_estimator_).matmul_precision == search.best_params_[
        "matmul_precision"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_tensorfloat32_on_cuda_rounds_differently_and_fits_as_well(digits):
    """On a GPU 'high' runs the matmuls in TensorFloat-32: the weights differ
    from a float32 fit by more than float32's rounding, the score does not."""
    X_train, X_test, y_train, y_test = digits
    common = dict(hidden_layer_sizes=(256, 256), max_iter=20, device="cuda", random_state=0)
    full = TorchMLPClassifier(**common).fit(X_train, y_train)
    tf32 = TorchMLPClassifier(matmul_precision="high", **common).fit(X_train, y_train)
    diff = max(np.abs(a - b).max() for a, b in zip(full.coefs_, tf32.coefs_))
    assert diff > 1e-5
    assert tf32.score(X_test, y_test) >= full.score(X_test, y_test) - 0.02


def test_fits_overlapping_in_threads_leave_the_users_setting():
    # Two fits in two threads, entering and leaving in this order: with a save
    # and restore per fit, the second restored the first one's setting last.
    from sknn._device import float32_matmul_precision

    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        first, second = float32_matmul_precision("medium"), float32_matmul_precision("high")
        first.__enter__()
        second.__enter__()
        assert torch.get_float32_matmul_precision() == "high"  # shared: the last one's
        first.__exit__(None, None, None)
        second.__exit__(None, None, None)
        assert torch.get_float32_matmul_precision() == "highest"
    finally:
        torch.set_float32_matmul_precision(before)
