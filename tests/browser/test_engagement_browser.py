"""Likes, the top sort and featured comments in the embed, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MAIN_LIST = ".cms-list"


def _api(server, method, path, key, address="127.0.0.1", **kwargs):
    client = server.app.test_client()
    headers = {"Authorization": f"Bearer {key}", "Origin": server.url}
    return client.open(path, method=method, headers=headers, environ_base={"REMOTE_ADDR": address}, **kwargs)


def test_reader_likes_a_comment_once_and_takes_it_back(server, new_page, page_errors):
    server.post("The restoration photos of the lantern room are lovely.", name="Ada")
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    like = page.get_by_role("button", name=re.compile("^Like \\d+, comment by Ada$"))
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(like).to_have_accessible_name("Like 0, comment by Ada")

    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_have_accessible_name("Like 1, comment by Ada")
    page.reload()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like.locator(".cms-count")).to_have_text("1")

    # Another browser on the same network is the same anonymous reader: its like is not counted twice.
    other = new_page()
    other.goto(f"{server.url}/demo?as=anonymous")
    other_like = other.get_by_role("button", name=re.compile("^Like \\d+, comment by Ada$"))
    expect(other_like).to_have_attribute("aria-pressed", "false")
    other_like.click()
    expect(other_like).to_have_attribute("aria-pressed", "true")
    expect(other_like.locator(".cms-count")).to_have_text("1")

    like.click()  # taken back
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(like.locator(".cms-count")).to_have_text("0")
    assert not page_errors.errors and not page_errors.dialogs


def test_featured_comments_are_shown_first_with_a_label_and_top_sorts_by_likes(server, new_page, page_errors):
    oldest = server.post("First thoughts on the lighthouse keepers' cottages.", name="Ada")["id"]
    middle = server.post("The fog horn deserves its own article.", name="Grace")["id"]
    server.post("Will the tower be open to visitors in summer?", name="Linus")
    featured = _api(
        server,
        "PUT",
        f"/v1/moderation/comments/{oldest}/featured",
        server.keys["moderator"],
        json={"featured": True},
    )
    assert featured.status_code == 200, featured.get_json()
    for address in ("198.51.100.1", "198.51.101.1"):
        assert (
            _api(
                server, "POST", f"/v1/comments/{middle}/reactions", server.keys["embed"], address, json={}
            ).status_code
            == 201
        )

    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    section = page.get_by_role("region", name="Featured comments")
    expect(section).to_be_visible()
    expect(section.get_by_role("heading")).to_have_text("Featured")
    expect(section.locator(".cms-text")).to_have_text(["First thoughts on the lighthouse keepers' cottages."])
    # Above the thread, and marked where it stands in the thread too.
    assert page.evaluate(
        """() => {
          const root = document.querySelector('.cms-comments').shadowRoot;
          const featured = root.querySelector('.cms-featured'), list = root.querySelector('.cms-list');
          return !!(featured.compareDocumentPosition(list) & Node.DOCUMENT_POSITION_FOLLOWING);
        }"""
    )
    marked = page.locator(f'{MAIN_LIST} [data-comment-id="{oldest}"] .cms-badge')
    expect(marked).to_have_text("Featured")
    expect(page.locator(f"{MAIN_LIST} > .cms-comment .cms-author")).to_have_text(["Linus", "Grace", "Ada"])

    page.get_by_label("Sort by").select_option("top")
    expect(page.locator(f"{MAIN_LIST} > .cms-comment .cms-author")).to_have_text(["Grace", "Linus", "Ada"])
    page.get_by_label("Sort by").select_option("oldest")
    expect(page.locator(f"{MAIN_LIST} > .cms-comment .cms-author")).to_have_text(["Ada", "Grace", "Linus"])
    page.get_by_label("Sort by").select_option("top")
    expect(page.locator(f"{MAIN_LIST} > .cms-comment .cms-author")).to_have_text(["Grace", "Linus", "Ada"])
    expect(page.locator(f'{MAIN_LIST} [data-like="{middle}"] .cms-count')).to_have_text("2")
    assert not page_errors.errors and not page_errors.dialogs
