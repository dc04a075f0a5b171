"""Settings: environment variables over embedded defaults, so the service runs with no configuration."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# name -> (default, parser). Every setting the service reads is listed here, and the
# README's configuration table is written from the same list.
_int = int


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _float(value: str) -> float:
    return float(value)


SETTINGS: dict[str, tuple[Any, Any, str]] = {
    "SERVICE_ENV": (
        "development",
        str,
        "development, or production: refuses to start without SECRET_KEY and DATABASE_URL set",
    ),
    "INSTANCE_PATH": (
        str(PROJECT_ROOT / "instance"),
        str,
        "writable folder of the process's own files (secret_key, demo keys) and of the default SQLite file",
    ),
    "DATABASE_URL": (
        f"sqlite:///{PROJECT_ROOT / 'instance' / 'comments.db'}",
        str,
        "SQLAlchemy URL (default: comments.db in INSTANCE_PATH); PostgreSQL in production:"
        " postgresql+psycopg://user@host/db",
    ),
    "SCORER": (
        "embedded",
        str,
        "scoring backend: embedded, minilm, detoxify, or a cascade first+second (embedded+minilm)",
    ),
    "EMBEDDED_MODEL_PATH": (
        str(PROJECT_ROOT / "models" / "embedded"),
        str,
        "folder of the embedded model's files",
    ),
    "SCORING_CASCADE_BAND": (0.1, _float, "cascade: second opinion on scores this near a hold threshold"),
    "TOXICITY_DATA_DIR": (
        str(PROJECT_ROOT.parent / "shared" / "data" / "toxicity"),
        str,
        "labelled comments for `flask scoring train` and `report` (beside the project)",
    ),
    "DETOXIFY_MODEL": ("original", str, "detoxify model type (original, unbiased, multilingual, ...)"),
    "DETOXIFY_CHECKPOINT": ("", str, "local detoxify checkpoint file (offline); operator-provided only"),
    "DETOXIFY_CONFIG_PATH": ("", str, "local Hugging Face config/tokenizer folder for the checkpoint"),
    "MULTILINGUAL_SCORER": (
        "",
        str,
        "backend for comments in languages SCORER does not cover, where a site's policy says"
        " unsupported_language=score: detoxify, or empty for none (such comments are then held)",
    ),
    "MULTILINGUAL_DETOXIFY_MODEL": ("multilingual", str, "the multilingual backend's detoxify model type"),
    "MULTILINGUAL_DETOXIFY_CHECKPOINT": ("", str, "its local detoxify checkpoint file (offline)"),
    "MULTILINGUAL_DETOXIFY_CONFIG_PATH": ("", str, "its local Hugging Face config/tokenizer folder"),
    "SCORING_DEADLINE_MS": (
        250,
        _int,
        "how long a POST waits for a score before storing the comment as pending",
    ),
    "SCORING_MAX_BATCH": (64, _int, "micro-batcher: most comments in one model call"),
    "SCORING_MAX_WAIT_MS": (
        0,
        _int,
        "micro-batcher: longest wait to fill a batch (0: batch what queued during the last call;"
        " 5-10 for the detoxify backend)",
    ),
    "THREAD_CACHE_SECONDS": (
        1.0,
        _float,
        "how long a process keeps an article in memory for posting and the public thread"
        " (its own writes show at once; another process's within this)",
    ),
    "MAX_BODY_BYTES": (65536, _int, "largest request body accepted (413 past it)"),
    "IMPORT_MAX_BYTES": (
        2 << 30,
        _int,
        "largest file the admin API takes for an import job (413 past it; the CLI has no limit)",
    ),
    "IMPORT_FOLDER": (
        "",
        str,
        "where uploaded import files wait for their job (empty: INSTANCE_PATH/imports); the"
        " instance that received a file imports it",
    ),
    "REDIS_URL": (
        "",
        str,
        "Redis shared by every instance (redis://host:6379/0): rate limits count there, and a change of"
        " keys, sites or policies reaches every process within a second; empty: each process on its own",
    ),
    "RATELIMIT_STORAGE_URI": (
        "",
        str,
        "Flask-Limiter storage; empty: REDIS_URL when set, else memory:// (counts per process)",
    ),
    "RATELIMIT_POST": ("30 per minute", str, "posting limit per client address"),
    "RATELIMIT_POST_PER_SITE": ("3000 per minute", str, "posting limit per site key, all readers together"),
    "PROXY_COUNT": (0, _int, "reverse proxies in front (X-Forwarded-For is trusted this many hops)"),
    "METRICS_TOKEN": (
        "",
        str,
        "bearer token Prometheus sends to read /metrics (an admin key for every site works too);"
        " empty: only a direct caller on this machine (loopback, no proxy) may read it without a key",
    ),
    "RATELIMIT_ENABLED": (True, _bool, "turn rate limits off (benchmarks only)"),
    "CELERY_BROKER_URL": (
        "",
        str,
        "Celery broker (redis:// or amqp://); empty: a background thread delivers",
    ),
    "WEBHOOK_ALLOW_PRIVATE": (
        "",
        str,
        "comma-separated hosts or CIDRs webhooks may reach despite the SSRF guard",
    ),
    "WEBHOOK_TIMEOUT_SECONDS": (10.0, _float, "webhook attempt timeout (connect, and again read)"),
    "WEBHOOK_LEASE_SECONDS": (300.0, _float, "a claimed delivery is retried after this if its worker dies"),
    "WEBHOOK_BATCH_SIZE": (50, _int, "webhook deliveries claimed per worker pass"),
    "WEBHOOK_SEND_THREADS": (8, _int, "concurrent webhook requests per worker process"),
    "WEBHOOK_DISABLE_AFTER_DAYS": (3.0, _float, "an endpoint failing this long is disabled"),
    "WEBHOOK_SECRET_GRACE_HOURS": (24.0, _float, "after a rotation the old secret signs too, this long"),
    "WEBHOOK_CELERY_QUEUE": ("webhooks", str, "Celery queue of the delivery tasks"),
    "WEBHOOK_KICK_SECONDS": (1.0, _float, "how often celery beat starts a delivery pass"),
    "WEBHOOK_EMBEDDED_WORKER": (
        "auto",
        str,
        "deliver from a thread of the web process: auto (when no broker is set), true or false",
    ),
    "SECRET_KEY": (
        "",
        str,
        "keys readers' address hashes and render tokens, the same on every instance (production: required,"
        " 32+ characters); empty in development: a random key kept in INSTANCE_PATH/secret_key",
    ),
    "RATELIMIT_REPORT": ("10 per minute", str, "reporting limit per client address"),
    "RATELIMIT_REACTION": ("60 per minute", str, "likes and unlikes per reader's network"),
    "JOBS_EMBEDDED_WORKER": (
        "auto",
        str,
        "run the scheduled jobs from a thread of each web process: auto (when no broker is set), true, false",
    ),
    "JOBS_BATCH_SIZE": (500, _int, "rows a scheduled job handles per transaction"),
    "JOBS_RUN_SECONDS": (20.0, _float, "longest one run of a scheduled job goes on, batch after batch"),
    "SCORE_PENDING_EVERY_SECONDS": (
        30.0,
        _float,
        "how often comments left pending (scorer past its deadline) are scored and decided",
    ),
    "CLEANUP_EVERY_SECONDS": (
        3600.0,
        _float,
        "how often expired idempotency records, old webhook rows and e-mails past retention are removed",
    ),
    "QUEUE_TARGETS_EVERY_SECONDS": (
        60.0,
        _float,
        "how often comments waiting past their site's queue targets are announced (queue.target_missed)",
    ),
    "IDEMPOTENCY_TTL_HOURS": (24.0, _float, "an Idempotency-Key's stored answer is deleted after this"),
    "WEBHOOK_RETENTION_DAYS": (
        30.0,
        _float,
        "delivered (or dead) outbox events, their deliveries and delivery logs are deleted after this",
    ),
    "AUTHOR_EMAIL_RETENTION_DAYS": (
        0.0,
        _float,
        "commenters' e-mails are erased from comments this many days after posting; 0 keeps them",
    ),
    "LIVE_MAX_CONNECTIONS": (
        100,
        _int,
        "live thread streams (Server-Sent Events) one web process keeps open; past it 503 with"
        " Retry-After and the embed polls instead; 0: off. Each open stream holds a gunicorn thread:"
        " `web` adds this many to --threads",
    ),
    "LIVE_MAX_PER_NETWORK": (20, _int, "live streams one network (/24, /64) may keep open per web process"),
    "LIVE_HEARTBEAT_SECONDS": (
        15.0,
        _float,
        "a live stream sends a heartbeat after this long without events",
    ),
    "LIVE_STREAM_SECONDS": (
        300.0,
        _float,
        "a live stream ends after this; the browser reconnects with Last-Event-ID and misses nothing",
    ),
    "LIVE_BACKLOG": (200, _int, "most comments sent on reconnecting (those approved after Last-Event-ID)"),
    "SMTP_HOST": (
        "",
        str,
        "SMTP server for e-mail notifications (reply notices, moderators' digest); empty: none sent",
    ),
    "SMTP_PORT": (587, _int, "SMTP port"),
    "SMTP_TLS": ("starttls", str, "starttls, ssl (implicit TLS, port 465) or none (a local relay only)"),
    "SMTP_USERNAME": ("", str, "SMTP user name; empty: no login"),
    "SMTP_PASSWORD": ("", str, "SMTP password"),
    "SMTP_FROM": ("comments@localhost", str, "From address of notifications"),
    "SMTP_TIMEOUT_SECONDS": (10.0, _float, "SMTP connection and command timeout"),
    "PUBLIC_URL": (
        "",
        str,
        "this service's public address (https://comments.example.org), for links in e-mails;"
        " empty: notifications are not sent",
    ),
    "NOTIFY_EVERY_SECONDS": (30.0, _float, "how often reply notifications are sent"),
    "NOTIFY_MAX_PER_DAY": (
        20,
        _int,
        "most reply notices one reader gets from a site in a day (an address typed in a form may be"
        " someone else's)",
    ),
    "DIGEST_EVERY_SECONDS": (86400.0, _float, "how often moderators get the digest of their queues"),
    "LOG_LEVEL": ("INFO", str, "log level"),
}


def load_settings(overrides: dict[str, Any] | None = None, environ=os.environ) -> dict[str, Any]:
    """Defaults, then environment variables, then explicit overrides (tests). In production,
    refuses (ConfigurationError) settings that must be given rather than defaulted."""
    settings: dict[str, Any] = {}
    for name, (default, parse, _help) in SETTINGS.items():
        raw = environ.get(name)
        settings[name] = parse(raw) if raw not in (None, "") else default
    settings.update(overrides or {})
    explicit = {name for name in SETTINGS if environ.get(name) not in (None, "")} | set(overrides or {})
    settings["INSTANCE_PATH"] = str(Path(settings["INSTANCE_PATH"]).resolve())
    if "DATABASE_URL" not in explicit:  # the SQLite file lives in the instance folder
        settings["DATABASE_URL"] = f"sqlite:///{Path(settings['INSTANCE_PATH']) / 'comments.db'}"
    problems = production_problems(settings, explicit)
    if problems:
        raise ConfigurationError(problems)
    return settings


class ConfigurationError(RuntimeError):
    """Settings production needs are missing or unsafe; the message names each and how to set it."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"the service refuses to start:\n{lines}")


ENVIRONMENTS = ("development", "production")
MIN_SECRET_KEY_LENGTH = 32
_MAKE_KEY = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def production_problems(settings: dict[str, Any], explicit: set[str]) -> list[str]:
    """What stops the service from running in production. Development keeps its embedded
    defaults: a SQLite file and a key made on first start, both in INSTANCE_PATH. Several
    instances need one key (readers' address hashes and render tokens must match across
    machines) and one database, so production takes neither from a machine's own files."""
    env = str(settings.get("SERVICE_ENV", "development")).strip().lower()
    if env not in ENVIRONMENTS:
        return [f"SERVICE_ENV is {settings.get('SERVICE_ENV')!r}: set it to development or production"]
    if env != "production":
        return []
    problems = []
    key = str(settings.get("SECRET_KEY") or "")
    if not key:
        problems.append(
            "SECRET_KEY is not set. Every web, worker and beat process needs the same random key:"
            f" make one with `{_MAKE_KEY}` and set SECRET_KEY=<that key> in their environment"
        )
    elif len(key) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            f"SECRET_KEY is too short ({len(key)} characters; at least {MIN_SECRET_KEY_LENGTH}):"
            f" make one with `{_MAKE_KEY}`"
        )
    if "DATABASE_URL" not in explicit:
        problems.append(
            "DATABASE_URL is not set. Production does not fall back to a SQLite file of its own:"
            " set DATABASE_URL=postgresql+psycopg://user:password@host:5432/dbname (one database"
            " shared by every instance)"
        )
    return problems


def settings_table() -> str:
    """The configuration table of the README, as Markdown."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, (default, _parse, help_text) in SETTINGS.items():
        shown = str(default).replace(str(PROJECT_ROOT), ".").replace(str(PROJECT_ROOT.parent), "..")
        rows.append(f"| `{name}` | `{shown}` | {help_text} |")
    return "\n".join(rows)
