"""Screenshots of the embed and the console for docs/screenshots (set WRITE_SCREENSHOTS=1)."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from service.config import PROJECT_ROOT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.environ.get("WRITE_SCREENSHOTS"), reason="set WRITE_SCREENSHOTS=1 to write docs/screenshots"
    ),
]
OUT = PROJECT_ROOT / "docs" / "screenshots"

THREAD = [
    (
        "Margaret Hale",
        "I grew up watching that light from my bedroom window. So glad to see it turning again.",
        None,
    ),
    (
        "Tom Okafor",
        "Does anyone know whether the tower will be open on weekday evenings in the summer?",
        None,
    ),
    (
        "Ines Duarte",
        "The article says weekends from next month; the harbour office should know about evenings.",
        1,
    ),
    (
        "Sam Whitlock",
        "Great work by the volunteers. The stonework looks exactly as it does in the old postcards.",
        None,
    ),
]
HELD = [
    ("Best Deals", "Great article! Cheap replica watches, free shipping: https://bit.ly/w4tch3s"),
    ("Dave", "You are a stupid idiot and a pathetic loser."),
    ("anon42", "Only a moron would spend money on an old lighthouse."),
    ("K. Brandt", "Shut up, you ignorant fool, nobody cares about your opinion."),
]
# Thread authors signed in on the news site (the others are anonymous).
SIGNED_IN = {"Margaret Hale": "reader-1042", "Sam Whitlock": "reader-2210"}


def _claim_article(server):
    from service.identity.tokens import article_token

    url = f"{server.url}/demo"
    title = "Harbour lighthouse lit again after a two-year restoration"
    token = article_token(server.keys["sso_secret"], "demo-lighthouse-restoration", url, title)
    server.post("The lantern room photographs are wonderful.", name="Lena", article_token=token)


def _seed(server):
    ids = []
    for name, text, reply_to in THREAD:
        parent_id = ids[reply_to] if reply_to is not None else None
        ids.append(server.post(text, name=name, parent_id=parent_id, reader=SIGNED_IN.get(name))["id"])
        if len(ids) == 1:  # the news site's claim on its article, as the demo page sends it
            _claim_article(server)
    client = server.app.test_client()
    headers = {"Authorization": f"Bearer {server.keys['moderator']}"}
    for name, text in HELD:
        server.post(text, name=name)
    # a few decisions so the stats page has something to draw
    for name, text in [("Lee", "What an idiot the mayor is."), ("Ray", "Morons, all of them.")]:
        comment = server.post(text, name=name)
        client.post(
            f"/v1/moderation/comments/{comment['id']}/decision",
            json={"status": "rejected", "reason": "abuse"},
            headers=headers,
        )
    comment = server.post("The idiot-proof new lamp is a clever idea.", name="Jo")
    client.post(
        f"/v1/moderation/comments/{comment['id']}/decision", json={"status": "approved"}, headers=headers
    )


def test_write_screenshots(server, new_page, console):
    OUT.mkdir(parents=True, exist_ok=True)
    _seed(server)

    page = new_page(viewport={"width": 900, "height": 1400})
    page.goto(f"{server.url}/demo")
    expect(page.locator(".cms-comment").first).to_be_visible()
    page.locator(".discussion").scroll_into_view_if_needed()
    page.screenshot(path=str(OUT / "embed.png"), full_page=True)

    # The embed in German and in Arabic (right to left), as a site sets it with data-lang, for a
    # reader whose browser speaks the language; the discussion only, under the English article.
    for lang, locale in (("de", "de-DE"), ("ar", "ar-EG")):
        localized = new_page(viewport={"width": 900, "height": 1400}, locale=locale)
        localized.goto(f"{server.url}/demo?lang={lang}")
        expect(localized.locator(".cms-comment").first).to_be_visible()
        localized.locator(".discussion").screenshot(path=str(OUT / f"embed-{lang}.png"))

    moderator = console()
    client = server.app.test_client()
    headers = {"Authorization": f"Bearer {server.keys['moderator']}"}
    moderator.set_viewport_size({"width": 1360, "height": 1000})
    expect(moderator.locator(".card")).to_have_count(len(HELD))
    moderator.locator("#toast").evaluate("n => n.hidden = true")
    moderator.screenshot(path=str(OUT / "console-queue.png"))

    moderator.get_by_role("link", name="Stats").click()
    expect(moderator.locator("#chart-days svg rect").first).to_be_attached()
    moderator.screenshot(path=str(OUT / "console-stats.png"), full_page=True)

    # Two readers' notices of illegal content (DSA Art. 16) waiting for a decision.
    embed = {"Authorization": f"Bearer {server.keys['embed']}", "Origin": server.url}
    for (name, text), category, why in [
        (
            HELD[1],
            "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            "A personal insult aimed at another reader; insulting someone is an offence here.",
        ),
        (
            HELD[3],
            "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "The same account has been harassing this reader under several articles this week.",
        ),
    ]:
        found = client.get("/v1/moderation/comments?queue=held", headers=headers).get_json()["items"]
        target = next(item["id"] for item in found if item["text"] == text)
        sent = client.post(
            f"/v1/comments/{target}/notices",
            json={
                "category": category,
                "explanation": why,
                "name": "Rita Reporter",
                "email": "rita@reporter.example",
                "good_faith": True,
            },
            headers=embed,
        )
        assert sent.status_code == 201, sent.get_json()
    moderator.get_by_role("link", name="Notices").click()
    expect(moderator.locator(".notice")).to_have_count(2)
    moderator.screenshot(path=str(OUT / "console-notices.png"), full_page=True)

    # The settings history after an admin's day of changes (restored at the end).
    client = server.app.test_client()
    admin = {"Authorization": f"Bearer {server.keys['admin']}"}
    policy = client.get("/v1/admin/sites/demo/policy", headers=admin).get_json()
    changes = [
        ("PATCH", "/v1/admin/sites/demo/policy", {"suspect_words": [*policy["suspect_words"], "dolt"]}),
        ("PATCH", "/v1/admin/sites/demo/policy", {"queue_targets": {"held": 30, "reported": 60}}),
        ("PATCH", "/v1/admin/sites/demo/policy", {"thresholds": {"insult": {"hold": 0.4, "reject": 0.97}}}),
        ("POST", "/v1/admin/sites/demo/sso-secret", {"grace_hours": 24}),
    ]
    try:
        for method, path, body in changes:
            assert client.open(path, method=method, json=body, headers=admin).status_code == 200
        history = console(server.keys["admin"])
        history.set_viewport_size({"width": 1360, "height": 900})
        history.get_by_role("link", name="Settings history").click()
        expect(history.locator("#history-table tbody tr")).not_to_have_count(0)
        history.screenshot(path=str(OUT / "console-settings-history.png"), full_page=True)
    finally:
        client.put("/v1/admin/sites/demo/policy", json=policy, headers=admin)

    # The author drawer of a signed-in reader, from the published queue.
    moderator.goto(f"{server.url}/console#queue")
    moderator.locator(".queue-btn[data-queue=approved]").click()
    moderator.get_by_role("button", name="Margaret Hale").first.click()
    drawer = moderator.get_by_role("dialog", name="Margaret Hale")
    expect(drawer.locator(".author-comment")).to_have_count(1)
    expect(drawer.locator("#standing-now")).to_contain_text("Now:")
    drawer.get_by_label("Set the standing").select_option("trusted")
    drawer.get_by_label("Reason").fill("Long-time reader, always constructive")
    moderator.locator("#toast").evaluate("n => n.hidden = true")
    moderator.screenshot(path=str(OUT / "console-author-drawer.png"))
    moderator.keyboard.press("Escape")

    # The policy editor after simulating a stricter insult threshold (nothing saved).
    editor_page = console(server.keys["admin"])
    editor_page.set_viewport_size({"width": 1360, "height": 1000})
    editor_page.get_by_role("link", name="Policy").click()
    editor = editor_page.locator("#policy-editor")
    editor.get_by_label("Reject insult at").fill("0.8")
    editor.get_by_role("button", name="Simulate on recent comments").click()
    expect(editor_page.locator("#simulation")).to_contain_text("would be decided differently")
    editor_page.locator(".topbar").evaluate("n => n.style.position = 'static'")  # not over the form
    editor.screenshot(path=str(OUT / "console-policy-simulation.png"))
