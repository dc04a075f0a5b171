"""Authors' own comments through the public API: edit within the site's window (rescored and
decided again, history for moderators), delete, and see their own comment awaiting review."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.db import Comment, ModerationEvent, OutboxEvent
from service.extensions import db
from service.governance.tables import Statement


@pytest.fixture
def mod(factory, embed_key):
    return factory.headers(factory.key("moderator"), origin=None)


def post(factory, key, text="Thanks for this well-researched article.", **extra):
    answer = factory.post(key, text=text, **extra)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def edit(client, factory, key, comment_id, text, token=None, reader=None):
    headers = factory.headers(key)
    if token is not None:
        headers["Author-Token"] = token
    if reader is not None:
        headers["Reader-Token"] = reader
    return client.patch(f"/v1/comments/{comment_id}", json={"text": text}, headers=headers)


def delete(client, factory, key, comment_id, token):
    return client.delete(
        f"/v1/comments/{comment_id}", headers=factory.headers(key, **{"Author-Token": token})
    )


def thread(client, factory, key, **headers):
    return client.get("/v1/articles/a1/comments", headers=factory.headers(key, **headers))


def backdate(app, comment_id, minutes):
    """Move a comment's posting time back: the clock the edit window is measured on."""
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        comment.created_at = comment.created_at - timedelta(minutes=minutes)
        db.session.commit()


def test_posting_returns_an_author_token_and_the_edit_window(factory, embed_key, app):
    created = post(factory, embed_key)
    token = created["author_token"]
    assert token.startswith(f"at_{created['id']}_") and len(token) > 40
    assert created["editable_until"] > created["created_at"]
    with app.app_context():
        stored = db.session.get(Comment, created["id"])
        assert stored.author_token_hash and token not in stored.author_token_hash
        assert token.split("_", 2)[2] not in str(stored.author_token_hash)


def test_a_retry_with_the_same_idempotency_key_gets_the_same_token(factory, embed_key, client):
    body = factory.comment_body()
    headers = factory.headers(embed_key, **{"Idempotency-Key": "retry-1"})
    first = client.post("/v1/comments", json=body, headers=headers).get_json()
    again = client.post("/v1/comments", json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["author_token"] == first["author_token"]
    other = client.post(
        "/v1/comments", json=body, headers=factory.headers(embed_key, **{"Idempotency-Key": "r2"})
    )
    assert other.get_json()["author_token"] != first["author_token"]


def test_a_friendly_comment_edited_into_an_insult_is_held_with_its_history_for_moderators(
    factory, embed_key, client, mod, friendly_text, insult_text, app
):
    created = post(factory, embed_key, friendly_text)
    assert created["status"] == "approved"
    etag = thread(client, factory, embed_key).headers["ETag"]

    edited = edit(client, factory, embed_key, created["id"], insult_text, created["author_token"])
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["status"] == "held" and edited.get_json()["published"] is False
    assert edited.get_json()["edited_at"] is not None

    public = thread(client, factory, embed_key)
    assert public.headers["ETag"] != etag
    assert public.get_json()["comments"] == []

    detail = client.get(f"/v1/moderation/comments/{created['id']}", headers=mod).get_json()
    assert detail["status"] == "held" and detail["text"] == insult_text
    assert [(e["text"], e["status"]) for e in detail["edits"]] == [(friendly_text, "approved")]
    assert detail["edited_at"] is not None
    held = client.get("/v1/moderation/comments?queue=held", headers=mod).get_json()["items"]
    assert [(i["id"], len(i["edits"])) for i in held] == [(created["id"], 1)]

    events = client.get(f"/v1/moderation/comments/{created['id']}/events", headers=mod).get_json()["items"]
    assert (events[0]["actor"], events[0]["reason"], events[0]["to_status"]) == (
        "author",
        "edited by author",
        "held",
    )
    with app.app_context():
        types = db.session.scalars(
            sa.select(OutboxEvent.type)
            .where(OutboxEvent.comment_id == created["id"])
            .order_by(OutboxEvent.id)
        ).all()
    assert types[-2:] == ["comment.held", "comment.edited"]


def test_an_approved_edit_changes_the_published_text(factory, embed_key, client, friendly_text):
    created = post(factory, embed_key, "Good article.")
    before = thread(client, factory, embed_key)
    answer = edit(client, factory, embed_key, created["id"], friendly_text, created["author_token"])
    assert answer.status_code == 200 and answer.get_json()["status"] == "approved"
    after = thread(client, factory, embed_key)
    assert after.headers["ETag"] != before.headers["ETag"]
    shown = after.get_json()["comments"][0]
    assert shown["text"] == friendly_text and shown["edited_at"] is not None
    # The same text again changes nothing.
    same = edit(client, factory, embed_key, created["id"], friendly_text, created["author_token"])
    assert same.status_code == 200
    assert thread(client, factory, embed_key).headers["ETag"] == after.headers["ETag"]


def test_an_edit_never_releases_a_held_comment(factory, embed_key, client, mod, insult_text, friendly_text):
    created = post(factory, embed_key, insult_text)
    assert created["status"] == "held"
    answer = edit(client, factory, embed_key, created["id"], friendly_text, created["author_token"])
    assert answer.status_code == 200 and answer.get_json()["status"] == "held"
    reasons = client.get(f"/v1/moderation/comments/{created['id']}", headers=mod).get_json()["reasons"]
    assert {"code": "edited_while_held"} in reasons


def test_the_edit_window_is_the_sites_setting(factory, embed_key, client, app):
    created = post(factory, embed_key)
    backdate(app, created["id"], 14)
    assert (
        edit(
            client, factory, embed_key, created["id"], "Second thoughts, fine.", created["author_token"]
        ).status_code
        == 200
    )
    backdate(app, created["id"], 2)  # 16 minutes old: past the default 15
    late = edit(client, factory, embed_key, created["id"], "Third thoughts.", created["author_token"])
    assert late.status_code == 409
    problem = late.get_json()
    assert problem["code"] == "edit-window-closed" and problem["editable_until"]

    admin = factory.headers(factory.key("admin"), origin=None)
    changed = client.patch("/v1/admin/sites/daily/policy", json={"edit_window_minutes": 30}, headers=admin)
    assert changed.status_code == 200, changed.get_json()
    assert (
        edit(
            client, factory, embed_key, created["id"], "Third thoughts.", created["author_token"]
        ).status_code
        == 200
    )

    client.patch("/v1/admin/sites/daily/policy", json={"edit_window_minutes": 0}, headers=admin)
    fresh = post(factory, embed_key)
    assert fresh["editable_until"] is None
    refused = edit(client, factory, embed_key, fresh["id"], "Changed.", fresh["author_token"])
    assert refused.status_code == 409 and refused.get_json()["code"] == "edit-window-closed"
    bad = client.patch("/v1/admin/sites/daily/policy", json={"edit_window_minutes": -1}, headers=admin)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "edit_window_minutes"


def test_only_the_author_may_edit_or_delete(factory, embed_key, client):
    mine, theirs = post(factory, embed_key), post(factory, embed_key, "Another fine point.")
    text = "Edited."
    assert edit(client, factory, embed_key, mine["id"], text).get_json()["code"] == "author-proof-required"
    assert edit(client, factory, embed_key, mine["id"], text).status_code == 401
    wrong = edit(client, factory, embed_key, mine["id"], text, theirs["author_token"])
    assert wrong.status_code == 403 and wrong.get_json()["code"] == "not-comment-author"
    forged = f"at_{mine['id']}_{'x' * 43}"
    assert edit(client, factory, embed_key, mine["id"], text, forged).status_code == 403
    assert delete(client, factory, embed_key, mine["id"], forged).status_code == 403
    malformed = edit(client, factory, embed_key, mine["id"], text, "not-a-token")
    assert malformed.status_code == 422 and malformed.get_json()["errors"][0]["field"] == "Author-Token"
    empty = edit(client, factory, embed_key, mine["id"], "  ", mine["author_token"])
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["field"] == "text"
    missing = client.patch(
        f"/v1/comments/{mine['id']}",
        json={},
        headers=factory.headers(embed_key, **{"Author-Token": mine["author_token"]}),
    )
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "text"
    assert edit(client, factory, embed_key, 999999, text, mine["author_token"]).status_code == 404
    # Another site's key sees no such comment.
    factory.site("other")
    other = factory.key("embed", "other")
    assert edit(client, factory, other, mine["id"], text, mine["author_token"]).status_code == 404


def test_a_verified_reader_edits_with_their_reader_token(factory, sso, client):
    body = factory.comment_body(reader_token=sso.token("reader-1"))
    del body["author"]
    created = client.post("/v1/comments", json=body, headers=factory.headers(sso.embed)).get_json()
    ok = edit(client, factory, sso.embed, created["id"], "Edited by me.", reader=sso.token("reader-1"))
    assert ok.status_code == 200, ok.get_json()
    other = edit(
        client, factory, sso.embed, created["id"], "Edited by another.", reader=sso.token("reader-2")
    )
    assert other.status_code == 403
    forged = edit(client, factory, sso.embed, created["id"], "Forged.", reader="e30.e30.sig")
    assert forged.status_code == 401


def test_the_author_alone_sees_their_comment_awaiting_review(factory, embed_key, client, insult_text):
    published = post(factory, embed_key)
    held = post(factory, embed_key, insult_text)
    assert held["status"] == "held"

    anyone = thread(client, factory, embed_key)
    assert [c["id"] for c in anyone.get_json()["comments"]] == [published["id"]]
    assert "awaiting_review" not in anyone.get_json()
    assert client.get(f"/v1/comments/{held['id']}", headers=factory.headers(embed_key)).status_code == 404

    tokens = f"{published['author_token']}, {held['author_token']}"
    mine = thread(client, factory, embed_key, **{"Author-Token": tokens})
    assert mine.status_code == 200
    own = mine.get_json()["awaiting_review"]
    assert [(c["id"], c["pending"], c["text"]) for c in own] == [(held["id"], True, insult_text)]
    assert mine.headers["ETag"] != anyone.headers["ETag"]
    assert "private" in mine.headers["Cache-Control"] and "Author-Token" in mine.headers["Vary"]
    again = thread(
        client, factory, embed_key, **{"Author-Token": tokens, "If-None-Match": mine.headers["ETag"]}
    )
    assert again.status_code == 304
    # The public page is still the public page (served from the cache after a personal one).
    assert thread(client, factory, embed_key).get_json() == anyone.get_json()

    one = client.get(
        f"/v1/comments/{held['id']}",
        headers=factory.headers(embed_key, **{"Author-Token": held["author_token"]}),
    )
    assert one.status_code == 200 and one.get_json()["pending"] is True
    someone_else = client.get(
        f"/v1/comments/{held['id']}",
        headers=factory.headers(embed_key, **{"Author-Token": published["author_token"]}),
    )
    assert someone_else.status_code == 404
    wrong_secret = thread(client, factory, embed_key, **{"Author-Token": f"at_{held['id']}_{'y' * 43}"})
    assert "awaiting_review" not in wrong_secret.get_json()


def test_a_signed_in_reader_sees_their_own_pending_comments(factory, sso, client, insult_text):
    body = factory.comment_body(text=insult_text, reader_token=sso.token("reader-1"))
    del body["author"]
    held = client.post("/v1/comments", json=body, headers=factory.headers(sso.embed)).get_json()
    assert held["status"] == "held"
    mine = thread(client, factory, sso.embed, **{"Reader-Token": sso.token("reader-1")}).get_json()
    assert [c["id"] for c in mine["awaiting_review"]] == [held["id"]]
    theirs = thread(client, factory, sso.embed, **{"Reader-Token": sso.token("reader-2")}).get_json()
    assert "awaiting_review" not in theirs


def test_the_author_deletes_their_comment_and_its_replies_stay_under_a_tombstone(
    factory, embed_key, client, mod, app
):
    root = post(factory, embed_key, "A root comment worth answering.")
    reply = post(factory, embed_key, "An answer to it.", parent_id=root["id"])
    lone = post(factory, embed_key, "A comment nobody answered.")

    assert delete(client, factory, embed_key, root["id"], root["author_token"]).status_code == 204
    assert delete(client, factory, embed_key, lone["id"], lone["author_token"]).status_code == 204
    assert (
        delete(client, factory, embed_key, lone["id"], lone["author_token"]).status_code == 204
    )  # again: done

    shown = thread(client, factory, embed_key).get_json()
    assert [c["id"] for c in shown["comments"]] == [root["id"]]
    tombstone = shown["comments"][0]
    assert tombstone["deleted"] is True and tombstone["text"] == "" and tombstone["author"]["name"] == ""
    assert [r["id"] for r in tombstone["replies"]] == [reply["id"]]
    assert shown["total"] == 1

    detail = client.get(f"/v1/moderation/comments/{root['id']}", headers=mod).get_json()
    assert detail["status"] == "deleted" and "root comment" not in detail["text"]
    late = edit(client, factory, embed_key, root["id"], "Back again.", root["author_token"])
    assert late.status_code == 409 and late.get_json()["code"] == "comment-deleted"
    with app.app_context():
        event = db.session.scalars(
            sa.select(ModerationEvent)
            .where(ModerationEvent.comment_id == root["id"])
            .order_by(ModerationEvent.id.desc())
        ).first()
        assert (event.actor, event.reason, event.to_status) == ("author", "deleted by author", "deleted")
        assert (
            "comment.deleted"
            in db.session.scalars(
                sa.select(OutboxEvent.type).where(OutboxEvent.comment_id == root["id"])
            ).all()
        )
        # Taking down one's own comment restricts no one: no statement of reasons.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Statement)) == 0


def test_an_edited_then_erased_comment_keeps_no_earlier_text(factory, embed_key, client, mod, friendly_text):
    created = post(factory, embed_key, friendly_text)
    edit(client, factory, embed_key, created["id"], "A second version.", created["author_token"])
    erased = client.delete(f"/v1/moderation/comments/{created['id']}", json={"note": "asked"}, headers=mod)
    assert erased.status_code == 200 and erased.get_json()["edits"] == []
