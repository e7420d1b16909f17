"""sknn's dropout masks (sknn._dropout_mask): their distribution and their two implementations."""

import numpy as np
import pytest
import torch

from sknn import TorchMLPClassifier
from sknn._dropout_mask import DropoutMask, dropout_mask, keep_threshold
from sknn._module import Dropout


def _draws(p, shape=(400, 500), dtype=torch.float64, seed=0):
    return DropoutMask(shape, p, dtype, "cpu").draw(torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("p", [0.05, 0.1, 0.5, 0.9])
def test_mask_keeps_with_probability_one_minus_p_and_scales_what_it_keeps(p):
    mask = _draws(p).numpy()
    kept = mask != 0
    # 200 000 draws: the kept fraction's standard error is at most 0.0011.
    assert abs(kept.mean() - (1 - p)) < 0.006
    np.testing.assert_array_equal(mask[kept], 1 / (1 - p))
    # Unbiased: the mean of input * mask is the input's.
    assert abs(mask.mean() - 1.0) < 0.015


def test_mask_elements_are_independent_across_rows_columns_and_word_halves():
    kept = (_draws(0.5) != 0).numpy()
    # The two int32 halves of a 64-bit word fall on neighbouring columns.
    for a, b in ((kept[:, ::2], kept[:, 1::2]), (kept[::2], kept[1::2])):
        agree = (a == b).mean()
        assert abs(agree - 0.5) < 0.01


def test_keep_threshold_counts_the_nearest_number_of_int32_values():
    assert keep_threshold(0.5) == 0
    assert keep_threshold(0.25) == 2**30
    assert keep_threshold(0.75) == -(2**30)
    # p too small to drop anything still has a threshold int32 can hold.
    assert keep_threshold(1e-12) == 2**31 - 1


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(7, 5), (6, 4)])
def test_numpy_and_torch_comparisons_give_the_same_mask(dtype, shape):
    # The CPU float masks compare and scale in numpy; the rest (bfloat16,
    # CUDA) in torch. Force the torch branch on the CPU to compare the two.
    fast = DropoutMask(shape, 0.3, dtype, "cpu")
    plain = DropoutMask(shape, 0.3, dtype, "cpu")
    assert fast.array is not None
    plain.array = None
    for seed in range(3):
        a = fast.draw(torch.Generator().manual_seed(seed)).clone()
        b = plain.draw(torch.Generator().manual_seed(seed))
        assert torch.equal(a, b)
        assert a.dtype == dtype


def test_mask_reuses_its_buffers_and_moves_the_generator_on():
    draw = DropoutMask((10, 3), 0.5, torch.float32, "cpu")
    g = torch.Generator().manual_seed(0)
    first = draw.draw(g).clone()
    second = draw.draw(g)
    assert second.data_ptr() == draw.mask.data_ptr()
    assert not torch.equal(first, second)
    # 30 elements take 15 words, two draws 30: the next draw starts after them.
    g2 = torch.Generator().manual_seed(0)
    torch.empty(30, dtype=torch.int64).random_(-(2**63), None, generator=g2)
    assert g.get_state().equal(g2.get_state())


def test_bfloat16_mask_rounds_the_scale_like_torch():
    mask = dropout_mask(torch.empty(50, 40, dtype=torch.bfloat16), 0.1, torch.Generator())
    values = set(mask.unique().tolist())
    assert values == {0.0, torch.tensor(1 / 0.9, dtype=torch.bfloat16).item()}


def test_module_dropout_multiplies_by_the_mask():
    layer = Dropout(0.2)
    layer.generator = torch.Generator().manual_seed(3)
    x = torch.randn(30, 8, dtype=torch.float64, requires_grad=True)
    out = layer(x)
    mask = dropout_mask(x, 0.2, torch.Generator().manual_seed(3))
    assert torch.equal(out, x * mask)
    out.sum().backward()
    assert torch.equal(x.grad, mask)
    # Without a generator (or in eval mode) it is torch's dropout.
    layer.generator = None
    layer.eval()
    assert torch.equal(layer(x), x)


def test_dropout_rate_reaches_the_fitted_network():
    # A high rate trains a visibly weaker network on the training data than none.
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16
    scores = {
        p: TorchMLPClassifier((64,), dropout=p, max_iter=15, random_state=0).fit(X, y).loss_
        for p in (0.0, 0.8)
    }
    assert scores[0.8] > scores[0.0] * 1.5
