"""Scheduled jobs: late scoring of pending comments, expiry of idempotency records, pruning of
webhook rows, erasure of old e-mails, announcing comments past their queue's time target, reply
notices to readers and the moderators' digest (service/notifications).

Celery beat runs them when a broker is configured (service/jobs/tasks.py); without one, a thread
of each web process does (like the embedded webhook delivery). `flask jobs run NAME` runs one now.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from ..queue_targets import refresh_metrics as refresh_queue_metrics
    from .cli import jobs_cli
    from .schedule import EmbeddedScheduler, refresh_metrics

    app.cli.add_command(jobs_cli)
    app.extensions.setdefault("metrics_refresh", []).append(refresh_metrics)
    # The age of each queue's oldest comment, against the site's target (service/queue_targets.py).
    app.extensions["metrics_refresh"].append(refresh_queue_metrics)

    embedded = str(app.config["JOBS_EMBEDDED_WORKER"]).lower()
    if embedded == "auto":
        embedded = not app.config.get("CELERY_BROKER_URL") and not app.testing
    else:
        embedded = embedded in ("1", "true", "yes", "on")
    if embedded:
        scheduler = app.extensions["job_scheduler"] = EmbeddedScheduler(app)
        # Started by the first request, as the webhook thread is: commands build the app too, and
        # gunicorn forks after the app is made.
        app.before_request(scheduler.start)
