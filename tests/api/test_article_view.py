"""Reading an article's settings (the console's article view): moderators of its site only."""

from __future__ import annotations

import pytest


@pytest.fixture
def comment_id(factory, embed_key):
    return factory.post(embed_key, text="The council voted yesterday.").get_json()["id"]


@pytest.fixture
def mod(factory, embed_key):
    return factory.headers(factory.key("moderator"), origin=None)


def test_the_article_view_reads_an_articles_settings_as_the_moderators_changed_them(
    client, factory, mod, comment_id
):
    path = "/v1/admin/sites/daily/articles/a1"
    before = client.get(path, headers=mod)
    assert before.status_code == 200, before.get_json()
    assert before.get_json()["closed"] is False and before.get_json()["premoderated"] is False
    assert before.get_json()["id"] == "a1" and before.get_json()["title"] == "Article a1"

    changed = client.patch(path, json={"closed": True, "premoderated": True}, headers=mod)
    assert changed.status_code == 200, changed.get_json()
    after = client.get(path, headers=mod).get_json()
    assert after["closed"] is True and after["premoderated"] is True

    missing = client.get("/v1/admin/sites/daily/articles/no-such", headers=mod)
    assert missing.status_code == 404 and missing.get_json()["code"] == "not-found"
    factory.site("weekly")
    elsewhere = factory.headers(factory.key("moderator", site="weekly"), origin=None)
    assert client.get(path, headers=elsewhere).status_code in (403, 404)
