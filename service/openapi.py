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
                {"type": "http", "scheme": "bearer", "description": "pk_… embed keys, sk_… moderator and admin keys"},
            )

    def handle_http_exception(self, error):
        return handle_http_exception(error)


def spec_yaml(api: Api) -> str:
    return yaml.safe_dump(api.spec.to_dict(), sort_keys=False, allow_unicode=True)
