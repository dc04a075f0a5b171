"""Queue time targets: set per site in the policy, the oldest waiting comment of each queue in
/metrics, and queue.target_missed sent once per comment and queue by the queue-targets job.
Time moves by backdating rows (metrics) or by passing `now` to the job."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.db import Comment, OutboxEvent, QueueTargetMiss, Report, WebhookDelivery, utcnow
from service.extensions import db
from service.jobs.maintenance import StepContext
from service.jobs.schedule import run_job
from service.queue_targets import missed_targets_step

FRIENDLY = "Thanks for this well-researched article, I learned a lot."


@pytest.fixture
def keys(factory):
    factory.site(policy={"premoderation": True, "queue_targets": {"held": 60, "reported": 30}})
    factory.site("weekly")  # no targets: never announced
    return {
        "embed": factory.key("embed"),
        "weekly": factory.key("embed", site="weekly"),
        "moderator": factory.key("moderator"),
        "admin": factory.key("admin", site=None),
    }


def _post(factory, key, n=1, site="daily"):
    ids = []
    for i in range(n):
        answer = factory.post(key, text=f"{FRIENDLY} Point number {i}.", site=site)
        assert answer.status_code == 201, answer.get_json()
        ids.append(answer.get_json()["id"])
    return ids


def _report(factory, key, comment_id):
    answer = factory.client.post(
        f"/v1/comments/{comment_id}/reports",
        json={"reason": "abuse"},
        headers=factory.headers(key),
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert answer.status_code == 201, answer.get_json()


def _backdate(app, comment_id, **ago):
    with app.app_context():
        when = utcnow() - timedelta(**ago)
        db.session.execute(sa.update(Comment).where(Comment.id == comment_id).values(created_at=when))
        db.session.execute(sa.update(Report).where(Report.comment_id == comment_id).values(created_at=when))
        db.session.commit()


def _gauge(client, name, site, queue):
    text = client.get("/metrics").get_data(as_text=True)
    found = re.search(rf'^{name}{{queue="{queue}",site="{site}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else None


def _missed(app):
    with app.app_context():
        events = db.session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.type == "queue.target_missed").order_by(OutboxEvent.id)
        ).all()
        return [(e.comment_id, e.payload["data"]["queue"], e.payload["data"]) for e in events]


def _run(app, **later):
    return run_job(app, "queue-targets", now=utcnow() + timedelta(**later), force=True)


def test_targets_merge_per_queue_and_are_checked(client, factory, keys):
    path, headers = "/v1/admin/sites/daily/policy", factory.headers(keys["admin"], origin=None)
    assert client.get(path, headers=headers).get_json()["queue_targets"] == {"held": 60, "reported": 30}
    client.patch(path, json={"queue_targets": {"held": 15}}, headers=headers)
    assert client.get(path, headers=headers).get_json()["queue_targets"] == {"held": 15, "reported": 30}
    client.patch(path, json={"queue_targets": {"reported": None}}, headers=headers)
    assert client.get(path, headers=headers).get_json()["queue_targets"] == {"held": 15, "reported": None}
    for bad in ({"held": 0}, {"held": "soon"}, {"pending": 5}):
        answer = client.patch(path, json={"queue_targets": bad}, headers=headers)
        assert answer.status_code == 422, bad
        assert answer.get_json()["errors"][0]["field"].startswith("queue_targets.")


def test_metrics_show_each_queues_oldest_waiting_comment(app, client, factory, keys):
    assert _gauge(client, "moderation_queue_oldest_age_seconds", "daily", "held") == 0
    old, new = _post(factory, keys["embed"], 2)
    _backdate(app, old, hours=2)
    age = _gauge(client, "moderation_queue_oldest_age_seconds", "daily", "held")
    assert 2 * 3600 <= age < 2 * 3600 + 600
    assert _gauge(client, "moderation_queue_target_seconds", "daily", "held") == 3600
    assert _gauge(client, "moderation_queue_target_seconds", "weekly", "held") is None

    # The old one decided: the queue's oldest is now the new one.
    answer = client.post(
        f"/v1/moderation/comments/{old}/decision",
        json={"status": "approved"},
        headers=factory.headers(keys["moderator"], origin=None),
    )
    assert answer.status_code == 200
    assert _gauge(client, "moderation_queue_oldest_age_seconds", "daily", "held") < 600

    # Reported: counted from the oldest open report, whatever the comment's age.
    published = _post(factory, keys["weekly"], site="weekly")[0]
    assert _gauge(client, "moderation_queue_oldest_age_seconds", "weekly", "reported") == 0
    _report(factory, keys["weekly"], published)
    _backdate(app, published, minutes=45)
    age = _gauge(client, "moderation_queue_oldest_age_seconds", "weekly", "reported")
    assert 45 * 60 <= age < 55 * 60


def test_late_held_comments_are_announced_once(app, factory, keys):
    ids = _post(factory, keys["embed"], 3)
    _post(factory, keys["weekly"], 2, site="weekly")  # no target there
    assert _run(app, minutes=59).counts == {"held_missed": 0, "reported_missed": 0}

    assert _run(app, minutes=61).counts == {"held_missed": 3, "reported_missed": 0}
    missed = _missed(app)
    assert [(c, q) for c, q, _ in missed] == [(i, "held") for i in ids]
    data = missed[0][2]
    assert data["target_minutes"] == 60 and data["comment"]["id"] == ids[0]
    assert data["comment"]["article"]["id"] == "a1" and 61 * 60 <= data["waited_seconds"] < 70 * 60
    assert "text" not in data["comment"]  # the queue's state, not the comment again

    # Again, later: nothing more, even for comments still waiting.
    assert _run(app, hours=5).counts == {"held_missed": 0, "reported_missed": 0}
    assert len(_missed(app)) == 3


def test_late_reports_are_announced_from_the_oldest_open_report(app, client, factory, keys):
    # Published on a site without pre-moderation but with a reported target.
    admin = factory.headers(keys["admin"], origin=None)
    client.patch("/v1/admin/sites/weekly/policy", json={"queue_targets": {"reported": 30}}, headers=admin)
    published = _post(factory, keys["weekly"], 2, site="weekly")
    _report(factory, keys["weekly"], published[0])
    assert _run(app, minutes=29).counts["reported_missed"] == 0
    assert _run(app, minutes=31).counts == {"held_missed": 0, "reported_missed": 1}
    [(comment_id, queue, data)] = _missed(app)
    assert (comment_id, queue, data["target_minutes"]) == (published[0], "reported", 30)
    assert data["comment"]["status"] == "approved"


def test_a_comment_decided_in_time_is_not_announced(app, client, factory, keys):
    [comment_id] = _post(factory, keys["embed"])
    client.post(
        f"/v1/moderation/comments/{comment_id}/decision",
        json={"status": "approved"},
        headers=factory.headers(keys["moderator"], origin=None),
    )
    assert _run(app, hours=3).counts["held_missed"] == 0
    assert _missed(app) == []


def test_each_batch_is_bounded_and_the_run_finishes_the_rest(app, factory, keys):
    _post(factory, keys["embed"], 5)
    with app.app_context():
        step = missed_targets_step(StepContext(app, utcnow() + timedelta(hours=2), batch_size=2))
        assert step.more and step.counts["held_missed"] == 2
        db.session.remove()
    app.config["JOBS_BATCH_SIZE"] = 2  # the 3 left take two batches of one run
    assert _run(app, hours=2).counts["held_missed"] == 3
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(QueueTargetMiss)) == 5


def test_the_event_reaches_endpoints_that_asked_for_it(app, client, factory, keys):
    from service.webhooks.delivery import dispatch_outbox

    headers = factory.headers(keys["admin"], origin=None)
    wanted = client.post(
        "/v1/admin/sites/daily/webhooks",
        json={"url": "https://93.184.215.14/hooks", "event_types": ["queue.target_missed"]},
        headers=headers,
    ).get_json()
    client.post(
        "/v1/admin/sites/daily/webhooks",
        json={"url": "https://93.184.215.14/other", "event_types": ["comment.held"]},
        headers=headers,
    )
    _post(factory, keys["embed"])
    _run(app, hours=2)
    with app.app_context():
        dispatch_outbox()
        deliveries = db.session.execute(
            sa.select(WebhookDelivery.endpoint_id, OutboxEvent.type).join(OutboxEvent)
        ).all()
    assert (wanted["id"], "queue.target_missed") in deliveries
    assert {t for e, t in deliveries if e != wanted["id"]} == {"comment.held"}
