"""Sites, their policies, keys and article settings: what the admin API and commands change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from .auth import Principal, create_key
from .caches import SETTINGS_CACHE_SECONDS, TTLCache
from .db import ApiKey, Article, Site, utcnow
from .errors import Conflict, Forbidden, NotFound, ValidationFailed
from .extensions import db
from .moderation.policy import CompiledLists, Policy
from .transitions import article_changed, thread_changed


def full_policy(stored: dict[str, Any] | None) -> dict[str, Any]:
    return Policy.from_dict(stored).to_dict()


def site_view(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "slug": site.slug,
        "name": site.name,
        "allowed_origins": site.allowed_origins,
        "policy": full_policy(site.policy),
        "created_at": site.created_at,
    }


@dataclass(frozen=True)
class SiteSettings:
    """What posting a comment needs of its site, with the word lists compiled once."""

    id: int
    policy: Policy
    lists: CompiledLists


def site_cache() -> TTLCache[SiteSettings]:
    return TTLCache(SETTINGS_CACHE_SECONDS, max_entries=10_000)


def site_settings(site_id: int) -> SiteSettings:
    """The site's settings from this process's cache (a change elsewhere applies within
    SETTINGS_CACHE_SECONDS; this process's own changes at once)."""
    settings = current_app.extensions["sites"].get(site_id, lambda: _load_settings(site_id))
    if settings is None:
        raise NotFound("the site of this key no longer exists")
    return settings


def _load_settings(site_id: int) -> SiteSettings | None:
    stored = db.session.execute(sa.select(Site.policy).where(Site.id == site_id)).first()
    if stored is None:
        return None
    policy = Policy.from_dict(stored.policy)
    return SiteSettings(site_id, policy, CompiledLists.from_policy(policy))


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
        policy=data.get("policy", {}),
    )
    db.session.add(site)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"a site {data['slug']!r} exists already") from None
    return site


def update_site(site: Site, data: dict[str, Any]) -> Site:
    if "name" in data:
        site.name = data["name"]
    if "allowed_origins" in data:
        site.allowed_origins = data["allowed_origins"]
    if "policy" in data:
        policy = dict(site.policy or {})
        policy.update(data["policy"])
        site.policy = policy
    db.session.commit()
    current_app.extensions["sites"].invalidate([site.id])
    return site


def list_sites(principal: Principal) -> list[Site]:
    query = sa.select(Site).order_by(Site.id)
    if principal.site_id is not None:
        query = query.where(Site.id == principal.site_id)
    return list(db.session.execute(query).scalars())


def key_view(key: ApiKey, secret: str | None = None) -> dict[str, Any]:
    view = {
        "id": key.id,
        "prefix": key.prefix,
        "role": key.role,
        "site": key.site.slug if key.site else None,
        "name": key.name,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
    }
    if secret:
        view["key"] = secret
    return view


def issue_key(
    principal: Principal | None, role: str, site_slug: str | None, name: str = ""
) -> tuple[ApiKey, str]:
    """Create a key. A site-bound admin may only create keys for its own site."""
    site = site_by_slug(site_slug, principal) if site_slug else None
    if role == "embed" and site is None:
        raise ValidationFailed("site", "an embed key belongs to one site")
    if principal is not None and principal.site_id is not None and site is None:
        raise Forbidden("a site's admin key may only create keys for its own site")
    key, secret = create_key(role, site, name)
    db.session.commit()
    return key, secret


def list_keys(principal: Principal) -> list[ApiKey]:
    query = sa.select(ApiKey).order_by(ApiKey.id)
    if principal.site_id is not None:
        query = query.where(ApiKey.site_id == principal.site_id)
    return list(db.session.execute(query).scalars())


def revoke_key(principal: Principal, key_id: int) -> ApiKey:
    key = db.session.get(ApiKey, key_id)
    if key is None or (principal.site_id is not None and key.site_id != principal.site_id):
        raise NotFound(f"no key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.commit()
    return key


def update_article(site: Site, external_id: str, data: dict[str, Any]) -> Article:
    article = db.session.execute(
        sa.select(Article).where(Article.site_id == site.id, Article.external_id == external_id)
    ).scalar_one_or_none()
    if article is None:
        raise NotFound(f"no article {external_id!r} on this site (articles appear with their first comment)")
    changed_public = "closed" in data and data["closed"] != article.closed
    for field in ("closed", "premoderated", "title"):
        if field in data:
            setattr(article, field, data[field])
    if changed_public or "title" in data:
        thread_changed(article)
    article_changed(site.id, external_id)
    db.session.commit()
    return article
