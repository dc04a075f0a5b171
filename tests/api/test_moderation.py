"""The moderators' API: queues, decisions, reports, authors, audit, stats, simulation."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from service.db import Comment, ModerationEvent, OutboxEvent, Report
from service.extensions import db


@pytest.fixture
def mod(factory, embed_key):
    """Headers of a moderator of the 'daily' site."""
    return factory.headers(factory.key("moderator"), origin=None)


@pytest.fixture
def held(factory, embed_key, insult_text):
    """Three held comments (an insult each), oldest first."""
    return [factory.post(embed_key, text=f"{insult_text} #{i}").get_json()["id"] for i in range(3)]


def queue(client, mod, **params):
    response = client.get("/v1/moderation/comments", query_string=params, headers=mod)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def decide(client, mod, comment_id, status, version=None, **extra):
    headers = dict(mod)
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return client.post(
        f"/v1/moderation/comments/{comment_id}/decision", json={"status": status, **extra}, headers=headers
    )


def events_of(app, comment_id):
    with app.app_context():
        return (
            db.session.execute(
                sa.select(ModerationEvent)
                .where(ModerationEvent.comment_id == comment_id)
                .order_by(ModerationEvent.id)
            )
            .scalars()
            .all()
        )


def test_queue_items_carry_what_a_moderator_needs(client, factory, embed_key, mod, insult_text):
    parent = factory.post(embed_key, text="The council voted yesterday.").get_json()["id"]
    body = factory.comment_body(text=insult_text, parent_id=parent)
    body["reader_token"] = factory.reader_token("u-9", "Troll", email="troll@example.org")
    client.post("/v1/comments", json=body, headers=factory.headers(embed_key))

    (item,) = queue(client, mod)["items"]
    assert item["text"] == insult_text and item["status"] == "held"
    assert item["author"] == {
        "name": "Troll",
        "email": "troll@example.org",
        "user_id": "u-9",
        "key": "sso:u-9",
        "verified": True,
        "history": {"approved": 0, "rejected": 0, "held": 1},
    }
    assert item["article"] == {
        "id": "a1",
        "title": "Article a1",
        "url": "https://news.example/news/a1",
        "verified": False,
    }
    assert item["parent"]["id"] == parent and item["parent"]["text"] == "The council voted yesterday."
    assert set(item["scores"]) >= {"toxicity", "insult"} and item["model"]["name"] == "embedded"
    assert any(r["code"] == "label_above_hold" for r in item["reasons"])
    spans = item["highlights"]["insult"]
    assert any(
        "idiot" in insult_text[s["start"] : s["end"]] or "stupid" in insult_text[s["start"] : s["end"]]
        for s in spans
    )


def test_queue_answers_are_exactly_what_their_schemas_document(client, factory, embed_key, mod, insult_text):
    """Queue pages skip the schema's dump for speed: loading them with the documented schema
    (unknown or missing fields raise) and dumping again must give back the same JSON."""
    from service.schemas.moderation import QueueItemSchema, QueuePageSchema

    parent = factory.post(embed_key, text="The council voted yesterday.").get_json()["id"]
    body = factory.comment_body(text=insult_text, parent_id=parent)
    body["author"] = {"name": "Tröll", "email": "troll@example.org", "user_id": "u-9"}
    held_id = client.post("/v1/comments", json=body, headers=factory.headers(embed_key)).get_json()["id"]
    reply = client.post(
        f"/v1/comments/{parent}/reports",
        json={"reason": "spam", "note": "ads"},
        headers=factory.headers(embed_key),
    )
    assert reply.status_code == 201
    for params in ({"queue": "held"}, {"queue": "reported"}, {"queue": "approved", "sort": "newest"}):
        page = queue(client, mod, **params)
        assert page["items"], params
        assert QueuePageSchema().dump(QueuePageSchema().load(page)) == page
    one = client.get(f"/v1/moderation/comments/{held_id}", headers=mod)
    assert one.headers["ETag"] == f'"{one.get_json()["version"]}"'
    assert QueueItemSchema().dump(QueueItemSchema().load(one.get_json())) == one.get_json()
    decided = decide(client, mod, held_id, "approved", one.get_json()["version"])
    assert decided.status_code == 200 and decided.get_json()["status"] == "approved"
    assert QueueItemSchema().dump(QueueItemSchema().load(decided.get_json())) == decided.get_json()


def test_word_reasons_mark_the_matched_words(client, factory, mod):
    factory.site("lists", policy={"suspect_words": ["moron"]})
    key = factory.key("embed", "lists")
    factory.post(key, text="Only a m0r0n believes this.")
    lists_mod = factory.headers(factory.key("moderator", "lists"), origin=None)
    (item,) = queue(client, lists_mod)["items"]
    (reason,) = [r for r in item["reasons"] if r["code"] == "suspect_word"]
    assert reason == {"code": "suspect_word", "word": "moron", "start": 7, "end": 12, "matched": "m0r0n"}


def test_counts_filters_and_sorts(client, factory, embed_key, mod, held):
    factory.post(embed_key)  # approved
    counts = client.get("/v1/moderation/queues", headers=mod).get_json()
    assert counts == {"held": 3, "pending": 0, "reported": 0, "rejected": 0, "approved": 1, "over_cap": []}

    assert [i["id"] for i in queue(client, mod)["items"]] == held
    assert [i["id"] for i in queue(client, mod, sort="newest")["items"]] == held[::-1]
    toxic = queue(client, mod, sort="toxic")["items"]
    assert [i["scores"] for i in toxic] == sorted(
        [i["scores"] for i in toxic], key=lambda s: -max(s.values())
    )
    assert [i["id"] for i in queue(client, mod, q="#1")["items"]] == [held[1]]
    assert [i["id"] for i in queue(client, mod, q="100%")["items"]] == []
    assert len(queue(client, mod, label="insult", min_score=0.5)["items"]) == 3
    assert queue(client, mod, label="insult", min_score=1.0)["items"] == []
    assert len(queue(client, mod, queue="approved", author="ada@example.org")["items"]) == 1
    assert queue(client, mod, since="2100-01-01T00:00:00Z")["items"] == []
    assert len(queue(client, mod, site="daily", article="a1")["items"]) == 3


def test_queue_narrowed_to_an_author_or_an_article_filters_sorts_and_pages(
    client, factory, embed_key, mod, insult_text
):
    # On PostgreSQL these pages read the author's or the article's comments first, then filter,
    # sort and cut them (service/queue.py): the other filters and the cursor still apply.
    troll = factory.reader_token("u-7", "Troll")
    mine = [
        factory.post(embed_key, text=f"{insult_text} #{i}", article=f"a{i % 2}", reader_token=troll)
        for i in range(4)
    ]
    assert {r.get_json()["status"] for r in mine} == {"held"}
    mine = [r.get_json()["id"] for r in mine]
    other = factory.post(embed_key, text=f"{insult_text} #9", article="a0").get_json()["id"]

    assert [i["id"] for i in queue(client, mod, author="u-7", sort="newest")["items"]] == mine[::-1]
    first = queue(client, mod, author="u-7", limit=3)
    second = queue(client, mod, author="u-7", limit=3, cursor=first["next_cursor"])
    assert [i["id"] for i in first["items"] + second["items"]] == mine
    assert second["next_cursor"] is None
    assert first["items"][0]["author"]["history"] == {"approved": 0, "rejected": 0, "held": 4}
    assert [i["id"] for i in queue(client, mod, author="u-7", q="#2")["items"]] == [mine[2]]
    assert queue(client, mod, queue="approved", author="u-7")["items"] == []
    on_a0 = queue(client, mod, site="daily", article="a0")["items"]
    assert [i["id"] for i in on_a0] == [mine[0], mine[2], other]
    both = queue(client, mod, site="daily", article="a0", author="u-7", sort="newest")["items"]
    assert [(i["id"], i["article"]["id"]) for i in both] == [(mine[2], "a0"), (mine[0], "a0")]
    assert queue(client, mod, site="daily", article="no-such-article")["items"] == []


def test_queue_pages_by_cursor_in_every_sort(client, mod, held):
    for sort in ("oldest", "newest", "toxic", "reported"):
        page = queue(client, mod, sort=sort, limit=2)
        seen = [i["id"] for i in page["items"]]
        page = queue(client, mod, sort=sort, limit=2, cursor=page["next_cursor"])
        seen += [i["id"] for i in page["items"]]
        assert sorted(seen) == sorted(held) and page["next_cursor"] is None, sort


def test_bad_queue_parameters_are_422(client, mod):
    for params in (
        {"queue": "spam"},
        {"sort": "random"},
        {"label": "rudeness"},
        {"limit": 500},
        {"cursor": "xx"},
    ):
        response = client.get("/v1/moderation/comments", query_string=params, headers=mod)
        assert response.status_code == 422, params


def test_approve_publishes_and_writes_one_event(client, factory, embed_key, mod, held, app):
    response = decide(client, mod, held[0], "approved", version=1)
    assert response.status_code == 200
    assert response.get_json()["status"] == "approved" and response.headers["ETag"] == '"2"'
    thread = client.get("/v1/articles/a1/comments", headers=factory.headers(embed_key)).get_json()
    assert [c["id"] for c in thread["comments"]] == [held[0]]
    trail = events_of(app, held[0])
    assert [(e.from_status, e.to_status) for e in trail] == [(None, "held"), ("held", "approved")]
    assert trail[1].actor.startswith("integration:") and trail[1].scores == trail[0].scores


def test_stale_version_gets_409_with_the_current_state(client, mod, held, app):
    assert decide(client, mod, held[0], "approved", version=1).status_code == 200
    late = decide(client, mod, held[0], "rejected", version=1, reason="abuse")
    assert late.status_code == 409
    problem = late.get_json()
    assert problem["code"] == "version-conflict"
    assert problem["current"] == {"id": held[0], "status": "approved", "version": 2}
    assert len(events_of(app, held[0])) == 2


def test_reject_needs_a_reason_from_the_site_list(client, mod, held):
    response = decide(client, mod, held[0], "rejected")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "reason"
    ok = decide(client, mod, held[0], "rejected", reason="abuse", note="personal attack")
    assert ok.status_code == 200 and ok.get_json()["status"] == "rejected"


def test_bulk_decisions_report_each_comment(client, mod, held):
    response = client.post(
        "/v1/moderation/decisions",
        json={
            "decisions": [
                {"id": held[0], "status": "approved", "version": 1},
                {"id": held[1], "status": "approved", "version": 7},
                {"id": 999_999, "status": "approved"},
                {"id": held[2], "status": "rejected", "reason": "spam"},
            ]
        },
        headers=mod,
    )
    assert response.status_code == 200
    results = {r["id"]: r for r in response.get_json()["results"]}
    assert results[held[0]]["ok"] and results[held[0]]["status"] == "approved"
    assert not results[held[1]]["ok"] and results[held[1]]["error"]["code"] == "version-conflict"
    assert not results[999_999]["ok"] and results[999_999]["error"]["status"] == 404
    assert results[held[2]]["ok"] and results[held[2]]["status"] == "rejected"
    assert client.get("/v1/moderation/queues", headers=mod).get_json()["held"] == 1


def test_bulk_is_limited_to_100_distinct_comments(client, mod):
    too_many = [{"id": i, "status": "approved"} for i in range(1, 102)]
    assert (
        client.post("/v1/moderation/decisions", json={"decisions": too_many}, headers=mod).status_code == 422
    )
    twice = [{"id": 1, "status": "approved"}, {"id": 1, "status": "held"}]
    assert client.post("/v1/moderation/decisions", json={"decisions": twice}, headers=mod).status_code == 422


def test_moderators_only_reach_their_sites(client, factory, held):
    factory.site("rival")
    rival = factory.headers(factory.key("moderator", "rival"), origin=None)
    assert queue(client, rival)["items"] == []
    assert decide(client, rival, held[0], "approved").status_code == 404
    assert client.get(f"/v1/moderation/comments/{held[0]}", headers=rival).status_code == 404
    embed = factory.headers(factory.key("embed"))
    assert client.get("/v1/moderation/comments", headers=embed).status_code == 403


class TestReports:
    @pytest.fixture
    def published(self, factory, embed_key):
        return factory.post(embed_key).get_json()["id"]

    def report(self, client, factory, embed_key, comment_id, reader, reason="abuse"):
        return client.post(
            f"/v1/comments/{comment_id}/reports",
            json={"reason": reason, "note": "rude", "reader_token": factory.reader_token(reader)},
            headers=factory.headers(embed_key),
        )

    def test_threshold_sends_a_published_comment_back_to_the_queue(
        self, client, factory, embed_key, mod, published, app
    ):
        for reader in ("r1", "r2"):
            assert self.report(client, factory, embed_key, published, reader).status_code == 201
        assert queue(client, mod, queue="reported")["items"][0]["status"] == "approved"
        assert (
            self.report(client, factory, embed_key, published, "r3").status_code == 201
        )  # default threshold: 3

        (item,) = queue(client, mod, queue="reported")["items"]
        assert item["status"] == "held" and item["report_count"] == 3
        assert [r["reason"] for r in item["reports"]] == ["abuse"] * 3
        thread = client.get("/v1/articles/a1/comments", headers=factory.headers(embed_key)).get_json()
        assert thread["total"] == 0
        with app.app_context():
            types = db.session.execute(
                sa.select(OutboxEvent.type).where(OutboxEvent.type == "comment.reported")
            ).all()
        assert len(types) == 3

        # A moderator's decision closes the reports: the comment leaves the reported queue.
        assert decide(client, mod, published, "approved").status_code == 200
        assert queue(client, mod, queue="reported")["items"] == []

    def test_one_report_per_reader(self, client, factory, embed_key, published):
        assert self.report(client, factory, embed_key, published, "r1").status_code == 201
        again = self.report(client, factory, embed_key, published, "r1")
        assert again.status_code == 409 and again.get_json()["code"] == "already-reported"

    def test_anonymous_readers_are_told_apart_by_a_keyed_hash(
        self, client, factory, embed_key, published, app
    ):
        first = client.post(
            f"/v1/comments/{published}/reports", json={"reason": "spam"}, headers=factory.headers(embed_key)
        )
        again = client.post(
            f"/v1/comments/{published}/reports", json={"reason": "spam"}, headers=factory.headers(embed_key)
        )
        assert (first.status_code, again.status_code) == (201, 409)
        with app.app_context():
            (key,) = db.session.execute(sa.select(Report.reporter_key)).scalars()
        assert key.startswith("net:") and "127.0.0" not in key

    def test_only_published_comments_and_known_reasons(self, client, factory, embed_key, held, published):
        assert self.report(client, factory, embed_key, held[0], "r1").status_code == 404
        response = self.report(client, factory, embed_key, published, "r1", reason="boring")
        assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "reason"

    @pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_REPORT": "2 per minute"}])
    def test_reports_are_rate_limited(self, client, factory, embed_key, published):
        codes = [self.report(client, factory, embed_key, published, f"r{i}").status_code for i in range(3)]
        assert codes == [201, 201, 429]
        limited = self.report(client, factory, embed_key, published, "r9")
        assert int(limited.headers["Retry-After"]) > 0 and limited.get_json()["status"] == 429


class TestAuthors:
    def set(self, client, mod, key, **body):
        return client.put(
            "/v1/moderation/authors", query_string={"site": "daily", "key": key}, json=body, headers=mod
        )

    def test_banned_author_is_rejected_and_trusted_author_skips_premoderation(self, client, factory, mod):
        factory.site("strict", policy={"premoderation": True})
        strict = factory.key("embed", "strict")
        strict_mod = factory.headers(factory.key("moderator", "strict"), origin=None)
        body = factory.comment_body(site="strict")
        body["reader_token"] = factory.reader_token("u1", site="strict")

        def post():
            return client.post("/v1/comments", json=body, headers=factory.headers(strict)).get_json()[
                "status"
            ]

        assert post() == "held"

        def put(**b):
            return client.put(
                "/v1/moderation/authors",
                query_string={"site": "strict", "key": "sso:u1"},
                json=b,
                headers=strict_mod,
            )  # noqa: E731

        assert put(standing="trusted").get_json()["standing"] == "trusted"
        assert post() == "approved"
        assert put(standing="banned", note="spam bot").status_code == 200
        assert post() == "rejected"
        assert (
            put(standing="suspended", suspended_until="2000-01-01T00:00:00Z").get_json()["standing"]
            == "regular"
        )
        assert post() == "held"

    def test_trust_is_earned_by_approved_comments(self, client, factory, embed_key, mod):
        factory.site("strict", policy={"premoderation": True, "trust_after_approved": 2})
        strict = factory.key("embed", "strict")
        strict_mod = factory.headers(factory.key("moderator", "strict"), origin=None)
        body = factory.comment_body(site="strict")
        body["reader_token"] = factory.reader_token("regular-reader", site="strict")
        for _ in range(2):
            comment_id = client.post("/v1/comments", json=body, headers=factory.headers(strict)).get_json()[
                "id"
            ]
            assert decide(client, strict_mod, comment_id, "approved").status_code == 200
        assert (
            client.post("/v1/comments", json=body, headers=factory.headers(strict)).get_json()["status"]
            == "approved"
        )

    def test_suspension_needs_an_end(self, client, mod):
        response = self.set(client, mod, "sso:x", standing="suspended")
        assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "suspended_until"


def test_erasure_keeps_the_audit_trail_and_no_personal_data(
    client, factory, embed_key, mod, app, insult_text
):
    body = factory.comment_body(text=insult_text + " Call me at 555-0100.")
    body["author"] = {"name": "Private Person", "email": "private@example.org", "user_id": "u-private"}
    comment_id = client.post("/v1/comments", json=body, headers=factory.headers(embed_key)).get_json()["id"]
    assert decide(client, mod, comment_id, "approved").status_code == 200

    response = client.delete(
        f"/v1/moderation/comments/{comment_id}", json={"note": "reader's request"}, headers=mod
    )
    assert response.status_code == 200 and response.get_json()["status"] == "deleted"

    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        stored = json.dumps(
            {
                "comment": [
                    comment.text,
                    comment.author_name,
                    comment.author_email,
                    comment.author_user_id,
                    comment.author_key,
                    comment.reasons,
                ],
                "events": [[e.reason, e.note, e.reasons] for e in events_of(app, comment_id)],
                "outbox": [e.payload for e in db.session.execute(sa.select(OutboxEvent)).scalars()],
            }
        )
    for secret in ("Private Person", "private@example.org", "u-private", "555-0100", "idiot"):
        assert secret not in stored
    assert [e.to_status for e in events_of(app, comment_id)] == ["held", "approved", "deleted"]
    assert client.get("/v1/articles/a1/comments", headers=factory.headers(embed_key)).get_json()["total"] == 0


def test_audit_events_are_filterable_and_read_only(client, mod, held):
    decide(client, mod, held[0], "approved")
    events = client.get(
        "/v1/moderation/events", query_string={"to_status": "approved"}, headers=mod
    ).get_json()["items"]
    assert [e["comment_id"] for e in events] == [held[0]]
    trail = client.get(f"/v1/moderation/comments/{held[0]}/events", headers=mod).get_json()["items"]
    assert [e["to_status"] for e in trail] == ["approved", "held"]
    event_id = trail[0]["id"]
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(f"/v1/moderation/events/{event_id}", headers=mod).status_code in (
            404,
            405,
        )


def test_events_cannot_be_changed_through_the_orm(app, held):
    with app.app_context():
        event = db.session.execute(sa.select(ModerationEvent)).scalars().first()
        event.note = "tampered"
        with pytest.raises(ValueError, match="immutable"):
            db.session.flush()


def test_stats_show_decisions_and_agreement(client, factory, embed_key, mod, held):
    decide(client, mod, held[0], "rejected", reason="abuse")
    decide(client, mod, held[1], "approved")
    stats = client.get("/v1/moderation/stats", query_string={"site": "daily"}, headers=mod).get_json()
    assert stats["queues"]["held"] == 1 and stats["reviewed"] == 2
    (day,) = stats["decisions_per_day"]
    assert day["automatic"] == {"held": 3} and day["moderators"] == {"approved": 1, "rejected": 1}
    assert stats["agreement"]["insult"] == {"held_by_model": 2, "precision": 0.5, "recall": 1.0}
    assert stats["median_seconds_in_queue"] >= 0


def test_simulation_reports_changes_and_changes_nothing(client, factory, embed_key, mod, held, app):
    factory.post(embed_key)

    def snapshot():
        with app.app_context():
            return (
                [
                    (c.id, c.status, c.version)
                    for c in db.session.execute(sa.select(Comment).order_by(Comment.id)).scalars()
                ],
                db.session.scalar(sa.select(sa.func.count()).select_from(ModerationEvent)),
                db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)),
            )

    before = snapshot()
    lenient = {
        "thresholds": {
            label: {"hold": None, "reject": None}
            for label in ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack")
        }
    }
    result = client.post(
        "/v1/moderation/sites/daily/simulate", json={"policy": lenient, "last": 100}, headers=mod
    ).get_json()
    assert result["compared"] == 4 and result["changed"] == 3
    assert result["changes"] == {"held->approved": 3}
    assert result["current"] == {"held": 3, "approved": 1} and result["proposed"] == {"approved": 4}
    assert snapshot() == before
    strict = client.post(
        "/v1/moderation/sites/daily/simulate", json={"policy": {"premoderation": True}}, headers=mod
    ).get_json()
    assert strict["changes"] == {"approved->held": 1}


def test_author_counts_follow_every_transition(client, factory, embed_key, mod, app, insult_text):
    """The authors' history counts are kept by the transitions; a recount from the comments
    themselves finds nothing to change after posts, decisions, bulk decisions, reports and erasure."""
    from service.authors import recount
    from service.db import Author

    def post(text, user):
        body = factory.comment_body(text=text, reader_token=factory.reader_token(user))
        return client.post("/v1/comments", json=body, headers=factory.headers(embed_key)).get_json()

    friendly = [post(f"Thanks for the clear report #{i}", "u-1") for i in range(3)]
    insults = [post(f"{insult_text} #{i}", user) for i, user in enumerate(["u-1", "u-2", "u-2"])]
    assert {c["status"] for c in friendly} == {"approved"} and {c["status"] for c in insults} == {"held"}
    assert decide(client, mod, insults[0]["id"], "rejected", reason="abuse").status_code == 200
    assert decide(client, mod, friendly[0]["id"], "held").status_code == 200
    bulk = client.post(
        "/v1/moderation/decisions",
        json={"decisions": [{"id": c["id"], "status": "approved"} for c in insults[1:]]},
        headers=mod,
    )
    assert bulk.status_code == 200
    erased = client.delete(f"/v1/moderation/comments/{friendly[1]['id']}", json={}, headers=mod)
    assert erased.status_code == 200

    def counts():
        with app.app_context():
            rows = db.session.execute(sa.select(Author).order_by(Author.author_key)).scalars()
            return {a.author_key: (a.approved_count, a.rejected_count, a.held_count) for a in rows}

    kept = counts()
    # u-1: friendly[2] approved, friendly[0] held, friendly[1] erased, insults[0] rejected.
    assert kept == {"sso:u-1": (1, 1, 1), "sso:u-2": (2, 0, 0)}
    with app.app_context():
        recount()
    assert counts() == kept
    history = queue(client, mod, queue="held")["items"][0]["author"]["history"]
    assert history == {"approved": 1, "rejected": 1, "held": 1}
