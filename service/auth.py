"""API keys: generation, hashing, and the role and site checks every route makes."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, request

from .caches import SETTINGS_CACHE_SECONDS, TTLCache
from .db import Account, AccountRole, ApiKey, Site
from .errors import Forbidden, Unauthorized
from .extensions import db

# Embed keys are public (they sit in the article page), so they read like Stripe's
# publishable keys; moderator and admin keys are secrets.
KEY_PREFIXES = {"embed": "pk_", "moderator": "sk_mod_", "admin": "sk_admin_"}
# The console's session cookie and the header carrying its CSRF token.
SESSION_COOKIE = "cms_session"
CSRF_HEADER = "X-CSRF-Token"
# Admin keys may do what moderator keys may.
ROLE_GRANTS = {"embed": {"embed"}, "moderator": {"moderator"}, "admin": {"moderator", "admin"}}


def hash_key(key: str) -> str:
    # Keys carry 192 random bits, so a fast unsalted hash cannot be brute-forced.
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key(role: str) -> str:
    return KEY_PREFIXES[role] + secrets.token_urlsafe(24)


Grant = tuple[int | None, str]  # (site id or None for every site, role)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key, or a person (signed in, or through a key they own), with the roles
    they hold per site. `sites` is where this request's roles reach: None for every site."""

    key_id: int | None
    role: str
    grants: tuple[Grant, ...]
    allowed_origins: tuple[str, ...] = ()
    account_id: int | None = None
    name: str = ""
    sites: frozenset[int] | None = frozenset()
    # Console sessions: the CSRF token state-changing requests must send back.
    csrf_token: str | None = None

    @classmethod
    def for_key(cls, key_id: int, role: str, site_id: int | None, origins=(), account_id=None, name=""):
        return cls(
            key_id,
            role,
            ((site_id, role),),
            tuple(origins),
            account_id,
            name,
            None if site_id is None else frozenset((site_id,)),
        )

    @property
    def actor(self) -> str:
        """How the audit trail names the caller: the person, else the integration (the key)."""
        return f"user:{self.account_id}" if self.account_id is not None else f"integration:{self.key_id}"

    @property
    def every_site(self) -> bool:
        return self.sites is None

    @property
    def site_id(self) -> int | None:
        """The one site the caller is confined to; None when it reaches every site. Callers that
        may reach several sites use `sites` (this is for keys of one site, like embed keys)."""
        if self.sites is None:
            return None
        if len(self.sites) != 1:
            raise LookupError("this caller reaches several sites")
        return next(iter(self.sites))

    def may_act_on(self, site_id: int) -> bool:
        return self.sites is None or site_id in self.sites

    def site_clause(self, column: Any) -> Any:
        """A WHERE clause keeping rows of the sites reached (None: every site, no clause)."""
        if self.sites is None:
            return None
        if len(self.sites) == 1:
            return column == next(iter(self.sites))
        return column.in_(sorted(self.sites))

    def narrowed(self, roles: tuple[str, ...] | set[str]) -> Principal | None:
        """The caller as a route needing one of `roles` sees it: only the sites where a grant
        gives one of them (None when none does). A moderator of one site and admin of another
        reaches only the second on admin routes."""
        wanted = set(roles)
        granting = [(site, role) for site, role in self.grants if ROLE_GRANTS[role] & wanted]
        if not granting:
            return None
        if len(granting) == len(self.grants) and len(self.grants) == 1:
            return self  # a key's one grant: nothing to narrow (the hot path)
        sites = None if any(site is None for site, _ in granting) else frozenset(s for s, _ in granting)
        best = "admin" if any(role == "admin" for _, role in granting) else granting[0][1]
        return replace(self, role=best, sites=sites)

    def role_on(self, site_id: int) -> str | None:
        """The strongest role the caller holds on a site (its own grant or an every-site one)."""
        held = {role for site, role in self.grants if site is None or site == site_id}
        for role in ("admin", "moderator", "embed"):
            if role in held:
                return role
        return None


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
        sa.select(
            ApiKey.id,
            ApiKey.role,
            ApiKey.site_id,
            ApiKey.owner_id,
            ApiKey.name,
            Site.allowed_origins,
            Account.name.label("owner_name"),
        )
        .outerjoin(Site, Site.id == ApiKey.site_id)
        .outerjoin(Account, Account.id == ApiKey.owner_id)
        .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
        # A person's keys stop with their account.
        .where(sa.or_(ApiKey.owner_id.is_(None), Account.disabled_at.is_(None)))
    ).first()
    if row is None:
        return None
    role = row.role
    if row.owner_id is not None:  # a person's key acts within the roles they hold now
        held = db.session.execute(
            sa.select(AccountRole.site_id, AccountRole.role).where(AccountRole.account_id == row.owner_id)
        ).all()
        role = owned_key_role(row.role, row.site_id, [(h.site_id, h.role) for h in held])
        if role is None:
            return None
    return Principal.for_key(
        row.id,
        role,
        row.site_id,
        row.allowed_origins or (),
        row.owner_id,
        row.owner_name or row.name or "",
    )


def owned_key_role(key_role: str, key_site: int | None, held: list[tuple[int | None, str]]) -> str | None:
    """What a person's key may do: its own role, lowered to the best role the person still holds
    where the key works (a role on every site counts everywhere; a key for every site needs one);
    None when they hold none there. Keys were checked against the roles when made, but roles
    change later: a demoted admin's admin key must not stay an admin's."""
    there = {role for site, role in held if site is None or (key_site is not None and site == key_site)}
    if key_role not in ("moderator", "admin"):
        return key_role
    if key_role == "admin":
        return "admin" if "admin" in there else ("moderator" if "moderator" in there else None)
    return "moderator" if there & {"moderator", "admin"} else None


def authenticate() -> Principal:
    """The caller: a key in Authorization, else a console session cookie (whose state-changing
    requests must carry the session's CSRF token; a key is not sent by a browser on its own, so
    key requests need none)."""
    header = request.headers.get("Authorization", "")
    if not header and SESSION_COOKIE in request.cookies:
        from .accounts.store import session_principal

        return session_principal(
            request.cookies[SESSION_COOKIE], request.method, request.headers.get(CSRF_HEADER)
        )
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("send the key as 'Authorization: Bearer <key>', or sign in to the console")
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
            caller = authenticate()
            principal = caller.narrowed(roles)
            if principal is None:
                held = ", ".join(sorted({role for _, role in caller.grants})) or "none"
                raise Forbidden(f"roles held ({held}) may not call this; allowed: {', '.join(roles)}")
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
        admin = principal.narrowed(("admin",))
        if admin is None or not admin.every_site:
            raise Forbidden("metrics need the METRICS_TOKEN or an admin key for every site")
        return
    if not token and _direct_from_this_machine():
        return
    raise Unauthorized("send the METRICS_TOKEN (or an admin key for every site) as a Bearer token")
