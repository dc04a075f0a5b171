"""Keys, roles, sites and origins: who may call what."""

from __future__ import annotations

import pytest

ROUTES = [
    # (method, path, json, roles allowed)
    ("POST", "/v1/comments", "comment", {"embed"}),
    ("GET", "/v1/articles/a1/comments", None, {"embed"}),
    ("GET", "/v1/comments/1", None, {"embed"}),
    ("GET", "/v1/admin/sites", None, {"admin"}),
    ("POST", "/v1/admin/sites", {"slug": "new-site", "name": "New"}, {"admin"}),
    ("GET", "/v1/admin/sites/daily", None, {"admin"}),
    ("PATCH", "/v1/admin/sites/daily", {"name": "Daily"}, {"admin"}),
    ("PATCH", "/v1/admin/sites/daily/articles/a1", {"closed": False}, {"moderator", "admin"}),
    ("GET", "/v1/admin/sites/daily/articles/a1", None, {"moderator", "admin"}),
    ("GET", "/v1/moderation/comments/1/notes", None, {"moderator", "admin"}),
    ("POST", "/v1/moderation/comments/1/notes", {"text": "Seen."}, {"moderator", "admin"}),
    ("GET", "/v1/admin/keys", None, {"admin"}),
    ("POST", "/v1/admin/keys", {"role": "moderator", "site": "daily"}, {"admin"}),
    ("DELETE", "/v1/admin/keys/999", None, {"admin"}),
]


@pytest.fixture
def keys(factory):
    factory.site()
    keys = {role: factory.key(role) for role in ("embed", "moderator")}
    keys["admin"] = factory.key("admin", site=None)
    factory.post(keys["embed"])  # comment 1, article a1
    return keys


def call(client, factory, method, path, body, key):
    if body == "comment":
        body = factory.comment_body(text="Another friendly note.")
    headers = factory.headers(key) if key else {"Origin": "https://news.example"}
    return client.open(path, method=method, json=body, headers=headers)


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES]
)
def test_role_matrix(client, factory, keys, method, path, body, allowed):
    for role, key in keys.items():
        response = call(client, factory, method, path, body, key)
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.get_json())
        else:
            assert response.status_code == 403, (role, response.get_json())
            assert response.get_json()["code"] == "forbidden"


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES]
)
def test_missing_or_unknown_key_is_401(client, factory, keys, method, path, body, allowed):
    for key in (None, "pk_not-a-real-key"):
        response = call(client, factory, method, path, body, key)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["code"] == "unauthorized"


def test_embed_key_only_works_from_allowed_origins(client, factory, keys):
    body = factory.comment_body()
    for origin in ("https://evil.example", "https://news.example.evil.example", "http://news.example"):
        response = client.post(
            "/v1/comments", json=body, headers=factory.headers(keys["embed"], origin=origin)
        )
        assert response.status_code == 403, origin
    no_origin = client.post("/v1/comments", json=body, headers=factory.headers(keys["embed"], origin=None))
    assert no_origin.status_code == 403
    # Same-origin GETs come without an Origin header.
    assert (
        client.get(
            "/v1/articles/a1/comments", headers=factory.headers(keys["embed"], origin=None)
        ).status_code
        == 200
    )


def test_cors_preflight_allows_the_embed_headers(client):
    response = client.options(
        "/v1/comments",
        headers={
            "Origin": "https://news.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert response.status_code == 200
    assert "idempotency-key" in response.headers["Access-Control-Allow-Headers"].lower()
    assert response.headers["Access-Control-Allow-Origin"] == "https://news.example"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    # A header the embed never sends is not allowed: the browser then refuses the request.
    odd = client.options(
        "/v1/comments",
        headers={
            "Origin": "https://news.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, x-forwarded-for",
        },
    )
    assert "Access-Control-Allow-Headers" not in odd.headers


def test_cors_answers_the_embed_endpoints_only(client, factory, keys):
    page = {"Origin": "https://elsewhere.example"}
    thread = client.get("/v1/articles/a1/comments", headers=page)
    # Any page may ask (each key checks its own origins); the answer names the asking origin.
    assert thread.headers["Access-Control-Allow-Origin"] == "https://elsewhere.example"
    assert "Origin" in thread.headers.get_all("Vary")
    assert "ETag" in thread.headers["Access-Control-Expose-Headers"]
    # The admin and moderation API tells browsers nothing: no page may call it.
    admin = client.get("/v1/admin/sites", headers={**page, "Authorization": f"Bearer {keys['admin']}"})
    assert admin.status_code == 200 and "Access-Control-Allow-Origin" not in admin.headers
    assert "Access-Control-Allow-Origin" not in client.get("/v1/moderation/queue", headers=page).headers


def test_site_bound_keys_cannot_reach_other_sites(client, factory, keys):
    factory.site("rival")
    rival_admin = factory.key("admin", "rival")
    rival_moderator = factory.key("moderator", "rival")
    h = lambda key: factory.headers(key, origin=None)  # noqa: E731
    assert client.get("/v1/admin/sites/daily", headers=h(rival_admin)).status_code == 404
    assert [s["slug"] for s in client.get("/v1/admin/sites", headers=h(rival_admin)).get_json()] == ["rival"]
    assert (
        client.patch(
            "/v1/admin/sites/daily/articles/a1", json={"closed": True}, headers=h(rival_moderator)
        ).status_code
        == 404
    )
    assert client.post("/v1/admin/keys", json={"role": "admin"}, headers=h(rival_admin)).status_code == 403
    assert (
        client.post(
            "/v1/admin/sites", json={"slug": "x-site", "name": "X"}, headers=h(rival_admin)
        ).status_code
        == 403
    )


def test_revoked_key_stops_working(client, factory, keys):
    admin = factory.headers(keys["admin"], origin=None)
    created = client.post(
        "/v1/admin/keys", json={"role": "moderator", "site": "daily", "name": "temp"}, headers=admin
    ).get_json()
    secret = created["key"]
    assert secret.startswith("sk_mod_")
    assert (
        client.patch(
            "/v1/admin/sites/daily/articles/a1",
            json={"closed": False},
            headers=factory.headers(secret, origin=None),
        ).status_code
        == 200
    )
    assert client.delete(f"/v1/admin/keys/{created['id']}", headers=admin).get_json()["revoked_at"]
    assert (
        client.patch(
            "/v1/admin/sites/daily/articles/a1",
            json={"closed": False},
            headers=factory.headers(secret, origin=None),
        ).status_code
        == 401
    )


def test_keys_are_stored_hashed_and_never_listed(client, factory, keys, app):
    import sqlalchemy as sa

    from service.db import ApiKey
    from service.extensions import db

    listed = client.get("/v1/admin/keys", headers=factory.headers(keys["admin"], origin=None)).get_json()
    assert all("key" not in k for k in listed)
    with app.app_context():
        stored = db.session.execute(sa.select(ApiKey.key_hash, ApiKey.prefix)).all()
    for secret in keys.values():
        assert all(secret != h and secret != p for h, p in stored)
