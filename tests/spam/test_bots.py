"""Bot checks: the signed render token and the honeypot."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.spam.bots import (
    DEFAULT_MAX_AGE,
    DEFAULT_MIN_SECONDS,
    issue_render_token,
    judge_honeypot,
    judge_render_token,
    read_render_token,
)

SECRET = b"render-secret-of-site-7"
RENDERED = 1_790_000_000.0


def token(site_id=7, article_id="story-42", now=RENDERED, secret=SECRET):
    return issue_render_token(secret, site_id, article_id, now)


def judge(value, *, posted_after=30.0, site_id=7, article_id="story-42", secret=SECRET, **options):
    return judge_render_token(value, secret, site_id, article_id, RENDERED + posted_after, **options)


def code(reason):
    return None if reason is None else (reason.code, reason.scope)


def test_a_reader_who_reads_then_writes_passes():
    assert judge(token(), posted_after=95.0) is None


def test_a_fast_typist_passes():
    # The clock starts when the form is shown: a short reply typed at 120 words a minute
    # ("Great point, the council should publish the figures.", 8 words) takes 4 s.
    assert judge(token(), posted_after=4.0) is None


def test_a_pasted_long_comment_passes_once_past_the_minimum():
    # Paste and click "Post" right after the embed loaded: past 2 s it is a person's speed.
    assert judge(token(), posted_after=DEFAULT_MIN_SECONDS) is None
    assert judge(token(), posted_after=2.5) is None


def test_posting_faster_than_a_person_can_is_too_fast():
    reason = judge(token(), posted_after=0.4)
    assert reason.to_dict() == {"code": "bot_too_fast", "seconds": 0.4, "limit": DEFAULT_MIN_SECONDS}
    assert judge(token(), posted_after=2.5, min_seconds=3.0).code == "bot_too_fast"


def test_small_clock_differences_between_servers_count_as_too_fast_not_forged():
    assert code(judge(token(), posted_after=-5.0)) == ("bot_too_fast", None)
    assert code(judge(token(), posted_after=-3600.0)) == ("bot_token_invalid", "future")


def test_an_old_token_has_expired():
    reason = judge(token(), posted_after=DEFAULT_MAX_AGE + 1)
    assert reason.code == "bot_token_expired" and reason.seconds == DEFAULT_MAX_AGE + 1
    assert judge(token(), posted_after=DEFAULT_MAX_AGE) is None
    assert judge(token(), posted_after=601.0, max_age=600.0).code == "bot_token_expired"


@pytest.mark.parametrize("missing", [None, ""])
def test_a_missing_token_is_invalid(missing):
    assert code(judge(missing)) == ("bot_token_invalid", "missing")


@pytest.mark.parametrize("garbled", ["x", "a.b", "a.b.c", "....", "é.é", "%%%.%%%", "eyJ9.", ".abc"])
def test_a_garbled_token_is_invalid(garbled):
    assert code(judge(garbled)) == ("bot_token_invalid", "forged")


def test_a_token_signed_with_another_secret_is_forged():
    assert code(judge(token(secret=b"guessed"))) == ("bot_token_invalid", "forged")


def test_a_tampered_token_is_forged():
    payload, signature = token().split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body[3] -= 3600  # pretend the form was shown an hour earlier
    forged = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).rstrip(b"=").decode()
    assert code(judge(f"{forged}.{signature}")) == ("bot_token_invalid", "forged")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert code(judge(f"{payload}.{flipped}")) == ("bot_token_invalid", "forged")


def test_a_plain_sha256_of_the_payload_is_not_a_signature():
    payload = token().split(".")[0]
    digest = base64.urlsafe_b64encode(hashlib.sha256(payload.encode()).digest()).rstrip(b"=").decode()
    assert code(judge(f"{payload}.{digest}")) == ("bot_token_invalid", "forged")
    unbound = base64.urlsafe_b64encode(hmac.new(SECRET, payload.encode(), "sha256").digest()).rstrip(b"=")
    assert code(judge(f"{payload}.{unbound.decode()}")) == ("bot_token_invalid", "forged")


def test_a_token_for_another_site_or_article_is_invalid():
    assert code(judge(token(site_id=8))) == ("bot_token_invalid", "site")
    assert code(judge(token(article_id="story-43"))) == ("bot_token_invalid", "article")


def test_tokens_are_url_safe_and_unique_per_render():
    first, second = token(), token()
    assert first != second
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert read_render_token(first, SECRET).nonce != read_render_token(second, SECRET).nonce


def test_token_content_is_readable_once_verified():
    content = read_render_token(token(article_id="ünïcode/story?x=1"), SECRET)
    assert (content.site_id, content.article_id, content.issued_at) == (7, "ünïcode/story?x=1", RENDERED)
    assert read_render_token(token(), b"other") is None


def test_a_secret_given_as_text_is_the_same_secret():
    assert judge(token(secret=SECRET.decode()), secret=SECRET) is None
    assert judge(token(), secret=SECRET.decode()) is None


def test_a_rotated_out_secret_still_verifies_during_the_grace_period():
    old = token(secret=b"old-secret")
    assert judge(old, secret=[SECRET, b"old-secret"]) is None
    assert code(judge(old, secret=[SECRET])) == ("bot_token_invalid", "forged")


@given(st.text(max_size=200))
def test_arbitrary_tokens_never_raise_and_never_pass(value):
    reason = judge(value)
    assert reason is not None and reason.code == "bot_token_invalid"


@given(st.integers(1, 2**31), st.text(min_size=1, max_size=100), st.floats(2.0, DEFAULT_MAX_AGE))
def test_every_issued_token_passes_for_its_own_site_and_article(site_id, article_id, after):
    issued = issue_render_token(SECRET, site_id, article_id, RENDERED)
    assert judge_render_token(issued, SECRET, site_id, article_id, RENDERED + after) is None


@pytest.mark.parametrize("empty", [None, ""])
def test_an_empty_honeypot_passes(empty):
    assert judge_honeypot(empty) is None


@pytest.mark.parametrize("filled", ["http://spam.example", "x", " ", 0, "John"])
def test_a_filled_honeypot_is_a_bot_signal(filled):
    assert judge_honeypot(filled).to_dict() == {"code": "bot_honeypot"}
