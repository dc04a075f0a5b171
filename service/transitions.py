"""Every change of a comment's status goes through here: one moderation event, one outbox event,
and the article's public counters kept true, all in the caller's transaction."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from .db import Article, Comment, ModerationEvent, OutboxEvent, utcnow
from .extensions import db
from .observability import count_decision

if TYPE_CHECKING:
    from .articles import ArticleSnapshot

SYSTEM = "system"
# Session info keys: the (site id, external id) of articles and the ids of the articles' public
# threads this transaction changed, whose copies in this process's caches go when it commits.
CHANGED_ARTICLES = "changed_articles"
CHANGED_THREADS = "changed_threads"


def comment_payload(comment: Comment, article: Article | ArticleSnapshot) -> dict[str, Any]:
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


def outbox_row(
    site_id: int, event_type: str, payload: dict[str, Any], comment_id: int | None = None
) -> dict[str, Any]:
    return {
        "event_id": f"msg_{uuid.uuid4().hex}",
        "site_id": site_id,
        "comment_id": comment_id,
        "type": event_type,
        "payload": {"type": event_type, "timestamp": utcnow().isoformat(), "data": payload},
        "created_at": utcnow(),
    }


def emit(*rows: dict[str, Any]) -> None:
    """Queue webhook events (outbox_row) in the current transaction: they exist only if it commits.
    A plain INSERT, not the ORM's unit of work: this runs on every comment posted."""
    db.session.execute(sa.insert(OutboxEvent.__table__), list(rows))


def thread_changed(article: Article | ArticleSnapshot, approved_delta: int = 0) -> None:
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
    db.session.info.setdefault(CHANGED_THREADS, set()).add(article.id)


def article_changed(site_id: int, external_id: str) -> None:
    """This transaction changed (or created) the article: drop its cached copy when it commits."""
    db.session.info.setdefault(CHANGED_ARTICLES, set()).add((site_id, external_id))


def record_transition(
    comment: Comment,
    article: Article | ArticleSnapshot,
    to_status: str,
    *,
    actor: str = SYSTEM,
    reason: str = "",
    note: str = "",
    reasons: list[dict[str, Any]] | None = None,
    count_thread: bool = True,
) -> None:
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
    db.session.execute(
        sa.insert(ModerationEvent.__table__).values(
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
            created_at=utcnow(),
        )
    )
    count_decision(to_status, actor, comment.reasons)
    payload = comment_payload(comment, article)
    events = []
    if from_status is None:
        events.append(outbox_row(comment.site_id, "comment.created", payload, comment.id))
    if to_status != "pending" and to_status != from_status:
        events.append(outbox_row(comment.site_id, f"comment.{to_status}", payload, comment.id))
    if events:
        emit(*events)


@event.listens_for(Session, "after_commit")
def _forget_changed_articles(session: Session) -> None:
    """A committed change to an article drops its cached copy in this process at once."""
    articles = session.info.pop(CHANGED_ARTICLES, None)
    threads = session.info.pop(CHANGED_THREADS, None)
    if has_app_context() and "articles" in current_app.extensions:
        if articles:
            current_app.extensions["articles"].invalidate(articles)
        if threads:
            current_app.extensions["thread_states"].invalidate(threads)


@event.listens_for(Session, "after_rollback")
def _discard_changed_articles(session: Session) -> None:
    session.info.pop(CHANGED_ARTICLES, None)
    session.info.pop(CHANGED_THREADS, None)
