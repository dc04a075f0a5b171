"""Sites, their policies, keys and article settings: what the admin API and commands change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from .auth import Principal, create_key
from .caches import SETTINGS_CACHE_SECONDS, TTLCache
from .db import ApiKey, Article, Site, utcnow
from .errors import Conflict, Forbidden, NotFound, ValidationFailed
from .extensions import db
from .identity.origins import url_on_origins
from .identity.store import SsoSecrets, rotate_sso_secret
from .moderation.policy import CompiledLists, Policy, merge_policy, threshold_errors
from .settings_audit import changes, fingerprint, record, record_changes
from .transitions import article_changed, thread_changed


def full_policy(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The effective policy: what is stored, with the default of every key and value left out."""
    return Policy.from_dict(stored).to_dict()


def checked_policy(stored: dict[str, Any], sent: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """`stored` if its effective thresholds hold together (hold <= reject per label), else 422
    naming each field that breaks the rule, as the request wrote it."""
    problems = threshold_errors(stored, sent)
    if problems:
        error = ValidationFailed(prefix + problems[0][0], problems[0][1])
        error.errors = [{"field": prefix + f, "location": "json", "message": m} for f, m in problems]
        raise error
    return stored


def site_view(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "slug": site.slug,
        "name": site.name,
        "allowed_origins": site.allowed_origins,
        "policy": full_policy(site.policy),
        "sso": {
            "configured": site.sso_secret is not None,
            "previous_secret_expires_at": site.sso_previous_secret_expires_at,
        },
        "created_at": site.created_at,
    }


@dataclass(frozen=True)
class SiteSettings:
    """What posting a comment needs of its site, with the word lists compiled once."""

    id: int
    policy: Policy
    lists: CompiledLists
    allowed_origins: tuple[str, ...] = ()
    sso: SsoSecrets = SsoSecrets()


def site_cache() -> TTLCache[SiteSettings]:
    return TTLCache(SETTINGS_CACHE_SECONDS, max_entries=10_000)


def announce_settings_change() -> None:
    """After committing a change of keys, sites or policies: every process (this one included)
    drops its cached copies within a second when REDIS_URL is set (caches.SettingsVersion)."""
    current_app.extensions["settings_version"].announce()


def site_settings(site_id: int) -> SiteSettings:
    """The site's settings from this process's cache (this process's own changes apply at once,
    another's within a second with REDIS_URL, else within SETTINGS_CACHE_SECONDS)."""
    settings = current_app.extensions["sites"].get(site_id, lambda: _load_settings(site_id))
    if settings is None:
        raise NotFound("the site of this key no longer exists")
    return settings


def _load_settings(site_id: int) -> SiteSettings | None:
    site = db.session.get(Site, site_id)
    if site is None:
        return None
    policy = Policy.from_dict(site.policy)
    return SiteSettings(
        site_id,
        policy,
        CompiledLists.from_policy(policy),
        tuple(site.allowed_origins or ()),
        SsoSecrets.of(site),
    )


def site_by_slug(slug: str, principal: Principal | None = None) -> Site:
    site = db.session.execute(sa.select(Site).where(Site.slug == slug)).scalar_one_or_none()
    if site is None or (principal is not None and not principal.may_act_on(site.id)):
        # A key of another site learns nothing about this one.
        raise NotFound(f"no site {slug!r}")
    return site


def create_site(data: dict[str, Any]) -> Site:
    site = Site(
        slug=data["slug"],
        name=data["name"],
        allowed_origins=data.get("allowed_origins", []),
        policy=checked_policy(merge_policy({}, data.get("policy", {})), data.get("policy", {}), "policy."),
    )
    db.session.add(site)
    try:
        db.session.flush()
        record("site.created", f"site:{site.slug}", site.id, None, _site_changes({}, _audited(site))[1])
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"a site {data['slug']!r} exists already") from None
    return site


def _audited(site: Site) -> dict[str, Any]:
    """A site's settings as the history compares them: the effective policy, defaults included."""
    return {
        "name": site.name,
        "allowed_origins": list(site.allowed_origins or []),
        "policy": full_policy(site.policy),
    }


def _site_changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Name and origins compared as they are, the policy key by key (thresholds label by label)."""
    old, new = changes(
        {k: v for k, v in before.items() if k != "policy"}, {k: v for k, v in after.items() if k != "policy"}
    )
    old_policy, new_policy = changes(before.get("policy") or full_policy({}), after["policy"])
    if old_policy or new_policy:
        old["policy"], new["policy"] = old_policy, new_policy
    return old, new


def update_site(site: Site, data: dict[str, Any]) -> Site:
    before = _audited(site)
    if "name" in data:
        site.name = data["name"]
    if "allowed_origins" in data:
        site.allowed_origins = data["allowed_origins"]
    if "policy" in data:
        site.policy = checked_policy(merge_policy(site.policy, data["policy"]), data["policy"], "policy.")
    old, new = _site_changes(before, _audited(site))
    if old or new:
        record("site.updated", f"site:{site.slug}", site.id, old, new)
    db.session.commit()
    current_app.extensions["sites"].invalidate([site.id])
    announce_settings_change()
    return site


def change_policy(site: Site, sent: dict[str, Any], *, replace: bool = False) -> dict[str, Any]:
    """PATCH (merge into the current policy) or PUT (`replace`: keys left out take their
    defaults) a site's policy; the effective policy that results."""
    stored = merge_policy({}, sent) if replace else merge_policy(site.policy, sent)
    before = full_policy(site.policy)
    site.policy = checked_policy(stored, sent)
    # Compared as effective policies: a PUT that spells out the defaults changes nothing.
    kind = "policy.replaced" if replace else "policy.updated"
    record_changes(kind, f"site:{site.slug}", site.id, before, full_policy(site.policy))
    db.session.commit()
    current_app.extensions["sites"].invalidate([site.id])
    announce_settings_change()
    return full_policy(site.policy)


def rotate_sso(site: Site, grace_hours: float) -> str:
    """Create the site's SSO secret, or rotate it (the old one verifies for the grace period)."""
    old = site.sso_secret
    secret = rotate_sso_secret(site, timedelta(hours=grace_hours))
    record(
        "sso_secret.rotated" if old else "sso_secret.created",
        f"site:{site.slug}",
        site.id,
        {"secret_fingerprint": fingerprint(old)},
        {
            "secret_fingerprint": fingerprint(secret),
            "previous_secret_expires_at": site.sso_previous_secret_expires_at,
        },
    )
    db.session.commit()
    current_app.extensions["sites"].invalidate([site.id])
    announce_settings_change()
    return secret


def list_sites(principal: Principal) -> list[Site]:
    query = sa.select(Site).order_by(Site.id)
    if (clause := principal.site_clause(Site.id)) is not None:
        query = query.where(clause)
    return list(db.session.execute(query).scalars())


def key_view(key: ApiKey, secret: str | None = None) -> dict[str, Any]:
    view = {
        "id": key.id,
        "prefix": key.prefix,
        "role": key.role,
        "site": key.site.slug if key.site else None,
        "name": key.name,
        "owner_id": key.owner_id,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
    }
    if secret:
        view["key"] = secret
    return view


def issue_key(
    principal: Principal | None,
    role: str,
    site_slug: str | None,
    name: str = "",
    owner_id: int | None = None,
) -> tuple[ApiKey, str]:
    """Create a key, for a person (`owner_id`: it acts as them, within the roles they hold) or for
    a named integration. A site-bound admin may only create keys for its own sites."""
    site = site_by_slug(site_slug, principal) if site_slug else None
    if role == "embed" and site is None:
        raise ValidationFailed("site", "an embed key belongs to one site")
    if principal is not None and not principal.every_site and site is None:
        raise Forbidden("a site's admin may only create keys for their own sites")
    if owner_id is not None:
        from .accounts.store import check_key_owner

        check_key_owner(owner_id, role, site.id if site else None)
    key, secret = create_key(role, site, name)
    key.owner_id = owner_id
    _record_issued(key, site)
    db.session.commit()
    announce_settings_change()  # a process may hold "unknown" for this key's hash
    return key, secret


def _record_issued(key: ApiKey, site: Site | None) -> None:
    """The key's prefix is shown in every key list; the rest of its secret never leaves the answer."""
    db.session.flush()
    after = {"prefix": key.prefix, "role": key.role, "site": site.slug if site else None, "name": key.name}
    record("key.issued", f"key:{key.id}", key.site_id, None, after)


def list_keys(principal: Principal) -> list[ApiKey]:
    query = sa.select(ApiKey).order_by(ApiKey.id)
    if (clause := principal.site_clause(ApiKey.site_id)) is not None:
        query = query.where(clause)
    return list(db.session.execute(query).scalars())


def revoke_key(principal: Principal, key_id: int) -> ApiKey:
    key = db.session.get(ApiKey, key_id)
    if key is None or not (
        principal.every_site or (key.site_id is not None and principal.may_act_on(key.site_id))
    ):
        raise NotFound(f"no key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        revoked = {"revoked_at": key.revoked_at}
        record("key.revoked", f"key:{key.id}", key.site_id, {"revoked_at": None}, revoked)
        db.session.commit()
        announce_settings_change()
    return key


def check_article_url(url: str, origins: tuple[str, ...] | list[str], field: str = "url") -> None:
    """An article's URL must be a page of the site: on one of its allowed origins."""
    if not url_on_origins(url, origins):
        raise ValidationFailed(field, "must be on one of the site's allowed origins")


def article_by_id(site: Site, external_id: str) -> Article:
    article = db.session.execute(
        sa.select(Article).where(Article.site_id == site.id, Article.external_id == external_id)
    ).scalar_one_or_none()
    if article is None:
        raise NotFound(f"no article {external_id!r} on this site")
    return article


def update_article(site: Site, external_id: str, data: dict[str, Any], *, create: bool = False) -> Article:
    """Change an article's settings, or its URL and title (which only the site sets: this API or a
    signed article claim). With `create`, an article that does not exist yet is made (before its
    first comment); it then needs a URL and a title."""
    article = db.session.execute(
        sa.select(Article).where(Article.site_id == site.id, Article.external_id == external_id)
    ).scalar_one_or_none()
    if "url" in data:
        check_article_url(data["url"], site.allowed_origins or ())
    if article is None:
        if not create:
            raise NotFound(
                f"no article {external_id!r} on this site (create it with PUT, or by a first comment)"
            )
        for field in ("url", "title"):
            if not data.get(field):
                raise ValidationFailed(field, "is required to create an article")
        article = Article(site_id=site.id, external_id=external_id, url=data["url"], title=data["title"])
        db.session.add(article)
    changed_public = "closed" in data and data["closed"] != article.closed
    for field in ("closed", "premoderated", "title", "url"):
        if field in data:
            setattr(article, field, data[field])
    if "title" in data or "url" in data:
        article.verified = True
    db.session.flush()
    if changed_public or "title" in data or "url" in data:
        thread_changed(article)
    article_changed(site.id, external_id)
    db.session.commit()
    return article
