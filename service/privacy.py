"""One person's data on a site: the keyed author key of an e-mail, and erasure of everything
about them in one transaction (their export is service/imports/export.py's export_author).

A person is named by their author key (sso:<the site's user id>), their e-mail, or both. Their
comments are erased as a moderator's erasure does it (text and personal fields go, a "deleted"
event stays), and so are the words of their appeals; their author row goes; the reports and
notices they sent lose who sent them and what they wrote, but stay counted, and the decisions on
them stay. The moderation events (the audit trail) remain: they hold who decided what, never the
person's name, e-mail or words."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .db import Author, Comment, OutboxEvent, Reaction, Report
from .decisions import ERASED, erase_comment
from .extensions import db
from .governance.tables import Appeal, Notice
from .identity.tokens import VERIFIED_PREFIX

# Keys that older versions derived from an e-mail; since migration 0017 keyed with the secret.
EMAIL_KEY_PREFIX = "email-hmac:"
_KEY_CONTEXT = b"author-key-from-email"


def email_digest_key(digest: str, secret: str | bytes) -> str:
    """The keyed author key of an e-mail's SHA-256 (hex): without the instance's secret, no
    dictionary of e-mails leads to it. Migration 0017 keys the old plain digests with this."""
    secret = secret.encode() if isinstance(secret, str) else secret
    # A key of its own (derived from the secret), so no other keyed hash of the service matches.
    derived = hmac.new(secret, _KEY_CONTEXT, hashlib.sha256).digest()
    return EMAIL_KEY_PREFIX + hmac.new(derived, digest.encode(), hashlib.sha256).hexdigest()


def email_author_key(email: str, secret: str | bytes) -> str:
    """The author key an e-mail was given (rows from before verified readers), keyed."""
    digest = hashlib.sha256(normal_email(email).encode()).hexdigest()
    return email_digest_key(digest, secret)


def normal_email(email: str) -> str:
    return email.strip().casefold()


@dataclass
class Erasure:
    comments: int = 0
    authors: int = 0
    reports: int = 0
    reactions: int = 0
    notices: int = 0
    appeals: int = 0
    outbox_events: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def person_keys(site_id: int, secret: str | bytes, key: str | None, email: str | None) -> set[str]:
    """Every author key of the person: the one named, the keyed one of their e-mail, and the keys
    of verified comments that carry their e-mail (the site vouched for that reader's e-mail)."""
    keys = {key} if key else set()
    if email:
        keys.add(email_author_key(email, secret))
        keys.update(
            db.session.execute(
                sa.select(Comment.author_key)
                .where(
                    Comment.site_id == site_id,
                    Comment.author_key.is_not(None),
                    sa.func.lower(Comment.author_email) == normal_email(email),
                )
                .distinct()
            ).scalars()
        )
    return keys


def erase_person(
    site_id: int, secret: str | bytes, actor: str, *, key: str | None, email: str | None, note: str = ""
) -> Erasure:
    """Erase everything about one person on the site, all or nothing (one transaction)."""
    if not key and not email:
        raise ValueError("a person is named by key or e-mail")
    keys = person_keys(site_id, secret, key, email)
    subs = {k.removeprefix(VERIFIED_PREFIX) for k in keys if k.startswith(VERIFIED_PREFIX)}
    done = Erasure()
    try:
        erased_ids = _erase_comments(site_id, keys, email, actor, note, done)
        if keys:
            done.authors = db.session.execute(
                sa.delete(Author).where(Author.site_id == site_id, Author.author_key.in_(keys))
            ).rowcount
            done.reports = _erase_reports(site_id, keys)
            # Their likes stay counted, but no longer say whose they were.
            done.reactions = db.session.execute(
                sa.update(Reaction)
                .where(Reaction.site_id == site_id, Reaction.reactor_key.in_(keys))
                .values(reactor_key=sa.literal("erased:") + sa.cast(Reaction.id, sa.String))
            ).rowcount
        if erased_ids:
            # Their appeals against their comments' restrictions: the words go, the outcome stays.
            done.appeals = db.session.execute(
                sa.update(Appeal)
                .where(Appeal.comment_id.in_(erased_ids), Appeal.text != ERASED)
                .values(text=ERASED)
            ).rowcount
        notice_ids = _erase_notices(site_id, email, subs, done)
        from .notifications import forget_person  # it keys e-mails with this module

        forget_person(site_id, keys, erased_ids)
        done.outbox_events += _scrub_outbox(site_id, erased_ids, notice_ids, subs)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return done


def _erase_comments(
    site_id: int, keys: set[str], email: str | None, actor: str, note: str, done: Erasure
) -> set[int]:
    matches = []
    if keys:
        matches.append(Comment.author_key.in_(keys))
    if email:
        matches.append(sa.func.lower(Comment.author_email) == normal_email(email))
    comments = db.session.execute(
        sa.select(Comment).where(Comment.site_id == site_id, sa.or_(*matches)).order_by(Comment.id)
    ).scalars()
    ids = set()
    for comment in comments.all():
        ids.add(comment.id)
        if comment.status != "deleted":
            erase_comment(comment, actor, note)
            done.comments += 1
    return ids


def _erase_reports(site_id: int, keys: set[str]) -> int:
    """Their reports stay counted on the comments (and decided), but say nothing of who or why.
    reporter_key is unique per comment, so each gets one of its own."""
    reports = db.session.execute(
        sa.select(Report).where(Report.site_id == site_id, Report.reporter_key.in_(keys))
    ).scalars()
    count = 0
    for report in reports.all():
        report.reporter_key = f"erased:{report.id}"
        report.network_key = None
        report.note = ""
        count += 1
    return count


def _erase_notices(site_id: int, email: str | None, subs: set[str], done: Erasure) -> set[int]:
    """Notices they sent keep their decision (and statement); who sent them and what they wrote go."""
    matches = []
    if email:
        matches.append(sa.func.lower(Notice.reporter_email) == normal_email(email))
    if subs:
        matches.append(Notice.reporter_user_id.in_(subs))
    if not matches:
        return set()
    notices = db.session.execute(
        sa.select(Notice).where(Notice.site_id == site_id, sa.or_(*matches))
    ).scalars()
    ids = set()
    for notice in notices.all():
        notice.reporter_name = ERASED
        notice.reporter_email = ""
        notice.reporter_user_id = None
        notice.network_key = None
        notice.explanation = ERASED
        ids.add(notice.id)
    done.notices = len(ids)
    return ids


def _scrub_outbox(site_id: int, comment_ids: set[int], notice_ids: set[int], subs: set[str]) -> int:
    """Webhook payloads kept for replay that name them: their comments' (erase_comment scrubbed
    those it erased now; comments erased before are scrubbed again here), their notices', and the
    statements of their bans and suspensions."""
    events = db.session.execute(
        sa.select(OutboxEvent).where(
            OutboxEvent.site_id == site_id,
            sa.or_(
                OutboxEvent.comment_id.in_(comment_ids or {0}),
                OutboxEvent.type.in_(("notice.received", "notice.decided", "statement.created")),
            ),
        )
    ).scalars()
    count = 0
    for event in events.all():
        payload = dict(event.payload or {})
        data: dict[str, Any] = dict(payload.get("data") or {})
        if event.comment_id in comment_ids and "text" in data and data["text"] != ERASED:
            data["text"] = ERASED
        theirs = event.comment_id in comment_ids or (data.get("author") or {}).get("user_id") in subs
        if theirs and "author" in data:
            data["author"] = {"name": ERASED}
        if event.type.startswith("notice.") and data.get("id") in notice_ids:
            data["reporter"] = {"name": ERASED}
        if data != payload.get("data"):
            payload["data"] = data
            event.payload = payload
            count += 1
    return count
