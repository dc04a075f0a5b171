"""The delivery loop: dispatch the outbox, deliver due deliveries, repeat. Used by the Celery task,
`flask webhooks worker` and the embedded background thread alike."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from flask import Flask

from ..extensions import db
from .delivery import deliver_batch, dispatch_outbox
from .ssrf import AllowList, guarded_pool_manager

log = logging.getLogger(__name__)


class Deliverer:
    """Per process: the HTTP connection pool (keep-alive) and the sending threads."""

    def __init__(self, app: Flask):
        config = app.config
        self.threads = int(config["WEBHOOK_SEND_THREADS"])
        self.batch_size = int(config["WEBHOOK_BATCH_SIZE"])
        self.lease = timedelta(seconds=float(config["WEBHOOK_LEASE_SECONDS"]))
        self.timeout = float(config["WEBHOOK_TIMEOUT_SECONDS"])
        self.disable_after = timedelta(days=float(config["WEBHOOK_DISABLE_AFTER_DAYS"]))
        self.pool = guarded_pool_manager(AllowList.parse(config.get("WEBHOOK_ALLOW_PRIVATE")), self.threads)
        self.executor = ThreadPoolExecutor(self.threads, thread_name_prefix="webhook-send")

    def run_once(self, now: datetime | None = None) -> tuple[int, int]:
        """One pass: (outbox events dispatched, deliveries attempted). Needs an app context."""
        dispatched = dispatch_outbox(now=now)
        delivered = deliver_batch(
            self.pool,
            self.executor,
            limit=self.batch_size,
            lease=self.lease,
            timeout=self.timeout,
            disable_after=self.disable_after,
            now=now,
        )
        return dispatched, delivered

    def close(self) -> None:
        self.executor.shutdown(wait=False)
        self.pool.clear()


def deliverer(app: Flask) -> Deliverer:
    """The process's Deliverer, made on first use (after a fork, never before)."""
    found = app.extensions.get("webhook_deliverer")
    if found is None:
        found = app.extensions["webhook_deliverer"] = Deliverer(app)
    return found


def run_once(app: Flask, now: datetime | None = None) -> tuple[int, int]:
    """Dispatch and deliver one batch (tests drive this with `now` to move time)."""
    with app.app_context():
        try:
            return deliverer(app).run_once(now)
        finally:
            db.session.remove()


def run_until_idle(app: Flask, max_seconds: float = 30.0, stop: threading.Event | None = None) -> int:
    """Repeat passes while there is work, for at most `max_seconds`; returns deliveries tried."""
    deadline = time.monotonic() + max_seconds
    total = 0
    while time.monotonic() < deadline and not (stop and stop.is_set()):
        dispatched, delivered = run_once(app)
        total += delivered
        if not dispatched and not delivered:
            break
    return total


def run_forever(app: Flask, stop: threading.Event, idle_interval: float = 1.0) -> None:
    """The loop of `flask webhooks worker` and of the embedded thread; survives database errors."""
    while not stop.is_set():
        try:
            run_until_idle(app, stop=stop)
        except Exception:  # a database restart must not end the loop
            log.exception("webhook delivery pass failed; retrying")
        stop.wait(idle_interval)


class EmbeddedWorker:
    """The background thread that delivers webhooks when no broker is configured."""

    def __init__(self, app: Flask, idle_interval: float = 1.0):
        self.app = app
        self.idle_interval = idle_interval
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self.thread is None:
                self.thread = threading.Thread(
                    target=run_forever,
                    args=(self.app, self.stop_event, self.idle_interval),
                    name="webhook-worker",
                    daemon=True,
                )
                self.thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)
