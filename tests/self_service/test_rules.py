"""The pure rules of authors' own comments: tokens, the edit window, an edit's status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.self_service.rules import edit_refusal, editable_until, status_after_edit
from service.self_service.tokens import (
    format_author_token,
    hash_author_token,
    new_author_token,
    parse_author_token,
    parse_header,
    proves,
)

POSTED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_a_token_names_its_comment_and_only_its_secret_proves_it():
    secret = new_author_token(b"k", 1, None, "f")
    token = format_author_token(42, secret)
    assert parse_author_token(token) == (42, secret)
    assert proves(secret, hash_author_token(secret))
    assert not proves(secret + "x", hash_author_token(secret))
    assert not proves(secret, None)
    assert new_author_token(b"k", 1, None, "f") != secret


def test_a_retried_request_derives_the_same_token_and_another_request_another():
    first = new_author_token(b"k", 1, "key", "f")
    assert first == new_author_token(b"k", 1, "key", "f")
    assert first != new_author_token(b"k", 1, "key", "g")
    assert first != new_author_token(b"k", 2, "key", "f")
    assert first != new_author_token(b"other", 1, "key", "f")


@pytest.mark.parametrize(
    "token", ["", "at_", "at_x_" + "a" * 43, "at_1_short", "bt_1_" + "a" * 43, "at_1" + "a" * 43]
)
def test_malformed_tokens_are_not_tokens(token):
    assert parse_author_token(token) is None


def test_the_header_holds_up_to_fifty_tokens():
    token = format_author_token(7, "s" * 43)
    assert parse_header(None) is None
    assert parse_header(f"{token}, {token}") == [(7, "s" * 43)] * 2
    for bad in ("", " , ", "nope", ",".join([token] * 51)):
        with pytest.raises(ValueError):
            parse_header(bad)


def test_the_window_closes_after_the_sites_minutes():
    assert editable_until(POSTED, 15) == POSTED + timedelta(minutes=15)
    assert editable_until(POSTED, 0) is None
    assert edit_refusal("approved", POSTED, 15, POSTED + timedelta(minutes=15)) is None
    assert (
        edit_refusal("approved", POSTED, 15, POSTED + timedelta(minutes=15, seconds=1))
        == "edit-window-closed"
    )
    assert edit_refusal("approved", POSTED, 0, POSTED) == "edit-window-closed"
    assert edit_refusal("rejected", POSTED, 15, POSTED) == "comment-not-editable"
    assert edit_refusal("deleted", POSTED, 15, POSTED) == "comment-deleted"
    assert edit_refusal("held", POSTED, 15, POSTED) is None


@pytest.mark.parametrize(
    ("previous", "decided", "status"),
    [
        ("approved", "held", "held"),
        ("approved", "approved", "approved"),
        ("pending", "approved", "approved"),
        ("held", "approved", "held"),
        ("held", "pending", "held"),
        ("held", "rejected", "rejected"),
    ],
)
def test_an_edit_never_releases_a_held_comment(previous, decided, status):
    assert status_after_edit(previous, decided) == status
