"""Finding links in comments, and the link rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.spam import links
from service.spam.links import (
    SHORTENERS,
    find_links,
    judge_links,
    normalise_domain,
    registrable_domain,
)


def urls(text: str) -> list[str]:
    return [link.url for link in find_links(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("read https://example.com/story?id=3 first", ["https://example.com/story?id=3"]),
        ("HTTP://Example.COM", ["HTTP://Example.COM"]),
        ("go to www.example.org now", ["www.example.org"]),
        ("buy at cheap-pills.ru today", ["cheap-pills.ru"]),
        ("deals on shop.example.com/deal", ["shop.example.com/deal"]),
        ("see bit.ly/3xYz", ["bit.ly/3xYz"]),
        ("two: a.com and https://b.net/x", ["a.com", "https://b.net/x"]),
        ("CHEAP-PILLS.RU!!!", ["CHEAP-PILLS.RU"]),
    ],
)
def test_links_are_found(text, expected):
    assert urls(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Taxes, e.g. the new levy, hit the U.S. hardest.",
        "Version 3.5 is out; inflation was 2.4% in 2023.",
        "That was the end.Next time, read it.",
        "I read to the end.It was good.",
        "Run setup.py and read readme.md first.",
        "Mr.Smith and Dr.Jones agreed, i.e. nobody objected...",
        "Write to me@example.com if you like.",
        "A.B.C. and a.m. and p.m. are not links.",
    ],
)
def test_ordinary_words_with_dots_are_not_links(text):
    assert find_links(text) == []


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("Visit https://example.com.", "https://example.com"),
        ("(see https://example.com/a)", "https://example.com/a"),
        (
            "https://en.wikipedia.org/wiki/Python_(language), said he",
            "https://en.wikipedia.org/wiki/Python_(language)",
        ),
        ('He wrote "https://example.com/x"!', "https://example.com/x"),
        ("lists: cheap-pills.ru, fake.shop; x", "cheap-pills.ru"),
    ],
)
def test_trailing_punctuation_is_not_part_of_the_link(text, url):
    assert urls(text)[0] == url


def test_offsets_point_at_the_link_in_the_text():
    text = "Great piece. Also see https://news.example.co.uk/a/b, it is good."
    (link,) = find_links(text)
    assert text[link.start : link.end] == link.url == "https://news.example.co.uk/a/b"
    assert (link.host, link.domain) == ("news.example.co.uk", "example.co.uk")


def test_hosts_are_lower_case_and_idna_decoded():
    (a, b, c) = find_links("http://XN--BCHER-KVA.de/x www.Bücher.DE cheap。pills。ru")
    assert (a.host, b.host, b.domain) == ("bücher.de", "www.bücher.de", "bücher.de")
    assert c.host == "cheap.pills.ru" and c.url == "cheap。pills。ru"


def test_user_info_does_not_hide_the_host():
    (link,) = find_links("log in at http://bank.example.com@evil.ru/login")
    assert link.host == "evil.ru"


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("example.com", "example.com"),
        ("a.b.example.com", "example.com"),
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("shop.example.com.au", "example.com.au"),
        ("www.example.co.jp", "example.co.jp"),
        ("co.uk", "co.uk"),
        ("localhost", "localhost"),
        ("192.0.2.7", "192.0.2.7"),
    ],
)
def test_registrable_domain(host, domain):
    assert registrable_domain(host) == domain


def test_list_entries_are_normalised_as_sites_write_them():
    assert normalise_domain(" https://WWW.Example.com:443/path ") == "www.example.com"
    assert normalise_domain("*.example.com") == "example.com"
    assert normalise_domain(".xn--bcher-kva.de.") == "bücher.de"


def test_common_shorteners_are_known():
    assert {"bit.ly", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "is.gd", "buff.ly"} <= SHORTENERS
    assert {"rebrand.ly", "cutt.ly", "shorturl.at", "tiny.cc"} <= SHORTENERS


def judge(text, *, allowed=(), blocked=(), new=False, anonymous=False):
    return judge_links(
        find_links(text),
        allowed_domains=allowed,
        blocked_domains=blocked,
        reader_is_new=new,
        anonymous=anonymous,
    )


def test_friendly_comment_with_allowed_link_from_known_reader_passes():
    text = "Thanks for this! The council minutes are at https://www.example.gov/minutes (page 4)."
    assert judge(text, allowed=["example.gov"]) == []
    assert judge(text, allowed=["example.gov"], new=True) == []
    assert judge(text, allowed=["example.gov"], anonymous=True) == []


def test_known_reader_may_link_to_unlisted_domains():
    assert judge("Source: https://data.example.org/table.csv") == []


def test_links_from_new_or_anonymous_readers_to_unlisted_domains_are_held_with_offsets():
    text = "Earn $500/day at cheap-jobs.example.net/apply now"
    for who in ({"new": True}, {"anonymous": True}):
        (reason,) = judge(text, allowed=["example.org"], **who)
        assert reason.code == "link_from_new_reader"
        assert reason.to_dict() == {
            "code": "link_from_new_reader",
            "domain": "example.net",
            "start": 17,
            "end": 45,
        }
        assert text[reason.start : reason.end] == "cheap-jobs.example.net/apply"


def test_allowed_domains_cover_their_subdomains_only():
    assert judge("see https://news.example.org/x", allowed=["example.org"], new=True) == []
    (reason,) = judge("see https://example.org.evil.ru/x", allowed=["example.org"], new=True)
    assert reason.domain == "evil.ru"
    (reason,) = judge("see https://notexample.org/x", allowed=["example.org"], new=True)
    assert reason.code == "link_from_new_reader"


def test_blocked_domains_and_their_subdomains_are_flagged_for_everyone():
    (reason,) = judge("visit https://promo.spam.example/x", blocked=["spam.example"])
    assert reason.code == "link_blocked_domain"
    assert reason.to_dict()["word"] == "spam.example"


def test_the_most_specific_blocked_entry_is_named_and_empty_entries_match_nothing():
    (reason,) = judge("see https://a.bad.example.com/x", blocked=["example.com", "bad.example.com", ""])
    assert reason.word == "bad.example.com"
    (reason,) = judge("see https://example.org/x", allowed=["", " ", "*."], new=True)
    assert reason.code == "link_from_new_reader"


def test_blocked_wins_over_allowed():
    (reason,) = judge("see bad.example.com/x", allowed=["example.com"], blocked=["bad.example.com"])
    assert reason.code == "link_blocked_domain"


def test_shorteners_are_never_allowed_for_new_readers_even_if_listed():
    (reason,) = judge("look https://bit.ly/abc", allowed=["bit.ly"], anonymous=True)
    assert reason.code == "link_shortener"
    assert reason.domain == "bit.ly"
    assert judge("look https://bit.ly/abc") == []


def test_one_reason_per_link():
    reasons = judge("a.com and b.ru/x and https://t.co/y", new=True)
    assert [r.code for r in reasons] == ["link_from_new_reader", "link_from_new_reader", "link_shortener"]


@given(st.text())
def test_find_links_never_fails_and_offsets_match(text):
    for link in find_links(text):
        assert text[link.start : link.end] == link.url
        assert link.host == link.host.lower()
        assert link.domain and link.host.endswith(link.domain)


@given(st.lists(st.sampled_from(["the", "end.", "It", "e.g.", "3.5", "U.S.", "a", "word", ",", "i.e."])))
def test_prose_with_dots_has_no_links(words):
    assert find_links(" ".join(words)) == []


@given(st.text(alphabet="ab.-/:@ (),\u3002é1hwtpsx", max_size=80))
def test_scanning_only_likely_words_finds_every_link(text):
    assert find_links(text) == links._links_in(text, text.translate(links._DOTS), 0, len(text))
