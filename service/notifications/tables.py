"""The notification tables: who asked to hear of replies, who said stop, and each reply notice."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, utcnow
from ..extensions import db

NOTIFICATION_STATUSES = ("queued", "sent", "skipped", "failed")


class ReplySubscription(db.Model):
    """A comment whose author asked (when posting) to be e-mailed about replies to it."""

    __tablename__ = "reply_subscriptions"

    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    # The thread's root (the comment itself at the top): its replies are found by the thread index.
    root_id: Mapped[int] = mapped_column(sa.Integer)
    # Who is told: a verified reader's author key, else the keyed hash of the e-mail given
    # (privacy.email_author_key). Unsubscribing names this, never the address.
    recipient_key: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class EmailUnsubscribe(db.Model):
    """A reader who followed the unsubscribe link: no reply notices on this site any more."""

    __tablename__ = "email_unsubscribes"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    recipient_key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReplyNotification(db.Model):
    """One reply's notice to its parent's author: queued when the reply is seen approved, then
    sent, skipped (unsubscribed, no address any more, their own reply, over the daily cap) or
    failed after its attempts. One row per reply: a reply is never announced twice."""

    __tablename__ = "reply_notifications"
    __table_args__ = (sa.Index("ix_reply_notifications_queue", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    reply_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"), unique=True)
    parent_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    recipient_key: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(
        sa.Enum(*NOTIFICATION_STATUSES, name="reply_notification_status", native_enum=False), default="queued"
    )
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
