"""The e-mails themselves and the unsubscribe token, with no Flask and no SQL: plain values in,
email.message.EmailMessage out."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from itsdangerous import BadSignature, URLSafeSerializer

UNSUBSCRIBE_SALT = "reply-notifications-unsubscribe"
# A reply's text is quoted up to this length: the rest is on the page.
QUOTE_CHARS = 1000


def unsubscribe_token(secret: str, site_id: int, recipient_key: str) -> str:
    """Signed per reader and site (HMAC with the instance's secret): the link itself is the
    credential, and it names a keyed hash, never the address."""
    return URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT).dumps([site_id, recipient_key])


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, str] | None:
    try:
        value = URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT).loads(token)
    except BadSignature:
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and isinstance(value[1], str)
    ):
        return value[0], value[1]
    return None


@dataclass(frozen=True)
class Reply:
    site_name: str
    article_title: str
    article_url: str
    parent_text: str
    reply_author: str
    reply_text: str


def _quote(text: str) -> str:
    text = text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS].rstrip() + " …"
    return "\n".join("> " + line for line in text.splitlines() or [""])


def reply_message(reply: Reply, *, sender: str, to: str, unsubscribe_url: str) -> EmailMessage:
    """A reply notice with RFC 8058 one-click unsubscribe headers (the mail client POSTs
    List-Unsubscribe=One-Click to the link; the link opened in a browser asks to confirm)."""
    message = EmailMessage()
    message["Subject"] = f"New reply to your comment on “{reply.article_title}”"
    message["From"] = formataddr((reply.site_name, sender))
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"{reply.reply_author} replied to your comment on “{reply.article_title}”:\n\n"
        f"{_quote(reply.reply_text)}\n\n"
        f"Your comment:\n{_quote(reply.parent_text)}\n\n"
        f"Read the discussion: {reply.article_url}\n\n"
        f"You get this because you asked to hear of replies when you posted on {reply.site_name}.\n"
        f"Stop these e-mails (one click): {unsubscribe_url}\n"
    )
    return message


@dataclass(frozen=True)
class SiteQueues:
    name: str
    held: int
    pending: int
    reported: int

    @property
    def waiting(self) -> int:
        return self.held + self.pending + self.reported


def digest_message(sites: list[SiteQueues], *, sender: str, to: str, console_url: str) -> EmailMessage | None:
    """A moderator's digest of what waits in their sites' queues; None when nothing waits."""
    waiting = [site for site in sites if site.waiting]
    if not waiting:
        return None
    total = sum(site.waiting for site in waiting)
    message = EmailMessage()
    message["Subject"] = f"{total} comment{'s' if total != 1 else ''} waiting for moderation"
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    lines = [
        f"{site.name}: {site.held} held, {site.pending} pending, {site.reported} reported" for site in waiting
    ]
    message.set_content(
        "What waits in your moderation queues:\n\n"
        + "\n".join(lines)
        + f"\n\nOpen the console: {console_url}\n"
    )
    return message
