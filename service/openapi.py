"""flask-smorest's Api with our error shape, security scheme and spec writing."""

from __future__ import annotations

from typing import Any

import yaml
from flask_smorest import Api

from .errors import handle_http_exception
from .schemas.common import ProblemSchema


class ProblemApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app=None, **kwargs: Any):
        super().__init__(app, **kwargs)
        if app is not None:
            self.spec.components.security_scheme(
                "apiKey",
                {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "pk_… embed keys, sk_… moderator and admin keys",
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
