"""Appeals against restrictions (DSA Art. 20): the author appeals through their statement's signed
link, moderators have a queue of appeals, and a second person decides each one.

A reversal publishes the comment again through decisions.apply_decision, so the thread's counts,
the author's history, the moderation event and the `comment.approved` webhook are those of any
approval; the trail then holds both decisions (the restriction and the reversal). Statements of
reasons are immutable: the appeal's outcome is shown with the statement on the author's link.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..auth import Principal
from ..db import Comment, ModerationEvent, utcnow
from ..errors import Conflict
from ..extensions import db
from ..transitions import emit, outbox_row
from . import appeal_rules, statements
from .scoped import load_scoped, page_scoped
from .tables import Appeal, Statement


class AppealRefused(Conflict):
    """The author may not appeal this statement (closed window, already appealed, not appealable)."""

    title = "This restriction cannot be appealed"

    def __init__(self, code: str, detail: str, **extra: Any):
        self.code = code
        super().__init__(detail, **extra)


class AppealDecided(Conflict):
    code, title = "appeal-decided", "This appeal has been decided already"


class SameDecider(Conflict):
    code, title = "appeal-same-decider", "The original decision's maker cannot decide its appeal"


def submit(statement: Statement, text: str) -> Appeal:
    """The author's appeal (the caller verified the signed link). One per statement."""
    now = utcnow()
    refused = appeal_rules.refusal(
        statement.restriction if statement.comment_id else "account", statement.created_at, now
    )
    if refused:
        raise AppealRefused(*refused)
    if db.session.scalar(sa.select(Appeal.id).where(Appeal.statement_id == statement.id)) is not None:
        raise _already_appealed()
    appeal = Appeal(
        site_id=statement.site_id,
        statement_id=statement.id,
        comment_id=statement.comment_id,
        text=text,
        original_actor=statement.decided_by,
        status="open",
        reason="",
        created_at=now,
    )
    db.session.add(appeal)
    try:
        db.session.flush()
    except IntegrityError:  # the same author appealing twice at the same moment
        db.session.rollback()
        raise _already_appealed() from None
    emit(outbox_row(appeal.site_id, "appeal.received", _payload(appeal, statement), appeal.comment_id))
    db.session.commit()
    return appeal


def _already_appealed() -> AppealRefused:
    return AppealRefused(
        "appeal-exists",
        "this decision has been appealed already; after its review you may turn to an out-of-court "
        "dispute settlement body (DSA Art. 21) or a court",
    )


def load(principal: Principal, appeal_id: int) -> Appeal:
    return load_scoped(Appeal, principal, appeal_id, "appeal")


def queue(
    principal: Principal, site_id: int | None, status: str, limit: int, after: int | None
) -> list[Appeal]:
    """Appeals oldest first, from the id after `after`."""
    return page_scoped(Appeal, principal, site_id, status, limit, after)


def decide(principal: Principal, appeal_id: int, outcome: str, reason: str) -> Appeal:
    """Uphold or reverse. Refused (409) to whoever made the decision appealed against; a reversal
    publishes the comment again. Of two moderators deciding at once, one wins."""
    from ..decisions import apply_decision

    appeal = load(principal, appeal_id)
    if appeal.status != "open":
        raise AppealDecided(f"appeal {appeal_id} was decided already ({appeal.outcome})")
    if appeal_rules.same_decider(appeal.original_actor, principal.actor):
        raise SameDecider(
            f"you ({principal.actor}) made the decision this appeal contests; another moderator must "
            "review it (DSA Art. 20(6): not solely by automated means, and here not by the same person)",
            original_actor=appeal.original_actor,
        )
    comment = db.session.get(Comment, appeal.comment_id)
    if outcome == "reversed" and comment.status == "deleted":
        raise Conflict(f"comment {comment.id} was erased since: there is nothing to restore")
    claimed = db.session.execute(
        sa.update(Appeal)
        .where(Appeal.id == appeal.id, Appeal.status == "open")
        .values(
            status="decided", outcome=outcome, reason=reason, decided_by=principal.actor, decided_at=utcnow()
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise AppealDecided(f"appeal {appeal_id} was decided already")
    db.session.refresh(appeal)
    if outcome == "reversed" and comment.status != "approved":
        apply_decision(
            principal,
            comment.id,
            "approved",
            expected_version=None,
            reason="appeal reversed",
            note=f"appeal {appeal.id}: {reason}"[:2000],
        )
        db.session.flush()
        appeal.reversal_event_id = db.session.scalar(
            sa.select(sa.func.max(ModerationEvent.id)).where(ModerationEvent.comment_id == comment.id)
        )
    statement = db.session.get(Statement, appeal.statement_id)
    emit(outbox_row(appeal.site_id, "appeal.decided", _payload(appeal, statement), appeal.comment_id))
    db.session.commit()
    return appeal


def _payload(appeal: Appeal, statement: Statement) -> dict[str, Any]:
    """appeal.received and appeal.decided: what the site needs to tell the author (no text of the
    appeal, no moderator)."""
    return {
        "id": appeal.id,
        "statement_id": statement.public_id,
        "comment_id": appeal.comment_id,
        "status": appeal.status,
        "outcome": appeal.outcome,
        "reason": appeal.reason,
        "statement_path": statements.statement_path(statement.public_id),
        "created_at": appeal.created_at.isoformat(),
        "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None,
    }


def author_view(appeal: Appeal | None, statement: Statement) -> dict[str, Any]:
    """The appeal as the statement's link shows it (with the window, whether appealed or not)."""
    appealable = statement.comment_id is not None and statement.restriction in appeal_rules.APPEALABLE
    view: dict[str, Any] = {
        "possible": appealable and appeal is None,
        "until": appeal_rules.deadline(statement.created_at) if appealable else None,
        "status": None,
        "outcome": None,
        "reason": None,
        "created_at": None,
        "decided_at": None,
    }
    if appeal is not None:
        view.update(
            status=appeal.status,
            outcome=appeal.outcome,
            reason=appeal.reason or None,
            created_at=appeal.created_at,
            decided_at=appeal.decided_at,
        )
    if view["possible"] and utcnow() > view["until"]:
        view["possible"] = False
    return view


def of_statement(statement: Statement) -> Appeal | None:
    return db.session.execute(
        sa.select(Appeal).where(Appeal.statement_id == statement.id)
    ).scalar_one_or_none()


def moderator_view(appeal: Appeal) -> dict[str, Any]:
    comment = db.session.get(Comment, appeal.comment_id)
    statement = db.session.get(Statement, appeal.statement_id)
    return {
        "id": appeal.id,
        "site_id": appeal.site_id,
        "text": appeal.text,
        "status": appeal.status,
        "outcome": appeal.outcome,
        "reason": appeal.reason,
        "original_actor": appeal.original_actor,
        "decided_by": appeal.decided_by,
        "decided_at": appeal.decided_at,
        "created_at": appeal.created_at,
        "reversal_event_id": appeal.reversal_event_id,
        "statement": {
            "id": statement.public_id,
            "restriction": statement.restriction,
            "ground": statement.ground,
            "category": statement.category,
            "ground_reference": statement.ground_reference,
            "facts": statement.facts,
            "decided_by": statement.decided_by,
            "created_at": statement.created_at,
        },
        "comment": {
            "id": comment.id,
            "status": comment.status,
            "text": comment.text,
            "author": {"name": comment.author_name},
            "version": comment.version,
        },
    }
