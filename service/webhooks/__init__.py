"""Webhooks: endpoints, the outbox dispatcher, signed delivery with retries, the SSRF guard.

`init_app` adds the settings' defaults, the `flask webhooks` commands and, when no Celery broker
is configured, the embedded delivery thread (started with the first request of a serving process).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .cli import webhooks_cli
    from .worker import EmbeddedWorker

    app.cli.add_command(webhooks_cli)
    _register_api(app)

    embedded = str(app.config["WEBHOOK_EMBEDDED_WORKER"]).lower()
    if embedded == "auto":
        embedded = not app.config.get("CELERY_BROKER_URL") and not app.testing
    else:
        embedded = embedded in ("1", "true", "yes", "on")
    if embedded:
        worker = app.extensions["webhook_worker"] = EmbeddedWorker(app)
        # Started by the first request, not here: `flask db upgrade` and other commands build
        # the app too, and gunicorn forks after the app is made (threads do not survive a fork).
        app.before_request(worker.start)


def _register_api(app: Flask) -> None:
    from ..api.webhooks import blp
    from ..schemas.webhooks import WebhookEventSchema

    api = app.extensions["api"]
    api.register_blueprint(blp)
    # Not a response of any route: registered so openapi.yaml documents what receivers get.
    api.spec.components.schema("WebhookEvent", schema=WebhookEventSchema)
