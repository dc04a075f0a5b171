"""The embed's opt-in for reply notices."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from service.extensions import db
from service.notifications import ReplySubscription

pytestmark = pytest.mark.browser


def test_a_reader_opts_in_to_reply_notices_when_posting(server, new_page, page_errors):
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    page.locator(".cms-form textarea").fill("Thanks for this well-researched article, I learned a lot.")
    page.locator(".cms-form input[name=name]").fill("Ada")
    page.locator(".cms-form input[name=email]").fill("ada@example.org")
    page.get_by_label("E-mail me replies (needs an e-mail)").check()
    page.locator(".cms-form button[type=submit]").click()
    # The first post of a session waits for the form's minimum time and the scorer's first call.
    expect(page.locator(".cms-msg.cms-ok")).to_have_text("Your comment is published.", timeout=20_000)
    with server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReplySubscription)) == 1

    # Without an address the service says what is missing.
    page.locator(".cms-form textarea").fill("A second thought on the lantern room, without my address.")
    page.locator(".cms-form input[name=email]").fill("")
    page.locator(".cms-form button[type=submit]").click()
    email_error = page.locator(".cms-field-email .cms-field-error")
    expect(email_error).to_have_text("needs an e-mail address to send the replies to", timeout=20_000)
    assert not page_errors.errors
