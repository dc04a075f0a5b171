"""Metrics (Prometheus), structured JSON logs and request ids.

Under gunicorn, set PROMETHEUS_MULTIPROC_DIR to an empty folder so every worker's counts are
added up at /metrics (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import sys
import time
from typing import Any

import structlog
from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from .auth import require_metrics_access

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
COMMENTS = Counter("comments_decided_total", "Comments decided, by status and by whom", ["status", "by"])
LABEL_FLAGS = Counter(
    "comment_label_flags_total", "Decisions where a label passed a threshold", ["label", "threshold"]
)
SCORER_BATCH = Histogram(
    "scorer_batch_size", "Texts per model call", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256)
)
SCORER_LATENCY = Histogram(
    "scorer_batch_seconds",
    "Seconds per model call",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
SCORER_TIMEOUTS = Counter(
    "scorer_timeouts_total", "Comments stored pending because the scorer missed its deadline"
)
WEBHOOK_ATTEMPTS = Counter("webhook_attempts_total", "Webhook delivery attempts", ["outcome"])
# Scheduled jobs (service/jobs/): runs by outcome (done, failed, busy) and rows handled, counted by
# the process that ran them; the last success is read from the database at each scrape, so every
# instance reports the latest run of any instance or Celery worker.
JOB_RUNS = Counter("scheduled_job_runs_total", "Runs of scheduled jobs", ["job", "outcome"])
JOB_ITEMS = Counter("scheduled_job_items_total", "Rows scheduled jobs handled", ["job", "item"])
JOB_LAST_SUCCESS = Gauge(
    "scheduled_job_last_success_timestamp_seconds",
    "When each scheduled job last finished without error (Unix time)",
    ["job"],
    multiprocess_mode="max",
)
JOB_PROCESSED = Gauge(
    "scheduled_job_processed_rows",
    "Rows each scheduled job has handled in all its runs, by any instance (from the database)",
    ["job"],
    multiprocess_mode="max",
)
# Queue time targets (service/queue_targets.py), read from the database at each scrape: whichever
# process answers reports the present, so the most recent value wins across workers.
QUEUE_OLDEST_AGE = Gauge(
    "moderation_queue_oldest_age_seconds",
    "How long the oldest comment waiting in each site's queue has waited (0: the queue is empty)",
    ["site", "queue"],
    multiprocess_mode="mostrecent",
)
QUEUE_TARGET = Gauge(
    "moderation_queue_target_seconds",
    "Each site's time target per queue (sites without one have no series)",
    ["site", "queue"],
    multiprocess_mode="mostrecent",
)

# A request id from the caller is kept if it looks like one; otherwise one is made.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class _RequestIds:
    """Request ids that are unique, not secret: 32 hex digits, a random prefix per process and a
    counter (uuid4 asked the kernel for random bytes on every request)."""

    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._next = itertools.count(1).__next__  # atomic: request threads share it

    def __call__(self) -> str:
        return f"{self._prefix}{self._next():016x}"


new_request_id = _RequestIds()
os.register_at_fork(after_in_child=new_request_id.restart)  # a forked worker makes its own


def observe_batch(size: int, seconds: float) -> None:
    SCORER_BATCH.observe(size)
    SCORER_LATENCY.observe(seconds)


def count_decision(status: str, actor: str, reasons: list[dict] | None = None) -> None:
    COMMENTS.labels(status, "system" if actor == "system" else "moderator").inc()
    for reason in reasons or ():
        if reason.get("label") and reason.get("code", "").startswith("label_above_"):
            LABEL_FLAGS.labels(reason["label"], reason["code"].removeprefix("label_above_")).inc()


class _StderrLogger:
    """Writes each log line to the sys.stderr of the moment (test runners swap it)."""

    def __init__(self, *args: object) -> None:
        pass

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    debug = info = warning = error = critical = exception = msg


def configure_logging(level: str) -> None:
    """JSON lines on stderr, each with the request id when there is one."""
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=_StderrLogger,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )


def init_app(app: Flask) -> None:
    level = app.config.get("LOG_LEVEL", "INFO")
    configure_logging(level)
    log = structlog.get_logger("service.request")
    # Each request's line is built only when it would be written (LOG_LEVEL INFO or below).
    log_requests = logging.getLevelName(level.upper()) <= logging.INFO
    # The metrics' children by (method, route, status): labels() checks and hashes its values on
    # every call, a cost paid here once per kind of request.
    observed: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else new_request_id()
        g.started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def _finish(response: Response) -> Response:
        started = g.pop("started", None)
        route = request.url_rule.rule if request.url_rule else "unmatched"
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if started is None:
            return response
        seconds = time.perf_counter() - started
        method, status = request.method, response.status_code
        metrics = observed.get((method, route, status))
        if metrics is None:
            metrics = observed[(method, route, status)] = (
                REQUESTS.labels(method, route, str(status)),
                LATENCY.labels(method, route),
            )
        metrics[0].inc()
        metrics[1].observe(seconds)
        if log_requests:
            principal = g.get("principal")
            log.info(
                "request",
                method=method,
                route=route,
                status=status,
                duration_ms=round(seconds * 1000, 2),
                key=principal.actor if principal else None,
            )
        return response

    @app.route("/metrics")
    def metrics() -> Response:
        """Prometheus metrics (counts from every worker process in multiprocess mode)."""
        require_metrics_access()
        for refresh in app.extensions.get("metrics_refresh", ()):
            try:
                refresh()
            except Exception:  # a database outage must not take the metrics down with it
                logging.getLogger(__name__).exception("refreshing metrics failed")
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            data = generate_latest(registry)
        else:
            data = generate_latest()
        return Response(data, mimetype=CONTENT_TYPE_LATEST)
