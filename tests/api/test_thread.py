"""Reading the approved thread: threading, sorting, cursor pagination, ETags, privacy."""

from __future__ import annotations

import json


def get_thread(client, factory, key, article="a1", **params):
    return client.get(f"/v1/articles/{article}/comments", query_string=params, headers=factory.headers(key))


def post_ids(factory, key, n, article="a1"):
    return [
        factory.post(key, text=f"Good point number {i}.", article=article).get_json()["id"] for i in range(n)
    ]


def test_replies_are_nested_under_their_parents(factory, embed_key, client):
    root = factory.post(embed_key, text="Root comment.").get_json()["id"]
    reply = factory.post(embed_key, text="A reply.", parent_id=root).get_json()["id"]
    nested = factory.post(embed_key, text="A reply to the reply.", parent_id=reply).get_json()["id"]
    other_root = factory.post(embed_key, text="Another root.").get_json()["id"]

    thread = get_thread(client, factory, embed_key, sort="oldest").get_json()
    assert [c["id"] for c in thread["comments"]] == [root, other_root]
    first = thread["comments"][0]
    assert [r["id"] for r in first["replies"]] == [reply]
    assert [r["id"] for r in first["replies"][0]["replies"]] == [nested]
    assert first["replies"][0]["parent_id"] == root
    assert thread["total"] == 4


def test_sort_newest_and_oldest(factory, embed_key, client):
    ids = post_ids(factory, embed_key, 3)
    newest = get_thread(client, factory, embed_key).get_json()["comments"]
    oldest = get_thread(client, factory, embed_key, sort="oldest").get_json()["comments"]
    assert [c["id"] for c in newest] == ids[::-1]
    assert [c["id"] for c in oldest] == ids


def test_pagination_is_stable_while_new_comments_arrive(factory, embed_key, client):
    ids = post_ids(factory, embed_key, 7)
    page = get_thread(client, factory, embed_key, limit=3).get_json()
    seen = [c["id"] for c in page["comments"]]
    post_ids(factory, embed_key, 2)  # arrive between pages
    while page["next_cursor"]:
        page = get_thread(client, factory, embed_key, limit=3, cursor=page["next_cursor"]).get_json()
        seen += [c["id"] for c in page["comments"]]
    assert seen == ids[::-1]


def test_oldest_first_pages_reach_comments_posted_meanwhile(factory, embed_key, client):
    ids = post_ids(factory, embed_key, 4)
    page = get_thread(client, factory, embed_key, limit=2, sort="oldest").get_json()
    seen = [c["id"] for c in page["comments"]]
    ids += post_ids(factory, embed_key, 1)
    while page["next_cursor"]:
        page = get_thread(
            client, factory, embed_key, limit=2, sort="oldest", cursor=page["next_cursor"]
        ).get_json()
        seen += [c["id"] for c in page["comments"]]
    assert seen == ids


def test_bad_cursor_and_limit_are_422(factory, embed_key, client):
    post_ids(factory, embed_key, 2)
    for params, field in (
        ({"cursor": "garbage"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"sort": "best"}, "sort"),
    ):
        response = get_thread(client, factory, embed_key, **params)
        assert response.status_code == 422, params
        assert response.get_json()["errors"][0]["field"] == field
    # Valid arguments are remembered by their raw values (ThreadQuerySchema), a bad one never is.
    for limit, status in ((2, 200), (0, 422), (2, 200), (0, 422)):
        assert get_thread(client, factory, embed_key, limit=limit).status_code == status
    cursor = get_thread(client, factory, embed_key, limit=1).get_json()["next_cursor"]
    assert get_thread(client, factory, embed_key, cursor=cursor, sort="oldest").status_code == 422


def test_etag_gives_304_until_the_thread_changes(factory, embed_key, client, insult_text):
    post_ids(factory, embed_key, 1)
    first = get_thread(client, factory, embed_key)
    etag = first.headers["ETag"]
    cached = client.get(
        "/v1/articles/a1/comments", headers={**factory.headers(embed_key), "If-None-Match": etag}
    )
    assert cached.status_code == 304 and cached.data == b""

    factory.post(embed_key, text=insult_text)  # held: the public thread is unchanged
    assert (
        client.get(
            "/v1/articles/a1/comments", headers={**factory.headers(embed_key), "If-None-Match": etag}
        ).status_code
        == 304
    )

    post_ids(factory, embed_key, 1)
    changed = client.get(
        "/v1/articles/a1/comments", headers={**factory.headers(embed_key), "If-None-Match": etag}
    )
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_public_responses_carry_no_private_data(factory, embed_key, client):
    body = factory.comment_body()
    body["author"] = {"name": "Ada", "email": "ada.private@example.org", "user_id": "user-secret-42"}
    comment_id = client.post("/v1/comments", json=body, headers=factory.headers(embed_key)).get_json()["id"]
    for response in (
        get_thread(client, factory, embed_key),
        client.get(f"/v1/comments/{comment_id}", headers=factory.headers(embed_key)),
    ):
        text = json.dumps(response.get_json())
        assert "ada.private" not in text and "user-secret-42" not in text
        assert "scores" not in text and "toxicity" not in text and "reasons" not in text


def test_unknown_article_is_an_empty_thread(factory, embed_key, client):
    thread = get_thread(client, factory, embed_key, article="never-commented").get_json()
    assert thread == {"article": None, "total": 0, "featured": [], "comments": [], "next_cursor": None}


def test_one_comment_is_readable_only_by_its_own_site(factory, embed_key, client):
    comment_id = post_ids(factory, embed_key, 1)[0]
    assert (
        client.get(f"/v1/comments/{comment_id}", headers=factory.headers(embed_key)).get_json()["id"]
        == comment_id
    )
    factory.site("rival")
    rival = factory.key("embed", "rival")
    assert client.get(f"/v1/comments/{comment_id}", headers=factory.headers(rival)).status_code == 404
