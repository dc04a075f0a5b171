"""An author's standing, from a moderator's word and the author's history. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .policy import AuthorStanding, Policy


@dataclass(frozen=True)
class AuthorHistory:
    approved: int = 0
    rejected: int = 0
    held: int = 0
    last_rejected_at: datetime | None = None


def standing(
    explicit: str | None,
    suspended_until: datetime | None,
    history: AuthorHistory,
    policy: Policy,
    now: datetime,
) -> AuthorStanding:
    """A ban or a running suspension wins; then a moderator's trust; then trust earned by history."""
    if explicit == "banned":
        return "banned"
    if explicit == "suspended" and (suspended_until is None or suspended_until > now):
        return "suspended"
    if explicit == "trusted":
        return "trusted"
    clean_since = now - timedelta(days=policy.trust_clean_days)
    recently_rejected = history.last_rejected_at is not None and history.last_rejected_at > clean_since
    if history.approved >= policy.trust_after_approved and not recently_rejected:
        return "trusted"
    return "regular"
