"""Two moderators decide the same comments at the same moment, over real HTTP: one wins, the
other gets 409 version-conflict, and exactly one decision is recorded per comment."""

from __future__ import annotations

import threading

import pytest
import requests
import sqlalchemy as sa

from .conftest import comment_body

pytestmark = pytest.mark.slow

COMMENTS = 30


def test_one_decision_per_comment_when_two_moderators_race(pg_service):
    server, seeded, database_url = pg_service
    ids = []
    for i in range(COMMENTS):
        response = requests.post(
            f"{server.url}/v1/comments",
            json=comment_body(f"Race comment {i}: a fair point about the council budget."),
            headers=seeded.headers("embed"),
            timeout=10,
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])

    barrier = threading.Barrier(2, timeout=30)
    answers: dict[str, list] = {"moderator": [], "admin": []}
    versions = {}
    for comment_id in ids:
        seen = requests.get(
            f"{server.url}/v1/moderation/comments/{comment_id}", headers=seeded.headers("admin"), timeout=10
        )
        versions[comment_id] = seen.json()["version"]

    def moderate(role: str, status: str) -> None:
        session = requests.Session()
        for comment_id in ids:
            barrier.wait()
            response = session.post(
                f"{server.url}/v1/moderation/comments/{comment_id}/decision",
                json={"status": status},
                headers=seeded.headers(role, **{"If-Match": f'"{versions[comment_id]}"'}),
                timeout=15,
            )
            answers[role].append((comment_id, response.status_code, response.json()))

    threads = [
        threading.Thread(target=moderate, args=("moderator", "approved")),
        threading.Thread(target=moderate, args=("admin", "held")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    for (comment_id, first, body_a), (_, second, body_b) in zip(
        answers["moderator"], answers["admin"], strict=True
    ):
        assert sorted([first, second]) == [200, 409], (comment_id, first, body_a, second, body_b)
        loser = body_a if first == 409 else body_b
        assert loser["code"] == "version-conflict", loser

    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        decided = dict(
            conn.execute(
                sa.text(
                    "SELECT comment_id, count(*) FROM moderation_events "
                    "WHERE actor <> 'system' GROUP BY comment_id"
                )
            ).all()
        )
    engine.dispose()
    assert decided == {comment_id: 1 for comment_id in ids}
