"""The admin API of site-adapted models: adapt to the site's decisions, read the versions, roll back."""

from __future__ import annotations

from flask import current_app

from .. import sites
from ..adaptation import store
from ..auth import current_principal
from ..schemas.adaptation import AdaptationSchema, NotEnoughDecisionsProblemSchema, SiteModelsSchema
from ..schemas.common import ProblemSchema
from . import Blueprint, authorized

blp = Blueprint(
    "adaptation",
    __name__,
    url_prefix="/v1/admin/sites",
    description="Site-adapted models: learnt from the site's moderator decisions (admin keys)",
)


def _scorer():
    return current_app.extensions["scoring"].scorer


@blp.route("/<string:slug>/adapted-model", methods=["GET"])
@authorized(blp, "admin")
@blp.response(200, SiteModelsSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such site")
def read_adapted_models(slug):
    """The model the site's new comments get, and its adapted versions with the gate's figures"""
    return store.site_models(sites.site_by_slug(slug, current_principal()), _scorer())


@blp.route("/<string:slug>/adapted-model", methods=["POST"])
@authorized(blp, "admin")
@blp.response(201, AdaptationSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such site")
@blp.alt_response(409, schema=NotEnoughDecisionsProblemSchema, description="Too few decisions to learn from")
def adapt_model(slug):
    """Train a model on the site's decisions; deploy it only if it beats the current one on the newest"""
    principal = current_principal()
    site = sites.site_by_slug(slug, principal)
    model = store.train_site_model(site, current_app.extensions["scoring"], principal.actor)
    scoring = store.site_models(site, _scorer(), limit=1)["scoring"]
    return {
        "deployed": model.deployed,
        "verdict": model.evaluation["verdict"],
        "model": store.model_view(model),
        "scoring": scoring,
    }


@blp.route("/<string:slug>/adapted-model/rollback", methods=["POST"])
@authorized(blp, "admin")
@blp.response(200, SiteModelsSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such site")
@blp.alt_response(409, schema=ProblemSchema, description="No adapted model is active")
def rollback_adapted_model(slug):
    """Roll back to the previous deployed version (or the shipped model) for new comments"""
    site = sites.site_by_slug(slug, current_principal())
    store.rollback(site)
    return store.site_models(site, _scorer())
