"""Verified readers: the site vouches for its reader with a signed token; nothing else carries standing."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
import sqlalchemy as sa

from service.db import Comment
from service.extensions import db
from service.identity.tokens import article_token, reader_token, sign

from ..conftest import ORIGIN


def post(factory, key, text="Thanks, a clear and useful piece.", **extra):
    return factory.client.post(
        "/v1/comments", json=factory.comment_body(text, **extra), headers=factory.headers(key)
    )


def stored(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id)


def test_verified_reader_posts_under_the_name_and_id_the_site_vouched_for(factory, sso, app):
    answer = post(
        factory,
        sso.embed,
        reader_token=sso.token(email="one@example.org"),
        author={"name": "Someone Else", "user_id": "admin"},
    )
    assert answer.status_code == 201, answer.get_json()
    comment = stored(app, answer.get_json()["id"])
    assert (comment.author_name, comment.author_key, comment.author_verified) == (
        "Reader One",
        "sso:reader-1",
        True,
    )
    assert comment.author_email == "one@example.org"


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "editor-in-chief"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _alg_none(sub: str) -> str:
    now = int(time.time())
    return jwt.encode({"sub": sub, "name": "X", "iat": now, "exp": now + 600}, key=None, algorithm="none")


BAD_TOKENS = {
    "forged with another secret": lambda s: reader_token("sso_not-the-site-secret", "reader-1", "R"),
    "expired": lambda s: reader_token(s.secret, "reader-1", "R", now=time.time() - 7200, lifetime=600),
    "alg none": lambda s: _alg_none("reader-1"),
    "tampered claims": lambda s: _tampered(s.token()),
    "lives over 24 hours": lambda s: reader_token(s.secret, "reader-1", "R", lifetime=3 * 86400),
    "no sub": lambda s: sign({"name": "R", "iat": int(time.time()), "exp": int(time.time()) + 60}, s.secret),
    "HS512 instead of HS256": lambda s: jwt.encode(
        {"sub": "r", "name": "R", "iat": int(time.time()), "exp": int(time.time()) + 60},
        s.secret,
        algorithm="HS512",
    ),
    "not a JWT": lambda s: "hello",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_a_token_that_proves_nothing_is_refused_and_nothing_is_stored(factory, sso, app, kind):
    answer = post(factory, sso.embed, reader_token=BAD_TOKENS[kind](sso))
    assert answer.status_code == 401
    problem = answer.get_json()
    assert problem["code"] == "invalid-reader-token" and problem["field"] == "reader_token"
    assert answer.headers["Content-Type"] == "application/problem+json"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_another_sites_token_is_refused(factory, sso, client):
    factory.site("weekly", origins=(ORIGIN,))
    admin_of_all = factory.key("admin", site=None)
    other = client.post(
        "/v1/admin/sites/weekly/sso-secret", json={}, headers=factory.headers(admin_of_all, origin=None)
    )
    token = reader_token(other.get_json()["secret"], "reader-1", "R")
    assert post(factory, sso.embed, reader_token=token).status_code == 401


def test_a_claimed_trusted_user_id_is_held_on_a_premoderated_site(factory, sso, client):
    """Standing binds to verified ids only: claiming a trusted reader's id earns nothing."""
    client.patch(
        "/v1/admin/sites/daily",
        json={"policy": {"premoderation": True}},
        headers=factory.headers(sso.admin, origin=None),
    )
    trusted = client.put(
        "/v1/moderation/authors?site=daily&key=sso:reader-1",
        json={"standing": "trusted"},
        headers=factory.headers(sso.moderator, origin=None),
    )
    assert trusted.status_code == 200, trusted.get_json()

    claimed = post(
        factory, sso.embed, "I claim to be reader one.", author={"name": "R", "user_id": "reader-1"}
    )
    assert claimed.get_json()["status"] == "held"
    vouched = post(factory, sso.embed, reader_token=sso.token())
    assert vouched.get_json()["status"] == "approved"


def test_a_banned_reader_stays_banned_whatever_they_claim(factory, sso, client):
    client.put(
        "/v1/moderation/authors?site=daily&key=sso:troll",
        json={"standing": "banned"},
        headers=factory.headers(sso.moderator, origin=None),
    )
    assert (
        post(factory, sso.embed, reader_token=sso.token("troll", "Troll")).get_json()["status"] == "rejected"
    )


def test_standing_cannot_be_set_on_an_unverified_key(factory, sso, client):
    answer = client.put(
        "/v1/moderation/authors?site=daily&key=user:reader-1",
        json={"standing": "trusted"},
        headers=factory.headers(sso.moderator, origin=None),
    )
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["field"] == "key"


def test_unverified_authors_earn_no_trust(factory, sso, app):
    for _ in range(7):
        post(factory, sso.embed, author={"name": "Ada", "user_id": "u-7", "email": "ada@example.org"})
    with app.app_context():
        comments = db.session.execute(sa.select(Comment)).scalars().all()
        assert {c.author_key for c in comments} == {None}
        assert {c.author_verified for c in comments} == {False}


@pytest.mark.parametrize(
    ("setting", "status", "code"), [("hold", 201, None), ("deny", 401, "reader-token-required")]
)
def test_the_site_says_what_anonymous_readers_may_do(factory, sso, client, setting, status, code):
    client.patch(
        "/v1/admin/sites/daily",
        json={"policy": {"anonymous_posting": setting}},
        headers=factory.headers(sso.admin, origin=None),
    )
    anonymous = post(factory, sso.embed, "Posting without signing in.")
    assert anonymous.status_code == status
    if code:
        assert anonymous.get_json()["code"] == code
    else:
        assert anonymous.get_json()["status"] == "held"
    assert post(factory, sso.embed, reader_token=sso.token()).get_json()["status"] == "approved"


def test_a_rotated_secret_verifies_through_its_grace_period_only(factory, sso, client):
    old = sso.token()
    rotated = client.post(
        "/v1/admin/sites/daily/sso-secret",
        json={"grace_hours": 1},
        headers=factory.headers(sso.admin, origin=None),
    ).get_json()
    assert rotated["previous_secret_expires_at"] is not None
    assert post(factory, sso.embed, reader_token=old).status_code == 201
    assert post(factory, sso.embed, reader_token=reader_token(rotated["secret"], "r", "R")).status_code == 201

    client.post(
        "/v1/admin/sites/daily/sso-secret",
        json={"grace_hours": 0},
        headers=factory.headers(sso.admin, origin=None),
    )
    assert post(factory, sso.embed, reader_token=old).status_code == 401


def test_the_sso_secret_is_shown_once(factory, sso, client):
    site = client.get("/v1/admin/sites/daily", headers=factory.headers(sso.admin, origin=None)).get_json()
    assert site["sso"]["configured"] is True and sso.secret not in json.dumps(site)


# --- articles the site owns ------------------------------------------------------------------


def test_an_article_url_off_the_sites_origins_is_refused(factory, sso, app):
    body = factory.comment_body()
    body["article"]["url"] = "https://evil.example/phish"
    answer = factory.client.post("/v1/comments", json=body, headers=factory.headers(sso.embed))
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["field"] == "article.url"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_the_first_comment_cannot_set_an_articles_title_for_good(factory, sso, client):
    """A reader's first comment makes the article (unverified); the site's claim then wins, and
    later comments change nothing."""
    first = factory.comment_body()
    first["article"]["title"] = "Editor resigns in disgrace"
    client.post("/v1/comments", json=first, headers=factory.headers(sso.embed))
    moderator = factory.headers(sso.moderator, origin=None)
    item = client.get("/v1/moderation/comments?queue=approved&site=daily", headers=moderator).get_json()[
        "items"
    ][0]
    assert item["article"]["verified"] is False

    claim = article_token(sso.secret, "a1", f"{ORIGIN}/news/a1", "The real headline")
    answer = post(factory, sso.embed, article_token=claim)
    assert answer.status_code == 201
    thread = client.get("/v1/articles/a1/comments", headers=factory.headers(sso.embed)).get_json()
    assert thread["article"]["title"] == "The real headline"

    again = factory.comment_body()
    again["article"]["title"] = "Editor resigns in disgrace"
    client.post("/v1/comments", json=again, headers=factory.headers(sso.embed))
    thread = client.get("/v1/articles/a1/comments", headers=factory.headers(sso.embed)).get_json()
    assert thread["article"]["title"] == "The real headline"


def test_a_forged_article_claim_is_refused(factory, sso):
    claim = article_token("sso_forged", "a1", f"{ORIGIN}/news/a1", "Fake")
    answer = post(factory, sso.embed, article_token=claim)
    assert answer.status_code == 401 and answer.get_json()["code"] == "invalid-article-claim"


def test_a_claim_for_another_article_is_refused(factory, sso):
    claim = article_token(sso.secret, "other", f"{ORIGIN}/news/other", "Other")
    answer = post(factory, sso.embed, article_token=claim)
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["field"] == "article_token"


def test_the_admin_api_creates_an_article_before_its_first_comment(factory, sso, client):
    admin = factory.headers(sso.admin, origin=None)
    off = client.put(
        "/v1/admin/sites/daily/articles/budget",
        json={"url": "https://elsewhere.example/x", "title": "Budget"},
        headers=admin,
    )
    assert off.status_code == 422 and off.get_json()["errors"][0]["field"] == "url"
    made = client.put(
        "/v1/admin/sites/daily/articles/budget",
        json={"url": f"{ORIGIN}/budget", "title": "The budget"},
        headers=admin,
    )
    assert made.status_code == 200 and made.get_json()["verified"] is True
    body = factory.comment_body(article="budget")
    body["article"]["title"] = "Something else"
    client.post("/v1/comments", json=body, headers=factory.headers(sso.embed))
    thread = client.get("/v1/articles/budget/comments", headers=factory.headers(sso.embed)).get_json()
    assert thread["article"]["title"] == "The budget"
