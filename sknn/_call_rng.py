"""The numpy RandomState that one ``fit`` / ``partial_fit`` call draws from."""

from __future__ import annotations

import functools
import numbers
import threading
from contextlib import contextmanager

import numpy as np
from sklearn.utils import check_random_state

# One RandomState per thread, reseeded by each call that has an int seed.
_per_thread = threading.local()


def _reseeded(seed: int) -> np.random.RandomState:
    """``np.random.RandomState(seed)``, the same stream, without its cost.

    Building a RandomState first seeds a new bit generator from the
    operating system's entropy (about 85 us) and only then reseeds it with
    ``seed``; reseeding one that exists takes about 1.5 us. A ``partial_fit``
    call on a few rows costs a few hundred microseconds in all.
    """
    rng = getattr(_per_thread, "rng", None)
    if rng is None:
        rng = _per_thread.rng = np.random.RandomState()
    rng.seed(seed)
    return rng


@contextmanager
def call_random_state(random_state):
    """Give the call ``rng()``: ``check_random_state(random_state)``, built at
    its first use.

    Many calls never draw (a ``partial_fit`` call on one row shuffles
    nothing); those that do get the same draws, in the same order, as from
    ``check_random_state`` at the start of the call. For an int seed the
    thread's own RandomState is reseeded rather than a new one built; it is
    lent to one call at a time, and a call made while it is lent (a fit
    inside a fit) builds a new one.

    Parameters
    ----------
    random_state : None, int or numpy.random.RandomState
        The estimator's ``random_state``.
    """
    borrowed = False

    def build():
        nonlocal borrowed
        if isinstance(random_state, numbers.Integral) and not getattr(_per_thread, "lent", False):
            borrowed = _per_thread.lent = True
            return _reseeded(int(random_state))
        return check_random_state(random_state)

    try:
        yield functools.cache(build)
    finally:
        if borrowed:
            _per_thread.lent = False
