"""The moderators' queues: what waits for a decision, filtered, sorted and paged by cursor."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .auth import Principal
from .cursors import decode_cursor, encode_cursor
from .db import Article, Author, Comment, Report
from .errors import ValidationFailed
from .extensions import db
from .identity.tokens import VERIFIED_PREFIX
from .moderation.policy import POLICY_LABELS
from .scoring.base import OPTIONAL_LABELS
from .scoring.engine import ExplanationCache

QUEUES = ("held", "pending", "reported", "rejected", "approved")
SORTS = ("oldest", "newest", "toxic", "reported")
COUNT_CAP = 10_000
# The language filter's name for comments whose language could not be told (stored as NULL).
UNKNOWN_LANGUAGE = "unknown"


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
    if label not in POLICY_LABELS + OPTIONAL_LABELS:
        raise ValidationFailed(
            "label", f"must be one of {', '.join(POLICY_LABELS + OPTIONAL_LABELS)}", "query"
        )
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
    query = ITEMS.where(queue_filter(params["queue"]))
    if (scope := _scope(principal, site_id)) is not None:
        query = query.where(scope)
    if params.get("article"):
        if site_id is None:
            raise ValidationFailed("article", "needs the site parameter too", "query")
        query = query.where(Article.external_id == params["article"])
    if params.get("label"):
        query = query.where(label_score(params["label"]) >= params.get("min_score", 0.5))
    if "spam" in params:
        query = query.where(Comment.spam.is_(params["spam"]))
    if params.get("language"):
        language = params["language"]
        unknown = language == UNKNOWN_LANGUAGE
        query = query.where(Comment.language.is_(None) if unknown else Comment.language == language)
    if params.get("author"):
        value = params["author"]
        if "@" in value:  # claimed e-mails too: moderators look for a troll's comments by it
            query = query.where(Comment.author_email == value)
        else:
            query = query.where(Comment.author_key.in_({value, f"{VERIFIED_PREFIX}{value}"}))
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


# A queue item: the comment with its article and its author's counts, in one query. Plain rows,
# not ORM objects: a page only reads them, and loading 50 entities and their articles costs ms.
ITEMS = (
    sa.select(
        *Comment.__table__.c,
        Article.external_id.label("article_external_id"),
        Article.title.label("article_title"),
        Article.url.label("article_url"),
        Article.verified.label("article_verified"),
        Author.approved_count.label("author_approved"),
        Author.rejected_count.label("author_rejected"),
        Author.held_count.label("author_held"),
    )
    .join(Article, Article.id == Comment.article_id)
    .outerjoin(Author, sa.and_(Author.site_id == Comment.site_id, Author.author_key == Comment.author_key))
)


def item(comment_id: int, explainer: ExplanationCache | None = None) -> dict[str, Any]:
    """One comment as the queue shows it."""
    return queue_items(list(db.session.execute(ITEMS.where(Comment.id == comment_id))), explainer)[0]


def queue_items(rows: list[sa.Row], explainer: ExplanationCache | None = None) -> list[dict[str, Any]]:
    """Everything a moderator needs to decide, for rows of ITEMS: the parents and the reports
    come in one more query each, and only when some comment on the page has them."""
    if not rows:
        return []
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
    return [comment_detail(c, parents.get(c.parent_id), reports.get(c.id, []), explainer) for c in rows]


def _reasons_with_text(comment: Comment) -> list[dict[str, Any]]:
    """Stored reasons keep offsets only; the matched words are read back from the text."""
    out = []
    for reason in comment.reasons or []:
        reason = dict(reason)
        if "start" in reason and "end" in reason and comment.status != "deleted":
            reason["matched"] = comment.text[reason["start"] : reason["end"]]
        out.append(reason)
    return out


def report_view(report: Report) -> dict[str, Any]:
    """A report as moderators see it: who sent it only as verified or anonymous, and what it weighed."""
    return {
        "reason": report.reason,
        "note": report.note,
        "created_at": report.created_at,
        "open": report.resolved_at is None,
        "reporter": "verified" if report.reporter_key.startswith(VERIFIED_PREFIX) else "anonymous",
        "weight": report.weight,
        "flood": report.flood,
        "outcome": report.outcome,
    }


def comment_detail(
    comment: sa.Row,
    parent: Comment | None,
    reports: list[Report],
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
            "verified": comment.author_verified,
            "history": {
                "approved": comment.author_approved or 0,
                "rejected": comment.author_rejected or 0,
                "held": comment.author_held or 0,
            }
            if comment.author_key
            else None,
        },
        "article": {
            "id": comment.article_external_id,
            "title": comment.article_title,
            "url": comment.article_url,
            "verified": comment.article_verified,
        },
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
        "reports": [report_view(r) for r in reports],
        "report_count": comment.report_count,
        "report_weight": comment.report_weight,
        "spam": comment.spam,
        "language": comment.language,
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
