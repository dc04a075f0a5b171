"""The governance tables: notices of illegal content, statements of reasons and appeals."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, utcnow
from ..extensions import db
from .appeal_rules import OUTCOMES as APPEAL_OUTCOMES
from .appeal_rules import STATUSES as APPEAL_STATUSES
from .dsa import AUTOMATED_DECISIONS, GROUNDS, NOTICE_DECISIONS, NOTICE_STATUSES, RESTRICTIONS, SOURCES


class Notice(db.Model):
    """A notice that a comment is illegal (DSA Art. 16), and the moderators' decision on it."""

    __tablename__ = "notices"
    __table_args__ = (sa.Index("ix_notices_queue", "site_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the reporter's signed link names (never the row id, which is guessable).
    public_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(sa.String(80))
    explanation: Mapped[str] = mapped_column(sa.Text)
    reporter_name: Mapped[str] = mapped_column(sa.String(100))
    reporter_email: Mapped[str] = mapped_column(sa.String(320))
    # The site's own id of a signed-in reporter (reader token), so the site can tell them.
    reporter_user_id: Mapped[str | None] = mapped_column(sa.String(200))
    network_key: Mapped[str | None] = mapped_column(sa.String(64))
    good_faith: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(
        sa.Enum(*NOTICE_STATUSES, name="notice_status", native_enum=False), default="open"
    )
    decision: Mapped[str | None] = mapped_column(
        sa.Enum(*NOTICE_DECISIONS, name="notice_decision", native_enum=False)
    )
    restricted: Mapped[bool | None] = mapped_column()
    legal_ground: Mapped[str] = mapped_column(sa.String(500), default="")
    # What the reporter is told of the decision.
    decision_explanation: Mapped[str] = mapped_column(sa.String(2000), default="")
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Statement(db.Model):
    """The statement of reasons of one restriction (DSA Art. 17): a comment's rejection or
    deletion (one per moderation event) or an author's ban or suspension. Written once."""

    __tablename__ = "statements"
    __table_args__ = (
        sa.Index("ix_statements_site", "site_id", "id"),
        sa.Index("ix_statements_author", "site_id", "author_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The Transparency Database's puid, and what the author's signed link names.
    public_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    moderation_event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("moderation_events.id", ondelete="CASCADE"), unique=True
    )
    notice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("notices.id", ondelete="SET NULL"))
    author_key: Mapped[str | None] = mapped_column(sa.String(128))
    restriction: Mapped[str] = mapped_column(
        sa.Enum(*RESTRICTIONS, name="statement_restriction", native_enum=False)
    )
    ground: Mapped[str] = mapped_column(sa.Enum(*GROUNDS, name="statement_ground", native_enum=False))
    category: Mapped[str] = mapped_column(sa.String(80))
    ground_reference: Mapped[str] = mapped_column(sa.String(500))
    explanation: Mapped[str] = mapped_column(sa.String(2000))
    facts: Mapped[str] = mapped_column(sa.Text)
    automated_detection: Mapped[bool]
    automated_decision: Mapped[str] = mapped_column(
        sa.Enum(*AUTOMATED_DECISIONS, name="statement_automation", native_enum=False)
    )
    source: Mapped[str] = mapped_column(sa.Enum(*SOURCES, name="statement_source", native_enum=False))
    decided_by: Mapped[str] = mapped_column(sa.String(64))
    content_date: Mapped[datetime] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(sa.String(8))
    end_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@sa.event.listens_for(Statement, "before_update")
def _statements_are_immutable(mapper, connection, target):
    raise ValueError("statements of reasons are immutable")


class Appeal(db.Model):
    """An author's appeal against a restriction's statement of reasons (DSA Art. 20) and the
    decision on it. One per statement: the author's next step is out-of-court settlement."""

    __tablename__ = "appeals"
    __table_args__ = (sa.Index("ix_appeals_queue", "site_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    statement_id: Mapped[int] = mapped_column(sa.ForeignKey("statements.id", ondelete="CASCADE"), unique=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    # Who made the decision appealed against (the restriction's event actor): not its judge.
    original_actor: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(
        sa.Enum(*APPEAL_STATUSES, name="appeal_status", native_enum=False), default="open"
    )
    outcome: Mapped[str | None] = mapped_column(
        sa.Enum(*APPEAL_OUTCOMES, name="appeal_outcome", native_enum=False)
    )
    reason: Mapped[str] = mapped_column(sa.String(2000), default="")
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The reversal's moderation event (the comment published again).
    reversal_event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("moderation_events.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
