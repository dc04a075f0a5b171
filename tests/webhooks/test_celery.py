"""A real Celery worker process on the machine's Redis, against PostgreSQL: delivery, and no event
lost when the worker is SIGKILLed mid-delivery (the lease hands it to the next worker)."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from service.db import WebhookDelivery
from service.extensions import db
from tests.celery_workers import kill, worker_starter
from tests.conftest import missing

pytestmark = pytest.mark.slow
REDIS = "redis://127.0.0.1:6379"


@pytest.fixture
def celery_env(db_kind, database_url, tmp_path):
    if db_kind != "postgresql":
        pytest.skip("the Celery tests run on PostgreSQL")
    import redis

    database = random.randint(1, 15)  # a Redis database and a queue of our own: no cross-talk
    try:
        redis.Redis.from_url(f"{REDIS}/{database}").ping()
    except redis.RedisError:
        missing("Redis is not running on 127.0.0.1:6379")
    queue = f"webhooks-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": f"{REDIS}/{database}",
        "WEBHOOK_CELERY_QUEUE": queue,
        "WEBHOOK_ALLOW_PRIVATE": "127.0.0.1",
        "WEBHOOK_LEASE_SECONDS": "3",
        "WEBHOOK_KICK_SECONDS": "0.5",
        "WEBHOOK_TIMEOUT_SECONDS": "20",
    }
    yield env
    redis.Redis.from_url(f"{REDIS}/{database}").delete(queue)


@pytest.fixture
def start_worker(celery_env, tmp_path):
    yield from worker_starter(celery_env, tmp_path)


def test_a_decision_is_delivered_through_a_celery_worker(
    factory, embed_key, receiver, make_endpoint, start_worker
):
    endpoint = make_endpoint(receiver.url, ["comment.approved"])
    start_worker()
    assert factory.post(embed_key).status_code == 201
    (request,) = receiver.wait_for(1, timeout=30)
    event = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert event["type"] == "comment.approved"


def test_a_worker_killed_mid_delivery_loses_nothing(
    app, factory, embed_key, receiver, make_endpoint, start_worker
):
    make_endpoint(receiver.url, ["comment.approved"])
    receiver.hold = threading.Event()  # the receiver keeps the first request open
    first_worker = start_worker()
    factory.post(embed_key)
    assert len(receiver.wait_for(1, timeout=30)) == 1
    kill(first_worker)  # SIGKILL while the request is in flight
    hold, receiver.hold = receiver.hold, None
    hold.set()

    start_worker()
    requests = receiver.wait_for(2, timeout=30)
    assert len(requests) >= 2
    assert len(set(receiver.ids())) == 1  # the same webhook-id: the receiver can de-duplicate

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with app.app_context():
            status = db.session.scalar(sa.select(WebhookDelivery.status))
            db.session.remove()
        if status == "succeeded":
            break
        time.sleep(0.2)
    assert status == "succeeded"
