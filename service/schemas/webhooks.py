"""Schemas of the webhooks API, and of the events the service sends (documented in the spec)."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields, validate

from ..db import DELIVERY_STATUSES
from ..webhooks.endpoints import EVENT_TYPES

EVENT_TYPE = fields.String(validate=validate.OneOf(EVENT_TYPES))
EVENT_TYPES_FIELD = dict(
    validate=validate.Length(min=1, max=len(EVENT_TYPES)),
    metadata={"description": f"events to receive, among: {', '.join(EVENT_TYPES)}"},
)


class EndpointCreateSchema(Schema):
    url = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "http(s) URL of a public host"},
    )
    event_types = fields.List(EVENT_TYPE, load_default=lambda: list(EVENT_TYPES), **EVENT_TYPES_FIELD)


class EndpointUpdateSchema(Schema):
    url = fields.String(validate=validate.Length(min=1, max=2000))
    event_types = fields.List(EVENT_TYPE, **EVENT_TYPES_FIELD)
    enabled = fields.Boolean(metadata={"description": "true re-enables a disabled endpoint"})


class EndpointSchema(Schema):
    id = fields.Integer(required=True)
    site = fields.String(required=True)
    url = fields.String(required=True)
    event_types = fields.List(fields.String(), required=True)
    enabled = fields.Boolean(required=True)
    disabled_reason = fields.String(allow_none=True, metadata={"description": "why it was disabled"})
    failing_since = fields.DateTime(
        allow_none=True, metadata={"description": "start of the current run of failures"}
    )
    previous_secret_expires_at = fields.DateTime(
        allow_none=True, metadata={"description": "until then the previous secret signs too"}
    )
    created_at = fields.DateTime(required=True)


class EndpointCreatedSchema(EndpointSchema):
    secret = fields.String(required=True, metadata={"description": "whsec_…: shown only in this answer"})


class RotateSecretSchema(Schema):
    grace_hours = fields.Float(
        validate=validate.Range(min=0, max=24 * 7),
        metadata={"description": "how long the old secret keeps signing (default 24)"},
    )


class SecretSchema(Schema):
    secret = fields.String(required=True, metadata={"description": "the new secret, shown only here"})
    previous_secret_expires_at = fields.DateTime(allow_none=True)


class AttemptSchema(Schema):
    attempted_at = fields.DateTime(required=True)
    status_code = fields.Integer(allow_none=True)
    duration_ms = fields.Integer(required=True)
    response_excerpt = fields.String(required=True, metadata={"description": "first 1 KB of the answer"})
    error = fields.String(
        allow_none=True, metadata={"description": "why no answer came (timeout, refused, ...)"}
    )


class DeliveryStateSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(DELIVERY_STATUSES))
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    created_at = fields.DateTime(required=True)
    delivered_at = fields.DateTime(allow_none=True)


class DeliverySchema(DeliveryStateSchema):
    event_id = fields.String(required=True, metadata={"description": "the webhook-id header"})
    event_type = fields.String(required=True)
    log = fields.List(
        fields.Nested(AttemptSchema),
        required=True,
        metadata={"description": "latest attempts first"},
    )


class DeliveryPageSchema(Schema):
    deliveries = fields.List(fields.Nested(DeliverySchema), required=True)
    next_cursor = fields.String(allow_none=True, metadata={"description": "pass as cursor for the next page"})


class ReplaySchema(Schema):
    since = fields.AwareDateTime(
        required=True,
        default_timezone=UTC,
        metadata={"description": "re-send every event created at or after this time"},
    )


class ReplayResultSchema(Schema):
    queued = fields.Integer(required=True)


# --- the events themselves ---------------------------------------------------------------


class WebhookArticleSchema(Schema):
    id = fields.String(required=True, metadata={"description": "the site's article id"})
    url = fields.String(required=True)
    title = fields.String(required=True)


class WebhookAuthorSchema(Schema):
    name = fields.String(required=True)
    user_id = fields.String(
        allow_none=True,
        metadata={
            "description": "the site's own id of a verified reader (the reader token's sub), so the"
            " site can notify them itself; null for readers it did not sign in. Never an e-mail"
        },
    )


class WebhookCommentSchema(Schema):
    """The comment as an event carries it: never the author's e-mail or IP."""

    id = fields.Integer(required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(["pending", "approved", "held", "rejected", "deleted"]),
    )
    article = fields.Nested(WebhookArticleSchema, required=True)
    parent_id = fields.Integer(allow_none=True)
    author = fields.Nested(WebhookAuthorSchema, required=True)
    text = fields.String(required=True, metadata={"description": "empty once the comment is deleted"})
    reasons = fields.List(fields.Dict(), required=True, metadata={"description": "why the decision was made"})
    report_count = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class WebhookEventSchema(Schema):
    """The JSON body of every webhook. Headers: webhook-id, webhook-timestamp, webhook-signature."""

    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    timestamp = fields.DateTime(required=True, metadata={"description": "when the event happened (UTC)"})
    data = fields.Nested(WebhookCommentSchema, required=True)
