"""Celery on Redis or RabbitMQ: `celery -A service.webhooks.tasks worker --beat`. Besides webhook
delivery, it runs the scheduled jobs (service/jobs/tasks.py).

The task only runs the delivery loop; the outbox and delivery rows are the truth, so a lost or
repeated task costs nothing: the next kick (celery beat, every WEBHOOK_KICK_SECONDS) picks up
whatever is due, including deliveries whose worker died (their lease expires).
"""

from __future__ import annotations

from celery import Celery, Task, signals
from flask import Flask

from .worker import run_until_idle


def make_celery(flask_app: Flask) -> Celery:
    """A Celery app bound to `flask_app`: broker from CELERY_BROKER_URL, tasks in app contexts."""
    queue = flask_app.config["WEBHOOK_CELERY_QUEUE"]
    kick = float(flask_app.config["WEBHOOK_KICK_SECONDS"])

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with flask_app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(flask_app.import_name, broker=flask_app.config["CELERY_BROKER_URL"], task_cls=FlaskTask)
    celery.conf.update(
        task_default_queue=queue,
        task_ignore_result=True,
        # A task in hand when its worker is SIGKILLed goes back to the queue.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # An in-memory schedule: the kick needs no state file, and duplicate kicks are harmless.
        beat_scheduler="celery.beat:Scheduler",
        beat_schedule={
            "webhooks-kick": {
                "task": "webhooks.dispatch_and_deliver",
                "schedule": kick,
                "options": {"expires": max(kick * 5, 5.0)},  # stale kicks are dropped
            }
        },
    )

    @celery.task(name="webhooks.dispatch_and_deliver")
    def dispatch_and_deliver(max_seconds: float = 30.0) -> int:
        """Dispatch the outbox and deliver what is due, until idle or `max_seconds`."""
        return run_until_idle(flask_app, max_seconds)

    from ..jobs.tasks import register_jobs

    register_jobs(celery, flask_app)  # the scheduled jobs share the worker and beat

    @signals.worker_process_init.connect(weak=False)
    def _fresh_connections(**_kwargs) -> None:
        # A forked pool process must not share the parent's database connections.
        with flask_app.app_context():
            from ..extensions import db

            db.engine.dispose(close=False)
        flask_app.extensions.pop("webhook_deliverer", None)

    flask_app.extensions["celery"] = celery
    return celery


def _default_celery() -> Celery:
    from .. import create_app

    return make_celery(create_app())


def __getattr__(name: str) -> Celery:
    # `celery -A service.webhooks.tasks` looks for `celery` or `app`; build it only then, so
    # importing this module does no I/O.
    if name in ("celery", "app"):
        global celery
        celery = _default_celery()
        return celery
    raise AttributeError(name)
