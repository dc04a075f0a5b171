"""The admin API: sites, policies and keys."""

from __future__ import annotations

import pytest


@pytest.fixture
def admin(factory):
    factory.site()
    return factory.headers(factory.key("admin", site=None), origin=None)


def test_create_site_and_change_its_policy(client, admin):
    created = client.post(
        "/v1/admin/sites",
        json={"slug": "gazette", "name": "The Gazette", "allowed_origins": ["https://Gazette.example/"]},
        headers=admin,
    )
    assert created.status_code == 201
    site = created.get_json()
    assert site["allowed_origins"] == ["https://gazette.example"]
    assert site["policy"]["thresholds"]["toxicity"] == {"hold": 0.5, "reject": None}

    patched = client.patch(
        "/v1/admin/sites/gazette",
        json={"policy": {"thresholds": {"insult": {"hold": 0.7, "reject": 0.95}}, "premoderation": True}},
        headers=admin,
    ).get_json()
    assert patched["policy"]["thresholds"]["insult"] == {"hold": 0.7, "reject": 0.95}
    assert patched["policy"]["premoderation"] is True
    # Keys not given stay as they were.
    assert (
        client.patch("/v1/admin/sites/gazette", json={"name": "Gazette"}, headers=admin).get_json()["policy"][
            "premoderation"
        ]
        is True
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "Bad Slug", "name": "x"}, "slug"),
        ({"slug": "ok-slug", "name": ""}, "name"),
        (
            {"slug": "ok-slug", "name": "x", "allowed_origins": ["https://a.example/path"]},
            "allowed_origins.0",
        ),
        ({"slug": "ok-slug", "name": "x", "allowed_origins": ["ftp://a.example"]}, "allowed_origins.0"),
        (
            {"slug": "ok-slug", "name": "x", "policy": {"thresholds": {"rudeness": {"hold": 0.5}}}},
            "policy.thresholds.rudeness",
        ),
        (
            {"slug": "ok-slug", "name": "x", "policy": {"thresholds": {"insult": {"hold": 1.5}}}},
            "policy.thresholds.insult.hold",
        ),
        (
            {
                "slug": "ok-slug",
                "name": "x",
                "policy": {"thresholds": {"insult": {"hold": 0.8, "reject": 0.5}}},
            },
            "policy.thresholds.insult.hold",
        ),
        ({"slug": "ok-slug", "name": "x", "policy": {"banned_words": ["x" * 101]}}, "policy.banned_words.0"),
    ],
)
def test_invalid_site_is_422_naming_the_field(client, admin, body, field):
    response = client.post("/v1/admin/sites", json=body, headers=admin)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.get_json()["errors"]], response.get_json()


def test_duplicate_slug_is_409(client, admin):
    response = client.post("/v1/admin/sites", json={"slug": "daily", "name": "Again"}, headers=admin)
    assert response.status_code == 409


def test_embed_key_needs_a_site(client, admin):
    response = client.post("/v1/admin/keys", json={"role": "embed"}, headers=admin)
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "site"


def test_new_origin_applies_at_once(client, admin, factory):
    embed = factory.key("embed")
    body = factory.comment_body()
    assert (
        client.post(
            "/v1/comments", json=body, headers=factory.headers(embed, origin="https://m.news.example")
        ).status_code
        == 403
    )
    client.patch(
        "/v1/admin/sites/daily",
        json={"allowed_origins": ["https://news.example", "https://m.news.example"]},
        headers=admin,
    )
    assert (
        client.post(
            "/v1/comments", json=body, headers=factory.headers(embed, origin="https://m.news.example")
        ).status_code
        == 201
    )


def test_method_not_allowed_keeps_allow_header(client, admin):
    response = client.put("/v1/admin/sites", headers=admin)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"] and response.get_json()["status"] == 405


def test_unknown_route_is_a_problem_document(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
