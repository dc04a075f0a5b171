"""Comment moderation service: the app factory. Importing this package does no I/O."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

API_TITLE = "Comment moderation service"
API_VERSION = "1.0.0"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. `config` overrides settings (tests); everything else comes from the environment."""
    from sqlalchemy import event
    from sqlalchemy import exc as sa_exc

    from . import observability
    from .adaptation.store import adapter_cache
    from .api import cors, register_blueprints
    from .articles import article_cache, thread_state_cache
    from .auth import key_cache
    from .caches import CHANGE_CHECK_SECONDS, SettingsVersion
    from .cli import register_commands
    from .comments import PageCache
    from .config import load_settings
    from .errors import (
        ServiceError,
        handle_database_error,
        handle_recursion_error,
        handle_service_error,
        handle_unexpected,
    )
    from .extensions import ServiceFlask, SessionOnlyWithCookie, db, limiter, migrate
    from .openapi import ProblemApi
    from .scoring.engine import ScoringEngine
    from .sites import site_cache

    settings = load_settings(config)
    # The instance folder is a setting: an installed package's default (under sys.prefix) is
    # not writable by the container's user.
    app = ServiceFlask(__name__, instance_path=settings["INSTANCE_PATH"], instance_relative_config=True)
    app.session_interface = SessionOnlyWithCookie()
    app.config.update(settings)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings["DATABASE_URL"]),
        MAX_CONTENT_LENGTH=settings["MAX_BODY_BYTES"],
        API_TITLE=API_TITLE,
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
    )
    app.config["SECRET_KEY"] = settings["SECRET_KEY"] or _instance_secret(app.instance_path)
    if settings["DATABASE_URL"].startswith("sqlite:///"):
        Path(settings["DATABASE_URL"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

    if settings["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings["PROXY_COUNT"], x_proto=settings["PROXY_COUNT"])
    db.init_app(app)
    app.config.update(_ratelimit_config(settings))
    limiter.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
        elif db.engine.dialect.name == "postgresql":
            event.listen(db.engine, "connect", _stable_parameter_types)

    api = ProblemApi(app)
    register_blueprints(api)
    from .api.web import bp as web_bp

    app.register_blueprint(web_bp)
    app.extensions["api"] = api
    # The embed calls the public API from the sites' pages; origins are checked per key.
    cors.init_app(app)
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(sa_exc.DBAPIError, handle_database_error)
    app.register_error_handler(sa_exc.TimeoutError, handle_database_error)
    app.register_error_handler(RecursionError, handle_recursion_error)
    app.register_error_handler(Exception, handle_unexpected)

    # Per-process caches of what every public request reads (see service/caches.py).
    app.extensions["key_cache"] = key_cache()
    app.extensions["sites"] = site_cache()
    app.extensions["adapted_models"] = adapter_cache()
    app.extensions["articles"] = article_cache(settings["THREAD_CACHE_SECONDS"])
    app.extensions["thread_states"] = thread_state_cache(settings["THREAD_CACHE_SECONDS"])
    app.extensions["thread_pages"] = PageCache()
    # With REDIS_URL, a change of keys, sites or policies made by any process empties these
    # caches in every process within a second.
    settings_version = app.extensions["settings_version"] = SettingsVersion(
        settings["REDIS_URL"],
        lambda: [app.extensions[name] for name in ("key_cache", "sites", "adapted_models")],
        app.config.get("SETTINGS_CHECK_SECONDS", CHANGE_CHECK_SECONDS),
    )
    app.before_request(settings_version.refresh)
    engine = ScoringEngine(settings, scorer=settings.get("SCORER_INSTANCE"))
    app.extensions["scoring"] = engine

    register_commands(app)
    observability.init_app(app)

    from .webhooks import init_app as init_webhooks

    init_webhooks(app)
    from .jobs import init_app as init_jobs

    init_jobs(app)
    from .live import init_app as init_live

    init_live(app)
    return app


def _instance_secret(instance_path: str) -> str:
    """A random secret made on first start and kept, so hashes stay comparable across restarts."""
    import os
    import secrets

    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it first
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def _ratelimit_config(settings: dict[str, Any]) -> dict[str, Any]:
    """Flask-Limiter's storage: Redis when there is one, so a limit of N a minute lets N through
    across every process and machine (an atomic INCR-and-EXPIRE script per fixed window). While
    Redis does not answer, each process counts in memory and asks Redis again now and then."""
    storage = settings["RATELIMIT_STORAGE_URI"] or settings["REDIS_URL"] or "memory://"
    if storage.startswith("memory://"):
        return {"RATELIMIT_STORAGE_URI": storage}
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # A limit check must not hold a request up while Redis is away.
        "RATELIMIT_STORAGE_OPTIONS": {
            "socket_timeout": 0.25,
            "socket_connect_timeout": 0.25,
            "retry": Retry(NoBackoff(), 1),
        },
    }


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    _cache_long_statements()
    # No pre-ping (a round trip on every request): a connection dropped by a database restart
    # fails one request with 503 (errors.handle_database_error), and SQLAlchemy then replaces
    # every pooled connection older than the failure.
    return {"pool_size": 10, "max_overflow": 10, "pool_recycle": 1800}


def _cache_long_statements() -> None:
    """psycopg turns a statement's %(name)s placeholders into $n once and caches the result, but
    not for statements over 4 KB or 50 parameters (an ORM's VALUES lists of varying length would
    flood its cache). Ours are fixed shapes built once; the posting INSERT has about 70
    parameters, and converting it again took ~0.3 ms of every POST. A private setting: if a
    release renames it, nothing breaks but that time."""
    try:
        from psycopg import _queries
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return
    if hasattr(_queries, "MAX_CACHED_STATEMENT_PARAMS"):
        _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 256)
    if hasattr(_queries, "MAX_CACHED_STATEMENT_LENGTH"):
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, 32768)


def _stable_parameter_types(dbapi_connection, _record) -> None:
    """Python ints go to PostgreSQL as bigint, whatever their size. psycopg sends each as the
    smallest of smallint, integer and bigint that holds it, and keys its prepared statements by
    those types: a comment's four SimHash bands (0-65535) alone made 16 variants of the posting
    statements, so most executions missed the cache of 100 and were parsed and planned again.
    The columns compare with a bigint parameter through the same indexes."""
    from psycopg.types.numeric import Int8BinaryDumper, Int8Dumper

    dbapi_connection.adapters.register_dumper(int, Int8Dumper)
    dbapi_connection.adapters.register_dumper(int, Int8BinaryDumper)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
