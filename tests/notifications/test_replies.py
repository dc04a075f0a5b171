"""Reply notices through a real SMTP server: opt-in when posting, sent from the scheduled job,
one-click unsubscribe that holds."""

from __future__ import annotations

import re

import pytest

from service.jobs.schedule import run_job

PUBLIC = "https://comments.news.example"
REPLY_TEXT = "Good point about the bus lanes, I had not thought of that."


def post(factory, key, text, **extra):
    answer = factory.post(key, text=text, **extra)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def reply(factory, key, parent_id, text=REPLY_TEXT, name="Bob", email="bob@example.org"):
    return post(factory, key, text, parent_id=parent_id, author={"name": name, "email": email})


def notify(app):
    return run_job(app, "reply-notifications", force=True).counts


def unsubscribe_link(message) -> str:
    header = message["List-Unsubscribe"]
    match = re.fullmatch(r"<(https://[^>]+)>", header)
    assert match, header
    assert match.group(1) in message.get_content()
    return match.group(1)


def test_a_reply_notice_arrives_and_its_unsubscribe_link_stops_the_next(
    app, client, factory, embed_key, inbox
):
    parent = post(factory, embed_key, "The new bus lanes will help the whole town.", notify_replies=True)
    first = reply(factory, embed_key, parent["id"])
    assert notify(app) == {"queued": 1, "sent": 1, "skipped": 0, "failed": 0}

    [message] = inbox.to("ada@example.org")
    assert "New reply to your comment" in message["Subject"]
    body = message.get_content()
    assert REPLY_TEXT in body and "Bob replied" in body
    assert "bob@example.org" not in message.as_string()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = unsubscribe_link(message)
    assert link.startswith(f"{PUBLIC}/v1/unsubscribe/")
    assert "ada" not in link  # names a keyed hash, not the address

    path = link.removeprefix(PUBLIC)
    page = client.get(path)  # a browser (or a mail scanner) opening the link changes nothing
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<form method="post">' in page.get_data(as_text=True)
    reply(
        factory,
        embed_key,
        parent["id"],
        text="Still subscribed: this one is sent.",
        name="Cleo",
        email="c@x.org",
    )
    assert notify(app)["sent"] == 1

    # The mail client's one-click POST (RFC 8058).
    done = client.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert done.status_code == 200 and "no more e-mails" in done.get_data(as_text=True)
    assert client.post(path).status_code == 200  # twice is the same as once
    reply(
        factory,
        embed_key,
        parent["id"],
        text="After unsubscribing: nothing is sent.",
        name="Dan",
        email="d@x.org",
    )
    assert notify(app) == {"queued": 1, "sent": 0, "skipped": 1, "failed": 0}
    assert len(inbox.to("ada@example.org")) == 2
    assert first["id"]  # and no reply is announced twice
    assert notify(app) == {"queued": 0, "sent": 0, "skipped": 0, "failed": 0}


def test_a_held_reply_is_announced_only_once_approved(app, client, factory, embed_key, inbox, insult_text):
    parent = post(factory, embed_key, "The library should open on Sundays.", notify_replies=True)
    held = reply(factory, embed_key, parent["id"], text=insult_text)
    assert held["status"] == "held"
    assert notify(app)["queued"] == 0
    assert inbox.to("ada@example.org") == []
    moderator = factory.headers(factory.key("moderator"), origin=None)
    decided = client.post(
        f"/v1/moderation/comments/{held['id']}/decision", json={"status": "approved"}, headers=moderator
    )
    assert decided.status_code == 200
    assert notify(app)["sent"] == 1
    assert len(inbox.to("ada@example.org")) == 1


def test_no_notice_without_opt_in_or_for_ones_own_reply(app, factory, embed_key, inbox):
    quiet = post(factory, embed_key, "A comment whose author wants no e-mail.")
    reply(factory, embed_key, quiet["id"])
    wanted = post(factory, embed_key, "A comment whose author wants e-mail.", notify_replies=True)
    reply(
        factory,
        embed_key,
        wanted["id"],
        text="Answering myself, with more detail.",
        name="Ada",
        email="ADA@example.org",
    )
    assert notify(app) == {"queued": 1, "sent": 0, "skipped": 1, "failed": 0}
    assert inbox.messages == []


def test_opting_in_needs_an_email(client, factory, embed_key):
    body = factory.comment_body("No address given, but asking for notices.", notify_replies=True)
    del body["author"]["email"]
    answer = client.post("/v1/comments", json=body, headers=factory.headers(embed_key))
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["field"] == "notify_replies"


def test_a_verified_readers_address_comes_from_their_token(app, client, factory, embed_key, inbox):
    token = factory.reader_token("reader-5", "Reader Five", email="five@example.org")
    body = {
        **factory.comment_body("Signed in and asking for notices."),
        "reader_token": token,
        "notify_replies": True,
    }
    del body["author"]
    answer = client.post("/v1/comments", json=body, headers=factory.headers(embed_key))
    assert answer.status_code == 201, answer.get_json()
    reply(factory, embed_key, answer.get_json()["id"])
    assert notify(app)["sent"] == 1
    [message] = inbox.to("five@example.org")
    assert REPLY_TEXT in message.get_content()


def test_a_link_we_did_not_sign_is_refused(client):
    assert client.get("/v1/unsubscribe/forged.token").status_code == 404
    assert client.post("/v1/unsubscribe/WzEsInNzbzp4Il0.forged").status_code == 404


@pytest.mark.parametrize("app_config", [{"SMTP_HOST": ""}])
def test_without_an_smtp_server_nothing_is_queued(app, factory, embed_key):
    parent = post(factory, embed_key, "No mail server configured here.", notify_replies=True)
    reply(factory, embed_key, parent["id"])
    assert notify(app) == {}


def test_an_smtp_server_that_refuses_leaves_the_notice_queued(app, factory, embed_key, inbox):
    app.config["SMTP_PORT"] = 1  # nothing listens there
    parent = post(factory, embed_key, "The mail server is down today.", notify_replies=True)
    reply(factory, embed_key, parent["id"])
    assert notify(app) == {"queued": 1, "sent": 0, "skipped": 0, "failed": 0}
    app.config["SMTP_PORT"] = app.config["TEST_SMTP_PORT"]
    assert notify(app) == {"queued": 0, "sent": 1, "skipped": 0, "failed": 0}
