"""Password reset links: signed, expiring, and good once.

The token signs the account id and a fingerprint of the current password hash. Setting a password
changes the hash (a new salt every time), so a used link no longer matches: no table of used links."""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

LIFETIME_SECONDS = 60 * 60
_SALT = "accounts.password-reset"


class ResetLinkInvalid(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "no password yet").encode()).hexdigest()[:16]


def make_token(secret: str, account_id: int, password_hash: str | None) -> str:
    return URLSafeTimedSerializer(secret, salt=_SALT).dumps(
        {"a": account_id, "f": fingerprint(password_hash)}
    )


def read_token(secret: str, token: str, max_age: int = LIFETIME_SECONDS) -> tuple[int, str]:
    """The account id and fingerprint the token was made for; ResetLinkInvalid when it is forged
    or older than `max_age` seconds."""
    try:
        data = URLSafeTimedSerializer(secret, salt=_SALT).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise ResetLinkInvalid("the link has expired: ask for a new one") from error
    except BadSignature as error:
        raise ResetLinkInvalid("the link is not valid") from error
    if not isinstance(data, dict) or not isinstance(data.get("a"), int) or not isinstance(data.get("f"), str):
        raise ResetLinkInvalid("the link is not valid")
    return data["a"], data["f"]
