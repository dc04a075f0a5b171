"""The settings history as the API shows it (service/settings_audit.py)."""

from marshmallow import Schema, fields, validate

from ..settings_audit import KINDS
from .common import MAX_ID, QueryInteger


class SettingsEventQuerySchema(Schema):
    site = fields.String(metadata={"description": "a site's slug (a key of one site sees only its own)"})
    kind = fields.String(validate=validate.OneOf(KINDS))
    actor = fields.String(validate=validate.Length(max=200))
    since = fields.AwareDateTime(default_timezone=None)
    until = fields.AwareDateTime(default_timezone=None)
    limit = QueryInteger(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = QueryInteger(
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "the next_cursor of the page before"},
    )


class SettingsEventSchema(Schema):
    id = fields.Integer(required=True)
    site_id = fields.Integer(allow_none=True, metadata={"description": "null for keys of every site"})
    actor = fields.String(
        required=True, metadata={"description": "who: as in the moderation events; cli for a command"}
    )
    kind = fields.String(required=True, metadata={"description": f"one of: {', '.join(KINDS)}"})
    subject = fields.String(required=True, metadata={"description": "site:<slug>, webhook:<id> or key:<id>"})
    before = fields.Dict(
        allow_none=True,
        required=True,
        metadata={"description": "the changed fields before (null: did not exist); secrets as fingerprints"},
    )
    after = fields.Dict(
        allow_none=True,
        required=True,
        metadata={"description": "the changed fields after (null: deleted); secrets as fingerprints"},
    )
    created_at = fields.DateTime(required=True)


class SettingsEventPageSchema(Schema):
    items = fields.List(fields.Nested(SettingsEventSchema), required=True)
    next_cursor = fields.Integer(allow_none=True)
