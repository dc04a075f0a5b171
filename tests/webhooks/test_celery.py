"""A real Celery worker process on the machine's Redis, against PostgreSQL: delivery, and no event
lost when the worker is SIGKILLed mid-delivery (the lease hands it to the next worker)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from service.config import PROJECT_ROOT
from service.db import WebhookDelivery
from service.extensions import db
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
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")  # noqa: SIM115 - kept for the process
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "service.webhooks.tasks",
                "worker",
                "--beat",
                "--concurrency",
                "1",
                "-Q",
                celery_env["WEBHOOK_CELERY_QUEUE"],
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=PROJECT_ROOT,
            env=celery_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the pool children die with it
        )
        started.append(process)
        return process

    yield start
    for process in started:
        kill(process)


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


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
