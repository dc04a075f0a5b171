"""Two copies of a wave posted at once on two processes both find the same published copy: one
holds it, the other leaves it alone (before: the second one's update matched no row and its
poster got a 500, seen with three instances behind a load balancer)."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from service.db import Comment, ModerationEvent
from service.extensions import db
from service.spam.checks import hold_published_copies


def wave_reason(copy_id: int) -> list[dict]:
    return [{"code": "duplicate", "copies": [copy_id], "count": 1, "scope": "site"}]


def waiting_on_a_lock(app) -> bool:
    with app.app_context():
        waiting = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        db.session.remove()
    return bool(waiting)


def test_two_posts_holding_the_same_published_copy_at_once_both_succeed(app, factory, embed_key, db_kind):
    if db_kind != "postgresql":
        pytest.skip("SQLite serialises writers: the two cannot overlap")
    copy_id = factory.post(embed_key, "A perfectly ordinary first comment.").get_json()["id"]
    first_holding, first_may_commit = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    second_done = threading.Event()

    def first() -> None:
        with app.app_context():
            try:
                hold_published_copies(wave_reason(copy_id), copy_id + 1)
                db.session.flush()
                first_holding.set()
                first_may_commit.wait(30)
                db.session.commit()
            except BaseException as error:  # reported by the test below
                errors.append(error)
                first_holding.set()
            finally:
                db.session.remove()

    def second() -> None:
        with app.app_context():
            try:
                hold_published_copies(wave_reason(copy_id), copy_id + 2)
                db.session.commit()
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()
                second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert first_holding.wait(30)
    threads[1].start()
    # The second either finishes (it skipped the copy the first holds) or waits for the first's
    # locks; either way the first may now commit.
    end = time.monotonic() + 30
    while not second_done.is_set() and not waiting_on_a_lock(app):
        assert time.monotonic() < end, "the second post neither finished nor waited"
        time.sleep(0.02)
    first_may_commit.set()
    for thread in threads:
        thread.join(30)

    assert errors == []
    with app.app_context():
        assert db.session.get(Comment, copy_id).status == "held"
        held = db.session.scalars(
            sa.select(ModerationEvent).where(
                ModerationEvent.comment_id == copy_id, ModerationEvent.to_status == "held"
            )
        ).all()
        assert len(held) == 1
