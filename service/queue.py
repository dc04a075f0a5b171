"""The moderators' queues: what waits for a decision, filtered, sorted and paged by cursor."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.util import ClauseAdapter

from .auth import Principal
from .cursors import decode_cursor, encode_cursor
from .db import Article, Author, Comment, Report
from .errors import ValidationFailed
from .extensions import db
from .identity.tokens import VERIFIED_PREFIX
from .moderation.policy import POLICY_LABELS
from .scoring.base import OPTIONAL_LABELS
from .scoring.engine import ExplanationCache
from .self_service.store import edit_history

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
    return principal.site_clause(Comment.site_id)


def list_queue(
    principal: Principal, params: dict[str, Any], site_id: int | None, explainer: ExplanationCache | None
) -> dict[str, Any]:
    sort = params["sort"]
    conditions = [queue_filter(params["queue"])]
    # A filter that narrows the queue to few rows through its own index: one author's comments,
    # one article's. Its rows are read first (see _page_statement).
    narrowing = None
    if (scope := _scope(principal, site_id)) is not None:
        conditions.append(scope)
    if params.get("article"):
        if site_id is None:
            raise ValidationFailed("article", "needs the site parameter too", "query")
        # The article's id first (an InitPlan, one unique-index probe), then its comments by the
        # thread index, in the statuses the queue holds.
        article_id = (
            sa.select(Article.id)
            .where(Article.site_id == site_id, Article.external_id == params["article"])
            .scalar_subquery()
        )
        narrowing = sa.and_(Comment.article_id == article_id, Comment.status.in_(_statuses(params["queue"])))
    if params.get("label"):
        conditions.append(label_score(params["label"]) >= params.get("min_score", 0.5))
    if "spam" in params:
        conditions.append(Comment.spam.is_(params["spam"]))
    if params.get("language"):
        language = params["language"]
        unknown = language == UNKNOWN_LANGUAGE
        conditions.append(Comment.language.is_(None) if unknown else Comment.language == language)
    if params.get("author"):
        value = params["author"]
        if "@" in value:  # claimed e-mails too: moderators look for a troll's comments by it
            conditions.append(Comment.author_email == value)
        else:
            by_key = Comment.author_key.in_({value, f"{VERIFIED_PREFIX}{value}"})
            if narrowing is not None:
                conditions.append(by_key)
            else:  # the author's comments on the site (ix_comments_author_recent)
                narrowing = by_key if scope is None else sa.and_(scope, by_key)
    if params.get("q"):
        escaped = params["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Comment.text.ilike(f"%{escaped}%", escape="\\"))
    if params.get("since"):
        conditions.append(Comment.created_at >= params["since"])
    if params.get("until"):
        conditions.append(Comment.created_at < params["until"])
    after = decode_cursor(params["cursor"], sort) if params.get("cursor") else None
    order, condition = _order_and_after(sort, after)
    if condition is not None:
        conditions.append(condition)
    limit = params["limit"]
    label = bool(params.get("label"))
    statement, switched_off = _page_statement(conditions, narrowing, order, limit + 1, label)
    # One switch for the page and its lookups (neither of which sorts): two round trips, not four.
    with _planner_without((*switched_off, *_PROBES_ONLY)):
        rows = list(db.session.execute(statement))
        has_more = len(rows) > limit
        rows = with_articles_and_authors(rows[:limit])
    return {
        "items": queue_items(rows, explainer),
        "next_cursor": encode_cursor(_cursor_values(rows[-1], sort), sort) if has_more else None,
    }


def _statuses(queue: str) -> tuple[str, ...]:
    return ("approved", "held") if queue == "reported" else (queue,)


def _page_statement(
    conditions: list[sa.ColumnElement[bool]],
    narrowing: sa.ColumnElement[bool] | None,
    order: list[Any],
    limit: int,
    label: bool,
) -> tuple[sa.Select, tuple[str, ...]]:
    """The page's statement and the plan methods to switch off for it, so that its plan does not
    hang on the planner's statistics (PostgreSQL; SQLite plans by its own rules). Without them (a
    bulk load that autovacuum has not analyzed yet) every "site and status" condition looks like
    one row, the small per-label indexes of held comments look cheapest for any held page, and
    PostgreSQL read the whole held queue through one of them to sort it. So:
    - a page of a whole queue is read in the order of the queue's own index, stopping after the
      page (sorting switched off for the statement: only an index scan in the page's order is left);
    - a page narrowed to an author or an article first takes that author's or article's comments
      through their index, in a materialized CTE whose only conditions are theirs (no other index
      applies), then filters and sorts those few rows;
    - a label filter is left to the planner: its per-label index, or the queue's order, is the
      better plan depending on how many comments pass the score, which only statistics tell."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if narrowing is not None and postgres:
        candidates = (
            sa.select(*Comment.__table__.c).where(narrowing).cte("candidates").prefix_with("MATERIALIZED")
        )
        adapter = ClauseAdapter(candidates)
        statement = (
            sa.select(*candidates.c)
            .where(*(adapter.traverse(c) for c in conditions))
            .order_by(*(adapter.traverse(o) for o in order))
            .limit(limit)
        )
        return statement, ()
    if narrowing is not None:
        conditions = [*conditions, narrowing]
    statement = PAGE.where(*conditions).order_by(*order).limit(limit)
    return statement, () if label else ("sort",)


@contextmanager
def _planner_without(methods: tuple[str, ...]) -> Iterator[None]:
    """PostgreSQL's planner with some of its plan methods (enable_sort, enable_seqscan...) off for
    the statements inside, on again after: the transaction goes on with other queries."""
    if not methods or db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    switch = ", ".join(f"set_config('enable_{method}', :value, true)" for method in methods)
    db.session.execute(sa.text(f"SELECT {switch}"), {"value": "off"})
    try:
        yield
    finally:
        db.session.execute(sa.text(f"SELECT {switch}"), {"value": "on"})


# A page of the queue is read in two steps: the page's comments alone (one index scan, whatever
# the planner's statistics say), then their articles and authors by key. A join in one statement
# leaves the plan to row estimates: with stale ones (authors estimated at 16 rows when there were
# 19,548) PostgreSQL scanned the whole authors table for every comment of the page.
# Plain rows, not ORM objects: a page only reads them, and loading 50 entities costs ms.
PAGE = sa.select(*Comment.__table__.c)
_ARTICLES = sa.select(
    Article.id,
    Article.external_id.label("article_external_id"),
    Article.title.label("article_title"),
    Article.url.label("article_url"),
    Article.verified.label("article_verified"),
)
_AUTHORS = sa.select(
    Author.author_key,
    Author.approved_count.label("author_approved"),
    Author.rejected_count.label("author_rejected"),
    Author.held_count.label("author_held"),
)
# On PostgreSQL one probe of the authors' unique key per author: given "site_id = 1 AND
# author_key IN (...)", or a plain join, a planner that thinks the site has few authors reads
# them all (an index scan on site_id, or a hash join). LIMIT 1 keeps the lateral subquery from
# being flattened into such a join.
_AUTHORS_BY_PROBE = sa.text(
    "SELECT k.author_key, a.approved_count AS author_approved, a.rejected_count AS author_rejected, "
    "a.held_count AS author_held FROM unnest(CAST(:keys AS varchar[])) AS k(author_key) "
    "JOIN LATERAL (SELECT approved_count, rejected_count, held_count FROM authors "
    "WHERE authors.site_id = :site AND authors.author_key = k.author_key LIMIT 1) AS a ON true"
)
_NO_AUTHOR = {"author_approved": None, "author_rejected": None, "author_held": None}
# Scans switched off for the page's lookups by key: what is left is the probes.
_PROBES_ONLY = ("seqscan", "bitmapscan")


class QueueRow:
    """A comment's columns with its article's and author's, as attributes (like a Row's)."""

    def __init__(self, *parts: Mapping[str, Any]) -> None:
        for part in parts:
            self.__dict__.update(part)


def with_articles_and_authors(rows: list[sa.Row]) -> list[QueueRow]:
    """The page's comments with their articles and their authors' counts: one query each, by
    primary key and by the authors' unique (site_id, author_key), so each is a few index probes."""
    if not rows:
        return []
    keys_by_site: dict[int, set[str]] = {}
    for c in rows:
        if c.author_key:
            keys_by_site.setdefault(c.site_id, set()).add(c.author_key)
    articles = {}
    authors: dict[tuple[int, str], dict[str, Any]] = {}
    # Probes of the primary key and of the authors' unique key; the caller switches scans off
    # (_PROBES_ONLY), or a table thought tiny is read whole.
    for a in db.session.execute(_ARTICLES.where(Article.id.in_({c.article_id for c in rows}))):
        columns = a._asdict()
        articles[columns.pop("id")] = columns  # the row's id stays the comment's
    postgres = db.session.get_bind().dialect.name == "postgresql"
    for site, keys in keys_by_site.items():
        query = (
            _AUTHORS_BY_PROBE.bindparams(site=site, keys=sorted(keys))
            if postgres
            else _AUTHORS.where(Author.site_id == site, Author.author_key.in_(keys))
        )
        for a in db.session.execute(query):
            counts = a._asdict()
            authors[(site, counts.pop("author_key"))] = counts
    return [
        QueueRow(c._mapping, articles[c.article_id], authors.get((c.site_id, c.author_key), _NO_AUTHOR))
        for c in rows
    ]


def item(comment_id: int, explainer: ExplanationCache | None = None) -> dict[str, Any]:
    """One comment as the queue shows it."""
    with _planner_without(_PROBES_ONLY):
        rows = with_articles_and_authors(list(db.session.execute(PAGE.where(Comment.id == comment_id))))
    return queue_items(rows, explainer)[0]


def queue_items(rows: list[QueueRow], explainer: ExplanationCache | None = None) -> list[dict[str, Any]]:
    """Everything a moderator needs to decide, for rows of with_articles_and_authors: the parents
    and the reports come in one more query each, and only when some comment on the page has them."""
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
    # The texts edited comments had before (one more query, only when some comment was edited).
    edits = edit_history([c.id for c in rows if c.edit_count])
    return [
        comment_detail(c, parents.get(c.parent_id), reports.get(c.id, []), explainer, edits.get(c.id, []))
        for c in rows
    ]


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
    comment: QueueRow,
    parent: Comment | None,
    reports: list[Report],
    explainer: ExplanationCache | None = None,
    edits: list[dict[str, Any]] | None = None,
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
        "featured": comment.featured_at is not None,
        "likes": comment.reaction_count,
        "language": comment.language,
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
        "edited_at": comment.edited_at,
        "edits": edits or [],
    }


def queue_counts(principal: Principal, site_id: int | None) -> dict[str, Any]:
    """Comments per queue, counted up to COUNT_CAP: an exact count of a million approved
    comments takes half a second and tells a moderator nothing more than "10,000+"."""
    scope = _scope(principal, site_id)
    counts: dict[str, Any] = {}
    over_cap = []
    # Each count walks the queue's own index up to the cap, in id order with sorting off (as a
    # page does): without statistics PostgreSQL counted the reported queue through another index,
    # filtering nearly every comment (over a second at 1M comments).
    with _planner_without(("sort", *_PROBES_ONLY)):
        for queue in QUEUES:
            inner = sa.select(Comment.id).where(queue_filter(queue))
            if scope is not None:
                inner = inner.where(scope)
            inner = inner.order_by(Comment.id).limit(COUNT_CAP + 1)
            capped = sa.select(sa.func.count()).select_from(inner.subquery())
            n = db.session.scalar(capped)
            if n > COUNT_CAP:
                n = COUNT_CAP
                over_cap.append(queue)
            counts[queue] = n
    counts["over_cap"] = over_cap
    return counts
