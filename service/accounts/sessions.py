"""Console sessions: how long one lasts."""

from __future__ import annotations

from datetime import datetime, timedelta

# Signed out after an hour without a request, and after twelve hours whatever happens (a shift).
IDLE = timedelta(hours=1)
ABSOLUTE = timedelta(hours=12)
# last_seen_at is written at most this often: a busy console does not write on every request.
TOUCH_EVERY = timedelta(minutes=1)


def expired(created_at: datetime, last_seen_at: datetime, now: datetime) -> str | None:
    """Why a session is over ("idle" or "absolute"), or None while it lasts."""
    if now - created_at >= ABSOLUTE:
        return "absolute"
    if now - last_seen_at >= IDLE:
        return "idle"
    return None


def needs_touch(last_seen_at: datetime, now: datetime) -> bool:
    return now - last_seen_at >= TOUCH_EVERY
