"""DSA tests reuse the webhook suite's real receiver and helpers (its app allows loopback hooks)."""

from __future__ import annotations

import pytest

from tests.webhooks.conftest import (  # noqa: F401 - fixtures
    admin_headers,
    app_config,
    deliver,
    embed_key,
    make_endpoint,
    receiver,
)


@pytest.fixture
def moderator(factory, admin_headers):  # noqa: F811 - the imported fixture
    return factory.headers(factory.key("moderator"), origin=None)


@pytest.fixture
def reject_insults(client, admin_headers):  # noqa: F811 - the imported fixture
    """The daily site rejects clear insults at posting (no moderator): an automated restriction."""
    response = client.patch(
        "/v1/admin/sites/daily/policy",
        json={"thresholds": {"insult": {"reject": 0.5}}},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.get_json()
