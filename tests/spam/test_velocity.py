"""Comments per minute and per hour, and the network key."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.spam.velocity import UNKNOWN_NETWORK, VelocityLimits, judge_velocity, network_key, network_of

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LIMITS = VelocityLimits(per_minute=5, per_hour=30)
SECRET = b"network-key-secret"


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def test_under_the_limits_is_ok():
    for action in ("hold", "throttle"):
        verdict = judge_velocity(4, 29, LIMITS, action, now=NOW)
        assert verdict.outcome == "ok" and verdict.reasons == () and verdict.retry_after is None


def test_a_reader_commenting_at_a_normal_pace_is_never_stopped():
    # One comment every 2 minutes for an hour: at most 1 in any minute, 29 before the 30th.
    assert judge_velocity(1, 29, LIMITS, "throttle", now=NOW).outcome == "ok"


def test_over_the_minute_limit_holds_with_window_count_and_limit():
    verdict = judge_velocity(5, 12, LIMITS, "hold", now=NOW, oldest_in_minute=ago(40))
    assert verdict.outcome == "hold"
    assert [r.to_dict() for r in verdict.reasons] == [
        {"code": "velocity", "window": "minute", "count": 5, "limit": 5}
    ]
    assert verdict.retry_after is None


def test_over_both_limits_gives_both_reasons():
    verdict = judge_velocity(9, 30, LIMITS, "hold", now=NOW)
    assert [(r.window, r.count, r.limit) for r in verdict.reasons] == [("minute", 9, 5), ("hour", 30, 30)]


def test_throttle_waits_until_the_oldest_comment_leaves_the_minute():
    verdict = judge_velocity(5, 12, LIMITS, "throttle", now=NOW, oldest_in_minute=ago(40.2))
    assert verdict.outcome == "throttle"
    assert verdict.retry_after == 20
    assert verdict.reasons[0].window == "minute"


def test_throttle_on_the_hour_waits_for_the_hour():
    verdict = judge_velocity(0, 30, LIMITS, "throttle", now=NOW, oldest_in_hour=ago(3000))
    assert verdict.retry_after == 600


def test_throttle_over_both_waits_for_the_later_window():
    verdict = judge_velocity(
        5, 30, LIMITS, "throttle", now=NOW, oldest_in_minute=ago(59), oldest_in_hour=ago(1800)
    )
    assert verdict.retry_after == 1800


def test_retry_after_is_at_least_one_second_and_never_shorter_than_needed():
    assert judge_velocity(5, 0, LIMITS, "throttle", now=NOW, oldest_in_minute=ago(60)).retry_after == 1
    # Without the oldest timestamp, the whole window.
    assert judge_velocity(5, 0, LIMITS, "throttle", now=NOW).retry_after == 60
    assert judge_velocity(0, 30, LIMITS, "throttle", now=NOW).retry_after == 3600


def test_no_limit_means_no_limit():
    assert judge_velocity(1000, 1000, VelocityLimits(None, None), "hold", now=NOW).outcome == "ok"
    assert judge_velocity(1000, 10, VelocityLimits(None, 30), "hold", now=NOW).outcome == "ok"


def test_bad_limits_and_actions_are_refused():
    with pytest.raises(ValueError):
        VelocityLimits(0, 30)
    with pytest.raises(ValueError):
        judge_velocity(0, 0, LIMITS, "reject", now=NOW)


@given(st.integers(0, 100), st.integers(0, 1000), st.floats(0, 60), st.floats(0, 3600))
def test_throttle_retry_after_is_within_the_window(minute, hour, age_minute, age_hour):
    verdict = judge_velocity(
        minute,
        hour,
        LIMITS,
        "throttle",
        now=NOW,
        oldest_in_minute=ago(age_minute),
        oldest_in_hour=ago(age_hour),
    )
    over = minute >= 5 or hour >= 30
    assert (verdict.outcome == "throttle") == over
    if over:
        assert 1 <= verdict.retry_after <= 3600
        assert verdict.retry_after >= (60 - age_minute if minute >= 5 else 0)


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("203.0.113.0", "203.0.113.0/24"),
        (" 198.51.100.255 ", "198.51.100.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::ffff", "2001:db8:1:2::/64"),
        ("[2001:db8::1]", "2001:db8::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:203.0.113.9", "203.0.113.0/24"),
        ("::1", "::/64"),
    ],
)
def test_network_of(address, network):
    assert network_of(address) == network


@pytest.mark.parametrize(
    "garbage", ["", "unknown", "not an ip", "300.1.1.1", "1.2.3", "10.0.0.1, 10.0.0.2", None]
)
def test_garbage_addresses_share_one_bucket(garbage):
    assert network_of(garbage) == UNKNOWN_NETWORK


def test_ipv6_readers_on_one_slash_64_share_a_key_and_other_networks_do_not():
    home = network_key("2001:db8:aa:bb:1111:2222:3333:4444", SECRET)
    assert home == network_key("2001:db8:aa:bb::9", SECRET)
    assert home != network_key("2001:db8:aa:bc::9", SECRET)
    assert network_key("203.0.113.1", SECRET) == network_key("::ffff:203.0.113.200", SECRET)
    assert network_key("203.0.113.1", SECRET) != network_key("203.0.114.1", SECRET)


def test_network_key_is_a_keyed_hash_that_does_not_show_the_address():
    key = network_key("203.0.113.1", SECRET)
    assert len(key) == 64 and set(key) <= set("0123456789abcdef")
    assert key != network_key("203.0.113.1", b"another secret")
    assert key == network_key("203.0.113.1", SECRET.decode())


@given(st.ip_addresses())
def test_every_address_is_inside_its_network(address):
    network = ipaddress.ip_network(network_of(str(address)))
    ip = address.ipv4_mapped if getattr(address, "ipv4_mapped", None) else address
    assert ip in network
    assert network.prefixlen == (24 if network.version == 4 else 64)
