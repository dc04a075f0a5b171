"""The console's Transparency view: the period's figures as bars, and the same report as CSV."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
REPORT = {
    "explanation": "This comment breaks the law against a named person, as the reporter explains.",
    "name": "Rita Reporter",
    "email": "rita@reporter.example",
    "good_faith": True,
}


def test_the_transparency_view_shows_the_periods_notices_and_restrictions(server, console):
    comment = server.post("Thanks for this well-researched article, I learned a lot.", name="Ada")
    client = server.app.test_client()
    sent = client.post(
        f"/v1/comments/{comment['id']}/notices",
        json={**REPORT, "category": "STATEMENT_CATEGORY_VIOLENCE"},
        headers={"Authorization": f"Bearer {server.keys['embed']}", "Origin": server.url},
    )
    assert sent.status_code == 201, sent.get_json()
    decided = client.post(
        f"/v1/moderation/notices/{sent.get_json()['id']}/decision",
        json={"decision": "illegal", "legal_ground": "§ 241 StGB"},
        headers={"Authorization": f"Bearer {server.keys['moderator']}"},
    )
    assert decided.status_code == 200, decided.get_json()

    # Two more notices, one kept and one rejected on the site's rules, for a fuller picture.
    for category, decision in [
        ("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", {"decision": "not_illegal"}),
        (
            "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
            {"decision": "site_rules", "restrict": True, "reason": "personal-data"},
        ),
    ]:
        other = server.post("My neighbour at number 12 is the one to blame, ask him.", name="Bo")
        notice = client.post(
            f"/v1/comments/{other['id']}/notices",
            json={**REPORT, "category": category},
            headers={"Authorization": f"Bearer {server.keys['embed']}", "Origin": server.url},
        )
        assert notice.status_code == 201, notice.get_json()
        answer = client.post(
            f"/v1/moderation/notices/{notice.get_json()['id']}/decision",
            json=decision,
            headers={"Authorization": f"Bearer {server.keys['moderator']}"},
        )
        assert answer.status_code == 200, answer.get_json()

    page = console()
    page.set_viewport_size({"width": 1360, "height": 1000})
    page.locator("#tabs a[data-view=transparency]").click()
    tiles = page.locator("#transparency-tiles")
    expect(tiles).to_contain_text("notices received")
    charts = page.locator("#transparency-charts")
    expect(charts.get_by_role("img", name="violence: 1")).to_be_visible()
    expect(charts.get_by_role("img", name="illegal (a law): 1")).to_be_visible()
    expect(charts).to_contain_text("Appeals")
    if os.environ.get("WRITE_SCREENSHOTS"):
        page.locator("#toast").evaluate("n => n.hidden = true")
        page.screenshot(path=str(SCREENSHOTS / "console-transparency.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    csv = Path(download.value.path()).read_text()
    assert "notices,by_category.STATEMENT_CATEGORY_VIOLENCE,1" in csv
    assert "restrictions,by_ground.illegal,1" in csv
