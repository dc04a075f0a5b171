"""Signed-in readers, bot checks and the spam and report tools, in a real browser."""

from __future__ import annotations

import json
import re
import time

import jwt
import pytest
from playwright.sync_api import expect

from service.db import Comment
from service.extensions import db
from service.identity.tokens import reader_token, verify_reader
from service.sites import site_by_slug, update_site
from tests.browser.test_pages import XSS_PAYLOADS, _assert_inert, moderation

pytestmark = pytest.mark.browser

FRIENDLY = "Thanks for this well-researched article, I learned a lot."
WAVE = "Earn 500 dollars a day working from home, message me for the details of this offer"
SHADOW = "document.querySelector('.cms-comments').shadowRoot"


def comments_sent(page) -> list[dict]:
    """The bodies and Idempotency-Keys of the comment posts the page sends."""
    sent = []

    def record(request):
        if request.method == "POST" and request.url.endswith("/v1/comments"):
            sent.append(
                {"body": json.loads(request.post_data), "key": request.headers.get("idempotency-key")}
            )

    page.on("request", record)
    return sent


def queue(server, name="held", **params):
    query = "&".join(f"{k}={v}" for k, v in {"queue": name, "limit": 100, **params}.items())
    return moderation(server, "GET", f"/v1/moderation/comments?{query}").get_json()["items"]


def one(server, comment_id):
    return moderation(server, "GET", f"/v1/moderation/comments/{comment_id}").get_json()


def write(page, text):
    page.locator(".cms-form textarea").fill(text)
    page.locator(".cms-form button[type=submit]").click()


def test_signed_in_reader_posts_under_the_name_the_site_vouched_for(server, new_page, page_errors):
    page = new_page()
    sent = comments_sent(page)
    page.goto(f"{server.url}/demo")
    expect(page.locator(".cms-as")).to_have_text("Commenting as Alex Morgan")
    expect(page.locator(".cms-form input[name=name]")).to_be_hidden()
    expect(page.locator(".cms-form input[name=email]")).to_be_hidden()

    write(page, FRIENDLY)  # at once: the embed waits out the render token's minimum itself
    expect(page.locator(".cms-msg.cms-ok")).to_have_text("Your comment is published.")
    expect(page.locator(".cms-list .cms-author")).to_have_text("Alex Morgan")

    body = sent[0]["body"]
    assert "author" not in body
    assert body["reader_token"] and body["article_token"] and body["render_token"]
    assert body["honeypot"] == ""
    item = queue(server, "approved")[0]
    assert item["author"]["verified"] is True
    assert item["author"]["name"] == "Alex Morgan"
    assert item["author"]["key"] == "sso:demo-reader-1"
    assert item["article"]["verified"] is True  # the page's signed article claim
    assert item["article"]["url"] == f"{server.url}/demo"
    assert not item["reasons"] and not item["spam"]

    # Each post gets a fresh render token, so a second comment goes through too.
    write(page, "One more thing: the lens came from a workshop in Birmingham, I believe.")
    expect(page.locator(".cms-list .cms-comment")).to_have_count(2)
    assert sent[1]["body"]["render_token"] != body["render_token"]
    assert page_errors.errors == []


def test_fast_anonymous_reader_is_published_not_held_as_a_bot(server, new_page):
    page = new_page()
    sent = comments_sent(page)
    page.goto(f"{server.url}/demo?as=anonymous")
    expect(page.locator(".cms-form input[name=name]")).to_be_visible()
    expect(page.locator(".cms-as")).to_be_hidden()
    shown = time.monotonic()
    # Pasted in and sent the moment the form shows: faster than the 2 s minimum.
    page.locator(".cms-form textarea").fill(FRIENDLY)
    page.locator(".cms-form input[name=name]").fill("Quick Reader")
    page.locator(".cms-form button[type=submit]").click()
    expect(page.locator(".cms-msg.cms-ok")).to_have_text("Your comment is published.")
    assert time.monotonic() - shown < 5
    assert sent[0]["body"]["render_token"]
    item = queue(server, "approved")[0]
    assert (item["author"]["name"], item["author"]["verified"]) == ("Quick Reader", False)
    assert item["reasons"] == []


def test_honeypot_is_out_of_sight_and_out_of_reach_and_holds_what_fills_it(server, new_page):
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous")
    trap = page.locator(".cms-hp input")
    expect(trap).to_have_attribute("tabindex", "-1")
    expect(trap).to_have_attribute("autocomplete", "off")
    expect(page.locator(".cms-hp")).to_have_attribute("aria-hidden", "true")
    name = trap.get_attribute("name")
    assert name not in ("name", "email", "url", "website", "text")
    box = trap.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0, box
    assert trap.evaluate("n => getComputedStyle(n.parentNode).display") != "none"
    # Not in the accessibility tree a screen reader reads: the comment, name and e-mail only.
    expect(page.get_by_role("textbox")).to_have_count(3)

    # Tab through the whole form: the honeypot never takes the focus.
    page.locator(".cms-form textarea").focus()
    reached = []
    for _ in range(6):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(f"() => ({SHADOW}).activeElement?.getAttribute('name') || ''"))
    assert name not in reached
    assert "name" in reached and "email" in reached

    # A script that fills every field is held for a moderator, never told it was caught.
    trap.evaluate("n => { n.value = 'http://spam.example' }")
    page.locator(".cms-form textarea").fill("Nice article, visit my site for cheap watches.")
    page.locator(".cms-form input[name=name]").fill("Bot")
    page.locator(".cms-form button[type=submit]").click()
    expect(page.locator(".cms-msg.cms-info")).to_contain_text("awaiting review")
    item = queue(server)[0]
    assert "bot_honeypot" in [r["code"] for r in item["reasons"]]
    assert item["spam"] is True


def test_expired_reader_token_is_renewed_through_the_callback_and_the_post_retried(server, new_page):
    expired = server.reader_token("demo-reader-1", "Alex Morgan", now=time.time() - 7200)
    asked = []

    def reader_token(route):
        asked.append(route.request.url)
        if len(asked) == 1:  # the token the page had when it loaded has expired since
            route.fulfill(
                status=200, content_type="application/json", body=json.dumps({"reader_token": expired})
            )
        else:
            route.continue_()

    page = new_page()
    page.route("**/demo/reader-token", reader_token)
    sent = comments_sent(page)
    page.goto(f"{server.url}/demo")
    expect(page.locator(".cms-as")).to_have_text("Commenting as Alex Morgan")
    write(page, FRIENDLY)
    expect(page.locator(".cms-msg.cms-ok")).to_have_text("Your comment is published.")

    assert len(asked) == 2
    assert [s["body"]["reader_token"] == expired for s in sent] == [True, False]
    assert sent[0]["key"] == sent[1]["key"]  # the same request, retried
    assert len(queue(server, "approved")) == 1


def _static_token_page(server, token):
    """A site page that gives the embed a fixed token and no way to renew it."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Static token</title></head><body>"
        f"<script src='{server.url}/embed.js' data-site-key='{server.keys['embed']}' "
        f"data-article-id='demo-lighthouse-restoration' data-article-url='{server.url}/demo' "
        f"data-reader-token='{token}' async></script></body></html>"
    )


def test_expired_token_without_a_callback_and_a_site_for_signed_in_readers_only(server, new_page):
    expired = server.reader_token("demo-reader-1", "Alex Morgan", now=time.time() - 7200)
    page = new_page()
    page.route(
        f"{server.url}/static-token",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body=_static_token_page(server, expired)
        ),
    )
    page.goto(f"{server.url}/static-token")
    expect(page.locator(".cms-as")).to_have_text("Commenting as Alex Morgan")
    write(page, FRIENDLY)
    expect(page.locator(".cms-form-slot + .cms-msg.cms-error")).to_have_text(
        "Your sign-in has expired. Please sign in again to comment."
    )

    with server.app.app_context():
        update_site(site_by_slug("demo"), {"policy": {"anonymous_posting": "deny"}})
    try:
        anonymous = new_page()
        anonymous.goto(f"{server.url}/demo?as=anonymous")
        anonymous.locator(".cms-form input[name=name]").fill("Visitor")
        write(anonymous, FRIENDLY)
        expect(anonymous.locator(".cms-form-slot + .cms-msg.cms-error")).to_contain_text("Sign in to comment")
    finally:
        with server.app.app_context():
            update_site(site_by_slug("demo"), {"policy": {"anonymous_posting": "post"}})
    assert queue(server, "approved") == [] and queue(server) == []


def test_signed_in_readers_report_with_their_token(server, new_page):
    comment = server.post(FRIENDLY, name="Ada")
    page = new_page()
    page.goto(f"{server.url}/demo")
    expect(page.locator(".cms-as")).to_be_visible()
    page.get_by_role("button", name="Report", exact=True).click()
    page.get_by_role("button", name="Send report").click()
    expect(page.locator(".cms-report .cms-msg")).to_have_text("Thank you. The moderators will take a look.")
    reports = one(server, comment["id"])["reports"]
    assert [(r["reporter"], r["weight"]) for r in reports] == [("verified", 1.0)]


def test_reader_token_name_with_markup_is_shown_as_text(server, new_page, console, page_errors):
    name = XSS_PAYLOADS[0][:80]
    page = new_page()
    page.route(
        f"{server.url}/static-token",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            body=_static_token_page(server, server.reader_token("xss-1", name)),
        ),
    )
    page.goto(f"{server.url}/static-token")
    expect(page.locator(".cms-as strong")).to_have_text(name)
    write(page, FRIENDLY)
    expect(page.locator(".cms-list .cms-author")).to_have_text(name)
    _assert_inert(page, page_errors, SHADOW, [name, FRIENDLY])

    # A reason naming a domain and a note carrying markup, as the console shows them.
    held = server.post("See http://example.org/offer for more", name=XSS_PAYLOADS[5])
    with server.app.app_context():
        row = db.session.get(Comment, held["id"])
        row.reasons = [
            *row.reasons,
            {"code": "link_blocked_domain", "domain": XSS_PAYLOADS[1], "word": XSS_PAYLOADS[9]},
        ]
        db.session.commit()
    moderator = console()
    card = moderator.locator(".card", has_text="example.org/offer")
    expect(card.locator(".reason-link_blocked_domain")).to_contain_text(XSS_PAYLOADS[1])
    _assert_inert(
        moderator, page_errors, "document.getElementById('cards')", [XSS_PAYLOADS[1], XSS_PAYLOADS[5]]
    )


def test_console_shows_spam_reasons_filters_spam_and_marks_it(server, console):
    insult = server.post("You are a stupid idiot and a pathetic loser.", name="Troll")
    wave = [server.post(WAVE, name=f"Seller {n}", article=f"story-{n}")["id"] for n in range(3)]
    link = server.post("Details here: https://bit.ly/3xYz", name="Linker")
    assert insult["status"] == "held" and link["status"] == "held"

    page = console()
    latest = page.locator(".card", has=page.locator(".reason-duplicate")).last
    reason = latest.locator(".reason-duplicate")
    expect(reason).to_contain_text("Duplicate: the same text was posted 2 more times under other articles")
    expect(reason.locator("a.copy-link")).to_have_text([f"#{wave[0]}", f"#{wave[1]}"])
    expect(page.locator(".card", has_text="bit.ly").locator(".reason-link_shortener")).to_have_text(
        "Link through the URL shortener bit.ly: where it leads is unknown"
    )
    linker = page.locator(".card", has_text="bit.ly")
    expect(linker.locator(".author .id-unverified")).to_contain_text("unverified")
    expect(linker.locator(".author .id-unverified")).to_have_attribute(
        "title", "name, e-mail and user id are the reader's own claims"
    )
    expect(linker.locator(".card-head .id-unverified")).to_have_attribute(
        "title", "title and URL from a reader's first comment"
    )
    expect(page.locator("#help")).to_contain_text("mark as spam")

    # A copy's link opens that comment by itself.
    reason.locator("a.copy-link").first.click()
    expect(page).to_have_url(re.compile(rf"#comment/{wave[0]}$"))
    expect(page.locator(".card")).to_have_count(1)
    expect(page.locator(".card")).to_have_attribute("data-id", str(wave[0]))
    expect(page.locator("#single-title")).to_have_text(f"Comment #{wave[0]}")
    page.get_by_role("link", name="Back to the queue").click()

    # Spam only: the insult (held by the toxicity model) drops out.
    expect(page.locator(".card")).to_have_count(5)
    page.locator("#f-spam").check()
    expect(page.locator(".card")).to_have_count(4)
    expect(page.locator("#cards")).not_to_contain_text("stupid idiot")

    # `s` rejects the active card as spam.
    page.locator(".card").first.locator(".comment-text").click()
    expect(page.locator(".card.active")).to_contain_text(WAVE)
    page.keyboard.press("s")
    expect(page.locator("#toast")).to_contain_text(f"Marked as spam comment #{wave[0]}")
    expect(page.locator(".card")).to_have_count(3)
    assert one(server, wave[0])["status"] == "rejected"
    events = moderation(server, "GET", f"/v1/moderation/comments/{wave[0]}/events").get_json()["items"]
    assert events[0]["reason"] == "spam"

    page.locator(".card", has_text="bit.ly").get_by_role("button", name="Mark as spam").click()
    expect(page.locator(".card")).to_have_count(2)
    assert one(server, link["id"])["status"] == "rejected"


def test_reports_show_who_sent_them_and_moderators_dismiss_them(server, console):
    comment = server.post(FRIENDLY, name="Ada", reader="ada-1")
    client = server.app.test_client()
    headers = {"Authorization": f"Bearer {server.keys['embed']}", "Origin": server.url}
    for sub in ("r1", "r2", "r3"):
        answer = client.post(
            f"/v1/comments/{comment['id']}/reports",
            json={"reason": "abuse", "reader_token": server.reader_token(sub, sub)},
            headers=headers,
        )
        assert answer.status_code == 201, answer.get_json()
    assert one(server, comment["id"])["status"] == "held"

    page = console()
    page.locator(".queue-btn[data-queue=reported]").click()
    card = page.locator(".card", has_text=FRIENDLY)
    expect(card.locator(".report")).to_have_count(3)
    expect(card.locator(".report").first).to_contain_text("signed-in reader")
    expect(card.locator(".report").first).to_contain_text("weight 1.00")
    expect(card.locator(".report-total")).to_have_text(
        "Open reports weigh 3.00 against the site's threshold of 3: held for review"
    )
    expect(card.locator(".reason-reported")).to_contain_text("3 open reports weighing 3.00 (threshold 3)")
    expect(card.locator(".id-verified").first).to_have_text("verified reader")

    card.get_by_role("button", name="Dismiss reports").click()
    expect(page.locator("#toast")).to_contain_text(
        f"Dismissed the reports on comment #{comment['id']}; it is published."
    )
    expect(card).to_have_count(0)
    after = one(server, comment["id"])
    assert after["status"] == "approved"
    assert [r["outcome"] for r in after["reports"]] == ["dismissed"] * 3

    # The same readers cannot send it back; an anonymous network's report weighs less.
    again = client.post(
        f"/v1/comments/{comment['id']}/reports",
        json={"reason": "abuse", "reader_token": server.reader_token("r1", "r1")},
        headers=headers,
    )
    assert again.status_code == 409
    answer = client.post(f"/v1/comments/{comment['id']}/reports", json={"reason": "spam"}, headers=headers)
    assert answer.status_code == 201
    page.locator(".queue-btn[data-queue=approved]").click()
    page.locator(".queue-btn[data-queue=reported]").click()
    card = page.locator(".card", has_text=FRIENDLY)
    open_report = card.locator(".report.open")
    expect(open_report).to_have_count(1)
    expect(open_report).to_contain_text("anonymous network")
    expect(open_report).to_contain_text("weight 0.50")
    expect(card.locator(".report-total")).to_contain_text("Open reports weigh 0.50")
    expect(card.locator(".report-total")).to_contain_text("still published")


def test_demo_backend_signs_short_lived_reader_tokens_for_its_own_page(server):
    client = server.app.test_client()
    answer = client.get("/demo/reader-token")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in answer.headers
    token = answer.get_json()["reader_token"]
    reader = verify_reader(token, [server.keys["sso_secret"]])
    assert (reader.sub, reader.name) == ("demo-reader-1", "Alex Morgan")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 15 * 60

    page = client.get("/demo").get_data(as_text=True)
    assert 'data-reader-token-callback="demoNewsReaderToken"' in page and "/web/demo.js" in page
    anonymous = client.get("/demo?as=anonymous").get_data(as_text=True)
    assert "data-reader-token-callback" not in anonymous and "demo.js" not in anonymous
    assert "data-article-token=" in anonymous  # the article is the site's either way


def test_demo_made_before_sso_gets_a_secret(server, tmp_path):
    from service.demo import ensure_demo

    keys = {k: v for k, v in server.keys.items() if k != "sso_secret"}
    (tmp_path / "demo-keys.json").write_text(json.dumps(keys))
    original = server.app.instance_path
    server.app.instance_path = str(tmp_path)
    try:
        with server.app.app_context():
            ensure_demo(server.app, server.url)
            added = json.loads((tmp_path / "demo-keys.json").read_text())
            assert added["sso_secret"] != server.keys["sso_secret"]
            assert {k: v for k, v in added.items() if k != "sso_secret"} == keys
            assert verify_reader(reader_token(added["sso_secret"], "x", "X"), site_settings_secrets())
            ensure_demo(server.app, server.url)  # a second start keeps it
            assert json.loads((tmp_path / "demo-keys.json").read_text()) == added
    finally:
        server.app.instance_path = original
        with server.app.app_context():  # the session's other tests sign with the first secret
            site = site_by_slug("demo")
            site.sso_secret = server.keys["sso_secret"]
            db.session.commit()
            server.app.extensions["sites"].invalidate([site.id])


def site_settings_secrets() -> list[str]:
    from service.sites import site_settings

    return site_settings(site_by_slug("demo").id).sso.valid()


def test_a_report_flood_from_one_network_is_flagged_and_weighs_nothing(server, console):
    others = [server.post(f"Comment number {n} on the restoration.", name=f"R{n}")["id"] for n in range(10)]
    target = server.post(FRIENDLY, name="Ada")
    client = server.app.test_client()
    headers = {"Authorization": f"Bearer {server.keys['embed']}", "Origin": server.url}
    for comment_id in [*others, target["id"]]:  # the network's hourly limit is 10
        answer = client.post(f"/v1/comments/{comment_id}/reports", json={"reason": "spam"}, headers=headers)
        assert answer.status_code == 201
    page = console()
    page.locator(".queue-btn[data-queue=reported]").click()
    card = page.locator(".card", has_text=FRIENDLY)
    expect(card.locator(".report .pill-flood")).to_have_text("flood")
    expect(card.locator(".report")).to_contain_text("weight 0.00")
    expect(card.locator(".report-total")).to_have_text(
        "Open reports weigh 0.00, below the site's threshold: still published"
    )
