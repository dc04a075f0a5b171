"""Each site's SSO secret: created and rotated through the admin API, with a grace period in
which the previous secret still verifies (as webhook secrets do)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..db import Site, utcnow

SECRET_PREFIX = "sso_"  # noqa: S105 - a prefix that tells SSO secrets apart, not a secret


@dataclass(frozen=True)
class SsoSecrets:
    """A site's secrets as the hot path keeps them (cached with the site's settings)."""

    current: str | None = None
    previous: str | None = None
    previous_expires_at: datetime | None = None

    @classmethod
    def of(cls, site: Site) -> SsoSecrets:
        return cls(site.sso_secret, site.sso_previous_secret, site.sso_previous_secret_expires_at)

    def valid(self, now: datetime | None = None) -> list[str]:
        """The secrets a token may be signed with now: the current one, and the previous one
        until its grace period ends."""
        out = [self.current] if self.current else []
        now = now or utcnow()
        if self.previous and self.previous_expires_at and self.previous_expires_at > now:
            out.append(self.previous)
        return out

    @property
    def configured(self) -> bool:
        return bool(self.current)


def rotate_sso_secret(site: Site, grace: timedelta) -> str:
    """A new secret for the site (its first, or a rotation); the old one verifies for `grace`."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    keep_old = site.sso_secret is not None and grace > timedelta(0)
    site.sso_previous_secret = site.sso_secret if keep_old else None
    site.sso_previous_secret_expires_at = utcnow() + grace if keep_old else None
    site.sso_secret = secret
    return secret
