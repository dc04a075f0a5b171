"""Notices of illegal content (DSA Art. 16): a reader's notice about a comment, the moderators'
queue of them, and a decision that restricts the comment through the usual decision path, writes
its statement of reasons and tells the reporter (the `notice.decided` webhook event)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..auth import Principal
from ..db import Comment, Site, utcnow
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..moderation.policy import Policy
from ..transitions import emit, outbox_row
from . import dsa, links, statements
from .scoped import load_scoped, page_scoped
from .tables import Notice

PATH = "/v1/notices/"


class NoticeDecided(Conflict):
    code, title = "notice-decided", "This notice has been decided already"


def notice_path(public_id: str) -> str:
    return PATH + links.sign(current_app.config["SECRET_KEY"], links.NOTICE, public_id)


def submit(
    site_id: int, comment_id: int, data: dict[str, Any], *, reporter_user_id: str | None, network: str
) -> tuple[Notice, str]:
    """Store a notice about a comment of the site (any status but erased: a held comment may be
    illegal too). Returns it with the reporter's signed status link."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.site_id != site_id or comment.status == "deleted":
        raise NotFound(f"no comment {comment_id} on this site")
    notice = Notice(
        public_id=f"ntc_{uuid.uuid4().hex}",
        site_id=site_id,
        comment_id=comment.id,
        category=data["category"],
        explanation=data["explanation"],
        reporter_name=data["name"],
        reporter_email=data["email"],
        reporter_user_id=reporter_user_id,
        network_key=network,
        good_faith=True,
        status="open",
        created_at=utcnow(),
    )
    db.session.add(notice)
    db.session.flush()
    emit(outbox_row(site_id, "notice.received", _payload(notice), comment.id))
    db.session.commit()
    return notice, notice_path(notice.public_id)


def load(principal: Principal, notice_id: int) -> Notice:
    return load_scoped(Notice, principal, notice_id, "notice")


def queue(
    principal: Principal, site_id: int | None, status: str, limit: int, after: int | None
) -> list[Notice]:
    """Notices oldest first, from the id after `after`."""
    return page_scoped(Notice, principal, site_id, status, limit, after)


def decide(principal: Principal, notice_id: int, data: dict[str, Any]) -> Notice:
    """A moderator's decision on a notice: illegal, not illegal, or against the site's rules.
    Illegal content is rejected; the other answers reject only with `restrict`. The rejection goes
    through decisions.apply_decision (its event, webhook and reports), then the statement of
    reasons names the notice; the notice's own decision is recorded once (409 on a second)."""
    from ..decisions import apply_decision

    notice = load(principal, notice_id)
    if notice.status != "open":
        raise NoticeDecided(f"notice {notice_id} was decided already ({notice.decision})")
    decision = data["decision"]
    restrict = dsa.notice_restricts(decision, data.get("restrict"))
    reason = data.get("reason", "")
    if restrict and decision != "illegal":
        policy = Policy.from_dict(db.session.get(Site, notice.site_id).policy)
        if reason not in policy.rejection_reasons:
            allowed = ", ".join(policy.rejection_reasons)
            raise ValidationFailed(
                "reason", f"must be one of the site's rejection reasons to restrict: {allowed}"
            )
    if decision == "illegal" and not data.get("legal_ground"):
        raise ValidationFailed("legal_ground", "name the law the content breaks")
    # Claim the notice first: of two moderators deciding at once, one wins.
    claimed = db.session.execute(
        sa.update(Notice)
        .where(Notice.id == notice.id, Notice.status == "open")
        .values(
            status="decided",
            decision=decision,
            restricted=False,
            legal_ground=data.get("legal_ground", ""),
            decision_explanation=data.get("explanation", ""),
            decided_by=principal.actor,
            decided_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise NoticeDecided(f"notice {notice_id} was decided already")
    db.session.refresh(notice)
    comment = db.session.get(Comment, notice.comment_id)
    if restrict and comment.status != "deleted":
        apply_decision(
            principal,
            comment.id,
            "rejected",
            expected_version=None,
            reason="illegal content" if decision == "illegal" else reason,
            note=f"notice {notice.id}",
            check_reason=False,
            notice=notice,
        )
        notice.restricted = True
    emit(outbox_row(notice.site_id, "notice.decided", _payload(notice), notice.comment_id))
    db.session.commit()
    return notice


def _payload(notice: Notice) -> dict[str, Any]:
    """notice.received and notice.decided: what the site needs to tell the reporter. The
    reporter's e-mail is not sent (webhook payloads are kept and replayable); the site reads it
    with GET /v1/moderation/notices/{id} when it e-mails them, or uses reporter.user_id."""
    reporter: dict[str, Any] = {"name": notice.reporter_name}
    if notice.reporter_user_id:
        reporter["user_id"] = notice.reporter_user_id
    return {
        "id": notice.id,
        "comment_id": notice.comment_id,
        "category": notice.category,
        "status": notice.status,
        "decision": notice.decision,
        "restricted": notice.restricted,
        "explanation": notice.decision_explanation,
        "reporter": reporter,
        "status_path": notice_path(notice.public_id),
        "created_at": notice.created_at.isoformat(),
        "decided_at": notice.decided_at.isoformat() if notice.decided_at else None,
    }


def by_token(token: str) -> Notice:
    public_id = links.verify(current_app.config["SECRET_KEY"], links.NOTICE, token)
    notice = None
    if public_id is not None:
        notice = db.session.execute(
            sa.select(Notice).where(Notice.public_id == public_id)
        ).scalar_one_or_none()
    if notice is None:
        raise NotFound("no notice at this link")
    return notice


def reporter_view(notice: Notice) -> dict[str, Any]:
    """What the reporter's link shows: their notice's state and the decision, nobody's personal
    data (not the comment's author, not the moderator)."""
    statement = None
    if notice.restricted:
        statement = statements.list_statements(notice.site_id, comment_id=notice.comment_id, limit=1)
    return {
        "id": notice.id,
        "comment_id": notice.comment_id,
        "category": notice.category,
        "category_label": dsa.CATEGORIES[notice.category],
        "status": notice.status,
        "decision": notice.decision,
        "restricted": notice.restricted,
        "explanation": notice.decision_explanation,
        "created_at": notice.created_at,
        "decided_at": notice.decided_at,
        "statement_ground": statement[0].ground if statement else None,
        "redress": dsa.REDRESS if notice.status == "decided" else None,
    }


def moderator_view(notice: Notice) -> dict[str, Any]:
    comment = db.session.get(Comment, notice.comment_id)
    return {
        "id": notice.id,
        "site_id": notice.site_id,
        "comment": {
            "id": comment.id,
            "status": comment.status,
            "text": comment.text,
            "author": {"name": comment.author_name},
            "version": comment.version,
        },
        "category": notice.category,
        "category_label": dsa.CATEGORIES[notice.category],
        "explanation": notice.explanation,
        "reporter": {
            "name": notice.reporter_name,
            "email": notice.reporter_email,
            "user_id": notice.reporter_user_id,
        },
        "good_faith": notice.good_faith,
        "status": notice.status,
        "decision": notice.decision,
        "restricted": notice.restricted,
        "legal_ground": notice.legal_ground,
        "decision_explanation": notice.decision_explanation,
        "decided_by": notice.decided_by,
        "decided_at": notice.decided_at,
        "created_at": notice.created_at,
    }
