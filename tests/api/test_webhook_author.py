"""Webhook payloads name a verified reader by the site's own user id, never by e-mail."""

from __future__ import annotations

import json

import sqlalchemy as sa

from service.db import OutboxEvent
from service.extensions import db


def payloads(app, comment_id):
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxEvent).where(OutboxEvent.comment_id == comment_id))
        return [row.payload for row in rows]


def test_payloads_carry_a_verified_readers_user_id_and_no_email(app, client, factory, sso):
    token = sso.token("reader-7", "Reader Seven", email="seven@example.org")
    posted = client.post(
        "/v1/comments",
        json={**factory.comment_body("Thanks for the clear explanation."), "reader_token": token},
        headers=factory.headers(sso.embed),
    )
    assert posted.status_code == 201, posted.get_json()
    events = payloads(app, posted.get_json()["id"])
    assert {e["type"] for e in events} == {"comment.created", "comment.approved"}
    for event in events:
        assert event["data"]["author"] == {"name": "Reader Seven", "user_id": "reader-7"}
        assert "seven@example.org" not in json.dumps(event)


def test_a_claimed_user_id_is_not_sent(app, client, factory, sso):
    body = factory.comment_body("Thanks for the clear explanation.")
    body["author"]["user_id"] = "someone-else"
    posted = client.post("/v1/comments", json=body, headers=factory.headers(sso.embed))
    assert posted.status_code == 201, posted.get_json()
    for event in payloads(app, posted.get_json()["id"]):
        assert event["data"]["author"] == {"name": "Ada", "user_id": None}
        assert "ada@example.org" not in json.dumps(event)
