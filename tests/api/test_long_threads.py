"""Threads with more replies under one comment than the thread shows: counted, paged, all reachable."""

from __future__ import annotations

from service.comments import MAX_REPLIES_PER_ROOT


def test_replies_past_the_threads_share_are_paged_and_all_reachable(factory, embed_key, client):
    headers = factory.headers(embed_key)
    root = factory.post(embed_key, text="A comment that draws a crowd.").get_json()["id"]
    first = factory.post(embed_key, text="First answer.", parent_id=root).get_json()["id"]
    replies = [first]
    for i in range(MAX_REPLIES_PER_ROOT + 24):
        # Some answer the first reply, so later pages hold replies whose parent came before.
        parent = first if i % 10 == 0 else root
        answer = factory.post(embed_key, text=f"Answer number {i}.", parent_id=parent)
        assert answer.status_code == 201
        replies.append(answer.get_json()["id"])

    page = client.get("/v1/articles/a1/comments", headers=headers).get_json()
    shown = page["comments"][0]
    assert shown["reply_count"] == len(replies)
    assert shown["more_replies"]

    def ids(nodes):
        for node in nodes:
            yield node["id"]
            yield from ids(node["replies"])

    seen = list(ids(shown["replies"]))
    assert len(seen) == MAX_REPLIES_PER_ROOT
    cursor = shown["more_replies"]
    while cursor:
        more = client.get(
            f"/v1/comments/{root}/replies", query_string={"cursor": cursor, "limit": 10}, headers=headers
        )
        assert more.status_code == 200
        body = more.get_json()
        known = {root, *seen, *ids(body["replies"])}
        assert all(r["parent_id"] in known for r in body["replies"])
        seen += list(ids(body["replies"]))
        cursor = body["next_cursor"]
    assert sorted(seen) == sorted(replies)

    # A replies page is cached by ETag like the thread; a new reply changes it.
    url = f"/v1/comments/{root}/replies"
    query = {"cursor": shown["more_replies"]}
    etag = client.get(url, query_string=query, headers=headers).headers["ETag"]
    again = client.get(url, query_string=query, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    factory.post(embed_key, text="One more answer.", parent_id=root)
    changed = client.get(url, query_string=query, headers={**headers, "If-None-Match": etag})
    assert (
        changed.status_code == 200
        and len(changed.get_json()["replies"]) == len(replies) - MAX_REPLIES_PER_ROOT + 1
    )


def test_a_short_thread_says_how_many_replies_and_has_no_more(factory, embed_key, client):
    root = factory.post(embed_key, text="A root.").get_json()["id"]
    factory.post(embed_key, text="A reply.", parent_id=root)
    shown = client.get("/v1/articles/a1/comments", headers=factory.headers(embed_key)).get_json()["comments"][
        0
    ]
    assert shown["reply_count"] == 1 and shown["more_replies"] is None


def test_replies_of_an_unknown_or_unpublished_comment_are_404(factory, embed_key, client, insult_text):
    headers = factory.headers(embed_key)
    held = factory.post(embed_key, text=insult_text).get_json()["id"]
    assert client.get(f"/v1/comments/{held}/replies", headers=headers).status_code == 404
    assert client.get("/v1/comments/999999/replies", headers=headers).status_code == 404
    root = factory.post(embed_key, text="A root.").get_json()["id"]
    bad = client.get(f"/v1/comments/{root}/replies", query_string={"cursor": "junk"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "cursor"
    bad = client.get(f"/v1/comments/{root}/replies", query_string={"limit": 0}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "limit"
