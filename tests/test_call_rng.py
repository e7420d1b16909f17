"""The RandomState a fit call draws from: the stream check_random_state gives."""

import threading

import numpy as np
import pytest

from sknn._call_rng import call_random_state


def _draws(rng):
    perm = np.arange(20)
    rng.shuffle(perm)
    return perm, rng.uniform(size=3), rng.standard_normal(3), rng.randint(2**31 - 1)


def _assert_same_draws(a, b):
    for x, y in zip(_draws(a), _draws(b)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("seed", [0, 42, np.int64(7), 2**32 - 1])
def test_int_seed_gives_the_legacy_stream(seed):
    for _ in range(2):  # the second call reseeds the RandomState the first one used
        with call_random_state(seed) as rng:
            _assert_same_draws(rng(), np.random.RandomState(seed))


def test_half_used_stream_is_reset_by_the_next_call():
    with call_random_state(3) as rng:
        rng().standard_normal()  # leaves a cached second normal behind
    with call_random_state(3) as rng:
        _assert_same_draws(rng(), np.random.RandomState(3))


def test_none_and_instances_are_used_as_given():
    mine = np.random.RandomState(0)
    with call_random_state(mine) as rng:
        assert rng() is mine
    with call_random_state(None) as rng:
        assert rng() is np.random.mtrand._rand


def test_rng_is_built_once_per_call():
    with call_random_state(1) as rng:
        first = rng()
        first.uniform()
        assert rng() is first


def test_a_call_inside_a_call_gets_its_own_random_state():
    with call_random_state(1) as outer:
        outer_rng = outer()
        outer_rng.uniform(size=5)
        with call_random_state(2) as inner:
            assert inner() is not outer_rng
            _assert_same_draws(inner(), np.random.RandomState(2))
        expected = np.random.RandomState(1)
        expected.uniform(size=5)
        _assert_same_draws(outer_rng, expected)
    with call_random_state(4) as after:  # the thread's RandomState is free again
        assert after() is outer_rng


def test_threads_do_not_share_a_random_state():
    barrier = threading.Barrier(2)
    seen, errors = {}, []

    def work(seed):
        try:
            with call_random_state(seed) as rng:
                seen[seed] = rng()
                barrier.wait(timeout=10)  # both hold theirs at once
                _assert_same_draws(seen[seed], np.random.RandomState(seed))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in (5, 6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert seen[5] is not seen[6]


def test_an_out_of_range_seed_fails_like_check_random_state():
    from sklearn.utils import check_random_state

    with pytest.raises(ValueError) as expected:
        check_random_state(2**32)
    with call_random_state(2**32) as rng, pytest.raises(ValueError) as got:
        rng()
    assert str(got.value) == str(expected.value)
    with call_random_state(0) as rng:  # and the thread's RandomState is still usable
        _assert_same_draws(rng(), np.random.RandomState(0))


def test_a_one_row_partial_fit_builds_no_random_state(monkeypatch):
    import sknn._call_rng as call_rng
    from sknn import TorchMLPRegressor

    X = np.random.RandomState(0).normal(size=(20, 3))
    y = X.sum(axis=1)
    est = TorchMLPRegressor(hidden_layer_sizes=(4,), random_state=0).partial_fit(X, y)
    built = []
    monkeypatch.setattr(call_rng, "_reseeded", lambda seed: built.append(seed))
    monkeypatch.setattr(call_rng, "check_random_state", lambda seed: built.append(seed))
    est.partial_fit(X[:1], y[:1])
    assert built == []
