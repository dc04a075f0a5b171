"""The console signed in as a person: e-mail and password, the authenticator code, a reload that
keeps the session, sign-out, and a password chosen through a reset link."""

from __future__ import annotations

import os
import time

import pyotp
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from service.extensions import db

PASSWORD = "correct horse battery staple"


def _person(server, email, name="Ada Lovelace", totp_secret=None, password=PASSWORD):
    from service.accounts.store import create_account
    from service.db import Account
    from service.sites import site_by_slug

    with server.app.app_context():
        account = create_account(name, email, password, [(site_by_slug("demo").id, "moderator")])
        if totp_secret:
            change = sa.update(Account).where(Account.id == account.id).values(totp_secret=totp_secret)
            db.session.execute(change)
            db.session.commit()
        return account.id


def _sign_in(page, email, password=PASSWORD):
    page.fill("#email-input", email)
    page.fill("#password-input", password)
    page.click("#account-form button[type=submit]")


def test_a_person_signs_in_keeps_the_session_on_reload_and_signs_out(server, new_page):
    _person(server, "ada@demo.example")
    page = new_page()
    page.goto(f"{server.url}/console")
    _sign_in(page, "ada@demo.example", "a wrong password!")
    expect(page.locator("#account-error")).to_contain_text("wrong")

    _sign_in(page, "ada@demo.example")
    expect(page.locator("#queue-view")).to_be_visible()
    expect(page.locator("#role")).to_have_text("Ada Lovelace · Moderator")
    cookie = next(c for c in page.context.cookies() if c["name"] == "cms_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert "cms_session" not in page.evaluate("document.cookie")  # out of reach of scripts

    page.reload()
    expect(page.locator("#queue-view")).to_be_visible()  # the cookie's session, no new sign-in
    page.click("#sign-out")
    expect(page.locator("#account-form")).to_be_visible()
    page.reload()
    expect(page.locator("#account-form")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "cms_session"]


def test_the_console_asks_for_the_authenticator_code(server, new_page):
    secret = pyotp.random_base32()
    _person(server, "grace@demo.example", name="Grace Hopper", totp_secret=secret)
    page = new_page()
    page.goto(f"{server.url}/console")
    expect(page.locator("#totp-row")).to_be_hidden()
    _sign_in(page, "grace@demo.example")
    expect(page.locator("#totp-row")).to_be_visible()
    expect(page.locator("#account-error")).to_contain_text("authenticator")
    page.fill("#password-input", PASSWORD)
    page.fill("#totp-input", pyotp.TOTP(secret).at(time.time()))
    page.click("#account-form button[type=submit]")
    expect(page.locator("#queue-view")).to_be_visible()
    expect(page.locator("#role")).to_contain_text("Grace Hopper")


def test_a_reset_link_sets_the_password_and_decisions_carry_the_csrf_token(server, new_page):
    from service.accounts.store import account_by_email, reset_link

    _person(server, "linus@demo.example", name="Linus", password=None)
    with server.app.app_context():
        link = reset_link(account_by_email("linus@demo.example"), server.url)
    held = server.post("You are a stupid idiot and a pathetic loser.")["id"]
    page = new_page()
    page.goto(link)
    expect(page.locator("#reset-view")).to_be_visible()
    page.fill("#new-password-input", "a new password for Linus")
    page.fill("#repeat-password-input", "a new password for Linus")
    page.click("#reset-form button[type=submit]")
    expect(page.locator("#account-form")).to_be_visible()
    _sign_in(page, "linus@demo.example", "a new password for Linus")
    expect(page.locator("#queue-view")).to_be_visible()
    card = page.locator(".card").first
    expect(card).to_contain_text("stupid idiot")
    # A POST with the cookie: accepted only because the console sends the session's CSRF token.
    card.get_by_role("button", name="Approve").click()
    expect(page.locator("#toast")).to_contain_text(f"Approved comment #{held}")
    with server.app.app_context():
        from service.db import Account, ModerationEvent

        actor = db.session.scalar(
            sa.select(ModerationEvent.actor).where(
                ModerationEvent.comment_id == held, ModerationEvent.to_status == "approved"
            )
        )
        linus = db.session.scalar(sa.select(Account.id).where(Account.email_key == "linus@demo.example"))
    assert actor == f"user:{linus}"


@pytest.mark.skipif(
    not os.environ.get("WRITE_SCREENSHOTS"), reason="set WRITE_SCREENSHOTS=1 to write docs/screenshots"
)
def test_screenshot_of_the_sign_in_page(server, new_page):
    from service.config import PROJECT_ROOT

    _person(server, "edith@demo.example", name="Edith", totp_secret=pyotp.random_base32())
    page = new_page(viewport={"width": 1100, "height": 820})
    page.goto(f"{server.url}/console")
    _sign_in(page, "edith@demo.example")
    expect(page.locator("#totp-row")).to_be_visible()
    page.screenshot(path=str(PROJECT_ROOT / "docs" / "screenshots" / "console-sign-in.png"))
