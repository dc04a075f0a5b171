"""The account rules on plain values: lockout counting, session lifetimes, TOTP, reset links, passwords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.accounts import lockout, passwords, reset, sessions, totp

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_the_fifth_failure_locks_for_fifteen_minutes_and_the_count_starts_again():
    counter = None
    for _ in range(4):
        counter = lockout.after_failure(counter, NOW, lockout.ACCOUNT_FAILURES)
        assert lockout.locked_for(counter, NOW) == 0
    counter = lockout.after_failure(counter, NOW, lockout.ACCOUNT_FAILURES)
    assert lockout.locked_for(counter, NOW) == 15 * 60
    assert lockout.locked_for(counter, NOW + timedelta(minutes=15)) == 0
    after = lockout.after_failure(counter, NOW + timedelta(minutes=16), lockout.ACCOUNT_FAILURES)
    assert after.failures == 1 and lockout.locked_for(after, NOW + timedelta(minutes=16)) == 0


def test_failures_spread_beyond_the_window_never_lock():
    counter = None
    for minute in range(0, 100, 16):
        counter = lockout.after_failure(counter, NOW + timedelta(minutes=minute), lockout.ACCOUNT_FAILURES)
        assert counter.locked_until is None


@given(st.integers(min_value=0, max_value=24 * 60))
def test_a_session_lasts_while_used_and_never_past_twelve_hours(minutes_old):
    created = NOW - timedelta(minutes=minutes_old)
    expected = "absolute" if minutes_old >= 12 * 60 else None
    assert sessions.expired(created, NOW, NOW) == expected
    idle = sessions.expired(created, NOW - timedelta(minutes=60), NOW)
    assert idle == (expected or "idle")


def test_a_totp_code_is_good_once_and_within_one_step_of_now():
    secret = totp.new_secret()
    now = 1_800_000_015.0
    step = int(now // 30)
    code = pyotp.TOTP(secret).at(now)
    assert totp.accepted_step(secret, code, now, None) == step
    assert totp.accepted_step(secret, code, now, step) is None  # replayed
    assert totp.accepted_step(secret, code, now + 30, None) == step  # typed as it rolled over
    assert totp.accepted_step(secret, code, now + 90, None) is None  # too old
    assert totp.accepted_step(secret, "12345", now, None) is None
    assert totp.accepted_step(secret, "abcdef", now, None) is None


def test_reset_tokens_carry_the_account_and_the_password_fingerprint():
    token = reset.make_token("secret", 7, "hash-1")
    assert reset.read_token("secret", token) == (7, reset.fingerprint("hash-1"))
    assert reset.fingerprint("hash-1") != reset.fingerprint("hash-2")
    with pytest.raises(reset.ResetLinkInvalid, match="not valid"):
        reset.read_token("another secret", token)
    with pytest.raises(reset.ResetLinkInvalid, match="expired"):
        reset.read_token("secret", token, max_age=-1)


def test_passwords_are_argon2id_hashes_that_verify_only_the_password():
    hashed = passwords.hash_password("a long enough password")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "a long enough password")
    assert not passwords.verify_password(hashed, "a long enough passwor")
    assert not passwords.verify_password(None, "anything at all")
    assert not passwords.verify_password("not a hash", "anything at all")
    assert not passwords.needs_rehash(hashed)
    assert passwords.password_problem("short") == "must be at least 12 characters"
    assert passwords.password_problem(" " * 12) == "must not be only spaces"
    assert passwords.password_problem("x" * 201) == "must be at most 200 characters"
