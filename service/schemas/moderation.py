"""Schemas of the moderation API: queues, decisions, reports, authors, audit, stats, simulation."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..decisions import DECISIONS, MAX_BULK
from ..moderation.policy import POLICY_LABELS
from ..queue import QUEUES, SORTS, UNKNOWN_LANGUAGE
from ..reports import REPORT_REASONS
from ..scoring.base import OPTIONAL_LABELS
from .admin import PolicySchema
from .common import MAX_ID, CleanString, CursorQuerySchema, QueryInteger, StrictInteger


class QueueQuerySchema(CursorQuerySchema):
    queue = fields.String(load_default="held", validate=validate.OneOf(QUEUES))
    site = fields.String(metadata={"description": "site slug (keys for every site: optional)"})
    article = fields.String(
        validate=validate.Length(max=200), metadata={"description": "the site's article id; needs site"}
    )
    label = fields.String(
        validate=validate.OneOf(POLICY_LABELS + OPTIONAL_LABELS),
        metadata={"description": "only comments scoring at least min_score on this label"},
    )
    spam = fields.Boolean(
        metadata={
            "description": "only comments a spam rule flagged (spam label, links, duplicates, velocity, bots)"
        }
    )
    language = fields.String(
        validate=validate.Regexp(rf"^([a-z]{{2}}|{UNKNOWN_LANGUAGE})$", error="an ISO 639-1 code: de"),
        metadata={
            "description": "only comments in this language (ISO 639-1, e.g. de), or `unknown`: too"
            " short or too mixed to tell"
        },
    )
    min_score = fields.Float(load_default=0.5, validate=validate.Range(min=0, max=1))
    author = fields.String(
        validate=validate.Length(max=320),
        metadata={"description": "the site's user id or the author's e-mail"},
    )
    q = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "words in the text"})
    since = fields.AwareDateTime(default_timezone=None)
    until = fields.AwareDateTime(default_timezone=None)
    sort = fields.String(load_default="oldest", validate=validate.OneOf(SORTS))


class ReachableSiteSchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    rejection_reasons = fields.List(fields.String(), required=True)
    report_threshold = fields.Float(
        required=True, metadata={"description": "weight of open reports that holds a published comment"}
    )
    role = fields.String(metadata={"description": "the caller's role on this site (moderator or admin)"})


class IdentitySchema(Schema):
    role = fields.String(required=True, metadata={"description": "the strongest role held"})
    all_sites = fields.Boolean(required=True, metadata={"description": "the caller reaches every site"})
    actor = fields.String(metadata={"description": "how the audit trail names the caller"})
    name = fields.String(metadata={"description": "the person's (or the integration's) name"})
    sites = fields.List(fields.Nested(ReachableSiteSchema), required=True)


class SiteQuerySchema(Schema):
    site = fields.String(metadata={"description": "site slug (keys for every site: optional)"})


class ModeratedAuthorSchema(Schema):
    name = fields.String(required=True)
    email = fields.String(allow_none=True, metadata={"description": "private: moderators only"})
    user_id = fields.String(allow_none=True)
    key = fields.String(allow_none=True, metadata={"description": "who the author is across comments"})
    verified = fields.Boolean(
        required=True,
        metadata={
            "description": "the site vouched for the author (reader token); else name, e-mail and"
            " user id are the reader's own claims, and there is no key"
        },
    )
    history = fields.Dict(
        allow_none=True, metadata={"description": "approved, rejected and held comments on the site"}
    )


class SpanSchema(Schema):
    start = fields.Integer(required=True)
    end = fields.Integer(required=True)
    weight = fields.Float(required=True)


class ReportViewSchema(Schema):
    reason = fields.String(required=True)
    note = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    open = fields.Boolean(required=True)
    reporter = fields.String(
        required=True,
        validate=validate.OneOf(["verified", "anonymous"]),
        metadata={"description": "a signed-in reader, or an anonymous network"},
    )
    weight = fields.Float(
        required=True,
        metadata={"description": "what it counted (0: a flood from one network, or a banned reader)"},
    )
    flood = fields.Boolean(
        required=True, metadata={"description": "sent past the network's hourly report limit"}
    )
    outcome = fields.String(allow_none=True, metadata={"description": "upheld or dismissed, once resolved"})


class EditViewSchema(Schema):
    text = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "the comment's status with this text"})
    replaced_at = fields.DateTime(required=True, metadata={"description": "when the author replaced it"})


class QueueItemSchema(Schema):
    id = fields.Integer(required=True)
    site_id = fields.Integer(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "send as If-Match when deciding"})
    text = fields.String(required=True)
    author = fields.Nested(ModeratedAuthorSchema, required=True)
    article = fields.Dict(required=True)
    parent = fields.Dict(allow_none=True)
    scores = fields.Dict(keys=fields.String(), values=fields.Float(), allow_none=True)
    model = fields.Dict(
        allow_none=True, metadata={"description": "name and version of the model that scored"}
    )
    reasons = fields.List(
        fields.Dict(),
        required=True,
        metadata={"description": "why it was decided; word matches carry start, end and matched"},
    )
    highlights = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Nested(SpanSchema)),
        allow_none=True,
        metadata={"description": "per label, the spans of the text that raised it most"},
    )
    reports = fields.List(fields.Nested(ReportViewSchema), required=True)
    report_count = fields.Integer(required=True)
    report_weight = fields.Float(
        required=True, metadata={"description": "weight of the open reports, compared with the threshold"}
    )
    spam = fields.Boolean(required=True, metadata={"description": "a spam rule raised a reason"})
    featured = fields.Boolean(
        required=True, metadata={"description": "an editor featured it: the thread lists it first"}
    )
    likes = fields.Integer(required=True, metadata={"description": "readers' likes"})
    language = fields.String(
        allow_none=True,
        metadata={"description": "detected language (ISO 639-1); null: too short or too mixed to tell"},
    )
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    edited_at = fields.DateTime(
        allow_none=True, metadata={"description": "when the author last edited the text; null: never"}
    )
    edits = fields.List(
        fields.Nested(EditViewSchema),
        required=True,
        metadata={"description": "the texts the comment had before its author's edits, oldest first"},
    )


class QueuePageSchema(Schema):
    items = fields.List(fields.Nested(QueueItemSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class QueueCountsSchema(Schema):
    held = fields.Integer(required=True)
    pending = fields.Integer(required=True)
    reported = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    approved = fields.Integer(required=True)
    over_cap = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "queues holding more than the count shown (counts stop at 10,000)"},
    )


class DecisionSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    reason = fields.String(
        load_default="",
        validate=validate.Length(max=50),
        metadata={"description": "required to reject: one of the site's rejection reasons"},
    )
    note = CleanString(max_length=2000, min_length=0, one_line=False, load_default="")


class BulkItemSchema(DecisionSchema):
    id = StrictInteger(required=True, validate=validate.Range(min=1, max=MAX_ID))
    version = StrictInteger(
        metadata={"description": "the version seen; omit to decide whatever the current version"}
    )


class BulkDecisionSchema(Schema):
    decisions = fields.List(
        fields.Nested(BulkItemSchema), required=True, validate=validate.Length(min=1, max=MAX_BULK)
    )

    @validates_schema
    def _distinct(self, data, **kwargs):
        ids = [d["id"] for d in data.get("decisions", [])]
        if len(ids) != len(set(ids)):
            raise ValidationError("each comment may appear once", "decisions")


class BulkResultSchema(Schema):
    id = fields.Integer(required=True)
    ok = fields.Boolean(required=True)
    status = fields.String(allow_none=True)
    version = fields.Integer(allow_none=True)
    error = fields.Dict(allow_none=True)


class BulkResultsSchema(Schema):
    results = fields.List(fields.Nested(BulkResultSchema), required=True)


class EraseSchema(Schema):
    note = CleanString(max_length=2000, min_length=0, one_line=False, load_default="")


class FeatureSchema(Schema):
    featured = fields.Boolean(required=True, metadata={"description": "true: feature; false: unfeature"})
    note = CleanString(max_length=2000, min_length=0, one_line=False, load_default="")


class FeaturedSchema(Schema):
    id = fields.Integer(required=True)
    featured = fields.Boolean(required=True)
    featured_at = fields.DateTime(allow_none=True, required=True)
    version = fields.Integer(required=True)


class ReportCreateSchema(Schema):
    reason = fields.String(required=True, validate=validate.OneOf(REPORT_REASONS))
    note = CleanString(max_length=500, min_length=0, one_line=False, load_default="")
    reader_token = fields.String(
        validate=validate.Length(min=1, max=4096),
        metadata={
            "description": "the site's reader token: a signed-in reader's report counts once, and more"
        },
    )
    reporter_id = CleanString(
        max_length=200,
        metadata={
            "description": "ignored (kept for old embeds): a reader is who their reader_token says",
            "deprecated": True,
        },
    )


class ReportCreatedSchema(Schema):
    comment_id = fields.Integer(required=True)
    received = fields.Boolean(required=True)


class AuthorStandingSchema(Schema):
    standing = fields.String(
        required=True, validate=validate.OneOf(["regular", "trusted", "suspended", "banned"])
    )
    suspended_until = fields.AwareDateTime(
        default_timezone=None, metadata={"description": "required to suspend"}
    )
    note = CleanString(max_length=2000, min_length=0, one_line=False, load_default="")

    @validates_schema
    def _suspension_has_an_end(self, data, **kwargs):
        if data.get("standing") == "suspended" and not data.get("suspended_until"):
            raise ValidationError("required to suspend", "suspended_until")


class AuthorQuerySchema(Schema):
    key = fields.String(
        required=True,
        validate=validate.Length(min=1, max=330),
        metadata={"description": "a verified reader's key: sso:<the site's user id>"},
    )


class AuthorSchema(Schema):
    key = fields.String(required=True)
    standing = fields.String(required=True, metadata={"description": "in effect now, earned trust included"})
    explicit_standing = fields.String(allow_none=True, metadata={"description": "what a moderator set"})
    suspended_until = fields.DateTime(allow_none=True)
    note = fields.String()
    history = fields.Dict(required=True)


class EventQuerySchema(Schema):
    site = fields.String()
    comment_id = QueryInteger(validate=validate.Range(min=1, max=MAX_ID))
    actor = fields.String(validate=validate.Length(max=64))
    from_status = fields.String(validate=validate.Length(max=16))
    to_status = fields.String(validate=validate.Length(max=16))
    since = fields.AwareDateTime(default_timezone=None)
    until = fields.AwareDateTime(default_timezone=None)
    limit = QueryInteger(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = QueryInteger(validate=validate.Range(min=1, max=MAX_ID))


class EventSchema(Schema):
    id = fields.Integer(required=True)
    comment_id = fields.Integer(required=True)
    site_id = fields.Integer(required=True)
    actor = fields.String(
        required=True,
        metadata={
            "description": "system, user:<account id> (a person), or integration:<key id> "
            "(key:<id> on events older than accounts)"
        },
    )
    actor_name = fields.String(
        allow_none=True, metadata={"description": "the person's or the integration's name"}
    )
    from_status = fields.String(allow_none=True)
    to_status = fields.String(required=True)
    reason = fields.String()
    note = fields.String()
    reasons = fields.List(fields.Dict())
    scores = fields.Dict(allow_none=True)
    model_name = fields.String(allow_none=True)
    model_version = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class EventPageSchema(Schema):
    items = fields.List(fields.Nested(EventSchema), required=True)
    next_cursor = fields.Integer(allow_none=True)


class StatsQuerySchema(Schema):
    site = fields.String(required=True)
    days = QueryInteger(load_default=30, validate=validate.Range(min=1, max=365))


class StatsSchema(Schema):
    days = fields.Integer(required=True)
    queues = fields.Nested(QueueCountsSchema, required=True)
    decisions_per_day = fields.List(fields.Dict(), required=True)
    median_seconds_in_queue = fields.Float(allow_none=True)
    reviewed = fields.Integer(required=True)
    agreement = fields.Dict(
        required=True, metadata={"description": "per label: held_by_model, precision, recall"}
    )


class SimulationRequestSchema(Schema):
    policy = fields.Nested(
        PolicySchema, required=True, metadata={"description": "the changes to try; other keys stay"}
    )
    last = StrictInteger(load_default=1000, validate=validate.Range(min=1, max=50_000))


class ShareEstimateSchema(Schema):
    clean_held = fields.Float(
        allow_none=True, metadata={"description": "share of clean comments held or rejected (estimate)"}
    )
    clean_rejected = fields.Float(
        allow_none=True, metadata={"description": "share of clean comments rejected"}
    )
    toxic_published = fields.Float(
        allow_none=True,
        metadata={"description": "share of toxic comments published without review (estimate)"},
    )
    per_source = fields.Dict(
        metadata={"description": "the same per evaluation source, with its clean and toxic counts"}
    )


class ShareEstimatesSchema(Schema):
    basis = fields.String(required=True, metadata={"description": "where the estimates come from"})
    model_version = fields.String(required=True)
    current = fields.Nested(ShareEstimateSchema, required=True)
    proposed = fields.Nested(ShareEstimateSchema, required=True)


class SimulationSchema(Schema):
    compared = fields.Integer(required=True)
    changed = fields.Integer(required=True)
    current = fields.Dict(required=True)
    proposed = fields.Dict(required=True)
    changes = fields.Dict(required=True, metadata={"description": "counts per 'from->to'"})
    examples = fields.List(fields.Dict(), required=True)
    estimates = fields.Nested(
        ShareEstimatesSchema,
        allow_none=True,
        metadata={
            "description": "estimated shares of clean comments held and toxic comments published, "
            "from the model's held-out evaluation data (null when the model ships none)"
        },
    )


class NoteCreateSchema(Schema):
    text = CleanString(max_length=2000, one_line=False, required=True)


class NoteSchema(Schema):
    id = fields.Integer(required=True)
    comment_id = fields.Integer(required=True)
    actor = fields.String(
        required=True, metadata={"description": "who wrote it, as the audit trail names them"}
    )
    actor_name = fields.String(
        allow_none=True, metadata={"description": "the person's or the integration's name"}
    )
    text = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class NoteListSchema(Schema):
    notes = fields.List(
        fields.Nested(NoteSchema), required=True, metadata={"description": "oldest first (the first 200)"}
    )
