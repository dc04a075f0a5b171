"""Authors' own comments in the embed (edit, delete, awaiting review) and long threads."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from service.comments import MAX_REPLIES_PER_ROOT
from tests.browser.test_pages import EMBED_LIST, FRIENDLY, INSULT, post_in_embed

pytestmark = pytest.mark.browser


def own_comment(page, text):
    """The comment showing `text` now, by its id (so that it is still found once edited)."""
    ident = page.locator(".cms-comment", has_text=text).first.get_attribute("data-comment-id")
    return page.locator(f'.cms-comment[data-comment-id="{ident}"]')


def test_reader_edits_and_deletes_their_own_comment(server, new_page, page_errors):
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    post_in_embed(page, FRIENDLY, name="Ada")
    expect(page.locator(".cms-msg.cms-ok")).to_have_text("Your comment is published.")
    mine = own_comment(page, FRIENDLY)

    mine.get_by_role("button", name="Edit").click()
    mine.locator(".cms-edit textarea").fill("Thanks, this explains the restoration clearly.")
    mine.get_by_role("button", name="Save").click()
    expect(mine.locator(".cms-msg.cms-ok")).to_have_text("Your edit is published.")
    expect(mine.locator(".cms-text")).to_have_text("Thanks, this explains the restoration clearly.")

    # Someone answers; after a reload the reader's own comment still offers edit and delete.
    server.post("Glad you liked it.", name="Grace", parent_id=int(mine.get_attribute("data-comment-id")))
    page.reload()
    mine = own_comment(page, "explains the restoration")
    expect(mine.locator(".cms-edited").first).to_have_text("(edited)")
    expect(mine.get_by_role("button", name="Edit").first).to_be_visible()
    reply = page.locator(".cms-replies .cms-comment", has_text="Glad you liked it.")
    expect(reply.get_by_role("button", name="Edit")).to_have_count(0)
    expect(reply.get_by_role("button", name="Delete")).to_have_count(0)

    # Another reader (another browser) gets no such buttons.
    stranger = new_page()
    stranger.goto(f"{server.url}/demo?as=anonymous")
    expect(stranger.locator(EMBED_LIST)).to_contain_text("explains the restoration")
    expect(stranger.get_by_role("button", name="Edit")).to_have_count(0)
    expect(stranger.get_by_role("button", name="Delete")).to_have_count(0)

    mine.get_by_role("button", name="Delete", exact=True).first.click()
    mine.get_by_role("button", name="Yes, delete").click()
    expect(page.locator(EMBED_LIST)).not_to_contain_text("explains the restoration")
    expect(page.locator(".cms-deleted").first).to_contain_text("This comment was deleted.")
    expect(page.locator(EMBED_LIST)).to_contain_text("Glad you liked it.")
    stranger.reload()
    expect(stranger.locator(".cms-deleted").first).to_contain_text("This comment was deleted.")
    expect(stranger.locator(EMBED_LIST)).to_contain_text("Glad you liked it.")
    assert not page_errors.errors and not page_errors.dialogs


def test_an_edit_into_an_insult_awaits_review_and_only_its_author_sees_it(server, new_page, console):
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    post_in_embed(page, FRIENDLY, name="Ada")
    mine = own_comment(page, FRIENDLY)
    mine.get_by_role("button", name="Edit").click()
    mine.locator(".cms-edit textarea").fill(INSULT)
    mine.get_by_role("button", name="Save").click()
    expect(mine.locator(".cms-msg.cms-info")).to_have_text("Your edit is awaiting review.")

    page.reload()
    pending = page.locator(".cms-pending", has_text=INSULT)
    expect(pending).to_contain_text("Awaiting review — only you can see this.")
    stranger = new_page()
    stranger.goto(f"{server.url}/demo?as=anonymous")
    expect(stranger.locator(".cms-title")).to_have_text("0 comments")
    expect(stranger.locator(EMBED_LIST)).not_to_contain_text(INSULT)

    # Moderators see the held edit with the text it replaced.
    card = console().locator(".card", has_text=INSULT)
    card.get_by_text("Edited by the author once").click()
    expect(card.locator(".edits")).to_contain_text(FRIENDLY)


def test_long_threads_show_more_replies(server, new_page):
    root = server.post("A comment that draws a crowd.", name="Ada")["id"]
    for i in range(MAX_REPLIES_PER_ROOT + 5):
        server.post(f"Answer number {i}.", name="Grace", parent_id=root)
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    replies = page.locator(".cms-replies .cms-comment")
    more = page.get_by_role("button", name="Show more replies (5)")
    # The live stream may bring the newest replies first (it resumes after the highest id shown).
    more.click()
    expect(replies).to_have_count(MAX_REPLIES_PER_ROOT + 5)
    expect(page.locator(EMBED_LIST)).to_contain_text(f"Answer number {MAX_REPLIES_PER_ROOT + 4}.")
    expect(more).to_be_hidden()
    shown = replies.evaluate_all("nodes => nodes.map(n => n.dataset.commentId)")
    assert len(set(shown)) == len(shown) == MAX_REPLIES_PER_ROOT + 5
