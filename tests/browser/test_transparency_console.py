"""The console's Transparency view: the period's figures as bars, and the same report as CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_the_transparency_view_shows_the_periods_notices_and_restrictions(server, console):
    comment = server.post("Thanks for this well-researched article, I learned a lot.", name="Ada")
    client = server.app.test_client()
    sent = client.post(
        f"/v1/comments/{comment['id']}/notices",
        json={
            "category": "STATEMENT_CATEGORY_VIOLENCE",
            "explanation": "This comment threatens a named person, which the law forbids.",
            "name": "Rita Reporter",
            "email": "rita@reporter.example",
            "good_faith": True,
        },
        headers={"Authorization": f"Bearer {server.keys['embed']}", "Origin": server.url},
    )
    assert sent.status_code == 201, sent.get_json()
    decided = client.post(
        f"/v1/moderation/notices/{sent.get_json()['id']}/decision",
        json={"decision": "illegal", "legal_ground": "§ 241 StGB"},
        headers={"Authorization": f"Bearer {server.keys['moderator']}"},
    )
    assert decided.status_code == 200, decided.get_json()

    page = console()
    page.locator("#tabs a[data-view=transparency]").click()
    tiles = page.locator("#transparency-tiles")
    expect(tiles).to_contain_text("notices received")
    charts = page.locator("#transparency-charts")
    expect(charts.get_by_role("img", name="violence: 1")).to_be_visible()
    expect(charts.get_by_role("img", name="illegal (a law): 1")).to_be_visible()
    expect(charts).to_contain_text("Appeals")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    csv = Path(download.value.path()).read_text()
    assert "notices,by_category.STATEMENT_CATEGORY_VIOLENCE,1" in csv
    assert "restrictions,by_ground.illegal,1" in csv
