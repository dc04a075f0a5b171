"""Extensions created unbound at import and bound to an app in create_app."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import FunctionType
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so migrations can drop and alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
# Limits are declared per route; storage comes from RATELIMIT_STORAGE_URI (memory:// by default,
# which counts per process: use Redis when limits must hold across workers).
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


class SessionOnlyWithCookie(SecureCookieSessionInterface):
    """Flask's signed-cookie session, whose signer (built for every request: ~10% of a cached
    thread GET) is made only when a request brings a session cookie. The API keeps no session;
    a request without the cookie gets the empty session Flask would have given it."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        # No Cookie header at all (the embed's and API clients' requests): not even parsed.
        if "HTTP_COOKIE" not in request.environ or not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


class ServiceFlask(Flask):
    """Flask, remembering which view and hook functions are coroutines: it asks inspect again for
    every hook of every request (~16 times a request here)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._coroutines: dict[FunctionType, bool] = {}

    def ensure_sync(self, func: Callable) -> Callable:
        plain = getattr(func, "__func__", func)  # a bound method: a new object on every request
        if type(plain) is not FunctionType:  # partials and other callables: asked each time
            return super().ensure_sync(func)
        coroutine = self._coroutines.get(plain)
        if coroutine is None:
            coroutine = self._coroutines[plain] = inspect.iscoroutinefunction(func)
        return self.async_to_sync(func) if coroutine else func
