"""Schemas of the admin API: sites, their policies, keys and articles."""

from __future__ import annotations

from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError, fields, validate, validates

from ..db import ROLES
from ..moderation.policy import DEFAULT_THRESHOLDS as DEFAULTS
from ..moderation.policy import POLICY_LABELS, Policy
from ..scoring.base import OPTIONAL_LABELS
from .common import CleanString, StrictInteger

SCORE = validate.Range(min=0.0, max=1.0)
WORD = fields.String(validate=validate.Length(min=1, max=100))
DOMAIN = fields.String(
    validate=validate.Regexp(
        r"^(?=.{1,253}$)[a-z0-9-]+(\.[a-z0-9-]+)+$", error="a lower-case domain: news.example"
    )
)


class ThresholdsSchema(Schema):
    """One label's thresholds. In a PATCH a value left out keeps its current one; in a PUT or a
    new site it takes its default. Whether hold <= reject is checked on the result."""

    hold = fields.Float(
        allow_none=True,
        validate=SCORE,
        metadata={"description": "hold at or above this score (null: never)", "default": DEFAULTS.hold},
    )
    reject = fields.Float(
        allow_none=True,
        validate=SCORE,
        metadata={"description": "reject at or above this score (null: never)", "default": DEFAULTS.reject},
    )


# One property per label (not a free-form map), so the document lists them and an error names
# the field as written: `policy.thresholds.insult.hold`. null resets a label to its defaults.
LabelThresholdsSchema = Schema.from_dict(
    {label: fields.Nested(ThresholdsSchema, allow_none=True) for label in (*POLICY_LABELS, *OPTIONAL_LABELS)},
    name="LabelThresholdsSchema",
)


class QueueTargetsSchema(Schema):
    """Minutes a comment may wait in a queue before queue.target_missed is sent (null: no target).
    In a PATCH a queue left out keeps its target."""

    held = fields.Float(
        allow_none=True,
        validate=validate.Range(min=1, max=30 * 24 * 60),
        metadata={"description": "minutes from posting to a moderator's decision"},
    )
    reported = fields.Float(
        allow_none=True,
        validate=validate.Range(min=1, max=30 * 24 * 60),
        metadata={"description": "minutes from the oldest open report to a moderator's answer"},
    )


class PolicySchema(Schema):
    """A site's policy. Every key is optional: PATCH changes the keys given (thresholds per label
    and per value), PUT and a new site take the default of each key left out."""

    thresholds = fields.Nested(
        LabelThresholdsSchema,
        metadata={
            "description": "per label: hold at or above `hold`, reject at or above `reject` (null: never);"
            f" a label left out holds at {DEFAULTS.hold} and never rejects"
        },
    )
    premoderation = fields.Boolean(metadata={"description": "hold every comment for a moderator"})
    banned_words = fields.List(
        WORD,
        validate=validate.Length(max=5000),
        metadata={"description": "reject; `word*` matches words starting with it"},
    )
    suspect_words = fields.List(WORD, validate=validate.Length(max=5000), metadata={"description": "hold"})
    builtin_word_lists = fields.Boolean(
        metadata={
            "description": "also match the service's English lists (slurs reject; the strongest abuse,"
            " sexual insults and threats hold); the site's own lists add to them"
        }
    )
    trust_after_approved = StrictInteger(
        validate=validate.Range(min=1, max=10000),
        metadata={"description": "approved comments after which an author is trusted"},
    )
    trust_clean_days = StrictInteger(
        validate=validate.Range(min=0, max=3650),
        metadata={"description": "...with no rejected comment in this many days"},
    )
    report_threshold = fields.Float(
        validate=validate.Range(min=0.5, max=1000),
        metadata={
            "description": "weight of open reports that holds a published comment (verified reader 1,"
            " trusted 1.5, anonymous network 0.5, less for reporters whose reports were dismissed)"
        },
    )
    report_flood_per_hour = StrictInteger(
        validate=validate.Range(min=1, max=10000),
        metadata={"description": "reports one network may send in an hour before the rest weigh nothing"},
    )
    anonymous_posting = fields.String(
        validate=validate.OneOf(["post", "hold", "deny"]),
        metadata={
            "description": "readers without a reader_token: publish as usual, hold for review, or refuse"
        },
    )
    new_reader_approved = StrictInteger(
        validate=validate.Range(min=0, max=1000),
        metadata={"description": "approved comments that make a verified reader not new (their links pass)"},
    )
    allowed_domains = fields.List(
        DOMAIN, validate=validate.Length(max=1000), metadata={"description": "links here always pass"}
    )
    blocked_domains = fields.List(
        DOMAIN, validate=validate.Length(max=5000), metadata={"description": "links here reject the comment"}
    )
    duplicate_window_minutes = StrictInteger(validate=validate.Range(min=0, max=30 * 24 * 60))
    velocity_per_minute = StrictInteger(validate=validate.Range(min=1, max=1000))
    velocity_per_hour = StrictInteger(validate=validate.Range(min=1, max=100000))
    velocity_action = fields.String(
        validate=validate.OneOf(["hold", "throttle"]),
        metadata={"description": "past a velocity limit: hold the comment, or answer 429 with Retry-After"},
    )
    bot_checks = fields.Boolean(
        metadata={"description": "honeypot and render-token checks (they hold, never reject)"}
    )
    bot_min_seconds = fields.Float(validate=validate.Range(min=0, max=60))
    edit_window_minutes = fields.Float(
        validate=validate.Range(min=0, max=7 * 24 * 60),
        metadata={"description": "minutes after posting in which authors may edit their comment (0: never)"},
    )
    unsupported_language = fields.String(
        validate=validate.OneOf(["hold", "publish", "score"]),
        metadata={
            "description": "comments in a language the model does not cover: hold for review, publish"
            " as scored, or score with the multilingual backend (held when none covers it)"
        },
    )
    trusted_skip_premoderation = fields.Boolean()
    banned_author_status = fields.String(validate=validate.OneOf(["rejected", "held"]))
    rejection_reasons = fields.List(
        fields.String(validate=validate.Length(min=1, max=50)), validate=validate.Length(min=1, max=50)
    )
    queue_targets = fields.Nested(
        QueueTargetsSchema,
        metadata={
            "description": "time targets per queue, in minutes: past one, the webhook event"
            " queue.target_missed is sent once per comment and queue; /metrics shows each queue's"
            " oldest waiting comment"
        },
    )


def _document_defaults(schema: type[Schema], defaults: dict) -> None:
    """Each key's default, in the OpenAPI document, read off the Policy dataclass (one truth)."""
    for name, field in schema._declared_fields.items():
        if name in defaults and name != "thresholds":
            field.metadata.setdefault("default", defaults[name])


_document_defaults(PolicySchema, Policy().to_dict())


class OriginField(fields.String):
    """A browser origin: scheme://host[:port], nothing after it."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).rstrip("/")
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as error:
            raise ValidationError("is not an origin") from error
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            raise ValidationError("must look like https://news.example (scheme, host, optional port)")
        return f"{parts.scheme}://{parts.netloc.lower()}"


class SiteCreateSchema(Schema):
    slug = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z0-9][a-z0-9-]{1,63}$", error="lower-case letters, digits and dashes, 2 to 64"
        ),
    )
    name = CleanString(max_length=200, required=True)
    allowed_origins = fields.List(OriginField(), load_default=list, validate=validate.Length(max=50))
    policy = fields.Nested(PolicySchema, load_default=dict)


class SiteUpdateSchema(Schema):
    name = CleanString(max_length=200)
    allowed_origins = fields.List(OriginField(), validate=validate.Length(max=50))
    policy = fields.Nested(
        PolicySchema,
        metadata={
            "description": "merged into the current policy: keys left out stay, thresholds merge per"
            " label and per value (sending only `reject` keeps `hold`), lists are replaced"
        },
    )


class RotateSsoSecretSchema(Schema):
    grace_hours = fields.Float(
        validate=validate.Range(min=0, max=24 * 7),
        metadata={"description": "how long the old secret keeps verifying (default 24)"},
    )


class SsoSecretSchema(Schema):
    secret = fields.String(
        required=True,
        metadata={"description": "sign reader tokens and article claims with it (HS256); shown only here"},
    )
    previous_secret_expires_at = fields.DateTime(allow_none=True)


class SsoStateSchema(Schema):
    configured = fields.Boolean(required=True)
    previous_secret_expires_at = fields.DateTime(allow_none=True)


class SiteSchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    allowed_origins = fields.List(fields.String(), required=True)
    policy = fields.Dict(required=True, metadata={"description": "the full policy, defaults filled in"})
    sso = fields.Nested(SsoStateSchema, required=True)
    created_at = fields.DateTime(required=True)


class KeyCreateSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    site = fields.String(metadata={"description": "site slug; required for embed keys; omit for every site"})
    name = CleanString(
        max_length=200,
        load_default="",
        metadata={"description": "what the key is for; for a key no person owns, the integration's name"},
    )
    owner_id = StrictInteger(
        allow_none=True,
        load_default=None,
        metadata={"description": "the person the key acts for (within their roles); omit for an integration"},
    )


class KeySchema(Schema):
    id = fields.Integer(required=True)
    prefix = fields.String(
        required=True, metadata={"description": "the first characters, to recognise a key"}
    )
    role = fields.String(required=True)
    site = fields.String(allow_none=True)
    name = fields.String(required=True)
    owner_id = fields.Integer(
        allow_none=True, metadata={"description": "the person it acts for; null: an integration"}
    )
    created_at = fields.DateTime(required=True)
    revoked_at = fields.DateTime(allow_none=True)


class KeyCreatedSchema(KeySchema):
    key = fields.String(required=True, metadata={"description": "the secret, shown only in this answer"})


class ArticleUpdateSchema(Schema):
    closed = fields.Boolean()
    premoderated = fields.Boolean()
    title = CleanString(max_length=500)
    url = fields.Url(
        schemes={"http", "https"},
        validate=validate.Length(max=2000),
        require_tld=False,
        metadata={"description": "must be on one of the site's allowed origins"},
    )

    @validates("title")
    def _not_blank(self, value, **kwargs):
        if not value:
            raise ValidationError("must not be blank")


class ArticleSchema(Schema):
    id = fields.String(required=True, attribute="external_id")
    url = fields.String(required=True)
    title = fields.String(required=True)
    verified = fields.Boolean(
        required=True,
        metadata={"description": "the site set the URL and title (not a reader's first comment)"},
    )
    closed = fields.Boolean(required=True)
    premoderated = fields.Boolean(required=True)
    approved_count = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
