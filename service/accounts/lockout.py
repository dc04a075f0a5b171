"""Lockout after repeated failed sign-ins, per account and per network."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Five wrong passwords for one account lock it for 15 minutes; a network (a /24 or /64, where a
# newsroom's moderators may all sit behind one address) gets more before it is locked.
ACCOUNT_FAILURES = 5
NETWORK_FAILURES = 20
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)


@dataclass
class Counter:
    failures: int
    window_started_at: datetime
    locked_until: datetime | None


def locked_for(counter: Counter | None, now: datetime) -> int:
    """Seconds left of a lock (0: not locked)."""
    if counter is None or counter.locked_until is None or counter.locked_until <= now:
        return 0
    return max(1, int((counter.locked_until - now).total_seconds() + 0.999))


def after_failure(counter: Counter | None, now: datetime, limit: int) -> Counter:
    """The counter after one more failure: a new window once the old one is over; locked at the limit."""
    if counter is None or now - counter.window_started_at >= WINDOW:
        counter = Counter(0, now, None)
    failures = counter.failures + 1
    locked_until = now + LOCK if failures >= limit else counter.locked_until
    # A lock starts a new count: the next failure after it ends begins from one.
    if failures >= limit:
        return Counter(0, now, locked_until)
    return Counter(failures, counter.window_started_at, locked_until)
