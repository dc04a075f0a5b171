"""Operators can see the service: health, readiness, metrics, request ids in headers and logs."""

from __future__ import annotations

import json

import pytest

from tests.fakes import SlowScorer


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "scorer": "ok"}


class TestNotReady:
    @pytest.fixture
    def app_config(self):
        return {"SCORER_INSTANCE": None, "SCORER": "embedded", "EMBEDDED_MODEL_PATH": "/nonexistent"}

    def test_readiness_fails_while_the_scorer_is_missing(self, client, app):
        with pytest.raises(Exception):
            app.extensions["scoring"].load()
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["checks"]["scorer"] == "error"


def test_request_id_is_returned_and_kept_from_the_caller(client):
    generated = client.get("/healthz").headers["X-Request-Id"]
    assert len(generated) == 32 and int(generated, 16) >= 0
    assert client.get("/healthz").headers["X-Request-Id"] != generated  # one per request
    assert client.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"] == "abc-123"
    assert (
        client.get("/healthz", headers={"X-Request-Id": "bad id <script>"}).headers["X-Request-Id"]
        != "bad id <script>"
    )


def test_logs_are_json_lines_with_the_request_id(client, capsys):
    client.get("/healthz", headers={"X-Request-Id": "log-check-1"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    entry = next(line for line in lines if line.get("request_id") == "log-check-1")
    assert entry["event"] == "request" and entry["status"] == 200 and entry["route"] == "/healthz"


def test_metrics_count_requests_decisions_and_scorer_batches(client, factory, embed_key, insult_text):
    factory.post(embed_key)
    factory.post(embed_key, text=insult_text)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{method="POST",route="/v1/comments",status="201"}' in text
    assert 'comments_decided_total{by="system",status="held"}' in text
    assert 'comment_label_flags_total{label="insult",threshold="hold"}' in text
    assert "scorer_batch_size_count" in text
    assert 'http_request_duration_seconds_bucket{le="0.05",method="POST",route="/v1/comments"}' in text


class TestScorerTimeouts:
    @pytest.fixture
    def app_config(self):
        return {"SCORER_INSTANCE": SlowScorer(delay=0.3), "SCORING_DEADLINE_MS": 20}

    def test_timeouts_are_counted(self, client, factory, embed_key):
        factory.post(embed_key)
        assert "scorer_timeouts_total" in client.get("/metrics").get_data(as_text=True)
