"""Tokens a site's own backend signs for the embed (pure: no Flask, no SQL).

- A **reader token** says "this is our signed-in reader": claims `sub` (the site's user id),
  `name`, optional `email`, `iat`, `exp` (at most MAX_LIFETIME after `iat`).
- An **article claim** says "this article of ours has this URL and title": claims `article`
  ({id, url, title}), `iat`, `exp`.

Both are JWTs signed with HS256 and the site's SSO secret. The algorithm is pinned: a token
whose header names another algorithm (`none` included) is refused before any key is tried.
During a rotation the previous secret verifies too, until it expires.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"
MAX_LIFETIME = 24 * 3600
# Clocks of the site's servers and ours differ a little; more would stretch expired tokens.
LEEWAY = 5
MAX_TOKEN_LENGTH = 4096
MAX_SUB = 200
MAX_NAME = 80
MAX_EMAIL = 320
# Keys of readers a site vouched for; standing, history and reports attach to these only.
VERIFIED_PREFIX = "sso:"


class InvalidToken(Exception):
    """The token proves nothing; `reason` says why, for the problem document."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Reader:
    """A reader the site vouched for."""

    sub: str
    name: str
    email: str | None = None

    @property
    def key(self) -> str:
        """The reader's identity on the site: standing, history and reports attach to it."""
        return f"{VERIFIED_PREFIX}{self.sub}"


@dataclass(frozen=True)
class ArticleClaim:
    id: str
    url: str
    title: str


def _decode(token: str, secrets: Sequence[str], now: float | None, required: list[str]) -> dict[str, Any]:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken(f"must be a JWT of at most {MAX_TOKEN_LENGTH} characters")
    if not secrets:
        raise InvalidToken("this site has no SSO secret: create one with the admin API")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise InvalidToken("is not a JWT") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"must be signed with {ALGORITHM} (the header says {header.get('alg')!r})")
    now = time.time() if now is None else now
    last_error = "the signature does not match this site's SSO secret"
    for secret in secrets:
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                leeway=LEEWAY,
                options={"require": required, "verify_iat": False, "verify_exp": False},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.MissingRequiredClaimError as error:
            raise InvalidToken(f"lacks the {error.claim!r} claim") from None
        except jwt.InvalidTokenError as error:
            last_error = f"is malformed ({error})"
            break
        _check_times(claims, now)
        return claims
    raise InvalidToken(last_error)


def _check_times(claims: dict[str, Any], now: float) -> None:
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int | float) or not isinstance(exp, int | float):
        raise InvalidToken("iat and exp must be numbers (seconds since the epoch)")
    if exp <= now - LEEWAY:
        raise InvalidToken("has expired")
    if iat > now + LEEWAY:
        raise InvalidToken("was issued in the future (check the site's clock)")
    if exp - iat > MAX_LIFETIME:
        raise InvalidToken(f"may live at most {MAX_LIFETIME // 3600} hours (exp - iat)")


def _text(claims: dict[str, Any], name: str, limit: int, *, required: bool = True) -> str | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidToken(f"claim {name!r} must be a non-empty string of at most {limit} characters")
    return value.strip()


def verify_reader(token: str, secrets: Sequence[str], *, now: float | None = None) -> Reader:
    """The reader a token vouches for, or InvalidToken."""
    claims = _decode(token, secrets, now, ["sub", "exp", "iat"])
    sub = claims.get("sub")
    if isinstance(sub, int):  # some sites' user ids are numbers
        claims["sub"] = str(sub)
    return Reader(
        sub=_text(claims, "sub", MAX_SUB),
        name=_text(claims, "name", MAX_NAME),
        email=_text(claims, "email", MAX_EMAIL, required=False),
    )


def verify_article(token: str, secrets: Sequence[str], *, now: float | None = None) -> ArticleClaim:
    """The article a claim vouches for, or InvalidToken."""
    claims = _decode(token, secrets, now, ["article", "exp", "iat"])
    article = claims["article"]
    if not isinstance(article, dict):
        raise InvalidToken("claim 'article' must be an object with id, url and title")
    return ArticleClaim(
        id=_text(article, "id", 200),
        url=_text(article, "url", 2000),
        title=_text(article, "title", 500),
    )


def sign(claims: dict[str, Any], secret: str) -> str:
    """What a site's backend does (docs, the demo page and the tests use it)."""
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def reader_token(
    secret: str,
    sub: str,
    name: str,
    *,
    email: str | None = None,
    lifetime: int = 3600,
    now: float | None = None,
) -> str:
    now = int(time.time() if now is None else now)
    claims: dict[str, Any] = {"sub": sub, "name": name, "iat": now, "exp": now + lifetime}
    if email:
        claims["email"] = email
    return sign(claims, secret)


def article_token(
    secret: str, article_id: str, url: str, title: str, *, lifetime: int = 3600, now: float | None = None
) -> str:
    now = int(time.time() if now is None else now)
    return sign(
        {"article": {"id": article_id, "url": url, "title": title}, "iat": now, "exp": now + lifetime}, secret
    )
