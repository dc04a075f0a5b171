"""Appeals (DSA Art. 20) through the API, on both databases: the author appeals through their
statement's link within six months; a second person decides; a reversal publishes the comment
again and the trail keeps both decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from service.extensions import db
from service.governance import appeal_rules
from service.governance.tables import Appeal, Statement
from service.jobs.schedule import run_job

from .test_notice_and_action import _events, _post

WHY = "My comment criticised the article's argument; it insulted nobody."


def _rejected_by(client, factory, embed_key, moderator, text="I disagree with the premise of this piece."):
    """A comment a moderator rejected, and its statement's author link."""
    comment_id = _post(factory, embed_key, text)
    response = client.post(
        f"/v1/moderation/comments/{comment_id}/decision",
        json={"status": "rejected", "reason": "abuse"},
        headers=moderator,
    )
    assert response.status_code == 200, response.get_json()
    return comment_id


def _statement_path(app, comment_id):
    [created] = [s for s in _events(app, "statement.created") if s["comment_id"] == comment_id]
    return created["statement_path"]


def _comment_status(client, factory, comment_id, headers):
    return client.get(f"/v1/moderation/comments/{comment_id}", headers=headers).get_json()["status"]


def test_appeal_decided_by_the_first_moderator_is_refused_and_a_second_reverses_it(
    app, client, factory, embed_key, moderator
):
    second = factory.headers(factory.key("moderator"), origin=None)
    comment_id = _rejected_by(client, factory, embed_key, moderator)
    path = _statement_path(app, comment_id)

    before = client.get(path).get_json()["appeal"]
    assert before["possible"] is True and before["status"] is None

    appealed = client.post(f"{path}/appeal", json={"text": WHY})
    assert appealed.status_code == 201, appealed.get_json()
    appeal_id = appealed.get_json()["id"]
    again = client.post(f"{path}/appeal", json={"text": WHY})
    assert again.status_code == 409 and again.get_json()["code"] == "appeal-exists"

    queue = client.get("/v1/moderation/appeals", headers=second).get_json()
    assert [a["id"] for a in queue["appeals"]] == [appeal_id] and queue["next_cursor"] is None
    assert queue["appeals"][0]["text"] == WHY
    assert queue["appeals"][0]["comment"]["status"] == "rejected"

    url = f"/v1/moderation/appeals/{appeal_id}/decision"
    refused = client.post(url, json={"outcome": "reversed", "reason": "Fair criticism."}, headers=moderator)
    assert refused.status_code == 409
    problem = refused.get_json()
    assert problem["code"] == "appeal-same-decider" and "another moderator" in problem["detail"]
    # Nothing half-written: the appeal is still open, the comment still rejected.
    assert client.get(f"/v1/moderation/appeals/{appeal_id}", headers=second).get_json()["status"] == "open"
    assert _comment_status(client, factory, comment_id, second) == "rejected"

    decided = client.post(url, json={"outcome": "reversed", "reason": "Fair criticism."}, headers=second)
    assert decided.status_code == 200, decided.get_json()
    body = decided.get_json()
    assert (body["status"], body["outcome"], body["comment"]["status"]) == ("decided", "reversed", "approved")
    twice = client.post(url, json={"outcome": "upheld", "reason": "No."}, headers=second)
    assert twice.status_code == 409 and twice.get_json()["code"] == "appeal-decided"

    # Published again: the article's public thread shows it, and counts it.
    thread = client.get("/v1/articles/a1/comments", headers=factory.headers(embed_key)).get_json()
    assert [c["id"] for c in thread["comments"]] == [comment_id] and thread["total"] == 1
    # The trail holds both decisions, each by its own moderator.
    trail = client.get(f"/v1/moderation/comments/{comment_id}/events", headers=second).get_json()["items"]
    moves = [(e["from_status"], e["to_status"], e["actor"]) for e in reversed(trail)]
    first_actor, second_actor = moves[-2][2], moves[-1][2]
    assert moves[-2][:2] == ("approved", "rejected") and moves[-1][:2] == ("rejected", "approved")
    assert first_actor != second_actor and body["reversal_event_id"] == trail[0]["id"]

    # The author's link shows the outcome; the site is told.
    shown = client.get(path).get_json()["appeal"]
    assert (shown["status"], shown["outcome"], shown["reason"], shown["possible"]) == (
        "decided",
        "reversed",
        "Fair criticism.",
        False,
    )
    [told] = _events(app, "appeal.decided")
    assert (told["outcome"], told["comment_id"], told["statement_path"]) == ("reversed", comment_id, path)
    assert [e["id"] for e in _events(app, "comment.approved") if e["id"] == comment_id]


def test_an_upheld_appeal_keeps_the_comment_rejected(app, client, factory, embed_key, moderator):
    second = factory.headers(factory.key("moderator"), origin=None)
    comment_id = _rejected_by(client, factory, embed_key, moderator)
    appeal_id = client.post(f"{_statement_path(app, comment_id)}/appeal", json={"text": WHY}).get_json()["id"]
    decided = client.post(
        f"/v1/moderation/appeals/{appeal_id}/decision",
        json={"outcome": "upheld", "reason": "It insulted another reader."},
        headers=second,
    )
    assert decided.status_code == 200 and decided.get_json()["comment"]["status"] == "rejected"
    assert decided.get_json()["reversal_event_id"] is None


def test_appeals_are_taken_for_six_months_and_not_after(app, client, factory, embed_key, moderator):
    comment_id = _rejected_by(client, factory, embed_key, moderator)
    path = _statement_path(app, comment_id)
    late_id = _rejected_by(client, factory, embed_key, moderator, "Another view on the same question.")
    late_path = _statement_path(app, late_id)
    with app.app_context():  # the restrictions were decided five and seven months ago
        for cid, days in ((comment_id, 152), (late_id, 214)):
            db.session.execute(
                sa.update(Statement.__table__)
                .where(Statement.comment_id == cid)
                .values(created_at=datetime.now(UTC) - timedelta(days=days))
            )
        db.session.commit()

    assert client.post(f"{path}/appeal", json={"text": WHY}).status_code == 201
    late = client.post(f"{late_path}/appeal", json={"text": WHY})
    assert late.status_code == 409
    assert late.get_json()["code"] == "appeal-window-closed" and "6 months" in late.get_json()["detail"]
    assert client.get(late_path).get_json()["appeal"]["possible"] is False
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Appeal)) == 1


def test_an_automated_rejection_may_be_reviewed_by_any_moderator(
    app, client, factory, embed_key, moderator, reject_insults, insult_text
):
    comment_id = _post(factory, embed_key, insult_text)
    run_job(app, "issue-statements", force=True)
    appeal_id = client.post(f"{_statement_path(app, comment_id)}/appeal", json={"text": WHY}).get_json()["id"]
    assert (
        client.get(f"/v1/moderation/appeals/{appeal_id}", headers=moderator).get_json()["original_actor"]
        == "system"
    )
    decided = client.post(
        f"/v1/moderation/appeals/{appeal_id}/decision",
        json={"outcome": "reversed", "reason": "Quoting the article, not insulting."},
        headers=moderator,
    )
    assert decided.status_code == 200 and decided.get_json()["comment"]["status"] == "approved"


def test_bad_appeals_are_refused_naming_the_field(app, client, factory, embed_key, moderator):
    comment_id = _rejected_by(client, factory, embed_key, moderator)
    path = _statement_path(app, comment_id)
    for body in ({}, {"text": "short"}, {"text": "x" * (appeal_rules.MAX_TEXT + 1)}):
        response = client.post(f"{path}/appeal", json=body)
        assert response.status_code == 422, body
        assert response.get_json()["errors"][0]["field"] == "text"
    assert client.post(f"{path[:-2]}xx/appeal", json={"text": WHY}).status_code == 404
    appeal_id = client.post(f"{path}/appeal", json={"text": WHY}).get_json()["id"]
    bad = client.post(
        f"/v1/moderation/appeals/{appeal_id}/decision", json={"outcome": "maybe"}, headers=moderator
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"outcome", "reason"}


def test_the_appeals_queue_pages_with_a_cursor(app, client, factory, embed_key, moderator):
    ids = []
    for n in range(3):
        comment_id = _rejected_by(client, factory, embed_key, moderator, f"Comment number {n} on the piece.")
        ids.append(
            client.post(f"{_statement_path(app, comment_id)}/appeal", json={"text": WHY}).get_json()["id"]
        )
    first = client.get("/v1/moderation/appeals?limit=2", headers=moderator).get_json()
    rest = client.get(
        f"/v1/moderation/appeals?limit=2&cursor={first['next_cursor']}", headers=moderator
    ).get_json()
    assert [a["id"] for a in first["appeals"] + rest["appeals"]] == ids and rest["next_cursor"] is None
    assert client.get("/v1/moderation/appeals?cursor=nonsense", headers=moderator).status_code == 422


def test_the_window_counts_calendar_months():
    assert appeal_rules.deadline(datetime(2026, 8, 31, 12, tzinfo=UTC)) == datetime(
        2027, 2, 28, 12, tzinfo=UTC
    )
    assert appeal_rules.deadline(datetime(2026, 1, 15, tzinfo=UTC)) == datetime(2026, 7, 15, tzinfo=UTC)
    assert appeal_rules.refusal("deleted", datetime.now(UTC), datetime.now(UTC))[0] == "appeal-not-appealable"
    assert appeal_rules.same_decider("system", "system") is False
    assert appeal_rules.same_decider("user:3", "user:3") and not appeal_rules.same_decider("user:3", "user:4")


def _person_keys(app, factory, email, keys=1):
    """A moderator who is a person, with `keys` keys of their own (each acts as user:<id>)."""
    from service.accounts.store import create_account
    from service.sites import issue_key, site_by_slug

    with app.app_context():
        account = create_account(
            email.split("@")[0].title(), email, None, [(site_by_slug("daily").id, "moderator")]
        )
        issued = [issue_key(None, "moderator", "daily", owner_id=account.id)[1] for _ in range(keys)]
    return [factory.headers(key, origin=None) for key in issued]


def test_the_same_person_through_another_key_may_not_decide_and_another_person_may(
    app, client, factory, embed_key
):
    mia_first, mia_second = _person_keys(app, factory, "mia@daily.example", keys=2)
    [ned] = _person_keys(app, factory, "ned@daily.example")
    comment_id = _rejected_by(client, factory, embed_key, mia_first)
    appeal_id = client.post(f"{_statement_path(app, comment_id)}/appeal", json={"text": WHY}).get_json()["id"]
    url = f"/v1/moderation/appeals/{appeal_id}/decision"
    body = {"outcome": "reversed", "reason": "Fair criticism."}

    refused = client.post(url, json=body, headers=mia_second)  # the same person, another key
    assert refused.status_code == 409 and refused.get_json()["code"] == "appeal-same-decider"
    assert refused.get_json()["original_actor"].startswith("user:")
    decided = client.post(url, json=body, headers=ned)
    assert decided.status_code == 200 and decided.get_json()["comment"]["status"] == "approved"
    trail = client.get(f"/v1/moderation/comments/{comment_id}/events", headers=ned).get_json()["items"]
    reversal, restriction = trail[0], trail[1]
    assert (restriction["to_status"], reversal["to_status"]) == ("rejected", "approved")
    assert restriction["actor"] == refused.get_json()["original_actor"] != reversal["actor"]


def test_the_transparency_report_counts_appeals_and_reversals(app, client, factory, embed_key, moderator):
    second = factory.headers(factory.key("moderator"), origin=None)
    outcomes = ["reversed", "upheld", None]  # one left open
    for n, outcome in enumerate(outcomes):
        comment_id = _rejected_by(client, factory, embed_key, moderator, f"Comment number {n} on the piece.")
        path = _statement_path(app, comment_id)
        appeal_id = client.post(f"{path}/appeal", json={"text": WHY}).get_json()["id"]
        if outcome:
            decided = client.post(
                f"/v1/moderation/appeals/{appeal_id}/decision",
                json={"outcome": outcome, "reason": "Reviewed."},
                headers=second,
            )
            assert decided.status_code == 200
    with app.app_context():
        rows = db.session.execute(sa.select(Appeal.status, Appeal.outcome)).all()
    own = {
        "recorded": True,
        "received": len(rows),
        "decided": sum(status == "decided" for status, _ in rows),
        "reversed": sum(outcome == "reversed" for _, outcome in rows),
    }
    assert own == {"recorded": True, "received": 3, "decided": 2, "reversed": 1}
    now = datetime.now(UTC)
    period = {
        "site": "daily",
        "since": (now - timedelta(hours=1)).isoformat(),
        "until": (now + timedelta(hours=1)).isoformat(),
    }
    report = client.get("/v1/moderation/transparency", query_string=period, headers=moderator).get_json()
    assert report["appeals"] == own
