"""The scheduled jobs of notifications: reply notices and the moderators' digest."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage

import sqlalchemy as sa

from ..db import Account, AccountRole, Article, Comment, Site
from ..extensions import db
from ..jobs.maintenance import Step, StepContext
from ..privacy import email_author_key
from ..queue import queue_filter
from .mailer import configured, connect
from .messages import Reply, SiteQueues, digest_message, reply_message, unsubscribe_token
from .tables import EmailUnsubscribe, ReplyNotification, ReplySubscription

log = logging.getLogger(__name__)

# A subscription listens this long: replies to older comments are not announced.
LISTEN_DAYS = 30
MAX_ATTEMPTS = 5


def unsubscribe_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/v1/unsubscribe/{token}"


def reply_notifications_step(ctx: StepContext) -> Step:
    """Queue a notice for each newly approved reply to a subscribed comment, then send what is
    queued (one SMTP connection per batch)."""
    if not configured(ctx.config):
        return Step({})
    queued = _queue_new_replies(ctx)
    counts, more = _send_queued(ctx)
    return Step({"queued": queued, **counts}, more=more)


def _queue_new_replies(ctx: StepContext) -> int:
    # Replies are found through the thread index (root, status, id): a subscription names its root.
    reply = sa.orm.aliased(Comment)
    rows = db.session.execute(
        sa.select(reply.id, reply.parent_id, ReplySubscription.site_id, ReplySubscription.recipient_key)
        .select_from(ReplySubscription)
        .join(
            reply,
            sa.and_(
                reply.root_id == ReplySubscription.root_id,
                reply.status == "approved",
                reply.parent_id == ReplySubscription.comment_id,
            ),
        )
        .outerjoin(ReplyNotification, ReplyNotification.reply_id == reply.id)
        .where(
            ReplyNotification.id.is_(None),
            ReplySubscription.created_at >= ctx.now - timedelta(days=LISTEN_DAYS),
        )
        .order_by(reply.id)
        .limit(ctx.batch_size)
    ).all()
    if rows:
        dialect = db.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        db.session.execute(
            insert(ReplyNotification)
            .values(
                [
                    {
                        "site_id": site_id,
                        "reply_id": reply_id,
                        "parent_id": parent_id,
                        "recipient_key": key,
                        "status": "queued",
                        "attempts": 0,
                        "error": "",
                        "created_at": ctx.now,
                    }
                    for reply_id, parent_id, site_id, key in rows
                ]
            )
            .on_conflict_do_nothing(index_elements=["reply_id"])
        )
    db.session.commit()
    return len(rows)


def _skip_reason(note: ReplyNotification, reply: Comment, parent: Comment, secret: str, cap: int, now) -> str:
    if reply.status != "approved":
        return "the reply is no longer published"
    if not parent.author_email:
        return "no address any more"
    if reply.author_key == note.recipient_key or (
        reply.author_email and email_author_key(reply.author_email, secret) == note.recipient_key
    ):
        return "their own reply"
    unsubscribed = db.session.get(EmailUnsubscribe, (note.site_id, note.recipient_key))
    if unsubscribed is not None:
        return "unsubscribed"
    sent_today = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ReplyNotification)
        .where(
            ReplyNotification.recipient_key == note.recipient_key,
            ReplyNotification.site_id == note.site_id,
            ReplyNotification.status == "sent",
            ReplyNotification.sent_at >= now - timedelta(days=1),
        )
    )
    if sent_today >= cap:
        return "daily cap reached"
    return ""


def _send_queued(ctx: StepContext) -> tuple[dict[str, int], bool]:
    config = ctx.config
    notes = list(
        db.session.scalars(
            sa.select(ReplyNotification)
            .where(ReplyNotification.status == "queued")
            .order_by(ReplyNotification.id)
            .limit(ctx.batch_size)
            .with_for_update(skip_locked=True)
        )
    )
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    client: smtplib.SMTP | None = None
    try:
        for note in notes:
            reply, parent = db.session.get(Comment, note.reply_id), db.session.get(Comment, note.parent_id)
            reason = _skip_reason(
                note, reply, parent, config["SECRET_KEY"], int(config["NOTIFY_MAX_PER_DAY"]), ctx.now
            )
            if reason:
                note.status, note.error = "skipped", reason
                counts["skipped"] += 1
                db.session.commit()
                continue
            message = _reply_message(config, note, reply, parent)
            try:
                if client is None:
                    client = connect(config)
                client.send_message(message)
            except (smtplib.SMTPException, OSError) as error:
                note.attempts += 1
                note.error = str(error)[:300]
                if note.attempts >= MAX_ATTEMPTS:
                    note.status = "failed"
                    counts["failed"] += 1
                db.session.commit()
                log.warning("reply notice %s not sent: %s", note.id, error)
                return counts, False  # the server is away: the rest waits for the next run
            note.status, note.sent_at, note.attempts = "sent", ctx.now, note.attempts + 1
            counts["sent"] += 1
            db.session.commit()
    finally:
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    db.session.commit()
    return counts, len(notes) == ctx.batch_size


def _reply_message(config, note: ReplyNotification, reply: Comment, parent: Comment) -> EmailMessage:
    article = db.session.get(Article, reply.article_id)
    site = db.session.get(Site, note.site_id)
    token = unsubscribe_token(config["SECRET_KEY"], note.site_id, note.recipient_key)
    return reply_message(
        Reply(
            site_name=site.name,
            article_title=article.title,
            article_url=article.url,
            parent_text=parent.text,
            reply_author=reply.author_name,
            reply_text=reply.text,
        ),
        sender=config["SMTP_FROM"],
        to=parent.author_email,
        unsubscribe_url=unsubscribe_url(config["PUBLIC_URL"], token),
    )


def moderator_digest_step(ctx: StepContext) -> Step:
    """Each moderator and admin (people, not keys) gets what waits in their sites' queues."""
    if not configured(ctx.config):
        return Step({})
    sites = {site_id: name for site_id, name in db.session.execute(sa.select(Site.id, Site.name))}
    counts: dict[str, dict[int, int]] = {}
    for queue in ("held", "pending", "reported"):
        counts[queue] = dict(
            db.session.execute(
                sa.select(Comment.site_id, sa.func.count())
                .where(queue_filter(queue))
                .group_by(Comment.site_id)
            ).all()
        )
    accounts = db.session.scalars(
        sa.select(Account).where(Account.disabled_at.is_(None)).order_by(Account.id)
    )
    messages = []
    for account in accounts:
        roles: list[AccountRole] = account.roles
        mine = (
            sorted(sites)
            if any(role.site_id is None for role in roles)
            else sorted({r.site_id for r in roles})
        )
        queues = [
            SiteQueues(
                sites[site_id],
                counts["held"].get(site_id, 0),
                counts["pending"].get(site_id, 0),
                counts["reported"].get(site_id, 0),
            )
            for site_id in mine
            if site_id in sites
        ]
        message = digest_message(
            queues,
            sender=ctx.config["SMTP_FROM"],
            to=account.email,
            console_url=f"{ctx.config['PUBLIC_URL'].rstrip('/')}/console",
        )
        if message is not None:
            messages.append(message)
    db.session.commit()
    if messages:
        with connect(ctx.config) as client:
            for message in messages:
                client.send_message(message)
    return Step({"digests": len(messages)})
