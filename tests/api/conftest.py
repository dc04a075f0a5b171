"""Fixtures of the API tests: a site whose backend signs reader tokens."""

from __future__ import annotations

import pytest

from service.identity.tokens import reader_token


@pytest.fixture
def sso(factory, client):
    """The daily site with an SSO secret (made through the admin API), its keys and a token maker."""
    factory.site()
    admin = factory.key("admin")
    answer = client.post(
        "/v1/admin/sites/daily/sso-secret", json={}, headers=factory.headers(admin, origin=None)
    )
    assert answer.status_code == 200, answer.get_json()
    secret = answer.get_json()["secret"]

    class Sso:
        embed = factory.key("embed")
        moderator = factory.key("moderator")

        def __init__(self):
            self.secret = secret
            self.admin = admin

        def token(self, sub="reader-1", name="Reader One", **kwargs):
            return reader_token(self.secret, sub, name, **kwargs)

    return Sso()
