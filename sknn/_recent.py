"""Scratch arrays per batch size, for the few sizes most recently used.

The numpy step keeps its scratch arrays between ``partial_fit`` calls (making
them again cost more than a one-row step). Keyed by batch size, one entry per
size, a stream of calls of varying sizes would keep them all: 300 calls of up
to 5000 rows grew a process by 200 MB. A fit uses a handful of sizes (the
batch size, a shorter last batch, the validation set), so a few are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

#: Sizes kept: a fit's batch, its last batch and its validation set, and one more.
KEPT = 4


class Recent(Generic[T]):
    """What ``make(key)`` makes, kept for the ``keep`` keys most recently asked for.

    Parameters
    ----------
    make : callable, optional
        Makes the value for a key not kept; else each call says how.
    keep : int, default=KEPT
    """

    def __init__(self, make: Callable[[Hashable], T] | None = None, keep: int = KEPT):
        self._make, self._keep = make, keep
        self._kept: dict = {}

    def __call__(self, key: Hashable, make: Callable[[], T] | None = None) -> T:
        """The value for ``key``, made (by ``make()`` where given) if it is not kept."""
        value = self._kept.pop(key, None)
        if value is None:
            value = self._make(key) if make is None else make()
            if len(self._kept) >= self._keep:
                del self._kept[next(iter(self._kept))]  # the least recently used
        self._kept[key] = value  # last: the most recently used
        return value

    def __len__(self) -> int:
        return len(self._kept)
