"""The project's docs stay true to the code."""

from __future__ import annotations

from service.config import settings_table


def test_readme_configuration_table_lists_every_setting(project_root):
    readme = (project_root / "README.md").read_text()
    table = readme.split("<!-- settings-table -->")[1].split("<!-- /settings-table -->")[0].strip()
    assert table == settings_table(), "README's configuration table is stale"
