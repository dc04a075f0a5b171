"""SIGKILL gunicorn (master and workers) in the middle of a load of posts: after a restart and
retries with the same Idempotency-Keys, every acknowledged comment is stored exactly once and whole."""

from __future__ import annotations

import time

import pytest
import requests

from .load import PostingClients, check_stored_once_and_whole

pytestmark = pytest.mark.slow


def test_acknowledged_comments_survive_sigkill_exactly_once(pg_service):
    server, seeded, database_url = pg_service
    clients = PostingClients(lambda: server.url, seeded.headers("embed"), threads=4, per_thread=30)
    clients.start()
    clients.wait_acknowledged(25)

    server.kill()
    killed_at = clients.acknowledged
    time.sleep(1)
    server.start()
    clients.join()
    assert clients.acknowledged > killed_at, "no comment was acknowledged after the restart"
    failures = [p.statuses for p in clients.posts if any(s == "ConnectionError" for s in p.statuses)]
    assert failures, "the kill interrupted no request: the test proved nothing"

    # A client whose answer was lost retries: the same key and body get the same comment back.
    for post in clients.posts[:: len(clients.posts) // 10]:
        response = requests.post(
            f"{server.url}/v1/comments",
            json=post.body,
            headers={**seeded.headers("embed"), "Idempotency-Key": post.key},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        assert response.json()["id"] == post.id
        assert response.headers.get("Idempotent-Replayed") == "true"

    check_stored_once_and_whole(database_url, clients.posts)
