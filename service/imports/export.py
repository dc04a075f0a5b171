"""Streamed exports as JSON lines (jsonl.py's format): a site's comments, for a move or a
backup, and one author's data, for a reader's access request. Read in pages by id, so memory
holds one page whatever the site's size."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..db import Article, Author, Comment, ModerationEvent, ModeratorNote, Report, utcnow
from ..extensions import db
from ..governance.tables import Appeal, Notice
from ..identity.tokens import VERIFIED_PREFIX
from ..privacy import normal_email, person_keys
from .jsonl import dumps, header

PAGE = 1000


def comment_record(comment: sa.Row, article: sa.Row, *, email: bool) -> dict[str, Any]:
    return {
        "type": "comment",
        "id": comment.id,
        "parent_id": comment.parent_id,
        "article": {"id": article.external_id, "url": article.url, "title": article.title},
        "status": comment.status,
        "spam": comment.spam,
        "author": {
            "name": comment.author_name,
            # Private: only in an export that asked for e-mails, and in the author's own.
            "email": comment.author_email if email else None,
            "user_id": comment.author_user_id,
            "key": comment.author_key,
            "verified": comment.author_verified,
        },
        "text": comment.text,
        "language": comment.language,
        "scores": comment.scores,
        "model": {"name": comment.model_name, "version": comment.model_version},
        "reasons": comment.reasons or [],
        "report_count": comment.report_count,
        "created_at": comment.created_at.isoformat(),
        "updated_at": comment.updated_at.isoformat() if comment.updated_at else None,
    }


def event_record(event: sa.Row) -> dict[str, Any]:
    return {
        "id": event.id,
        "actor": event.actor,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": event.reason,
        "note": event.note,
        "reasons": event.reasons or [],
        "scores": event.scores,
        "model": {"name": event.model_name, "version": event.model_version},
        "created_at": event.created_at.isoformat(),
    }


def _pages(where: sa.ColumnElement[bool]) -> Iterator[list[sa.Row]]:
    comments = Comment.__table__
    last_id = 0
    while True:
        page = db.session.execute(
            sa.select(comments).where(where, comments.c.id > last_id).order_by(comments.c.id).limit(PAGE)
        ).all()
        if not page:
            return
        yield page
        last_id = page[-1].id


def _comment_lines(where: sa.ColumnElement[bool], *, events: bool, email: bool) -> Iterator[bytes]:
    articles_table = Article.__table__
    events_table = ModerationEvent.__table__
    for page in _pages(where):
        article_ids = {c.article_id for c in page}
        articles = {
            a.id: a
            for a in db.session.execute(
                sa.select(articles_table).where(articles_table.c.id.in_(article_ids))
            ).all()
        }
        trail: dict[int, list[dict[str, Any]]] = {}
        if events:
            for event in db.session.execute(
                sa.select(events_table)
                .where(events_table.c.comment_id.in_([c.id for c in page]))
                .order_by(events_table.c.id)
            ).all():
                trail.setdefault(event.comment_id, []).append(event_record(event))
        lines = []
        for comment in page:
            record = comment_record(comment, articles[comment.article_id], email=email)
            if events:
                record["events"] = trail.get(comment.id, [])
            lines.append(dumps(record))
        # Let go of the page's rows before the next one is read.
        db.session.rollback()
        yield b"".join(lines)


def export_site(site_id: int, slug: str, *, events: bool = False, emails: bool = False) -> Iterator[bytes]:
    """Every comment of the site in id order (parents before their replies)."""
    yield dumps(header("site", slug, utcnow(), events=events, emails=emails))
    yield from _comment_lines(Comment.__table__.c.site_id == site_id, events=events, email=emails)


def export_author(
    site_id: int, slug: str, *, key: str | None = None, email: str | None = None
) -> Iterator[bytes]:
    """What the site holds about one person (a reader's access request): their comments (with
    their own e-mail and the decisions on them), their standing and history, the reports and the
    notices of illegal content they sent, their appeals, the moderators' notes on their comments."""
    comments = Comment.__table__
    if not key and not email:
        raise ValueError("an author is named by key or e-mail")
    keys = person_keys(site_id, current_app.config["SECRET_KEY"], key, email)
    matches = []
    if keys:
        matches.append(comments.c.author_key.in_(keys))
    if email:
        matches.append(sa.func.lower(comments.c.author_email) == normal_email(email))
    yield dumps(header("author", slug, utcnow(), key=key, email=email))
    for author in db.session.execute(
        sa.select(Author.__table__)
        .where(Author.site_id == site_id, Author.author_key.in_(keys))
        .order_by(Author.id)
    ).all():
        yield dumps(
            {
                "type": "author",
                "key": author.author_key,
                "standing": author.standing,
                "suspended_until": author.suspended_until.isoformat() if author.suspended_until else None,
                "history": {
                    "approved": author.approved_count,
                    "rejected": author.rejected_count,
                    "held": author.held_count,
                },
            }
        )
    for report in db.session.execute(
        sa.select(Report.__table__)
        .where(Report.site_id == site_id, Report.reporter_key.in_(keys))
        .order_by(Report.id)
    ).all():
        yield dumps(
            {
                "type": "report",
                "comment_id": report.comment_id,
                "reason": report.reason,
                "note": report.note,
                "outcome": report.outcome,
                "created_at": report.created_at.isoformat(),
            }
        )
    yield from _notice_lines(site_id, email, keys)
    theirs = sa.and_(comments.c.site_id == site_id, sa.or_(*matches))
    appeals = Appeal.__table__
    for appeal in db.session.execute(
        sa.select(appeals)
        .where(appeals.c.comment_id.in_(sa.select(comments.c.id).where(theirs)))
        .order_by(appeals.c.id)
    ).all():
        yield dumps(
            {
                "type": "appeal",
                "comment_id": appeal.comment_id,
                "text": appeal.text,
                "status": appeal.status,
                "outcome": appeal.outcome,
                "reason": appeal.reason,
                "created_at": appeal.created_at.isoformat(),
                "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None,
            }
        )
    # What moderators noted about their comments (not which moderator wrote it).
    notes = ModeratorNote.__table__
    for note in db.session.execute(
        sa.select(notes.c.comment_id, notes.c.text, notes.c.created_at)
        .where(notes.c.comment_id.in_(sa.select(comments.c.id).where(theirs)))
        .order_by(notes.c.id)
    ).all():
        yield dumps(
            {
                "type": "moderator_note",
                "comment_id": note.comment_id,
                "text": note.text,
                "created_at": note.created_at.isoformat(),
            }
        )
    yield from _comment_lines(theirs, events=True, email=True)


def _notice_lines(site_id: int, email: str | None, keys: set[str]) -> Iterator[bytes]:
    """The notices of illegal content the person sent: by their e-mail, or as the signed-in reader."""
    subs = [k.removeprefix(VERIFIED_PREFIX) for k in keys if k.startswith(VERIFIED_PREFIX)]
    notices = Notice.__table__
    matches = []
    if email:
        matches.append(sa.func.lower(notices.c.reporter_email) == normal_email(email))
    if subs:
        matches.append(notices.c.reporter_user_id.in_(subs))
    if not matches:
        return
    for notice in db.session.execute(
        sa.select(notices).where(notices.c.site_id == site_id, sa.or_(*matches)).order_by(notices.c.id)
    ).all():
        yield dumps(
            {
                "type": "notice",
                "comment_id": notice.comment_id,
                "category": notice.category,
                "explanation": notice.explanation,
                "reporter": {
                    "name": notice.reporter_name,
                    "email": notice.reporter_email,
                    "user_id": notice.reporter_user_id,
                },
                "status": notice.status,
                "decision": notice.decision,
                "decision_explanation": notice.decision_explanation,
                "created_at": notice.created_at.isoformat(),
                "decided_at": notice.decided_at.isoformat() if notice.decided_at else None,
            }
        )
