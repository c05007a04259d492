"""A bounded map of the most recently remembered keys, for answers that must repeat.

A station retries a request it got an error for; where the first attempt already had an
effect (an id allocated and stored), the retry must get the same answer. Only recent
attempts are retried, so the memory keeps the newest `capacity` keys and forgets the oldest.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

DEFAULT_CAPACITY = 10_000


class RecentMap(Generic[K, V]):
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def remember(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
