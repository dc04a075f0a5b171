"""The settings history: every change of a policy, word list, SSO secret, webhook endpoint or key
writes exactly one event with the fields before and after; a change that changes nothing writes
none; no secret ever appears in an event; the history cannot be changed."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from service.auth import hash_key
from service.db import ApiKey, SettingsEvent
from service.extensions import db

PUBLIC_URL = "https://93.184.215.14/hooks"


@pytest.fixture
def admin(factory):
    factory.site()
    return factory.key("admin", site=None)


def _headers(factory, key):
    return factory.headers(key, origin=None)


def _key_id(app, key):
    with app.app_context():
        return db.session.scalar(sa.select(ApiKey.id).where(ApiKey.key_hash == hash_key(key)))


def _history(client, factory, key, **query):
    answer = client.get("/v1/moderation/settings-events", query_string=query, headers=_headers(factory, key))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


class Recorder:
    """The events written since the last call, oldest first."""

    def __init__(self, client, factory, key):
        self.client, self.factory, self.key = client, factory, key
        self.seen = {e["id"] for e in _history(client, factory, key, limit=200)["items"]}

    def new(self):
        items = _history(self.client, self.factory, self.key, limit=200)["items"]
        fresh = [e for e in reversed(items) if e["id"] not in self.seen]
        self.seen |= {e["id"] for e in fresh}
        return fresh


@pytest.fixture
def recorder(client, factory, admin):
    return Recorder(client, factory, admin)


def test_policy_patch_writes_one_event_with_the_changed_values(client, factory, admin, app, recorder):
    answer = client.patch(
        "/v1/admin/sites/daily/policy",
        json={"banned_words": ["scam"], "thresholds": {"insult": {"hold": 0.4}}},
        headers=_headers(factory, admin),
    )
    assert answer.status_code == 200
    [event] = recorder.new()
    assert event["kind"] == "policy.updated"
    assert event["subject"] == "site:daily"
    assert event["actor"].endswith(f":{_key_id(app, admin)}") and event["actor"] != "cli"
    assert event["before"] == {
        "banned_words": [],
        "thresholds": {"insult": {"hold": 0.5, "reject": None}},
    }
    assert event["after"] == {
        "banned_words": ["scam"],
        "thresholds": {"insult": {"hold": 0.4, "reject": None}},
    }


def test_patch_that_changes_nothing_writes_no_event(client, factory, admin, recorder):
    body = {"suspect_words": ["idiot"], "premoderation": True}
    client.patch("/v1/admin/sites/daily/policy", json=body, headers=_headers(factory, admin))
    assert len(recorder.new()) == 1
    again = client.patch("/v1/admin/sites/daily/policy", json=body, headers=_headers(factory, admin))
    assert again.status_code == 200
    assert recorder.new() == []


def test_put_policy_records_what_went_back_to_its_default(client, factory, admin, recorder):
    client.patch(
        "/v1/admin/sites/daily/policy",
        json={"premoderation": True, "suspect_words": ["idiot"]},
        headers=_headers(factory, admin),
    )
    recorder.new()
    answer = client.put(
        "/v1/admin/sites/daily/policy", json={"premoderation": True}, headers=_headers(factory, admin)
    )
    assert answer.status_code == 200
    [event] = recorder.new()
    assert event["kind"] == "policy.replaced"
    # The factory's lifted velocity limits went back to their defaults too.
    assert event["before"]["suspect_words"] == ["idiot"] and event["after"]["suspect_words"] == []
    assert event["after"]["velocity_per_minute"] == 5
    assert "premoderation" not in event["after"]
    client.put("/v1/admin/sites/daily/policy", json={"premoderation": True}, headers=_headers(factory, admin))
    assert recorder.new() == []


def test_refused_policy_writes_no_event(client, factory, admin, recorder):
    answer = client.patch(
        "/v1/admin/sites/daily/policy",
        json={"thresholds": {"insult": {"hold": 0.9, "reject": 0.5}}},
        headers=_headers(factory, admin),
    )
    assert answer.status_code == 422
    assert recorder.new() == []


def test_site_patch_writes_one_event_for_name_origins_and_policy(client, factory, admin, recorder):
    body = {
        "name": "The Daily",
        "allowed_origins": ["https://daily.example"],
        "policy": {"blocked_domains": ["spam.example"]},
    }
    answer = client.patch("/v1/admin/sites/daily", json=body, headers=_headers(factory, admin))
    assert answer.status_code == 200
    [event] = recorder.new()
    assert event["kind"] == "site.updated"
    assert event["before"] == {
        "name": "Daily",
        "allowed_origins": ["https://news.example"],
        "policy": {"blocked_domains": []},
    }
    assert event["after"] == body
    client.patch("/v1/admin/sites/daily", json=body, headers=_headers(factory, admin))
    assert recorder.new() == []


def test_site_creation_is_recorded(client, factory, admin, recorder):
    answer = client.post(
        "/v1/admin/sites",
        json={"slug": "weekly", "name": "Weekly", "policy": {"premoderation": True}},
        headers=_headers(factory, admin),
    )
    assert answer.status_code == 201
    [event] = recorder.new()
    assert event["kind"] == "site.created" and event["before"] is None
    assert event["after"] == {"name": "Weekly", "allowed_origins": [], "policy": {"premoderation": True}}


def test_sso_secret_events_hold_fingerprints_only(client, factory, admin, recorder):
    secrets = []
    for _ in range(2):
        answer = client.post(
            "/v1/admin/sites/daily/sso-secret", json={"grace_hours": 1}, headers=_headers(factory, admin)
        )
        secrets.append(answer.get_json()["secret"])
    created, rotated = recorder.new()
    assert created["kind"] == "sso_secret.created" and rotated["kind"] == "sso_secret.rotated"
    assert created["before"] == {"secret_fingerprint": None}
    assert created["after"]["secret_fingerprint"] == rotated["before"]["secret_fingerprint"]
    assert rotated["after"]["secret_fingerprint"] not in (None, created["after"]["secret_fingerprint"])
    assert rotated["after"]["previous_secret_expires_at"] is not None
    _assert_no_secret(client, factory, admin, secrets)


def test_webhook_changes_are_recorded_without_secrets(client, factory, admin, recorder):
    headers = _headers(factory, admin)
    created = client.post(
        "/v1/admin/sites/daily/webhooks",
        json={"url": PUBLIC_URL, "event_types": ["comment.held"]},
        headers=headers,
    ).get_json()
    path = f"/v1/admin/webhooks/{created['id']}"
    client.patch(path, json={"event_types": ["comment.held", "comment.rejected"]}, headers=headers)
    client.patch(path, json={"event_types": ["comment.held", "comment.rejected"]}, headers=headers)  # no-op
    rotated = client.post(f"{path}/rotate-secret", json={"grace_hours": 1}, headers=headers).get_json()
    assert client.delete(path, headers=headers).status_code == 204

    events = recorder.new()
    assert [e["kind"] for e in events] == [
        "webhook.created",
        "webhook.updated",
        "webhook.secret_rotated",
        "webhook.deleted",
    ]
    assert {e["subject"] for e in events} == {f"webhook:{created['id']}"}
    made, updated, rotation, deleted = events
    assert made["before"] is None and made["after"]["url"] == PUBLIC_URL
    assert made["after"]["secret_fingerprint"].startswith("sha256:")
    assert updated["before"] == {"event_types": ["comment.held"]}
    assert updated["after"] == {"event_types": ["comment.held", "comment.rejected"]}
    assert rotation["before"]["secret_fingerprint"] == made["after"]["secret_fingerprint"]
    assert deleted["after"] is None
    assert deleted["before"]["secret_fingerprint"] == rotation["after"]["secret_fingerprint"]
    _assert_no_secret(client, factory, admin, [created["secret"], rotated["secret"]])


def test_keys_issued_and_revoked_are_recorded(client, factory, admin, app, recorder):
    headers = _headers(factory, admin)
    made = client.post(
        "/v1/admin/keys", json={"role": "moderator", "site": "daily", "name": "night desk"}, headers=headers
    ).get_json()
    assert client.delete(f"/v1/admin/keys/{made['id']}", headers=headers).status_code == 200
    assert client.delete(f"/v1/admin/keys/{made['id']}", headers=headers).status_code == 200  # no-op
    issued, revoked = recorder.new()
    assert issued["kind"] == "key.issued" and issued["subject"] == f"key:{made['id']}"
    assert issued["after"] == {
        "prefix": made["prefix"],
        "role": "moderator",
        "site": "daily",
        "name": "night desk",
    }
    assert revoked["kind"] == "key.revoked"
    assert revoked["before"] == {"revoked_at": None} and revoked["after"]["revoked_at"]
    _assert_no_secret(client, factory, admin, [made["key"]])


def test_commands_are_recorded_as_cli(client, factory, admin):
    items = _history(client, factory, admin)["items"]
    # The fixture made the site and the admin key through the functions the commands use.
    assert {e["kind"] for e in items} == {"site.created", "key.issued"}
    assert {e["actor"] for e in items} == {"cli"}


def test_a_site_key_sees_only_its_own_sites_history(client, factory, admin):
    factory.site("weekly")
    weekly_admin = factory.key("admin", site="weekly")
    client.patch(
        "/v1/admin/sites/daily/policy", json={"premoderation": True}, headers=_headers(factory, admin)
    )
    seen = _history(client, factory, weekly_admin)["items"]
    assert seen and {e["subject"] for e in seen} <= {
        "site:weekly",
        f"key:{_key_id(client.application, weekly_admin)}",
    }
    assert (
        client.get(
            "/v1/moderation/settings-events?site=daily", headers=_headers(factory, weekly_admin)
        ).status_code
        == 404
    )
    moderator = factory.key("moderator")
    assert (
        client.get("/v1/moderation/settings-events", headers=_headers(factory, moderator)).status_code == 403
    )


def test_history_pages_by_cursor_and_filters_by_kind(client, factory, admin):
    for n in range(5):
        client.patch(
            "/v1/admin/sites/daily/policy",
            json={"report_threshold": 3 + n + 1},
            headers=_headers(factory, admin),
        )
    first = _history(client, factory, admin, kind="policy.updated", limit=3)
    second = _history(client, factory, admin, kind="policy.updated", limit=3, cursor=first["next_cursor"])
    values = [e["after"]["report_threshold"] for e in first["items"] + second["items"]]
    assert values == [8, 7, 6, 5, 4]
    assert second["next_cursor"] is None
    bad = client.get("/v1/moderation/settings-events?kind=policy.eaten", headers=_headers(factory, admin))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "kind"


def test_history_cannot_be_changed(app, client, factory, admin, db_kind):
    client.patch(
        "/v1/admin/sites/daily/policy", json={"premoderation": True}, headers=_headers(factory, admin)
    )
    with app.app_context():
        event = db.session.scalars(sa.select(SettingsEvent)).first()
        event.actor = "someone else"
        with pytest.raises(ValueError, match="immutable"):
            db.session.flush()
        db.session.rollback()
        event = db.session.scalars(sa.select(SettingsEvent)).first()
        db.session.delete(event)
        with pytest.raises(ValueError, match="immutable"):
            db.session.flush()
        db.session.rollback()
        if db_kind == "postgresql":  # the trigger: whatever the client, no UPDATE or DELETE
            for statement in ("UPDATE settings_events SET actor = 'x'", "DELETE FROM settings_events"):
                with pytest.raises(sa.exc.DBAPIError, match="immutable"):
                    db.session.execute(sa.text(statement))
                db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SettingsEvent)) > 0


def _assert_no_secret(client, factory, admin, secrets):
    """No secret in the API's history nor anywhere in the table."""
    shown = json.dumps(_history(client, factory, admin, limit=200))
    with client.application.app_context():
        stored = json.dumps(
            [[e.before, e.after, e.subject] for e in db.session.scalars(sa.select(SettingsEvent))],
            default=str,
        )
    for secret in secrets:
        # Whole, or its random tail (a key's first characters are its public prefix).
        assert secret and secret[-16:] not in shown and secret[-16:] not in stored
