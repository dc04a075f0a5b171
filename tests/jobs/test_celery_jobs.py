"""The scheduled jobs through real Celery processes on the machine's Redis, against PostgreSQL: two
workers each with its own beat (as when several machines run `worker --beat`) score pending
comments once each and expire old idempotency records."""

from __future__ import annotations

import os
import random
import time
import uuid

import pytest
import sqlalchemy as sa

from service.db import Comment, IdempotencyRecord, ModerationEvent, ScheduledJob
from service.extensions import db
from tests.celery_workers import worker_starter
from tests.conftest import missing
from tests.fakes import SlowScorer

pytestmark = pytest.mark.slow
REDIS = "redis://127.0.0.1:6379"


@pytest.fixture
def app_config():
    # Posting here misses the scoring deadline, so the comments wait as pending for the workers.
    return {"SCORER_INSTANCE": SlowScorer(delay=0.5), "SCORING_DEADLINE_MS": 50}


@pytest.fixture
def worker_env(db_kind, database_url):
    if db_kind != "postgresql":
        pytest.skip("the Celery tests run on PostgreSQL")
    import redis

    database = random.randint(1, 15)
    try:
        redis.Redis.from_url(f"{REDIS}/{database}").ping()
    except redis.RedisError:
        missing("Redis is not running on 127.0.0.1:6379")
    queue = f"jobs-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "CELERY_BROKER_URL": f"{REDIS}/{database}",
        "WEBHOOK_CELERY_QUEUE": queue,
        "SCORE_PENDING_EVERY_SECONDS": "0.5",
        "CLEANUP_EVERY_SECONDS": "0.5",
        "IDEMPOTENCY_TTL_HOURS": "0.001",  # 3.6 s
    }
    yield env
    redis.Redis.from_url(f"{REDIS}/{database}").delete(queue)


@pytest.fixture
def start_worker(worker_env, tmp_path):
    yield from worker_starter(worker_env, tmp_path)


def wait_until(app, check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            found = check()
            db.session.remove()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def test_celery_beat_runs_the_jobs_once_across_workers(app, factory, embed_key, insult_text, start_worker):
    friendly = factory.post(embed_key, headers={"Idempotency-Key": "k1"}).get_json()
    insult = factory.post(embed_key, text=insult_text).get_json()
    assert friendly["status"] == insult["status"] == "pending"

    start_worker()
    start_worker()

    def decided():
        found = dict(db.session.execute(sa.select(Comment.id, Comment.status)).all())
        return found if "pending" not in found.values() else None

    assert wait_until(app, decided) == {friendly["id"]: "approved", insult["id"]: "held"}
    assert wait_until(app, lambda: db.session.scalar(sa.select(sa.func.count(IdempotencyRecord.id))) == 0)

    with app.app_context():
        late = db.session.scalars(
            sa.select(ModerationEvent.comment_id).where(ModerationEvent.from_status == "pending")
        ).all()
        assert sorted(late) == sorted([friendly["id"], insult["id"]])  # each decided once
        jobs = {row.name: row for row in db.session.scalars(sa.select(ScheduledJob))}
        assert jobs["score-pending"].total_processed == 2
        assert jobs["expire-idempotency"].total_processed == 1
