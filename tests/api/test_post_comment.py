"""Posting a comment through the public API: the whole path, validation, idempotency."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.db import Comment, IdempotencyRecord, ModerationEvent, OutboxEvent
from service.extensions import db


def count(app, table):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(table))


def test_friendly_comment_is_published_and_listed(factory, embed_key, client, friendly_text):
    response = factory.post(embed_key, text=friendly_text)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "approved" and body["published"] is True
    assert body["article_id"] == "a1"

    thread = client.get("/v1/articles/a1/comments", headers=factory.headers(embed_key)).get_json()
    assert [c["text"] for c in thread["comments"]] == [friendly_text]
    assert thread["total"] == 1
    assert thread["article"]["title"] == "Article a1"


def test_insult_is_held_and_not_listed(factory, embed_key, client, insult_text, app):
    body = factory.post(embed_key, text=insult_text).get_json()
    assert body["status"] == "held" and body["published"] is False

    thread = client.get("/v1/articles/a1/comments", headers=factory.headers(embed_key)).get_json()
    assert thread["comments"] == [] and thread["total"] == 0
    assert client.get(f"/v1/comments/{body['id']}", headers=factory.headers(embed_key)).status_code == 404

    with app.app_context():
        comment = db.session.get(Comment, body["id"])
        assert comment.model_name == "embedded" and comment.model_version
        assert any(r["code"] == "label_above_hold" for r in comment.reasons)
        event = db.session.execute(sa.select(ModerationEvent)).scalar_one()
        assert (event.actor, event.from_status, event.to_status) == ("system", None, "held")
        assert event.scores == comment.scores


def test_comment_and_its_events_are_written_together(factory, embed_key, app, client):
    """A new comment writes its row, one moderation event, two outbox events carrying its id, its
    author's counts and the thread's counters (on PostgreSQL all in one statement)."""
    from service.db import Article, Author

    body = factory.comment_body(reader_token=factory.reader_token("u-1"))
    answer = client.post("/v1/comments", json=body, headers=factory.headers(embed_key)).get_json()
    with app.app_context():
        comment = db.session.get(Comment, answer["id"])
        assert comment.status == "approved" and comment.author_key == "sso:u-1"
        event = db.session.execute(sa.select(ModerationEvent)).scalar_one()
        assert (event.comment_id, event.from_status, event.to_status) == (comment.id, None, "approved")
        assert event.scores == comment.scores and event.model_version == comment.model_version
        outbox = db.session.execute(sa.select(OutboxEvent).order_by(OutboxEvent.type)).scalars().all()
        assert [e.type for e in outbox] == ["comment.approved", "comment.created"]
        for e in outbox:
            assert e.comment_id == comment.id and e.event_id.startswith("msg_")
            assert e.payload["type"] == e.type and e.payload["data"]["id"] == comment.id
            assert e.payload["data"]["text"] == comment.text and "email" not in e.payload["data"]["author"]
        author = db.session.execute(sa.select(Author)).scalar_one()
        assert (author.author_key, author.approved_count, author.held_count) == ("sso:u-1", 1, 0)
        article = db.session.execute(sa.select(Article)).scalar_one()
        assert (article.approved_count, article.thread_version) == (1, 1)


def test_text_is_nfkc_normalised_and_cleaned(factory, embed_key, client, app):
    body = factory.post(
        embed_key, text="  Ｆｕｌｌ width\u202e and\x00 control \r\n\r\n\r\n\r\nok  "
    ).get_json()
    with app.app_context():
        assert db.session.get(Comment, body["id"]).text == "Full width and control \n\nok"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   \n\t "}, "text"),
        ({"text": "x" * 5001}, "text"),
        ({"text": 42}, "text"),
        ({"author": {"name": ""}}, "author.name"),
        ({"author": {"name": "n" * 81}}, "author.name"),
        ({"author": {"name": "Ada", "email": "not-an-email"}}, "author.email"),
        ({"author": None}, "author"),
        ({"article": {"id": "a1", "url": "javascript:alert(1)", "title": "t"}}, "article.url"),
        ({"article": {"id": "", "url": "https://news.example/a", "title": "t"}}, "article.id"),
        ({"article": {"id": "a1", "url": "https://news.example/a", "title": "t" * 501}}, "article.title"),
        ({"parent_id": "one"}, "parent_id"),
        ({"parent_id": 0}, "parent_id"),
        ({"unexpected": True}, "unexpected"),
    ],
)
def test_invalid_field_gets_422_naming_it_and_stores_nothing(factory, embed_key, client, app, change, field):
    body = factory.comment_body() | change
    response = client.post("/v1/comments", json=body, headers=factory.headers(embed_key))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "validation-error"
    assert field in [e["field"] for e in problem["errors"]]
    assert count(app, Comment) == 0 and count(app, OutboxEvent) == 0


def test_missing_fields_are_each_named(factory, embed_key, client):
    problem = client.post("/v1/comments", json={}, headers=factory.headers(embed_key)).get_json()
    assert {e["field"] for e in problem["errors"]} == {"article", "author", "text"}


def test_body_that_is_not_json_is_a_4xx_problem(factory, embed_key, client):
    response = client.post(
        "/v1/comments",
        data="{not json",
        headers=factory.headers(embed_key, **{"Content-Type": "application/json"}),
    )
    assert 400 <= response.status_code < 500
    assert response.get_json()["status"] == response.status_code


def test_oversized_body_is_refused_with_413(factory, embed_key, client):
    response = client.post(
        "/v1/comments", json=factory.comment_body(text="x" * 70_000), headers=factory.headers(embed_key)
    )
    assert response.status_code == 413
    assert response.get_json()["title"]


def test_reply_needs_an_approved_parent_of_the_same_article(factory, embed_key, insult_text):
    approved = factory.post(embed_key).get_json()["id"]
    held = factory.post(embed_key, text=insult_text).get_json()["id"]
    other_article = factory.post(embed_key, article="a2").get_json()["id"]

    assert factory.post(embed_key, parent_id=approved).status_code == 201
    for parent in (held, other_article, 999_999):
        response = factory.post(embed_key, parent_id=parent)
        assert response.status_code == 422
        assert response.get_json()["errors"][0]["field"] == "parent_id"


def test_closed_article_refuses_comments(factory, embed_key, client, app):
    factory.post(embed_key)
    admin = factory.key("admin")
    closed = client.patch(
        "/v1/admin/sites/daily/articles/a1",
        json={"closed": True},
        headers=factory.headers(admin, origin=None),
    )
    assert closed.status_code == 200 and closed.get_json()["closed"] is True
    response = factory.post(embed_key)
    assert response.status_code == 409
    assert response.get_json()["code"] == "article-closed"
    assert count(app, Comment) == 1


def test_premoderated_article_holds_even_friendly_comments(factory, embed_key, client):
    factory.post(embed_key)
    moderator = factory.key("moderator")
    client.patch(
        "/v1/admin/sites/daily/articles/a1",
        json={"premoderated": True},
        headers=factory.headers(moderator, origin=None),
    )
    assert factory.post(embed_key).get_json()["status"] == "held"
    assert factory.post(embed_key, article="other").get_json()["status"] == "approved"


def test_site_premoderation_and_word_lists_apply(factory, client):
    factory.site("strict", policy={"premoderation": True})
    factory.site("lists", policy={"banned_words": ["scumbag*"], "suspect_words": ["moron"]})
    strict, lists = factory.key("embed", "strict"), factory.key("embed", "lists")

    assert factory.post(strict).get_json()["status"] == "held"
    assert factory.post(lists, text="What a s c u m b a g s move.").get_json()["status"] == "rejected"
    assert factory.post(lists, text="Only a m0r0n would write this.").get_json()["status"] == "held"
    assert factory.post(lists, text="More moroccan food coverage please.").get_json()["status"] == "approved"


class TestIdempotency:
    def test_same_key_and_body_gives_the_same_answer_once(self, factory, embed_key, app):
        first = factory.post(embed_key, headers={"Idempotency-Key": "retry-1"})
        again = factory.post(embed_key, headers={"Idempotency-Key": "retry-1"})
        assert first.status_code == again.status_code == 201
        assert first.get_json() == again.get_json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert count(app, Comment) == 1 and count(app, IdempotencyRecord) == 1

    def test_same_key_other_body_is_a_conflict(self, factory, embed_key, app):
        factory.post(embed_key, headers={"Idempotency-Key": "retry-2"})
        response = factory.post(
            embed_key, text="A different comment.", headers={"Idempotency-Key": "retry-2"}
        )
        assert response.status_code == 409
        assert response.get_json()["code"] == "idempotency-key-reused"
        assert count(app, Comment) == 1

    def test_keys_are_per_site(self, factory, embed_key):
        factory.site("other", origins=("https://news.example",))
        other = factory.key("embed", "other")
        a = factory.post(embed_key, headers={"Idempotency-Key": "k"}).get_json()
        b = factory.post(other, headers={"Idempotency-Key": "k"}).get_json()
        assert a["id"] != b["id"]

    def test_overlong_key_is_refused(self, factory, embed_key):
        response = factory.post(embed_key, headers={"Idempotency-Key": "k" * 256})
        assert response.status_code == 422
        assert response.get_json()["errors"][0]["field"] == "Idempotency-Key"


def test_concurrent_retries_with_one_idempotency_key_store_one_comment(app, factory, embed_key):
    import threading

    body = factory.comment_body(text="Posted twice at the same moment by a flaky network.")
    headers = {**factory.headers(embed_key), "Idempotency-Key": "same-moment"}
    barrier = threading.Barrier(4)
    answers = []

    def post():
        client = app.test_client()
        barrier.wait()
        response = client.post("/v1/comments", json=body, headers=headers)
        answers.append((response.status_code, response.get_json()["id"]))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 4
    assert {code for code, _ in answers} == {201}
    assert len({comment_id for _, comment_id in answers}) == 1
    assert count(app, Comment) == 1 and count(app, OutboxEvent) == 2
