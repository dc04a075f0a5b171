"""What an author may do with their comment, and what an edit's decision may be: pure rules."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..moderation.policy import SEVERITY

# Statuses whose text an author may still change: a rejected comment stays as it was judged
# (an edit would let a rejected author try wordings until one passes), a deleted one is gone.
EDITABLE = ("pending", "approved", "held")


def editable_until(created_at: datetime, window_minutes: float) -> datetime | None:
    """When the edit window closes; None when the site allows no edits."""
    if window_minutes <= 0:
        return None
    return created_at + timedelta(minutes=window_minutes)


def edit_refusal(status: str, created_at: datetime, window_minutes: float, now: datetime) -> str | None:
    """Why an edit is refused now (a problem code), or None."""
    if status == "deleted":
        return "comment-deleted"
    if status not in EDITABLE:
        return "comment-not-editable"
    until = editable_until(created_at, window_minutes)
    if until is None or now > until:
        return "edit-window-closed"
    return None


def status_after_edit(previous: str, decided: str) -> str:
    """The policy decides an edit afresh, but an edit never releases a comment from review: a held
    comment stays held (or worse), so an author cannot edit their way past a moderator."""
    if previous == "held" and SEVERITY[decided] < SEVERITY["held"]:
        return "held"
    return decided
