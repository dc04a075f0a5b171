"""Query arguments of the exports (service/imports/export.py)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class SiteExportQuerySchema(Schema):
    events = fields.Boolean(
        load_default=False, metadata={"description": "each comment's moderation events too"}
    )
    emails = fields.Boolean(
        load_default=False, metadata={"description": "authors' e-mails (private fields) too"}
    )


class AuthorExportQuerySchema(Schema):
    key = fields.String(
        validate=validate.Length(min=1, max=330),
        metadata={"description": "the author's key (sso:<the site's user id> for verified readers)"},
    )
    email = fields.String(
        validate=validate.Length(min=3, max=320), metadata={"description": "the e-mail the author gave"}
    )
