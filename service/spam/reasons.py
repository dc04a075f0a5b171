"""The reason a spam rule gives: a moderation `Reason` with the details spam rules need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..moderation.policy import Reason


@dataclass(frozen=True)
class SpamReason(Reason):
    """A `Reason` (so the policy takes it as any other) with what a moderator needs to judge a spam
    rule: the link's domain, the other copies of a duplicate, or a window's count and limit."""

    domain: str | None = None
    # Comment ids of the other copies of a duplicate, oldest first.
    copies: tuple[int, ...] | None = None
    # "minute" or "hour" for velocity.
    window: str | None = None
    count: int | None = None
    limit: float | None = None
    # Seconds between showing the form and posting (bot checks).
    seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The stored (JSON) form: as `Reason.to_dict`, with copies as a list."""
        data = super().to_dict()
        if "copies" in data:
            data["copies"] = list(data["copies"])
        return data
