"""`flask webhooks ...`: run the delivery loop in the foreground, or a Celery worker."""

from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup

webhooks_cli = AppGroup("webhooks", help="Deliver webhooks.")


@webhooks_cli.command("worker")
@click.option("--idle-interval", default=1.0, show_default=True, help="seconds between passes when idle")
def worker_command(idle_interval: float) -> None:
    """Deliver webhooks in the foreground until interrupted (no Celery needed)."""
    from .worker import run_forever

    app = current_app._get_current_object()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # finish the pass in hand, then stop
        signal.signal(signum, lambda *_: stop.set())
    click.echo("delivering webhooks; Ctrl-C to stop", err=True)
    run_forever(app, stop, idle_interval)


@webhooks_cli.command("celery-worker", context_settings={"ignore_unknown_options": True})
@click.option("--concurrency", default=2, show_default=True)
@click.option(
    "--beat/--no-beat",
    default=True,
    show_default=True,
    help="run the periodic kick in this worker (extra kicks are harmless)",
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def celery_worker_command(concurrency: int, beat: bool, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker for the webhooks queue (CELERY_BROKER_URL must be set)."""
    from .tasks import make_celery

    app = current_app._get_current_object()
    if not app.config.get("CELERY_BROKER_URL"):
        raise click.UsageError("set CELERY_BROKER_URL (redis://... or amqp://...)")
    celery = make_celery(app)
    argv = [
        "worker",
        f"--concurrency={concurrency}",
        "-Q",
        app.config["WEBHOOK_CELERY_QUEUE"],
        "--loglevel=INFO",
        *(["--beat"] if beat else []),
        *celery_args,
    ]
    celery.worker_main(argv)
