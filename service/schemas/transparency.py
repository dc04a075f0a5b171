"""Schemas of the transparency report (DSA Art. 15 and 24)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

FORMATS = ("json", "csv")


class TransparencyQuerySchema(Schema):
    site = fields.String(validate=validate.Length(max=64))
    since = fields.DateTime(metadata={"description": "from this time (default: 30 days before until)"})
    until = fields.DateTime(metadata={"description": "up to (not including) this time (default: now)"})
    format = fields.String(
        validate=validate.OneOf(FORMATS),
        metadata={"description": "csv answers text/csv (so does Accept: text/csv); default json"},
    )


def _counts(description: str) -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": description})


class NoticeFiguresSchema(Schema):
    received = fields.Integer(required=True)
    by_category = _counts("notices received, by the DSA category the reporter named")
    decided = fields.Integer(required=True)
    by_decision = _counts("notices decided in the period, by decision")
    median_seconds_to_decision = fields.Float(allow_none=True)
    median_seconds_to_restriction = fields.Float(
        allow_none=True, metadata={"description": "over the notices whose decision restricted the comment"}
    )


class RestrictionFiguresSchema(Schema):
    total = fields.Integer(required=True)
    by_ground = _counts("illegal (a law) or site_rules")
    by_kind = _counts("rejected, deleted, banned, suspended, held")
    by_automation = _counts("fully, partially or not_automated (the Transparency Database's terms)")
    model_detected = fields.Integer(
        required=True,
        metadata={"description": "restrictions whose first reason was one of the model's labels"},
    )
    model_share = fields.Float(allow_none=True)


class DecisionFiguresSchema(Schema):
    total = fields.Integer(required=True)
    by_actor = _counts("automated (the site's policy), human (a person), integration (a key no person owns)")
    by_outcome = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Integer()),
        metadata={"description": "for each kind of actor, decisions by the status they set"},
    )


class AppealFiguresSchema(Schema):
    recorded = fields.Boolean(required=True, metadata={"description": "false while appeals are not recorded"})
    received = fields.Integer(required=True)
    decided = fields.Integer(required=True)
    reversed = fields.Integer(required=True)


class TransparencySchema(Schema):
    site = fields.String(required=True)
    since = fields.DateTime(required=True)
    until = fields.DateTime(required=True)
    notices = fields.Nested(NoticeFiguresSchema, required=True)
    restrictions = fields.Nested(RestrictionFiguresSchema, required=True)
    decisions = fields.Nested(DecisionFiguresSchema, required=True)
    appeals = fields.Nested(AppealFiguresSchema, required=True)
