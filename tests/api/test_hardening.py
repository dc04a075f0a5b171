"""Hardening (issue 14): hostile input is a 4xx problem document naming the field, framework errors
speak the API's error language, every answer carries the usual safety headers, /metrics is private."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.db import Comment, Site
from service.extensions import db

SURROGATE = "\ud800"


def field_error(response, field: str, status: int = 422) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "validation-error" and body["type"] == "/problems/validation-error"
    assert field in [e["field"] for e in body["errors"]], body
    return body


@pytest.fixture
def admin(factory, embed_key):
    return factory.headers(factory.key("admin", site=None), origin=None)


def stored_comments(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Comment))


# -- 1. lone surrogates -------------------------------------------------------------------------


def _put(body: dict, dotted: str, value) -> dict:
    *parents, last = dotted.split(".")
    node = body
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = value
    return body


@pytest.mark.parametrize(
    "field",
    [
        "article.url",
        "article.id",
        "article.title",
        "author.name",
        "author.email",
        "author.user_id",
        "text",
        "reader_token",
        "article_token",
        "render_token",
        "honeypot",
        "idempotent.surprise",  # a field the schema does not know is refused the same way
    ],
)
def test_lone_surrogate_in_a_comment_is_422_naming_the_field(client, factory, embed_key, app, field):
    value = f"https://news.example/{SURROGATE}" if field == "article.url" else f"ok {SURROGATE} ok"
    body = _put(factory.comment_body(), field, value)
    field_error(client.post("/v1/comments", json=body, headers=factory.headers(embed_key)), field)
    assert stored_comments(app) == 0


def test_lone_surrogate_in_a_decision_reason_is_422(client, factory, embed_key, admin, insult_text):
    held = factory.post(embed_key, text=insult_text).get_json()["id"]
    response = client.post(
        f"/v1/moderation/comments/{held}/decision",
        json={"status": "rejected", "reason": SURROGATE},
        headers=admin,
    )
    field_error(response, "reason")


def test_lone_surrogate_in_a_report_reason_is_422(client, factory, embed_key):
    published = factory.post(embed_key).get_json()["id"]
    response = client.post(
        f"/v1/comments/{published}/reports",
        json={"reason": f"spam{SURROGATE}", "note": "x"},
        headers=factory.headers(embed_key),
    )
    field_error(response, "reason")


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"banned_words": ["fine", f"bad{SURROGATE}"]}, "policy.banned_words.1"),
        ({"suspect_words": [SURROGATE]}, "policy.suspect_words.0"),
        ({"rejection_reasons": [f"spam{SURROGATE}"]}, "policy.rejection_reasons.0"),
        ({"thresholds": {f"insult{SURROGATE}": {"hold": 0.5}}}, "policy.thresholds"),
    ],
)
def test_lone_surrogate_in_a_policy_is_422(client, admin, app, policy, field):
    response = client.patch("/v1/admin/sites/daily", json={"policy": policy}, headers=admin)
    field_error(response, field)
    with app.app_context():
        assert "fine" not in db.session.scalar(sa.select(Site.policy).where(Site.slug == "daily")).get(
            "banned_words", []
        )


def test_lone_surrogate_in_a_site_or_webhook_is_422(client, admin):
    created = client.post("/v1/admin/sites", json={"slug": "gazette", "name": f"G{SURROGATE}"}, headers=admin)
    field_error(created, "name")
    hook = client.post(
        "/v1/admin/sites/daily/webhooks", json={"url": f"https://hooks.example/{SURROGATE}"}, headers=admin
    )
    field_error(hook, "url")


def test_escaped_surrogate_pairs_are_still_welcome(client, factory, embed_key):
    """Emoji arrive escaped as a surrogate pair (a valid code point): only a lone half is refused."""
    response = client.post(
        "/v1/comments",
        data=b'{"article": {"id": "a1", "url": "https://news.example/a1", "title": "A"},'
        b' "author": {"name": "Ada"}, "text": "Nice \\ud83d\\ude00 piece, thanks for it."}',
        content_type="application/json",
        headers=factory.headers(embed_key),
    )
    assert response.status_code == 201, response.get_json()


# -- 2. invisible comments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "\u200b",
        "\u200b\u200c\u200d\u2060\ufeff",
        " \u200b \n\t\u2060 ",
        "\u00ad\u180e\u2061\u2062\u2063\u2064",  # soft hyphen, Mongolian separator, invisible operators
        "\u3164\u115f\u1160\uffa0",  # Hangul fillers
        "\u2800\u034f\ufe0f",  # braille blank, grapheme joiner, variation selector
        "\U000e0020\U000e0041\U000e007f",  # tag characters
        "\u2028\u2029\u3000\u00a0",
    ],
)
def test_comment_of_only_invisible_characters_is_refused(client, factory, embed_key, app, text):
    body = field_error(factory.post(embed_key, text=text), "text")
    assert "invisible" in body["errors"][0]["message"]
    assert stored_comments(app) == 0


def test_invisible_author_name_is_refused(client, factory, embed_key):
    body = factory.comment_body()
    body["author"]["name"] = "\u200b\u2060"
    field_error(client.post("/v1/comments", json=body, headers=factory.headers(embed_key)), "author.name")


@pytest.mark.parametrize("text", ["ok\u200b", "\u200b👍", "\u0915\u094d\u200d\u0937"])
def test_text_with_something_visible_is_taken(factory, embed_key, text):
    assert factory.post(embed_key, text=text).status_code == 201


# -- 4. framework errors ------------------------------------------------------------------------


def problem_with_code(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"] == f"/problems/{code}"
    return body


def test_unknown_route_has_a_code(client):
    problem_with_code(client.get("/v1/no-such-thing"), 404, "not-found")


def test_wrong_method_has_a_code_and_keeps_allow(client, admin):
    response = client.put("/v1/admin/sites", headers=admin)
    problem_with_code(response, 405, "method-not-allowed")
    assert "GET" in response.headers["Allow"]


def test_too_large_body_has_a_code(client, factory, embed_key):
    body = factory.comment_body(text="x" * 100_000)
    response = client.post("/v1/comments", json=body, headers=factory.headers(embed_key))
    problem_with_code(response, 413, "body-too-large")


def test_invalid_json_has_a_code(client, factory, embed_key):
    response = client.post(
        "/v1/comments", data=b"{not json", content_type="application/json", headers=factory.headers(embed_key)
    )
    assert response.status_code == 400
    assert response.get_json()["code"] and response.get_json()["type"] != "about:blank"


class TestRateLimited:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "RATELIMIT_REPORT": "1 per minute"}

    def test_flask_limiter_429_has_a_code_and_retry_after(self, client, factory, embed_key):
        published = factory.post(embed_key).get_json()["id"]
        url = f"/v1/comments/{published}/reports"
        client.post(url, json={"reason": "spam"}, headers=factory.headers(embed_key))
        response = client.post(url, json={"reason": "abuse"}, headers=factory.headers(embed_key))
        problem_with_code(response, 429, "too-many-requests")
        assert int(response.headers["Retry-After"]) >= 1


def test_every_werkzeug_error_has_a_code(app):
    """Any HTTPException a library raises becomes a problem document with a code."""
    from werkzeug.exceptions import default_exceptions

    from service.errors import handle_http_exception

    with app.test_request_context("/"):
        for status, exception in default_exceptions.items():
            body = handle_http_exception(exception()).get_json()
            assert body["status"] == status
            assert body["code"] and body["type"] == f"/problems/{body['code']}", body


# -- 5. headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/v1/articles/a1/comments", "/healthz", "/openapi.json", "/v1/no-such-thing", "/embed.js"]
)
def test_every_answer_says_nosniff(client, factory, embed_key, path):
    response = client.get(path, headers=factory.headers(embed_key))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_errors_and_posts_say_nosniff(client, factory, embed_key):
    assert factory.post(embed_key).headers["X-Content-Type-Options"] == "nosniff"
    assert client.post("/v1/comments", json={}).headers["X-Content-Type-Options"] == "nosniff"


# -- 6. strict integers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [lambda i: i + 0.5, float, lambda i: True, str, lambda i: [i], lambda i: {"id": i}],
    ids=["1.5", "1.0", "true", "string", "list", "object"],
)
def test_parent_id_must_be_an_integer(factory, embed_key, app, spelling):
    parent = factory.post(embed_key).get_json()["id"]
    field_error(factory.post(embed_key, parent_id=spelling(parent)), "parent_id")
    assert stored_comments(app) == 1


@pytest.mark.parametrize("value", [10.5, True, "10"])
def test_policy_integers_are_strict(client, admin, value):
    response = client.patch(
        "/v1/admin/sites/daily", json={"policy": {"velocity_per_minute": value}}, headers=admin
    )
    field_error(response, "policy.velocity_per_minute")


def test_bulk_decision_ids_are_strict(client, factory, embed_key, admin, insult_text):
    held = factory.post(embed_key, text=insult_text).get_json()["id"]
    for bad in (held + 0.5, True, str(held)):
        response = client.post(
            "/v1/moderation/decisions", json={"decisions": [{"id": bad, "status": "approved"}]}, headers=admin
        )
        field_error(response, "decisions.0.id")
    response = client.post(
        "/v1/moderation/decisions",
        json={"decisions": [{"id": held, "version": 1.5, "status": "approved"}]},
        headers=admin,
    )
    field_error(response, "decisions.0.version")


@pytest.mark.parametrize("limit", ["1.5", "true", "1_0", " 10", "\u0661"])
def test_query_integers_are_plain_digits(client, factory, embed_key, limit):
    response = client.get(
        "/v1/articles/a1/comments", query_string={"limit": limit}, headers=factory.headers(embed_key)
    )
    field_error(response, "limit")


def _argument_schemas(app):
    """(location, schema) of every route's arguments, as flask-smorest recorded them."""
    for view in app.view_functions.values():
        view_class = getattr(view, "view_class", None)
        methods = [getattr(view_class, m.lower()) for m in view_class.methods] if view_class else [view]
        for method in methods:
            apidoc = getattr(method, "_apidoc", None) or {}
            for argument in apidoc.get("arguments", {}).get("parameters", []):
                yield argument["in"], argument["schema"]


def _integer_fields(schema, prefix=""):
    from marshmallow import fields

    for name, field in schema.fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(field, fields.Dict) and isinstance(field.value_field, fields.Nested):
            inner = field.value_field
        if isinstance(inner, fields.Nested):
            yield from _integer_fields(inner.schema, f"{prefix}{name}.")
        elif isinstance(inner, fields.Integer):
            yield f"{prefix}{name}", inner


def test_every_integer_argument_is_strict(app):
    """A guard for fields added later: every integer a request may carry refuses 1.5, true and, in
    a JSON body, "1"."""
    from service.schemas.common import QueryInteger, StrictInteger

    checked = set()
    for location, schema in _argument_schemas(app):
        for name, field in _integer_fields(schema):
            checked.add(f"{location}:{name}")
            expected = StrictInteger if location == "json" else QueryInteger
            assert isinstance(field, expected), f"{type(schema).__name__}.{name} ({location}) is not strict"
    assert {"json:parent_id", "json:decisions.id", "query:limit"} <= checked


# -- 7. /metrics --------------------------------------------------------------------------------

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def test_metrics_are_refused_to_the_outside(client):
    response = client.get("/metrics", environ_base=OUTSIDE)
    problem_with_code(response, 401, "unauthorized")
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_metrics_are_refused_through_a_local_proxy(client):
    """A reverse proxy on the same machine makes every caller look like loopback."""
    response = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 401


def test_metrics_are_open_to_loopback_without_a_token(client):
    assert client.get("/metrics").status_code == 200


def test_metrics_take_an_admin_key_for_every_site(client, factory, embed_key):
    every_site = factory.key("admin", site=None)
    assert (
        client.get(
            "/metrics", headers=factory.headers(every_site, origin=None), environ_base=OUTSIDE
        ).status_code
        == 200
    )
    one_site = factory.key("admin")
    response = client.get("/metrics", headers=factory.headers(one_site, origin=None), environ_base=OUTSIDE)
    problem_with_code(response, 403, "forbidden")
    moderator = factory.key("moderator", site=None)
    assert (
        client.get(
            "/metrics", headers=factory.headers(moderator, origin=None), environ_base=OUTSIDE
        ).status_code
        == 403
    )


class TestMetricsToken:
    @pytest.fixture
    def app_config(self):
        return {"METRICS_TOKEN": "scrape-secret-123"}

    def test_the_token_opens_metrics(self, client):
        headers = {"Authorization": "Bearer scrape-secret-123"}
        response = client.get("/metrics", headers=headers, environ_base=OUTSIDE)
        assert response.status_code == 200 and b"http_requests_total" in response.data

    def test_with_a_token_set_loopback_needs_it_too(self, client):
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
