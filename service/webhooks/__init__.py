"""Webhooks: endpoints, the outbox dispatcher, signed delivery with retries, the SSRF guard.

`init_app` adds the settings' defaults, the `flask webhooks` commands and, when no Celery broker
is configured, the embedded delivery thread (started with the first request of a serving process).
"""

from __future__ import annotations

import os

from flask import Flask

# name -> default; read from the environment like the service's other settings.
DEFAULTS: dict[str, object] = {
    "WEBHOOK_TIMEOUT_SECONDS": 10.0,  # connect, and again read, per attempt
    "WEBHOOK_LEASE_SECONDS": 300.0,  # a claimed delivery is retried after this if its worker dies
    "WEBHOOK_BATCH_SIZE": 50,  # deliveries claimed per pass
    "WEBHOOK_SEND_THREADS": 8,  # concurrent requests per worker process
    "WEBHOOK_DISABLE_AFTER_DAYS": 3.0,  # an endpoint failing this long is disabled
    "WEBHOOK_SECRET_GRACE_HOURS": 24.0,  # the old secret signs too, this long after a rotation
    "WEBHOOK_CELERY_QUEUE": "webhooks",
    "WEBHOOK_KICK_SECONDS": 1.0,  # how often celery beat starts a delivery pass
    "WEBHOOK_EMBEDDED_WORKER": None,  # None: on unless TESTING or a broker is set
}


def init_app(app: Flask) -> None:
    from .cli import webhooks_cli
    from .worker import EmbeddedWorker

    for name, default in DEFAULTS.items():
        raw = os.environ.get(name)
        if raw not in (None, ""):
            default = (
                raw.lower() in ("1", "true", "yes", "on") if default is None else type(default)(raw)
            )
        app.config.setdefault(name, default)
    app.cli.add_command(webhooks_cli)
    _register_api(app)

    embedded = app.config["WEBHOOK_EMBEDDED_WORKER"]
    if embedded is None:
        embedded = not app.config.get("CELERY_BROKER_URL") and not app.testing
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
