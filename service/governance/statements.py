"""Statements of reasons in the database: one for every restriction, found from the moderation
trail (a comment rejected or deleted) or an author's standing (banned, suspended).

A moderator's decision writes its statement in the decision's own transaction. Restrictions made
on the posting path (the policy rejecting a new comment) or by late scoring are picked up by the
`issue-statements` scheduled job from the trail, so the posting path pays nothing for them; the
job also catches any restriction a future code path forgets, since it works from the events.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..db import Comment, ModerationEvent, Site, utcnow
from ..errors import NotFound
from ..extensions import db
from ..transitions import emit, outbox_row
from . import dsa, links
from .tables import Notice, Statement

# Transitions that restrict a comment.
RESTRICTING = ("rejected", "deleted")
# The job leaves events younger than this for its next run, so a transaction that committed late
# (an event with a smaller id than one already seen) is never skipped.
SWEEP_LAG = timedelta(minutes=5)
PATH = "/v1/statements/"


def statement_path(public_id: str) -> str:
    return PATH + links.sign(current_app.config["SECRET_KEY"], links.STATEMENT, public_id)


def _restriction(event: ModerationEvent) -> dsa.Restriction:
    return dsa.Restriction(
        restriction=event.to_status,
        actor=event.actor,
        reason=event.reason if event.actor != "system" else "",
        reasons=tuple(event.reasons or ()),
        model_version=event.model_version,
    )


def _store(
    facts: dsa.StatementFacts,
    *,
    site_id: int,
    decided_by: str,
    content_date: datetime,
    comment: Comment | None = None,
    event_id: int | None = None,
    author_key: str | None = None,
    author_name: str | None = None,
    author_user_id: str | None = None,
) -> Statement:
    statement = Statement(
        public_id=f"sor_{uuid.uuid4().hex}",
        site_id=site_id,
        comment_id=comment.id if comment else None,
        moderation_event_id=event_id,
        notice_id=facts.notice_id,
        author_key=author_key,
        restriction=facts.restriction,
        ground=facts.ground,
        category=facts.category,
        ground_reference=facts.ground_reference[:500],
        explanation=facts.explanation[:2000],
        facts=facts.facts,
        automated_detection=facts.automated_detection,
        automated_decision=facts.automated_decision,
        source=facts.source,
        decided_by=decided_by,
        content_date=content_date,
        language=comment.language if comment else None,
        end_date=facts.end_date,
        created_at=utcnow(),
    )
    db.session.add(statement)
    db.session.flush()
    author: dict[str, Any] = {"name": author_name}
    if author_user_id:
        author["user_id"] = author_user_id
    emit(
        outbox_row(
            site_id,
            "statement.created",
            {
                "id": statement.public_id,
                "restriction": statement.restriction,
                "ground": statement.ground,
                "category": statement.category,
                "comment_id": statement.comment_id,
                "notice_id": statement.notice_id,
                "author": author,
                # The author's link; prefix it with the service's public address.
                "statement_path": statement_path(statement.public_id),
                "created_at": statement.created_at.isoformat(),
            },
            statement.comment_id,
        )
    )
    return statement


def _comment_author(comment: Comment) -> tuple[str, str | None]:
    # Only a verified reader's id is the site's own word; a typed one is a claim.
    return comment.author_name, comment.author_user_id if comment.author_verified else None


def _unstated_events(*conditions, changed_only: bool = True) -> sa.Select:
    """Restricting events without a statement. A rejection confirmed (rejected to rejected)
    restricts nothing new, unless it answers a notice (its ground changes)."""
    if changed_only:
        conditions = (*conditions, ModerationEvent.from_status.is_distinct_from(ModerationEvent.to_status))
    # An author deleting their own comment restricts no one (service/self_service/).
    conditions = (*conditions, ModerationEvent.actor != "author")
    return (
        sa.select(ModerationEvent)
        .where(
            ModerationEvent.to_status.in_(RESTRICTING),
            ~sa.exists().where(Statement.moderation_event_id == ModerationEvent.id),
            *conditions,
        )
        .order_by(ModerationEvent.id)
    )


def issue_for_comment(comment: Comment, notice: Notice | None = None) -> list[Statement]:
    """Statements for the comment's restrictions that have none yet (in the caller's transaction,
    after the transition was flushed). `notice`: the notice the decision answered."""
    made = []
    query = _unstated_events(ModerationEvent.comment_id == comment.id, changed_only=notice is None)
    for event in db.session.execute(query).scalars():
        made.append(_for_event(event, comment, notice))
    return made


def _for_event(event: ModerationEvent, comment: Comment, notice: Notice | None = None) -> Statement:
    facts = dsa.statement_for(_restriction(event), _notice_facts(notice) if notice else None)
    name, user_id = _comment_author(comment)
    return _store(
        facts,
        site_id=comment.site_id,
        decided_by=event.actor,
        content_date=comment.created_at,
        comment=comment,
        event_id=event.id,
        author_key=comment.author_key,
        author_name=name,
        author_user_id=user_id,
    )


def _notice_facts(notice: Notice) -> dsa.NoticeFacts:
    return dsa.NoticeFacts(
        id=notice.id,
        category=notice.category,
        decision=notice.decision or "illegal",
        legal_ground=notice.legal_ground,
        explanation=notice.decision_explanation,
    )


def issue_for_standing(
    site_id: int, author_key: str, standing: str, until: datetime | None, actor: str, note: str
) -> Statement | None:
    """A moderator banned or suspended an author: their statement (the caller commits)."""
    if standing not in ("banned", "suspended"):
        return None
    # The moderator's note stays out: it is for moderators, and statements are exported.
    facts = dsa.statement_for(dsa.Restriction(restriction=standing, actor=actor, until=until))
    latest = db.session.execute(
        sa.select(Comment)
        .where(Comment.site_id == site_id, Comment.author_key == author_key)
        .order_by(Comment.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    name, user_id = _comment_author(latest) if latest else (None, None)
    if user_id is None and author_key.startswith("sso:"):
        user_id = author_key.removeprefix("sso:")
    return _store(
        facts,
        site_id=site_id,
        decided_by=actor,
        content_date=latest.created_at if latest else utcnow(),
        author_key=author_key,
        author_name=name,
        author_user_id=user_id,
    )


def sweep(position: int, batch_size: int, now: datetime) -> tuple[int, int, bool]:
    """One batch of the scheduled job: statements for restrictions that have none (the policy's
    rejections at posting, late scoring). Returns (made, new position, more to do)."""
    events = (
        db.session.execute(_unstated_events(ModerationEvent.id > position).limit(batch_size)).scalars().all()
    )
    comments = {
        c.id: c
        for c in db.session.execute(
            sa.select(Comment).where(Comment.id.in_({e.comment_id for e in events}))
        ).scalars()
    }
    for event in events:
        _for_event(event, comments[event.comment_id])
    # Move past what is old enough that no transaction can still add an event before it.
    settled = db.session.scalar(
        sa.select(sa.func.max(ModerationEvent.id)).where(
            ModerationEvent.id > position, ModerationEvent.created_at < now - SWEEP_LAG
        )
    )
    if events and settled is not None:
        settled = min(settled, events[-1].id)
    held, more_held = _held_past_target(now, batch_size)
    db.session.commit()
    return len(events) + held, max(position, settled or 0), len(events) == batch_size or more_held


def _held_past_target(now: datetime, limit: int) -> tuple[int, bool]:
    """Comments held longer than their site's target for the held queue (policy queue_targets,
    counted from posting as the queue targets count it) are restricted by the wait itself: each
    gets one statement saying so."""
    from ..queue_targets import targets_of

    made = 0
    sites = db.session.execute(sa.select(Site.id, Site.policy).order_by(Site.id)).all()
    for site in sites:
        minutes = targets_of((site.policy or {}).get("queue_targets")).get("held")
        if not minutes or made >= limit:
            continue
        late = db.session.execute(
            sa.select(Comment)
            .where(
                Comment.site_id == site.id,
                Comment.status == "held",
                Comment.created_at < now - timedelta(minutes=minutes),
                ~sa.exists().where(Statement.comment_id == Comment.id, Statement.restriction == "held"),
            )
            .order_by(Comment.id)
            .limit(limit - made)
        ).scalars()
        for comment in late:
            restriction = dsa.Restriction(
                restriction="held",
                actor="system",
                reason=f"{minutes:g} minutes",
                reasons=tuple(comment.reasons or ()),
                model_version=comment.model_version,
            )
            name, user_id = _comment_author(comment)
            _store(
                dsa.statement_for(restriction),
                site_id=comment.site_id,
                decided_by="system",
                content_date=comment.created_at,
                comment=comment,
                author_key=comment.author_key,
                author_name=name,
                author_user_id=user_id,
            )
            made += 1
    return made, made >= limit


# --- reading ---------------------------------------------------------------------------------


def by_token(token: str) -> Statement:
    public_id = links.verify(current_app.config["SECRET_KEY"], links.STATEMENT, token)
    statement = None
    if public_id is not None:
        statement = db.session.execute(
            sa.select(Statement).where(Statement.public_id == public_id)
        ).scalar_one_or_none()
    if statement is None:
        raise NotFound("no statement of reasons at this link")
    return statement


def author_view(statement: Statement) -> dict[str, Any]:
    """What the author's link shows: the statement and their own comment, nobody else's data
    (not the reporter of a notice, not the moderator: only whether a person decided)."""
    from . import appeals

    comment = db.session.get(Comment, statement.comment_id) if statement.comment_id else None
    site = db.session.get(Site, statement.site_id)
    return {
        "id": statement.public_id,
        "site": site.name,
        "restriction": statement.restriction,
        "ground": statement.ground,
        "category": statement.category,
        "category_label": dsa.CATEGORIES.get(statement.category, statement.category),
        "ground_reference": statement.ground_reference,
        "explanation": statement.explanation,
        "facts": statement.facts,
        "automated_detection": statement.automated_detection,
        "automated_decision": statement.automated_decision,
        "decided_by": "system" if statement.decided_by == "system" else "moderator",
        "source": statement.source,
        "end_date": statement.end_date,
        "created_at": statement.created_at,
        "redress": dsa.REDRESS,
        "appeal": appeals.author_view(appeals.of_statement(statement), statement),
        "comment": (
            {"id": comment.id, "text": comment.text, "created_at": comment.created_at} if comment else None
        ),
    }


def list_statements(
    site_id: int, *, comment_id: int | None = None, limit: int = 100, before: int | None = None
):
    query = (
        sa.select(Statement).where(Statement.site_id == site_id).order_by(Statement.id.desc()).limit(limit)
    )
    if comment_id is not None:
        query = query.where(Statement.comment_id == comment_id)
    if before is not None:
        query = query.where(Statement.id < before)
    return db.session.execute(query).scalars().all()


def export(
    site: Site, since: datetime, until: datetime, territorial_scope: list[str]
) -> list[dict[str, Any]]:
    """The site's statements made in [since, until) as Transparency Database records."""
    rows = db.session.execute(
        sa.select(Statement)
        .where(Statement.site_id == site.id, Statement.created_at >= since, Statement.created_at < until)
        .order_by(Statement.id)
    ).scalars()
    return [
        dsa.transparency_record(
            puid=s.public_id,
            restriction=s.restriction,
            ground=s.ground,
            category=s.category,
            ground_reference=s.ground_reference,
            explanation=s.explanation,
            facts=s.facts,
            automated_detection=s.automated_detection,
            automated_decision=s.automated_decision,
            source=s.source,
            content_date=s.content_date,
            application_date=s.created_at,
            end_date=s.end_date,
            territorial_scope=territorial_scope,
            content_language=s.language,
        )
        for s in rows
    ]
