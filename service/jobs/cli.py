"""`flask jobs ...`: run a scheduled job now, or see when each last ran."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

jobs_cli = AppGroup("jobs", help="Scheduled jobs (late scoring, expiry, pruning).")


@jobs_cli.command("run")
@click.argument("names", nargs=-1, metavar="[JOB]...")
@click.option("--all", "run_all", is_flag=True, help="run every job")
def run_command(names: tuple[str, ...], run_all: bool) -> None:
    """Run jobs once now, whether due or not (one run: up to JOBS_RUN_SECONDS of batches).

    JOB: score-pending, expire-idempotency, prune-webhooks, erase-emails."""
    from .schedule import JOBS, run_job

    unknown = [name for name in names if name not in JOBS]
    if unknown or not (names or run_all):
        raise click.UsageError(
            f"name a job ({', '.join(JOBS)}) or pass --all"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    failed = False
    for name in JOBS if run_all else names:
        run = run_job(current_app._get_current_object(), name, force=True)
        counts = ", ".join(f"{count} {item}" for item, count in run.counts.items()) or "nothing to do"
        if run.outcome == "done":
            click.echo(f"{name}: {counts}")
        elif run.outcome == "busy":
            click.echo(f"{name}: running elsewhere now (its lease is held); skipped", err=True)
        else:
            failed = True
            click.echo(f"{name}: failed: {run.error}", err=True)
    if failed:
        raise SystemExit(1)


@jobs_cli.command("status")
def status_command() -> None:
    """When each job last ran, what it did, and whether a runner holds it now."""
    import sqlalchemy as sa

    from ..db import ScheduledJob
    from ..extensions import db
    from .schedule import JOBS, every

    rows = {row.name: row for row in db.session.scalars(sa.select(ScheduledJob))}
    app = current_app._get_current_object()
    for name, job in JOBS.items():
        row = rows.get(name)
        if row is None or row.last_started_at is None:
            click.echo(f"{name}: never run (every {every(app, job):g} s)")
            continue
        finished = f"{row.last_finished_at:%Y-%m-%d %H:%M:%S} UTC" if row.last_finished_at else "not yet"
        line = (
            f"{name}: last {row.last_outcome or 'running'} at {finished}, {row.last_processed} rows"
            f" ({row.total_processed} in all), every {every(app, job):g} s"
        )
        if row.holder:
            line += f"; held by {row.holder}"
        if row.last_error:
            line += f"; error: {row.last_error}"
        click.echo(line)
