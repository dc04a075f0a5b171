"""HTTP blueprints: public comments (the embed), admin, moderation, ops. Views stay thin.

Argument schemas are given as instances (they keep no state between loads): given a class,
webargs builds a new schema, and its nested ones, for every request."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import flask_smorest
from flask import Response, current_app
from webargs.core import missing
from webargs.flaskparser import FlaskParser

from ..auth import require_role
from ..errors import ValidationFailed
from ..schemas.common import NOT_UNICODE, ProblemSchema, lone_surrogate_at

# Raw UTF-8 cannot carry a surrogate (webargs decodes strictly): only a \uD800-\uDFFF escape can.
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


class GuardedParser(FlaskParser):
    """webargs' parser with one check for every JSON body, whatever its schema: a string holding
    half a surrogate pair (valid JSON, but no database stores it) is a 422 naming its field."""

    def load_json(self, req, schema):
        data = super().load_json(req, schema)
        if data is not missing and _ESCAPED_SURROGATE.search(req.get_data(cache=True)):
            field = lone_surrogate_at(data)
            if field is not None:
                raise ValidationFailed(field, NOT_UNICODE)
        return data


class Blueprint(flask_smorest.Blueprint):
    """Every API blueprint parses its arguments with the guarded parser."""

    ARGUMENTS_PARSER = GuardedParser()


def authorized(blp: Blueprint, *roles: str) -> Callable:
    """Require a key granting one of `roles`, and say so in the OpenAPI document."""

    def decorator(view: Callable) -> Callable:
        view = require_role(*roles)(view)
        view = blp.alt_response(401, schema=ProblemSchema, description="No key, or an unknown key")(view)
        view = blp.alt_response(403, schema=ProblemSchema, description="Wrong role, site or origin")(view)
        if "embed" in roles:
            return blp.doc(security=[{"apiKey": []}])(view)
        return blp.doc(security=[{"apiKey": []}, {"consoleSession": []}])(view)

    return decorator


def _isoformat(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()  # as marshmallow's DateTime dumps it
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Serialise a hot read path's answer directly. Its dict already has the documented shape,
    so the schema's dump would only copy it, at ~0.2 ms an item (tests/api/test_fast_json.py
    keeps the two equal)."""
    body = json.dumps(data, default=_isoformat, ensure_ascii=False).encode()
    return current_app.response_class(body, status=status, headers=headers, mimetype="application/json")


def register_blueprints(api) -> None:
    from . import (
        accounts,
        adaptation,
        admin,
        appeals,
        comments,
        exports,
        governance,
        imports,
        moderation,
        ops,
    )

    for module in (
        comments,
        moderation,
        admin,
        adaptation,
        ops,
        governance,
        appeals,
        accounts,
        exports,
        imports,
    ):
        api.register_blueprint(module.blp)
    from . import live, notifications

    api.register_blueprint(live.blp)
    api.register_blueprint(notifications.blp)
