"""Short-lived per-process caches of rows the hot paths read on every request (keys, sites,
articles). A process's own writes drop their entries at once; other processes see a change
within the cache's time to live, or, with REDIS_URL set, of keys, sites and policies within
a second (SettingsVersion)."""

from __future__ import annotations

import logging
import secrets
import threading
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
        # Bumped by clear(): a value loaded before it (the row as it was before a change heard
        # from another process) must not be stored after it and outlive the change by a whole
        # `ttl`. Not by invalidate(), which the posting path calls for articles on every comment.
        self._generation = 0

    def get(self, key: Hashable, load: Callable[[], Value | None]) -> Value | None:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        generation = self._generation
        value = load()
        self._keep(key, value, now, generation)
        return value

    def get_many(
        self, keys: Iterable[Hashable], load: Callable[[list[Hashable]], dict[Hashable, Value | None]]
    ) -> dict[Hashable, Value | None]:
        """Values of many keys; those missing or expired are loaded together, in one call of
        `load` (a key it leaves out is kept as None)."""
        now = time.monotonic()
        found: dict[Hashable, Value | None] = {}
        missing = []
        for key in keys:
            hit = self._entries.get(key)
            if hit is not None and hit[0] > now:
                found[key] = hit[1]
            else:
                missing.append(key)
        if missing:
            generation = self._generation
            loaded = load(missing)
            for key in missing:
                found[key] = loaded.get(key)
                self._keep(key, found[key], now, generation)
        return found

    def _keep(self, key: Hashable, value: Value | None, now: float, generation: int) -> None:
        """Store a value loaded at `now`, unless the cache was cleared since (see __init__)."""
        if self.ttl > 0 and generation == self._generation:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now + self.ttl, value)

    def invalidate(self, keys: Iterable[Hashable]) -> None:
        for key in keys:
            self._entries.pop(key, None)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()


# How often a process asks Redis whether settings changed elsewhere: with the request that
# follows, a change reaches every process well within a second.
CHANGE_CHECK_SECONDS = 0.25
# After Redis failed to answer, a process waits this long before asking again (the caches'
# own time to live bounds staleness meanwhile).
CHANGE_RETRY_SECONDS = 2.0
CHANGE_KEY = "comment-service:settings-version"
# A check or an announcement must never hold a request up for long.
REDIS_TIMEOUT_SECONDS = 0.25

log = logging.getLogger(__name__)
_UNSEEN = object()  # no token read yet


class SettingsVersion:
    """Tells every process that keys, sites or policies changed, through one token in Redis.

    A change writes a fresh random token; each process reads it on a request at most every
    `check_seconds` and empties its settings caches when it differs from the one it saw last.
    Chosen over a pub/sub channel because the token is state, not a message: a process that was
    disconnected, restarting or busy when the change happened still sees it on its next read, so
    a reconnect needs no resubscribe-and-flush logic and there is no listener thread to start
    after gunicorn forks. A random token rather than a counter: a Redis that restarts empty and
    counts again from 1 cannot fake "nothing changed". The cost is one GET per process per
    `check_seconds` while requests come. Without REDIS_URL, or while Redis does not answer, each
    cache's own time to live (SETTINGS_CACHE_SECONDS) bounds how stale it gets."""

    def __init__(
        self,
        redis_url: str,
        caches: Callable[[], Iterable[TTLCache]],
        check_seconds: float = CHANGE_CHECK_SECONDS,
    ):
        self.redis_url = redis_url
        self.caches = caches
        self.check_seconds = check_seconds
        self._client = None
        self._seen: bytes | None | object = _UNSEEN
        self._next_check = 0.0
        self._lock = threading.Lock()
        self._failing = False

    def _redis(self):
        if self._client is None:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            self._client = redis.Redis.from_url(
                self.redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                # One retry on a fresh connection covers a connection Redis dropped (a restart,
                # an idle timeout); more would hold the request up while Redis is down.
                retry=Retry(NoBackoff(), 1),
                client_name="comment-service-settings",
            )
        return self._client

    def announce(self) -> None:
        """Call after committing a change of keys, sites or policies."""
        if not self.redis_url:
            return
        import redis

        try:
            self._redis().set(CHANGE_KEY, secrets.token_hex(8))
        except redis.RedisError as error:
            log.warning(
                "settings change not announced (Redis: %s); other processes see it within %ss",
                error,
                SETTINGS_CACHE_SECONDS,
            )

    def refresh(self) -> None:
        """Empty the settings caches if another process announced a change (before a request)."""
        now = time.monotonic()
        if not self.redis_url or now < self._next_check or not self._lock.acquire(blocking=False):
            return
        import redis

        try:
            self._next_check = now + self.check_seconds
            try:
                token = self._redis().get(CHANGE_KEY)
            except redis.RedisError as error:
                self._next_check = now + CHANGE_RETRY_SECONDS
                if not self._failing:
                    log.warning("settings changes unheard (Redis: %s); caches expire on their own", error)
                self._failing = True
                return
            if self._failing:
                log.info("settings changes heard again through Redis")
                self._failing = False
            if token != self._seen:
                for cache in self.caches():
                    cache.clear()
                self._seen = token
        finally:
            self._lock.release()
