"""Live threads: how long a new approved comment takes to reach N open Server-Sent Events streams.

    .venv/bin/python bench/sse.py [--clients 200] [--comments 40] [--workers 2]

gunicorn (`--workers` processes, REDIS_URL set, so a comment posted through one worker reaches
the streams of every worker through Redis pub/sub) on PostgreSQL. N clients (one asyncio loop,
raw HTTP/1.1) open GET /v1/articles/{id}/events spread over the workers by the kernel; then
comments are posted one at a time through the public API, as the embed sends them, and each
client notes when each comment's event arrives. Latency: from the POST's 201 to the event at a
client (the fan-out), and from sending the POST (what a reader waits after another presses Post).

Needs the machine's PostgreSQL and Redis. Uses (and drops) the database `sse_bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api import wait_ready  # noqa: E402 - bench/api.py, beside this file

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DB_NAME = "sse_bench"
REDIS_URL = "redis://127.0.0.1:6379/0"
ORIGIN = "https://bench.example"
ARTICLE = "live-article"
SECRET = "bench-sse-secret-0123456789abcdef0123"
WORDS = (  # noqa: SIM905 - a paragraph of words reads better than a column
    "council budget school library park election housing river bridge bakery train station museum"
    " garden harbour festival teacher nurse mayor market bicycle theatre village orchestra stadium"
    " hospital bus ferry clinic forest"
).split()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare() -> tuple[str, str, int]:
    """A fresh database with one site; its URL, embed key and site id."""
    from flask_migrate import upgrade

    from service import create_app
    from service.sites import create_site, issue_key

    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{DB_NAME}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        policy = {"velocity_per_minute": 100000, "velocity_per_hour": 1000000}
        site = create_site({"slug": "bench", "name": "Bench", "allowed_origins": [ORIGIN], "policy": policy})
        key = issue_key(None, "embed", "bench")[1]
        site_id = site.id
    app.extensions["scoring"].close()
    return url, key, site_id


def start_server(url: str, port: int, workers: int, clients: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "REDIS_URL": REDIS_URL,
        "RATELIMIT_ENABLED": "false",
        "PROXY_COUNT": "1",
        "LIVE_MAX_CONNECTIONS": str(clients),
        "LIVE_MAX_PER_NETWORK": str(clients),
        "LIVE_HEARTBEAT_SECONDS": "15",
        "WEBHOOK_EMBEDDED_WORKER": "false",
        "JOBS_EMBEDDED_WORKER": "false",
        "LOG_LEVEL": "WARNING",
    }
    # The kernel spreads connections unevenly over workers: each may take every stream.
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(clients + 8)]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", "service.wsgi:app"]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603


class Client:
    def __init__(self):
        self.arrivals: dict[int, float] = {}
        self.connected = asyncio.Event()


async def follow(port: int, key: str, client: Client, stop: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"GET /v1/articles/{ARTICLE}/events?key={key} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Origin: {ORIGIN}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"stream refused: {status!r}")
    while (await reader.readline()) not in (b"\r\n", b""):
        pass  # headers
    event_id = None
    while not stop.is_set():
        line = await reader.readline()
        if not line:
            break
        text = line.decode().rstrip("\r\n")
        if text.startswith("retry:"):
            client.connected.set()
        elif text.startswith("id: "):
            event_id = int(text[4:])
        elif text.startswith("data: ") and event_id is not None:
            client.arrivals.setdefault(event_id, time.monotonic())
    writer.close()


def post(base: str, key: str, site_id: int, i: int) -> tuple[int, float, float]:
    """Post one friendly comment; (its id, when sent, when the 201 came)."""
    from service.spam.bots import issue_render_token

    rng = random.Random(i)
    topic = " and the ".join(rng.sample(WORDS, 4))
    body = {
        "article": {"id": ARTICLE, "url": f"{ORIGIN}/live", "title": "Live"},
        "author": {"name": f"Reader {i}"},
        "text": f"Thoughtful reporting on the {topic}; thank you for explaining it (note {i}).",
        "render_token": issue_render_token(SECRET.encode(), site_id, ARTICLE, time.time() - 60),
    }
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{base}/v1/comments",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {key}",
            "Origin": ORIGIN,
            "Content-Type": "application/json",
            "X-Forwarded-For": f"10.{i // 250}.{i % 250}.7",
        },
    )
    sent = time.monotonic()
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        answer = json.loads(response.read())
    done = time.monotonic()
    if answer["status"] != "approved":
        raise RuntimeError(f"comment {i} was {answer['status']}")
    return answer["id"], sent, done


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(base: str, port: int, key: str, site_id: int, clients: int, comments: int, gap: float):
    stop = asyncio.Event()
    followers = [Client() for _ in range(clients)]
    tasks = [asyncio.create_task(follow(port, key, c, stop)) for c in followers]
    await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in followers)), 60)
    await asyncio.sleep(1.0)  # every worker's Redis listener subscribed
    loop = asyncio.get_running_loop()
    # Warm-up: the first posts load lazy code paths in each worker.
    for i in range(4):
        await loop.run_in_executor(None, post, base, key, site_id, 10_000 + i)
    await asyncio.sleep(1.0)
    posted = []
    for i in range(comments):
        posted.append(await loop.run_in_executor(None, post, base, key, site_id, i))
        await asyncio.sleep(gap)
    await asyncio.sleep(2.0)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    fan_out, end_to_end, missing = [], [], 0
    for comment_id, sent, done in posted:
        for client in followers:
            arrived = client.arrivals.get(comment_id)
            if arrived is None:
                missing += 1
                continue
            # The event may come before the 201 is read: it is published at commit.
            fan_out.append(max(0.0, arrived - done))
            end_to_end.append(arrived - sent)
    posts = [done - sent for _, sent, done in posted]
    return fan_out, end_to_end, missing, posts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--comments", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between posts")
    args = parser.parse_args()

    url, key, site_id = prepare()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(url, port, args.workers, args.clients)
    try:
        wait_ready(base, 90)
        fan_out, end_to_end, missing, posts = asyncio.run(
            measure(base, port, key, site_id, args.clients, args.comments, args.gap)
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    expected = args.clients * args.comments
    ms = 1000.0
    print(f"{args.clients} streams on {args.workers} workers (Redis fan-out), {args.comments} comments")
    print(f"events delivered: {expected - missing} of {expected}")
    print(
        f"POST (201):            p50 {statistics.median(posts) * ms:7.1f} ms  "
        f"p95 {percentile(posts, 0.95) * ms:7.1f} ms"
    )
    if fan_out:
        print(
            f"fan-out (201 → event): p50 {statistics.median(fan_out) * ms:7.1f} ms  "
            f"p95 {percentile(fan_out, 0.95) * ms:7.1f} ms  max {max(fan_out) * ms:7.1f} ms"
        )
        print(
            f"post → event:          p50 {statistics.median(end_to_end) * ms:7.1f} ms  "
            f"p95 {percentile(end_to_end, 0.95) * ms:7.1f} ms  max {max(end_to_end) * ms:7.1f} ms"
        )
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
