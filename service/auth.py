"""API keys: generation, hashing, and the role and site checks every route makes."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, request

from .caches import SETTINGS_CACHE_SECONDS, TTLCache
from .db import ApiKey, Site
from .errors import Forbidden, Unauthorized
from .extensions import db

# Embed keys are public (they sit in the article page), so they read like Stripe's
# publishable keys; moderator and admin keys are secrets.
KEY_PREFIXES = {"embed": "pk_", "moderator": "sk_mod_", "admin": "sk_admin_"}
# Admin keys may do what moderator keys may.
ROLE_GRANTS = {"embed": {"embed"}, "moderator": {"moderator"}, "admin": {"moderator", "admin"}}


def hash_key(key: str) -> str:
    # Keys carry 192 random bits, so a fast unsalted hash cannot be brute-forced.
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key(role: str) -> str:
    return KEY_PREFIXES[role] + secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, role and site (None: every site)."""

    key_id: int
    role: str
    site_id: int | None
    allowed_origins: tuple[str, ...]

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"

    def may_act_on(self, site_id: int) -> bool:
        return self.site_id is None or self.site_id == site_id


def create_key(role: str, site: Site | None, name: str = "") -> tuple[ApiKey, str]:
    """Add a key to the session; return it with its secret, which is shown only this once."""
    if role == "embed" and site is None:
        raise ValueError("an embed key belongs to one site")
    secret = generate_key(role)
    key = ApiKey(
        key_hash=hash_key(secret),
        prefix=secret[:12],
        role=role,
        site_id=site.id if site else None,
        name=name,
    )
    db.session.add(key)
    return key, secret


def key_cache() -> TTLCache[Principal]:
    """Key lookups kept per process: the hot public paths skip a query."""
    return TTLCache(SETTINGS_CACHE_SECONDS, max_entries=10_000)


def _load_principal(key_hash: str) -> Principal | None:
    row = db.session.execute(
        sa.select(ApiKey.id, ApiKey.role, ApiKey.site_id, Site.allowed_origins)
        .outerjoin(Site, Site.id == ApiKey.site_id)
        .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    return Principal(row.id, row.role, row.site_id, tuple(row.allowed_origins or ()))


def authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("send the key as 'Authorization: Bearer <key>'")
    key_hash = hash_key(key.strip())
    principal = current_app.extensions["key_cache"].get(key_hash, lambda: _load_principal(key_hash))
    if principal is None:
        raise Unauthorized("the key is unknown or revoked")
    return principal


def check_origin(principal: Principal) -> None:
    """An embed key only works from its site's pages. Browsers send Origin on every
    cross-origin request and on same-origin POSTs; a same-origin GET may come without one."""
    origin = request.headers.get("Origin")
    if origin is None:
        if request.method in ("GET", "HEAD"):
            return
        raise Forbidden("an embed key must be used from a page of its site (no Origin header)")
    if origin.rstrip("/") not in principal.allowed_origins:
        raise Forbidden(f"origin {origin!r} is not allowed for this site")


def require_role(*roles: str) -> Callable:
    """Route decorator: a key granting one of `roles`, and for embed keys an allowed Origin."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            if not ROLE_GRANTS[principal.role] & set(roles):
                raise Forbidden(
                    f"a key with role {principal.role!r} may not call this; allowed: {', '.join(roles)}"
                )
            if principal.role == "embed":
                check_origin(principal)
            g.principal = principal
            return view(*args, **kwargs)

        wrapper._roles = roles  # type: ignore[attr-defined]  # read by the OpenAPI security docs
        return wrapper

    return decorator


def current_principal() -> Principal:
    return g.principal


# Set by reverse proxies: a request carrying one came from elsewhere, whatever its socket says.
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def _direct_from_this_machine() -> bool:
    try:
        loopback = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:  # a Unix socket, or no address at all
        return False
    return loopback and not any(name in request.headers for name in PROXY_HEADERS)


def require_metrics_access() -> None:
    """/metrics tells traffic, decisions and errors across every site: it takes the METRICS_TOKEN
    setting or an admin key for every site. With no token set, a scraper on this machine reads it
    without one (loopback, and not relayed by a proxy, which would make any caller look local)."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given.strip():
        if token and hmac.compare_digest(given.strip().encode(), token.encode()):
            return
        principal = authenticate()
        if principal.role != "admin" or principal.site_id is not None:
            raise Forbidden("metrics need the METRICS_TOKEN or an admin key for every site")
        return
    if not token and _direct_from_this_machine():
        return
    raise Unauthorized("send the METRICS_TOKEN (or an admin key for every site) as a Bearer token")
