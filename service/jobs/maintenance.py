"""What each scheduled job does, one bounded batch per call. Each step commits its own batch, so a
run stopped anywhere (deadline, SIGKILL) leaves whole batches done and the rest for the next run,
and doing a step twice changes nothing more than doing it once.

Rows are picked with FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite has one writer at a time), so a
second runner that slips past the job's lease takes other rows instead of waiting or repeating.
Tables are walked by id, oldest first: the rows past their time are the first ones, and no extra
index is needed to find them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from ..db import Comment, IdempotencyRecord, OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ..extensions import db


@dataclass
class Step:
    """What one batch did: rows per kind, and whether rows are left for another batch."""

    counts: dict[str, int] = field(default_factory=dict)
    more: bool = False
    position: int | None = None  # where a walking job stopped (kept in scheduled_jobs.position)


@dataclass
class StepContext:
    app: Flask
    now: datetime
    batch_size: int
    position: int = 0

    @property
    def config(self) -> dict[str, Any]:
        return self.app.config


def _oldest_ids(query: sa.Select, limit: int) -> list[int]:
    return list(db.session.scalars(query.limit(limit).with_for_update(skip_locked=True)))


def score_pending_step(ctx: StepContext) -> Step:
    """Score and decide comments stored pending because the scorer missed its deadline."""
    from ..comments import score_pending

    # One model call's worth: a slow backend (detoxify) must not hold the lease for minutes.
    size = max(1, min(ctx.batch_size, int(ctx.config["SCORING_MAX_BATCH"])))
    done = score_pending(ctx.app.extensions["scoring"], batch_size=size, limit=size)
    return Step({"comments": done}, more=done == size)


def expire_idempotency_step(ctx: StepContext) -> Step:
    """Delete Idempotency-Key answers older than IDEMPOTENCY_TTL_HOURS: a retry after that is a
    new request."""
    cutoff = ctx.now - timedelta(hours=float(ctx.config["IDEMPOTENCY_TTL_HOURS"]))
    ids = _oldest_ids(
        sa.select(IdempotencyRecord.id)
        .where(IdempotencyRecord.created_at < cutoff)
        .order_by(IdempotencyRecord.id),
        ctx.batch_size,
    )
    if ids:
        db.session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(ids)))
    db.session.commit()
    return Step({"idempotency_records": len(ids)}, more=len(ids) == ctx.batch_size)


def prune_webhooks_step(ctx: StepContext) -> Step:
    """Delete the delivery log past WEBHOOK_RETENTION_DAYS, and outbox events dispatched before
    then whose deliveries are all finished (succeeded, dead, or to an endpoint since disabled),
    with those deliveries."""
    cutoff = ctx.now - timedelta(days=float(ctx.config["WEBHOOK_RETENTION_DAYS"]))
    attempts = _oldest_ids(
        sa.select(WebhookAttempt.id).where(WebhookAttempt.attempted_at < cutoff).order_by(WebhookAttempt.id),
        ctx.batch_size,
    )
    if attempts:
        db.session.execute(sa.delete(WebhookAttempt).where(WebhookAttempt.id.in_(attempts)))

    unfinished = (
        sa.select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.outbox_event_id == OutboxEvent.id,
            WebhookDelivery.status.in_(("pending", "failed")),
            WebhookEndpoint.enabled,
        )
        .exists()
    )
    events = _oldest_ids(
        sa.select(OutboxEvent.id)
        .where(OutboxEvent.dispatched_at < cutoff, ~unfinished)
        .order_by(OutboxEvent.id),
        ctx.batch_size,
    )
    deliveries = 0
    if events:
        delivery_ids = sa.select(WebhookDelivery.id).where(WebhookDelivery.outbox_event_id.in_(events))
        db.session.execute(sa.delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids)))
        deliveries = db.session.execute(
            sa.delete(WebhookDelivery).where(WebhookDelivery.outbox_event_id.in_(events))
        ).rowcount
        db.session.execute(sa.delete(OutboxEvent).where(OutboxEvent.id.in_(events)))
    db.session.commit()
    counts = {
        "webhook_attempts": len(attempts),
        "outbox_events": len(events),
        "webhook_deliveries": deliveries,
    }
    return Step(counts, more=ctx.batch_size in (len(attempts), len(events)))


def erase_emails_step(ctx: StepContext) -> Step:
    """Erase commenters' e-mails AUTHOR_EMAIL_RETENTION_DAYS after they posted (0: kept). The
    author's key (a hash, or the site's user id) stays, so history and standing still work."""
    days = float(ctx.config["AUTHOR_EMAIL_RETENTION_DAYS"])
    if days <= 0:
        return Step({"emails": 0})
    cutoff = ctx.now - timedelta(days=days)
    rows = db.session.execute(
        sa.select(Comment.id, Comment.created_at)
        .where(Comment.id > ctx.position)
        .order_by(Comment.id)
        .limit(ctx.batch_size)
    ).all()
    # Ids grow with time: from the first comment still inside the retention on, there is nothing
    # to erase yet, and the next run starts there.
    old: list[int] = []
    for row in rows:
        if row.created_at >= cutoff:
            break
        old.append(row.id)
    erased = 0
    if old:
        erased = db.session.execute(
            sa.update(Comment)
            .where(Comment.id.in_(old), Comment.author_email.is_not(None))
            .values(author_email=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    db.session.commit()
    more = len(old) == len(rows) == ctx.batch_size
    return Step({"emails": erased}, more=more, position=old[-1] if old else ctx.position)


def issue_statements_step(ctx: StepContext) -> Step:
    """Statements of reasons for restrictions made without a moderator (the policy rejecting a new
    comment, late scoring): found from the moderation trail, walked by id (governance/statements.py)."""
    from ..governance.statements import sweep

    made, position, more = sweep(ctx.position, ctx.batch_size, ctx.now)
    return Step({"statements": made}, more=more, position=position)


def reply_notifications_step(ctx: StepContext) -> Step:
    """E-mail readers the replies to their comments (service/notifications)."""
    from ..notifications.steps import reply_notifications_step as step

    return step(ctx)


def moderator_digest_step(ctx: StepContext) -> Step:
    """E-mail moderators the sizes of their queues (service/notifications)."""
    from ..notifications.steps import moderator_digest_step as step

    return step(ctx)
