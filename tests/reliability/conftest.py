"""Fixtures of the reliability suite: a live gunicorn on a real database, started and stopped
like production, so that the tests can kill it, starve it of its database and race it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from service.config import PROJECT_ROOT
from tests.conftest import ORIGIN, PG_URL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unique_name(prefix: str) -> str:
    """A database name no other run (parallel test processes, other engineers) uses."""
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


# --- databases ---------------------------------------------------------------------------


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    from service import create_app
    from service.extensions import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "reliability"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()


@dataclass
class Seeded:
    """A site with one key of each role."""

    site: str
    embed: str
    moderator: str
    admin: str
    origin: str = ORIGIN

    def headers(self, role: str, **extra: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {getattr(self, role)}", **extra}
        if role == "embed":
            headers["Origin"] = self.origin
        return headers


# These tests post in bulk from one address as a script, without the embed's render token: the
# bot and velocity rules (tested in tests/api/test_spam.py) would hold every comment.
SCRIPTED_CLIENT = {"bot_checks": False, "velocity_per_minute": 100_000, "velocity_per_hour": 1_000_000}


def seed(url: str, slug: str = "daily") -> Seeded:
    from service import create_app
    from service.extensions import db
    from service.sites import create_site, issue_key

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "reliability"})
    with app.app_context():
        create_site(
            {"slug": slug, "name": slug.title(), "allowed_origins": [ORIGIN], "policy": SCRIPTED_CLIENT}
        )
        keys = {role: issue_key(None, role, slug)[1] for role in ("embed", "moderator")}
        keys["admin"] = issue_key(None, "admin", None)[1]  # an admin of every site
        db.engine.dispose()
    return Seeded(site=slug, **keys)


@pytest.fixture
def pg_database() -> Iterator[callable]:
    """Make fresh databases on the shared PostgreSQL server; dropped at the end of the test."""
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    made: list[str] = []

    def make(prefix: str = "rel") -> str:
        name = unique_name(prefix)
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
        migrate(url)
        return url

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# --- the live server -----------------------------------------------------------------------


@dataclass
class LiveServer:
    """gunicorn in its own process group, so that a kill reaches the master and every worker."""

    database_url: str
    workers: int = 2
    threads: int = 4
    extra_env: dict[str, str] = field(default_factory=dict)
    extra_args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: float = 90) -> LiveServer:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "RATELIMIT_ENABLED": "false",
            # A loaded CI machine must not push comments past the deadline into "pending".
            "SCORING_DEADLINE_MS": "10000",
            "SECRET_KEY": "reliability",
            "LOG_LEVEL": "WARNING",
            "WEBHOOK_EMBEDDED_WORKER": "false",
            "CELERY_BROKER_URL": "",
            # Live streams end within a second: a client reading a whole answer gets one.
            "LIVE_STREAM_SECONDS": "1",
            **self.extra_env,
        }
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(self.workers),
                "--threads",
                str(self.threads),
                "-b",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "5",
                "--timeout",
                "60",
                "--log-level",
                "warning",
                *self.extra_args,
                "service.wsgi:app",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        if log is not subprocess.DEVNULL:
            log.close()
        self.wait_ready(wait)
        return self

    def wait_ready(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the service was not ready within {timeout}s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL the master and its workers at once, as a crashed machine would."""
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if not self.process:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        # Leftovers (a worker that outlived its master) go with the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def live_server(tmp_path) -> Iterator[callable]:
    """Start gunicorn on a database: `live_server(url, workers=2)`; all stopped at the end."""
    servers: list[LiveServer] = []

    def start(database_url: str, **options) -> LiveServer:
        server = LiveServer(database_url, log_path=tmp_path / f"gunicorn-{len(servers)}.log", **options)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_service(tmp_path_factory) -> Iterator[tuple[LiveServer, Seeded]]:
    """One live service on a SQLite file for the read-mostly tests (schemathesis, hostile text)."""
    folder = tmp_path_factory.mktemp("live-sqlite")
    url = f"sqlite:///{folder / 'live.db'}"
    migrate(url)
    seeded = seed(url)
    # gunicorn refuses request lines over 4 KiB itself, in HTML, before the app sees them: a
    # front-server setting, not the API's contract, so lifted here to test the app's answers.
    server = LiveServer(url, log_path=folder / "gunicorn.log", extra_args=["--limit-request-line", "0"])
    server.start()
    yield server, seeded
    server.stop()


@pytest.fixture
def pg_service(pg_database, live_server) -> tuple[LiveServer, Seeded, str]:
    """A live gunicorn (2 workers) on a fresh PostgreSQL database, seeded."""
    url = pg_database()
    seeded = seed(url)
    return live_server(url), seeded, url


def comment_body(text: str, article: str = "a1", name: str = "Ada") -> dict:
    return {
        "article": {"id": article, "url": f"{ORIGIN}/news/{article}", "title": f"Article {article}"},
        "author": {"name": name, "email": "ada@example.org"},
        "text": text,
    }
