"""Readers' likes and the top sort, editors' featured comments, and comment counts of many
articles: through the HTTP API, on both databases."""

from __future__ import annotations

import threading

import pytest

ANON = "203.0.113.7"


def _publish(factory, sso, text, article="a1", **extra):
    answer = factory.client.post(
        "/v1/comments",
        json=factory.comment_body(text, article=article, **extra),
        headers=factory.headers(sso.embed),
    ).get_json()
    assert answer["status"] == "approved", answer
    return answer["id"]


def _like(factory, sso, comment_id, address=ANON, method="POST", **body):
    return factory.client.open(
        f"/v1/comments/{comment_id}/reactions",
        method=method,
        json=body,
        headers=factory.headers(sso.embed),
        environ_base={"REMOTE_ADDR": address},
    )


def _thread(factory, sso, article="a1", headers=None, **params):
    return factory.client.get(
        f"/v1/articles/{article}/comments",
        query_string=params,
        headers={**factory.headers(sso.embed), **(headers or {})},
    )


def _likes_in_thread(factory, sso, comment_id):
    comments = _thread(factory, sso).get_json()["comments"]
    return next(c["likes"] for c in comments if c["id"] == comment_id)


def _feature(factory, sso, comment_id, featured=True, key=None):
    return factory.client.put(
        f"/v1/moderation/comments/{comment_id}/featured",
        json={"featured": featured, "note": "a fine summary"},
        headers=factory.headers(key or sso.moderator, origin=None),
    )


# --- reactions ------------------------------------------------------------------------------


def test_a_verified_reader_likes_once_from_anywhere(factory, sso):
    comment_id = _publish(factory, sso, "A fair point about the budget.")
    token = sso.token("reader-1")
    first = _like(factory, sso, comment_id, reader_token=token)
    assert first.status_code == 201 and first.get_json() == {
        "comment_id": comment_id,
        "likes": 1,
        "reacted": True,
    }
    # The same reader again, from another network and with a fresh token: still one like.
    again = _like(factory, sso, comment_id, address="198.51.100.9", reader_token=sso.token("reader-1"))
    assert again.status_code == 200 and again.get_json()["likes"] == 1
    other = _like(factory, sso, comment_id, reader_token=sso.token("reader-2"))
    assert other.status_code == 201 and other.get_json()["likes"] == 2
    assert _likes_in_thread(factory, sso, comment_id) == 2


def test_an_anonymous_network_likes_once_whatever_its_addresses(factory, sso):
    comment_id = _publish(factory, sso, "A fair point about the budget.")
    assert _like(factory, sso, comment_id, address="198.51.100.7").status_code == 201
    assert _like(factory, sso, comment_id, address="198.51.100.200").status_code == 200
    assert _like(factory, sso, comment_id, address="2001:db8:1:2::1").status_code == 201
    assert _like(factory, sso, comment_id, address="2001:db8:1:2:ffff::9").status_code == 200
    assert _likes_in_thread(factory, sso, comment_id) == 2


def test_a_like_taken_back_counts_no_more_and_only_once(factory, sso):
    comment_id = _publish(factory, sso, "A fair point about the budget.")
    _like(factory, sso, comment_id)
    _like(factory, sso, comment_id, address="198.51.100.1")
    gone = _like(factory, sso, comment_id, method="DELETE")
    assert gone.status_code == 200 and gone.get_json() == {
        "comment_id": comment_id,
        "likes": 1,
        "reacted": False,
    }
    assert _like(factory, sso, comment_id, method="DELETE").get_json()["likes"] == 1
    assert _likes_in_thread(factory, sso, comment_id) == 1
    # Liked again: counted again.
    assert _like(factory, sso, comment_id).get_json()["likes"] == 2


def test_likes_leave_the_moderators_version_alone(factory, sso):
    comment_id = _publish(factory, sso, "A fair point about the budget.")
    seen = factory.client.get(
        f"/v1/moderation/comments/{comment_id}", headers=factory.headers(sso.moderator, origin=None)
    ).headers["ETag"]
    _like(factory, sso, comment_id)
    decided = factory.client.post(
        f"/v1/moderation/comments/{comment_id}/decision",
        json={"status": "held"},
        headers={**factory.headers(sso.moderator, origin=None), "If-Match": seen},
    )
    assert decided.status_code == 200


def test_only_published_comments_take_likes(factory, sso, insult_text):
    held = factory.client.post(
        "/v1/comments", json=factory.comment_body(insult_text), headers=factory.headers(sso.embed)
    ).get_json()
    assert held["status"] == "held"
    assert _like(factory, sso, held["id"]).status_code == 404
    assert _like(factory, sso, 999_999).status_code == 404
    # Another site's key does not reach this site's comments.
    comment_id = _publish(factory, sso, "A fair point about the budget.")
    factory.site("other")
    other = factory.client.post(
        f"/v1/comments/{comment_id}/reactions",
        json={},
        headers=factory.headers(factory.key("embed", "other")),
    )
    assert other.status_code == 404


def test_a_bad_reader_token_is_refused_and_counts_nothing(factory, sso):
    comment_id = _publish(factory, sso, "A fair point about the budget.")
    refused = _like(factory, sso, comment_id, reader_token="not-a-token")
    assert refused.status_code == 401 and refused.get_json()["code"] == "invalid-reader-token"
    assert _likes_in_thread(factory, sso, comment_id) == 0


def test_the_thread_shows_no_reader_behind_a_like(factory, sso):
    comment_id = _publish(factory, sso, "A fair point about the budget.")
    _like(factory, sso, comment_id, reader_token=sso.token("reader-secret-id", "Secret Name"))
    raw = _thread(factory, sso).get_data(as_text=True)
    assert "reader-secret-id" not in raw and "Secret Name" not in raw and "sso:" not in raw


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_REACTION": "3 per minute"}])
def test_likes_are_rate_limited_per_network(factory, sso):
    ids = [_publish(factory, sso, f"Point number {n} about the budget, well made.") for n in range(4)]
    answers = [_like(factory, sso, comment_id).status_code for comment_id in ids]
    assert answers == [201, 201, 201, 429]
    # Verified readers on the same network share its limit: a script cannot mint readers past it.
    assert _like(factory, sso, ids[3], reader_token=sso.token("reader-9")).status_code == 429
    assert _like(factory, sso, ids[3], address="198.51.100.1").status_code == 201


# --- top sort and ETags -----------------------------------------------------------------------


def test_top_sort_puts_the_most_liked_first_and_newest_first_on_ties(factory, sso):
    ids = [_publish(factory, sso, f"Point number {n} about the budget, well made.") for n in range(5)]
    for comment_id, likes in zip(ids, (2, 0, 3, 2, 0), strict=True):
        for n in range(likes):
            _like(factory, sso, comment_id, address=f"198.51.{n}.1")
    top = _thread(factory, sso, sort="top").get_json()["comments"]
    assert [c["id"] for c in top] == [ids[2], ids[3], ids[0], ids[4], ids[1]]
    assert [c["likes"] for c in top] == [3, 2, 2, 0, 0]
    # Pages of two walk the same order with no comment twice or missed.
    seen, cursor = [], None
    while True:
        params = {"sort": "top", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = _thread(factory, sso, **params).get_json()
        seen += [c["id"] for c in page["comments"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [c["id"] for c in top]
    # A cursor of another sort is refused, naming it.
    newest_cursor = _thread(factory, sso, limit=2).get_json()["next_cursor"]
    refused = _thread(factory, sso, sort="top", cursor=newest_cursor)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "cursor"


def test_a_like_changes_the_threads_etag(factory, sso):
    comment_id = _publish(factory, sso, "A fair point about the budget.")
    for sort in ("newest", "top"):
        first = _thread(factory, sso, sort=sort)
        etag = first.headers["ETag"]
        assert _thread(factory, sso, sort=sort, headers={"If-None-Match": etag}).status_code == 304
        _like(factory, sso, comment_id, address=f"198.51.{len(sort)}.1")
        changed = _thread(factory, sso, sort=sort, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["ETag"] != etag
        likes = next(c["likes"] for c in changed.get_json()["comments"] if c["id"] == comment_id)
        assert likes == first.get_json()["comments"][0]["likes"] + 1
        # Taking it back changes it again (the page served is never the stale one).
        etag = changed.headers["ETag"]
        _like(factory, sso, comment_id, address=f"198.51.{len(sort)}.1", method="DELETE")
        assert _thread(factory, sso, sort=sort, headers={"If-None-Match": etag}).status_code == 200


# --- featured comments ------------------------------------------------------------------------


def test_featured_comments_come_first_and_are_marked(factory, sso):
    ids = [_publish(factory, sso, f"Point number {n} about the budget, well made.") for n in range(3)]
    before = _thread(factory, sso)
    answer = _feature(factory, sso, ids[0])
    assert answer.status_code == 200 and answer.get_json()["featured"] is True
    _feature(factory, sso, ids[1])
    thread = _thread(factory, sso, headers={"If-None-Match": before.headers["ETag"]})
    assert thread.status_code == 200  # featuring changed the ETag
    body = thread.get_json()
    assert [c["id"] for c in body["featured"]] == [ids[1], ids[0]]  # the newest pick first
    assert {c["id"]: c["featured"] for c in body["comments"]} == {ids[2]: False, ids[1]: True, ids[0]: True}
    # Moderators see which are featured in the published queue (the console's article view).
    queue = factory.client.get(
        "/v1/moderation/comments?queue=approved", headers=factory.headers(sso.moderator, origin=None)
    ).get_json()["items"]
    assert {c["id"]: (c["featured"], c["likes"]) for c in queue} == {
        ids[0]: (True, 0),
        ids[1]: (True, 0),
        ids[2]: (False, 0),
    }
    # Unfeatured: gone from the featured list, unmarked.
    assert _feature(factory, sso, ids[1], featured=False).get_json()["featured"] is False
    body = _thread(factory, sso).get_json()
    assert [c["id"] for c in body["featured"]] == [ids[0]]
    # Later pages do not repeat them.
    cursor = _thread(factory, sso, limit=1).get_json()["next_cursor"]
    assert _thread(factory, sso, limit=1, cursor=cursor).get_json()["featured"] == []


def test_featuring_is_audited_and_changes_no_decision_counts(factory, sso):
    comment_id = _publish(factory, sso, "A fair point about the budget.")
    _feature(factory, sso, comment_id)
    _feature(factory, sso, comment_id)  # already featured: nothing new
    _feature(factory, sso, comment_id, featured=False)
    events = factory.client.get(
        f"/v1/moderation/comments/{comment_id}/events", headers=factory.headers(sso.moderator, origin=None)
    ).get_json()["items"]
    editorial = [(e["reason"], e["from_status"], e["to_status"], e["note"]) for e in events[:2]]
    assert editorial == [
        ("unfeatured", "approved", "approved", "a fine summary"),
        ("featured", "approved", "approved", "a fine summary"),
    ]
    assert all(e["actor"].startswith(("integration:", "user:")) for e in events[:2])
    stats = factory.client.get(
        "/v1/moderation/stats?site=daily&days=1", headers=factory.headers(sso.moderator, origin=None)
    ).get_json()
    assert sum(sum(day["moderators"].values()) for day in stats["decisions_per_day"]) == 0


def test_only_moderators_feature_and_only_published_comments(factory, sso, insult_text):
    comment_id = _publish(factory, sso, "A fair point about the budget.")
    refused = factory.client.put(
        f"/v1/moderation/comments/{comment_id}/featured",
        json={"featured": True},
        headers=factory.headers(sso.embed),
    )
    assert refused.status_code == 403
    held = factory.client.post(
        "/v1/comments", json=factory.comment_body(insult_text), headers=factory.headers(sso.embed)
    ).get_json()
    conflict = _feature(factory, sso, held["id"])
    assert conflict.status_code == 409 and conflict.get_json()["code"] == "not-published"
    missing = factory.client.put(
        f"/v1/moderation/comments/{comment_id}/featured",
        json={"featured": "maybe"},
        headers=factory.headers(sso.moderator, origin=None),
    )
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "featured"
    # Another site's moderator does not reach it.
    factory.site("other")
    assert _feature(factory, sso, comment_id, key=factory.key("moderator", "other")).status_code == 404


def test_a_featured_comment_held_again_leaves_the_featured_list(factory, sso):
    comment_id = _publish(factory, sso, "A fair point about the budget.")
    _feature(factory, sso, comment_id)
    factory.client.post(
        f"/v1/moderation/comments/{comment_id}/decision",
        json={"status": "held"},
        headers=factory.headers(sso.moderator, origin=None),
    )
    factory.client.post(
        f"/v1/moderation/comments/{comment_id}/decision",
        json={"status": "approved"},
        headers=factory.headers(sso.moderator, origin=None),
    )
    body = _thread(factory, sso).get_json()
    assert body["featured"] == [] and body["comments"][0]["featured"] is False


# --- counts -----------------------------------------------------------------------------------


def _counts(factory, sso, ids, headers=None):
    return factory.client.get(
        "/v1/articles/counts",
        query_string=[("ids", i) for i in ids],
        headers={**factory.headers(sso.embed), **(headers or {})},
    )


def test_counts_of_many_articles_in_one_request(factory, sso, insult_text):
    for article, n in (("a1", 3), ("a2", 1), ("a3", 0)):
        for i in range(n):
            _publish(factory, sso, f"Point number {i} about the budget, well made.", article=article)
    reply_to = _publish(factory, sso, "A root on the fourth article.", article="a4")
    _publish(factory, sso, "A reply that counts too.", article="a4", parent_id=reply_to)
    factory.client.post(  # held: not counted
        "/v1/comments",
        json=factory.comment_body(insult_text, article="a2"),
        headers=factory.headers(sso.embed),
    )
    ids = ["a1", "a2", "a3", "a4", "never-commented"]
    answer = _counts(factory, sso, ids)
    assert answer.status_code == 200
    assert answer.get_json() == {"counts": {"a1": 3, "a2": 1, "a3": 0, "a4": 2, "never-commented": 0}}
    assert list(answer.get_json()["counts"]) == ids
    # Arguments are remembered by every value of `ids`, not by the first one alone.
    assert _counts(factory, sso, ["a1", "a2"]).get_json()["counts"] == {"a1": 3, "a2": 1}
    assert _counts(factory, sso, ["a1", "a4"]).get_json()["counts"] == {"a1": 3, "a4": 2}
    # Cached with an ETag: 304 until a count changes, and a new comment shows at once.
    etag = answer.headers["ETag"]
    assert _counts(factory, sso, ids, {"If-None-Match": etag}).status_code == 304
    _publish(factory, sso, "One more for the second article.", article="a2")
    changed = _counts(factory, sso, ids, {"If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["counts"]["a2"] == 2


def test_counts_reach_only_the_keys_site(factory, sso):
    _publish(factory, sso, "A fair point about the budget.")
    factory.site("other")
    other = factory.client.get(
        "/v1/articles/counts?ids=a1", headers=factory.headers(factory.key("embed", "other"))
    )
    assert other.get_json() == {"counts": {"a1": 0}}
    assert factory.client.get("/v1/articles/counts?ids=a1").status_code == 401


def test_counts_refuse_more_than_fifty_ids_or_none_naming_the_field(factory, sso):
    ids = [f"article-{n}" for n in range(51)]
    for sent in (ids, []):
        refused = _counts(factory, sso, sent)
        assert refused.status_code == 422
        problem = refused.get_json()
        assert problem["errors"][0]["field"] == "ids" and problem["errors"][0]["location"] == "query"
    assert _counts(factory, sso, ids[:50]).status_code == 200
    too_long = _counts(factory, sso, ["x" * 201])
    assert too_long.status_code == 422 and too_long.get_json()["errors"][0]["field"].startswith("ids")


def test_likes_at_the_same_moment_count_each_reader_once(app, factory, sso):
    """Two requests of each reader at once, and an editor featuring the comment meanwhile: each
    reader counts once, no like is lost, and nothing waits on anything crosswise (no 5xx)."""
    comment_id = _publish(factory, sso, "A fair point about the budget.")
    tokens = {"a": sso.token("reader-a"), "b": sso.token("reader-b")}
    senders = [
        ("a", ANON),
        ("a", "198.51.100.1"),
        ("b", ANON),
        ("b", "198.51.101.1"),
        (None, "192.0.2.1"),
    ] * 2
    codes: dict[str | None, list[int]] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(len(senders) + 1)

    def like(reader, address):
        client = app.test_client()
        body = {"reader_token": tokens[reader]} if reader else {}
        barrier.wait()
        response = client.post(
            f"/v1/comments/{comment_id}/reactions",
            json=body,
            headers=factory.headers(sso.embed),
            environ_base={"REMOTE_ADDR": address},
        )
        with lock:
            codes.setdefault(reader, []).append(response.status_code)

    def feature():
        client = app.test_client()
        barrier.wait()
        response = client.put(
            f"/v1/moderation/comments/{comment_id}/featured",
            json={"featured": True},
            headers=factory.headers(sso.moderator, origin=None),
        )
        with lock:
            codes.setdefault("editor", []).append(response.status_code)

    threads = [threading.Thread(target=like, args=sender) for sender in senders]
    threads.append(threading.Thread(target=feature))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(codes["a"]) == [200, 200, 200, 201]
    assert sorted(codes["b"]) == [200, 200, 200, 201]
    assert sorted(codes[None]) == [200, 201]
    assert codes["editor"] == [200]
    thread = _thread(factory, sso).get_json()
    assert thread["comments"][0]["likes"] == 3 and thread["featured"][0]["id"] == comment_id


def test_the_embeds_pages_may_call_likes_and_counts_across_origins(factory, sso):
    preflight = factory.client.options(
        "/v1/comments/1/reactions",
        headers={
            "Origin": "https://news.example",
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert "DELETE" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://news.example"
    counts = _counts(factory, sso, ["a1"])
    assert counts.headers["Access-Control-Allow-Origin"] == "https://news.example"
    assert "ETag" in counts.headers["Access-Control-Expose-Headers"]
