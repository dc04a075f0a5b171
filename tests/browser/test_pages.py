"""The embed and the moderator console, driven in a real browser against a live server."""

from __future__ import annotations

import gzip
import html
import json
import re
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

FRIENDLY = "Thanks for this well-researched article, I learned a lot."
INSULT = "You are a stupid idiot and a pathetic loser."
EMBED_LIST = ".cms-list"
FORM_ERROR = ".cms-form-slot + .cms-msg.cms-error"


def moderation(server, method, path, key=None, **kwargs):
    client = server.app.test_client()
    headers = {"Authorization": f"Bearer {key or server.keys['moderator']}", **kwargs.pop("headers", {})}
    return client.open(path, method=method, headers=headers, **kwargs)


def post_in_embed(page, text, name="Reader"):
    page.locator(".cms-form textarea").fill(text)
    page.locator(".cms-form input[name=name]").fill(name)
    page.locator(".cms-form button[type=submit]").click()


def test_embed_is_small_and_pages_send_security_headers(server):
    client = server.app.test_client()
    embed = client.get("/embed.js")
    assert embed.status_code == 200
    assert embed.mimetype == "text/javascript"
    assert embed.headers["Access-Control-Allow-Origin"] == "*"
    # What every article page loads: the script and its stylesheet, under 15 KB gzipped together
    # (a catalog of another language comes only when the page needs it).
    styles = client.get("/embed.css")
    assert len(gzip.compress(embed.data, 9)) + len(gzip.compress(styles.data, 9)) < 15 * 1024
    # Sent without its comments, and revalidated by its ETag.
    assert b"\n//" not in embed.data and embed.data.lstrip().startswith(b"(function")
    assert client.get("/embed.js", headers={"If-None-Match": embed.headers["ETag"]}).status_code == 304
    assert b"innerHTML" not in embed.data
    for path in ("/console", "/demo"):
        response = client.get(path)
        assert response.status_code == 200
        csp = response.headers["Content-Security-Policy"]
        for directive in (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ):
            assert directive in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert b"<style" not in response.data and b" style=" not in response.data
        assert not re.search(rb"<script(?![^>]*\ssrc=)[^>]*>", response.data), "inline script"
    assert "max-age" in client.get("/web/console.js").headers["Cache-Control"]


def test_demo_page_explains_how_to_start_without_demo_keys(server, tmp_path):
    original = server.app.instance_path
    server.app.instance_path = str(tmp_path)
    try:
        page = server.app.test_client().get("/demo").get_data(as_text=True)
    finally:
        server.app.instance_path = original
    assert "comment-service serve" in page
    assert "embed.js" not in page


def test_reader_sees_friendly_comment_published_and_insult_awaiting_review(server, new_page, page_errors):
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    expect(page.locator(".cms-empty")).to_be_visible()

    post_in_embed(page, FRIENDLY, name="Ada")
    message = page.locator(".cms-msg.cms-ok")
    expect(message).to_have_text("Your comment is published.")
    # Announced by the live region; the focus stays in the form, ready for another comment.
    expect(page.locator(".cms-live")).to_have_text("Your comment is published.")
    expect(message).not_to_be_focused()
    expect(page.locator(EMBED_LIST)).to_contain_text(FRIENDLY)
    expect(page.locator(".cms-title")).to_have_text("1 comment")

    post_in_embed(page, INSULT, name="Troll")
    expect(page.locator(".cms-msg.cms-info")).to_contain_text("awaiting review")
    # Its author alone sees it, marked as awaiting review, with nothing to reply to or report.
    held = page.locator(".cms-pending", has_text=INSULT)
    expect(held).to_contain_text("Awaiting review")
    expect(held.get_by_role("button", name="Report")).to_have_count(0)

    page.reload()
    expect(page.locator(EMBED_LIST)).to_contain_text(FRIENDLY)
    expect(page.locator(".cms-pending")).to_have_text(re.compile("Awaiting review.*" + re.escape(INSULT)))
    expect(page.locator(".cms-title")).to_have_text("1 comment")
    stranger = new_page()
    stranger.goto(f"{server.url}/demo?as=anonymous")
    expect(stranger.locator(EMBED_LIST)).to_contain_text(FRIENDLY)
    expect(stranger.locator(EMBED_LIST)).not_to_contain_text(INSULT)
    assert not page_errors.errors and not page_errors.dialogs


def test_embed_shows_field_errors_and_replies(server, new_page):
    parent = server.post(FRIENDLY, name="Ada")
    assert parent["status"] == "approved"
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    post_in_embed(page, "x" * 10, name="")
    expect(page.locator(".cms-field-name .cms-field-error")).to_have_text("Please give a name.")
    expect(page.locator(".cms-form input[name=name]")).to_be_focused()

    page.get_by_role("button", name="Reply to Ada").click()
    expect(page.locator(".cms-replying")).to_contain_text("Replying to Ada")
    post_in_embed(page, "Agreed, the photos of the lantern room are lovely.", name="Grace")
    expect(page.locator(".cms-replies .cms-text")).to_have_text(
        "Agreed, the photos of the lantern room are lovely."
    )


def _held_card(page, text):
    return page.locator(".card", has_text=text)


def test_moderator_approves_held_comments_and_they_appear_on_the_article(server, console, new_page):
    first = server.post(INSULT, name="Troll")
    second = server.post("What a moron wrote this, honestly.", name="Grump")
    assert first["status"] == second["status"] == "held"

    page = console()
    expect(page.locator(".queue-btn[data-queue=held] .count")).to_have_text("2")
    card = _held_card(page, INSULT)
    expect(card.locator(".hl-word")).to_have_text("idiot")
    expect(card.locator(".reason-suspect_word")).to_contain_text("idiot")
    expect(card.locator(".scores dt").first).to_be_visible()
    card.get_by_role("button", name="Approve").click()
    expect(card).to_have_count(0)
    expect(page.locator("#toast")).to_contain_text(f"Approved comment #{first['id']}")

    # The remaining card is active: approve it with the keyboard.
    expect(page.locator(".card.active")).to_contain_text("moron")
    page.keyboard.press("a")
    expect(page.locator(".card")).to_have_count(0)
    expect(page.locator("#queue-empty")).to_be_visible()
    expect(page.locator(".queue-btn[data-queue=held] .count")).to_have_text("0")

    article = new_page()
    article.goto(f"{server.url}/demo")
    expect(article.locator(EMBED_LIST)).to_contain_text(INSULT)
    expect(article.locator(EMBED_LIST)).to_contain_text("moron")

    # The audit trail of an approved comment shows both steps.
    page.locator(".queue-btn[data-queue=approved]").click()
    card = _held_card(page, INSULT)
    card.get_by_role("button", name="Audit trail").click()
    expect(card.locator(".events li")).to_have_count(2)
    expect(card.locator(".events")).to_contain_text("held → approved")


def test_second_console_is_told_another_moderator_decided_first(server, console):
    comment = server.post(INSULT, name="Troll")
    first, second = console(), console()
    for page in (first, second):
        expect(_held_card(page, INSULT)).to_be_visible()

    _held_card(first, INSULT).get_by_role("button", name="Approve").click()
    expect(_held_card(first, INSULT)).to_have_count(0)

    card = _held_card(second, INSULT)
    card.get_by_role("button", name="Approve").click()
    message = card.locator(".card-message")
    expect(message).to_contain_text("Another moderator decided first")
    expect(message).to_contain_text("now approved (version 2)")
    expect(card.locator(".badge")).to_have_text("approved")
    expect(card.locator(".meta")).to_contain_text("v2")
    events = moderation(server, "GET", f"/v1/moderation/comments/{comment['id']}/events").get_json()["items"]
    assert [e["to_status"] for e in events] == ["approved", "held"]


def test_keyboard_shortcuts_move_select_and_decide(server, console):
    texts = [f"Comment {n}: you idiot, read it again." for n in range(4)]
    ids = [server.post(text, name=f"Reader {n}")["id"] for n, text in enumerate(texts)]
    page = console()
    cards = page.locator(".card")
    expect(cards).to_have_count(4)
    expect(page.locator("#help")).to_contain_text("j")

    expect(cards.nth(0)).to_have_class(re.compile(r"\bactive\b"))
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(cards.nth(2)).to_have_class(re.compile(r"\bactive\b"))
    page.keyboard.press("k")
    expect(cards.nth(1)).to_have_class(re.compile(r"\bactive\b"))

    page.keyboard.press("x")
    expect(cards.nth(1)).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator("#selected-count")).to_have_text("1 selected")
    page.keyboard.press("x")
    expect(page.locator("#selected-count")).to_have_text("Select all")

    page.keyboard.press("r")  # rejects comment 1 with the reason chosen on its card
    expect(cards).to_have_count(3)
    expect(page.locator(".card.active")).to_contain_text("Comment 2")
    page.keyboard.press("h")  # held stays in the held queue, with a new version
    expect(page.locator(".card.active .card-message")).to_have_text("Held.")
    page.keyboard.press("k")
    expect(page.locator(".card.active")).to_contain_text("Comment 0")
    page.keyboard.press("a")
    expect(cards).to_have_count(2)

    statuses = {
        i: moderation(server, "GET", f"/v1/moderation/comments/{i}").get_json()["status"] for i in ids
    }
    assert statuses == {ids[0]: "approved", ids[1]: "rejected", ids[2]: "held", ids[3]: "held"}
    events = moderation(server, "GET", f"/v1/moderation/comments/{ids[1]}/events").get_json()["items"]
    assert events[0]["reason"] == "spam"


def test_bulk_selection_approves_many(server, console):
    ids = [server.post(f"Number {n}, you idiot.", name="Bulk")["id"] for n in range(3)]
    page = console()
    expect(page.locator(".card")).to_have_count(3)
    page.locator("#select-all").check()
    expect(page.locator("#selected-count")).to_have_text("3 selected")
    page.locator("#bulk-approve").click()
    expect(page.locator(".card")).to_have_count(0)
    expect(page.locator("#toast")).to_contain_text("Approved 3 comments")
    for comment_id in ids:
        assert (
            moderation(server, "GET", f"/v1/moderation/comments/{comment_id}").get_json()["status"]
            == "approved"
        )


def test_stats_page_draws_charts(server, console):
    server.post(FRIENDLY)
    held = server.post(INSULT)
    moderation(
        server,
        "POST",
        f"/v1/moderation/comments/{held['id']}/decision",
        json={"status": "rejected", "reason": "abuse"},
    )
    page = console()
    page.get_by_role("link", name="Stats").click()
    expect(page.locator("#chart-days svg rect").first).to_be_attached()
    expect(page.locator("#chart-queues svg")).to_be_visible()
    expect(page.locator("#chart-agreement svg")).to_be_visible()
    expect(page.locator("#stats-tiles")).to_contain_text("Reviewed by moderators")


# --- XSS ---------------------------------------------------------------------------------

XSS_PAYLOADS = [
    '<img src=x onerror="window.__xss=1;alert(1)">',
    "<script>window.__xss=1;alert(1)</script>",
    "javascript:window.__xss=1;alert(1)",
    "</script><script>window.__xss=1;alert(1)</script>",
    '" onmouseover="window.__xss=1;alert(1)" x="',
    '\'><svg onload="window.__xss=1;alert(1)">',
    "\u202egnp.exe <b>bold</b> \u202d<i onclick=alert(1)>x</i>",
    "\uff1cscript\uff1ewindow.__xss=1;alert(1)\uff1c/script\uff1e",
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '<a href="javascript:window.__xss=1">click me</a>',
]
XSS_ARTICLE = "xss-article"
INJECTED = "img, script, svg, iframe, a[href^='javascript'], b, i"


def _xss_page_html(server, title):
    """A news article page whose data-article-title carries a payload (escaped as HTML should be)."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>XSS test</title></head><body>"
        "<h1>XSS test</h1>"
        f"<script src='{server.url}/embed.js' data-site-key='{server.keys['embed']}' "
        f"data-article-id='{XSS_ARTICLE}' data-article-title=\"{html.escape(title, quote=True)}\" "
        f"data-article-url='{server.url}/xss' async></script></body></html>"
    )


def _assert_inert(page, page_errors, container_js, texts):
    page.mouse.move(10, 10)
    page.wait_for_timeout(300)  # give any injected handler its chance to fire
    assert page_errors.dialogs == []
    assert page.evaluate("() => window.__xss") is None
    injected = page.evaluate(
        f"() => Array.from(({container_js}).querySelectorAll({INJECTED!r})).map(n => n.outerHTML)"
    )
    assert injected == []
    shown = page.evaluate(f"() => ({container_js}).textContent")
    for text in texts:
        assert text in shown


def test_xss_payloads_are_shown_as_text_in_the_embed_and_the_console(server, new_page, console, page_errors):
    title = XSS_PAYLOADS[0] + " " + XSS_PAYLOADS[5]
    page = new_page()
    page.route(
        f"{server.url}/xss",
        lambda route: route.fulfill(status=200, content_type="text/html", body=_xss_page_html(server, title)),
    )
    page.goto(f"{server.url}/xss")
    # The first comment, posted through the embed, creates the article with the payload title.
    post_in_embed(page, XSS_PAYLOADS[1], name=XSS_PAYLOADS[0])
    expect(page.locator(".cms-form-slot + .cms-msg")).to_be_visible()
    for n, payload in enumerate(XSS_PAYLOADS):
        server.post(
            payload, name=XSS_PAYLOADS[-1 - n], article=XSS_ARTICLE, title="ignored: the article exists"
        )
    thread = moderation(server, "GET", "/v1/moderation/comments?queue=held&limit=100").get_json()["items"]
    thread += moderation(server, "GET", "/v1/moderation/comments?queue=pending&limit=100").get_json()["items"]
    for item in thread:  # whatever the model thought, show every payload in the public thread
        moderation(
            server, "POST", f"/v1/moderation/comments/{item['id']}/decision", json={"status": "approved"}
        )
    approved = moderation(server, "GET", "/v1/moderation/comments?queue=approved&limit=100").get_json()[
        "items"
    ]
    assert len(approved) == len(XSS_PAYLOADS) + 1
    stored_texts = {item["text"] for item in approved} | {item["author"]["name"] for item in approved}
    assert approved[0]["article"]["title"] != "ignored: the article exists"

    page.reload()
    expect(page.locator(".cms-comment")).to_have_count(len(XSS_PAYLOADS) + 1)
    for comment in page.locator(".cms-comment > article").all():
        comment.hover()
    _assert_inert(
        page,
        page_errors,
        "document.querySelector('.cms-comments').shadowRoot.querySelector('.cms-list')",
        stored_texts,
    )

    moderator = console()
    moderator.locator(".queue-btn[data-queue=approved]").click()
    expect(moderator.locator(".card")).to_have_count(len(XSS_PAYLOADS) + 1)
    for card in moderator.locator(".card").all():
        card.hover()
        card.get_by_role("button", name="Audit trail").click()
    expect(moderator.locator(".card .article").first).to_have_text(approved[0]["article"]["title"])
    _assert_inert(
        moderator,
        page_errors,
        "document.getElementById('cards')",
        stored_texts | {approved[0]["article"]["title"]},
    )
    assert page_errors.errors == []


def test_embed_explains_errors_and_retries_with_the_same_idempotency_key(server, new_page):
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")

    # The service's own validation errors land on their fields.
    page.locator(".cms-form input[name=email]").fill("not-an-address")
    post_in_embed(page, FRIENDLY, name="Ada")
    expect(page.locator(".cms-field-email .cms-field-error")).to_be_visible()
    expect(page.locator(".cms-form input[name=email]")).to_have_attribute("aria-invalid", "true")
    page.locator(".cms-form input[name=email]").fill("")

    # A network failure, then a retry: the same Idempotency-Key, so one comment at most.
    keys = []

    def flaky(route):
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/v1/comments", flaky)
    post_in_embed(page, FRIENDLY, name="Ada")
    expect(page.locator(FORM_ERROR)).to_contain_text("Could not reach the comment service")
    page.locator(".cms-form button[type=submit]").click()
    expect(page.locator(".cms-msg.cms-ok")).to_have_text("Your comment is published.")
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0]
    page.unroute("**/v1/comments")

    # Rate limited: the reader is told when to try again.
    def limited(route):
        route.fulfill(
            status=429,
            headers={"Retry-After": "42", "Access-Control-Allow-Origin": "*"},
            content_type="application/problem+json",
            body='{"title": "Too Many Requests", "status": 429}',
        )

    page.route("**/v1/comments", limited)
    post_in_embed(page, "Another thought on the lens.", name="Ada")
    expect(page.locator(FORM_ERROR)).to_contain_text("try again in 42 seconds")
    expect(page.locator(".cms-form button[type=submit]")).to_be_disabled()
    page.unroute("**/v1/comments")

    # A closed article: the form goes, the reason stays.
    moderation(
        server,
        "PATCH",
        "/v1/admin/sites/demo/articles/demo-lighthouse-restoration",
        json={"closed": True},
    )
    page.reload()
    expect(page.locator(".cms-notice")).to_have_text("Comments are closed for this article.")
    expect(page.locator(".cms-form")).to_be_hidden()
    approved = moderation(server, "GET", "/v1/moderation/comments?queue=approved").get_json()["items"]
    assert [item["text"] for item in approved] == [FRIENDLY]


def test_admin_sees_webhook_endpoints_and_their_deliveries(server, console):
    admin_key = server.keys["admin"]
    created = moderation(
        server,
        "POST",
        "/v1/admin/sites/demo/webhooks",
        key=admin_key,
        json={"url": "http://127.0.0.1:9/hooks", "event_types": ["comment.created"]},
    )
    assert created.status_code == 201, created.get_json()
    server.post(FRIENDLY)
    # The delivery thread turns the event into a delivery within its poll interval (1 s); the
    # console shows the log as it is when opened.
    deliveries = f"/v1/admin/webhooks/{created.get_json()['id']}/deliveries"
    deadline = time.monotonic() + 10
    while not moderation(server, "GET", deliveries, key=admin_key).get_json()["deliveries"]:
        assert time.monotonic() < deadline, "no delivery was made within 10 s"
        time.sleep(0.1)
    page = console(admin_key)
    page.get_by_role("link", name="Webhooks").click()
    row = page.locator("#endpoints-table tbody tr", has_text="http://127.0.0.1:9/hooks")
    expect(row).to_be_visible()
    row.get_by_role("button", name="Deliveries").click()
    expect(page.locator("#deliveries-table tbody tr").first).to_contain_text("comment.created")


def test_policy_view_shows_the_effective_policy(server, console):
    """After a PATCH that sets only insult's reject, the console shows insult still held at the
    default 0.5 and every other label as it was."""
    admin_key = server.keys["admin"]
    before = moderation(server, "GET", "/v1/admin/sites/demo/policy", key=admin_key).get_json()
    changed = moderation(
        server,
        "PATCH",
        "/v1/admin/sites/demo/policy",
        key=admin_key,
        json={"thresholds": {"insult": {"reject": 0.95}}},
    )
    assert changed.status_code == 200, changed.get_json()
    try:
        page = console()
        page.get_by_role("link", name="Policy").click()
        table = page.locator("#policy-thresholds")
        expect(table.locator("tr", has_text="insult")).to_contain_text("0.50")
        expect(table.locator("tr", has_text="insult")).to_contain_text("0.95")
        expect(table.locator("tr", has_text="threat")).to_contain_text("never (a person decides)")
        expect(page.locator("#policy-body")).to_contain_text("Built-in English lists")
    finally:
        restored = moderation(server, "PUT", "/v1/admin/sites/demo/policy", key=admin_key, json=before)
        assert restored.status_code == 200, restored.get_json()


def test_admin_reads_the_settings_history(server, console):
    """A word list changed through the API shows in the Settings history with its value before
    and after and who changed it; moderators have no such tab."""
    admin_key = server.keys["admin"]
    before = moderation(server, "GET", "/v1/admin/sites/demo/policy", key=admin_key).get_json()
    changed = moderation(
        server, "PATCH", "/v1/admin/sites/demo/policy", key=admin_key, json={"suspect_words": ["<b>dolt</b>"]}
    )
    assert changed.status_code == 200, changed.get_json()
    try:
        page = console(admin_key)
        page.get_by_role("link", name="Settings history").click()
        row = page.locator("#history-table tbody tr", has_text="policy.updated").first
        old = json.dumps(before["suspect_words"], separators=(",", ":"))
        expect(row).to_contain_text(f'suspect_words: {old} → ["<b>dolt</b>"]')  # as text, never markup
        expect(row).to_contain_text("site:demo")
        assert page.locator("#history-table b").count() == 0
        moderator_page = console()
        expect(moderator_page.get_by_role("link", name="Settings history")).to_be_hidden()
    finally:
        restored = moderation(server, "PUT", "/v1/admin/sites/demo/policy", key=admin_key, json=before)
        assert restored.status_code == 200, restored.get_json()
