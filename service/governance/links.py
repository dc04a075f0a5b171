"""Signed links: a reporter follows one to see their notice's status, an author to read the
statement of reasons of a restriction. Signed with the instance's SECRET_KEY (itsdangerous, an
HMAC), so the link itself is the credential and no account is needed; each kind has its own salt,
so a notice's link never opens a statement."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

NOTICE = "dsa-notice"
STATEMENT = "dsa-statement"


def sign(secret: str, kind: str, public_id: str) -> str:
    return URLSafeSerializer(secret, salt=kind).dumps(public_id)


def verify(secret: str, kind: str, token: str) -> str | None:
    """The public id the token was signed for, or None when it was not signed by us for `kind`."""
    try:
        value = URLSafeSerializer(secret, salt=kind).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None
