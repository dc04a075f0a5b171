"""flask-smorest's Api with our error shape, security scheme and spec writing."""

from __future__ import annotations

from typing import Any

import yaml
from apispec import BasePlugin
from flask_smorest import Api
from flask_smorest.spec.plugins import integerconverter2paramschema
from werkzeug.routing import IntegerConverter

from .errors import PROBLEM_JSON, handle_http_exception
from .schemas.common import MAX_ID, ProblemSchema


class ProblemContentPlugin(BasePlugin):
    """Error responses are served as application/problem+json: document them so (flask-smorest
    documents every response with its one default content type)."""

    @staticmethod
    def _relabel(response: dict) -> None:
        content = response.get("content") or {}
        body = content.get("application/json")
        schema = (body or {}).get("schema")
        # Problem documents with more fields (components named ...Problem) are problems too.
        is_problem = (
            (isinstance(schema, type) and issubclass(schema, ProblemSchema))
            or isinstance(schema, ProblemSchema)
            or (isinstance(schema, dict) and schema.get("$ref", "").endswith("Problem"))
        )
        if is_problem:
            content[PROBLEM_JSON] = content.pop("application/json")

    def response_helper(self, response, **kwargs):
        self._relabel(response)
        return response

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            for response in (operation.get("responses") or {}).values():
                if isinstance(response, dict):
                    self._relabel(response)


class DatabaseIdConverter(IntegerConverter):
    """`<int:id>` stops at the databases' largest integer: a larger id matches no row (404)
    instead of overflowing the driver (500)."""

    def __init__(self, map, *args: Any, **kwargs: Any):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class ProblemApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app=None, **kwargs: Any):
        spec_kwargs = kwargs.setdefault("spec_kwargs", {})
        spec_kwargs.setdefault("extra_plugins", []).append(ProblemContentPlugin())
        if app is not None:  # before any blueprint adds its rules
            app.url_map.converters["int"] = DatabaseIdConverter
        super().__init__(app, **kwargs)
        self.register_converter(DatabaseIdConverter, integerconverter2paramschema)
        if app is not None:
            self.spec.components.security_scheme(
                "apiKey",
                {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "pk_… embed keys, sk_… moderator and admin keys",
                },
            )
            self.spec.components.security_scheme(
                "consoleSession",
                {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "cms_session",
                    "description": "a person signed in to the console (POST /v1/session); state-changing "
                    "requests also send the session's CSRF token in X-CSRF-Token",
                },
            )

    def handle_http_exception(self, error):
        return handle_http_exception(error)


def spec_yaml(api: Api) -> str:
    spec = api.spec.to_dict()
    # The header first, then paths and components, as a reader expects.
    ordered = {key: spec[key] for key in ("openapi", "info", "tags", "paths", "components") if key in spec}
    ordered.update({k: v for k, v in spec.items() if k not in ordered})
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=120)
