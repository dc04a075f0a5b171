"""Exports as streamed JSON lines: a site's comments, and one author's data (access requests)."""

from __future__ import annotations

from flask import Response, current_app, stream_with_context

from .. import privacy, sites
from ..auth import current_principal
from ..errors import ValidationFailed
from ..imports.export import export_author, export_site
from ..schemas.common import ProblemSchema
from ..schemas.exports import (
    AuthorExportQuerySchema,
    PersonErasedSchema,
    PersonErasureSchema,
    SiteExportQuerySchema,
)
from . import Blueprint, authorized

blp = Blueprint(
    "exports",
    __name__,
    url_prefix="/v1/admin",
    description="A site's and one person's data: exports as JSON lines, erasure (admin keys)",
)

NDJSON = "application/x-ndjson"


# Each line is a JSON object; the document names the media type (smorest gives no schema to a
# streamed body).
def _lines(description: str) -> dict:
    return {"200": {"description": description, "content": {NDJSON: {"schema": {"type": "string"}}}}}


def _streamed(chunks, filename: str) -> Response:
    # Written as read, a page of comments at a time: a big site never sits in memory.
    return Response(
        stream_with_context(chunks),
        mimetype=NDJSON,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@blp.route("/sites/<string:slug>/export")
@authorized(blp, "admin")
@blp.arguments(SiteExportQuerySchema(), location="query")
@blp.response(200, content_type=NDJSON)
@blp.alt_response(404, schema=ProblemSchema, description="No such site")
@blp.doc(responses=_lines("A header line, then one line per comment, by id"))
def export_site_comments(args, slug):
    """Export a site's comments (statuses, scores, reasons; events and e-mails if asked)"""
    site = sites.site_by_slug(slug, current_principal())
    return _streamed(export_site(site.id, site.slug, **args), f"{site.slug}-comments.jsonl")


@blp.route("/sites/<string:slug>/author-export")
@authorized(blp, "admin")
@blp.arguments(AuthorExportQuerySchema(), location="query")
@blp.response(200, content_type=NDJSON)
@blp.alt_response(404, schema=ProblemSchema, description="No such site")
@blp.alt_response(422, schema=ProblemSchema, description="Neither key nor email given")
@blp.doc(responses=_lines("A header line, the author's standing, reports and comments"))
def export_author_data(args, slug):
    """Export what the site holds about one author (a reader's access request)"""
    if not args.get("key") and not args.get("email"):
        raise ValidationFailed("key", "name the author by key or email", "query")
    site = sites.site_by_slug(slug, current_principal())
    return _streamed(export_author(site.id, site.slug, **args), f"{site.slug}-author.jsonl")


@blp.route("/sites/<string:slug>/author-erasure", methods=["POST"])
@authorized(blp, "admin")
@blp.arguments(PersonErasureSchema())
@blp.response(200, PersonErasedSchema())
@blp.alt_response(404, schema=ProblemSchema, description="No such site")
@blp.alt_response(422, schema=ProblemSchema, description="Neither key nor email given")
def erase_person(data, slug):
    """Erase everything about one person (an erasure request): their comments' texts and personal
    fields, their author row, who sent their reports and notices and what they wrote. The
    moderation events stay, without their data. One transaction: all of it or nothing."""
    if not data.get("key") and not data.get("email"):
        raise ValidationFailed("key", "name the person by key or email")
    principal = current_principal()
    site = sites.site_by_slug(slug, principal)
    done = privacy.erase_person(
        site.id,
        current_app.config["SECRET_KEY"],
        principal.actor,
        key=data.get("key"),
        email=data.get("email"),
        note=data["note"],
    )
    return done.as_dict()
