"""Flooding: comments per minute and per hour from one reader or one network, and the network key
that tells anonymous readers apart without identifying them (the address itself is never kept)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ..moderation.policy import Reason
from .reasons import SpamReason

UNKNOWN_NETWORK = "unknown"
_WINDOWS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}


@dataclass(frozen=True)
class VelocityLimits:
    """Comments allowed per window, across the site; None is no limit."""

    per_minute: int | None
    per_hour: int | None

    def __post_init__(self) -> None:
        for limit in (self.per_minute, self.per_hour):
            if limit is not None and limit < 1:
                raise ValueError("a velocity limit is at least 1 (None for no limit)")


@dataclass(frozen=True)
class VelocityVerdict:
    """`ok`; `hold` the comment (reasons say which window); or `throttle`: refuse it (429) with
    `retry_after` seconds, when the oldest comment counted has left every window over its limit."""

    outcome: Literal["ok", "hold", "throttle"]
    reasons: tuple[Reason, ...] = ()
    retry_after: int | None = None


def judge_velocity(
    count_last_minute: int,
    count_last_hour: int,
    limits: VelocityLimits,
    action: Literal["hold", "throttle"],
    *,
    now: datetime,
    oldest_in_minute: datetime | None = None,
    oldest_in_hour: datetime | None = None,
) -> VelocityVerdict:
    """Judge a new comment given how many comments the same reader (or network) posted in the last
    minute and hour before it. A limit of N lets N through per window; the next is over it."""
    if action not in ("hold", "throttle"):
        raise ValueError(f"unknown velocity action: {action!r}")
    windows = (
        ("minute", count_last_minute, limits.per_minute, oldest_in_minute),
        ("hour", count_last_hour, limits.per_hour, oldest_in_hour),
    )
    reasons: list[Reason] = []
    waits: list[int] = []
    for window, count, limit, oldest in windows:
        if limit is None or count < limit:
            continue
        reasons.append(SpamReason("velocity", window=window, count=count, limit=limit))
        # Without the oldest timestamp, wait the whole window: never too short.
        leaves_at = (oldest or now) + _WINDOWS[window]
        waits.append(max(1, math.ceil((leaves_at - now).total_seconds())))
    if not reasons:
        return VelocityVerdict("ok")
    if action == "hold":
        return VelocityVerdict("hold", tuple(reasons))
    return VelocityVerdict("throttle", tuple(reasons), retry_after=max(waits))


def network_of(address: str) -> str:
    """The network an address belongs to: its /24 for IPv4, its /64 for IPv6 (one home or phone
    usually has a whole /64). IPv4-mapped IPv6 counts as IPv4; what is not an address at all
    (a misconfigured proxy) shares one bucket, "unknown", so its limits tighten rather than lapse."""
    text = (address or "").strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return UNKNOWN_NETWORK
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        else:
            return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ipaddress.IPv4Network((int(ip) >> 8 << 8, 24)))


def network_key(address: str, secret: bytes | str) -> str:
    """A keyed hash (HMAC-SHA256, hex) of the address's network: the same network gives the same
    key, and without the secret the key does not lead back to the network."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, network_of(address).encode(), hashlib.sha256).hexdigest()
