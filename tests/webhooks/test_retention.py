"""The prune-webhooks job: finished outbox events and old delivery logs go after
WEBHOOK_RETENTION_DAYS; anything still to be delivered stays."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from service.db import OutboxEvent, WebhookAttempt, WebhookDelivery, utcnow
from service.extensions import db
from service.jobs.schedule import run_job


def count(app, model) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(sa.func.count()).select_from(model))
        db.session.remove()
        return found


def test_delivered_events_and_their_log_are_pruned_after_the_retention(
    app, client, admin_headers, factory, embed_key, receiver, make_endpoint, deliver
):
    endpoint = make_endpoint(receiver.url, ["comment.created"])
    factory.post(embed_key, text="A comment that is delivered.")
    now = utcnow()
    deliver(now)
    assert count(app, WebhookAttempt) == 1

    # Within the retention nothing goes.
    assert run_job(app, "prune-webhooks", now=now + timedelta(days=29), force=True).processed == 0
    log = client.get(f"/v1/admin/webhooks/{endpoint['id']}/deliveries", headers=admin_headers).get_json()
    assert len(log["deliveries"]) == 1

    run = run_job(app, "prune-webhooks", now=now + timedelta(days=31), force=True)
    assert run.counts == {"webhook_attempts": 1, "outbox_events": 2, "webhook_deliveries": 1}
    assert count(app, OutboxEvent) == count(app, WebhookDelivery) == count(app, WebhookAttempt) == 0
    log = client.get(f"/v1/admin/webhooks/{endpoint['id']}/deliveries", headers=admin_headers).get_json()
    assert log["deliveries"] == []
    # Again: nothing more to do.
    assert run_job(app, "prune-webhooks", now=now + timedelta(days=31), force=True).processed == 0


def test_an_event_still_being_retried_is_kept(app, factory, embed_key, receiver, make_endpoint, deliver):
    make_endpoint(receiver.url, ["comment.created"])
    receiver.status = 500  # the receiver is down: the delivery waits for its next retry
    factory.post(embed_key, text="A comment whose webhook keeps failing.")
    now = utcnow()
    deliver(now)

    run = run_job(app, "prune-webhooks", now=now + timedelta(days=31), force=True)
    # The old attempt leaves the log, but the event and its delivery stay until it is delivered.
    assert run.counts == {"webhook_attempts": 1, "outbox_events": 1, "webhook_deliveries": 0}
    with app.app_context():
        (event_type,) = db.session.scalars(sa.select(OutboxEvent.type)).all()
        assert event_type == "comment.created"
        assert db.session.scalar(sa.select(WebhookDelivery.status)) == "failed"


def test_pruning_goes_in_bounded_batches(app, factory, embed_key, receiver, make_endpoint, deliver):
    make_endpoint(receiver.url, ["comment.created"])
    for n in range(3):
        factory.post(embed_key, text=f"Comment number {n} to deliver.")
    now = utcnow()
    deliver(now)
    app.config.update(JOBS_BATCH_SIZE=2, JOBS_RUN_SECONDS=0)
    later = now + timedelta(days=31)
    events = [run_job(app, "prune-webhooks", now=later, force=True).counts["outbox_events"] for _ in range(4)]
    assert events == [2, 2, 2, 0]  # six events: three created, three approved
    assert count(app, OutboxEvent) == 0
