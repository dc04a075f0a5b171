"""Webhook deliveries per second through Celery workers on Redis, PostgreSQL, a local receiver.

    .venv/bin/python bench/webhooks.py --events 5000 --concurrency 2 --threads 8 --batch 400

Seeds N outbox events for one endpoint, starts a Celery worker (with its beat kick), and times
until every delivery has succeeded. The receiver is a threaded keep-alive HTTP server on
127.0.0.1 in a child process. Uses (and drops) the PostgreSQL database `webhooks_bench`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DB_NAME = "webhooks_bench"
DB_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}"


class FastHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response_only(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def serve(port_queue) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FastHandler)
    server.daemon_threads = True
    server.request_queue_size = 128
    port_queue.put(server.server_address[1])
    server.serve_forever()


def fresh_database() -> None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()


def drop_database() -> None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
    admin.dispose()


def seed(app, url: str, events: int) -> None:
    from flask_migrate import upgrade

    from service.db import OutboxEvent, utcnow
    from service.extensions import db
    from service.sites import create_site
    from service.webhooks.endpoints import create_endpoint

    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        site = create_site({"slug": "bench", "name": "Bench", "allowed_origins": [], "policy": {}})
        create_endpoint(site, {"url": url, "event_types": ["comment.approved"]})
        now = utcnow().isoformat()
        data = {"id": 1, "status": "approved", "text": "A comment for the benchmark. " * 4}
        rows = [
            {
                "event_id": f"msg_{uuid.uuid4().hex}",
                "site_id": site.id,
                "type": "comment.approved",
                "payload": {
                    "type": "comment.approved",
                    "timestamp": now,
                    "data": {**data, "id": n},
                },
            }
            for n in range(events)
        ]
        db.session.execute(sa.insert(OutboxEvent), rows)
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--threads", type=int, default=8, help="sending threads per process")
    parser.add_argument("--batch", type=int, default=400, help="deliveries claimed per pass")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    port_queue = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=serve, args=(port_queue,), daemon=True)
    receiver.start()
    url = f"http://127.0.0.1:{port_queue.get(timeout=10)}/hooks"

    env = {
        **os.environ,
        "DATABASE_URL": DB_URL,
        "CELERY_BROKER_URL": args.broker,
        "WEBHOOK_ALLOW_PRIVATE": "127.0.0.1",
        "WEBHOOK_CELERY_QUEUE": f"webhooks-bench-{os.getpid()}",
        "WEBHOOK_SEND_THREADS": str(args.threads),
        "WEBHOOK_BATCH_SIZE": str(args.batch),
        "WEBHOOK_KICK_SECONDS": "0.5",
    }
    os.environ.update(env)
    from service import create_app
    from service.db import WebhookDelivery
    from service.extensions import db

    fresh_database()
    app = create_app({"SCORER_PRELOAD": False, "DATABASE_URL": DB_URL})
    seed(app, url, args.events)
    print(
        f"seeded {args.events} outbox events; starting {args.concurrency} worker process(es) "
        f"x {args.threads} threads, batches of {args.batch}",
        flush=True,
    )

    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "service.webhooks.tasks",
            "worker",
            "--beat",
            "--concurrency",
            str(args.concurrency),
            "-Q",
            env["WEBHOOK_CELERY_QUEUE"],
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    started = time.perf_counter()
    first = None
    done = 0
    try:
        with app.app_context():
            while done < args.events:
                time.sleep(0.1)
                done = db.session.scalar(
                    sa.select(sa.func.count()).where(WebhookDelivery.status == "succeeded")
                )
                db.session.commit()
                if done and first is None:
                    first = time.perf_counter()
                if time.perf_counter() - started > 300:
                    sys.exit(f"timed out with {done} delivered")
            failed = db.session.scalar(sa.select(sa.func.count()).where(WebhookDelivery.attempts > 1))
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        receiver.kill()
        with app.app_context():
            db.engine.dispose()
        if not args.keep_db:
            drop_database()
    end = time.perf_counter()
    steady = end - first
    print(
        f"{args.events} deliveries in {end - started:.1f} s from worker start "
        f"({steady:.1f} s from the first delivery); retried: {failed}"
    )
    print(
        f"deliveries/s: {args.events / steady:.0f} (steady), "
        f"{args.events / (end - started):.0f} (with startup)"
    )


if __name__ == "__main__":
    main()
