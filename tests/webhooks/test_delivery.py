"""Delivery to a real receiver: signatures a receiver verifies, filters, rotation, retries,
disabling, the delivery log, redelivery and replay. Time moves by passing `now` to the worker."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from service.db import OutboxEvent, WebhookDelivery, utcnow
from service.extensions import db


def verify(secret: str, request) -> dict:
    """What a receiver does: raises unless the signature, id and timestamp check out."""
    return Webhook(secret).verify(request.body, request.headers)


def delivery_statuses(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(WebhookDelivery.status).order_by(WebhookDelivery.id)))


def test_a_posted_comment_arrives_signed(factory, embed_key, receiver, make_endpoint, deliver):
    endpoint = make_endpoint(receiver.url)
    assert factory.post(embed_key).status_code == 201
    assert deliver() == (2, 2)

    first, second = receiver.requests
    # Sent concurrently: no order is promised (documented), so sort by type.
    events = sorted((verify(endpoint["secret"], r) for r in (first, second)), key=lambda e: e["type"])
    assert [e["type"] for e in events] == ["comment.approved", "comment.created"]
    assert events[0]["data"]["status"] == "approved"
    assert "email" not in json.dumps(events)
    assert first.headers["content-type"] == "application/json"
    assert first.headers["webhook-id"] != second.headers["webhook-id"]
    assert deliver() == (0, 0)  # nothing left


def test_only_subscribed_event_types_are_sent(factory, embed_key, receiver, make_endpoint, deliver):
    make_endpoint(receiver.url, ["comment.approved"])
    make_endpoint(receiver.url + "/held", ["comment.held"])
    factory.post(embed_key)
    deliver()
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["comment.approved"]


def test_disabled_endpoints_get_nothing(
    client, admin_headers, factory, embed_key, receiver, make_endpoint, deliver
):
    endpoint = make_endpoint(receiver.url)
    client.patch(f"/v1/admin/webhooks/{endpoint['id']}", json={"enabled": False}, headers=admin_headers)
    factory.post(embed_key)
    deliver()
    assert receiver.requests == []


def test_during_rotation_both_secrets_verify(
    client, admin_headers, factory, embed_key, receiver, make_endpoint, deliver
):
    endpoint = make_endpoint(receiver.url, ["comment.created"])
    rotated = client.post(
        f"/v1/admin/webhooks/{endpoint['id']}/rotate-secret",
        json={"grace_hours": 1},
        headers=admin_headers,
    )
    new_secret = rotated.get_json()["secret"]
    factory.post(embed_key)
    deliver()
    (request,) = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verify(endpoint["secret"], request)["type"] == "comment.created"
    assert verify(new_secret, request)["type"] == "comment.created"

    # After the grace period only the new secret signs.
    factory.post(embed_key, text="A second thoughtful remark.")
    deliver(now=utcnow() + timedelta(hours=2))
    later = receiver.requests[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    verify(new_secret, later)


def test_a_receiver_down_for_hours_gets_every_event(
    app, factory, embed_key, receiver, make_endpoint, deliver
):
    endpoint = make_endpoint(receiver.url)
    receiver.status = 503
    for n in range(3):
        factory.post(embed_key, text=f"Comment number {n} on this fine article.")
    now = utcnow()
    deliver(now)
    for step in range(1, 6):  # five retries while still down
        deliver(now + timedelta(hours=step))
    assert len(receiver.requests) == 6 * 6
    receiver.status = 200
    deliver(now + timedelta(hours=12))
    delivered = receiver.requests[36:]
    assert sorted(r.headers["webhook-id"] for r in delivered) == sorted(set(receiver.ids()))
    for request in delivered:
        verify(endpoint["secret"], request)
    assert delivery_statuses(app) == ["succeeded"] * 6


def test_a_rolled_back_transaction_emits_nothing(app, factory, embed_key, receiver, make_endpoint, deliver):
    from service.transitions import emit, outbox_row

    make_endpoint(receiver.url)
    site_id = factory.site("second")
    with app.app_context():
        emit(outbox_row(site_id, "comment.created", {"id": 1}))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)) == 0
    # A comment refused by validation writes nothing either.
    assert factory.post(embed_key, text="").status_code == 422
    assert deliver() == (0, 0)
    assert receiver.requests == []


def test_410_gone_disables_the_endpoint(
    client, admin_headers, factory, embed_key, receiver, make_endpoint, deliver
):
    endpoint = make_endpoint(receiver.url, ["comment.created"])
    receiver.status = 410
    factory.post(embed_key)
    deliver()
    read = client.get(f"/v1/admin/webhooks/{endpoint['id']}", headers=admin_headers).get_json()
    assert read["enabled"] is False
    assert "410" in read["disabled_reason"]
    factory.post(embed_key, text="Another comment, nobody listening.")
    deliver(utcnow() + timedelta(days=1))
    assert len(receiver.requests) == 1


def test_failing_for_more_than_three_days_disables_the_endpoint(
    client, admin_headers, factory, embed_key, receiver, make_endpoint, deliver
):
    endpoint = make_endpoint(receiver.url, ["comment.created"])
    receiver.status = 500
    factory.post(embed_key)
    now = utcnow()
    for day in range(4):
        deliver(now + timedelta(days=day))
        read = client.get(f"/v1/admin/webhooks/{endpoint['id']}", headers=admin_headers).get_json()
        assert read["enabled"] is True and read["failing_since"] is not None
    deliver(now + timedelta(days=3, hours=1))
    read = client.get(f"/v1/admin/webhooks/{endpoint['id']}", headers=admin_headers).get_json()
    assert read["enabled"] is False
    assert "more than 3 days" in read["disabled_reason"]


def test_a_success_clears_the_failing_streak(
    client, admin_headers, factory, embed_key, receiver, make_endpoint, deliver
):
    endpoint = make_endpoint(receiver.url, ["comment.created"])
    receiver.status = 500
    factory.post(embed_key)
    now = utcnow()
    deliver(now)
    receiver.status = 200
    deliver(now + timedelta(days=1))
    read = client.get(f"/v1/admin/webhooks/{endpoint['id']}", headers=admin_headers).get_json()
    assert read["failing_since"] is None and read["enabled"] is True


def test_a_delivery_dies_after_the_last_retry(app, factory, embed_key, receiver, make_endpoint, deliver):
    from service.webhooks.delivery import MAX_ATTEMPTS

    app.config["WEBHOOK_DISABLE_AFTER_DAYS"] = 30  # not disabled before the last retry
    make_endpoint(receiver.url, ["comment.created"])
    receiver.status = 500
    factory.post(embed_key)
    now = utcnow()
    for step in range(30):  # jittered delays: at most ~45 h in all
        deliver(now + timedelta(hours=step * 3))
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert delivery_statuses(app) == ["dead"]


def test_the_delivery_log_pages_and_records_each_attempt(
    client, admin_headers, factory, embed_key, receiver, make_endpoint, deliver
):
    endpoint = make_endpoint(receiver.url, ["comment.created"])
    receiver.status, receiver.body = 500, b"x" * 5000
    for n in range(3):
        factory.post(embed_key, text=f"Comment number {n} for the log.")
    now = utcnow()
    deliver(now)
    receiver.status, receiver.body = 200, b"ok"
    deliver(now + timedelta(hours=1))

    path = f"/v1/admin/webhooks/{endpoint['id']}/deliveries"
    first = client.get(path, query_string={"limit": 2}, headers=admin_headers).get_json()
    second = client.get(
        path, query_string={"limit": 2, "cursor": first["next_cursor"]}, headers=admin_headers
    ).get_json()
    deliveries = first["deliveries"] + second["deliveries"]
    assert second["next_cursor"] is None
    assert [d["id"] for d in deliveries] == sorted((d["id"] for d in deliveries), reverse=True)
    assert len(deliveries) == 3
    for delivery in deliveries:
        assert delivery["status"] == "succeeded" and delivery["attempts"] == 2
        latest, earliest = delivery["log"]
        assert (latest["status_code"], latest["response_excerpt"]) == (200, "ok")
        assert earliest["status_code"] == 500 and len(earliest["response_excerpt"]) == 1024
        assert earliest["duration_ms"] >= 0 and earliest["error"] is None
        assert delivery["event_type"] == "comment.created" and delivery["event_id"].startswith("msg_")


def test_redelivery_sends_the_same_message_again(
    client, admin_headers, factory, embed_key, receiver, make_endpoint, deliver
):
    endpoint = make_endpoint(receiver.url, ["comment.created"])
    factory.post(embed_key)
    deliver()
    log = client.get(f"/v1/admin/webhooks/{endpoint['id']}/deliveries", headers=admin_headers).get_json()
    delivery_id = log["deliveries"][0]["id"]
    response = client.post(
        f"/v1/admin/webhooks/{endpoint['id']}/deliveries/{delivery_id}/redeliver",
        headers=admin_headers,
    )
    assert response.status_code == 202 and response.get_json()["status"] == "pending"
    deliver()
    assert len(receiver.requests) == 2 and receiver.ids()[0] == receiver.ids()[1]
    missing = client.post(
        f"/v1/admin/webhooks/{endpoint['id']}/deliveries/999/redeliver", headers=admin_headers
    )
    assert missing.status_code == 404


def test_replay_resends_events_since_a_time(
    client, admin_headers, factory, embed_key, receiver, make_endpoint, deliver
):
    factory.post(embed_key, text="An early comment before the endpoint.")
    deliver()  # no endpoint yet: dispatched to nobody
    endpoint = make_endpoint(receiver.url, ["comment.created"])
    factory.post(embed_key, text="A later comment with the endpoint.")
    deliver()
    assert len(receiver.requests) == 1
    since = (utcnow() - timedelta(hours=1)).isoformat()
    response = client.post(
        f"/v1/admin/webhooks/{endpoint['id']}/replay", json={"since": since}, headers=admin_headers
    )
    assert response.status_code == 202 and response.get_json() == {"queued": 2}
    deliver()
    assert len(receiver.requests) == 3
    assert receiver.ids()[0] in receiver.ids()[1:]  # the same webhook-id again: receivers de-duplicate
    future = client.post(
        f"/v1/admin/webhooks/{endpoint['id']}/replay",
        json={"since": (utcnow() + timedelta(hours=1)).isoformat()},
        headers=admin_headers,
    )
    assert future.get_json() == {"queued": 0}


def test_redirects_are_not_followed(factory, embed_key, receiver, make_endpoint, deliver):
    make_endpoint(receiver.url, ["comment.created"])
    receiver.status, receiver.headers = 302, {"Location": receiver.url + "/elsewhere"}
    factory.post(embed_key)
    deliver()
    assert [r.path for r in receiver.requests] == ["/hooks"]


def test_the_guard_runs_again_at_delivery_time(
    app, client, admin_headers, factory, embed_key, receiver, make_endpoint, deliver
):
    endpoint = make_endpoint(receiver.url, ["comment.created"])
    app.config["WEBHOOK_ALLOW_PRIVATE"] = ""  # as if the name now resolved to a private address
    factory.post(embed_key)
    deliver()
    assert receiver.requests == []
    log = client.get(f"/v1/admin/webhooks/{endpoint['id']}/deliveries", headers=admin_headers).get_json()
    attempt = log["deliveries"][0]["log"][0]
    assert attempt["status_code"] is None and "SSRF guard" in attempt["error"]


def test_an_expired_lease_hands_the_delivery_to_another_worker(
    app, factory, embed_key, receiver, make_endpoint
):
    from service.webhooks.delivery import claim_due
    from service.webhooks.worker import run_once

    make_endpoint(receiver.url, ["comment.created"])
    factory.post(embed_key)
    now = utcnow()
    with app.app_context():
        from service.webhooks.delivery import dispatch_outbox

        dispatch_outbox(now=now)
        assert len(claim_due(10, timedelta(seconds=60), now)) == 1  # a worker claims it, then dies
        assert claim_due(10, timedelta(seconds=60), now + timedelta(seconds=30)) == []
        db.session.remove()
    run_once(app, now + timedelta(seconds=61))
    assert len(receiver.requests) == 1
    app.extensions["webhook_deliverer"].close()


@pytest.mark.parametrize("rng_value", [0.0, 0.5, 0.999])
def test_retry_schedule_spans_about_a_day(rng_value):
    from service.webhooks.delivery import MAX_ATTEMPTS, RETRY_SCHEDULE, retry_delay

    delays = [retry_delay(n, lambda: rng_value) for n in range(1, MAX_ATTEMPTS)]
    assert all(d is not None and d <= timedelta(seconds=2 * RETRY_SCHEDULE[-1]) for d in delays)
    assert retry_delay(MAX_ATTEMPTS) is None
    mean_total = sum(RETRY_SCHEDULE)
    assert timedelta(hours=20) < timedelta(seconds=mean_total) < timedelta(hours=26)
