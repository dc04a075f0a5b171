"""The transparency report (DSA Art. 15 and 24), through the API on both databases: its counts
equal what the test counts on its own from the notices, statements and events it made."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from service.db import ModerationEvent
from service.extensions import db
from service.governance import transparency
from service.governance.tables import Notice, Statement
from service.jobs.schedule import run_job

REPORTER = {"name": "Rita Reporter", "email": "rita@reporter.example", "good_faith": True}
HATE = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
PRIVACY = "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"
VIOLENCE = "STATEMENT_CATEGORY_VIOLENCE"


def _post(factory, key, text="Thanks for this well-researched article.", **extra) -> int:
    response = factory.post(key, text, **extra)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _person(app, factory, email="mia@daily.example"):
    """A moderator who is a person (their key acts as user:<id>)."""
    from service.accounts.store import create_account
    from service.sites import issue_key, site_by_slug

    with app.app_context():
        account = create_account("Mia Moderator", email, None, [(site_by_slug("daily").id, "moderator")])
        key = issue_key(None, "moderator", "daily", owner_id=account.id)[1]
    return factory.headers(key, origin=None)


def _notice(client, factory, key, comment_id, category):
    body = {
        "category": category,
        "explanation": "This comment breaks the law, as explained here.",
        **REPORTER,
    }
    response = client.post(f"/v1/comments/{comment_id}/notices", json=body, headers=factory.headers(key))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _decide(client, headers, notice_id, **decision):
    response = client.post(f"/v1/moderation/notices/{notice_id}/decision", json=decision, headers=headers)
    assert response.status_code == 200, response.get_json()


def _activity(app, client, factory, embed_key, moderator, insult_text):
    """Notices of three categories, decisions by a person, an integration and the policy."""
    person = _person(app, factory)
    automatic = _post(factory, embed_key, insult_text, name="Troll")  # rejected by the policy
    hateful, private, violent, kept = (_post(factory, embed_key, name=n) for n in ("Al", "Bea", "Cy", "Di"))
    first = _notice(client, factory, embed_key, hateful, HATE)
    second = _notice(client, factory, embed_key, private, PRIVACY)
    third = _notice(client, factory, embed_key, violent, VIOLENCE)
    _notice(client, factory, embed_key, kept, HATE)  # left open
    _decide(client, person, first, decision="illegal", legal_ground="§ 130 StGB")
    _decide(client, moderator, second, decision="site_rules", restrict=True, reason="personal-data")
    _decide(client, person, third, decision="not_illegal")
    rude = _post(factory, embed_key, "I disagree with the premise of this piece.", name="Ed")
    decided = client.post(
        f"/v1/moderation/comments/{rude}/decision",
        json={"status": "rejected", "reason": "abuse"},
        headers=person,
    )
    assert decided.status_code == 200, decided.get_json()
    assert client.delete(f"/v1/moderation/comments/{kept}", json={}, headers=moderator).status_code == 200
    banned = client.put(
        "/v1/moderation/authors?site=daily&key=sso:reader-9", json={"standing": "banned"}, headers=person
    )
    assert banned.status_code == 200, banned.get_json()
    assert run_job(app, "issue-statements", force=True).outcome == "done"
    return automatic


def _period():
    now = datetime.now(UTC)
    return {
        "site": "daily",
        "since": (now - timedelta(hours=1)).isoformat(),
        "until": (now + timedelta(minutes=5)).isoformat(),
    }


def _own_counts(app):
    """What the report should say, counted row by row in Python from the tables themselves."""
    with app.app_context():
        notices = list(db.session.execute(sa.select(Notice)).scalars())
        statements = list(db.session.execute(sa.select(Statement)).scalars())
        events = {e.id: e for e in db.session.execute(sa.select(ModerationEvent)).scalars()}
        decided = [n for n in notices if n.decided_at is not None]
        model = 0
        for statement in statements:
            event = events.get(statement.moderation_event_id)
            reasons = (event.reasons if event else None) or []
            model += bool(reasons) and reasons[0].get("code", "").startswith("label_above")
        kind = transparency.actor_kind
        return {
            "by_category": dict(Counter(n.category for n in notices)),
            "by_decision": Counter(n.decision for n in decided),
            "median": transparency.median((n.decided_at - n.created_at).total_seconds() for n in decided),
            "by_ground": Counter(s.ground for s in statements),
            "by_kind": Counter(s.restriction for s in statements),
            "by_automation": Counter(s.automated_decision for s in statements),
            "model": model,
            "by_actor": Counter(kind(e.actor) for e in events.values()),
            "outcomes": Counter((kind(e.actor), e.to_status) for e in events.values()),
            "total": len(statements),
        }


def _nonzero(counts: dict) -> dict:
    return {key: value for key, value in counts.items() if value}


def test_the_report_counts_what_happened(
    app, client, factory, embed_key, moderator, reject_insults, insult_text
):
    _activity(app, client, factory, embed_key, moderator, insult_text)
    response = client.get("/v1/moderation/transparency", query_string=_period(), headers=moderator)
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    own = _own_counts(app)

    notices = report["notices"]
    assert notices["by_category"] == own["by_category"] == {HATE: 2, PRIVACY: 1, VIOLENCE: 1}
    assert notices["received"] == 4 and notices["decided"] == 3
    assert _nonzero(notices["by_decision"]) == own["by_decision"]
    assert own["by_decision"] == {"illegal": 1, "site_rules": 1, "not_illegal": 1}
    assert notices["median_seconds_to_decision"] == own["median"]

    restrictions = report["restrictions"]
    assert restrictions["total"] == own["total"] == 6  # policy, two notices, a rejection, a deletion, a ban
    assert _nonzero(restrictions["by_ground"]) == own["by_ground"] == {"illegal": 1, "site_rules": 5}
    assert _nonzero(restrictions["by_kind"]) == own["by_kind"]
    assert own["by_kind"] == {"rejected": 4, "deleted": 1, "banned": 1}
    assert _nonzero(restrictions["by_automation"]) == own["by_automation"]
    assert restrictions["by_automation"]["fully"] == 1  # the policy's rejection
    assert restrictions["model_detected"] == own["model"] == 1  # the insult, flagged by the model
    assert restrictions["model_share"] == round(1 / 6, 4)

    decisions = report["decisions"]
    assert _nonzero(decisions["by_actor"]) == own["by_actor"]
    assert (
        own["by_actor"]["human"] == 2 and own["by_actor"]["integration"] == 2
    )  # mia; the key (a ban is no event)
    assert decisions["total"] == sum(own["by_actor"].values())
    outcomes = {(k, s): n for k, by in decisions["by_outcome"].items() for s, n in by.items() if n}
    assert outcomes == own["outcomes"]
    assert report["appeals"] == {"recorded": True, "received": 0, "decided": 0, "reversed": 0}


def test_the_report_as_csv_and_its_period(
    app, client, factory, embed_key, moderator, reject_insults, insult_text
):
    _activity(app, client, factory, embed_key, moderator, insult_text)
    period = _period()
    as_json = client.get("/v1/moderation/transparency", query_string=period, headers=moderator).get_json()
    for response in (
        client.get(
            "/v1/moderation/transparency", query_string={**period, "format": "csv"}, headers=moderator
        ),
        client.get(
            "/v1/moderation/transparency", query_string=period, headers={**moderator, "Accept": "text/csv"}
        ),
    ):
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        rows = {
            (r["section"], r["key"]): r["value"]
            for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))
        }
        assert rows[("notices", f"by_category.{HATE}")] == "2"
        assert rows[("restrictions", "total")] == str(as_json["restrictions"]["total"])
        assert rows[("decisions", "by_actor.human")] == str(as_json["decisions"]["by_actor"]["human"])

    # A period before any of it counts nothing.
    earlier = {"site": "daily", "since": "2020-01-01T00:00:00Z", "until": "2020-02-01T00:00:00Z"}
    empty = client.get("/v1/moderation/transparency", query_string=earlier, headers=moderator).get_json()
    assert (empty["notices"]["received"], empty["restrictions"]["total"], empty["decisions"]["total"]) == (
        0,
        0,
        0,
    )
    assert (
        empty["notices"]["median_seconds_to_decision"] is None
        and empty["restrictions"]["model_share"] is None
    )


def test_bad_periods_and_other_sites_are_refused(client, factory, embed_key, moderator):
    backwards = {"site": "daily", "since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
    response = client.get("/v1/moderation/transparency", query_string=backwards, headers=moderator)
    assert response.status_code == 422 and "until" in response.get_data(as_text=True)
    garbled = client.get("/v1/moderation/transparency?site=daily&since=yesterday", headers=moderator)
    assert garbled.status_code == 422 and "since" in garbled.get_data(as_text=True)
    assert (
        client.get("/v1/moderation/transparency?site=daily&format=xml", headers=moderator).status_code == 422
    )
    factory.site("weekly")
    assert client.get("/v1/moderation/transparency?site=weekly", headers=moderator).status_code == 404
    assert (
        client.get("/v1/moderation/transparency?site=daily", headers=factory.headers(embed_key)).status_code
        == 403
    )


def test_rules_median_actors_and_csv():
    assert transparency.median([]) is None
    assert transparency.median([5.0, 1.0, 3.0]) == 3.0
    assert transparency.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert [transparency.actor_kind(a) for a in ("system", "user:3", "integration:4", "key:9")] == [
        "automated",
        "human",
        "integration",
        "integration",
    ]
