"""Two moderators deciding the same comments at the same moment: exactly one wins each time."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from service.db import ModerationEvent
from service.extensions import db


def test_concurrent_decisions_have_exactly_one_winner(app, factory, embed_key, insult_text):
    moderators = [factory.headers(factory.key("moderator"), origin=None) for _ in range(2)]
    ids = [factory.post(embed_key, text=f"{insult_text} {i}").get_json()["id"] for i in range(15)]
    outcomes: dict[int, list[int]] = {i: [] for i in ids}
    lock = threading.Lock()

    def moderate(headers, status, extra):
        client = app.test_client()
        for comment_id in ids:
            barrier.wait()  # both requests for this comment start together
            response = client.post(
                f"/v1/moderation/comments/{comment_id}/decision",
                json={"status": status, **extra},
                headers={**headers, "If-Match": '"1"'},
            )
            with lock:
                outcomes[comment_id].append(response.status_code)

    barrier = threading.Barrier(2)
    threads = [
        threading.Thread(target=moderate, args=(moderators[0], "approved", {})),
        threading.Thread(target=moderate, args=(moderators[1], "rejected", {"reason": "abuse"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    for comment_id, codes in outcomes.items():
        assert sorted(codes) == [200, 409], (comment_id, codes)
    with app.app_context():
        decided = db.session.execute(
            sa.select(ModerationEvent.comment_id, sa.func.count())
            .where(ModerationEvent.actor != "system")
            .group_by(ModerationEvent.comment_id)
        ).all()
    assert dict(decided) == {i: 1 for i in ids}
