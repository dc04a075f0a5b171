"""The admin API: sites, policies, keys, and article settings."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from .. import sites
from ..auth import current_principal
from ..errors import Forbidden
from ..schemas.admin import (
    ArticleSchema,
    ArticleUpdateSchema,
    KeyCreatedSchema,
    KeyCreateSchema,
    KeySchema,
    PolicySchema,
    RotateSsoSecretSchema,
    SiteCreateSchema,
    SiteSchema,
    SiteUpdateSchema,
    SsoSecretSchema,
)
from ..schemas.common import ProblemSchema
from . import Blueprint, authorized

blp = Blueprint(
    "admin", __name__, url_prefix="/v1/admin", description="Sites, policies and keys (admin keys)"
)


@blp.route("/sites")
class Sites(MethodView):
    @authorized(blp, "admin")
    @blp.response(200, SiteSchema(many=True))
    def get(self):
        """List the sites this key reaches"""
        return [sites.site_view(s) for s in sites.list_sites(current_principal())]

    @authorized(blp, "admin")
    @blp.arguments(SiteCreateSchema())
    @blp.response(201, SiteSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="The slug is taken")
    def post(self, data):
        """Create a site (keys for every site only)"""
        if not current_principal().every_site:
            raise Forbidden("a site's admin key cannot create sites")
        return sites.site_view(sites.create_site(data))


@blp.route("/sites/<string:slug>")
class OneSite(MethodView):
    @authorized(blp, "admin")
    @blp.response(200, SiteSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such site")
    def get(self, slug):
        """Read a site and its full policy"""
        return sites.site_view(sites.site_by_slug(slug, current_principal()))

    @authorized(blp, "admin")
    @blp.arguments(SiteUpdateSchema())
    @blp.response(200, SiteSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such site")
    def patch(self, data, slug):
        """Change a site's name, origins or policy"""
        site = sites.site_by_slug(slug, current_principal())
        updated = sites.update_site(site, data)
        current_app.extensions["key_cache"].clear()  # allowed origins live in the cached keys
        return sites.site_view(updated)


@blp.route("/sites/<string:slug>/policy")
class SitePolicy(MethodView):
    @authorized(blp, "moderator")
    @blp.response(200, PolicySchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such site")
    def get(self, slug):
        """Read the site's effective policy: every key, defaults filled in (moderators too)"""
        return sites.full_policy(sites.site_by_slug(slug, current_principal()).policy)

    @authorized(blp, "admin")
    @blp.arguments(PolicySchema())
    @blp.response(200, PolicySchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such site")
    @blp.alt_response(422, schema=ProblemSchema, description="Invalid fields (a hold above its reject)")
    def patch(self, data, slug):
        """Change some of the policy: keys left out stay; thresholds merge per label and per value"""
        return sites.change_policy(sites.site_by_slug(slug, current_principal()), data)

    @authorized(blp, "admin")
    @blp.arguments(PolicySchema())
    @blp.response(200, PolicySchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such site")
    @blp.alt_response(422, schema=ProblemSchema, description="Invalid fields (a hold above its reject)")
    def put(self, data, slug):
        """Replace the policy: keys and threshold values left out take their defaults"""
        return sites.change_policy(sites.site_by_slug(slug, current_principal()), data, replace=True)


@blp.route("/sites/<string:slug>/sso-secret", methods=["POST"])
@authorized(blp, "admin")
@blp.arguments(RotateSsoSecretSchema())
@blp.response(200, SsoSecretSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such site")
def rotate_sso_secret(data, slug):
    """Create the site's SSO secret, or rotate it; the old one verifies too for the grace period"""
    site = sites.site_by_slug(slug, current_principal())
    secret = sites.rotate_sso(site, data.get("grace_hours", 24.0))
    return {"secret": secret, "previous_secret_expires_at": site.sso_previous_secret_expires_at}


@blp.route("/sites/<string:slug>/articles/<string:article_id>")
class ArticleSettings(MethodView):
    @authorized(blp, "moderator")
    @blp.response(200, ArticleSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such site or article")
    def get(self, slug, article_id):
        """Read an article's settings: closed, pre-moderated, its URL and title (moderators too)"""
        return sites.article_by_id(sites.site_by_slug(slug, current_principal()), article_id)

    @authorized(blp, "moderator")
    @blp.arguments(ArticleUpdateSchema())
    @blp.response(200, ArticleSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such site or article")
    @blp.alt_response(422, schema=ProblemSchema, description="Invalid fields (a URL off the site's origins)")
    def patch(self, data, slug, article_id):
        """Close an article, pre-moderate it, or set its URL and title (moderators too)"""
        site = sites.site_by_slug(slug, current_principal())
        return sites.update_article(site, article_id, data)

    @authorized(blp, "moderator")
    @blp.arguments(ArticleUpdateSchema())
    @blp.response(200, ArticleSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such site")
    @blp.alt_response(422, schema=ProblemSchema, description="Invalid fields (a URL off the site's origins)")
    def put(self, data, slug, article_id):
        """Create an article before its first comment (URL and title required), or update it"""
        site = sites.site_by_slug(slug, current_principal())
        return sites.update_article(site, article_id, data, create=True)


@blp.route("/keys")
class Keys(MethodView):
    @authorized(blp, "admin")
    @blp.response(200, KeySchema(many=True))
    def get(self):
        """List keys (never their secrets)"""
        return [sites.key_view(k) for k in sites.list_keys(current_principal())]

    @authorized(blp, "admin")
    @blp.arguments(KeyCreateSchema())
    @blp.response(201, KeyCreatedSchema)
    def post(self, data):
        """Create a key; its secret is in this answer only"""
        key, secret = sites.issue_key(
            current_principal(), data["role"], data.get("site"), data["name"], data["owner_id"]
        )
        return sites.key_view(key, secret)


@blp.route("/keys/<int:key_id>")
class OneKey(MethodView):
    @authorized(blp, "admin")
    @blp.response(200, KeySchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such key")
    def delete(self, key_id):
        """Revoke a key (it stops working within seconds on every process)"""
        key = sites.revoke_key(current_principal(), key_id)
        current_app.extensions["key_cache"].clear()
        return sites.key_view(key)
