"""Commands: `flask ...` for operators, and `comment-service` to start everything in one go."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

comments_cli = AppGroup("comments", help="Work on stored comments.")


@click.command("create-site")
@click.argument("slug")
@click.option("--name", help="display name (default: the slug)")
@click.option(
    "--origin", "origins", multiple=True, help="an allowed origin, e.g. https://news.example (repeat)"
)
@with_appcontext
def create_site_command(slug: str, name: str | None, origins: tuple[str, ...]) -> None:
    """Create a site that the embed may post to from ORIGINs."""
    from .errors import ServiceError
    from .schemas.admin import SiteCreateSchema
    from .sites import create_site

    errors = SiteCreateSchema().validate(
        {"slug": slug, "name": name or slug, "allowed_origins": list(origins)}
    )
    if errors:
        raise click.UsageError(json.dumps(errors))
    data = SiteCreateSchema().load({"slug": slug, "name": name or slug, "allowed_origins": list(origins)})
    try:
        site = create_site(data)
    except ServiceError as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"site {site.slug} created (id {site.id})")


@click.command("create-key")
@click.argument("role", type=click.Choice(["embed", "moderator", "admin"]))
@click.option("--site", "site_slug", help="the site's slug (required for embed keys; omit for every site)")
@click.option("--name", default="", help="what the key is for")
@with_appcontext
def create_key_command(role: str, site_slug: str | None, name: str) -> None:
    """Create a key and print it. It is shown this once: only its hash is stored."""
    from .errors import ServiceError
    from .sites import issue_key

    try:
        key, secret = issue_key(None, role, site_slug, name)
    except ServiceError as error:
        raise click.ClickException(error.detail) from error
    click.echo(secret)
    click.echo(
        f"(key {key.id}, role {role}, site {site_slug or 'every site'}; store it now, it is not shown again)",
        err=True,
    )


@comments_cli.command("score-pending")
@click.option("--batch-size", default=256, show_default=True)
@click.option("--limit", type=int, help="stop after this many comments")
@with_appcontext
def score_pending_command(batch_size: int, limit: int | None) -> None:
    """Score the comments stored as pending (scorer past its deadline) and decide them."""
    import sqlalchemy as sa

    from .comments import score_pending
    from .db import Comment
    from .extensions import db

    total = db.session.scalar(sa.select(sa.func.count()).where(Comment.status == "pending"))
    if limit is not None:
        total = min(total, limit)
    engine = current_app.extensions["scoring"]
    with click.progressbar(length=total, label="scoring pending comments", file=sys.stderr) as bar:
        done = score_pending(engine, batch_size=batch_size, limit=limit, progress=bar.update)
    click.echo(f"{done} comments scored and decided")


@comments_cli.command("rescore")
@click.option("--since", type=click.DateTime(), required=True, help="rescore comments created since (UTC)")
@click.option("--batch-size", default=256, show_default=True)
@with_appcontext
def rescore_command(since, batch_size: int) -> None:
    """Score comments again with the current model (after a model change); decisions stand."""
    from datetime import UTC

    import sqlalchemy as sa

    from .comments import rescore
    from .db import Comment
    from .extensions import db

    since = since.replace(tzinfo=UTC)
    total = db.session.scalar(
        sa.select(sa.func.count()).where(
            Comment.created_at >= since, Comment.status.notin_(("pending", "deleted"))
        )
    )
    engine = current_app.extensions["scoring"]
    with click.progressbar(length=total, label="rescoring", file=sys.stderr) as bar:
        done = rescore(engine, since=since, batch_size=batch_size, progress=bar.update)
    scorer = engine.scorer
    click.echo(f"{done} comments rescored with {scorer.name} {scorer.version}")


@click.command("write-openapi")
@click.argument("path", default="openapi.yaml")
@with_appcontext
def write_openapi_command(path: str) -> None:
    """Write the OpenAPI document generated from the code (openapi.yaml)."""
    from .openapi import spec_yaml

    Path(path).write_text(spec_yaml(current_app.extensions["api"]))
    click.echo(f"wrote {path}")


def register_commands(app: Flask) -> None:
    from .accounts.commands import accounts_cli

    for command in (
        create_site_command,
        create_key_command,
        write_openapi_command,
        comments_cli,
        accounts_cli,
    ):
        app.cli.add_command(command)
    from .imports.cli import export_cli, imports_cli

    app.cli.add_command(imports_cli)
    app.cli.add_command(export_cli)
    try:
        from .scoring.commands import scoring_cli
    except ImportError:  # the scoring commands need the training extra
        return
    from .adaptation.commands import adapt_command, adaptation_curve_command

    for command in (adapt_command, adaptation_curve_command):
        scoring_cli.add_command(command)
    app.cli.add_command(scoring_cli)


# --- comment-service: one command to start on the embedded defaults --------------------------


@click.group()
def main() -> None:
    """The comment moderation service."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True)
@click.option(
    "--demo/--no-demo", default=True, show_default=True, help="create a demo site and keys on first start"
)
def serve(host: str, port: int, workers: int, demo: bool) -> None:
    """Upgrade the database, create the demo site if asked, and serve with gunicorn."""
    from . import create_app
    from .demo import ensure_demo

    _checked_settings()
    app = create_app()
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=app.extensions["migrate"].directory)
        if demo:
            local = host in ("127.0.0.1", "0.0.0.0")  # noqa: S104 - a comparison, not a bind
            ensure_demo(app, f"http://{'localhost' if local else host}:{port}")
    _exec_gunicorn(f"{host}:{port}", workers, threads=4)


def _exec_gunicorn(bind: str, workers: int, threads: int) -> None:
    from .config import load_settings

    # An open live stream (service/live) holds its thread while it waits: the requests get
    # `threads` of their own besides the streams' bound.
    threads += max(0, int(load_settings()["LIVE_MAX_CONNECTIONS"]))
    # Every worker writes its metrics here; /metrics adds them up (prometheus multiprocess mode).
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="comment-service-metrics-")
    # Replace this process with gunicorn: signals reach the server directly.
    os.execvp(  # noqa: S606
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            bind,
            "--graceful-timeout",
            "20",
            "--access-logfile",
            "-",
            "service.wsgi:app",
        ],
    )


# --- the production processes: release, web, worker, beat (the Dockerfile's commands) -----------


def _checked_settings() -> dict:
    """The settings, or a plain message naming what is missing and exit status 2 (no traceback)."""
    from .config import ConfigurationError, load_settings

    try:
        return load_settings()
    except ConfigurationError as error:
        click.echo(str(error), err=True)
        raise SystemExit(2) from None


@main.command()
def release() -> None:
    """Check the settings and migrate the database: once per deployment, before new web processes."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from . import create_app
    from .extensions import db

    _checked_settings()
    app = create_app()
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        revision = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    click.echo(f"database migrated to revision {revision}")


@main.command()
@click.option("--bind", default="0.0.0.0:8000", show_default=True, envvar="BIND")
@click.option("--workers", default=2, show_default=True, envvar="WEB_CONCURRENCY", help="about one per core")
@click.option("--threads", default=4, show_default=True)
def web(bind: str, workers: int, threads: int) -> None:
    """Serve the API with gunicorn (run `release` first). No demo site, no migration."""
    _checked_settings()
    _exec_gunicorn(bind, workers, threads)


def _exec_celery(settings: dict, argv: list[str]) -> None:
    if not settings["CELERY_BROKER_URL"]:
        click.echo(
            "CELERY_BROKER_URL is not set: the worker and beat need a broker, e.g."
            " CELERY_BROKER_URL=redis://redis:6379/0 (without one, each web process delivers"
            " webhooks and runs the scheduled jobs itself)",
            err=True,
        )
        raise SystemExit(2)
    os.execvp(sys.executable, [sys.executable, "-m", "celery", "-A", "service.webhooks.tasks", *argv])  # noqa: S606


@main.command()
@click.option(
    "--concurrency", default=8, show_default=True, help="tasks at once (webhooks wait on the network)"
)
def worker(concurrency: int) -> None:
    """A Celery worker: webhook delivery and the scheduled jobs (as many as needed)."""
    settings = _checked_settings()
    queue = settings["WEBHOOK_CELERY_QUEUE"]
    _exec_celery(settings, ["worker", "-Q", queue, f"--concurrency={concurrency}", "--loglevel=INFO"])


@main.command()
def beat() -> None:
    """Celery beat: kicks webhook delivery and starts the scheduled jobs on time (one is enough;
    a second one is harmless)."""
    settings = _checked_settings()
    _exec_celery(settings, ["beat", "--loglevel=INFO"])
