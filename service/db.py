"""The database tables. (The top-level models/ folder holds model files, not these.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .scoring.base import LABELS

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")

COMMENT_STATUSES = ("pending", "approved", "held", "rejected", "deleted")
ROLES = ("embed", "moderator", "admin")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """Aware UTC datetimes on every database (SQLite hands back naive ones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Site(db.Model):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    allowed_origins: Mapped[list[str]] = mapped_column(JSONType, default=list)
    policy: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The secret the site's backend signs reader tokens and article claims with (service/identity/).
    # Kept as is, like webhook secrets: verifying an HMAC needs it. After a rotation the previous
    # one verifies too, until it expires.
    sso_secret: Mapped[str | None] = mapped_column(sa.String(100))
    sso_previous_secret: Mapped[str | None] = mapped_column(sa.String(100))
    sso_previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ApiKey(db.Model):
    """A key is shown once; only its SHA-256 is kept (keys are long random strings, so no salt is needed)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    role: Mapped[str] = mapped_column(sa.Enum(*ROLES, name="key_role", native_enum=False))
    # None: every site (moderator and admin keys only).
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    # The person the key acts for (their audit events name them); None: a named integration
    # (the key's name is the integration's).
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site | None] = relationship()


class Article(db.Model):
    __tablename__ = "articles"
    __table_args__ = (sa.UniqueConstraint("site_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(sa.String(200))
    url: Mapped[str] = mapped_column(sa.String(2000))
    title: Mapped[str] = mapped_column(sa.String(500))
    closed: Mapped[bool] = mapped_column(default=False)
    premoderated: Mapped[bool] = mapped_column(default=False)
    # Whether the site itself set the URL and title (admin API or a signed article claim); the
    # first comment's unsigned values are shown to moderators as unverified.
    verified: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Approved comments, kept with every transition so the public list needs no COUNT.
    approved_count: Mapped[int] = mapped_column(default=0)
    # Bumped whenever the public thread changes: the ETag of the thread.
    thread_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship()


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        # The public thread: top-level approved comments of an article, by id.
        sa.Index("ix_comments_thread", "article_id", "status", "depth", "id"),
        # Replies of the roots on one page.
        sa.Index("ix_comments_root", "root_id", "status", "id"),
        # Moderation queues per site.
        sa.Index("ix_comments_queue", "site_id", "status", "id"),
        # An author's comments (the queue's author filter, velocity of a reader with a key); an
        # anonymous comment has no entry. Partial indexes: every entry costs each POST.
        sa.Index(
            "ix_comments_author_recent",
            "site_id",
            "author_key",
            "created_at",
            postgresql_where=sa.text("author_key IS NOT NULL"),
            sqlite_where=sa.text("author_key IS NOT NULL"),
        ),
        # Velocity of anonymous posting, by network; a signed-in reader counts by their own key.
        sa.Index(
            "ix_comments_network_recent",
            "site_id",
            "network_key",
            "created_at",
            postgresql_where=sa.text("author_key IS NULL"),
            sqlite_where=sa.text("author_key IS NULL"),
        ),
        # Near duplicates: texts within 3 bits of SimHash share one of four 16-bit bands; newest
        # first, so the lookup's ORDER BY leaves the planner no other index to prefer.
        *(sa.Index(f"ix_comments_text_band{i}", "site_id", f"text_band{i}", "created_at") for i in range(4)),
        # The queues' language filter ("held comments in German").
        sa.Index("ix_comments_language", "site_id", "status", "language", "id"),
        # The queues' spam filter (a small share of comments).
        sa.Index(
            "ix_comments_spam",
            "site_id",
            "status",
            "id",
            postgresql_where=sa.text("spam"),
            sqlite_where=sa.text("spam"),
        ),
        # The public thread's top sort: most liked first, newest first on ties (service/engagement).
        sa.Index("ix_comments_thread_top", "article_id", "status", "depth", "reaction_count", "id"),
        # An article's featured comments (a handful at most).
        sa.Index(
            "ix_comments_featured",
            "article_id",
            "featured_at",
            postgresql_where=sa.text("featured_at IS NOT NULL"),
            sqlite_where=sa.text("featured_at IS NOT NULL"),
        ),
        # Queue sorts: most toxic first, most reported first.
        sa.Index("ix_comments_toxic", "site_id", "status", "max_score", "id"),
        # The reported queue (about 1% of comments), oldest or most reported first.
        sa.Index(
            "ix_comments_reported",
            "site_id",
            "id",
            postgresql_where=sa.text("reports_open > 0"),
            sqlite_where=sa.text("reports_open > 0"),
        ),
        sa.Index(
            "ix_comments_most_reported",
            "site_id",
            "report_count",
            "id",
            postgresql_where=sa.text("reports_open > 0"),
            sqlite_where=sa.text("reports_open > 0"),
        ),
        # The held queue filtered by a label's score ("insult at least 0.9"): one small index per
        # label over held comments only, on PostgreSQL (SQLite scans; see queue.label_score).
        *(
            sa.Index(
                f"ix_comments_held_{label}",
                "site_id",
                sa.text(f"((scores ->> '{label}'::text)::double precision)"),
                "id",
                postgresql_where=sa.text("status = 'held'"),
                info={"postgresql_only": True},
            ).ddl_if(dialect="postgresql")
            for label in LABELS
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("comments.id"))
    root_id: Mapped[int | None] = mapped_column(sa.ForeignKey("comments.id"))
    depth: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.Enum(*COMMENT_STATUSES, name="comment_status", native_enum=False))
    author_name: Mapped[str] = mapped_column(sa.String(100))
    author_email: Mapped[str | None] = mapped_column(sa.String(320))
    author_user_id: Mapped[str | None] = mapped_column(sa.String(200))
    # Who the author is for history and trust: the site's user id, else a hash of the e-mail.
    author_key: Mapped[str | None] = mapped_column(sa.String(128))
    # Whether the site vouched for the author (SSO token); only verified authors have standing.
    author_verified: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # A keyed hash of the poster's network (/24, /64): velocity limits, never the address itself.
    network_key: Mapped[str | None] = mapped_column(sa.String(64))
    text: Mapped[str] = mapped_column(sa.Text)
    # SimHash of the normalised text (signed 64-bit) and its four bands; NULL for texts too short
    # to compare (service/spam/duplicates.py).
    text_hash: Mapped[int | None] = mapped_column(sa.BigInteger)
    text_band0: Mapped[int | None]
    text_band1: Mapped[int | None]
    text_band2: Mapped[int | None]
    text_band3: Mapped[int | None]
    # Whether a spam rule (spam label, links, duplicates, velocity, bots) raised a reason: the
    # queues' spam filter.
    spam: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The detected language (ISO 639-1), NULL when too short or ambiguous to tell.
    language: Mapped[str | None] = mapped_column(sa.String(8))
    scores: Mapped[dict[str, float] | None] = mapped_column(JSONType)
    model_name: Mapped[str | None] = mapped_column(sa.String(100))
    model_version: Mapped[str | None] = mapped_column(sa.String(100))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # The highest label score, -1 until scored: the "most toxic first" sort (an index needs no NULLs).
    max_score: Mapped[float] = mapped_column(default=-1.0, server_default="-1")
    report_count: Mapped[int] = mapped_column(default=0)
    # Reports no moderator has looked at yet: the comment is in the reported queue while > 0.
    reports_open: Mapped[int] = mapped_column(default=0, server_default="0")
    # The open reports' weight (by reporter standing and record): compared with the threshold.
    report_weight: Mapped[float] = mapped_column(default=0.0, server_default="0")
    # Readers' reactions (likes), one per reader: kept with every reaction so the thread needs no
    # COUNT. Changed by plain UPDATEs that leave `version` alone (a like is no moderator's edit).
    reaction_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # When an editor featured the comment (shown first in the embed); NULL: not featured.
    featured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic concurrency: the ORM updates WHERE version = the version read (see mapper args).
    version: Mapped[int] = mapped_column(default=1)
    # SHA-256 of the author token the poster got back (service/self_service/): it proves the
    # author of an anonymous comment; the token itself is never stored.
    author_token_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # Edits by the author (their previous texts are in comment_edits).
    edit_count: Mapped[int] = mapped_column(default=0, server_default="0")
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    article: Mapped[Article] = relationship()
    parent: Mapped[Comment | None] = relationship(remote_side=[id], foreign_keys=[parent_id])

    __mapper_args__ = {"version_id_col": version}


class CommentEdit(db.Model):
    """A text a comment had before its author edited it, for moderators (erased with the comment)."""

    __tablename__ = "comment_edits"
    __table_args__ = (sa.Index("ix_comment_edits_comment", "comment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(sa.Text)
    # The comment's status while it had this text.
    status: Mapped[str] = mapped_column(sa.String(16))
    # When the author replaced this text.
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModerationEvent(db.Model):
    """One transition of a comment. Written once, never changed (see the guard below)."""

    __tablename__ = "moderation_events"
    __table_args__ = (sa.Index("ix_moderation_events_site", "site_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    # "system", "user:<account id>" for a person (signed in, or through their key), or
    # "integration:<key id>" for a key no person owns ("key:<id>" on events older than accounts).
    actor: Mapped[str] = mapped_column(sa.String(64))
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    note: Mapped[str] = mapped_column(sa.String(2000), default="")
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    scores: Mapped[dict[str, float] | None] = mapped_column(JSONType)
    model_name: Mapped[str | None] = mapped_column(sa.String(100))
    model_version: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModeratorNote(db.Model):
    """A moderator's note on a comment, for the other moderators: who wrote it and when. Notes are
    added, never edited or deleted (the ORM refuses it); an erasure blanks their words only
    (service/decisions.py erase_comment), so who noted what about a comment stays known."""

    __tablename__ = "moderator_notes"
    __table_args__ = (sa.Index("ix_moderator_notes_comment", "comment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    # The actor string of the moderation events: "user:<account id>" or "integration:<key id>".
    actor: Mapped[str] = mapped_column(sa.String(64))
    text: Mapped[str] = mapped_column(sa.String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(ModeratorNote, "before_delete")
def _notes_are_kept(mapper, connection, target):
    raise ValueError("moderator notes are kept: erase their text instead")


REPORT_OUTCOMES = ("upheld", "dismissed")


class Report(db.Model):
    """A reader's report of a published comment; one per reader (verified id, else network) per comment."""

    __tablename__ = "reports"
    __table_args__ = (
        sa.UniqueConstraint("comment_id", "reporter_key"),
        # A reporter's record (how often moderators dismissed their reports).
        sa.Index("ix_reports_reporter", "site_id", "reporter_key"),
        # Report floods: one network's reports across the site.
        sa.Index("ix_reports_network", "site_id", "network_key", "created_at"),
        # Open reports, oldest first: the reported queue's wait in /metrics (service/queue_targets.py).
        sa.Index(
            "ix_reports_open",
            "site_id",
            "created_at",
            postgresql_where=sa.text("resolved_at IS NULL"),
            sqlite_where=sa.text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    # "sso:<verified id>", else "net:<keyed hash of the network>": never the address itself.
    reporter_key: Mapped[str] = mapped_column(sa.String(128))
    network_key: Mapped[str | None] = mapped_column(sa.String(64))
    # What this report counted towards the threshold (standing and record; 0 past a flood).
    weight: Mapped[float] = mapped_column(default=1.0, server_default="1")
    # Sent past the network's hourly report limit: kept for moderators to see, weighing nothing.
    flood: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # upheld (the comment was rejected) or dismissed (a moderator kept it), once resolved.
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.String(32))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Reaction(db.Model):
    """A reader's like of a published comment; one per reader (verified id, else network) per comment."""

    __tablename__ = "reactions"
    __table_args__ = (sa.UniqueConstraint("comment_id", "reactor_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    # "sso:<verified id>", else "net:<keyed hash of the network>", as reports' reporter_key.
    reactor_key: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Author(db.Model):
    """An author of a site: a moderator's word on them (trusted, banned, suspended) and their
    history, counted by every transition of their comments (service/transitions.py)."""

    __tablename__ = "authors"
    __table_args__ = (sa.UniqueConstraint("site_id", "author_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    author_key: Mapped[str] = mapped_column(sa.String(128))
    standing: Mapped[str] = mapped_column(
        sa.Enum("regular", "trusted", "suspended", "banned", name="author_standing", native_enum=False),
        default="regular",
    )
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(sa.String(2000), default="")
    updated_by: Mapped[str] = mapped_column(sa.String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    approved_count: Mapped[int] = mapped_column(default=0, server_default="0")
    rejected_count: Mapped[int] = mapped_column(default=0, server_default="0")
    held_count: Mapped[int] = mapped_column(default=0, server_default="0")
    last_rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyRecord(db.Model):
    """The first answer to a request with an Idempotency-Key, replayed for retries."""

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(255))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxEvent(db.Model):
    """An event for webhooks, written in the same transaction as the change it announces."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The webhook-id receivers de-duplicate on.
    event_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    # The comment the event is about, so an erasure can scrub its payloads.
    comment_id: Mapped[int | None] = mapped_column(index=True)
    type: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set once the event has been fanned out into deliveries for every endpoint.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


@event.listens_for(ModerationEvent, "before_update")
def _events_are_immutable(mapper, connection, target):
    raise ValueError("moderation events are immutable")


# --- webhooks (service/webhooks/) -------------------------------------------------------------

DELIVERY_STATUSES = ("pending", "succeeded", "failed", "dead")


class WebhookEndpoint(db.Model):
    """Where a site wants its events. The secret is kept as is (not hashed): signing needs it."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    secret: Mapped[str] = mapped_column(sa.String(100))
    # After a rotation the old secret signs too, until it expires, so receivers can switch over.
    previous_secret: Mapped[str | None] = mapped_column(sa.String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # Start of the current run of failed attempts; cleared by any success.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship()


class WebhookDelivery(db.Model):
    """One outbox event to one endpoint, retried until it succeeds or is dead."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("outbox_event_id", "endpoint_id"),
        # The workers' query: due deliveries by status and time.
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        # The delivery log of one endpoint, newest first.
        sa.Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_event_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(
        sa.Enum(*DELIVERY_STATUSES, name="delivery_status", native_enum=False), default="pending"
    )
    attempts: Mapped[int] = mapped_column(default=0)
    # When a worker may (re)try it; also the lease of the worker sending it now.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    last_status_code: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[OutboxEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()


class WebhookAttempt(db.Model):
    """The delivery log: one row per HTTP attempt."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None]
    duration_ms: Mapped[int] = mapped_column(default=0)
    response_excerpt: Mapped[str] = mapped_column(sa.String(1024), default="")
    error: Mapped[str | None] = mapped_column(sa.String(500))


# --- site-adapted models (service/adaptation/) -------------------------------------------------


class AdaptedModel(db.Model):
    """A head trained on one site's moderator decisions, with the gate's figures. At most one per
    site is active: new comments of the site are scored with it on top of `base_version`."""

    __tablename__ = "adapted_models"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "number"),
        # The comment path's one read: the site's active head.
        sa.Index("ix_adapted_models_active", "site_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    # 1, 2, ... per site: the "site-<slug>-<n>" of the model version.
    number: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(100))
    # The version comments scored by it record, and the scorer's version it was trained on.
    version: Mapped[str] = mapped_column(sa.String(100))
    base_version: Mapped[str] = mapped_column(sa.String(100))
    # Whether it passed the gate; whether new comments get it now; when it was rolled back.
    deployed: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=False)
    rolled_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The gate's figures, rules and verdict (service/adaptation/gate.py).
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # The head's arrays as an .npz (numpy, never pickle): service/adaptation/model.py.
    weights: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_by: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- scheduled jobs (service/jobs/) -------------------------------------------------------------


class ScheduledJob(db.Model):
    """One row per scheduled job: its lease (one runner at a time across every instance) and its
    last run, so any instance's /metrics and `flask jobs status` tell when it last ran."""

    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    # Held by `holder` until `lease_until`; a runner that dies frees it when the lease runs out.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    holder: Mapped[str | None] = mapped_column(sa.String(200))
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_outcome: Mapped[str | None] = mapped_column(sa.String(16))
    last_processed: Mapped[int] = mapped_column(default=0, server_default="0")
    total_processed: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    # Where a job that walks a table by id stopped (the e-mail eraser), so a run starts there.
    position: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")


# --- imports (service/imports/) -----------------------------------------------------------------


class ImportedComment(db.Model):
    """Where an imported comment came from (Disqus, WordPress, ...): importing the same file again
    finds its comments here and adds nothing. The parent's source id resolves reply links once a
    whole file is loaded, whatever order the file lists comments in."""

    __tablename__ = "imported_comments"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    # The format the comment came in: disqus, wordpress, isso, remark42, jsonl.
    source: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    source_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    parent_source_id: Mapped[str | None] = mapped_column(sa.String(200))


# --- settings history (service/settings_audit.py) ----------------------------------------------


class SettingsEvent(db.Model):
    """One change of a site's settings (policy and word lists, SSO secret, webhook endpoints) or of
    a key: who, when, before and after (secrets only as fingerprints). Written once, never changed:
    the ORM refuses updates and deletes, and on PostgreSQL a trigger refuses them too.

    site_id is no foreign key: the history of a site outlives the site."""

    __tablename__ = "settings_events"
    __table_args__ = (sa.Index("ix_settings_events_site", "site_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for keys that reach every site.
    site_id: Mapped[int | None]
    # The actor string of the moderation events ("key:<id>"), or "cli" for a command.
    actor: Mapped[str] = mapped_column(sa.String(200))
    # What changed: site.created, site.updated, policy.updated, policy.replaced, sso_secret.created,
    # sso_secret.rotated, webhook.created, webhook.updated, webhook.deleted, webhook.secret_rotated,
    # key.issued, key.revoked.
    kind: Mapped[str] = mapped_column(sa.String(64))
    # Which thing: "site:<slug>", "webhook:<id>", "key:<id>".
    subject: Mapped[str] = mapped_column(sa.String(200))
    # The changed fields only, before and after (None: the thing did not exist before / after).
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(SettingsEvent, "before_update")
@event.listens_for(SettingsEvent, "before_delete")
def _settings_events_are_immutable(mapper, connection, target):
    raise ValueError("settings events are immutable")


# PostgreSQL refuses any UPDATE or DELETE of the history, whatever the client (the migration makes
# the same trigger). TRUNCATE stays possible for an operator who means it (and for the tests).
SETTINGS_EVENTS_GUARD = (
    """
    CREATE OR REPLACE FUNCTION settings_events_immutable() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'settings_events rows are immutable';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER settings_events_immutable BEFORE UPDATE OR DELETE ON settings_events
    FOR EACH ROW EXECUTE FUNCTION settings_events_immutable()
    """,
)
for _statement in SETTINGS_EVENTS_GUARD:
    event.listen(SettingsEvent.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))


# --- queue time targets (service/queue_targets.py) ---------------------------------------------


class QueueTargetMiss(db.Model):
    """A comment that waited in a queue past the site's target: the queue.target_missed webhook
    event is sent once per comment and queue, when this row is written."""

    __tablename__ = "queue_target_misses"
    __table_args__ = (sa.UniqueConstraint("comment_id", "queue"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    queue: Mapped[str] = mapped_column(sa.String(16))
    # When the wait began (posting for held, the oldest open report for reported), and the target.
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime)
    target_minutes: Mapped[float]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- moderator accounts (service/accounts/) ------------------------------------------------------

ACCOUNT_ROLES = ("moderator", "admin")


class Account(db.Model):
    """A person who moderates: signs in to the console, owns keys, is named in the audit trail."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(320))
    # The e-mail lower-cased: one account per address, however it is typed.
    email_key: Mapped[str] = mapped_column(sa.String(320), unique=True)
    # argon2id, in its own encoded form (parameters and salt included); None until a password is set.
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Base32 TOTP secret once confirmed; the pending one while the person sets up their app.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_pending_secret: Mapped[str | None] = mapped_column(sa.String(64))
    # The last time step a code was accepted for: a code is good once.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    roles: Mapped[list[AccountRole]] = relationship(
        back_populates="account", cascade="all, delete-orphan", lazy="selectin"
    )


class AccountRole(db.Model):
    """A person's role on one site, or on every site (site_id None)."""

    __tablename__ = "account_roles"
    __table_args__ = (sa.UniqueConstraint("account_id", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.Enum(*ACCOUNT_ROLES, name="account_role", native_enum=False))

    account: Mapped[Account] = relationship(back_populates="roles")
    site: Mapped[Site | None] = relationship()


class ConsoleSession(db.Model):
    """A signed-in console. The cookie holds a random token; only its SHA-256 is kept here, so
    reading this table does not let anyone sign in."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    # Sent back by the console in X-CSRF-Token on every state-changing request.
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignInThrottle(db.Model):
    """Failed sign-ins counted per account (a keyed hash of the e-mail, so unknown addresses lock
    too and tell nothing) and per network (a keyed hash of the /24 or /64)."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
