"""The console's Notices view: a reader's notice of illegal content is decided by a moderator."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

FRIENDLY = "Thanks for this well-researched article, I learned a lot."


def test_moderator_decides_a_notice_in_the_console(server, console):
    comment = server.post(FRIENDLY, name="Ada")
    client = server.app.test_client()
    sent = client.post(
        f"/v1/comments/{comment['id']}/notices",
        json={
            "category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            "explanation": "This comment incites hatred, which the law forbids.",
            "name": "Rita Reporter",
            "email": "rita@reporter.example",
            "good_faith": True,
        },
        headers={"Authorization": f"Bearer {server.keys['embed']}", "Origin": server.url},
    )
    assert sent.status_code == 201, sent.get_json()

    page = console()
    page.locator("#tabs a[data-view=notices]").click()
    notice = page.locator(".notice")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text("Illegal or harmful speech")
    expect(notice).to_contain_text("rita@reporter.example")
    expect(notice).to_contain_text(FRIENDLY)

    # Illegal without naming the law is refused, and says which field.
    notice.get_by_role("button", name="Decide").click()
    expect(notice.locator(".error")).to_contain_text("legal_ground")
    notice.get_by_label("Legal ground").fill("§ 130 StGB")
    notice.get_by_label("Explanation").fill("Incitement to hatred.")
    notice.get_by_role("button", name="Decide").click()
    expect(page.locator("#toast")).to_contain_text("comment rejected")
    expect(page.locator(".notice")).to_have_count(0)
    expect(page.locator("#notices-list")).to_contain_text("No open notices")

    status = server.app.test_client().get(
        f"/v1/moderation/comments/{comment['id']}",
        headers={"Authorization": f"Bearer {server.keys['moderator']}"},
    )
    assert status.get_json()["status"] == "rejected"


def test_reader_sends_a_notice_from_the_embed_and_follows_it(server, new_page):
    comment = server.post(FRIENDLY, name="Ada")
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    page.get_by_role("button", name="Report illegal content").click()
    form = page.locator(".cms-notice")
    form.get_by_role("button", name="Send notice").click()
    # The service's 422 names each field; the form shows each message at its field.
    expect(form.locator(".cms-msg")).to_contain_text("check the highlighted fields")
    expect(form.locator(".cms-field-error:visible")).to_have_count(4)

    form.get_by_label("Which law does it break?").select_option("STATEMENT_CATEGORY_VIOLENCE")
    form.get_by_label("Why is this comment illegal?").fill("It threatens a named person with violence.")
    form.get_by_label("Your name").fill("Rita Reporter")
    form.get_by_label("Your e-mail").fill("rita@reporter.example")
    form.get_by_label("I confirm in good faith").check()
    form.get_by_role("button", name="Send notice").click()
    expect(form.locator(".cms-msg")).to_contain_text("was received")
    link = form.locator(".cms-msg").text_content().split("here: ", 1)[1].strip()
    assert link.startswith(f"{server.url}/v1/notices/")

    status = server.app.test_client().get(link.removeprefix(server.url))
    assert status.status_code == 200
    body = status.get_json()
    assert (body["comment_id"], body["status"], body["category"]) == (
        comment["id"],
        "open",
        "STATEMENT_CATEGORY_VIOLENCE",
    )
