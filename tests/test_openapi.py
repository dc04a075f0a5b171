"""openapi.yaml is generated from the code: the committed file must match it."""

from __future__ import annotations

import yaml

from service.openapi import spec_yaml


def test_committed_openapi_matches_the_code(app, project_root):
    committed = yaml.safe_load((project_root / "openapi.yaml").read_text())
    generated = yaml.safe_load(spec_yaml(app.extensions["api"]))
    assert committed == generated, "openapi.yaml is stale: run `flask --app service write-openapi`"


def test_service_serves_its_spec(client):
    spec = client.get("/openapi.json").get_json()
    assert "/v1/comments" in spec["paths"]
    assert "apiKey" in spec["components"]["securitySchemes"]
