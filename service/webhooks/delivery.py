"""From the outbox to HTTP: fan events out into deliveries, claim due ones, send, record.

Every step is a short transaction on the database, which holds the truth; a worker that dies
loses nothing. Claims use `SELECT ... FOR UPDATE SKIP LOCKED` (rendered on PostgreSQL, a no-op
on SQLite, where writers are serialised anyway), so any number of workers share the work.

Retry schedule: after the n-th failed attempt the next one waits a random time in
[0, 2 x RETRY_SCHEDULE[n-1]) ("full jitter", mean = the base): about 5 s, 30 s, 2 min, 10 min,
30 min, 1 h, 3 h, 6 h and 12 h, ~24 h in all; the tenth failure makes the delivery `dead`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from urllib3 import PoolManager, Timeout
from urllib3.exceptions import HTTPError

from ..db import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint, utcnow
from ..extensions import db
from ..observability import WEBHOOK_ATTEMPTS
from .signing import signature_header
from .ssrf import UnsafeURL

RETRY_SCHEDULE = (5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
READ_CAP = 64 * 1024  # bytes of a response read at most
EXCERPT_CAP = 1024  # characters of it kept in the log
USER_AGENT = "comment-moderation-webhooks/1"


def retry_delay(failed_attempts: int, rng: Callable[[], float] = random.random) -> timedelta | None:
    """How long to wait after `failed_attempts` failures; None once the delivery is dead."""
    if failed_attempts >= MAX_ATTEMPTS:
        return None
    base = RETRY_SCHEDULE[max(failed_attempts, 1) - 1]
    return timedelta(seconds=2 * base * rng())


def active_secrets(endpoint: Any, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its grace."""
    secrets = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        secrets.append(endpoint.previous_secret)
    return secrets


# --- outbox -> deliveries -------------------------------------------------------------------


def dispatch_outbox(limit: int = 500, now: datetime | None = None) -> int:
    """Turn undispatched outbox events into deliveries, in one transaction. Returns events done."""
    now = now or utcnow()
    events = db.session.scalars(
        sa.select(OutboxEvent)
        .where(OutboxEvent.dispatched_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not events:
        db.session.rollback()
        return 0
    endpoints = db.session.scalars(
        sa.select(WebhookEndpoint).where(
            WebhookEndpoint.site_id.in_({e.site_id for e in events}), WebhookEndpoint.enabled
        )
    ).all()
    rows = [
        {
            "outbox_event_id": event.id,
            "endpoint_id": endpoint.id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event in events
        for endpoint in endpoints
        if endpoint.site_id == event.site_id and event.type in endpoint.event_types
    ]
    if rows:
        db.session.execute(sa.insert(WebhookDelivery), rows)
    db.session.execute(
        sa.update(OutboxEvent).where(OutboxEvent.id.in_([e.id for e in events])).values(dispatched_at=now)
    )
    db.session.commit()
    return len(events)


# --- claiming and sending -------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """What a sender needs, read while claiming so sending touches no database."""

    delivery_id: int
    endpoint_id: int
    attempts: int
    event_id: str
    url: str
    secrets: tuple[str, ...]
    body: bytes


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    excerpt: str
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim_due(limit: int, lease: timedelta, now: datetime | None = None) -> list[Job]:
    """Claim up to `limit` due deliveries of enabled endpoints. The lease (next_attempt_at moved
    past now) keeps other workers off them while they are sent, and hands them back if we die."""
    now = now or utcnow()
    ids = db.session.scalars(
        sa.select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status.in_(("pending", "failed")),
            WebhookDelivery.next_attempt_at <= now,
            WebhookEndpoint.enabled,
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    ).all()
    if not ids:
        db.session.rollback()
        return []
    db.session.execute(
        sa.update(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).values(next_attempt_at=now + lease)
    )
    rows = db.session.execute(
        sa.select(
            WebhookDelivery.id,
            WebhookDelivery.attempts,
            OutboxEvent.event_id,
            OutboxEvent.payload,
            WebhookEndpoint,
        )
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_event_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.id)
    ).all()
    jobs = [
        Job(
            delivery_id=row.id,
            endpoint_id=row.WebhookEndpoint.id,
            attempts=row.attempts,
            event_id=row.event_id,
            url=row.WebhookEndpoint.url,
            secrets=tuple(active_secrets(row.WebhookEndpoint, now)),
            body=encode_body(row.payload),
        )
        for row in rows
    ]
    db.session.commit()
    return jobs


def encode_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def send(job: Job, pool: PoolManager, timeout: float = 10.0) -> Outcome:
    """One signed POST. Never follows redirects; reads at most READ_CAP bytes of the answer."""
    timestamp = int(time.time())  # the real clock: receivers reject stale timestamps
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": job.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(list(job.secrets), job.event_id, timestamp, job.body),
    }
    started = time.perf_counter()
    try:
        response = pool.request(
            "POST",
            job.url,
            body=job.body,
            headers=headers,
            redirect=False,
            retries=False,
            timeout=Timeout(connect=timeout, read=timeout),
            preload_content=False,
        )
        try:
            data = response.read(READ_CAP, decode_content=True)
            if response.read(1):  # more than we read: do not keep this connection
                response.close()
        finally:
            response.release_conn()
        excerpt = data.decode("utf-8", "replace")[:EXCERPT_CAP]
        return Outcome(response.status, _ms_since(started), excerpt, None)
    except UnsafeURL as error:
        return Outcome(None, _ms_since(started), "", f"refused by the SSRF guard: {error}"[:500])
    except (HTTPError, OSError) as error:
        return Outcome(None, _ms_since(started), "", f"{type(error).__name__}: {error}"[:500])


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


# --- recording outcomes ---------------------------------------------------------------------


def record_outcomes(
    results: Iterable[tuple[Job, Outcome]],
    now: datetime | None = None,
    disable_after: timedelta = timedelta(days=3),
    rng: Callable[[], float] = random.random,
) -> None:
    """Write the attempts, move each delivery on, and disable endpoints that asked (410) or that
    have failed for longer than `disable_after`. One transaction."""
    now = now or utcnow()
    results = list(results)
    if not results:
        return
    deliveries, attempts = [], []
    failing, healthy, gone = set(), set(), set()
    for job, outcome in results:
        WEBHOOK_ATTEMPTS.labels("succeeded" if outcome.succeeded else "failed").inc()
        tries = job.attempts + 1
        attempts.append(
            {
                "delivery_id": job.delivery_id,
                "attempted_at": now,
                "status_code": outcome.status_code,
                "duration_ms": outcome.duration_ms,
                "response_excerpt": outcome.excerpt,
                "error": outcome.error,
            }
        )
        update = {"id": job.delivery_id, "attempts": tries, "last_status_code": outcome.status_code}
        if outcome.succeeded:
            healthy.add(job.endpoint_id)
            update.update(status="succeeded", next_attempt_at=None, delivered_at=now)
        else:
            failing.add(job.endpoint_id)
            if outcome.status_code == 410:
                gone.add(job.endpoint_id)
            delay = retry_delay(tries, rng)
            if delay is None:
                update.update(status="dead", next_attempt_at=None, delivered_at=None)
            else:
                update.update(status="failed", next_attempt_at=now + delay, delivered_at=None)
        deliveries.append(update)
    db.session.execute(sa.insert(WebhookAttempt), attempts)
    db.session.execute(sa.update(WebhookDelivery), deliveries)
    _update_endpoint_health(sorted(failing), sorted(healthy), sorted(gone), now, disable_after)
    db.session.commit()


def _update_endpoint_health(failing, healthy, gone, now, disable_after) -> None:
    endpoint = WebhookEndpoint
    if failing:
        db.session.execute(
            sa.update(endpoint)
            .where(endpoint.id.in_(failing), endpoint.failing_since.is_(None))
            .values(failing_since=now)
        )
    if healthy:  # any success means the endpoint is not failing
        db.session.execute(
            sa.update(endpoint)
            .where(endpoint.id.in_(healthy), endpoint.failing_since.is_not(None))
            .values(failing_since=None)
        )
    if gone:
        db.session.execute(
            sa.update(endpoint)
            .where(endpoint.id.in_(gone), endpoint.enabled)
            .values(
                enabled=False,
                disabled_reason=f"the endpoint answered 410 Gone at {now:%Y-%m-%d %H:%M} UTC",
            )
        )
    if failing:
        days = disable_after.total_seconds() / 86400
        db.session.execute(
            sa.update(endpoint)
            .where(
                endpoint.id.in_(failing),
                endpoint.enabled,
                endpoint.failing_since < now - disable_after,
            )
            .values(
                enabled=False,
                disabled_reason=(
                    f"every delivery failed for more than {days:g} days (until {now:%Y-%m-%d %H:%M} UTC)"
                ),
            )
        )


def deliver_batch(
    pool: PoolManager,
    executor: ThreadPoolExecutor,
    *,
    limit: int = 50,
    lease: timedelta = timedelta(seconds=60),
    timeout: float = 10.0,
    disable_after: timedelta = timedelta(days=3),
    now: datetime | None = None,
) -> int:
    """Claim, send concurrently, record. Returns how many deliveries were attempted."""
    jobs = claim_due(limit, lease, now)
    if not jobs:
        return 0
    outcomes = list(executor.map(lambda job: send(job, pool, timeout), jobs))
    record_outcomes(zip(jobs, outcomes, strict=True), now=now, disable_after=disable_after)
    return len(jobs)
