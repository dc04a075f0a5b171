"""Several processes, one truth: a change of keys or policies made through one process applies in
another at once with REDIS_URL (service/caches.SettingsVersion), also after Redis dropped the
connection; without a reachable Redis the service keeps working on its per-process caches."""

from __future__ import annotations

import os
import socket

import pytest
import redis

from service import create_app
from service.extensions import db, limiter
from tests.conftest import ORIGIN, missing

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Every request asks Redis (production: every 0.25 s), so "at once" is the next request.
SHARED = {"REDIS_URL": REDIS_URL, "SETTINGS_CHECK_SECONDS": 0, "RATELIMIT_STORAGE_URI": "memory://"}


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        missing(f"Redis is not reachable at {REDIS_URL}: {error}")
    yield client
    client.close()


@pytest.fixture
def app_config(redis_client):
    return dict(SHARED)


@pytest.fixture
def other_process(app, embedded_scorer, tmp_path):
    """A second app on the same database: what another gunicorn worker or machine is."""
    made = []

    def make(**overrides):
        config = {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SCORER_INSTANCE": embedded_scorer,
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "RATELIMIT_ENABLED": False,
            **overrides,
        }
        other = create_app(config)
        other.instance_path = str(tmp_path / f"instance-{len(made)}")
        made.append(other)
        return other

    yield make
    for other in made:
        other.extensions["scoring"].close()
        with other.app_context():
            db.engine.dispose()


def min_seconds(client, key) -> float:
    """What the embed is told to wait before posting: read from the process's cached policy."""
    response = client.post(
        "/v1/render-tokens",
        json={"article_id": "a1"},
        headers={"Authorization": f"Bearer {key}", "Origin": ORIGIN},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["min_seconds"]


def set_min_seconds(client, admin, value: float) -> None:
    response = client.patch(
        "/v1/admin/sites/daily",
        json={"policy": {"bot_min_seconds": value}},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def keys(factory):
    factory.site(policy={"bot_min_seconds": 2.0})
    return {"embed": factory.key("embed"), "admin": factory.key("admin", site=None)}


def test_policy_change_through_one_process_applies_in_another_at_once(client, other_process, keys):
    other = other_process(**SHARED).test_client()
    assert min_seconds(other, keys["embed"]) == 2.0  # now cached there

    set_min_seconds(client, keys["admin"], 7.0)

    assert min_seconds(other, keys["embed"]) == 7.0
    assert min_seconds(client, keys["embed"]) == 7.0


def test_without_redis_another_process_keeps_its_copy_until_it_expires(client, other_process, keys):
    """What REDIS_URL changes: without it each process trusts its copy for SETTINGS_CACHE_SECONDS."""
    other = other_process(RATELIMIT_STORAGE_URI="memory://").test_client()
    assert min_seconds(other, keys["embed"]) == 2.0

    set_min_seconds(client, keys["admin"], 7.0)

    assert min_seconds(other, keys["embed"]) == 2.0
    assert min_seconds(client, keys["embed"]) == 7.0  # the process that made the change knows


def test_key_revoked_through_one_process_is_refused_by_another_at_once(client, other_process, factory, keys):
    other = other_process(**SHARED).test_client()
    assert min_seconds(other, keys["embed"]) == 2.0
    listed = client.get("/v1/admin/keys", headers={"Authorization": f"Bearer {keys['admin']}"}).get_json()
    embed_id = next(k["id"] for k in listed if k["role"] == "embed")

    revoked = client.delete(
        f"/v1/admin/keys/{embed_id}", headers={"Authorization": f"Bearer {keys['admin']}"}
    )
    assert revoked.status_code == 200

    response = other.post(
        "/v1/render-tokens",
        json={"article_id": "a1"},
        headers={"Authorization": f"Bearer {keys['embed']}", "Origin": ORIGIN},
    )
    assert response.status_code == 401
    assert response.get_json()["detail"] == "the key is unknown or revoked"


def test_change_is_heard_after_redis_dropped_the_connection(client, other_process, keys, redis_client):
    other_app = other_process(**SHARED)
    other = other_app.test_client()
    assert min_seconds(other, keys["embed"]) == 2.0
    # Redis closes the other process's connection (a restart or a network cut looks the same).
    connection_id = other_app.extensions["settings_version"]._redis().client_id()
    assert redis_client.client_kill_filter(_id=connection_id) == 1

    set_min_seconds(client, keys["admin"], 7.0)

    assert min_seconds(other, keys["embed"]) == 7.0


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def restore_limiter(tmp_path):
    """The limiter is one object for every app of the test process: put back in-memory storage."""
    enabled = limiter.enabled
    yield
    create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'restore.db'}",
            "SECRET_KEY": "test-secret",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    limiter.enabled = enabled


def test_unreachable_redis_leaves_changes_and_limits_working_per_process(
    clean_database, embedded_scorer, restore_limiter, factory_free_site
):
    """Redis away: a policy change is still saved and applies in its own process at once, and rate
    limits count in each process's memory instead of failing requests."""
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    app = create_app(
        {
            "DATABASE_URL": clean_database,
            "SCORER_INSTANCE": embedded_scorer,
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "REDIS_URL": dead,
            "SETTINGS_CHECK_SECONDS": 0,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_POST": "2 per minute",
        }
    )
    try:
        assert app.config["RATELIMIT_STORAGE_URI"] == dead
        embed, admin = factory_free_site(app)
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "10.9.8.7"
        assert min_seconds(client, embed) == 2.0
        set_min_seconds(client, admin, 7.0)
        assert min_seconds(client, embed) == 7.0  # the second of two allowed

        over = client.post(
            "/v1/render-tokens",
            json={"article_id": "a1"},
            headers={"Authorization": f"Bearer {embed}", "Origin": ORIGIN},
        )
        assert over.status_code == 429
        assert over.headers["Retry-After"]
    finally:
        app.extensions["scoring"].close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def factory_free_site():
    def make(app):
        from service.sites import create_site, issue_key

        with app.app_context():
            create_site(
                {
                    "slug": "daily",
                    "name": "Daily",
                    "allowed_origins": [ORIGIN],
                    "policy": {"bot_min_seconds": 2.0},
                }
            )
            embed = issue_key(None, "embed", "daily")[1]
            admin = issue_key(None, "admin", None)[1]
        return embed, admin

    return make


def test_a_value_loaded_before_a_change_is_not_kept_after_it():
    """A request thread reads the old row while another thread empties the cache for a change:
    the old row must not be stored after the emptying and served for the cache's whole TTL."""
    from service.caches import TTLCache

    cache = TTLCache(ttl=60)
    rows = {"policy": "old"}

    def load_while_changed():
        value = rows["policy"]  # read before the change commits
        rows["policy"] = "new"
        cache.clear()  # the change is heard while this load is still in flight
        return value

    assert cache.get("site", load_while_changed) == "old"
    assert cache.get("site", lambda: rows["policy"]) == "new"
    assert cache.get("site", lambda: "unused") == "new"  # kept once loaded after the change
