"""The embed and the demo page for readers who use a screen reader or only a keyboard: axe-core
finds no serious or critical violation in any main state, posting, replying and reporting work
with the keyboard alone, the focus is always visible, and posts are announced."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.axe_support import assert_accessible

pytestmark = pytest.mark.browser

FRIENDLY = "Thanks for this well-researched article, I learned a lot."
INSULT = "You are a stupid idiot and a pathetic loser."
LIVE = ".cms-live"
# The element that has the focus, through the embed's shadow root, as "tag:name".
FOCUSED = """() => {
  let node = document.activeElement;
  while (node && node.shadowRoot && node.shadowRoot.activeElement) node = node.shadowRoot.activeElement;
  if (!node || node === document.body) return "";
  const name = node.getAttribute("aria-label") || node.getAttribute("name") || node.textContent.trim();
  return node.tagName.toLowerCase() + ":" + name;
}"""
# How the focused element of the embed is drawn (null outside the embed): a focus ring must show.
FOCUS_RING = """() => {
  const root = document.querySelector(".cms-comments").shadowRoot;
  const node = root.activeElement;
  if (!node) return null;
  const style = getComputedStyle(node);
  return {style: style.outlineStyle, width: parseFloat(style.outlineWidth)};
}"""


def tab_to(page, target: str, limit: int = 80) -> None:
    """Press Tab until the focus is on `target` ("tag:name"), as a keyboard user would, checking
    the focus ring of every element of the embed passed on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        ring = page.evaluate(FOCUS_RING)
        # Whatever takes the focus in the embed shows it.
        assert ring is None or (ring["style"] != "none" and ring["width"] >= 2), (
            f"no focus ring: {focused} {ring}"
        )
        if focused == target:
            return
        seen.append(focused)
    raise AssertionError(f"Tab never reached {target}; it went through {seen}")


def test_axe_finds_no_serious_violation_in_the_embed_and_demo_page(server, new_page):
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    expect(page.locator(".cms-empty")).to_be_visible()
    assert_accessible(page, "empty thread")

    page.locator(".cms-form button[type=submit]").click()
    expect(page.locator(".cms-field-text .cms-field-error")).to_be_visible()
    assert_accessible(page, "form errors")

    page.locator(".cms-form textarea").fill(INSULT)
    page.locator(".cms-form input[name=name]").fill("Troll")
    page.locator(".cms-form button[type=submit]").click()
    expect(page.locator(".cms-msg.cms-info")).to_be_visible()
    assert_accessible(page, "awaiting review")

    first = server.post(FRIENDLY, name="Ada")
    server.post("The photographs of the lantern room are lovely.", name="Grace", parent_id=first["id"])
    server.post("When does the tower open to visitors?", name="Tom")
    page.reload()
    # Three published, and the reader's own comment awaiting review, shown to them alone.
    expect(page.locator(".cms-comment")).to_have_count(4)
    expect(page.locator(".cms-pending")).to_have_count(1)
    assert_accessible(page, "with comments")

    page.get_by_role("button", name="Reply to Ada").click()
    page.get_by_role("button", name="Report", exact=True).first.click()
    expect(page.locator(".cms-report select")).to_be_focused()
    assert_accessible(page, "reply and report forms open")

    page.get_by_role("button", name="Report illegal content").first.click()
    page.locator(".cms-notice").get_by_role("button", name="Send notice").click()
    expect(page.locator(".cms-notice .cms-msg.cms-error")).to_be_visible()
    assert_accessible(page, "notice of illegal content with errors")

    signed_in = new_page()
    signed_in.goto(f"{server.url}/demo")
    expect(signed_in.locator(".cms-as")).to_be_visible()
    assert_accessible(signed_in, "signed-in reader")

    for lang, heading in (("de", "3 Kommentare"), ("ar", None), ("he", None)):
        other = new_page()
        other.goto(f"{server.url}/demo?lang={lang}")
        expect(other.locator(".cms-comment")).to_have_count(3)
        if heading:
            expect(other.locator(".cms-title")).to_have_text(heading)
        assert_accessible(other, f"embed in {lang}")


def test_reader_posts_replies_and_reports_with_the_keyboard_only(server, new_page):
    ada = server.post(FRIENDLY, name="Ada")
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    expect(page.locator(".cms-comment")).to_have_count(1)

    tab_to(page, "textarea:text")
    page.keyboard.type("The restored lens is a marvel of Victorian engineering.")
    tab_to(page, "input:name")
    page.keyboard.type("Kim")
    tab_to(page, "button:Post comment")
    page.keyboard.press("Enter")
    expect(page.locator(LIVE)).to_have_text("Your comment is published.")
    expect(page.locator(".cms-list > .cms-comment").first).to_contain_text("Victorian engineering")

    tab_to(page, "button:Reply to Ada")
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED) == "textarea:text"
    expect(page.locator(".cms-replying")).to_contain_text("Replying to Ada")
    # Escape leaves the reply and gives the focus back to the button that opened it.
    page.keyboard.press("Escape")
    expect(page.locator(".cms-replying")).to_be_hidden()
    assert page.evaluate(FOCUSED) == "button:Reply to Ada"
    page.keyboard.press("Enter")
    page.keyboard.type("Agreed, and the volunteers deserve the credit.")
    tab_to(page, "button:Post comment")
    page.keyboard.press("Enter")
    reply = page.locator(f'[data-comment-id="{ada["id"]}"] .cms-replies .cms-text')
    expect(reply).to_have_text("Agreed, and the volunteers deserve the credit.")
    # The form went back to the top; the focus went with it rather than to nowhere.
    assert page.evaluate(FOCUSED) == "textarea:text"

    page.keyboard.press("Shift+Tab")  # back out of the form, then forward to Ada's Report button
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED) == "button:Report" and page.evaluate(
            "() => document.querySelector('.cms-comments').shadowRoot.activeElement"
            ".closest('.cms-comment').dataset.commentId"
        ) == str(ada["id"]):
            break
    else:
        raise AssertionError("Tab never reached Ada's Report button")
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED).startswith("select:")
    page.keyboard.press("Escape")
    expect(page.locator(".cms-report")).to_have_count(0)
    assert page.evaluate(FOCUSED) == "button:Report"
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED).startswith("select:")
    page.keyboard.press("ArrowDown")  # Spam -> Abusive or hateful
    tab_to(page, "button:Send report")
    page.keyboard.press("Enter")
    message = page.locator(".cms-report .cms-msg")
    expect(message).to_have_text("Thank you. The moderators will take a look.")
    expect(message).to_be_focused()

    moderator = {"Authorization": f"Bearer {server.keys['moderator']}"}
    found = server.app.test_client().get(f"/v1/moderation/comments/{ada['id']}", headers=moderator).get_json()
    assert [r["reason"] for r in found["reports"]] == ["abuse"]


def test_posts_are_announced_to_screen_readers(server, new_page):
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    live = page.locator(LIVE)
    # One polite live region, in the page (and empty) before anything is announced.
    expect(live).to_have_attribute("role", "status")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_have_text("")

    page.locator(".cms-form textarea").fill(FRIENDLY)
    page.locator(".cms-form input[name=name]").fill("Ada")
    page.locator(".cms-form button[type=submit]").click()
    expect(live).to_have_text("Your comment is published.")
    expect(page.locator(".cms-msg.cms-ok")).to_have_text("Your comment is published.")

    page.locator(".cms-form textarea").fill(INSULT)
    page.locator(".cms-form button[type=submit]").click()
    expect(live).to_contain_text("awaiting review")
    # The visible message is not a second live region (it would be read twice).
    assert page.locator(".cms-msg.cms-info").get_attribute("aria-live") is None


def test_errors_take_the_focus_and_name_their_field(server, new_page):
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    page.locator(".cms-form textarea").fill(FRIENDLY)
    page.locator(".cms-form button[type=submit]").click()
    name = page.locator(".cms-form input[name=name]")
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    error_id = page.locator(".cms-field-name .cms-field-error").get_attribute("id")
    assert error_id in name.get_attribute("aria-describedby").split()
