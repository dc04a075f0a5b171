"""The moderators' queues: what waits for a decision, filtered, sorted and paged by cursor."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .auth import Principal
from .comments import author_key
from .cursors import decode_cursor, encode_cursor
from .db import Article, Author, Comment, Report
from .errors import ValidationFailed
from .extensions import db
from .scoring.base import LABELS, OPTIONAL_LABELS
from .scoring.engine import ExplanationCache

QUEUES = ("held", "pending", "reported", "rejected", "approved")
SORTS = ("oldest", "newest", "toxic", "reported")
COUNT_CAP = 10_000


def queue_filter(queue: str) -> sa.ColumnElement[bool]:
    """Which comments a queue holds. Reported comments wait in their own queue, whatever their status."""
    if queue == "reported":
        return sa.and_(Comment.reports_open > 0, Comment.status.in_(("approved", "held")))
    if queue == "held":
        return sa.and_(Comment.status == "held", Comment.reports_open == 0)
    return Comment.status == queue


def label_score(label: str) -> sa.ColumnElement[float]:
    """A label's score. On PostgreSQL written as the held queue's per-label indexes are, with the
    label inline (a bound parameter would keep the planner from matching them)."""
    if label not in LABELS + OPTIONAL_LABELS:
        raise ValidationFailed("label", f"must be one of {', '.join(LABELS + OPTIONAL_LABELS)}", "query")
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.cast(Comment.scores.op("->>")(sa.literal_column(f"'{label}'")), sa.Float)
    return Comment.scores[label].as_float()


def _order_and_after(sort: str, after: list[Any] | None):
    """ORDER BY and the keyset condition that continues after the last row of the previous page.
    Ties break by id in the same direction, so one index scan (backwards) serves each sort."""
    if sort == "newest":
        return [Comment.id.desc()], (Comment.id < after[0]) if after else None
    if sort in ("toxic", "reported"):
        column = Comment.max_score if sort == "toxic" else Comment.report_count
        cond = sa.tuple_(column, Comment.id) < tuple(after) if after else None
        return [column.desc(), Comment.id.desc()], cond
    return [Comment.id.asc()], (Comment.id > after[0]) if after else None


def _cursor_values(comment: Comment, sort: str) -> list[Any]:
    if sort == "toxic":
        return [comment.max_score, comment.id]
    if sort == "reported":
        return [comment.report_count, comment.id]
    return [comment.id]


def _scope(principal: Principal, site_id: int | None) -> sa.ColumnElement[bool] | None:
    if site_id is not None:
        return Comment.site_id == site_id
    if principal.site_id is not None:
        return Comment.site_id == principal.site_id
    return None


def list_queue(
    principal: Principal, params: dict[str, Any], site_id: int | None, explainer: ExplanationCache | None
) -> dict[str, Any]:
    sort = params["sort"]
    # Plain rows, not ORM objects: a page only reads them, and loading 50 entities costs ~3 ms.
    query = sa.select(*Comment.__table__.c).where(queue_filter(params["queue"]))
    if (scope := _scope(principal, site_id)) is not None:
        query = query.where(scope)
    if params.get("article"):
        if site_id is None:
            raise ValidationFailed("article", "needs the site parameter too", "query")
        query = query.join(Article, Article.id == Comment.article_id).where(
            Article.external_id == params["article"]
        )
    if params.get("label"):
        query = query.where(label_score(params["label"]) >= params.get("min_score", 0.5))
    if params.get("author"):
        value = params["author"]
        keys = {value, author_key(None, value) if "@" in value else author_key(value, None)}
        query = query.where(Comment.author_key.in_(keys))
    if params.get("q"):
        escaped = params["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Comment.text.ilike(f"%{escaped}%", escape="\\"))
    if params.get("since"):
        query = query.where(Comment.created_at >= params["since"])
    if params.get("until"):
        query = query.where(Comment.created_at < params["until"])
    after = decode_cursor(params["cursor"], sort) if params.get("cursor") else None
    order, condition = _order_and_after(sort, after)
    if condition is not None:
        query = query.where(condition)
    limit = params["limit"]
    rows = list(db.session.execute(query.order_by(*order).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": queue_items(rows, explainer),
        "next_cursor": encode_cursor(_cursor_values(rows[-1], sort), sort) if has_more else None,
    }


def queue_items(rows: list[Comment], explainer: ExplanationCache | None = None) -> list[dict[str, Any]]:
    """Everything a moderator needs to decide, gathered in a few queries for the whole page."""
    if not rows:
        return []
    articles = {
        a.id: a
        for a in db.session.execute(
            sa.select(Article).where(Article.id.in_({c.article_id for c in rows}))
        ).scalars()
    }
    parent_ids = {c.parent_id for c in rows if c.parent_id}
    parents = (
        {p.id: p for p in db.session.execute(sa.select(Comment).where(Comment.id.in_(parent_ids))).scalars()}
        if parent_ids
        else {}
    )
    reports: dict[int, list[Report]] = {}
    reported = [c.id for c in rows if c.report_count]  # most held comments were never reported
    if reported:
        for report in db.session.execute(
            sa.select(Report).where(Report.comment_id.in_(reported)).order_by(Report.id)
        ).scalars():
            reports.setdefault(report.comment_id, []).append(report)
    histories = _histories({(c.site_id, c.author_key) for c in rows if c.author_key})
    return [
        comment_detail(
            c, articles[c.article_id], parents.get(c.parent_id), reports.get(c.id, []), histories, explainer
        )
        for c in rows
    ]


def _histories(keys: set[tuple[int, str]]) -> dict[tuple[int, str], dict[str, int]]:
    """The authors' counts, kept by the transitions (see authors.py)."""
    if not keys:
        return {}
    rows = db.session.execute(
        sa.select(
            Author.site_id, Author.author_key, Author.approved_count, Author.rejected_count, Author.held_count
        ).where(Author.site_id.in_({s for s, _ in keys}), Author.author_key.in_({k for _, k in keys}))
    )
    return {
        (row.site_id, row.author_key): {
            "approved": row.approved_count,
            "rejected": row.rejected_count,
            "held": row.held_count,
        }
        for row in rows
    }


def _reasons_with_text(comment: Comment) -> list[dict[str, Any]]:
    """Stored reasons keep offsets only; the matched words are read back from the text."""
    out = []
    for reason in comment.reasons or []:
        reason = dict(reason)
        if "start" in reason and "end" in reason and comment.status != "deleted":
            reason["matched"] = comment.text[reason["start"] : reason["end"]]
        out.append(reason)
    return out


def comment_detail(
    comment: Comment,
    article: Article,
    parent: Comment | None,
    reports: list[Report],
    histories: dict[tuple[int, str], dict[str, int]] | None = None,
    explainer: ExplanationCache | None = None,
) -> dict[str, Any]:
    highlights = None
    if explainer is not None and comment.scores and comment.max_score >= 0.3 and comment.status != "deleted":
        highlights = {
            label: spans
            for label, spans in explainer.highlights(comment.text, top_k=3).items()
            if comment.scores.get(label, 0) >= 0.3
        }
    return {
        "id": comment.id,
        "site_id": comment.site_id,
        "status": comment.status,
        "version": comment.version,
        "text": comment.text,
        "author": {
            "name": comment.author_name,
            "email": comment.author_email,
            "user_id": comment.author_user_id,
            "key": comment.author_key,
            "history": (histories or {}).get((comment.site_id, comment.author_key))
            if comment.author_key
            else None,
        },
        "article": {"id": article.external_id, "title": article.title, "url": article.url},
        "parent": None
        if parent is None
        else {
            "id": parent.id,
            "author": {"name": parent.author_name},
            "text": parent.text,
            "status": parent.status,
        },
        "scores": comment.scores,
        "model": {"name": comment.model_name, "version": comment.model_version}
        if comment.model_name
        else None,
        "reasons": _reasons_with_text(comment),
        "highlights": highlights,
        "reports": [
            {"reason": r.reason, "note": r.note, "created_at": r.created_at, "open": r.resolved_at is None}
            for r in reports
        ],
        "report_count": comment.report_count,
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
    }


def queue_counts(principal: Principal, site_id: int | None) -> dict[str, Any]:
    """Comments per queue, counted up to COUNT_CAP: an exact count of a million approved
    comments takes half a second and tells a moderator nothing more than "10,000+"."""
    scope = _scope(principal, site_id)
    counts: dict[str, Any] = {}
    over_cap = []
    for queue in QUEUES:
        inner = sa.select(Comment.id).where(queue_filter(queue))
        if scope is not None:
            inner = inner.where(scope)
        n = db.session.scalar(sa.select(sa.func.count()).select_from(inner.limit(COUNT_CAP + 1).subquery()))
        if n > COUNT_CAP:
            n = COUNT_CAP
            over_cap.append(queue)
        counts[queue] = n
    counts["over_cap"] = over_cap
    return counts
