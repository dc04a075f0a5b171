"""API benchmark: gunicorn (2 workers) on PostgreSQL, driven by wrk on the same machine.

Seeds an article with 50 approved comments, then measures GET of the article's comments and
POST of new comments (scored by the embedded model), printing req/s and latency percentiles.

    .venv/bin/python bench/api.py [--seconds 15] [--connections 32] [--threads 4] [--only post]

BENCH_WRK_OUTPUT=1 also prints wrk's whole report (latency distribution, errors).

Needs wrk (apt-get install wrk) and the machine's PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ORIGIN = "https://bench.example"

POST_SCRIPT = """
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
wrk.headers["Origin"] = "%(origin)s"
texts = {
  "Thanks for the clear explanation of the budget, very useful.",
  "I disagree with the council's decision but the article is fair.",
  "You are a stupid idiot and nobody cares what you think.",
  "Great reporting, I hope you follow up on the school closures next month.",
}
request = function()
  counter = counter + 1
  local text = texts[(counter %% #texts) + 1] .. " #" .. counter
  local body = '{"article": {"id": "bench-article", "url": "%(origin)s/a", "title": "Bench"}, '
    .. '"author": {"name": "Reader ' .. counter .. '"}, "text": "' .. text .. '"}'
  return wrk.format(nil, nil, nil, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(name: str) -> str:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def seed(url: str) -> str:
    from flask_migrate import upgrade

    from service import create_app
    from service.comments import post_comment
    from service.sites import create_site, issue_key

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        site = create_site({"slug": "bench", "name": "Bench", "allowed_origins": [ORIGIN], "policy": {}})
        key = issue_key(None, "embed", "bench")[1]
        engine = app.extensions["scoring"]
        engine.load()
        for i in range(50):
            body = {
                "article": {"id": "bench-article", "url": f"{ORIGIN}/a", "title": "Bench"},
                "author": {"name": f"Reader {i}"},
                "text": f"Thoughtful comment number {i} about the local elections and the budget.",
            }
            result = post_comment(site.id, body, engine=engine, deadline=5)
            assert result.body["status"] == "approved", result.body
        engine.close()
    return key


def wait_ready(base: str, timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the service did not become ready")


def run_wrk(
    url: str, seconds: int, connections: int, headers: dict[str, str], script: str | None = None
) -> dict:
    time.sleep(1)  # let the workers finish closing the last load's connections
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if os.environ.get("BENCH_WRK_OUTPUT"):  # wrk's whole report, on stderr
        print(output, file=sys.stderr)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentiles = {p: m for p, m in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": rps,
        "p50": percentiles.get("50"),
        "p99": percentiles.get("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument(
        "--connections",
        default="32,8",
        help="comma-separated: each load runs at each (32: the service saturated; 8: a busy site)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--only", choices=["get", "post"], help="run one of the two loads")
    parser.add_argument(
        "--embedded-webhooks",
        action="store_true",
        help="deliver webhooks from the API workers (the no-broker default) instead of elsewhere",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    url = prepare_database("bench_api")
    key = seed(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RATELIMIT_ENABLED": "false",
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
        # In production webhooks go out from Celery workers (bench/webhooks.py measures them);
        # here the API is measured alone unless asked.
        "WEBHOOK_EMBEDDED_WORKER": "true" if args.embedded_webhooks else "false",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(args.workers),
            "--threads",
            str(args.threads),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "service.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_ready(base)
        headers = {"Authorization": f"Bearer {key}", "Origin": ORIGIN}
        results = {}
        loads = [int(c) for c in args.connections.split(",")]
        # Reads first: the posts' write-ahead log and autovacuum would otherwise weigh on them.
        for connections in loads if args.only != "post" else []:
            results[f"GET comments (50) ({connections} connections)"] = run_wrk(
                f"{base}/v1/articles/bench-article/comments?limit=50", args.seconds, connections, headers
            )
        for connections in loads if args.only != "get" else []:
            name = f"POST comment ({connections} connections)"
            results[name] = run_post(base, key, args.seconds, connections)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    report(args, results)


def run_post(base: str, key: str, seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(POST_SCRIPT % {"key": key, "origin": ORIGIN})
    try:
        return run_wrk(f"{base}/v1/comments", seconds, connections, {}, script.name)
    finally:
        os.unlink(script.name)


def report(args, results: dict) -> None:
    webhooks = "delivered by the API workers" if args.embedded_webhooks else "delivered elsewhere"
    print(
        f"\nAPI benchmark: gunicorn {args.workers} workers x {args.threads} threads, PostgreSQL, "
        f"wrk {args.seconds}s per load, {os.cpu_count()} cores, "
        f"webhooks {webhooks}\n"
    )
    print(f"{'request':<36} {'req/s':>8} {'p50':>9} {'p99':>9} {'non-2xx':>8}")
    for name, r in results.items():
        print(f"{name:<36} {r['rps']:>8.0f} {r['p50']:>9} {r['p99']:>9} {r['non_2xx']:>8}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
