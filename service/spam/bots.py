"""Bot checks: a honeypot field, and a signed render token that dates when the form was shown.

A failed check HOLDS the comment for a moderator and never rejects it. Real readers trip these
checks too: a fast reader who pastes a prepared text, a screen reader or password manager that
fills a hidden field, a page left open for days. Held, their comment waits for a moderator
instead of being lost; a bot's waits the same and never reaches the page.

The minimum time runs from when the form was rendered (the page or embed loaded), not from the
first keystroke, so it counts the time spent reading the article. DEFAULT_MIN_SECONDS is 2:
reading an article, clicking into the box and typing even one short sentence at a record
200 words a minute takes longer, and a long comment pasted in still takes a paste and a click
after the page has loaded. Only a script that posts as soon as it fetches the form is that fast.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from ..moderation.policy import Reason
from .reasons import SpamReason

DEFAULT_MIN_SECONDS = 2.0
DEFAULT_MAX_AGE = 24 * 3600.0
# Servers that sign and verify may disagree on the time by a little; more than this and the
# token is not from us (or a clock is badly wrong).
CLOCK_SKEW = 60.0
_VERSION = 1
# Binds the MAC to this use, so a secret shared with another signer cannot be replayed here.
_CONTEXT = b"render-token\x00"


@dataclass(frozen=True)
class RenderToken:
    """What a verified render token says. `nonce` is random per render: the caller may count
    posts per nonce, but should not refuse a second one (a reader may reply twice)."""

    site_id: int
    article_id: str
    issued_at: float
    nonce: str


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes | str, payload: str) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, _CONTEXT + payload.encode("ascii"), hashlib.sha256).digest()


def issue_render_token(secret: bytes | str, site_id: int, article_id: str, now: float) -> str:
    """A token for the form shown on `article_id` of `site_id` at `now` (epoch seconds):
    base64url(JSON payload) "." base64url(HMAC-SHA256)."""
    body = [_VERSION, site_id, article_id, round(now, 3), secrets.token_urlsafe(12)]
    payload = _b64encode(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_b64encode(_mac(secret, payload))}"


def read_render_token(token: str, secret: bytes | str | Sequence[bytes | str]) -> RenderToken | None:
    """The token's content if one of the secrets (the current one, then those being rotated
    out) signed it, else None. The signature is checked, in constant time, before anything
    in the token is parsed."""
    keys = [secret] if isinstance(secret, bytes | str) else list(secret)
    if not isinstance(token, str) or token.count(".") != 1:
        return None
    payload, _, signature = token.partition(".")
    try:
        given = _b64decode(signature)
        payload.encode("ascii")
    except (binascii.Error, ValueError):
        return None
    if not any(hmac.compare_digest(_mac(key, payload), given) for key in keys):
        return None
    try:
        version, site_id, article_id, issued_at, nonce = json.loads(_b64decode(payload))
    except (binascii.Error, ValueError, TypeError):
        return None
    if version != _VERSION or not isinstance(site_id, int) or not isinstance(article_id, str):
        return None
    if not isinstance(issued_at, int | float) or not isinstance(nonce, str):
        return None
    return RenderToken(site_id, article_id, float(issued_at), nonce)


def judge_render_token(
    token: str | None,
    secret: bytes | str | Sequence[bytes | str],
    site_id: int,
    article_id: str,
    now: float,
    *,
    min_seconds: float = DEFAULT_MIN_SECONDS,
    max_age: float = DEFAULT_MAX_AGE,
) -> Reason | None:
    """None for a token we signed for this site and article, rendered between `min_seconds` and
    `max_age` ago. Otherwise `bot_token_invalid` (scope says why: missing, forged, site, article,
    future), `bot_too_fast` or `bot_token_expired`, with the seconds since render."""
    if not token:
        return SpamReason("bot_token_invalid", scope="missing")
    content = read_render_token(token, secret)
    if content is None:
        return SpamReason("bot_token_invalid", scope="forged")
    if content.site_id != site_id:
        return SpamReason("bot_token_invalid", scope="site")
    if not hmac.compare_digest(content.article_id.encode(), article_id.encode()):
        return SpamReason("bot_token_invalid", scope="article")
    elapsed = now - content.issued_at
    if elapsed < -CLOCK_SKEW:
        return SpamReason("bot_token_invalid", scope="future")
    if elapsed < min_seconds:
        return SpamReason("bot_too_fast", seconds=round(max(elapsed, 0.0), 3), limit=min_seconds)
    if elapsed > max_age:
        return SpamReason("bot_token_expired", seconds=round(elapsed, 3), limit=max_age)
    return None


def judge_honeypot(value: object) -> Reason | None:
    """`bot_honeypot` when the hidden field came back with anything in it. The embed hides it from
    sight, from screen readers (aria-hidden) and from the tab order, and turns autofill off."""
    if value is None or value == "":
        return None
    return SpamReason("bot_honeypot")
