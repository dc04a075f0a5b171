"""Three instances of the service (gunicorn each) behind Debian's HAProxy on loopback, sharing one
PostgreSQL database and Redis, with a Celery worker delivering webhooks to a local receiver.

Clients post from addresses of their own in 127.0.0.0/8 (Linux answers on all of it): HAProxy
passes the address on in X-Forwarded-For (PROXY_COUNT=1), so rate limits count per client as in
production, and no two runs share a counter in the shared Redis.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis

from tests.reliability.conftest import LiveServer, free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def client_address() -> str:
    """A loopback address no other client of this run (or another run) is likely to use."""
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@dataclass
class Answer:
    status: int | str  # an HTTP status, or the name of the connection error
    body: dict
    headers: dict[str, str]

    @property
    def instance(self) -> str | None:
        """Which instance answered through HAProxy (it names the server in X-Instance)."""
        return self.headers.get("x-instance")


def call(
    base: str,
    method: str,
    path: str,
    body: dict | None = None,
    headers: dict[str, str] | None = None,
    source: str | None = None,
    timeout: float = 15.0,
) -> Answer:
    """One request on a fresh connection from `source` (a loopback address); never raises for
    connection failures (a killed instance), which come back as the error's name."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(
        host, int(port), timeout=timeout, source_address=(source or client_address(), 0)
    )
    payload = json.dumps(body).encode() if body is not None else None
    sent = {"Content-Type": "application/json", **(headers or {})} if payload else dict(headers or {})
    try:
        connection.request(method, path, body=payload, headers=sent)
        response = connection.getresponse()
        data = response.read()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
    except (OSError, http.client.HTTPException) as error:
        return Answer(type(error).__name__, {}, {})
    finally:
        connection.close()
    try:
        parsed = json.loads(data) if data else {}
    except ValueError:
        parsed = {"raw": data.decode("utf-8", "replace")}
    return Answer(response.status, parsed, answer_headers)


class WebhookReceiver:
    """A real HTTP receiver on loopback counting deliveries by their webhook-id."""

    def __init__(self):
        self.deliveries: Counter[str] = Counter()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.deliveries[self.headers.get("webhook-id", "")] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self.deliveries)


HAPROXY_CONFIG = """\
global
    maxconn 2000

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    # A loaded machine may take a while to answer a health check; a killed instance refuses at once.
    timeout check 3s
    # A request that could not reach an instance (refused: it was just killed) goes to another.
    retries 2
    option redispatch

frontend web
    bind 127.0.0.1:{port}
    option forwardfor
    default_backend instances

backend instances
    balance roundrobin
    option httpchk GET /readyz
    http-response set-header X-Instance %[srv_name]
{servers}
"""


@dataclass
class LoadBalancer:
    """HAProxy in the foreground (-db) with a generated configuration in a temporary folder."""

    backends: dict[str, int]  # instance name -> port
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: float = 20) -> LoadBalancer:
        servers = "\n".join(
            f"    server {name} 127.0.0.1:{port} check inter 500ms fall 2 rise 2"
            for name, port in self.backends.items()
        )
        config = self.folder / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.port, servers=servers))
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        subprocess.run([haproxy, "-c", "-q", "-f", str(config)], check=True)
        log = open(self.folder / "haproxy.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [haproxy, "-db", "-f", str(config)], stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        end = time.monotonic() + wait
        while time.monotonic() < end:
            assert self.process.poll() is None, f"haproxy exited; see {self.folder / 'haproxy.log'}"
            if call(self.url, "GET", "/readyz", timeout=2).status == 200:
                return self
            time.sleep(0.1)
        raise RuntimeError("haproxy did not answer")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@dataclass
class CeleryWorker:
    """`flask webhooks celery-worker` (with its beat): the only process that sends webhooks."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None

    def start(self) -> CeleryWorker:
        log = open(self.log_path, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "service",
                "webhooks",
                "celery-worker",
                "--concurrency=2",
            ],
            cwd=self.log_path.parent,
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@dataclass
class Cluster:
    database_url: str
    folder: Path
    post_limit: int
    instances: dict[str, LiveServer] = field(default_factory=dict)
    balancer: LoadBalancer | None = None
    worker: CeleryWorker | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def environment(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "multi-instance-secret",
            "REDIS_URL": REDIS_URL,
            "RATELIMIT_ENABLED": "true",
            "RATELIMIT_POST": f"{self.post_limit} per minute",
            "PROXY_COUNT": "1",
            # Webhooks go through Celery: no web process sends any.
            "CELERY_BROKER_URL": REDIS_URL,
            "WEBHOOK_CELERY_QUEUE": f"webhooks-{self.run_id}",
            "WEBHOOK_EMBEDDED_WORKER": "false",
            "WEBHOOK_KICK_SECONDS": "0.5",
            "WEBHOOK_ALLOW_PRIVATE": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }

    def start(self, count: int = 3) -> Cluster:
        env = self.environment()
        for number in range(1, count + 1):
            server = LiveServer(
                self.database_url,
                workers=1,
                threads=4,
                extra_env=env,
                log_path=self.folder / f"instance-{number}.log",
            )
            self.instances[f"i{number}"] = server
        # Side by side: each loads its model while the others do.
        starting = [threading.Thread(target=server.start, args=(120,)) for server in self.instances.values()]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
        for name, server in self.instances.items():
            assert server.process and server.process.poll() is None, f"instance {name} did not start"
            assert call(server.url, "GET", "/readyz").status == 200, f"instance {name} is not ready"
        self.worker = CeleryWorker({**os.environ, **env}, self.folder / "celery.log").start()
        self.balancer = LoadBalancer({n: s.port for n, s in self.instances.items()}, self.folder).start()
        return self

    def stop(self) -> None:
        if self.balancer:
            self.balancer.stop()
        if self.worker:
            self.worker.stop()
        for server in self.instances.values():
            server.stop()
        # The run's Celery queue leaves its binding behind in the shared Redis.
        with contextlib.suppress(redis.RedisError):
            client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
            client.delete(f"_kombu.binding.webhooks-{self.run_id}", f"webhooks-{self.run_id}")
            client.close()
