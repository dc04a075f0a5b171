"""Queue time targets: how long a site lets comments wait for a moderator (its policy's
queue_targets, in minutes), the age of each queue's oldest waiting comment for /metrics, and the
scheduled job that sends queue.target_missed once per comment and queue.

When the wait begins: for the held queue, when the comment was posted (its reader has waited for
it to appear since then, however it came to be held); for the reported queue, at the comment's
oldest open report. A comment is announced once per queue, even if it leaves the queue and comes
back (a second stay is not announced again).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from .db import Article, Comment, QueueTargetMiss, Report, Site, utcnow
from .extensions import db
from .jobs.maintenance import Step, StepContext
from .moderation.policy import TARGET_QUEUES
from .observability import QUEUE_OLDEST_AGE, QUEUE_TARGET
from .transitions import emit, outbox_row

EVENT_TYPE = "queue.target_missed"
REPORTED_STATUSES = ("approved", "held")  # as queue.queue_filter("reported") has it


def targets_of(stored: Mapping[str, Any] | None) -> dict[str, float]:
    """A policy's queue_targets as stored (or None), reduced to the queues that have one."""
    return {
        queue: float(minutes)
        for queue, minutes in (stored or {}).items()
        if queue in TARGET_QUEUES and minutes
    }


def _held_since() -> sa.ScalarSelect:
    """When the held queue's oldest comment was posted: the first entry of the queue index
    (site_id, status, id), ids growing with time."""
    return (
        sa.select(Comment.created_at)
        .where(Comment.site_id == Site.id, Comment.status == "held", Comment.reports_open == 0)
        .order_by(Comment.id)
        .limit(1)
        .correlate(Site)
        .scalar_subquery()
    )


def _reported_since() -> sa.ScalarSelect:
    """The oldest open report of a comment in the reported queue: open reports of the site oldest
    first (ix_reports_open), each checked against its comment by primary key until one is still
    waiting (reports of an erased comment stay open without a queue)."""
    return (
        sa.select(Report.created_at)
        .join(Comment, Comment.id == Report.comment_id)
        .where(
            Report.site_id == Site.id,
            Report.resolved_at.is_(None),
            Comment.reports_open > 0,
            Comment.status.in_(REPORTED_STATUSES),
        )
        .order_by(Report.created_at)
        .limit(1)
        .correlate(Site)
        .scalar_subquery()
    )


def oldest_waiting(now: datetime | None = None) -> list[dict[str, Any]]:
    """Per site and queue: how long its oldest comment has waited (0 when empty), and the target.
    One statement, two index lookups per site."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(
            Site.slug,
            Site.policy["queue_targets"].label("targets"),
            _held_since().label("held"),
            _reported_since().label("reported"),
        ).order_by(Site.id)
    ).all()
    out = []
    for row in rows:
        targets = targets_of(row.targets)
        for queue in TARGET_QUEUES:
            since = getattr(row, queue)
            out.append(
                {
                    "site": row.slug,
                    "queue": queue,
                    "age_seconds": max(0.0, (now - since).total_seconds()) if since else 0.0,
                    "target_seconds": targets[queue] * 60 if queue in targets else None,
                }
            )
    return out


def refresh_metrics() -> None:
    """Set the gauges from the database (at each scrape of /metrics)."""
    try:
        for queue in oldest_waiting():
            QUEUE_OLDEST_AGE.labels(queue["site"], queue["queue"]).set(queue["age_seconds"])
            if queue["target_seconds"] is not None:
                QUEUE_TARGET.labels(queue["site"], queue["queue"]).set(queue["target_seconds"])
            else:
                with contextlib.suppress(KeyError):  # it had none before either
                    QUEUE_TARGET.remove(queue["site"], queue["queue"])
    finally:
        db.session.rollback()


# --- the scheduled job -------------------------------------------------------------------------


def _late(site_id: int, queue: str, cutoff: datetime, limit: int) -> list[sa.Row]:
    """Comments of one queue waiting since before `cutoff` and not announced yet, oldest first."""
    announced = (
        sa.select(QueueTargetMiss.id)
        .where(QueueTargetMiss.comment_id == Comment.id, QueueTargetMiss.queue == queue)
        .exists()
    )
    if queue == "held":
        since = Comment.created_at
        query = sa.select(Comment.id, since.label("since")).where(
            Comment.site_id == site_id,
            Comment.status == "held",
            Comment.reports_open == 0,
            since < cutoff,
            ~announced,
        )
    else:
        since = sa.func.min(Report.created_at)
        query = (
            sa.select(Comment.id, since.label("since"))
            .join(Report, Report.comment_id == Comment.id)
            .where(
                Comment.site_id == site_id,
                Comment.reports_open > 0,
                Comment.status.in_(REPORTED_STATUSES),
                Report.resolved_at.is_(None),
                ~announced,
            )
            .group_by(Comment.id)
            .having(since < cutoff)
        )
    return db.session.execute(query.order_by(Comment.id).limit(limit)).all()


def _insert_misses(rows: list[dict[str, Any]]) -> set[int]:
    """Write the misses; the comment ids actually written (a concurrent run's are skipped)."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (
        insert(QueueTargetMiss).values(rows).on_conflict_do_nothing().returning(QueueTargetMiss.comment_id)
    )
    return set(db.session.scalars(statement))


def _payload(comment: sa.Row, queue: str, minutes: float, since: datetime, now: datetime) -> dict[str, Any]:
    return {
        "comment": {
            "id": comment.id,
            "status": comment.status,
            "article": {"id": comment.external_id, "url": comment.url, "title": comment.title},
        },
        "queue": queue,
        "target_minutes": minutes,
        "waiting_since": since.isoformat(),
        "waited_seconds": round((now - since).total_seconds(), 1),
    }


def announce_missed(site_id: int, queue: str, minutes: float, now: datetime, limit: int) -> tuple[int, int]:
    """Record and announce (queue.target_missed, in the same transaction) up to `limit` comments
    of a site's queue past its target. The caller commits. (Comments found, comments announced.)"""
    late = _late(site_id, queue, now - timedelta(minutes=minutes), limit)
    if not late:
        return 0, 0
    since = {row.id: row.since for row in late}
    written = _insert_misses(
        [
            {
                "site_id": site_id,
                "comment_id": comment_id,
                "queue": queue,
                "waiting_since": waiting_since,
                "target_minutes": minutes,
                "created_at": now,
            }
            for comment_id, waiting_since in since.items()
        ]
    )
    if written:
        comments = db.session.execute(
            sa.select(Comment.id, Comment.status, Article.external_id, Article.url, Article.title)
            .join(Article, Article.id == Comment.article_id)
            .where(Comment.id.in_(sorted(written)))
            .order_by(Comment.id)
        ).all()
        emit(
            *(
                outbox_row(site_id, EVENT_TYPE, _payload(c, queue, minutes, since[c.id], now), c.id)
                for c in comments
            )
        )
    return len(late), len(written)


def missed_targets_step(ctx: StepContext) -> Step:
    """One batch of the queue-targets job: every site with a target, up to JOBS_BATCH_SIZE
    comments in all. A comment is announced once (a unique row per comment and queue), so a
    second run, or a second runner, announces nothing again."""
    budget, counts, more = ctx.batch_size, dict.fromkeys(TARGET_QUEUES, 0), False
    sites = db.session.execute(
        sa.select(Site.id, Site.policy["queue_targets"].label("targets")).order_by(Site.id)
    ).all()
    for site in sites:
        for queue, minutes in targets_of(site.targets).items():
            if budget <= 0:
                more = True
                break
            found, announced = announce_missed(site.id, queue, minutes, ctx.now, budget)
            budget -= found
            counts[queue] += announced
            more = more or budget <= 0
    db.session.commit()
    return Step({f"{queue}_missed": n for queue, n in counts.items()}, more=more)
