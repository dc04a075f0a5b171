"""HTTP blueprints: public comments (the embed), admin, moderation, ops. Views stay thin."""

from __future__ import annotations

from collections.abc import Callable

from flask_smorest import Blueprint

from ..auth import require_role
from ..schemas.common import ProblemSchema


def authorized(blp: Blueprint, *roles: str) -> Callable:
    """Require a key granting one of `roles`, and say so in the OpenAPI document."""

    def decorator(view: Callable) -> Callable:
        view = require_role(*roles)(view)
        view = blp.alt_response(401, schema=ProblemSchema, description="No key, or an unknown key")(view)
        view = blp.alt_response(403, schema=ProblemSchema, description="Wrong role, site or origin")(view)
        return blp.doc(security=[{"apiKey": []}])(view)

    return decorator


def register_blueprints(api) -> None:
    from . import admin, comments, moderation, ops

    for module in (comments, moderation, admin, ops):
        api.register_blueprint(module.blp)
