"""The endpoints API: secrets shown once, validation, the SSRF guard at creation, roles, sites."""

from __future__ import annotations

import pytest

PUBLIC_URL = "https://93.184.215.14/hooks"


def test_create_shows_the_secret_once(client, admin_headers, make_endpoint):
    created = make_endpoint(PUBLIC_URL, ["comment.held"])
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["comment.held"]
    assert created["enabled"] is True and created["disabled_reason"] is None

    read = client.get(f"/v1/admin/webhooks/{created['id']}", headers=admin_headers).get_json()
    listed = client.get("/v1/admin/sites/daily/webhooks", headers=admin_headers).get_json()
    assert "secret" not in read and all("secret" not in e for e in listed)
    assert [e["id"] for e in listed] == [created["id"]]


def test_event_types_default_to_all(make_endpoint):
    from service.webhooks.endpoints import EVENT_TYPES

    assert make_endpoint(PUBLIC_URL)["event_types"] == list(EVENT_TYPES)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": PUBLIC_URL, "event_types": ["comment.eaten"]}, "event_types.0"),
        ({"url": PUBLIC_URL, "event_types": []}, "event_types"),
        ({"event_types": ["comment.held"]}, "url"),
        ({"url": "ftp://93.184.215.14/x"}, "url"),
        ({"url": "not a url"}, "url"),
    ],
)
def test_invalid_endpoints_are_refused(client, admin_headers, body, field):
    response = client.post("/v1/admin/sites/daily/webhooks", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]


class TestSSRFGuardAtCreation:
    @pytest.fixture
    def app_config(self):
        return {}  # no allow-list

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1/hooks",
            "http://10.0.0.1/hooks",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:8080/hooks",
            "http://localhost:8080/hooks",
            "http://[fd00:ec2::254]/",
            "http://0.0.0.0/",
            "http://224.0.0.1/",
        ],
    )
    def test_private_targets_are_refused(self, client, admin_headers, url):
        response = client.post("/v1/admin/sites/daily/webhooks", json={"url": url}, headers=admin_headers)
        assert response.status_code == 422
        assert response.get_json()["errors"][0]["field"] == "url"

    def test_changing_the_url_to_a_private_one_is_refused(self, client, admin_headers, make_endpoint):
        endpoint = make_endpoint(PUBLIC_URL)
        response = client.patch(
            f"/v1/admin/webhooks/{endpoint['id']}",
            json={"url": "http://10.1.2.3/"},
            headers=admin_headers,
        )
        assert response.status_code == 422


def test_allow_list_lets_loopback_through(make_endpoint):
    assert make_endpoint("http://127.0.0.1:9/hooks")["url"] == "http://127.0.0.1:9/hooks"


@pytest.mark.parametrize("role", ["embed", "moderator"])
def test_other_roles_are_forbidden(client, factory, admin_headers, role):
    headers = factory.headers(factory.key(role))
    assert client.get("/v1/admin/sites/daily/webhooks", headers=headers).status_code == 403
    response = client.post("/v1/admin/sites/daily/webhooks", json={"url": PUBLIC_URL}, headers=headers)
    assert response.status_code == 403


def test_a_sites_admin_cannot_see_another_sites_endpoints(client, factory, admin_headers, make_endpoint):
    factory.site("other")
    theirs = make_endpoint(PUBLIC_URL, site="other")
    mine = {"Authorization": f"Bearer {factory.key('admin', site='daily')}"}
    assert client.get("/v1/admin/sites/other/webhooks", headers=mine).status_code == 404
    for method, path in [
        ("get", f"/v1/admin/webhooks/{theirs['id']}"),
        ("patch", f"/v1/admin/webhooks/{theirs['id']}"),
        ("delete", f"/v1/admin/webhooks/{theirs['id']}"),
        ("post", f"/v1/admin/webhooks/{theirs['id']}/rotate-secret"),
        ("get", f"/v1/admin/webhooks/{theirs['id']}/deliveries"),
    ]:
        response = getattr(client, method)(path, json={} if method != "get" else None, headers=mine)
        assert response.status_code == 404, (method, path)
    assert client.get("/v1/admin/sites/daily/webhooks", headers=mine).get_json() == []


def test_patch_disable_enable_and_delete(client, admin_headers, make_endpoint):
    endpoint = make_endpoint(PUBLIC_URL)
    path = f"/v1/admin/webhooks/{endpoint['id']}"
    disabled = client.patch(
        path, json={"enabled": False, "event_types": ["comment.deleted"]}, headers=admin_headers
    )
    assert disabled.get_json()["enabled"] is False
    assert disabled.get_json()["disabled_reason"] == "disabled by an admin"
    assert disabled.get_json()["event_types"] == ["comment.deleted"]
    enabled = client.patch(path, json={"enabled": True}, headers=admin_headers).get_json()
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None
    assert client.delete(path, headers=admin_headers).status_code == 204
    assert client.get(path, headers=admin_headers).status_code == 404


def test_rotation_returns_a_new_secret_and_a_grace_period(client, admin_headers, make_endpoint):
    endpoint = make_endpoint(PUBLIC_URL)
    response = client.post(
        f"/v1/admin/webhooks/{endpoint['id']}/rotate-secret", json={}, headers=admin_headers
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["secret"].startswith("whsec_") and body["secret"] != endpoint["secret"]
    assert body["previous_secret_expires_at"] is not None


def test_event_schema_is_in_the_openapi_document(app):
    spec = app.extensions["api"].spec.to_dict()
    event = spec["components"]["schemas"]["WebhookEvent"]
    assert set(event["properties"]) == {"type", "timestamp", "data"}
