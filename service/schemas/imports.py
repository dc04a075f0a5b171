"""The admin API's import jobs (service/imports/jobs.py)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..imports import FORMATS
from ..imports.jobs import STATUSES


class ImportJobQuerySchema(Schema):
    """How to read the uploaded file: the options of `flask imports run`."""

    format = fields.String(
        required=True, validate=validate.OneOf(FORMATS), metadata={"description": "the file's format"}
    )
    article_ids = fields.String(
        load_default="source",
        validate=validate.OneOf(["source", "url"]),
        metadata={"description": "our article id: the source's thread identifier, or its URL"},
    )
    base_url = fields.String(
        load_default="",
        validate=validate.Length(max=2000),
        metadata={
            "description": "Isso keeps paths: the site's URL to put in front (default: its first origin)"
        },
    )
    score = fields.Boolean(
        load_default=False,
        metadata={
            "description": "leave comments awaiting a decision at the source pending, for the scoring"
            " job to decide by the site's policy (otherwise they are held for a moderator)"
        },
    )


class ImportCountsSchema(Schema):
    read = fields.Integer(required=True)
    added = fields.Integer(required=True)
    already_imported = fields.Integer(
        required=True, metadata={"description": "written by an earlier import (importing again adds nothing)"}
    )
    articles_added = fields.Integer(required=True)
    orphans = fields.Integer(
        required=True, metadata={"description": "replies whose parent is not in the file, kept as top-level"}
    )
    pending_scoring = fields.Integer(required=True)


class ImportJobSchema(Schema):
    id = fields.Integer(required=True)
    format = fields.String(required=True)
    options = fields.Dict(required=True, metadata={"description": "article_ids, base_url, score"})
    status = fields.String(
        required=True,
        validate=validate.OneOf(STATUSES),
        metadata={"description": "queued, running, succeeded (result holds the counts) or failed (error)"},
    )
    file_bytes = fields.Integer(required=True)
    progress = fields.Method(
        "_progress",
        metadata={"description": "how far the reading is: done of total (bytes; an Isso file's rows)"},
    )
    comments_read = fields.Integer(required=True)
    result = fields.Nested(ImportCountsSchema, allow_none=True)
    error = fields.String(
        allow_none=True,
        metadata={"description": "why it failed, naming the line or element; nothing was imported"},
    )
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)

    def _progress(self, job) -> dict:
        done, total = job["done"] or 0, job["total"] or 0
        return {"done": done, "total": total, "fraction": round(done / total, 4) if total else 0.0}


class ImportJobListSchema(Schema):
    items = fields.List(fields.Nested(ImportJobSchema), required=True)
