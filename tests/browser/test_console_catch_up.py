"""The console catches up with the API (issue 17 item 3): queue filters by author, article, date
and language; the author drawer (history, standing, erasure with a confirmation); moderators'
notes; the article view; the policy editor that simulates a change before saving it. Every state
is checked with axe-core: no serious or critical violations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.axe_support import assert_accessible
from tests.browser.conftest import DEMO_ARTICLE

pytestmark = pytest.mark.browser

FRIENDLY = "Thanks for this well-researched article, I learned a lot."
GERMAN = "Vielen Dank für diesen gut recherchierten Artikel, ich habe heute sehr viel darüber gelernt."
INSULT = "You are a complete idiot and everybody here knows it."
OTHER_ARTICLE = "council-budget-vote"


@pytest.fixture(autouse=True)
def no_page_errors(page_errors):
    """No uncaught script error and no browser dialog (alert, confirm) on any page of these tests."""
    yield
    assert page_errors.errors == [], page_errors.errors
    assert page_errors.dialogs == [], page_errors.dialogs


@pytest.fixture
def demo_policy(server):
    """The demo site's policy, put back after a test that saves another one (sites outlive tests)."""
    from service.extensions import db
    from service.sites import site_by_slug
    from tests.conftest import reset_caches

    with server.app.app_context():
        saved = dict(site_by_slug("demo").policy)
    yield saved
    with server.app.app_context():
        site = site_by_slug("demo")
        site.policy = saved
        db.session.commit()
    reset_caches(server.app)


def api(server, method, path, key="moderator", **kwargs):
    client = server.app.test_client()
    answer = client.open(
        path, method=method, headers={"Authorization": f"Bearer {server.keys[key]}"}, **kwargs
    )
    assert answer.status_code < 400, (path, answer.get_json())
    return answer.get_json()


def open_queue(page, queue):
    page.locator(f".queue-btn[data-queue={queue}]").click()
    expect(page.locator(f".queue-btn[data-queue={queue}]")).to_have_attribute("aria-pressed", "true")


def test_the_queue_filters_by_author_article_date_and_language(server, console):
    ada = server.post(FRIENDLY, name="Ada", reader="ada-1")
    german = server.post(GERMAN, name="Bo", reader="bo-1", article=OTHER_ARTICLE, title="Council budget vote")
    # The demo site holds languages its model does not read; a moderator publishes this one.
    api(server, "POST", f"/v1/moderation/comments/{german['id']}/decision", json={"status": "approved"})
    server.post("A third friendly comment about the restoration works.", name="Cy")
    page = console()
    open_queue(page, "approved")
    cards = page.locator(".card")
    expect(cards).to_have_count(3)
    assert_accessible(page, "the queue with comments")

    page.fill("#f-author", "ada-1")
    page.click("#filters button[type=submit]")
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-id", str(ada["id"]))

    page.fill("#f-author", "")
    page.fill("#f-article", OTHER_ARTICLE)
    page.click("#filters button[type=submit]")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Council budget vote")

    page.fill("#f-article", "")
    page.select_option("#f-language", "de")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Vielen Dank")
    page.select_option("#f-language", "")

    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    page.fill("#f-since", tomorrow)
    page.click("#filters button[type=submit]")
    expect(page.locator("#queue-empty")).to_be_visible()
    expect(cards).to_have_count(0)
    assert_accessible(page, "the queue filtered to nothing")

    page.fill("#f-since", date.today().isoformat())
    page.fill("#f-until", date.today().isoformat())
    page.click("#filters button[type=submit]")
    expect(cards).to_have_count(3)

    # A filter the API refuses is named next to the filters, not a silent empty queue.
    page.fill("#f-author", "x" * 400)
    page.click("#filters button[type=submit]")
    expect(page.locator("#filters-error")).to_contain_text("Author")
    assert_accessible(page, "the queue with a filter error")

    page.click("#f-clear")
    expect(page.locator("#filters-error")).to_be_hidden()
    expect(cards).to_have_count(3)
    assert page.input_value("#f-author") == ""


def test_the_author_drawer_shows_their_comments_and_sets_their_standing(server, console):
    first = server.post(FRIENDLY, name="Troll Tom", reader="tom-7")
    held = server.post(INSULT, name="Troll Tom", reader="tom-7")
    api(
        server,
        "POST",
        f"/v1/moderation/comments/{first['id']}/decision",
        json={"status": "rejected", "reason": "abuse"},
    )
    page = console()
    card = page.locator(f'.card[data-id="{held["id"]}"]')
    opener = card.get_by_role("button", name="Troll Tom")
    opener.click()
    drawer = page.get_by_role("dialog", name="Troll Tom")
    expect(drawer).to_be_visible()
    comments = drawer.locator(".author-comment")
    expect(comments).to_have_count(2)
    expect(comments.nth(0)).to_contain_text("held")
    expect(comments.nth(1)).to_contain_text("rejected")
    expect(drawer.locator("#standing-now")).to_contain_text("Now: regular")
    assert_accessible(page, "the author drawer open")

    # A suspension needs its end date: the form says so before asking the API.
    drawer.get_by_label("Set the standing").select_option("suspended")
    drawer.get_by_label("Reason").fill("Insults in two threads")
    drawer.get_by_role("button", name="Save the standing").click()
    expect(drawer.locator("#standing-error")).to_contain_text("end date")
    assert_accessible(page, "the author drawer with an error")

    until = (date.today() + timedelta(days=7)).isoformat() + "T12:00"
    drawer.get_by_label("Until (end date of the suspension)").fill(until)
    drawer.get_by_role("button", name="Save the standing").click()
    expect(drawer.locator("#standing-now")).to_contain_text("Now: suspended until")
    expect(drawer.locator("#standing-now")).to_contain_text("Insults in two threads")
    author = api(server, "GET", "/v1/moderation/authors", query_string={"site": "demo", "key": "sso:tom-7"})
    assert author["standing"] == "suspended" and author["note"] == "Insults in two threads"
    assert author["suspended_until"].startswith((date.today() + timedelta(days=7)).isoformat())

    drawer.get_by_label("Set the standing").select_option("banned")
    expect(drawer.get_by_label("Until (end date of the suspension)")).to_be_hidden()
    drawer.get_by_role("button", name="Save the standing").click()
    expect(drawer.locator("#standing-now")).to_contain_text("Now: banned")
    assert (
        api(server, "GET", "/v1/moderation/authors", query_string={"site": "demo", "key": "sso:tom-7"})[
            "standing"
        ]
        == "banned"
    )
    # A moderator cannot erase: that is an admin's act.
    expect(drawer.get_by_role("button", name="Erase this person's data…")).to_be_hidden()

    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(opener).to_be_focused()


def test_an_unverified_readers_drawer_explains_why_no_standing_binds(server, console):
    comment = server.post(INSULT, name="Anonymous Annie")
    page = console()
    page.locator(f'.card[data-id="{comment["id"]}"]').get_by_role("button", name="Anonymous Annie").click()
    drawer = page.get_by_role("dialog", name="Anonymous Annie")
    expect(drawer.locator("#standing-unverified")).to_be_visible()
    expect(drawer.locator("#standing-form")).to_be_hidden()
    expect(drawer.locator(".author-comment")).to_have_count(1)  # found by the e-mail they gave
    assert_accessible(page, "an unverified reader's drawer")


def test_an_admin_erases_a_persons_data_after_confirming(server, console):
    kept = server.post(FRIENDLY, name="Someone Else", reader="else-1")
    gone = server.post(INSULT, name="Erin Erased", reader="erin-2")
    also = server.post("My phone number is in my profile, call me.", name="Erin Erased", reader="erin-2")
    page = console(server.keys["admin"])
    opener = page.locator(f'.card[data-id="{gone["id"]}"]').get_by_role("button", name="Erin Erased")
    opener.click()
    drawer = page.get_by_role("dialog", name="Erin Erased")
    drawer.get_by_role("button", name="Erase this person's data…").click()
    confirm = page.get_by_role("alertdialog", name="Erase this person's data?")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Erin Erased")
    expect(confirm.get_by_label("Type ERASE to confirm")).to_be_focused()
    erase = confirm.get_by_role("button", name="Erase everything")
    expect(erase).to_be_disabled()
    assert_accessible(page, "the erasure confirmation open")

    # Cancel keeps everything.
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(drawer.get_by_role("button", name="Erase this person's data…")).to_be_focused()
    assert api(server, "GET", f"/v1/moderation/comments/{gone['id']}")["text"] == INSULT

    drawer.get_by_role("button", name="Erase this person's data…").click()
    confirm.get_by_label("Type ERASE to confirm").fill("erase")
    expect(erase).to_be_disabled()
    confirm.get_by_label("Type ERASE to confirm").fill("ERASE")
    confirm.get_by_label("Note for the audit trail (optional)").fill("Reader's request of today")
    erase.click()
    expect(page.locator("#toast")).to_contain_text("Erased: 2 comments")
    expect(drawer).to_be_hidden()
    for comment in (gone, also):
        erased = api(server, "GET", f"/v1/moderation/comments/{comment['id']}", key="admin")
        assert erased["status"] == "deleted" and erased["text"] == "[deleted]"
    assert api(server, "GET", f"/v1/moderation/comments/{kept['id']}")["text"] == FRIENDLY


def test_moderators_read_and_add_notes_on_a_comment(server, console):
    comment = server.post(INSULT, name="Bo", reader="bo-1")
    api(
        server,
        "POST",
        f"/v1/moderation/comments/{comment['id']}/notes",
        json={"text": "Second insult this week."},
    )
    page = console()
    card = page.locator(f'.card[data-id="{comment["id"]}"]')
    card.get_by_role("button", name="Notes").click()
    notes = card.get_by_role("list", name=f"Notes on comment {comment['id']}")
    expect(notes.locator(".note")).to_have_count(1)
    expect(notes).to_contain_text("Second insult this week.")
    expect(notes).to_contain_text("demo")  # who wrote it: the demo moderator key's name

    card.get_by_role("button", name="Add note").click()
    expect(card.locator(".note-form .error")).to_contain_text("Write the note first")
    assert_accessible(page, "notes open with an error")

    card.get_by_label("Add a note for the other moderators").fill("Asked the author to apologise.")
    card.get_by_role("button", name="Add note").click()
    expect(notes.locator(".note")).to_have_count(2)
    expect(card.locator(".note-form .error")).to_be_hidden()
    assert [
        n["text"] for n in api(server, "GET", f"/v1/moderation/comments/{comment['id']}/notes")["notes"]
    ] == [
        "Second insult this week.",
        "Asked the author to apologise.",
    ]
    assert_accessible(page, "notes open")


def test_the_article_view_closes_and_premoderates_an_article(server, console):
    comment = server.post(INSULT, name="Bo")
    published = server.post(FRIENDLY, name="Ann")
    assert published["status"] == "approved"
    page = console()
    page.locator(f'.card[data-id="{comment["id"]}"]').get_by_role("link", name="Article settings").click()
    form = page.locator("#article-form")
    expect(page.locator("#article-title")).to_have_text(
        "Harbour lighthouse lit again after a two-year restoration"
    )
    closed = form.get_by_label("Closed: readers cannot post new comments")
    premoderated = form.get_by_label("Pre-moderated: every new comment waits for a moderator")
    expect(closed).not_to_be_checked()
    expect(premoderated).not_to_be_checked()
    # The article's published comments, each with a button to feature it; the held insult is
    # not among them.
    featured = page.locator("#featured-panel")
    feature = featured.get_by_role("button", name="Feature the comment by Ann")
    expect(feature).to_have_attribute("aria-pressed", "false")
    expect(featured).not_to_contain_text("complete idiot")
    assert_accessible(page, "the article view")
    feature.click()
    expect(page.locator("#toast")).to_contain_text("Featured: the thread shows it first.")
    expect(featured.get_by_role("button", name="Unfeature the comment by Ann")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(featured.locator(".featured-badge")).to_have_count(1)
    thread = server.app.test_client().get(
        f"/v1/articles/{DEMO_ARTICLE}/comments",
        headers={"Authorization": f"Bearer {server.keys['embed']}", "Origin": server.url},
    )
    assert [c["id"] for c in thread.get_json()["featured"]] == [published["id"]]
    assert_accessible(page, "the article view with a featured comment")

    closed.check()
    premoderated.check()
    form.get_by_role("button", name="Save the article's settings").click()
    expect(page.locator("#toast")).to_contain_text("Saved: comments closed, pre-moderated")
    article = api(server, "GET", "/v1/admin/sites/demo/articles/demo-lighthouse-restoration")
    assert article["closed"] is True and article["premoderated"] is True

    page.reload()
    page.wait_for_selector("#article-form:not([hidden])")
    expect(page.locator("#article-closed")).to_be_checked()
    page.get_by_role("button", name="Its comments in the queue").click()
    expect(page.locator("#queue-view")).to_be_visible()
    assert page.input_value("#f-article") == "demo-lighthouse-restoration"
    expect(page.locator(".card")).to_have_count(1)

    page.goto(f"{server.url}/console#article/demo/no-such-article")
    expect(page.locator("#article-error")).to_contain_text("no article")
    assert_accessible(page, "the article view with an error")


def test_the_policy_editor_shows_the_simulation_before_saving(server, console, demo_policy):
    for i in range(3):
        server.post(f"{FRIENDLY} Number {i}.", name=f"Reader {i}")
    insult = server.post(INSULT, name="Bo")
    page = console(server.keys["admin"])
    page.locator("#tabs a[data-view=policy]").click()
    editor = page.locator("#policy-editor")
    expect(editor).to_be_visible()
    save = editor.get_by_role("button", name="Save the policy")
    simulate = editor.get_by_role("button", name="Simulate on recent comments")
    expect(save).to_be_disabled()
    assert_accessible(page, "the policy editor")

    # Nothing changed: nothing to simulate.
    simulate.click()
    expect(page.locator("#policy-edit-error")).to_contain_text("Change something first")

    # A hold above its reject is refused by the API, named.
    editor.get_by_label("Hold toxicity at").fill("0.9")
    editor.get_by_label("Reject toxicity at").fill("0.5")
    simulate.click()
    expect(page.locator("#policy-edit-error")).to_contain_text("toxicity")
    expect(save).to_be_disabled()
    assert_accessible(page, "the policy editor with an error")

    # Reject toxicity from 0.5: the insult, held now, would be rejected.
    editor.get_by_label("Hold toxicity at").fill("0.3")
    editor.get_by_label("Reject toxicity at").fill("0.5")
    expect(save).to_be_disabled()
    simulate.click()
    result = page.locator("#simulation")
    expect(result).to_contain_text("Of the 4 most recent scored comments, 1 would be decided differently")
    expect(result).to_contain_text("1 from held to rejected")
    expect(result.get_by_role("link", name=f"Comment #{insult['id']}")).to_be_visible()
    expect(save).to_be_enabled()
    assert_accessible(page, "the policy editor with a simulation")

    # Any edit after the simulation asks for a new one before saving.
    suspect = editor.get_by_label("Suspect words (hold), one a line")
    original = suspect.input_value()
    suspect.fill(original + "\nlighthouse")
    expect(save).to_be_disabled()
    expect(page.locator("#policy-save-note")).to_have_text("Simulate these changes before saving.")
    suspect.fill(original)
    simulate.click()
    expect(save).to_be_enabled()
    before = api(server, "GET", "/v1/admin/sites/demo/policy")
    save.click()
    expect(page.locator("#toast")).to_contain_text("The policy of demo is saved.")
    after = api(server, "GET", "/v1/admin/sites/demo/policy")
    assert after["thresholds"]["toxicity"] == {"hold": 0.3, "reject": 0.5}
    assert {k: v for k, v in after.items() if k != "thresholds"} == {
        k: v for k, v in before.items() if k != "thresholds"
    }
    expect(page.locator("#policy-thresholds")).to_contain_text("0.50")


def test_a_moderator_simulates_but_only_an_admin_saves(server, console):
    server.post(INSULT, name="Bo")
    page = console()
    page.locator("#tabs a[data-view=policy]").click()
    editor = page.locator("#policy-editor")
    editor.get_by_label("Reject toxicity at").fill("0.5")
    editor.get_by_role("button", name="Simulate on recent comments").click()
    expect(page.locator("#simulation")).to_contain_text("would be decided differently")
    expect(editor.get_by_role("button", name="Save the policy")).to_be_disabled()
    expect(page.locator("#policy-save-note")).to_have_text("Only admins save a policy.")


def test_the_queue_is_worked_from_the_keyboard_with_the_drawer_and_notes(server, console):
    first = server.post(INSULT, name="Bo", reader="bo-1")
    second = server.post(INSULT + " Again.", name="Cy", reader="cy-1")
    page = console()
    cards = page.locator(".card")
    expect(cards).to_have_count(2)
    page.locator(f'.card[data-id="{first["id"]}"]').focus()

    page.keyboard.press("u")
    drawer = page.get_by_role("dialog", name="Bo")
    expect(drawer).to_be_visible()
    page.keyboard.press("a")  # shortcuts sleep while a dialog is open
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(page.locator(f'.card[data-id="{first["id"]}"] .author-open')).to_be_focused()
    assert api(server, "GET", f"/v1/moderation/comments/{first['id']}")["status"] == "held"

    page.locator(f'.card[data-id="{first["id"]}"]').focus()
    page.keyboard.press("n")
    note = page.locator(f"#note-input-{first['id']}")
    expect(note).to_be_focused()
    page.keyboard.type("ask about the source")  # letters typed in a note are no shortcuts
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Add note
    expect(page.locator(f'.card[data-id="{first["id"]}"] .note')).to_have_count(1)
    assert api(server, "GET", f"/v1/moderation/comments/{first['id']}")["status"] == "held"

    page.locator(f'.card[data-id="{first["id"]}"]').focus()
    page.keyboard.press("a")
    expect(page.locator(f'.card[data-id="{first["id"]}"]')).to_have_count(0)
    expect(page.locator(f'.card[data-id="{second["id"]}"]')).to_be_focused()
    page.keyboard.press("h")
    expect(page.locator(f'.card[data-id="{second["id"]}"] .card-message')).to_contain_text("Held")
    assert api(server, "GET", f"/v1/moderation/comments/{first['id']}")["status"] == "approved"


@pytest.mark.parametrize(
    "view", ["queue", "stats", "policy", "notices", "transparency", "webhooks", "history"]
)
def test_every_console_page_has_no_serious_accessibility_violations(server, console, view):
    server.post(FRIENDLY, name="Ada")
    server.post(INSULT, name="Bo", reader="bo-1")
    page = console(server.keys["admin"])
    page.locator(f"#tabs a[data-view={view}]").click()
    expect(page.locator(f"#{view}-view")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert_accessible(page, f"the {view} page")


def test_the_sign_in_page_has_no_serious_accessibility_violations(server, new_page):
    page = new_page()
    page.goto(f"{server.url}/console")
    page.wait_for_selector("#signin-view:not([hidden])")
    assert_accessible(page, "sign-in, empty")
    page.fill("#key-input", "sk_mod_not-a-key")
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#signin-error")).to_be_visible()
    assert_accessible(page, "sign-in with an error")


@pytest.fixture
def every_site_key(server):
    """An admin key of every site, removed afterwards (the keys table outlives each test)."""
    from service.db import ApiKey
    from service.extensions import db
    from service.sites import issue_key

    with server.app.app_context():
        key, secret = issue_key(None, "admin", None, "every site")
        key_id = key.id
    yield secret
    with server.app.app_context():
        db.session.execute(sa.delete(ApiKey).where(ApiKey.id == key_id))
        db.session.commit()
    server.app.extensions["key_cache"].clear()


def test_an_article_filter_without_a_site_is_explained_to_a_key_of_every_site(
    server, console, every_site_key
):
    server.post(FRIENDLY, name="Ada")
    page = console(every_site_key)
    expect(page.locator("#site-select")).to_have_value("")  # All sites
    page.fill("#f-article", "demo-lighthouse-restoration")
    page.click("#filters button[type=submit]")
    expect(page.locator("#filters-error")).to_contain_text("Article: choose a site first")
    assert_accessible(page, "the queue of every site with an article filter")


def test_the_password_page_has_no_serious_accessibility_violations(server, new_page):
    page = new_page()
    page.goto(f"{server.url}/console#reset=not-a-real-token")
    page.wait_for_selector("#reset-view:not([hidden])")
    assert_accessible(page, "choosing a password")
    page.fill("#new-password-input", "a long enough password")
    page.fill("#repeat-password-input", "another long password")
    page.click("#reset-form button[type=submit]")
    expect(page.locator("#reset-error")).to_be_visible()
    assert_accessible(page, "choosing a password, with an error")
