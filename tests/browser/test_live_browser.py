"""Live threads in the embed: a comment approved elsewhere appears on an open page without a reload."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

EMBED_LIST = ".cms-list"


def wait_for_streams(server, count):
    hub = server.app.extensions["live"].hub
    deadline = time.monotonic() + 10
    while hub.open < count:
        assert time.monotonic() < deadline, "the embed opened no live stream"
        time.sleep(0.05)


def test_comments_approved_elsewhere_appear_live_in_the_embed(server, new_page, page_errors):
    shown = server.post("The restoration photos are wonderful.", name="Ada")
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    expect(page.locator(EMBED_LIST)).to_contain_text("The restoration photos are wonderful.")
    wait_for_streams(server, 1)

    # Another reader's comment, and a reply to the one shown, arrive while the page stays open.
    server.post("Glad the lantern room was kept as it was.", name="Grace")
    server.post("Agreed, the photos are lovely.", name="Lin", parent_id=shown["id"])
    expect(page.locator(EMBED_LIST)).to_contain_text("Glad the lantern room was kept as it was.")
    reply = page.locator(f'[data-comment-id="{shown["id"]}"] > .cms-replies').first
    expect(reply).to_contain_text("Agreed, the photos are lovely.")
    expect(page.locator(".cms-title")).to_have_text("3 comments")

    # A held comment stays off the page until a moderator approves it; then it comes live.
    held = server.post("You are a stupid idiot and a pathetic loser.", name="Troll")
    assert held["status"] == "held"
    client = server.app.test_client()
    decided = client.post(
        f"/v1/moderation/comments/{held['id']}/decision",
        json={"status": "approved"},
        headers={"Authorization": f"Bearer {server.keys['moderator']}"},
    )
    assert decided.status_code == 200, decided.get_json()
    expect(page.locator(EMBED_LIST)).to_contain_text("pathetic loser")
    # Each comment shows once, though the page also heard of its own.
    expect(page.locator(f'[data-comment-id="{shown["id"]}"]')).to_have_count(1)
    assert not page_errors.errors and not page_errors.dialogs


def test_the_embed_falls_back_to_polling_when_the_service_has_no_room(server, new_page, page_errors):
    hub = server.app.extensions["live"].hub
    bound = hub.max_connections
    hub.max_connections = 0
    try:
        page = new_page()
        page.clock.install()
        with page.expect_response(lambda response: "/events?" in response.url) as refused:
            page.goto(f"{server.url}/demo?as=anonymous")
        assert refused.value.status == 503
        expect(page.locator(".cms-empty")).to_be_visible()
        server.post("Posted while this page polls.", name="Ada")
        posted = page.locator(EMBED_LIST).get_by_text("Posted while this page polls.")
        # The poll is timed from the moment the page took the 503 in: move its clock past 30 s
        # until the poll has run (the page's clock only; the test waits in real time).
        for _ in range(20):
            page.clock.run_for(31_000)
            if posted.count():
                break
            page.wait_for_timeout(250)
        expect(posted).to_be_visible()
        assert not page_errors.errors
    finally:
        hub.max_connections = bound
