"""Every change of a comment's status goes through here: one moderation event, one outbox event,
and the article's public counters kept true, all in the caller's transaction."""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from .db import Article, Author, Comment, IdempotencyRecord, ModerationEvent, OutboxEvent, utcnow
from .extensions import db
from .live.fanout import announce_approved
from .observability import count_decision

if TYPE_CHECKING:
    from .articles import ArticleSnapshot

SYSTEM = "system"
# Session info keys: the (site id, external id) of articles and the ids of the articles' public
# threads this transaction changed, whose copies in this process's caches go when it commits.
CHANGED_ARTICLES = "changed_articles"
CHANGED_THREADS = "changed_threads"


def comment_payload(comment: CommentFacts, article: Article | ArticleSnapshot) -> dict[str, Any]:
    """The webhook payload of a comment: what an editor needs, never the author's e-mail. The
    author's user_id is the site's own id of a verified reader (its SSO token's sub), so the
    site can tell them itself; null for anyone else (a claimed id proves nothing)."""
    return {
        "id": comment.id,
        "status": comment.status,
        "article": {"id": article.external_id, "url": article.url, "title": article.title},
        "parent_id": comment.parent_id,
        "author": {
            "name": comment.author_name,
            "user_id": comment.author_user_id if comment.author_verified else None,
        },
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
    """Queue webhook events (outbox_row) in the current transaction: they exist only if it commits."""
    _execute(_INSERT_OUTBOX, list(rows))


def thread_changed(article: Article | ArticleSnapshot, approved_delta: int = 0) -> None:
    """The public thread of an article changed: count it in the database itself (an UPDATE
    ... SET n = n + 1, so concurrent writers lose nothing) and let the caches know on commit."""
    _execute(_COUNT_THREAD, {"article": article.id, "delta": approved_delta})
    db.session.info.setdefault(CHANGED_THREADS, set()).add(article.id)


def article_changed(site_id: int, external_id: str) -> None:
    """This transaction changed (or created) the article: drop its cached copy when it commits."""
    db.session.info.setdefault(CHANGED_ARTICLES, set()).add((site_id, external_id))


class CommentFacts(Protocol):
    """What a comment's trail records: a Comment row, or a new comment's values (insert_comment)."""

    id: int
    site_id: int
    status: str
    parent_id: int | None
    author_name: str
    text: str
    reasons: list[dict[str, Any]]
    scores: dict[str, float] | None
    model_name: str | None
    model_version: str | None
    report_count: int
    author_key: str | None
    author_user_id: str | None
    author_verified: bool
    created_at: datetime
    updated_at: datetime | None


@contextlib.contextmanager
def posting_connection() -> Iterator[sa.Connection]:
    """The connection a new comment's checks read on and its one INSERT goes through: on
    PostgreSQL one in autocommit mode (the reads need no transaction, and the INSERT commits by
    itself), so posting costs no BEGIN and COMMIT round trips; elsewhere the session's."""
    if db.session.get_bind().dialect.name != "postgresql":
        yield db.session.connection()
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def insert_comment(
    values: dict[str, Any],
    article: Article | ArticleSnapshot,
    answer: dict[str, Any] | None = None,
    connection: sa.Connection | None = None,
) -> CommentFacts:
    """Store a new comment (values: its columns, status and reasons included) with its trail: a
    moderation event, the comment.created and decision outbox events, its author's counts, when
    it is published the thread's counters, and `answer` (an Idempotency-Key's key, request_hash
    and response, whose id is filled in) when given.

    On PostgreSQL this is one statement (data-modifying WITH clauses), committed by itself unless
    this transaction wrote before (a new article): the hot article's row lock is then held for
    the statement and its commit only, with no round trip to Python in between. Elsewhere, one
    statement per table in the caller's transaction. The caller commits in both cases."""
    now = values.get("created_at") or utcnow()
    row = {**_COMMENT_DEFAULTS, **values, "created_at": now, "updated_at": now}
    comment = SimpleNamespace(**row, id=None)
    count_decision(comment.status, SYSTEM, comment.reasons)
    if db.session.get_bind().dialect.name != "postgresql":
        comment.id = _execute(_INSERT_COMMENT, row).scalar_one()
        count_author(comment.site_id, comment.author_key, None, comment.status)
        _execute(_INSERT_EVENT, _event_row(comment, None, SYSTEM, "", ""))
        emit(*_outbox_rows(comment, article, None))
        if answer:
            _execute(_INSERT_ANSWER, _answer_row(answer, comment.id, comment.site_id, now))
        if comment.status == "approved":
            announce_approved(comment, article.external_id)
            thread_changed(article, approved_delta=1)  # last: it holds the article's row lock
        return comment

    author = _author_delta(None, comment.status)
    parameters = {
        **row,
        # The payloads' data.id is set in SQL, from the new comment's id; so is the answer's.
        "events": [
            {"event_id": e["event_id"], "type": e["type"], "payload": e["payload"]}
            for e in _outbox_rows(comment, article, None)
        ],
        "author_approved": author["approved"],
        "author_rejected": author["rejected"],
        "author_held": author["held"],
        "author_rejected_at": now if comment.status == "rejected" else None,
        "count_thread": comment.status == "approved",
        **_answer_parameters(answer),
    }
    if CHANGED_ARTICLES in db.session.info:  # an article made in this transaction: commit with it
        comment.id = _execute(_INSERT_COMMENT_PG, parameters).scalar_one()
        if comment.status == "approved":
            db.session.info.setdefault(CHANGED_THREADS, set()).add(article.id)
            announce_approved(comment, article.external_id)
        return comment
    if connection is not None:
        comment.id = connection.execute(_INSERT_COMMENT_PG, parameters).scalar_one()
    else:
        with posting_connection() as own:
            comment.id = own.execute(_INSERT_COMMENT_PG, parameters).scalar_one()
    if comment.status == "approved":
        _forget_in_this_process(threads={article.id})
        announce_approved(comment, article.external_id)  # heard when the caller commits
    return comment


# Columns a new comment may leave out (the one INSERT names every column).
_COMMENT_DEFAULTS = {
    "report_count": 0,
    "reports_open": 0,
    "report_weight": 0.0,
    "reaction_count": 0,
    "featured_at": None,
    "version": 1,
    "author_verified": False,
    "network_key": None,
    "text_hash": None,
    "text_band0": None,
    "text_band1": None,
    "text_band2": None,
    "text_band3": None,
    "spam": False,
    "language": None,
    "author_token_hash": None,
    "edit_count": 0,
    "edited_at": None,
}


def _answer_row(answer: dict[str, Any], comment_id: int, site_id: int, now: datetime) -> dict[str, Any]:
    return {
        "site_id": site_id,
        "key": answer["key"],
        "request_hash": answer["request_hash"],
        "status_code": 201,
        "response": {**answer["response"], "id": comment_id},
        "created_at": now,
    }


def _answer_parameters(answer: dict[str, Any] | None) -> dict[str, Any]:
    if answer is None:
        return {"answer_key": None, "answer_hash": None, "answer_response": None}
    return {
        "answer_key": answer["key"],
        "answer_hash": answer["request_hash"],
        "answer_response": answer["response"],
    }


def count_author(
    site_id: int, author_key: str | None, from_status: str | None, to_status: str | None
) -> None:
    """Keep the author's history counts (authors row, made on first sight) in step with a transition."""
    delta = _author_delta(from_status, to_status)
    if author_key is None or not any(delta.values()):
        return
    now = utcnow()
    _execute(
        _upsert_author(db.session.get_bind().dialect.name),
        {
            "site": site_id,
            "key": author_key,
            "now": now,
            "approved": delta["approved"],
            "rejected": delta["rejected"],
            "held": delta["held"],
            "rejected_at": now if to_status == "rejected" else None,
        },
    )


def _author_delta(from_status: str | None, to_status: str | None) -> dict[str, int]:
    delta = {status: 0 for status in COUNTED}
    if from_status in delta:
        delta[from_status] -= 1
    if to_status in delta:
        delta[to_status] += 1
    return delta


def record_transition(
    comment: Comment,
    article: Article | ArticleSnapshot,
    to_status: str,
    *,
    actor: str = SYSTEM,
    reason: str = "",
    note: str = "",
    reasons: list[dict[str, Any]] | None = None,
) -> None:
    """Move a stored comment to `to_status` and write its trail (in the caller's transaction)."""
    from_status = comment.status
    comment.status = to_status
    if reasons is not None:
        comment.reasons = reasons
    comment.updated_at = utcnow()
    if to_status != "approved":
        comment.featured_at = None  # an editor's pick that leaves the thread is picked again if wanted
    if (from_status == "approved") != (to_status == "approved"):
        thread_changed(article, approved_delta=1 if to_status == "approved" else -1)
        if to_status == "approved":
            announce_approved(comment, article.external_id)
    count_author(comment.site_id, comment.author_key, from_status, to_status)
    _write_trail(comment, article, from_status, actor=actor, reason=reason, note=note)


def record_event(comment: Comment, *, actor: str, reason: str, note: str = "") -> None:
    """An audit event on a comment whose status stays (an editor featured it): the trail shows who
    did it and when, the status counts and webhooks see no decision."""
    _execute(_INSERT_EVENT, _event_row(comment, comment.status, actor, reason, note))


def _write_trail(
    comment: CommentFacts,
    article: Article | ArticleSnapshot,
    from_status: str | None,
    *,
    actor: str,
    reason: str,
    note: str,
) -> None:
    """One immutable moderation event and the webhook events of a transition."""
    _execute(_INSERT_EVENT, _event_row(comment, from_status, actor, reason, note))
    count_decision(comment.status, actor, comment.reasons)
    if rows := _outbox_rows(comment, article, from_status):
        emit(*rows)


def _event_row(comment: CommentFacts, from_status: str | None, actor: str, reason: str, note: str) -> dict:
    return {
        "comment_id": comment.id,
        "site_id": comment.site_id,
        "actor": actor,
        "from_status": from_status,
        "to_status": comment.status,
        "reason": reason,
        "note": note,
        "reasons": comment.reasons or [],
        "scores": comment.scores,
        "model_name": comment.model_name,
        "model_version": comment.model_version,
        "created_at": utcnow(),
    }


def _outbox_rows(
    comment: CommentFacts, article: Article | ArticleSnapshot, from_status: str | None
) -> list[dict[str, Any]]:
    """comment.created for a new comment, and comment.<status> for a decision."""
    payload = comment_payload(comment, article)
    rows = []
    if from_status is None:
        rows.append(outbox_row(comment.site_id, "comment.created", payload, comment.id))
    if comment.status != "pending" and comment.status != from_status:
        rows.append(outbox_row(comment.site_id, f"comment.{comment.status}", payload, comment.id))
    return rows


# Every comment runs these, so they are built once and run on the session's connection as plain
# SQL: building, hashing and ORM bookkeeping cost more than the statements themselves.
_comments, _events, _outbox, _articles = (
    Comment.__table__,
    ModerationEvent.__table__,
    OutboxEvent.__table__,
    Article.__table__,
)
_INSERT_COMMENT = sa.insert(_comments).returning(_comments.c.id)
_INSERT_EVENT = sa.insert(_events)
_INSERT_ANSWER = sa.insert(IdempotencyRecord.__table__)
_INSERT_OUTBOX = sa.insert(_outbox)
_COUNT_THREAD = (
    sa.update(_articles)
    .where(_articles.c.id == sa.bindparam("article"))
    .values(
        approved_count=_articles.c.approved_count + sa.bindparam("delta"),
        thread_version=_articles.c.thread_version + 1,
    )
)


# Statuses an author's history counts.
COUNTED = ("approved", "rejected", "held")


@functools.cache
def _upsert_author(dialect: str):
    """INSERT the author's row with the deltas, or add them to the row there (both dialects
    spell ON CONFLICT the same way, from their own insert construct)."""
    from sqlalchemy.dialects import postgresql, sqlite

    authors = Author.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(authors).values(
        site_id=sa.bindparam("site"),
        author_key=sa.bindparam("key"),
        standing="regular",
        note="",
        updated_by="",
        updated_at=sa.bindparam("now"),
        approved_count=sa.bindparam("approved"),
        rejected_count=sa.bindparam("rejected"),
        held_count=sa.bindparam("held"),
        last_rejected_at=sa.bindparam("rejected_at", type_=authors.c.last_rejected_at.type),
    )
    new = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=[authors.c.site_id, authors.c.author_key],
        set_={
            "approved_count": authors.c.approved_count + new.approved_count,
            "rejected_count": authors.c.rejected_count + new.rejected_count,
            "held_count": authors.c.held_count + new.held_count,
            "last_rejected_at": sa.func.coalesce(new.last_rejected_at, authors.c.last_rejected_at),
        },
    )


_INSERT_COMMENT_PG = sa.text(
    """
    WITH c AS (
        INSERT INTO comments (site_id, article_id, parent_id, root_id, depth, status, author_name,
            author_email, author_user_id, author_key, author_verified, network_key, text, text_hash,
            text_band0, text_band1, text_band2, text_band3, spam, language, scores, model_name,
            model_version, reasons, max_score, report_count, reports_open, report_weight,
            reaction_count, featured_at, version, author_token_hash, edit_count, edited_at, created_at,
            updated_at)
        VALUES (:site_id, :article_id, :parent_id, :root_id, :depth, :status, :author_name,
            :author_email, :author_user_id, :author_key, :author_verified, :network_key, :text,
            :text_hash, :text_band0, :text_band1, :text_band2, :text_band3, :spam, :language, :scores,
            :model_name, :model_version, :reasons, :max_score, :report_count, :reports_open,
            :report_weight, :reaction_count, :featured_at, :version, :author_token_hash, :edit_count,
            :edited_at, :created_at, :updated_at)
        RETURNING id
    ), event AS (
        INSERT INTO moderation_events (comment_id, site_id, actor, from_status, to_status, reason,
            note, reasons, scores, model_name, model_version, created_at)
        SELECT c.id, :site_id, 'system', NULL, :status, '', '', :reasons, :scores, :model_name,
            :model_version, :created_at FROM c
    ), outbox AS (
        INSERT INTO outbox_events (event_id, site_id, comment_id, type, payload, created_at)
        SELECT e.event_id, :site_id, c.id, e.type, jsonb_set(e.payload, '{data,id}', to_jsonb(c.id)),
            :created_at
        FROM c CROSS JOIN jsonb_to_recordset(:events) AS e(event_id text, type text, payload jsonb)
    ), author AS (
        INSERT INTO authors (site_id, author_key, standing, note, updated_by, updated_at,
            approved_count, rejected_count, held_count, last_rejected_at)
        SELECT :site_id, :author_key, 'regular', '', '', :created_at, :author_approved,
            :author_rejected, :author_held, :author_rejected_at
        FROM c WHERE CAST(:author_key AS varchar) IS NOT NULL
        ON CONFLICT (site_id, author_key) DO UPDATE SET
            approved_count = authors.approved_count + EXCLUDED.approved_count,
            rejected_count = authors.rejected_count + EXCLUDED.rejected_count,
            held_count = authors.held_count + EXCLUDED.held_count,
            last_rejected_at = COALESCE(EXCLUDED.last_rejected_at, authors.last_rejected_at)
    ), answer AS (
        INSERT INTO idempotency_records (site_id, key, request_hash, status_code, response, created_at)
        SELECT :site_id, :answer_key, :answer_hash, 201, jsonb_set(:answer_response, '{id}', to_jsonb(c.id)),
            :created_at
        FROM c WHERE CAST(:answer_key AS varchar) IS NOT NULL
    ), thread AS (
        UPDATE articles SET approved_count = approved_count + 1, thread_version = thread_version + 1
        WHERE id = :article_id AND CAST(:count_thread AS boolean)
    )
    SELECT id FROM c
    """
).bindparams(
    *(sa.bindparam(column.name, type_=column.type) for column in _comments.c if column.name != "id"),
    sa.bindparam("events", type_=JSONB),
    sa.bindparam("answer_response", type_=JSONB(none_as_null=True)),
    sa.bindparam("author_rejected_at", type_=_comments.c.created_at.type),
)


def _execute(statement, parameters):
    return db.session.connection().execute(statement, parameters)


@event.listens_for(Session, "after_commit")
def _forget_changed_articles(session: Session) -> None:
    """A committed change to an article drops its cached copy in this process at once."""
    _forget_in_this_process(session.info.pop(CHANGED_ARTICLES, None), session.info.pop(CHANGED_THREADS, None))


def _forget_in_this_process(articles=None, threads=None) -> None:
    if has_app_context() and "articles" in current_app.extensions:
        if articles:
            current_app.extensions["articles"].invalidate(articles)
        if threads:
            current_app.extensions["thread_states"].invalidate(threads)


@event.listens_for(Session, "after_rollback")
def _discard_changed_articles(session: Session) -> None:
    session.info.pop(CHANGED_ARTICLES, None)
    session.info.pop(CHANGED_THREADS, None)
