"""A private PostgreSQL stopped and started under load (the shared server is never touched): the
service answers 503 problem+json with Retry-After while it is down, never 500 or a hang, recovers
by itself when it is back, and loses nothing it acknowledged."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import missing

from .conftest import comment_body, free_port, migrate, seed
from .load import PostingClients, check_stored_once_and_whole

pytestmark = pytest.mark.slow

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)


class PrivatePostgres:
    def __init__(self):
        self.user = pwd.getpwnam("postgres")
        self.folder = Path(tempfile.mkdtemp(prefix="rel_pg_"))
        os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres(PG_BIN / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")

    def _as_postgres(self, *command) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, command)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            PG_BIN / "pg_ctl", "-D", self.data, "-o", options, "-l", self.folder / "log", "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def private_postgres():
    if PG_BIN is None or shutil.which("runuser") is None:
        missing("needs PostgreSQL's binaries and runuser")
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["status"] == 503


def test_database_outage_answers_503_and_recovers(private_postgres, live_server):
    migrate(private_postgres.url)
    seeded = seed(private_postgres.url)
    server = live_server(private_postgres.url)
    clients = PostingClients(lambda: server.url, seeded.headers("embed"), threads=2, per_thread=40)
    clients.start()
    clients.wait_acknowledged(10)

    private_postgres.stop("fast")
    session = requests.Session()
    admin = seeded.headers("admin")
    probes = [
        lambda: session.post(
            f"{server.url}/v1/comments",
            json=comment_body("Posted while it is down."),
            headers=seeded.headers("embed"),
            timeout=10,
        ),
        lambda: session.get(
            f"{server.url}/v1/articles/art-0/comments", headers=seeded.headers("embed"), timeout=10
        ),
        lambda: session.get(f"{server.url}/v1/moderation/comments?queue=held", headers=admin, timeout=10),
    ]
    for _round in range(3):  # every worker, every path
        for probe in probes:
            started = time.monotonic()
            assert_unavailable(probe())
            assert time.monotonic() - started < 5, "the service hung on a dead database"
    ready = session.get(f"{server.url}/readyz", timeout=10)
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("error")
    during_outage = clients.acknowledged

    private_postgres.start()
    end = time.monotonic() + 30
    while session.get(f"{server.url}/readyz", timeout=10).status_code != 200:
        assert time.monotonic() < end, "the service did not recover when the database came back"
        time.sleep(0.2)
    clients.join()
    assert clients.acknowledged > during_outage

    statuses = {s for post in clients.posts for s in post.statuses}
    assert statuses <= {201, 503}, f"clients saw {statuses}"
    assert 503 in statuses, "no client request met the outage: the test proved nothing"
    check_stored_once_and_whole(private_postgres.url, clients.posts)
