"""Moderators' notes on a comment: added by moderators of its site, listed oldest first with who
wrote each, never edited or deleted; an erasure blanks their words."""

from __future__ import annotations

import json

import pytest

from service.decisions import ERASED


@pytest.fixture
def comment_id(factory, embed_key):
    return factory.post(embed_key, text="The council voted yesterday.").get_json()["id"]


@pytest.fixture
def mod(factory, embed_key):
    return factory.headers(factory.key("moderator"), origin=None)


def notes_of(client, headers, comment_id):
    answer = client.get(f"/v1/moderation/comments/{comment_id}/notes", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["notes"]


def test_moderators_add_notes_and_read_them_oldest_first_with_who_wrote_them(
    client, factory, mod, comment_id
):
    assert notes_of(client, mod, comment_id) == []
    other = factory.headers(factory.key("admin"), origin=None)
    first = client.post(
        f"/v1/moderation/comments/{comment_id}/notes",
        json={"text": "  Asked the author to rephrase the second paragraph.  "},
        headers=mod,
    )
    assert first.status_code == 201, first.get_json()
    second = client.post(
        f"/v1/moderation/comments/{comment_id}/notes",
        json={"text": "Same reader as on the harbour article."},
        headers=other,
    )
    assert second.status_code == 201, second.get_json()

    notes = notes_of(client, mod, comment_id)
    assert [n["text"] for n in notes] == [
        "Asked the author to rephrase the second paragraph.",
        "Same reader as on the harbour article.",
    ]
    assert notes[0]["actor"].startswith("integration:") and notes[0]["actor_name"]
    assert notes[0]["actor"] != notes[1]["actor"]
    assert all(n["comment_id"] == comment_id and n["created_at"] for n in notes)
    # Kept as written: there is no way to edit or delete one.
    path = f"/v1/moderation/comments/{comment_id}/notes"
    assert client.delete(path, headers=mod).status_code == 405
    assert client.patch(path, json={"text": "changed"}, headers=mod).status_code == 405


@pytest.mark.parametrize(
    "body, field",
    [({}, "text"), ({"text": "   "}, "text"), ({"text": "x" * 2001}, "text"), ({"text": 5}, "text")],
)
def test_a_note_without_words_or_too_long_is_refused_naming_its_field(client, mod, comment_id, body, field):
    answer = client.post(f"/v1/moderation/comments/{comment_id}/notes", json=body, headers=mod)
    assert answer.status_code == 422, answer.get_json()
    assert field in [e["field"] for e in answer.get_json()["errors"]]
    assert notes_of(client, mod, comment_id) == []


def test_notes_stay_on_their_site_and_need_a_moderator(client, factory, mod, embed_key, comment_id):
    factory.site("weekly")
    elsewhere = factory.headers(factory.key("moderator", site="weekly"), origin=None)
    path = f"/v1/moderation/comments/{comment_id}/notes"
    assert client.post(path, json={"text": "hello"}, headers=mod).status_code == 201

    assert client.get(path, headers=elsewhere).status_code == 404
    assert client.post(path, json={"text": "from another site"}, headers=elsewhere).status_code == 404
    assert client.get(path, headers=factory.headers(embed_key)).status_code == 403
    assert client.post(path, json={"text": "reader"}, headers=factory.headers(embed_key)).status_code == 403
    assert client.get(path).status_code == 401
    assert client.get("/v1/moderation/comments/999999/notes", headers=mod).status_code == 404
    assert [n["text"] for n in notes_of(client, mod, comment_id)] == ["hello"]


def test_erasing_the_comment_blanks_its_notes_words_and_keeps_who_wrote_them(
    client, factory, mod, comment_id
):
    path = f"/v1/moderation/comments/{comment_id}/notes"
    client.post(path, json={"text": "Ada wrote to us from ada@example.org about this."}, headers=mod)
    erased = client.delete(f"/v1/moderation/comments/{comment_id}", json={}, headers=mod)
    assert erased.status_code == 200, erased.get_json()

    (note,) = notes_of(client, mod, comment_id)
    assert note["text"] == ERASED
    assert note["actor"].startswith("integration:")


def test_a_persons_erasure_blanks_the_notes_on_their_comments(client, factory, mod, embed_key, comment_id):
    other = factory.post(
        embed_key,
        text="Another view on the vote.",
        name="Bo",
        author={"name": "Bo", "email": "bo@example.org"},
    ).get_json()["id"]
    for target in (comment_id, other):
        client.post(f"/v1/moderation/comments/{target}/notes", json={"text": "Noted."}, headers=mod)
    admin = factory.headers(factory.key("admin"), origin=None)
    done = client.post(
        "/v1/admin/sites/daily/author-erasure", json={"email": "ada@example.org"}, headers=admin
    )
    assert done.status_code == 200, done.get_json()

    assert [n["text"] for n in notes_of(client, mod, comment_id)] == [ERASED]
    assert [n["text"] for n in notes_of(client, mod, other)] == ["Noted."]


def test_a_persons_data_export_carries_the_notes_on_their_comments_but_not_who_wrote_them(
    client, factory, mod, comment_id
):
    client.post(f"/v1/moderation/comments/{comment_id}/notes", json={"text": "Warned once."}, headers=mod)
    admin = factory.headers(factory.key("admin"), origin=None)
    answer = client.get("/v1/admin/sites/daily/author-export?email=ada@example.org", headers=admin)
    assert answer.status_code == 200
    lines = [json.loads(line) for line in answer.get_data(as_text=True).splitlines()]
    (note,) = [line for line in lines if line.get("type") == "moderator_note"]
    assert note["comment_id"] == comment_id and note["text"] == "Warned once."
    assert "actor" not in note
