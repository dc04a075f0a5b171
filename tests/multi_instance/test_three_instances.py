"""Three instances (gunicorn each) behind HAProxy, sharing PostgreSQL and Redis: one truth.

A limit of N a minute lets N through in total; a policy change applies on every instance within a
second; retries with one Idempotency-Key that land on different instances store one comment; and
SIGKILL of one instance under load loses no acknowledged comment and duplicates no webhook.
The tests share one cluster and run in order in one test process (the last one kills an instance).
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest
import redis
import sqlalchemy as sa

from tests.conftest import PG_URL, missing
from tests.reliability.conftest import comment_body, migrate, seed, unique_name

from .cluster import REDIS_URL, Cluster, WebhookReceiver, call, client_address

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("three_instances")]

POST_LIMIT = 10  # comments a minute per client address


@dataclass
class Running:
    cluster: Cluster
    headers: dict[str, dict[str, str]]  # role -> headers
    receiver: WebhookReceiver
    database_url: str

    @property
    def balancer(self) -> str:
        return self.cluster.balancer.url

    def instance_urls(self) -> dict[str, str]:
        return {name: server.url for name, server in self.cluster.instances.items()}

    def query(self, sql: str, **params) -> list:
        engine = sa.create_engine(self.database_url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(sql), params).all()
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    if not (shutil.which("haproxy") or shutil.which("/usr/sbin/haproxy")):
        missing("haproxy is not installed (scripts/test installs it: apt-get install haproxy)")
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:
        missing(f"Redis is not reachable at {REDIS_URL}: {error}")
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    name = unique_name("multi")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    receiver = WebhookReceiver().start()
    cluster = Cluster(url, tmp_path_factory.mktemp("three-instances"), POST_LIMIT)
    try:
        migrate(url)
        seeded = seed(url)
        cluster.start()
        headers = {role: seeded.headers(role) for role in ("embed", "moderator", "admin")}
        endpoint = call(
            cluster.balancer.url,
            "POST",
            "/v1/admin/sites/daily/webhooks",
            {"url": receiver.url},
            headers["admin"],
        )
        assert endpoint.status == 201, endpoint.body
        yield Running(cluster, headers, receiver, url)
    finally:
        cluster.stop()
        receiver.stop()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def post(base: str, running: Running, text: str, source: str | None = None, key: str | None = None):
    headers = dict(running.headers["embed"])
    if key:
        headers["Idempotency-Key"] = key
    return call(base, "POST", "/v1/comments", comment_body(text), headers, source=source)


def test_a_limit_of_n_a_minute_lets_n_through_in_total_across_instances(running):
    source = client_address()
    answers = [
        post(running.balancer, running, f"Rate limit check {i}: a thoughtful remark.", source)
        for i in range(3 * POST_LIMIT)
    ]

    statuses = Counter(a.status for a in answers)
    assert statuses == {201: POST_LIMIT, 429: 2 * POST_LIMIT}, statuses
    # Round robin spread the posts over every instance, and each of them would have let
    # POST_LIMIT through on its own count.
    assert {a.instance for a in answers} == set(running.cluster.instances)
    assert {a.instance for a in answers if a.status == 201} == set(running.cluster.instances)
    assert all(a.headers.get("retry-after") for a in answers if a.status == 429)
    print(f"\nrate limit {POST_LIMIT}/min over 3 instances: {dict(statuses)}")


@dataclass
class Poll:
    instance: str
    sent_after: float  # seconds after the change was acknowledged
    min_seconds: float | None


def min_seconds(base: str, running: Running) -> float | None:
    """What an instance tells the embed to wait before posting: read from its cached policy."""
    answer = call(base, "POST", "/v1/render-tokens", {"article_id": "a1"}, running.headers["embed"])
    return answer.body.get("min_seconds") if answer.status == 201 else None


def test_b_policy_change_applies_on_every_instance_within_a_second(running):
    instances = running.instance_urls()
    # Each instance has the current policy in its cache.
    assert {name: min_seconds(url, running) for name, url in instances.items()} == dict.fromkeys(
        instances, 2.0
    )

    change = call(
        running.balancer,
        "PATCH",
        "/v1/admin/sites/daily",
        {"policy": {"bot_min_seconds": 4.5, "banned_words": ["zorblax"]}},
        running.headers["admin"],
    )
    acknowledged = time.monotonic()
    assert change.status == 200, change.body
    changed_by = change.instance

    polls: list[Poll] = []

    def poll(name: str, url: str) -> None:
        # Until a poll went out a second or more after the change (however slow the machine).
        while True:
            sent = time.monotonic() - acknowledged
            polls.append(Poll(name, sent, min_seconds(url, running)))
            if sent >= 1.0:
                return

    pollers = [threading.Thread(target=poll, args=item) for item in instances.items()]
    for thread in pollers:
        thread.start()
    for thread in pollers:
        thread.join()

    first_seen = {}
    for name in instances:
        mine = [p for p in polls if p.instance == name]
        late = [p for p in mine if p.sent_after >= 1.0]
        assert all(p.min_seconds == 4.5 for p in late), f"{name} still had the old policy: {late}"
        first_seen[name] = min((p.sent_after for p in mine if p.min_seconds == 4.5), default=None)
    print(f"\npolicy changed through {changed_by}; first seen after (s): {first_seen}")

    # The new banned word rejects a comment on every instance.
    for name, url in instances.items():
        answer = post(url, running, f"What a zorblax this is ({name}).")
        assert answer.status == 201, answer.body
        assert answer.body["status"] == "rejected", (name, answer.body)


def test_c_retries_with_one_idempotency_key_on_different_instances_store_one_comment(running):
    key = f"idem-{uuid.uuid4().hex}"
    text = f"Idempotent comment {key}: posted once, retried everywhere."
    urls = list(running.instance_urls().values())
    source = client_address()
    answers = []
    # Three at once, one per instance, then one more retry on each.
    start = threading.Barrier(len(urls))

    def send(url: str) -> None:
        start.wait()
        answers.append(post(url, running, text, source, key))

    racing = [threading.Thread(target=send, args=(url,)) for url in urls]
    for thread in racing:
        thread.start()
    for thread in racing:
        thread.join()
    answers.extend(post(url, running, text, source, key) for url in urls)

    assert [a.status for a in answers] == [201] * 6, [(a.status, a.body) for a in answers]
    assert len({a.body["id"] for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") != "true" for a in answers) == 1
    stored = running.query("SELECT id FROM comments WHERE text = :text", text=text)
    assert [row.id for row in stored] == [answers[0].body["id"]]
    # The answers are kept in the shared database, not in an instance's memory.
    records = running.query("SELECT key FROM idempotency_records WHERE key = :key", key=key)
    assert len(records) == 1


@dataclass
class Poster:
    """Posts comments through the balancer, each retried with its Idempotency-Key until a 2xx."""

    running: Running
    texts: list[str]
    acknowledged: dict[str, int] = field(default_factory=dict)  # key -> comment id
    failures: Counter = field(default_factory=Counter)
    served_by: Counter = field(default_factory=Counter)

    def run(self, deadline: float) -> None:
        for text in self.texts:
            key, source = f"kill-{uuid.uuid4().hex}", client_address()
            while key not in self.acknowledged and time.monotonic() < deadline:
                answer = post(self.running.balancer, self.running, text, source, key)
                if answer.status in (200, 201):
                    self.acknowledged[key] = answer.body["id"]
                    self.served_by[answer.instance] += 1
                else:
                    self.failures[answer.status] += 1
                    time.sleep(0.1)


def test_d_sigkill_of_one_instance_loses_no_acknowledged_comment_and_duplicates_no_webhook(running):
    tag = uuid.uuid4().hex[:6]
    posters = [
        Poster(running, [f"Load {tag}-{t}-{i}: thanks for this careful reporting." for i in range(25)])
        for t in range(4)
    ]
    deadline = time.monotonic() + 90
    threads = [threading.Thread(target=p.run, args=(deadline,)) for p in posters]
    for thread in threads:
        thread.start()
    while sum(len(p.acknowledged) for p in posters) < 20:
        assert time.monotonic() < deadline, "the load never got going"
        time.sleep(0.02)
    victim = running.cluster.instances["i2"]
    victim.kill()
    acknowledged_at_kill = sum(len(p.acknowledged) for p in posters)
    for thread in threads:
        thread.join()

    acknowledged = {key: id_ for p in posters for key, id_ in p.acknowledged.items()}
    served_by = sum((p.served_by for p in posters), Counter())
    failures = sum((p.failures for p in posters), Counter())
    print(
        f"\nkilled i2 after {acknowledged_at_kill} acknowledged; served by {dict(served_by)}; "
        f"failed attempts {dict(failures)}"
    )
    assert len(acknowledged) == 100, f"only {len(acknowledged)} of 100 comments acknowledged"
    # Only the balancer's answers for requests the kill cut off (502, 503), never the service's 500.
    assert not [status for status in failures if status == 500 or status == 429], failures
    assert served_by["i2"] > 0, "the killed instance had served nothing: the test proved nothing"
    assert len(acknowledged) > acknowledged_at_kill

    # Every acknowledged comment is stored, once, under the id its client was given.
    rows = running.query("SELECT id, text FROM comments WHERE text LIKE :tag", tag=f"Load {tag}-%")
    stored = Counter(row.text for row in rows)
    assert all(count == 1 for count in stored.values()), [t for t, c in stored.items() if c > 1]
    by_id = {row.id: row.text for row in rows}
    for key, comment_id in acknowledged.items():
        assert comment_id in by_id, f"acknowledged comment {comment_id} ({key}) is not in the database"
    assert len(rows) == 100

    # Every event is delivered to the receiver exactly once (by its webhook-id).
    end = time.monotonic() + 60
    while True:
        undelivered = running.query(
            "SELECT count(*) AS n FROM outbox_events o LEFT JOIN webhook_deliveries d"
            " ON d.outbox_event_id = o.id WHERE d.status IS DISTINCT FROM 'succeeded'"
        )[0].n
        if not undelivered:
            break
        assert time.monotonic() < end, f"{undelivered} events not delivered; see the celery log"
        time.sleep(0.25)
    time.sleep(1.5)  # a few more kicks of the worker: a duplicate would arrive now
    events = {row.event_id for row in running.query("SELECT event_id FROM outbox_events")}
    received = running.receiver.counts()
    assert set(received) == events
    duplicates = {event: count for event, count in received.items() if count > 1}
    assert not duplicates, f"webhooks delivered more than once: {duplicates}"
    print(f"webhooks: {len(events)} events, each delivered once")
