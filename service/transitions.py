"""Every change of a comment's status goes through here: one moderation event, one outbox event,
and the article's public counters kept true, all in the caller's transaction."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from .db import Article, Comment, ModerationEvent, OutboxEvent, utcnow
from .extensions import db
from .observability import count_decision

SYSTEM = "system"
# Session info key: the (site id, article id) whose public threads this transaction changed.
CHANGED_THREADS = "changed_threads"


def comment_payload(comment: Comment, article: Article) -> dict[str, Any]:
    """The webhook payload of a comment: what an editor needs, never the author's e-mail."""
    return {
        "id": comment.id,
        "status": comment.status,
        "article": {"id": article.external_id, "url": article.url, "title": article.title},
        "parent_id": comment.parent_id,
        "author": {"name": comment.author_name},
        "text": comment.text,
        "reasons": comment.reasons or [],
        "report_count": comment.report_count,
        "created_at": comment.created_at.isoformat(),
        "updated_at": (comment.updated_at or comment.created_at).isoformat(),
    }


def emit(
    site_id: int, event_type: str, payload: dict[str, Any], comment_id: int | None = None
) -> OutboxEvent:
    """Queue a webhook event in the current transaction: it exists only if the change commits."""
    event = OutboxEvent(
        event_id=f"msg_{uuid.uuid4().hex}",
        site_id=site_id,
        comment_id=comment_id,
        type=event_type,
        payload={"type": event_type, "timestamp": utcnow().isoformat(), "data": payload},
    )
    db.session.add(event)
    return event


def thread_changed(article: Article, approved_delta: int = 0) -> None:
    """The public thread of an article changed: count it in the database itself (an UPDATE
    ... SET n = n + 1, so concurrent writers lose nothing) and let the caches know on commit."""
    db.session.execute(
        sa.update(Article)
        .where(Article.id == article.id)
        .values(
            approved_count=Article.approved_count + approved_delta,
            thread_version=Article.thread_version + 1,
        )
    )
    db.session.info.setdefault(CHANGED_THREADS, set()).add((article.site_id, article.external_id))


def record_transition(
    comment: Comment,
    article: Article,
    to_status: str,
    *,
    actor: str = SYSTEM,
    reason: str = "",
    note: str = "",
    reasons: list[dict[str, Any]] | None = None,
    count_thread: bool = True,
) -> ModerationEvent:
    """Move a comment to `to_status` (it may be new: from_status None) and write its trail.

    count_thread=False leaves the article's counters to the caller, who then calls
    thread_changed as the last statement before committing: that UPDATE locks the article's
    row until the commit, and every comment on a busy article waits for that lock."""
    from_status = comment.status if comment.id is not None else None
    was_public = from_status == "approved"
    comment.status = to_status
    if reasons is not None:
        comment.reasons = reasons
    if comment.id is not None:
        comment.updated_at = utcnow()
    is_public = to_status == "approved"
    if comment.id is None:
        db.session.add(comment)
        db.session.flush()  # the event needs the comment's id
    if was_public != is_public and count_thread:
        thread_changed(article, approved_delta=1 if is_public else -1)
    event = ModerationEvent(
        comment_id=comment.id,
        site_id=comment.site_id,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        note=note,
        reasons=comment.reasons or [],
        scores=comment.scores,
        model_name=comment.model_name,
        model_version=comment.model_version,
    )
    db.session.add(event)
    count_decision(to_status, actor, comment.reasons)
    payload = comment_payload(comment, article)
    if from_status is None:
        emit(comment.site_id, "comment.created", payload, comment.id)
    if to_status != "pending" and to_status != from_status:
        emit(comment.site_id, f"comment.{to_status}", payload, comment.id)
    return event


@event.listens_for(Session, "after_commit")
def _forget_changed_threads(session: Session) -> None:
    """A committed change to a public thread drops the cached article in this process at once."""
    changed = session.info.pop(CHANGED_THREADS, None)
    if changed and has_app_context() and "thread_articles" in current_app.extensions:
        current_app.extensions["thread_articles"].invalidate(changed)


@event.listens_for(Session, "after_rollback")
def _discard_changed_threads(session: Session) -> None:
    session.info.pop(CHANGED_THREADS, None)
