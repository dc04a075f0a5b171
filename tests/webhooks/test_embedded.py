"""The embedded default: with no broker, a background thread of the serving process delivers."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook


@pytest.fixture
def app_config():
    return {
        "WEBHOOK_ALLOW_PRIVATE": "127.0.0.1",
        "WEBHOOK_EMBEDDED_WORKER": True,
        "CELERY_BROKER_URL": "",
    }


def test_the_background_thread_delivers_without_a_broker(app, factory, embed_key, receiver, make_endpoint):
    worker = app.extensions["webhook_worker"]
    try:
        endpoint = make_endpoint(receiver.url, ["comment.approved"])  # the first request starts it
        assert worker.thread is not None and worker.thread.is_alive()
        factory.post(embed_key)
        (request,) = receiver.wait_for(1, timeout=10)
        assert Webhook(endpoint["secret"]).verify(request.body, request.headers)["type"] == "comment.approved"
    finally:
        worker.stop()
    assert not worker.thread.is_alive()


def test_no_thread_under_testing_unless_asked(database_url, embedded_scorer):
    from service import create_app

    app = create_app({"DATABASE_URL": database_url, "SCORER_INSTANCE": embedded_scorer, "TESTING": True})
    assert "webhook_worker" not in app.extensions
