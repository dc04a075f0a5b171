"""Spam defence through the HTTP API: each rule holds what it should, and never a friendly comment."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.db import Comment
from service.extensions import db

from ..conftest import ORIGIN

FRIENDLY = "Thanks for explaining the council's budget so clearly, the chart helped a lot."
PASTED = (
    "I wrote this offline before the article went up, so forgive the length. The plan to move the "
    "bus depot has been discussed for a decade, and every version so far has left the estates on the "
    "east side with worse connections than before. If the council wants support this time it should "
    "publish the timetable changes alongside the map, hold the consultation in the evenings when "
    "working people can attend, and explain how the savings will be reinvested in routes rather than "
    "absorbed into the general budget. I would be glad to see a follow-up piece on that."
)
WAVE = "Great news everyone, I doubled my savings in a week with this simple trading trick, ask me how"


def post(factory, key, text=FRIENDLY, *, address="198.51.100.20", age=30.0, article="a1", **extra):
    body = factory.comment_body(text, article=article, render_token=factory.render_token(article, age=age))
    body.update(extra)
    return factory.client.post(
        "/v1/comments", json=body, headers=factory.headers(key), environ_base={"REMOTE_ADDR": address}
    )


def codes(app, comment_id):
    with app.app_context():
        return [r["code"] for r in db.session.get(Comment, comment_id).reasons]


def status_of(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).status


@pytest.fixture
def site(factory):
    factory.site(
        policy={"allowed_domains": ["news.example", "gov.example"], "blocked_domains": ["casino.example"]}
    )
    return factory.key("embed")


# --- bots --------------------------------------------------------------------------------------


def test_the_embed_gets_a_render_token(factory, site, client):
    answer = client.post("/v1/render-tokens", json={"article_id": "a1"}, headers=factory.headers(site))
    assert answer.status_code == 201
    token = answer.get_json()
    assert token["min_seconds"] == 2.0
    assert post(factory, site, render_token=token["render_token"], age=0).status_code == 201


@pytest.mark.parametrize(
    ("who", "text", "age"),
    [
        ("a fast typist", "Good piece.", 2.5),
        ("a reader who pastes a long comment", PASTED, 4.0),
        ("a reader who leaves the page open for hours", FRIENDLY, 6 * 3600),
    ],
)
def test_real_readers_pass_the_bot_checks(factory, site, app, who, text, age):
    answer = post(factory, site, text, age=age).get_json()
    assert answer["status"] == "approved", (who, codes(app, answer["id"]))


@pytest.mark.parametrize(
    ("what", "extra", "code"),
    [
        ("a filled honeypot", {"honeypot": "http://spam.example"}, "bot_honeypot"),
        ("no render token", {"render_token": None}, "bot_token_invalid"),
        ("a forged render token", {"render_token": "WzEsMSwiYTEiXQ.AAAA"}, "bot_token_invalid"),
        ("a post 0.3 s after the form showed", {"age": 0.3}, "bot_too_fast"),
        ("a render token for another article", {"article_token_for": "other"}, "bot_token_invalid"),
    ],
)
def test_bots_are_held_not_rejected(factory, site, app, what, extra, code):
    extra = dict(extra)
    age = extra.pop("age", 30.0)
    if extra.pop("article_token_for", None):
        extra["render_token"] = factory.render_token("other")
    if extra.get("render_token", "") is None:
        body = factory.comment_body(FRIENDLY)
        body.pop("render_token")
        answer = factory.client.post("/v1/comments", json=body, headers=factory.headers(site)).get_json()
    else:
        answer = post(factory, site, age=age, **extra).get_json()
    assert answer["status"] == "held", what
    assert code in codes(app, answer["id"])


def test_bot_checks_can_be_turned_off(factory, client, app):
    factory.site(policy={"bot_checks": False})
    key = factory.key("embed")
    body = factory.comment_body(FRIENDLY)
    body.pop("render_token")
    assert (
        client.post("/v1/comments", json=body, headers=factory.headers(key)).get_json()["status"]
        == "approved"
    )


# --- links ------------------------------------------------------------------------------------


def test_links_from_anonymous_readers_are_held_unless_allowed(factory, site, app):
    allowed = post(
        factory, site, "The full report is at https://gov.example/reports/budget-2027 for anyone curious."
    )
    assert allowed.get_json()["status"] == "approved"
    unknown = post(
        factory, site, "Cheap flights today only at www.cheap-flights.example/deal, book now."
    ).get_json()
    assert unknown["status"] == "held" and "link_from_new_reader" in codes(app, unknown["id"])


def test_shorteners_count_as_unknown(factory, site, app):
    answer = post(factory, site, "You have to read this https://bit.ly/3xYz12 before the vote.").get_json()
    assert answer["status"] == "held" and "link_shortener" in codes(app, answer["id"])


def test_blocked_domains_reject_whoever_posts_them(factory, site, app):
    answer = post(
        factory,
        site,
        "Win big tonight at https://spin.casino.example/free",
        reader_token=factory.reader_token("regular"),
    ).get_json()
    assert answer["status"] == "rejected" and "link_blocked_domain" in codes(app, answer["id"])


def test_readers_with_approved_comments_may_link(factory, site, app, client):
    token = factory.reader_token("known-reader")
    for n in range(3):
        assert (
            post(factory, site, f"Comment number {n} on the budget debate.", reader_token=token).get_json()[
                "status"
            ]
            == "approved"
        )
    answer = post(
        factory, site, "My own write-up: https://blog.example.org/budget", reader_token=token
    ).get_json()
    assert answer["status"] == "approved", reasons_of(app, answer["id"])
    newcomer = post(
        factory,
        site,
        "My own write-up: https://blog.example.org/budget-2",
        reader_token=factory.reader_token("newcomer"),
    ).get_json()
    assert newcomer["status"] == "held"


# --- duplicates -------------------------------------------------------------------------------


def test_the_same_text_across_articles_is_held_with_its_copies(factory, site, app, client):
    answers = [
        post(factory, site, text, article=f"story-{n}", address=f"203.0.{n}.9").get_json()
        # The third copy only differs in case, spacing and punctuation.
        for n, text in enumerate([WAVE, WAVE, WAVE.upper().replace(",", " ,  ") + "!!!"])
    ]
    assert answers[0]["status"] == "approved" and answers[1]["status"] == "approved"
    assert answers[2]["status"] == "held"
    with app.app_context():
        latest = db.session.get(Comment, answers[2]["id"])
        duplicate = next(r for r in latest.reasons if r["code"] == "duplicate")
        assert duplicate["copies"] == [answers[0]["id"], answers[1]["id"]]
    # The earlier copies of the wave leave the page too, each naming the others.
    assert [status_of(app, a["id"]) for a in answers[:2]] == ["held", "held"]
    queue = client.get(
        "/v1/moderation/comments?site=daily&queue=held&spam=true",
        headers=factory.headers(factory.key("moderator"), origin=None),
    ).get_json()
    assert {i["id"] for i in queue["items"]} == {a["id"] for a in answers}
    assert all(i["spam"] for i in queue["items"])


def test_short_common_comments_are_never_duplicates(factory, site):
    for n in range(5):
        assert (
            post(
                factory, site, "Great article, thanks!", article=f"story-{n}", address=f"203.0.{n}.9"
            ).get_json()["status"]
            == "approved"
        )


# --- velocity ---------------------------------------------------------------------------------


def test_a_flood_from_one_network_is_held(factory, client, app):
    factory.site(policy={"velocity_per_minute": 3, "velocity_per_hour": 100})
    key = factory.key("embed")
    answers = [
        post(factory, key, f"Point {n}: the plan misses the east side.", address=f"192.0.2.{n}").get_json()
        for n in range(4)
    ]
    assert [a["status"] for a in answers] == ["approved"] * 3 + ["held"]
    assert "velocity" in codes(app, answers[3]["id"])
    # Another network is not slowed down by it.
    assert (
        post(factory, key, "A different reader entirely.", address="198.51.100.1").get_json()["status"]
        == "approved"
    )


def test_throttling_answers_429_with_retry_after_and_stores_nothing(factory, client, app):
    factory.site(policy={"velocity_per_minute": 2, "velocity_per_hour": 100, "velocity_action": "throttle"})
    key = factory.key("embed")
    for n in range(2):
        assert post(factory, key, f"Reply {n} to the thread here.").status_code == 201
    refused = post(factory, key, "One more reply to the thread.")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.get_json()["code"] == "too-many-requests"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 2


def test_velocity_follows_a_verified_reader_across_networks(factory, client, app):
    factory.site(policy={"velocity_per_minute": 2, "velocity_per_hour": 100})
    key = factory.key("embed")
    token = factory.reader_token("busy")
    statuses = [
        post(
            factory, key, f"Thought number {n} on this.", address=f"10.{n}.0.1", reader_token=token
        ).get_json()["status"]
        for n in range(3)
    ]
    assert statuses == ["approved", "approved", "held"]


def test_signed_in_readers_do_not_use_up_their_networks_anonymous_allowance(factory, client, app):
    # An office or a campus behind one address: its signed-in readers count by their own keys,
    # so a busy morning of theirs does not hold the next anonymous reader there, and the other
    # way round.
    factory.site(policy={"velocity_per_minute": 2, "velocity_per_hour": 100})
    key = factory.key("embed")
    said = ["I agree with the editorial.", "The chart on page two is wrong.", "Good piece, thank you."]
    for n, text in enumerate(said):
        token = factory.reader_token(f"colleague-{n}")
        answer = post(factory, key, text, reader_token=token)
        assert answer.get_json()["status"] == "approved", reasons_of(app, answer.get_json()["id"])
    asked = ["Who paid for the survey?", "When does the consultation close?", "Is the map up to date?"]
    anonymous = [post(factory, key, text).get_json()["status"] for text in asked]
    assert anonymous == ["approved", "approved", "held"]
    token = factory.reader_token("colleague-9")
    assert (
        post(factory, key, "Back from lunch, one more thought.", reader_token=token).get_json()["status"]
        == "approved"
    )


def test_article_url_checks_use_the_sites_origins(factory, site):
    body = factory.comment_body(FRIENDLY)
    body["article"]["url"] = ORIGIN.replace("https", "http") + "/news/a1"
    assert factory.client.post("/v1/comments", json=body, headers=factory.headers(site)).status_code == 422


def test_links_to_the_sites_own_pages_pass(factory, site, app):
    answer = post(factory, site, f"The paper covered this last year: {ORIGIN}/news/older-story").get_json()
    assert answer["status"] == "approved", reasons_of(app, answer["id"])


def reasons_of(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).reasons
