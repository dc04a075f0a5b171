"""Import jobs: an admin uploads an export file; it is imported in the background, with progress."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, request, url_for

from .. import sites
from ..auth import current_principal
from ..errors import Conflict, NotFound, ServiceError, ValidationFailed
from ..extensions import db
from ..imports import jobs
from ..schemas.common import ProblemSchema
from ..schemas.imports import ImportJobListSchema, ImportJobQuerySchema, ImportJobSchema
from . import Blueprint, authorized

blp = Blueprint(
    "imports",
    __name__,
    url_prefix="/v1/admin",
    description="Import jobs: another system's export file, imported in the background (admin keys)",
)


class UploadTooLarge(ServiceError):
    status = 413
    code = "body-too-large"
    title = "Body too large"


@blp.route("/sites/<string:slug>/imports", methods=["POST"])
@authorized(blp, "admin")
@blp.arguments(ImportJobQuerySchema(), location="query")
@blp.response(202, ImportJobSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such site")
@blp.alt_response(409, schema=ProblemSchema, description="An import of this site is still running")
@blp.alt_response(413, schema=ProblemSchema, description="A file over IMPORT_MAX_BYTES")
@blp.alt_response(422, schema=ProblemSchema, description="Invalid options, or an empty body")
@blp.doc(
    requestBody={
        "required": True,
        "description": "The export file itself, as the body (gzipped or not): not a form",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
)
def start_import(args, slug):
    """Upload an export file (Disqus, WordPress, Isso, Remark42, our JSON lines) and import it in
    the background: all of it, or on any error nothing. Poll the job for its progress."""
    site = sites.site_by_slug(slug, current_principal())
    if jobs.running_job(site.id, any_site=db.engine.dialect.name == "sqlite") is not None:
        # One import at a time (a SQLite database has one writer, whatever the site).
        raise Conflict("an import is still running: wait for it to end")
    # The upload is streamed to disk: the API's usual body limit does not apply, this one does.
    request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]
    if not request.content_length and request.headers.get("Transfer-Encoding", "").lower() != "chunked":
        raise ValidationFailed("body", "send the export file as the request body", "body")
    options = {key: args[key] for key in ("article_ids", "base_url", "score")}
    if args["format"] == "isso" and not options["base_url"]:
        options["base_url"] = (site.allowed_origins or [""])[0]
    try:
        job = jobs.create_job(site.id, args["format"], options, request.stream, current_principal().actor)
    except jobs.UploadTooLarge:
        raise UploadTooLarge(
            f"the file is over {current_app.config['IMPORT_MAX_BYTES']} bytes (IMPORT_MAX_BYTES)"
        ) from None
    except jobs.EmptyUpload:
        raise ValidationFailed("body", "send the export file as the request body", "body") from None
    jobs.start(current_app._get_current_object(), job.id)
    location = url_for("imports.show_import", slug=slug, job_id=job.id)
    return jobs.current_state(job), 202, {"Location": location}


@blp.route("/sites/<string:slug>/imports", methods=["GET"])
@authorized(blp, "admin")
@blp.response(200, ImportJobListSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such site")
def list_imports(slug):
    """The site's last 50 import jobs, newest first"""
    site = sites.site_by_slug(slug, current_principal())
    found = db.session.scalars(
        sa.select(jobs.ImportJob)
        .where(jobs.ImportJob.site_id == site.id)
        .order_by(jobs.ImportJob.id.desc())
        .limit(50)
    ).all()
    return {"items": [jobs.current_state(job) for job in found]}


@blp.route("/sites/<string:slug>/imports/<int:job_id>", methods=["GET"])
@authorized(blp, "admin")
@blp.response(200, ImportJobSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such site or job")
def show_import(slug, job_id):
    """One import job: its status, progress, and counts or error"""
    site = sites.site_by_slug(slug, current_principal())
    job = db.session.get(jobs.ImportJob, job_id)
    if job is None or job.site_id != site.id:
        raise NotFound(f"no import job {job_id} on this site")
    return jobs.current_state(job)
