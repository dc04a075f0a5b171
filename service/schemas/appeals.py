"""Schemas of appeals against restrictions (DSA Art. 20)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..governance import appeal_rules
from .common import CleanString, QueryInteger


class AppealCreateSchema(Schema):
    text = CleanString(
        min_length=appeal_rules.MIN_TEXT,
        max_length=appeal_rules.MAX_TEXT,
        one_line=False,
        required=True,
        metadata={"description": "why the author thinks the decision is wrong"},
    )


class AppealReceiptSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(appeal_rules.STATUSES))
    statement_path = fields.String(
        required=True, metadata={"description": "the statement's link, which shows the appeal's outcome"}
    )
    created_at = fields.DateTime(required=True)


class AppealStatementSchema(Schema):
    id = fields.String(required=True)
    restriction = fields.String(required=True)
    ground = fields.String(required=True)
    category = fields.String(required=True)
    ground_reference = fields.String(required=True)
    facts = fields.String(required=True)
    decided_by = fields.String(required=True, metadata={"description": "who made the decision appealed"})
    created_at = fields.DateTime(required=True)


class AppealCommentSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    text = fields.String(required=True)
    author = fields.Dict(required=True)
    version = fields.Integer(required=True)


class AppealSchema(Schema):
    """An appeal as moderators see it."""

    id = fields.Integer(required=True)
    site_id = fields.Integer(required=True)
    text = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(appeal_rules.STATUSES))
    outcome = fields.String(allow_none=True, validate=validate.OneOf(appeal_rules.OUTCOMES))
    reason = fields.String(required=True)
    original_actor = fields.String(
        required=True,
        metadata={"description": "who made the decision appealed: they may not decide the appeal"},
    )
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    reversal_event_id = fields.Integer(
        allow_none=True, metadata={"description": "a reversal's moderation event (the comment published)"}
    )
    statement = fields.Nested(AppealStatementSchema, required=True)
    comment = fields.Nested(AppealCommentSchema, required=True)


class AppealQuerySchema(Schema):
    site = fields.String(validate=validate.Length(max=64))
    status = fields.String(load_default="open", validate=validate.OneOf([*appeal_rules.STATUSES, "all"]))
    limit = QueryInteger(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(
        validate=validate.Length(max=200), metadata={"description": "next_cursor of the previous page"}
    )


class AppealPageSchema(Schema):
    appeals = fields.List(fields.Nested(AppealSchema), required=True)
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "pass as cursor for the next page; null on the last"}
    )


class AppealDecisionSchema(Schema):
    outcome = fields.String(
        required=True,
        validate=validate.OneOf(appeal_rules.OUTCOMES),
        metadata={"description": "upheld (the restriction stays) or reversed (the comment is published)"},
    )
    reason = CleanString(
        min_length=1,
        max_length=2000,
        one_line=False,
        required=True,
        metadata={"description": "told to the author with the statement"},
    )


class AppealViewSchema(Schema):
    """The appeal as the author's statement link shows it."""

    possible = fields.Boolean(required=True, metadata={"description": "whether the author may appeal now"})
    until = fields.DateTime(allow_none=True, metadata={"description": "the end of the appeal window"})
    status = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
