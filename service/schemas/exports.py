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


class PersonErasureSchema(Schema):
    """Who to erase: their author key, the e-mail they gave, or both (all of it goes)."""

    key = fields.String(
        validate=validate.Length(min=1, max=128),
        metadata={"description": "the author's key (sso:<the site's user id> for verified readers)"},
    )
    email = fields.String(
        validate=validate.Length(min=3, max=320), metadata={"description": "the e-mail the person gave"}
    )
    note = fields.String(
        load_default="",
        validate=validate.Length(max=2000),
        metadata={"description": "why (kept in each erased comment's event, for moderators)"},
    )


class PersonErasedSchema(Schema):
    """What was erased: rows changed per kind (comments already deleted are not counted)."""

    comments = fields.Integer(required=True)
    authors = fields.Integer(required=True, metadata={"description": "author rows removed"})
    reports = fields.Integer(required=True, metadata={"description": "reports they sent, now anonymous"})
    reactions = fields.Integer(
        required=True, metadata={"description": "their likes, still counted, now anonymous"}
    )
    notices = fields.Integer(required=True, metadata={"description": "notices they sent, now anonymous"})
    appeals = fields.Integer(required=True, metadata={"description": "their appeals, without their words"})
    outbox_events = fields.Integer(required=True, metadata={"description": "webhook payloads scrubbed"})
