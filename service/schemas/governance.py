"""Schemas of the DSA workflows: notices of illegal content and statements of reasons."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates
from webargs.fields import DelimitedList

from ..governance import dsa
from .appeals import AppealViewSchema
from .common import CleanString, QueryInteger

MAX_EXPLANATION = 4000


class NoticeCreateSchema(Schema):
    category = fields.String(
        required=True,
        validate=validate.OneOf(dsa.NOTICE_CATEGORIES),
        metadata={"description": "the legal ground: a DSA Transparency Database statement category"},
    )
    explanation = CleanString(
        max_length=MAX_EXPLANATION,
        min_length=10,
        one_line=False,
        required=True,
        metadata={"description": "why the reporter believes the content is illegal (Art. 16(2)(a))"},
    )
    name = CleanString(max_length=100, required=True, metadata={"description": "the reporter's name"})
    email = fields.Email(
        required=True,
        validate=validate.Length(max=320),
        metadata={"description": "where the site sends the confirmation and the decision; never public"},
    )
    good_faith = fields.Boolean(
        required=True,
        metadata={
            "description": "the reporter's statement that the notice is accurate and complete: must be true"
        },
    )
    reader_token = fields.String(
        validate=validate.Length(min=1, max=4096),
        metadata={"description": "a signed-in reporter's reader token (the site then gets their user id)"},
    )

    @validates("good_faith")
    def _must_be_true(self, value, **kwargs):
        if value is not True:
            raise ValidationError("must be true: the reporter confirms the notice is made in good faith")


class NoticeReceiptSchema(Schema):
    id = fields.Integer(required=True)
    comment_id = fields.Integer(required=True)
    status = fields.String(required=True)
    status_path = fields.String(
        required=True,
        metadata={"description": "signed link to the notice's status (GET), to give the reporter"},
    )
    created_at = fields.DateTime(required=True)


class NoticeStatusSchema(Schema):
    """What the reporter's link shows: no one's personal data."""

    id = fields.Integer(required=True)
    comment_id = fields.Integer(required=True)
    category = fields.String(required=True)
    category_label = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(dsa.NOTICE_STATUSES))
    decision = fields.String(allow_none=True, validate=validate.OneOf(dsa.NOTICE_DECISIONS))
    restricted = fields.Boolean(allow_none=True)
    explanation = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True)
    statement_ground = fields.String(allow_none=True)
    redress = fields.String(allow_none=True)


class NoticeCommentSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    text = fields.String(required=True)
    author = fields.Dict(required=True)
    version = fields.Integer(required=True)


class ReporterSchema(Schema):
    name = fields.String(required=True)
    email = fields.String(required=True)
    user_id = fields.String(allow_none=True)


class NoticeSchema(Schema):
    """A notice as moderators see it, reporter included."""

    id = fields.Integer(required=True)
    site_id = fields.Integer(required=True)
    comment = fields.Nested(NoticeCommentSchema, required=True)
    category = fields.String(required=True)
    category_label = fields.String(required=True)
    explanation = fields.String(required=True)
    reporter = fields.Nested(ReporterSchema, required=True)
    good_faith = fields.Boolean(required=True)
    status = fields.String(required=True)
    decision = fields.String(allow_none=True)
    restricted = fields.Boolean(allow_none=True)
    legal_ground = fields.String(required=True)
    decision_explanation = fields.String(required=True)
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)


class NoticeQuerySchema(Schema):
    site = fields.String(validate=validate.Length(max=64))
    status = fields.String(load_default="open", validate=validate.OneOf([*dsa.NOTICE_STATUSES, "all"]))
    limit = QueryInteger(load_default=50, validate=validate.Range(min=1, max=200))
    after = QueryInteger(
        validate=validate.Range(min=0, max=2**53), metadata={"description": "ids after this one"}
    )


class NoticePageSchema(Schema):
    notices = fields.List(fields.Nested(NoticeSchema), required=True)


class NoticeDecisionSchema(Schema):
    decision = fields.String(
        required=True,
        validate=validate.OneOf(dsa.NOTICE_DECISIONS),
        metadata={
            "description": "illegal (always restricts), not_illegal, or site_rules (breaks the site's rules)"
        },
    )
    restrict = fields.Boolean(
        metadata={"description": "not_illegal and site_rules: also reject the comment (needs reason)"}
    )
    reason = CleanString(
        max_length=200, metadata={"description": "the site's rejection reason when restricting"}
    )
    legal_ground = CleanString(
        max_length=500, metadata={"description": "illegal: the law the content breaks (required)"}
    )
    explanation = CleanString(
        max_length=2000,
        one_line=False,
        load_default="",
        metadata={"description": "told to the reporter and, when it restricts, written in the statement"},
    )


class StatementViewSchema(Schema):
    """A statement of reasons as its author's link shows it."""

    id = fields.String(required=True)
    site = fields.String(required=True)
    restriction = fields.String(required=True, validate=validate.OneOf(dsa.RESTRICTIONS))
    ground = fields.String(required=True, validate=validate.OneOf(dsa.GROUNDS))
    category = fields.String(required=True)
    category_label = fields.String(required=True)
    ground_reference = fields.String(required=True)
    explanation = fields.String(required=True)
    facts = fields.String(required=True)
    automated_detection = fields.Boolean(required=True)
    automated_decision = fields.String(required=True, validate=validate.OneOf(dsa.AUTOMATED_DECISIONS))
    decided_by = fields.String(required=True, metadata={"description": "system or moderator (never who)"})
    source = fields.String(required=True, validate=validate.OneOf(dsa.SOURCES))
    end_date = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    redress = fields.String(required=True)
    appeal = fields.Nested(
        AppealViewSchema,
        required=True,
        metadata={"description": "whether and until when the author may appeal, and the appeal's outcome"},
    )
    comment = fields.Dict(allow_none=True, metadata={"description": "the author's own comment"})


class StatementSchema(Schema):
    id = fields.String(attribute="public_id", required=True)
    comment_id = fields.Integer(allow_none=True)
    notice_id = fields.Integer(allow_none=True)
    author_key = fields.String(allow_none=True)
    restriction = fields.String(required=True)
    ground = fields.String(required=True)
    category = fields.String(required=True)
    ground_reference = fields.String(required=True)
    explanation = fields.String(required=True)
    facts = fields.String(required=True)
    automated_detection = fields.Boolean(required=True)
    automated_decision = fields.String(required=True)
    source = fields.String(required=True)
    decided_by = fields.String(required=True)
    end_date = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)


class StatementQuerySchema(Schema):
    site = fields.String(validate=validate.Length(max=64))
    comment_id = QueryInteger(validate=validate.Range(min=1, max=2**53))
    limit = QueryInteger(load_default=100, validate=validate.Range(min=1, max=500))
    before = QueryInteger(validate=validate.Range(min=1, max=2**53))


class StatementPageSchema(Schema):
    statements = fields.List(fields.Nested(StatementSchema), required=True)


class ExportQuerySchema(Schema):
    site = fields.String(validate=validate.Length(max=64))
    since = fields.DateTime(required=True, metadata={"description": "statements made from this time"})
    until = fields.DateTime(required=True, metadata={"description": "up to (not including) this time"})
    territorial_scope = DelimitedList(
        fields.String(validate=validate.OneOf(dsa.EEA_COUNTRIES)),
        metadata={"description": "EU/EEA country codes where the restriction applies (default: the EU)"},
    )


class ExportSchema(Schema):
    statements = fields.List(
        fields.Dict(),
        required=True,
        metadata={
            "description": "records in the DSA Transparency Database's statement format (see docs/dsa.md)"
        },
    )
