"""Caches bounded in bytes: anonymous clients choose what goes in, so only a byte budget bounds
the memory they can make the server hold (4,096 entries of `limit=100` answers were ~600 MB).

cachetools' LRU does the bookkeeping (eviction by a size function); a lock makes it safe for the
server's worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

V = TypeVar("V")

# What one entry costs besides its value and key text (the tuple, the dict slot, the object
# headers); a rough constant is enough to keep many tiny entries from escaping the budget.
ENTRY_OVERHEAD = 200


class ByteLRU(Generic[V]):
    """A thread-safe LRU map holding at most `max_bytes` of values, keys and overhead."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._data: LRUCache[Hashable, tuple[V, int]] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda item: item[1]
        )
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            item = self._data.get(key)
        return None if item is None else item[0]

    def put(self, key: Hashable, value: V, size: int) -> None:
        """Store `value`, which costs `size` bytes (the caller knows its key's text)."""
        cost = size + ENTRY_OVERHEAD
        if cost > self.max_bytes:
            return  # larger than the whole budget: not worth evicting everything for
        with self._lock:
            self._data[key] = (value, cost)

    @property
    def bytes(self) -> int:
        with self._lock:
            return int(self._data.currsize)

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
