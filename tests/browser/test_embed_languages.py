"""The embed in the reader's language: chosen by the site (data-lang) or the page's lang, its
catalogs fetched only when needed, right to left for Arabic and Hebrew, dates and numbers
through Intl."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from service.api.web import STATIC

pytestmark = pytest.mark.browser

FRIENDLY = "Thanks for this well-researched article, I learned a lot."
CATALOGS = ("de", "fr", "es", "ar", "he")


def english_keys() -> set[str]:
    """The keys of the English texts at the top of embed.js."""
    source = (STATIC / "embed.js").read_text()
    block = source[source.index("var EN = {") : source.index("\n  };", source.index("var EN = {"))]
    return set(re.findall(r'^\s{4}"?([\w-]+)"?:', block, re.MULTILINE))


def formatted(page, locale: str, iso: str) -> str:
    """A date as Intl formats it in `locale`, the way the embed shows dates."""
    script = "([locale, iso]) => new Intl.DateTimeFormat(locale, {dateStyle: 'medium', timeStyle: 'short'})"
    return page.evaluate(script + ".format(new Date(iso))", [locale, iso])


def host_page(
    server, *, lang: str | None = None, dir_: str | None = None, data_lang: str | None = None
) -> str:
    """A news site's article page of its own, with the embed under it."""
    html_attrs = (f" lang='{lang}'" if lang else "") + (f" dir='{dir_}'" if dir_ else "")
    data = f" data-lang='{data_lang}'" if data_lang else ""
    return (
        f"<!doctype html><html{html_attrs}><head><meta charset='utf-8'><title>Article</title></head><body>"
        f"<main><h1>Article</h1><script src='{server.url}/embed.js' data-site-key='{server.keys['embed']}' "
        f"data-article-id='demo-lighthouse-restoration' data-article-url='{server.url}/demo'{data} async>"
        "</script></main></body></html>"
    )


def open_host(server, new_page, *, locale: str = "en-US", **page_options):
    """The page at server.url/article (the demo site's origin), recording which catalogs it fetched."""
    page = new_page(locale=locale)
    fetched = []
    page.on("request", lambda request: "/embed/i18n/" in request.url and fetched.append(request.url))
    page.route(
        f"{server.url}/article",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body=host_page(server, **page_options)
        ),
    )
    page.goto(f"{server.url}/article")
    return page, fetched


def test_every_catalog_has_every_text_and_nothing_else(server):
    keys = english_keys()
    assert len(keys) > 60
    client = server.app.test_client()
    for lang in CATALOGS:
        response = client.get(f"/embed/i18n/{lang}.json")
        assert response.status_code == 200, lang
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        catalog = response.get_json()
        assert set(catalog) == keys, (lang, set(catalog) ^ keys)
        for key, text in catalog.items():
            for form in text.values() if isinstance(text, dict) else [text]:
                assert form.strip(), (lang, key)
        # The Reply button's name for screen readers holds its visible text (axe checks it).
        assert catalog["reply"].lower() in catalog["reply_to"].lower(), lang
        assert catalog["like"] + " {n}" in catalog["like_label"], lang
        placeholders = {key: set(re.findall(r"\{\w+\}", json.dumps(text))) for key, text in catalog.items()}
        for key in ("as", "replying", "reply_to", "comment_by", "notice_received"):
            assert placeholders[key], (lang, key)
    assert client.get("/embed/i18n/xx.json").status_code == 404
    assert client.get("/embed/i18n/..%2Fembed.json").status_code == 404


def test_page_lang_decides_and_only_that_catalog_is_fetched(server, new_page):
    server.post(FRIENDLY, name="Ada")
    page, fetched = open_host(server, new_page, lang="de-DE", locale="de-AT")
    expect(page.locator(".cms-title")).to_have_text("1 Kommentar")
    expect(page.locator(".cms-form button[type=submit]")).to_have_text("Kommentar senden")
    expect(page.locator(".cms-form label").first).to_have_text("Ihr Kommentar")
    expect(page.get_by_role("button", name="Ada antworten")).to_be_visible()
    assert [url.rsplit("/", 1)[1] for url in fetched] == ["de.json"]
    # The page says German; its region is the page's own (de-DE) when it names one.
    time = page.locator(".cms-meta time")
    expected = formatted(page, "de-DE", time.get_attribute("datetime"))
    expect(time).to_have_text(expected)

    page.locator(".cms-form button[type=submit]").click()
    expect(page.locator(".cms-field-text .cms-field-error")).to_have_text(
        "Bitte schreiben Sie einen Kommentar."
    )

    english, fetched = open_host(server, new_page, lang="en")
    expect(english.locator(".cms-title")).to_have_text("1 comment")
    assert fetched == []


def test_site_choice_wins_over_the_page_and_reader_region_shapes_dates(server, new_page, page_errors):
    server.post(FRIENDLY, name="Ada")
    page, fetched = open_host(server, new_page, lang="en", data_lang="fr", locale="fr-CA")
    expect(page.locator(".cms-title")).to_have_text("1 commentaire")
    expect(page.get_by_role("button", name="Signaler un contenu illicite")).to_be_visible()
    time = page.locator(".cms-meta time")
    # French from the site, Canadian formats from the reader's browser.
    expected = formatted(page, "fr-CA", time.get_attribute("datetime"))
    expect(time).to_have_text(expected)
    assert expected != formatted(page, "fr-FR", time.get_attribute("datetime"))

    page.get_by_role("button", name="Signaler", exact=True).click()
    expect(page.locator(".cms-report label")).to_have_text(
        "Pourquoi les modérateurs devraient-ils examiner ce commentaire ?"
    )
    expect(page.locator(".cms-report option").nth(1)).to_have_text("Injurieux ou haineux")

    unknown, fetched = open_host(server, new_page, lang="xx")
    expect(unknown.locator(".cms-title")).to_have_text("1 comment")
    assert fetched == []

    # A malformed tag still gives its language (Intl would refuse the tag itself).
    for broken in ("es-1", "es_ES"):
        spanish, _ = open_host(server, new_page, lang=broken)
        expect(spanish.locator(".cms-title")).to_have_text("1 comentario")
    assert page_errors.errors == []


def test_arabic_and_hebrew_pages_lay_the_embed_out_right_to_left(server, new_page):
    first = server.post(FRIENDLY, name="Ada")
    server.post("The lantern room photographs are wonderful.", name="Grace", parent_id=first["id"])
    tom = server.post("When does the tower open?", name="Tom")
    for lang in ("ar", "he"):
        page, fetched = open_host(server, new_page, lang=lang, dir_="rtl")
        host = page.locator(".cms-comments")
        expect(host).to_have_attribute("dir", "rtl")
        expect(host).to_have_attribute("lang", lang)
        expect(page.locator(".cms-comment")).to_have_count(3)
        direction = page.locator(".cms").evaluate("n => getComputedStyle(n).direction")
        assert direction == "rtl"
        # Replies hang from the right: the thread's rule is on the start side, which is the right.
        replies = page.locator(".cms-replies").first.evaluate(
            "n => [getComputedStyle(n).borderRightWidth, getComputedStyle(n).borderLeftWidth]"
        )
        assert replies == ["2px", "0px"]
        reply_box = page.locator(".cms-replies").first.bounding_box()
        comment_box = page.locator(".cms-list > .cms-comment").nth(0).bounding_box()
        assert reply_box["x"] <= comment_box["x"] + 1 and reply_box["width"] < comment_box["width"]
        # Three, in words and numerals of the language, through Intl.PluralRules and NumberFormat.
        expected = {"ar": "{n} تعليقات", "he": "{n} תגובות"}[lang].replace(
            "{n}", page.evaluate(f"() => new Intl.NumberFormat('{lang}').format(3)")
        )
        expect(page.locator(".cms-title")).to_have_text(expected)
        assert [url.rsplit("/", 1)[1] for url in fetched] == [f"{lang}.json"]

    # Two comments have their own word in both (the dual).
    moderator = {"Authorization": f"Bearer {server.keys['moderator']}"}
    decided = server.app.test_client().post(
        f"/v1/moderation/comments/{tom['id']}/decision",
        json={"status": "rejected", "reason": "off-topic"},
        headers=moderator,
    )
    assert decided.status_code == 200, decided.get_json()
    for lang, two in (("ar", "تعليقان"), ("he", "שתי תגובות")):
        page, _ = open_host(server, new_page, lang=lang)
        expect(page.locator(".cms-title")).to_have_text(two)


def test_demo_page_shows_the_embed_in_the_language_asked(server, new_page):
    page = new_page()
    page.goto(f"{server.url}/demo?as=anonymous&lang=es")
    expect(page.locator(".cms-empty")).to_have_text("Todavía no hay comentarios. Sé el primero en comentar.")
    page.locator(".cms-form textarea").fill(FRIENDLY)
    page.locator(".cms-form input[name=name]").fill("Ada")
    page.locator(".cms-form button[type=submit]").click()
    expect(page.locator(".cms-live")).to_have_text("Tu comentario se ha publicado.")
    expect(page.locator(".cms-title")).to_have_text("1 comentario")
