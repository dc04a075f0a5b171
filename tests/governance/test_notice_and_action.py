"""Notice and action (DSA Art. 16) and statements of reasons (Art. 17), through the API, on both
databases: a notice reaches the queue and its decision the reporter; every restriction has a
statement its author can read without anyone else's data; the export fits the schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import sqlalchemy as sa

from service.extensions import db
from service.governance import dsa
from service.governance.tables import Notice, Statement
from service.jobs.schedule import run_job

SCHEMA = json.loads((Path(dsa.__file__).parent / "schema" / "statement_of_reasons.schema.json").read_text())
REPORTER = {"name": "Rita Reporter", "email": "rita@reporter.example"}


def _notice(**overrides) -> dict:
    return {
        "category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "explanation": "This comment incites hatred against a group, which the criminal code forbids.",
        **REPORTER,
        "good_faith": True,
        **overrides,
    }


def _post(factory, key, text="Thanks for this well-researched article.", **extra) -> int:
    response = factory.post(key, text, **extra)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _send_notice(client, factory, key, comment_id, **overrides):
    return client.post(
        f"/v1/comments/{comment_id}/notices", json=_notice(**overrides), headers=factory.headers(key)
    )


def _events(app, event_type):
    from service.db import OutboxEvent

    with app.app_context():
        rows = db.session.execute(sa.select(OutboxEvent).where(OutboxEvent.type == event_type)).scalars()
        return [row.payload["data"] for row in rows]


def test_a_notice_reaches_the_queue_and_its_decision_reaches_the_reporter(
    app, client, factory, embed_key, moderator, make_endpoint, receiver, deliver
):
    make_endpoint(receiver.url, ["notice.received", "notice.decided", "statement.created"])
    comment_id = _post(factory, embed_key)

    sent = _send_notice(client, factory, embed_key, comment_id)
    assert sent.status_code == 201, sent.get_json()
    receipt = sent.get_json()
    assert receipt["status"] == "open" and receipt["comment_id"] == comment_id

    queue = client.get("/v1/moderation/notices", headers=moderator).get_json()["notices"]
    assert [n["id"] for n in queue] == [receipt["id"]]
    assert queue[0]["reporter"]["email"] == REPORTER["email"]  # moderators (and the site) may reach them

    decided = client.post(
        f"/v1/moderation/notices/{receipt['id']}/decision",
        json={
            "decision": "illegal",
            "legal_ground": "§ 130 StGB (incitement to hatred)",
            "explanation": "Removed.",
        },
        headers=moderator,
    )
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["restricted"] is True
    assert decided.get_json()["comment"]["status"] == "rejected"
    assert client.get("/v1/moderation/notices", headers=moderator).get_json()["notices"] == []

    deliver()
    bodies = [json.loads(r.body) for r in receiver.wait_for(4)]
    by_type = {body["type"]: body["data"] for body in bodies}
    assert set(by_type) >= {"notice.received", "notice.decided", "statement.created"}
    assert by_type["notice.decided"]["decision"] == "illegal"
    assert by_type["notice.decided"]["restricted"] is True
    assert by_type["notice.decided"]["reporter"] == {"name": REPORTER["name"]}
    # The reporter's e-mail is never in a webhook body; the site reads it with its key.
    assert all(REPORTER["email"] not in r.body.decode() for r in receiver.requests)

    status = client.get(by_type["notice.decided"]["status_path"])
    assert status.status_code == 200
    seen = status.get_json()
    assert (seen["status"], seen["decision"], seen["statement_ground"]) == ("decided", "illegal", "illegal")
    assert "Ada" not in status.get_data(as_text=True)  # the comment's author stays out of it
    assert REPORTER["email"] not in status.get_data(as_text=True)


def test_the_statement_of_a_notice_names_the_law_and_no_reporter(app, client, factory, embed_key, moderator):
    comment_id = _post(factory, embed_key)
    notice_id = _send_notice(client, factory, embed_key, comment_id).get_json()["id"]
    client.post(
        f"/v1/moderation/notices/{notice_id}/decision",
        json={"decision": "illegal", "legal_ground": "§ 130 StGB"},
        headers=moderator,
    )
    [created] = _events(app, "statement.created")
    view = client.get(created["statement_path"])
    assert view.status_code == 200
    body = view.get_json()
    assert (body["ground"], body["ground_reference"], body["source"]) == ("illegal", "§ 130 StGB", "notice")
    assert body["decided_by"] == "moderator" and body["automated_decision"] == "not_automated"
    assert body["comment"]["id"] == comment_id
    text = view.get_data(as_text=True)
    assert REPORTER["name"] not in text and REPORTER["email"] not in text
    assert "key:" not in text  # not which moderator either


def test_not_illegal_without_restriction_keeps_the_comment_and_tells_the_reporter(
    app, client, factory, embed_key, moderator
):
    comment_id = _post(factory, embed_key)
    notice_id = _send_notice(client, factory, embed_key, comment_id).get_json()["id"]
    decided = client.post(
        f"/v1/moderation/notices/{notice_id}/decision", json={"decision": "not_illegal"}, headers=moderator
    ).get_json()
    assert (decided["restricted"], decided["comment"]["status"]) == (False, "approved")
    assert _events(app, "statement.created") == []
    [told] = _events(app, "notice.decided")
    assert (told["decision"], told["restricted"]) == ("not_illegal", False)


def test_site_rules_restrict_through_the_sites_rejection_reasons(app, client, factory, embed_key, moderator):
    comment_id = _post(factory, embed_key)
    notice_id = _send_notice(client, factory, embed_key, comment_id).get_json()["id"]
    url = f"/v1/moderation/notices/{notice_id}/decision"
    refused = client.post(
        url, json={"decision": "site_rules", "restrict": True, "reason": "nope"}, headers=moderator
    )
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "reason"
    with app.app_context():  # nothing half-written: the notice is still open
        assert db.session.get(Notice, notice_id).status == "open"
    done = client.post(
        url, json={"decision": "site_rules", "restrict": True, "reason": "abuse"}, headers=moderator
    )
    assert done.status_code == 200 and done.get_json()["comment"]["status"] == "rejected"
    [created] = _events(app, "statement.created")
    assert created["ground"] == "site_rules"
    again = client.post(url, json={"decision": "not_illegal"}, headers=moderator)
    assert again.status_code == 409 and again.get_json()["code"] == "notice-decided"


def test_bad_notices_are_refused_naming_the_field(app, client, factory, embed_key):
    comment_id = _post(factory, embed_key)
    cases = {
        "good_faith": _notice(good_faith=False),
        "category": _notice(category="STATEMENT_CATEGORY_OTHER_VIOLATION_TC"),
        "email": _notice(email="not-an-address"),
        "explanation": _notice(explanation="x" * 5000),
        "name": {k: v for k, v in _notice().items() if k != "name"},
    }
    for field, body in cases.items():
        response = client.post(
            f"/v1/comments/{comment_id}/notices", json=body, headers=factory.headers(embed_key)
        )
        assert response.status_code == 422, (field, response.get_json())
        assert field in [e["field"] for e in response.get_json()["errors"]], (field, response.get_json())
    missing = _send_notice(client, factory, embed_key, 999_999)
    assert missing.status_code == 404
    assert client.post(f"/v1/comments/{comment_id}/notices", json=_notice()).status_code == 401
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice)) == 0


def test_a_forged_or_swapped_link_opens_nothing(app, client, factory, embed_key, moderator):
    comment_id = _post(factory, embed_key)
    path = _send_notice(client, factory, embed_key, comment_id).get_json()["status_path"]
    token = path.rsplit("/", 1)[1]
    assert client.get(path[:-2] + "xx").status_code == 404
    # A notice's token does not open a statement (each kind of link has its own salt).
    assert client.get(f"/v1/statements/{token}").status_code == 404


def test_every_restriction_has_a_statement_its_author_can_read(
    app, client, factory, embed_key, moderator, reject_insults, insult_text
):
    # Automated: the policy rejects at posting; the scheduled job writes the statement.
    auto = _post(factory, embed_key, insult_text, name="Troll")
    # A moderator rejects, and erases another.
    rejected = _post(factory, embed_key, "I disagree with the premise of this piece.", name="Bob")
    erased = _post(factory, embed_key, "Please remove my comment.", name="Cleo")
    response = client.post(
        f"/v1/moderation/comments/{rejected}/decision",
        json={"status": "rejected", "reason": "abuse"},
        headers=moderator,
    )
    assert response.status_code == 200, response.get_json()
    assert client.delete(f"/v1/moderation/comments/{erased}", json={}, headers=moderator).status_code == 200
    # A moderator bans a signed-in author.
    banned = client.put(
        "/v1/moderation/authors?site=daily&key=sso:reader-9", json={"standing": "banned"}, headers=moderator
    )
    assert banned.status_code == 200, banned.get_json()
    assert run_job(app, "issue-statements", force=True).outcome == "done"

    created = _events(app, "statement.created")
    by_comment = {s["comment_id"]: s for s in created}
    assert set(by_comment) == {auto, rejected, erased, None}
    assert {s["restriction"] for s in created} == {"rejected", "deleted", "banned"}
    assert by_comment[None]["author"]["user_id"] == "reader-9"

    automated = client.get(by_comment[auto]["statement_path"]).get_json()
    assert (automated["automated_detection"], automated["automated_decision"]) == (True, "fully")
    assert automated["decided_by"] == "system" and automated["redress"]
    assert automated["comment"]["text"] == insult_text  # the author's own words, for them
    human = client.get(by_comment[rejected]["statement_path"]).get_json()
    assert (human["decided_by"], human["ground_reference"]) == ("moderator", "abuse")
    for statement in created:
        text = client.get(statement["statement_path"]).get_data(as_text=True)
        others = {"Troll", "Bob", "Cleo"} - {statement["author"]["name"]}
        assert not [name for name in others if name in text]
        assert "ada@example.org" not in text and "key:" not in text

    # A second run finds nothing left: one statement per restriction.
    run_job(app, "issue-statements", force=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Statement)) == 4


def test_the_export_validates_against_the_transparency_database_schema(
    app, client, factory, embed_key, moderator, reject_insults, insult_text
):
    _post(factory, embed_key, insult_text)
    target = _post(factory, embed_key)
    notice_id = _send_notice(client, factory, embed_key, target).get_json()["id"]
    client.post(
        f"/v1/moderation/notices/{notice_id}/decision",
        json={"decision": "illegal", "legal_ground": "§ 130 StGB", "explanation": "Incitement."},
        headers=moderator,
    )
    client.put(
        "/v1/moderation/authors?site=daily&key=sso:reader-9",
        json={
            "standing": "suspended",
            "suspended_until": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        },
        headers=moderator,
    )
    run_job(app, "issue-statements", force=True)
    now = datetime.now(UTC)
    response = client.get(
        "/v1/moderation/statements/export",
        query_string={
            "site": "daily",
            "since": (now - timedelta(days=1)).isoformat(),
            "until": (now + timedelta(days=1)).isoformat(),
        },
        headers=moderator,
    )
    assert response.status_code == 200, response.get_json()
    records = response.get_json()["statements"]
    assert len(records) == 3
    for record in records:
        jsonschema.validate(record, SCHEMA)
    assert {r["source_type"] for r in records} == {"SOURCE_ARTICLE_16", "SOURCE_VOLUNTARY"}
    assert "DECISION_ACCOUNT_SUSPENDED" in {r.get("decision_account") for r in records}
    text = response.get_data(as_text=True)
    assert REPORTER["email"] not in text and "ada@example.org" not in text and "Ada" not in text
    bad = client.get(
        "/v1/moderation/statements/export",
        query_string={
            "site": "daily",
            "since": now.isoformat(),
            "until": (now - timedelta(days=1)).isoformat(),
        },
        headers=moderator,
    )
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "until"


def test_a_comment_held_past_the_sites_target_gets_a_statement_once(
    app, client, factory, embed_key, moderator, admin_headers, insult_text
):
    response = client.patch(
        "/v1/admin/sites/daily/policy", json={"queue_targets": {"held": 30}}, headers=admin_headers
    )
    assert response.status_code == 200, response.get_json()
    held = factory.post(embed_key, insult_text).get_json()
    assert held["status"] == "held"
    soon, late = datetime.now(UTC) + timedelta(minutes=10), datetime.now(UTC) + timedelta(minutes=31)
    run_job(app, "issue-statements", now=soon, force=True)
    assert _events(app, "statement.created") == []  # within the site's 30 minutes
    run_job(app, "issue-statements", now=late, force=True)
    run_job(app, "issue-statements", now=late + timedelta(minutes=5), force=True)
    [statement] = _events(app, "statement.created")
    assert (statement["comment_id"], statement["restriction"]) == (held["id"], "held")
    view = client.get(statement["statement_path"]).get_json()
    assert "30 minutes" in view["facts"] and view["automated_decision"] == "fully"

    # Rejected later: that restriction has its own statement.
    client.post(
        f"/v1/moderation/comments/{held['id']}/decision",
        json={"status": "rejected", "reason": "abuse"},
        headers=moderator,
    )
    assert [s["restriction"] for s in _events(app, "statement.created")] == ["held", "rejected"]
    now = datetime.now(UTC)
    records = client.get(
        "/v1/moderation/statements/export",
        query_string={
            "since": (now - timedelta(hours=1)).isoformat(),
            "until": (now + timedelta(hours=1)).isoformat(),
            "site": "daily",
        },
        headers=moderator,
    ).get_json()["statements"]
    for record in records:
        jsonschema.validate(record, SCHEMA)
    assert records[0]["decision_visibility"] == ["DECISION_VISIBILITY_OTHER"]
