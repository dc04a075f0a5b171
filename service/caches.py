"""Short-lived per-process caches of rows the hot paths read on every request (keys, sites,
articles). A process's own writes drop their entries at once; other processes see a change
within the cache's time to live."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

Value = TypeVar("Value")

# How long a process trusts its copy of a key or of a site's settings: a key revoked or a policy
# changed through another process applies within this.
SETTINGS_CACHE_SECONDS = 10.0


class TTLCache(Generic[Value]):
    """Values by key for `ttl` seconds; a miss (or a value of None) is loaded and kept too."""

    def __init__(self, ttl: float, max_entries: int = 50_000):
        self.ttl = ttl
        self.max_entries = max_entries
        # Plain dict operations: each is atomic under the GIL, so request threads need no lock.
        self._entries: dict[Hashable, tuple[float, Value | None]] = {}

    def get(self, key: Hashable, load: Callable[[], Value | None]) -> Value | None:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        if self.ttl > 0:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now + self.ttl, value)
        return value

    def invalidate(self, keys: Iterable[Hashable]) -> None:
        for key in keys:
            self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
