"""Operator commands: create a site and keys."""

from __future__ import annotations


def test_create_site_then_keys_shown_once(runner, client):
    result = runner.invoke(
        args=["create-site", "gazette", "--name", "The Gazette", "--origin", "https://gazette.example"]
    )
    assert result.exit_code == 0, result.output
    embed = runner.invoke(args=["create-key", "embed", "--site", "gazette"])
    admin = runner.invoke(args=["create-key", "admin"])
    assert embed.exit_code == admin.exit_code == 0
    embed_key = embed.stdout.strip().splitlines()[0]
    admin_key = admin.stdout.strip().splitlines()[0]
    assert embed_key.startswith("pk_") and admin_key.startswith("sk_admin_")

    sites = client.get("/v1/admin/sites", headers={"Authorization": f"Bearer {admin_key}"}).get_json()
    assert [s["slug"] for s in sites] == ["gazette"]


def test_bad_input_to_commands_is_a_clear_error(runner):
    assert runner.invoke(args=["create-site", "Bad Slug"]).exit_code != 0
    result = runner.invoke(args=["create-key", "embed"])
    assert result.exit_code != 0 and "site" in result.output
    result = runner.invoke(args=["create-key", "embed", "--site", "missing"])
    assert result.exit_code != 0 and "missing" in result.output
