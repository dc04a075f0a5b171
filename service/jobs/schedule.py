"""The scheduled jobs, their lease and their runs: used by Celery beat's tasks, the embedded thread
and `flask jobs run` alike.

A run first takes the job's lease in scheduled_jobs with one conditional UPDATE (free, or expired,
and, unless forced, due): of all the instances, threads and beats that try at once, one wins and
the others skip. It then does batch after batch (service/jobs/maintenance.py) until nothing is
left or JOBS_RUN_SECONDS have passed, and gives the lease back with what it did.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from ..db import ScheduledJob, utcnow
from ..extensions import db
from ..observability import JOB_ITEMS, JOB_LAST_SUCCESS, JOB_PROCESSED, JOB_RUNS
from ..queue_targets import missed_targets_step
from . import maintenance
from .maintenance import Step, StepContext

log = logging.getLogger(__name__)

# Another beat or thread asking a little early still finds the job not due: runs stay one
# interval apart however many schedulers there are.
DUE_SLACK = 0.8


@dataclass(frozen=True)
class Job:
    name: str
    step: Callable[[StepContext], Step]
    every_setting: str  # the setting that says how often it runs
    summary: str


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            "score-pending",
            maintenance.score_pending_step,
            "SCORE_PENDING_EVERY_SECONDS",
            "score and decide comments left pending by the scoring deadline",
        ),
        Job(
            "expire-idempotency",
            maintenance.expire_idempotency_step,
            "CLEANUP_EVERY_SECONDS",
            "delete Idempotency-Key answers older than IDEMPOTENCY_TTL_HOURS",
        ),
        Job(
            "prune-webhooks",
            maintenance.prune_webhooks_step,
            "CLEANUP_EVERY_SECONDS",
            "delete finished outbox events, deliveries and delivery logs older than WEBHOOK_RETENTION_DAYS",
        ),
        Job(
            "erase-emails",
            maintenance.erase_emails_step,
            "CLEANUP_EVERY_SECONDS",
            "erase commenters' e-mails older than AUTHOR_EMAIL_RETENTION_DAYS (0: off)",
        ),
        Job(
            "queue-targets",
            missed_targets_step,
            "QUEUE_TARGETS_EVERY_SECONDS",
            "send queue.target_missed for comments waiting past their site's queue targets (once each)",
        ),
        Job(
            "issue-statements",
            maintenance.issue_statements_step,
            # As often as late scoring, whose rejections it states too.
            "SCORE_PENDING_EVERY_SECONDS",
            "write the DSA statements of reasons of the policy's restrictions (a moderator's come at once)",
        ),
        Job(
            "reply-notifications",
            maintenance.reply_notifications_step,
            "NOTIFY_EVERY_SECONDS",
            "e-mail readers who asked to hear of replies to their comments (SMTP_HOST and PUBLIC_URL set)",
        ),
        Job(
            "moderator-digest",
            maintenance.moderator_digest_step,
            "DIGEST_EVERY_SECONDS",
            "e-mail each moderator what waits in their sites' queues (SMTP_HOST and PUBLIC_URL set)",
        ),
    )
}


def every(app: Flask, job: Job) -> float:
    return float(app.config[job.every_setting])


@dataclass
class Run:
    """What one call of run_job did. outcome: done, failed, busy (another runner holds the
    lease) or not-due (it ran less than an interval ago)."""

    job: str
    outcome: str
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @property
    def processed(self) -> int:
        return sum(self.counts.values())


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _ensure_row(name: str) -> None:
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(ScheduledJob).values(name=name).on_conflict_do_nothing())
    db.session.commit()


def _take_lease(app: Flask, job: Job, holder: str, force: bool) -> str | None:
    """None when taken, else why not: busy (another runner has it) or not-due."""
    wall = utcnow()
    row = db.session.get(ScheduledJob, job.name)
    if row is None:
        _ensure_row(job.name)
    else:  # a plain read first: most asks find it not due, and need no write lock
        due_before = wall - timedelta(seconds=every(app, job) * DUE_SLACK)
        busy = row.lease_until is not None and row.lease_until > wall
        early = row.last_started_at is not None and row.last_started_at > due_before
        db.session.rollback()
        if busy:
            return "busy"
        if early and not force:
            return "not-due"
    lease = timedelta(seconds=2 * float(app.config["JOBS_RUN_SECONDS"]) + 120)
    conditions = [
        ScheduledJob.name == job.name,
        sa.or_(ScheduledJob.lease_until.is_(None), ScheduledJob.lease_until <= wall),
    ]
    if not force:
        due_before = wall - timedelta(seconds=every(app, job) * DUE_SLACK)
        conditions.append(
            sa.or_(ScheduledJob.last_started_at.is_(None), ScheduledJob.last_started_at <= due_before)
        )
    taken = db.session.execute(
        sa.update(ScheduledJob)
        .where(*conditions)
        .values(lease_until=wall + lease, holder=holder, last_started_at=wall)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return None if taken == 1 else "busy"


def _position(name: str) -> int:
    return db.session.scalar(sa.select(ScheduledJob.position).where(ScheduledJob.name == name)) or 0


def _finish(name: str, holder: str, run: Run, position: int | None) -> None:
    values = {
        "lease_until": None,
        "holder": None,
        "last_finished_at": utcnow(),
        "last_outcome": run.outcome,
        "last_processed": run.processed,
        "total_processed": ScheduledJob.total_processed + run.processed,
        "last_error": (run.error or "")[:500] or None,
    }
    if position is not None:
        values["position"] = position
    db.session.execute(
        sa.update(ScheduledJob)
        .where(ScheduledJob.name == name, ScheduledJob.holder == holder)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def run_job(app: Flask, name: str, *, now: datetime | None = None, force: bool = False) -> Run:
    """Run one job if its lease is free (and, unless `force`, it is due). `now` moves the job's
    clock (what counts as old); leases always use the real time."""
    job = JOBS[name]
    holder = _holder()
    with app.app_context():
        try:
            refused = _take_lease(app, job, holder, force)
            if refused:
                if refused == "busy":
                    JOB_RUNS.labels(name, "busy").inc()
                return Run(name, refused)
            run = Run(name, "done")
            context = StepContext(app, now or utcnow(), int(app.config["JOBS_BATCH_SIZE"]), _position(name))
            position = None
            deadline = time.monotonic() + float(app.config["JOBS_RUN_SECONDS"])
            try:
                while True:
                    step = job.step(context)
                    for item, count in step.counts.items():
                        run.counts[item] = run.counts.get(item, 0) + count
                        if count:
                            JOB_ITEMS.labels(name, item).inc(count)
                    if step.position is not None:
                        position = context.position = step.position
                    if not step.more or time.monotonic() >= deadline:
                        break
            except Exception as error:  # kept in scheduled_jobs.last_error; the next run retries
                db.session.rollback()
                log.exception("scheduled job %s failed", name)
                run.outcome, run.error = "failed", f"{type(error).__name__}: {error}"
            _finish(name, holder, run, position)
            JOB_RUNS.labels(name, run.outcome).inc()
            if run.outcome == "done":
                JOB_LAST_SUCCESS.labels(name).set(time.time())
            return run
        finally:
            db.session.remove()


def run_due(app: Flask, now: datetime | None = None) -> list[Run]:
    """Run every job that is due and free (the embedded thread's pass)."""
    return [run_job(app, name, now=now) for name in JOBS]


def refresh_metrics() -> None:
    """Each job's last successful run and rows handled by any instance, from the database."""
    for row in db.session.scalars(sa.select(ScheduledJob)):
        JOB_PROCESSED.labels(row.name).set(row.total_processed)
        if row.last_outcome == "done" and row.last_finished_at is not None:
            JOB_LAST_SUCCESS.labels(row.name).set(row.last_finished_at.timestamp())
    db.session.rollback()


class EmbeddedScheduler:
    """The background thread that runs the jobs when no broker is configured. Every process has
    one; the lease lets only one of them run a job at a time, once per interval."""

    def __init__(self, app: Flask):
        self.app = app
        shortest = min(every(app, job) for job in JOBS.values())
        self.tick = max(0.05, min(5.0, shortest / 2))
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="scheduled-jobs", daemon=True)
                self.thread.start()

    def _loop(self) -> None:
        while not self.stop_event.wait(self.tick):
            try:
                run_due(self.app)
            except Exception:  # a database restart must not end the loop
                log.exception("scheduled jobs pass failed; retrying")

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)
