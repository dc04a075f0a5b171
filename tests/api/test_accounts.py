"""Moderators as people: console sign-in, second factor, lockout, CSRF, session lifetimes, reset
links, roles per site, and an audit trail that names the person."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from service.db import ConsoleSession, SignInThrottle, utcnow
from service.extensions import db

from .test_auth import ROUTES

PASSWORD = "correct horse battery staple"


class People:
    """Accounts made through the same code the API and `flask accounts` use, and signed-in clients."""

    def __init__(self, app, factory):
        self.app = app
        self.factory = factory

    def create(self, email, roles, name=None, password=PASSWORD):
        from service.accounts.store import create_account
        from service.sites import site_by_slug

        with self.app.app_context():
            grants = [(site_by_slug(site).id if site else None, role) for site, role in roles]
            return create_account(name or email.split("@")[0].title(), email, password, grants).id

    def client(self):
        return self.app.test_client()

    def sign_in(self, email, password=PASSWORD, client=None, **extra):
        """A fresh client (its own cookie jar) signed in as the person; with .csrf set."""
        client = client or self.client()
        answer = client.post("/v1/session", json={"email": email, "password": password, **extra})
        assert answer.status_code == 200, answer.get_json()
        client.csrf = answer.get_json()["csrf_token"]
        return client


@pytest.fixture
def people(app, factory):
    factory.site()
    return People(app, factory)


def _cookie_header(answer) -> str:
    return next(v for k, v in answer.headers.items() if k == "Set-Cookie" and v.startswith("cms_session="))


def test_sign_in_sets_a_hardened_cookie_and_the_console_works_with_it(people):
    account_id = people.create("ada@news.example", [("daily", "moderator")], name="Ada Lovelace")
    client = people.client()
    answer = client.post("/v1/session", json={"email": "ADA@news.example", "password": PASSWORD})
    assert answer.status_code == 200
    cookie = _cookie_header(answer)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # testing config: served over http
    body = answer.get_json()
    assert body["account"]["email"] == "ada@news.example" and body["csrf_token"]
    assert answer.headers["Cache-Control"] == "no-store"

    me = client.get("/v1/moderation/me").get_json()
    assert me["actor"] == f"user:{account_id}" and me["name"] == "Ada Lovelace"
    assert me["role"] == "moderator" and [s["slug"] for s in me["sites"]] == ["daily"]
    assert client.get("/v1/moderation/queues?site=daily").status_code == 200
    assert client.get("/v1/session").get_json()["csrf_token"] == body["csrf_token"]


# TESTING stays on: an app with it off starts the webhook and job threads, which would outlive the test.
@pytest.mark.parametrize("app_config", [{"SERVICE_ENV": "production", "SECRET_KEY": "s" * 40}])
def test_the_cookie_is_secure_in_production(people):
    people.create("ada@news.example", [("daily", "moderator")])
    answer = people.client().post("/v1/session", json={"email": "ada@news.example", "password": PASSWORD})
    assert "; Secure" in _cookie_header(answer)


def test_wrong_password_and_unknown_email_get_the_same_401(people):
    people.create("ada@news.example", [("daily", "moderator")])
    client = people.client()
    wrong = client.post("/v1/session", json={"email": "ada@news.example", "password": "not the password"})
    unknown = client.post("/v1/session", json={"email": "bob@news.example", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_json()["code"] == "sign-in-failed"
    assert "cms_session" not in wrong.headers.get("Set-Cookie", "")
    assert client.get("/v1/moderation/me").status_code == 401


def test_sign_in_input_is_checked(people):
    answer = people.client().post("/v1/session", json={"email": "not-an-email", "password": "x"})
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["field"] == "email"


def test_five_failures_lock_the_account_with_a_429_even_for_the_right_password(people, app):
    people.create("ada@news.example", [("daily", "moderator")])
    people.create("bob@news.example", [("daily", "moderator")])
    client = people.client()
    for _ in range(5):
        assert (
            client.post("/v1/session", json={"email": "ada@news.example", "password": "wrong!"}).status_code
            == 401
        )
    locked = client.post("/v1/session", json={"email": "ada@news.example", "password": PASSWORD})
    assert locked.status_code == 429
    problem = locked.get_json()
    assert problem["code"] == "sign-in-locked" and "15 minutes" in problem["detail"]
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert locked.headers["Content-Type"] == "application/problem+json"
    # Another person on the same network is not locked out by Ada's failures.
    people.sign_in("bob@news.example")
    # Once the lock has run out, the right password works again.
    with app.app_context():
        db.session.execute(sa.update(SignInThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    people.sign_in("ada@news.example")


def test_a_network_of_many_failures_is_locked_for_every_account(people):
    people.create("ada@news.example", [("daily", "moderator")])
    client = people.client()
    for i in range(20):
        answer = client.post("/v1/session", json={"email": f"guess{i}@news.example", "password": "wrong!"})
        assert answer.status_code == 401
    locked = client.post("/v1/session", json={"email": "ada@news.example", "password": PASSWORD})
    assert locked.status_code == 429 and "your network" in locked.get_json()["detail"]


def _enable_totp(people, email):
    client = people.sign_in(email)
    setup = client.post("/v1/account/totp", headers={"X-CSRF-Token": client.csrf})
    assert setup.status_code == 200
    secret = setup.get_json()["secret"]
    assert setup.get_json()["otpauth_uri"].startswith("otpauth://totp/")
    wrong = client.post(
        "/v1/account/totp/confirm", json={"code": "000000"}, headers={"X-CSRF-Token": client.csrf}
    )
    if pyotp.TOTP(secret).now() != "000000":
        assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "code"
    confirmed = client.post(
        "/v1/account/totp/confirm",
        json={"code": pyotp.TOTP(secret).now()},
        headers={"X-CSRF-Token": client.csrf},
    )
    assert confirmed.status_code == 200 and confirmed.get_json()["totp_enabled"] is True
    return secret


def _next_code(app, secret, email):
    """The code of the step after the last one used (a code is good once, so the next sign-in
    cannot reuse the step the set-up consumed); within the one-step drift either side of now."""
    from service.db import Account

    with app.app_context():
        last = db.session.scalar(sa.select(Account.totp_last_step).where(Account.email_key == email))
    step = max(last + 1, int(time.time() // 30))
    return pyotp.TOTP(secret).at(step * 30)


def test_totp_is_asked_for_checked_and_good_only_once(people, app):
    people.create("ada@news.example", [("daily", "moderator")])
    secret = _enable_totp(people, "ada@news.example")
    client = people.client()
    creds = {"email": "ada@news.example", "password": PASSWORD}

    needed = client.post("/v1/session", json=creds)
    assert needed.status_code == 401 and needed.get_json()["code"] == "second-factor-required"
    code = _next_code(app, secret, "ada@news.example")
    wrong = str((int(code) + 1) % 1_000_000).zfill(6)
    refused = client.post("/v1/session", json={**creds, "totp_code": wrong})
    assert refused.status_code == 401 and refused.get_json()["code"] == "sign-in-failed"

    signed_in = people.sign_in("ada@news.example", totp_code=code)
    assert signed_in.get("/v1/moderation/me").status_code == 200
    replayed = people.client().post("/v1/session", json={**creds, "totp_code": code})
    assert replayed.status_code == 401 and "used already" in replayed.get_json()["detail"]
    # A wrong password with a right code is still refused.
    assert (
        people.client()
        .post("/v1/session", json={**creds, "password": "wrong!", "totp_code": code})
        .status_code
        == 401
    )


def test_state_changing_requests_with_the_cookie_need_the_csrf_token(people, factory, insult_text):
    embed = factory.key("embed")
    held = factory.post(embed, text=insult_text).get_json()["id"]
    people.create("ada@news.example", [("daily", "moderator")])
    client = people.sign_in("ada@news.example")
    decision = {"status": "rejected", "reason": "abuse"}
    path = f"/v1/moderation/comments/{held}/decision"

    for headers in ({}, {"X-CSRF-Token": "forged"}):
        refused = client.post(path, json=decision, headers=headers)
        assert refused.status_code == 403 and refused.get_json()["code"] == "csrf-token-missing"
    assert client.get(f"/v1/moderation/comments/{held}").get_json()["status"] == "held"
    assert client.delete("/v1/session").status_code == 403  # sign-out too
    assert client.post(path, json=decision, headers={"X-CSRF-Token": client.csrf}).status_code == 200
    # A key in Authorization is not a cookie: no CSRF token needed.
    moderator_key = factory.key("moderator")
    other = factory.post(embed, text=insult_text + " again").get_json()["id"]
    answer = people.client().post(
        f"/v1/moderation/comments/{other}/decision",
        json=decision,
        headers=factory.headers(moderator_key, origin=None),
    )
    assert answer.status_code == 200


def test_sign_out_ends_the_session_on_the_server(people):
    people.create("ada@news.example", [("daily", "moderator")])
    client = people.sign_in("ada@news.example")
    token = client.get_cookie("cms_session").value
    answer = client.delete("/v1/session", headers={"X-CSRF-Token": client.csrf})
    assert answer.status_code == 204
    assert "cms_session=;" in _cookie_header(answer)
    replay = people.client()
    replay.set_cookie("cms_session", token)
    ended = replay.get("/v1/moderation/me")
    assert ended.status_code == 401 and ended.get_json()["code"] == "session-expired"


@pytest.mark.parametrize(
    ("created_ago", "idle_for", "why"),
    [
        (timedelta(hours=2), timedelta(minutes=61), "idle"),
        (timedelta(hours=12, minutes=1), timedelta(0), "12-hour"),
    ],
)
def test_sessions_expire_when_idle_and_after_twelve_hours(people, app, created_ago, idle_for, why):
    people.create("ada@news.example", [("daily", "moderator")])
    client = people.sign_in("ada@news.example")
    with app.app_context():
        now = utcnow()
        db.session.execute(
            sa.update(ConsoleSession).values(created_at=now - created_ago, last_seen_at=now - idle_for)
        )
        db.session.commit()
    ended = client.get("/v1/moderation/me")
    assert ended.status_code == 401 and ended.get_json()["code"] == "session-expired"
    assert why in ended.get_json()["detail"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsoleSession)) == 0


def test_an_active_session_lasts_past_the_idle_time(people, app):
    people.create("ada@news.example", [("daily", "moderator")])
    client = people.sign_in("ada@news.example")
    with app.app_context():
        db.session.execute(sa.update(ConsoleSession).values(last_seen_at=utcnow() - timedelta(minutes=59)))
        db.session.commit()
    assert client.get("/v1/moderation/me").status_code == 200
    with app.app_context():
        seen = db.session.scalar(sa.select(ConsoleSession.last_seen_at))
    assert utcnow() - seen < timedelta(minutes=1)


def test_an_admin_adds_a_person_who_sets_a_password_through_the_link_once(people, factory, app):
    admin = factory.key("admin", site=None)
    created = people.client().post(
        "/v1/admin/accounts",
        json={
            "name": "Grace Hopper",
            "email": "Grace@News.example",
            "roles": [{"site": "daily", "role": "moderator"}],
        },
        headers=factory.headers(admin, origin=None),
    )
    assert created.status_code == 201, created.get_json()
    link = created.get_json()["reset_link"]
    assert link["link"].endswith("/console#reset=" + link["token"])
    duplicate = people.client().post(
        "/v1/admin/accounts",
        json={"name": "G", "email": "grace@news.example", "roles": [{"site": "daily", "role": "moderator"}]},
        headers=factory.headers(admin, origin=None),
    )
    assert duplicate.status_code == 409  # e-mails are unique whatever their case

    short = people.client().post("/v1/password-reset", json={"token": link["token"], "password": "short"})
    assert short.status_code == 422 and short.get_json()["errors"][0]["field"] == "password"
    done = people.client().post("/v1/password-reset", json={"token": link["token"], "password": PASSWORD})
    assert done.status_code == 204
    people.sign_in("grace@news.example")
    reused = people.client().post(
        "/v1/password-reset", json={"token": link["token"], "password": "another long password"}
    )
    assert reused.status_code == 422 and "used already" in reused.get_json()["detail"]
    people.sign_in("grace@news.example")  # the reused link changed nothing


def test_an_expired_or_forged_reset_link_is_refused(people, app, monkeypatch):
    from service.accounts.store import account_by_email, reset_token

    people.create("ada@news.example", [("daily", "moderator")])
    real_time = time.time
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: real_time() - 3601)
    with app.app_context():
        old = reset_token(account_by_email("ada@news.example"))
    monkeypatch.undo()
    expired = people.client().post(
        "/v1/password-reset", json={"token": old, "password": "a brand new password"}
    )
    assert expired.status_code == 422 and "expired" in expired.get_json()["detail"]
    forged = people.client().post(
        "/v1/password-reset", json={"token": old[:-2] + "xx", "password": "a brand new password"}
    )
    assert forged.status_code == 422 and "not valid" in forged.get_json()["detail"]
    people.sign_in("ada@news.example")  # the old password still works


def test_a_reset_ends_every_session_of_the_person(people, app):
    from service.accounts.store import account_by_email, reset_token

    people.create("ada@news.example", [("daily", "moderator")])
    client = people.sign_in("ada@news.example")
    with app.app_context():
        token = reset_token(account_by_email("ada@news.example"))
    assert (
        people.client()
        .post("/v1/password-reset", json={"token": token, "password": "a brand new password"})
        .status_code
        == 204
    )
    assert client.get("/v1/moderation/me").status_code == 401


@pytest.fixture
def signed_in(people, factory):
    """A moderator of the daily site and an admin of every site, each signed in, and comment 1."""
    people.create("mod@news.example", [("daily", "moderator")])
    people.create("admin@news.example", [(None, "admin")])
    factory.post(factory.key("embed"))  # comment 1, article a1
    return {"moderator": people.sign_in("mod@news.example"), "admin": people.sign_in("admin@news.example")}


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES]
)
def test_role_matrix_holds_for_people_as_for_keys(factory, signed_in, method, path, body, allowed):
    if body == "comment":
        body = factory.comment_body(text="Another friendly note.")
    for role, client in signed_in.items():
        answer = client.open(path, method=method, json=body, headers={"X-CSRF-Token": client.csrf})
        if role in allowed:
            assert answer.status_code not in (401, 403), (role, answer.get_json())
        else:
            assert answer.status_code == 403, (role, answer.get_json())
            assert answer.get_json()["code"] == "forbidden"


def test_roles_are_per_site(people, factory):
    factory.site("weekly")
    people.create("ada@news.example", [("daily", "moderator"), ("weekly", "admin")])
    client = people.sign_in("ada@news.example")
    csrf = {"X-CSRF-Token": client.csrf}
    me = client.get("/v1/moderation/me").get_json()
    assert {s["slug"]: s["role"] for s in me["sites"]} == {"daily": "moderator", "weekly": "admin"}
    assert client.get("/v1/moderation/queues?site=daily").status_code == 200
    assert client.get("/v1/moderation/queues?site=weekly").status_code == 200
    assert client.patch("/v1/admin/sites/weekly", json={"name": "Weekly"}, headers=csrf).status_code == 200
    # Admin of weekly only: daily's admin routes do not know the site.
    assert client.patch("/v1/admin/sites/daily", json={"name": "Mine"}, headers=csrf).status_code == 404
    assert [s["slug"] for s in client.get("/v1/admin/sites").get_json()] == ["weekly"]
    assert (
        client.post("/v1/admin/sites", json={"slug": "new", "name": "New"}, headers=csrf).status_code == 403
    )


def test_audit_events_name_the_person_and_the_integration(people, factory, app, insult_text):
    embed = factory.key("embed")
    first, second, third = (
        factory.post(embed, text=f"{insult_text} #{i}").get_json()["id"] for i in range(3)
    )
    ada = people.create("ada@news.example", [("daily", "moderator")], name="Ada Lovelace")
    client = people.sign_in("ada@news.example")
    decision = {"status": "rejected", "reason": "abuse"}
    csrf = {"X-CSRF-Token": client.csrf}
    assert (
        client.post(f"/v1/moderation/comments/{first}/decision", json=decision, headers=csrf).status_code
        == 200
    )

    # A key Ada owns acts as Ada; a key nobody owns is the integration it is named after.
    admin = factory.headers(factory.key("admin", site=None), origin=None)
    owned = client.post(
        "/v1/admin/keys", json={"role": "moderator", "site": "daily", "owner_id": ada}, headers=admin
    )
    assert owned.status_code == 201 and owned.get_json()["owner_id"] == ada
    too_much = client.post(
        "/v1/admin/keys", json={"role": "admin", "site": "daily", "owner_id": ada}, headers=admin
    )
    assert too_much.status_code == 422 and too_much.get_json()["errors"][0]["field"] == "owner_id"
    bot = client.post(
        "/v1/admin/keys", json={"role": "moderator", "site": "daily", "name": "Triage bot"}, headers=admin
    )
    for key, comment in ((owned.get_json()["key"], second), (bot.get_json()["key"], third)):
        answer = people.client().post(
            f"/v1/moderation/comments/{comment}/decision",
            json=decision,
            headers=factory.headers(key, origin=None),
        )
        assert answer.status_code == 200

    events = {
        e["comment_id"]: e
        for e in client.get("/v1/moderation/events?site=daily&to_status=rejected").get_json()["items"]
    }
    assert (events[first]["actor"], events[first]["actor_name"]) == (f"user:{ada}", "Ada Lovelace")
    assert (events[second]["actor"], events[second]["actor_name"]) == (f"user:{ada}", "Ada Lovelace")
    bot_id = bot.get_json()["id"]
    assert (events[third]["actor"], events[third]["actor_name"]) == (f"integration:{bot_id}", "Triage bot")
    mine = client.get(f"/v1/moderation/events?site=daily&actor=user:{ada}").get_json()["items"]
    assert {e["comment_id"] for e in mine} == {first, second}


def test_a_disabled_person_is_signed_out_and_their_keys_stop(people, factory):
    ada = people.create("ada@news.example", [("daily", "moderator")])
    client = people.sign_in("ada@news.example")
    admin = factory.headers(factory.key("admin", site=None), origin=None)
    key = (
        people.client()
        .post("/v1/admin/keys", json={"role": "moderator", "site": "daily", "owner_id": ada}, headers=admin)
        .get_json()["key"]
    )
    assert (
        people.client().get("/v1/moderation/me", headers=factory.headers(key, origin=None)).status_code == 200
    )
    answer = people.client().patch(f"/v1/admin/accounts/{ada}", json={"disabled": True}, headers=admin)
    assert answer.status_code == 200 and answer.get_json()["disabled"] is True
    assert client.get("/v1/moderation/me").status_code == 401
    assert (
        people.client().get("/v1/moderation/me", headers=factory.headers(key, origin=None)).status_code == 401
    )
    refused = people.client().post("/v1/session", json={"email": "ada@news.example", "password": PASSWORD})
    assert refused.status_code == 401


def test_a_persons_key_acts_within_the_roles_they_hold_now(people, factory):
    ada = people.create("ada@news.example", [("daily", "admin")])
    admin = factory.headers(factory.key("admin", site=None), origin=None)
    key = (
        people.client()
        .post("/v1/admin/keys", json={"role": "admin", "site": "daily", "owner_id": ada}, headers=admin)
        .get_json()["key"]
    )
    headers = factory.headers(key, origin=None)
    assert people.client().get("/v1/admin/sites/daily", headers=headers).status_code == 200

    # Demoted to moderator: the admin key now moderates only.
    demote = {"roles": [{"site": "daily", "role": "moderator"}]}
    assert people.client().patch(f"/v1/admin/accounts/{ada}", json=demote, headers=admin).status_code == 200
    assert people.client().get("/v1/admin/sites/daily", headers=headers).status_code == 403
    assert people.client().get("/v1/moderation/me", headers=headers).status_code == 200

    # No role left on the site: the key stops.
    moved = {"roles": [{"site": "weekly", "role": "moderator"}]}
    factory.site("weekly")
    assert people.client().patch(f"/v1/admin/accounts/{ada}", json=moved, headers=admin).status_code == 200
    assert people.client().get("/v1/moderation/me", headers=headers).status_code == 401


def test_a_site_admin_manages_only_people_of_their_sites(people, factory):
    factory.site("weekly")
    people.create("ada@news.example", [("weekly", "moderator")])
    site_admin = factory.headers(factory.key("admin", site="daily"), origin=None)
    client = people.client()
    assert client.get("/v1/admin/accounts", headers=site_admin).get_json() == []
    every_site = client.post(
        "/v1/admin/accounts",
        json={"name": "Bob", "email": "bob@news.example", "roles": [{"site": None, "role": "admin"}]},
        headers=site_admin,
    )
    assert every_site.status_code == 403
    other_site = client.post(
        "/v1/admin/accounts",
        json={"name": "Bob", "email": "bob@news.example", "roles": [{"site": "weekly", "role": "moderator"}]},
        headers=site_admin,
    )
    assert other_site.status_code == 404


def test_create_admin_command_reads_the_password_from_stdin(app, people):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["accounts", "create-admin", "--email", "root@news.example", "--name", "Root"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    client = people.sign_in("root@news.example")
    assert client.get("/v1/moderation/me").get_json()["all_sites"] is True
    short = runner.invoke(
        args=["accounts", "create-admin", "--email", "b@news.example", "--name", "B"], input="short\n"
    )
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    again = runner.invoke(
        args=["accounts", "create-admin", "--email", "ROOT@news.example", "--name", "R"],
        input=PASSWORD + "\n",
    )
    assert again.exit_code != 0 and "exists already" in again.output


def test_reset_link_command_prints_a_working_link(app, people):
    people.create("ada@news.example", [("daily", "moderator")])
    result = app.test_cli_runner().invoke(
        args=["accounts", "reset-link", "--email", "Ada@news.example", "--base-url", "https://cms.example"]
    )
    assert result.exit_code == 0, result.output
    link = result.output.strip()
    assert link.startswith("https://cms.example/console#reset=")
    token = link.split("#reset=", 1)[1]
    assert (
        people.client()
        .post("/v1/password-reset", json={"token": token, "password": "a brand new password"})
        .status_code
        == 204
    )
    people.sign_in("ada@news.example", password="a brand new password")


def test_parallel_wrong_passwords_still_lock_at_five(people, db_kind):
    """Five guesses sent at once are each counted (the counter row is locked while counted)."""
    if db_kind != "postgresql":
        pytest.skip("SQLite takes one writer at a time: nothing runs in parallel there")
    from concurrent.futures import ThreadPoolExecutor

    people.create("ada@news.example", [("daily", "moderator")])

    def guess(i):
        body = {"email": "ada@news.example", "password": f"guess {i}"}
        return people.client().post("/v1/session", json=body)

    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(guess, range(5)))
    assert [a.status_code for a in answers] == [401] * 5
    locked = people.client().post("/v1/session", json={"email": "ada@news.example", "password": PASSWORD})
    assert locked.status_code == 429


def test_a_failure_counted_while_another_makes_the_counter_row_is_counted_not_a_500(people, app, db_kind):
    """A parallel failure inserts the account's counter row while this one is between its two
    counters: this one's INSERT waits on it, then meets the row and counts on it (a 500 before)."""
    if db_kind != "postgresql":
        pytest.skip("SQLite takes one writer at a time: nothing runs in parallel there")
    import threading

    from service.accounts.store import _throttle_key
    from service.accounts.store import email_key as key_of

    people.create("ada@news.example", [("daily", "moderator")])
    with app.app_context():
        account_key = _throttle_key("account", key_of("ada@news.example"))
        other = db.engine.connect()
    other_tx = other.begin()
    other.execute(sa.insert(SignInThrottle).values(key=account_key, failures=1, window_started_at=utcnow()))
    answers = []
    guess = threading.Thread(
        target=lambda: answers.append(
            people.client().post("/v1/session", json={"email": "ada@news.example", "password": "nope"})
        )
    )
    guess.start()
    # Until the guess waits on the uncommitted row (its INSERT, flushed by its next SELECT).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        waiting = sa.text(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE NOT l.granted AND a.datname = current_database()"
        )
        if other.execute(waiting).scalar():
            break
        time.sleep(0.05)
    other_tx.commit()
    other.close()
    guess.join(30)
    assert [a.status_code for a in answers] == [401]
    with app.app_context():
        assert db.session.get(SignInThrottle, account_key).failures == 2


def test_a_person_of_several_sites_sees_the_queues_of_each_and_no_other(people, factory, insult_text):
    factory.site("weekly")
    factory.site("monthly")
    held = {
        site: factory.post(factory.key("embed", site=site), text=f"{insult_text} {site}").get_json()["id"]
        for site in ("daily", "weekly", "monthly")
    }
    people.create("ada@news.example", [("daily", "moderator"), ("weekly", "moderator")])
    client = people.sign_in("ada@news.example")
    queue = client.get("/v1/moderation/comments?queue=held")
    assert queue.status_code == 200
    assert {item["id"] for item in queue.get_json()["items"]} == {held["daily"], held["weekly"]}
    assert client.get("/v1/moderation/queues").get_json()["held"] == 2
    events = client.get("/v1/moderation/events").get_json()["items"]
    assert {e["comment_id"] for e in events} == {held["daily"], held["weekly"]}
    assert client.get("/v1/moderation/notices").status_code == 200
    assert client.get(f"/v1/moderation/comments/{held['monthly']}").status_code == 404
