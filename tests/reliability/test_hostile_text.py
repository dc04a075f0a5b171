"""Hostile comment text: each is refused with a 4xx problem document, or stored exactly as
normalised and served back JSON-escaped. Never a 500."""

from __future__ import annotations

import json
import re
import unicodedata

import pytest
import requests

from service.moderation.text import normalise_text

from .conftest import comment_body

pytestmark = pytest.mark.slow

KIND = "Thanks for the thoughtful article about the library. "
HOSTILE = {
    "null bytes": KIND + "before\x00after",
    "right-to-left override": KIND + "file\u202egnp.exe \u2066isolate\u2069",
    "zalgo": KIND + "z\u0351\u0359\u0316\u0300\u0301a\u0361\u0362\u0363\u0364l\u0336\u0337g\u0338o",
    "emoji": KIND + "\U0001f600\U0001f469\u200d\U0001f4bb\U0001f1eb\U0001f1f7 \u2764\ufe0f",
    "control characters": KIND + "\x07bell \x1b[31mred\x1b[0m \x7f\x85\x9f tab\tend\r\nline",
    "very long word": "a" * 5000,
    "markup": KIND + "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&",
    "fullwidth and ligatures": KIND + "\uff21\uff22\uff23 \ufb01 \u2460",
    "only controls": "\x00\x01\x02\u202e",
    "too long": "b" * 5001,
}


UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def assert_clean(text: str) -> None:
    """What normalising promises, checked on its own (not by calling the same function)."""
    assert not UNSAFE.search(text), f"control, bidi-override or surrogate kept: {text!r}"
    assert unicodedata.is_normalized("NFKC", text)
    run = 0
    for char in text:
        run = run + 1 if unicodedata.combining(char) else 0
        assert run <= 3, f"zalgo kept: {text!r}"
    assert text == text.strip()


def problem(response: requests.Response) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == response.status_code
    return body


def read_back(server, seeded, comment_id: int, expected: str) -> None:
    moderated = requests.get(
        f"{server.url}/v1/moderation/comments/{comment_id}", headers=seeded.headers("admin"), timeout=10
    )
    assert moderated.status_code == 200, moderated.text
    assert moderated.json()["text"] == expected
    assert_clean(expected)
    if moderated.json()["status"] != "approved":
        return
    public = requests.get(
        f"{server.url}/v1/comments/{comment_id}", headers=seeded.headers("embed"), timeout=10
    )
    assert public.status_code == 200
    assert public.headers["Content-Type"] == "application/json"
    # Escaped for any reader: ASCII only, so no raw control, bidi or markup-breaking bytes.
    assert public.content.isascii(), public.content[:200]
    assert json.loads(public.content)["text"] == expected


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_text_is_refused_or_stored_as_normalised(sqlite_service, name):
    server, seeded = sqlite_service
    text = HOSTILE[name]
    response = requests.post(
        f"{server.url}/v1/comments", json=comment_body(text), headers=seeded.headers("embed"), timeout=30
    )
    if response.status_code == 201:
        read_back(server, seeded, response.json()["id"], normalise_text(text))
    else:
        problem(response)


def post_raw(server, seeded, data: bytes) -> requests.Response:
    return requests.post(
        f"{server.url}/v1/comments",
        data=data,
        headers={**seeded.headers("embed"), "Content-Type": "application/json"},
        timeout=30,
    )


def test_huge_body_is_413(sqlite_service):
    server, seeded = sqlite_service
    body = json.dumps(comment_body("x" * 200_000)).encode()
    assert problem(post_raw(server, seeded, body))["status"] == 413


def test_invalid_utf8_is_refused(sqlite_service):
    server, seeded = sqlite_service
    body = json.dumps(comment_body("PLACEHOLDER")).encode().replace(b"PLACEHOLDER", b"bad \xff\xfe\xc3(")
    problem(post_raw(server, seeded, body))


@pytest.mark.parametrize("escape", [r"\ud800", r"\udfff", r"ok \ud83d then"])
def test_lone_surrogates_are_refused_or_dropped(sqlite_service, escape):
    server, seeded = sqlite_service
    body = json.dumps(comment_body(KIND + "PLACEHOLDER")).encode().replace(b"PLACEHOLDER", escape.encode())
    response = post_raw(server, seeded, body)
    if response.status_code == 201:
        stored = requests.get(
            f"{server.url}/v1/moderation/comments/{response.json()['id']}",
            headers=seeded.headers("admin"),
            timeout=10,
        ).json()["text"]
        assert all(not 0xD800 <= ord(c) <= 0xDFFF for c in stored)
    else:
        problem(response)


@pytest.mark.parametrize("depth", [100, 5000, 50_000])
def test_deeply_nested_json_is_refused(sqlite_service, depth):
    server, seeded = sqlite_service
    nested = b"[" * depth + b"]" * depth
    body = json.dumps(comment_body("PLACEHOLDER")).encode().replace(b'"PLACEHOLDER"', nested)
    problem(post_raw(server, seeded, body))


def test_thread_of_hostile_comments_is_json_escaped(sqlite_service):
    server, seeded = sqlite_service
    response = requests.get(
        f"{server.url}/v1/articles/a1/comments?limit=100", headers=seeded.headers("embed"), timeout=10
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.content.isascii()
    assert "<script>" in response.content.decode()  # escaped on output by the embed, served as data
