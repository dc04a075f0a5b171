"""E-mail notifications: a reader hears of replies to their comment (asked for when posting,
stopped by a signed one-click link), and moderators get a digest of their queues.

messages.py builds the e-mails and signs the links (pure); mailer.py speaks SMTP; tables.py holds
the rows; this module is the database side. Sending runs as scheduled jobs (service/jobs): in a
Celery worker with a broker, else in a thread of each web process, one runner at a time."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..errors import ValidationFailed
from ..extensions import db
from ..privacy import email_author_key
from .tables import EmailUnsubscribe, ReplyNotification, ReplySubscription

__all__ = ["EmailUnsubscribe", "ReplyNotification", "ReplySubscription", "recipient_key", "subscribe_replies"]


def recipient_key(author: dict[str, Any], secret: str) -> str | None:
    """Who a comment's notices go to: a verified reader by their author key, anyone else by the
    keyed hash of the e-mail they gave; None without an e-mail."""
    if not author.get("author_email"):
        return None
    if author.get("author_verified") and author.get("author_key"):
        return author["author_key"]
    return email_author_key(author["author_email"], secret)


def check_opt_in(data: dict[str, Any], author: dict[str, Any]) -> None:
    """Asking for reply notices needs an address to send them to."""
    if data.get("notify_replies") and not author.get("author_email"):
        raise ValidationFailed("notify_replies", "needs an e-mail address to send the replies to")


def subscribe_replies(values: dict[str, Any], comment_id: int) -> None:
    """In the posting transaction: the new comment's author hears of replies to it."""
    secret = current_app.config["SECRET_KEY"]
    db.session.add(
        ReplySubscription(
            comment_id=comment_id,
            site_id=values["site_id"],
            root_id=values.get("root_id") or comment_id,
            recipient_key=recipient_key(values, secret),
        )
    )


def unsubscribe(token: str, *, confirm: bool) -> str:
    """The site's name for a valid link (and, when `confirm`, its reader unsubscribed from reply
    notices there; doing it twice is the same as once). NotFound for a link we did not sign."""
    from ..db import Site
    from ..errors import NotFound
    from .messages import read_unsubscribe_token

    signed = read_unsubscribe_token(current_app.config["SECRET_KEY"], token)
    site = db.session.get(Site, signed[0]) if signed else None
    if site is None:
        raise NotFound("this unsubscribe link is not valid")
    if confirm and db.session.get(EmailUnsubscribe, signed) is None:
        db.session.add(EmailUnsubscribe(site_id=signed[0], recipient_key=signed[1]))
        try:
            db.session.commit()
        except IntegrityError:  # the same link followed twice at once
            db.session.rollback()
    return site.name


def forget_person(site_id: int, keys: set[str], comment_ids: set[int]) -> None:
    """A person's erasure (service/privacy.py): their comments' reply subscriptions and the
    record of notices meant for them go, in the erasure's transaction. Their unsubscribe stays:
    it is their objection, and names a keyed hash only."""
    if comment_ids:
        db.session.execute(sa.delete(ReplySubscription).where(ReplySubscription.comment_id.in_(comment_ids)))
    if keys:
        db.session.execute(
            sa.delete(ReplyNotification).where(
                ReplyNotification.site_id == site_id, ReplyNotification.recipient_key.in_(keys)
            )
        )
