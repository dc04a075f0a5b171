"""The rules of appeals against a restriction (DSA Art. 20), as plain values: who may appeal
what and until when, and who may decide an appeal."""

from __future__ import annotations

import calendar
from datetime import datetime

# Art. 20(1): the internal complaint-handling system is open for at least six months after the
# decision.
WINDOW_MONTHS = 6
# What an appeal can undo: a comment kept from publication. An erased comment has nothing left
# to restore; bans and suspensions are changed on the author's standing, not through an appeal.
APPEALABLE = ("rejected", "held")
STATUSES = ("open", "decided")
OUTCOMES = ("upheld", "reversed")
MIN_TEXT, MAX_TEXT = 10, 4000
SYSTEM = "system"


def deadline(restricted_at: datetime, months: int = WINDOW_MONTHS) -> datetime:
    """The last moment an appeal is taken: `months` calendar months after the restriction
    (31 August + 6 months is 28 or 29 February, never 3 March)."""
    month0 = restricted_at.month - 1 + months
    year, month = restricted_at.year + month0 // 12, month0 % 12 + 1
    day = min(restricted_at.day, calendar.monthrange(year, month)[1])
    return restricted_at.replace(year=year, month=month, day=day)


def refusal(restriction: str, restricted_at: datetime, now: datetime) -> tuple[str, str] | None:
    """Why the author may not appeal this restriction now, as (code, detail); None: they may."""
    if restriction not in APPEALABLE:
        return (
            "appeal-not-appealable",
            f"a {restriction} restriction cannot be appealed here: "
            + ("the comment was erased" if restriction == "deleted" else "ask the site about your account"),
        )
    closes = deadline(restricted_at)
    if now > closes:
        return (
            "appeal-window-closed",
            f"appeals are taken for {WINDOW_MONTHS} months after the decision; this one closed on "
            f"{closes.date().isoformat()}",
        )
    return None


def same_decider(original_actor: str, deciding_actor: str) -> bool:
    """Whether the person (or integration) deciding an appeal made the decision appealed against.
    Decisions the system took automatically may be reviewed by anyone."""
    return original_actor != SYSTEM and original_actor == deciding_actor
