"""The e-mails and the unsubscribe token, with plain values."""

from __future__ import annotations

from service.notifications.messages import (
    QUOTE_CHARS,
    Reply,
    SiteQueues,
    digest_message,
    read_unsubscribe_token,
    reply_message,
    unsubscribe_token,
)

REPLY = Reply("Daily", "Budget 2027", "https://news.example/b", "My comment", "Bob", "x" * (QUOTE_CHARS + 50))


def test_the_token_names_site_and_reader_and_only_our_secret_makes_it():
    token = unsubscribe_token("secret", 3, "sso:reader-1")
    assert read_unsubscribe_token("secret", token) == (3, "sso:reader-1")
    assert read_unsubscribe_token("another secret", token) is None
    assert read_unsubscribe_token("secret", token[:-2] + "xx") is None
    assert read_unsubscribe_token("secret", "garbage") is None


def test_a_reply_notice_has_one_click_unsubscribe_headers_and_a_bounded_quote():
    message = reply_message(
        REPLY, sender="c@news.example", to="ada@example.org", unsubscribe_url="https://s/u/t"
    )
    assert message["List-Unsubscribe"] == "<https://s/u/t>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["From"] == "Daily <c@news.example>"
    body = message.get_content()
    assert "x" * QUOTE_CHARS in body and "x" * (QUOTE_CHARS + 1) not in body
    assert "https://s/u/t" in body and "https://news.example/b" in body


def test_no_digest_when_nothing_waits():
    quiet = [SiteQueues("Daily", 0, 0, 0)]
    assert digest_message(quiet, sender="c@x", to="m@x", console_url="https://s/console") is None
    busy = [*quiet, SiteQueues("Weekly", 1, 0, 0)]
    message = digest_message(busy, sender="c@x", to="m@x", console_url="https://s/console")
    assert message["Subject"] == "1 comment waiting for moderation"
    assert "Daily" not in message.get_content()
