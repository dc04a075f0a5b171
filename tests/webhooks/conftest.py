"""Webhook fixtures: a real HTTP receiver on 127.0.0.1, admin keys, and endpoint helpers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every POST; answers `status` (or what `respond` returns), optionally holding."""

    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 204
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    respond: Callable[[Received], int] | None = None
    hold: threading.Event | None = None
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
        return list(self.requests)

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.requests]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            request = Received(
                self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)
            )
            with receiver.arrived:
                receiver.requests.append(request)
                receiver.arrived.notify_all()
            if receiver.hold is not None:
                receiver.hold.wait(30)
            status = receiver.respond(request) if receiver.respond else receiver.status
            self.send_response(status)
            for name, value in receiver.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(receiver.body)))
            self.end_headers()
            self.wfile.write(receiver.body)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    server.daemon_threads = True
    found = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks")
    server.RequestHandlerClass = _handler(found)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    if found.hold is not None:
        found.hold.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_config():
    # The receiver listens on loopback, which the SSRF guard refuses unless allowed.
    return {"WEBHOOK_ALLOW_PRIVATE": "127.0.0.1"}


@pytest.fixture
def admin_headers(factory):
    """An admin key for every site, with the `daily` site made."""
    factory.site()
    return {"Authorization": f"Bearer {factory.key('admin', site=None)}"}


@pytest.fixture
def make_endpoint(client, admin_headers):
    def make(url: str, event_types: list[str] | None = None, site: str = "daily") -> dict:
        body = {"url": url}
        if event_types is not None:
            body["event_types"] = event_types
        response = client.post(f"/v1/admin/sites/{site}/webhooks", json=body, headers=admin_headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def embed_key(factory, admin_headers):
    """The `daily` site's embed key (the site is made by admin_headers)."""
    return factory.key("embed")


@pytest.fixture
def deliver(app):
    """One worker pass (dispatch + deliver), optionally at a given time."""
    from service.webhooks.worker import run_once

    def run(now=None):
        return run_once(app, now)

    yield run
    found = app.extensions.get("webhook_deliverer")
    if found is not None:
        found.close()
