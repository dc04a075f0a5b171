"""Moderators' decisions: approve, reject or hold one comment or many, and erase on request.

Concurrency: the comment's `version` is the ORM's version column, so the UPDATE only applies to
the version the moderator saw. Of two moderators acting at once, exactly one wins; the other
gets 409 with the current state, and no second moderation event is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from .auth import Principal
from .db import Comment, CommentEdit, ModeratorNote, OutboxEvent, Report, Site
from .errors import Conflict, NotFound, ServiceError, ValidationFailed
from .extensions import db
from .governance import statements
from .moderation.policy import Policy
from .reports import resolve_reports
from .transitions import count_author, record_transition

DECISIONS = ("approved", "rejected", "held")
# What a decision says of the comment's open reports: a kept comment's reports were unfounded.
REPORT_OUTCOMES = {"approved": "dismissed", "rejected": "upheld"}
MAX_BULK = 100
ERASED = "[deleted]"


class VersionConflict(Conflict):
    code, title = "version-conflict", "Another moderator changed this comment first"


def load_for_principal(principal: Principal, comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or not principal.may_act_on(comment.site_id):
        raise NotFound(f"no comment {comment_id}")
    return comment


def _conflict(comment: Comment) -> VersionConflict:
    return VersionConflict(
        f"comment {comment.id} is now {comment.status} (version {comment.version}); reload before deciding",
        current={"id": comment.id, "status": comment.status, "version": comment.version},
    )


def apply_decision(
    principal: Principal,
    comment_id: int,
    status: str,
    *,
    expected_version: int | None,
    reason: str = "",
    note: str = "",
    check_reason: bool = True,
    notice: Any = None,
) -> Comment:
    """Change one comment in the current transaction (the caller commits). A restriction gets its
    statement of reasons here (naming `notice` when the decision answers one); `check_reason`
    False: the caller checked the reason (a notice's decision: illegal content is no site rule)."""
    comment = load_for_principal(principal, comment_id)
    if comment.status == "deleted":
        raise Conflict(f"comment {comment_id} was deleted")
    if expected_version is not None and expected_version != comment.version:
        raise _conflict(comment)
    if status == "rejected" and check_reason:
        policy = Policy.from_dict(db.session.get(Site, comment.site_id).policy)
        if reason not in policy.rejection_reasons:
            raise ValidationFailed(
                "reason",
                f"must be one of the site's rejection reasons: {', '.join(policy.rejection_reasons)}",
            )
    try:
        record_transition(
            comment, comment.article, status, actor=principal.actor, reason=reason or "moderator", note=note
        )
        resolve_reports(comment, REPORT_OUTCOMES.get(status))
        db.session.flush()
        statements.issue_for_comment(comment, notice)
    except StaleDataError:  # another moderator's change committed between our read and our write
        db.session.rollback()
        raise _conflict(db.session.get(Comment, comment_id)) from None
    return comment


def dismiss_reports(principal: Principal, comment_id: int, note: str = "") -> Comment:
    """A moderator finds the reports unfounded: they are dismissed (their reporters count less from
    now on and cannot report this comment again), and a comment the reports had held is published
    again."""
    comment = load_for_principal(principal, comment_id)
    if comment.reports_open == 0:
        raise Conflict(f"comment {comment_id} has no open reports")
    held_by_reports = comment.status == "held" and any(
        r.get("code") == "reported" for r in comment.reasons or []
    )
    resolve_reports(comment, "dismissed")
    if held_by_reports:
        record_transition(
            comment,
            comment.article,
            "approved",
            actor=principal.actor,
            reason="reports dismissed",
            note=note,
            reasons=[r for r in comment.reasons if r.get("code") != "reported"],
        )
    db.session.commit()
    return comment


def decide_one(
    principal: Principal, comment_id: int, data: dict[str, Any], expected_version: int | None
) -> Comment:
    comment = apply_decision(
        principal,
        comment_id,
        data["status"],
        expected_version=expected_version,
        reason=data.get("reason", ""),
        note=data.get("note", ""),
    )
    db.session.commit()
    return comment


@dataclass
class BulkResult:
    id: int
    ok: bool
    status: str | None = None
    version: int | None = None
    error: dict[str, Any] | None = None


def decide_many(principal: Principal, items: list[dict[str, Any]]) -> list[BulkResult]:
    """Each decision stands alone: one that fails does not undo the others."""
    results = []
    for item in items:
        try:
            with db.session.begin_nested():
                comment = apply_decision(
                    principal,
                    item["id"],
                    item["status"],
                    expected_version=item.get("version"),
                    reason=item.get("reason", ""),
                    note=item.get("note", ""),
                )
            results.append(BulkResult(item["id"], True, comment.status, comment.version))
        except ServiceError as error:
            results.append(
                BulkResult(
                    item["id"],
                    False,
                    error=(
                        {"code": error.code, "status": error.status, "detail": error.detail} | error.extra
                    ),
                )
            )
    db.session.commit()
    return results


def erase(principal: Principal, comment_id: int, note: str = "") -> Comment:
    """Delete on request: text and personal data go; the audit trail (without text) stays."""
    comment = load_for_principal(principal, comment_id)
    if comment.status == "deleted":
        return comment
    erase_comment(comment, principal.actor, note)
    db.session.commit()
    return comment


def erase_comment(
    comment: Comment, actor: str, note: str = "", *, reason: str = "erasure request", statement: bool = True
) -> None:
    """Erase one comment (not yet deleted) in the caller's transaction: a person's erasure
    (service/privacy.py) erases all of theirs in one. `statement` False: no statement of reasons
    (an author's own deletion restricts no one)."""
    # The author's key goes with the rest: take the comment out of their history first.
    count_author(comment.site_id, comment.author_key, comment.status, None)
    comment.text = ERASED
    comment.author_name = ERASED
    comment.author_email = None
    comment.author_user_id = None
    comment.author_key = None
    comment.network_key = None
    comment.text_hash = None
    comment.text_band0 = comment.text_band1 = comment.text_band2 = comment.text_band3 = None
    # Word reasons keep offsets into a text that no longer exists; keep only what was decided.
    comment.reasons = [
        {k: v for k, v in r.items() if k not in ("start", "end")} for r in comment.reasons or []
    ]
    db.session.execute(sa.update(Report).where(Report.comment_id == comment.id).values(note=""))
    # Moderators' notes may quote or name the person: their words go, who wrote them and when stay.
    db.session.execute(
        sa.update(ModeratorNote)
        .where(ModeratorNote.comment_id == comment.id, ModeratorNote.text != ERASED)
        .values(text=ERASED)
    )
    db.session.execute(sa.delete(CommentEdit).where(CommentEdit.comment_id == comment.id))
    comment.reports_open = 0
    comment.report_weight = 0.0
    record_transition(comment, comment.article, "deleted", actor=actor, reason=reason, note=note)
    db.session.flush()
    if statement:
        statements.issue_for_comment(comment)
    _scrub_outbox(comment)


def _scrub_outbox(comment: Comment) -> None:
    """Webhook payloads written earlier carry the text and name: erase them too."""
    events = db.session.execute(sa.select(OutboxEvent).where(OutboxEvent.comment_id == comment.id)).scalars()
    for event in events:
        data = (event.payload or {}).get("data") or {}
        if data.get("text") != ERASED:
            payload = dict(event.payload)
            payload["data"] = {**data, "text": ERASED, "author": {"name": ERASED}}
            event.payload = payload
