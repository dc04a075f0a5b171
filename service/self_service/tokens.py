"""Author tokens: the secret a poster gets back with their comment, proving them its author.

A token reads `at_<comment id>_<secret>`: the id says which comment it claims, the secret (256
bits) proves it. Only the secret's SHA-256 is stored, as with API keys (long random strings need
no salt)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "at_"
# The most tokens one request may present (a reader's own comments on one page).
MAX_TOKENS = 50


def new_author_token(secret: bytes, site_id: int, idempotency_key: str | None, fingerprint: str) -> str:
    """A fresh secret; with an Idempotency-Key, derived from it with the instance's secret, so a
    retried request gets the same token back without the token being kept anywhere."""
    if not idempotency_key:
        return secrets.token_urlsafe(32)
    message = f"author-token\0{site_id}\0{idempotency_key}\0{fingerprint}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def hash_author_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def format_author_token(comment_id: int, secret: str) -> str:
    return f"{PREFIX}{comment_id}_{secret}"


def parse_author_token(token: str) -> tuple[int, str] | None:
    """(comment id, secret) of a well-formed token, else None."""
    if not token.startswith(PREFIX):
        return None
    ident, _, secret = token[len(PREFIX) :].partition("_")
    if not ident.isdigit() or len(ident) > 16 or not 20 <= len(secret) <= 64:
        return None
    return int(ident), secret


def proves(token_secret: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and hmac.compare_digest(hash_author_token(token_secret), stored_hash)


def parse_header(value: str | None) -> list[tuple[int, str]] | None:
    """The tokens of an Author-Token header (comma-separated): None when absent, a ValueError when
    malformed or too many."""
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not parts or len(parts) > MAX_TOKENS:
        raise ValueError(f"must hold 1 to {MAX_TOKENS} author tokens, comma-separated")
    parsed = [parse_author_token(p) for p in parts]
    if any(p is None for p in parsed):
        raise ValueError("holds a value that is not an author token (at_<id>_<secret>)")
    return parsed  # type: ignore[return-value]
