"""`flask imports run` (a file into a site, with a progress bar) and `flask export site|author`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup, with_appcontext

from . import FORMATS

imports_cli = AppGroup("imports", help="Import comments from other systems.")
export_cli = AppGroup("export", help="Export comments as JSON lines.")


def _site(slug: str):
    from ..db import Site
    from ..extensions import db

    site = db.session.query(Site).filter_by(slug=slug).one_or_none()
    if site is None:
        raise click.UsageError(f"no site {slug!r}")
    return site


@imports_cli.command("run")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--site", "slug", required=True, help="the site's slug")
@click.option("--format", "format_", type=click.Choice(FORMATS), required=True)
@click.option(
    "--article-id",
    type=click.Choice(["source", "url"]),
    default="source",
    show_default=True,
    help="our article id: the source's thread identifier, or its URL",
)
@click.option(
    "--base-url", help="Isso keeps paths: the site's URL to put in front (default: its first origin)"
)
@click.option(
    "--score/--no-score",
    default=False,
    show_default=True,
    help="leave comments awaiting a decision at the source pending, for the scoring job to score and"
    " decide by the site's policy (otherwise they are held for a moderator)",
)
@click.option("--batch-size", default=2000, show_default=True)
@with_appcontext
def run_command(path, slug, format_, article_id, base_url, score, batch_size) -> None:
    """Import the comments of PATH into a site: all of the file or, on any error, nothing."""
    import sqlalchemy as sa

    from . import ImportFormatError, Source
    from .loader import import_comments

    site = _site(slug)
    origins = site.allowed_origins or []
    try:
        source = Source(format_, path, base_url=base_url or (origins[0] if origins else ""))
    except ImportFormatError as error:
        raise click.ClickException(f"{path}: {error}") from None
    try:
        with click.progressbar(length=source.total, label=f"importing {format_}", file=sys.stderr) as bar:
            seen = 0

            def advance(_count: int) -> None:
                nonlocal seen
                bar.update(source.done - seen)
                seen = source.done

            result = import_comments(
                site.id,
                format_,
                source.comments(),
                score=score,
                article_ids=article_id,
                batch_size=batch_size,
                progress=advance,
            )
    except ImportFormatError as error:
        raise click.ClickException(f"{path}: {error} (nothing was imported)") from None
    except sa.exc.DBAPIError as error:
        # A value the database refused (a field past its column's length, say): named by the
        # database's own message.
        message = str(error.orig).splitlines()[0] if error.orig else str(error)
        raise click.ClickException(
            f"{path}: the database refused a comment: {message} (nothing was imported)"
        ) from None
    finally:
        source.close()
    click.echo(result.summary())


@export_cli.command("site")
@click.argument("slug")
@click.option("--events/--no-events", default=False, help="each comment's moderation events too")
@click.option("--emails/--no-emails", default=False, help="authors' e-mails (private) too")
@click.option("-o", "--output", type=click.File("wb"), default="-", help="file (default: stdout)")
@with_appcontext
def export_site_command(slug, events, emails, output) -> None:
    """Write a site's comments as JSON lines (statuses, scores, reasons)."""
    from .export import export_site

    site = _site(slug)
    for chunk in export_site(site.id, site.slug, events=events, emails=emails):
        output.write(chunk)


@export_cli.command("author")
@click.argument("slug")
@click.option("--key", help="the author's key (sso:<user id> for verified readers)")
@click.option("--email", help="the e-mail the author gave")
@click.option("-o", "--output", type=click.File("wb"), default="-", help="file (default: stdout)")
@with_appcontext
def export_author_command(slug, key, email, output) -> None:
    """Write what the site holds about one author (a reader's access request) as JSON lines."""
    from .export import export_author

    if not key and not email:
        raise click.UsageError("name the author with --key or --email")
    site = _site(slug)
    for chunk in export_author(site.id, site.slug, key=key, email=email):
        output.write(chunk)
