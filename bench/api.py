"""API benchmark: gunicorn (2 workers) on PostgreSQL, driven by wrk on the same machine.

Seeds an article with 50 approved comments, then measures GET of the article's comments and
POST of new comments (scored by the embedded model), printing req/s and latency percentiles.
`counts` mode (--only counts, and part of a full run) seeds 200 articles with comment counts and
measures GET /v1/articles/counts for 50 articles at a time (an article list page; wrk walks four
such pages), answered in full (200) every time.
GET is compared with a bare Flask app under gunicorn serving the same bytes (bench/bare_flask.py):
req/s, and the servers' CPU time per request, steadier when other loads share the machine.

POSTs go through every check of the comment path, as the embed sends them: real comment texts
(news comments and Wikipedia talk, from the shared data; no two alike, so no duplicate waves),
each from its own network (X-Forwarded-For behind one trusted proxy, so velocity limits see
readers, not the benchmark), a render token shown a minute earlier, and for half of them a
signed-in reader's token (one of 5,000 readers).

    .venv/bin/python bench/api.py [--seconds 15] [--connections 32] [--threads 4] [--only post|get|counts]

--legacy-bodies posts the same texts from the same networks without the tokens: the bodies a
service from before issue 12 accepts, to measure what the checks cost (run this file from a
checkout of the older service with --only post).

Before POST is measured, --warmup seconds of posts (default 5) and an ANALYZE give the planner
the statistics a running site has.

BENCH_WRK_OUTPUT=1 also prints wrk's whole report (latency distribution, errors).

Needs wrk (apt-get install wrk) and the machine's PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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

# wrk runs one Lua state per thread: each thread takes every second body of the pool, starting
# at its own offset, so no body is posted twice within a run.
POST_SCRIPT = """
local bodies = {}
for line in io.lines("%(bodies)s") do
  local tab = line:find("\t", 1, true)
  bodies[#bodies + 1] = {line:sub(1, tab - 1), line:sub(tab + 1)}
end
local threads = 0
setup = function(thread)
  thread:set("offset", threads)
  threads = threads + 1
end
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
wrk.headers["Origin"] = "%(origin)s"
request = function()
  local i = ((counter * 2 + (offset or 0)) %% #bodies) + 1
  counter = counter + 1
  wrk.headers["X-Forwarded-For"] = bodies[i][1]
  return wrk.format(nil, nil, nil, bodies[i][2])
end
"""
# wrk walks the pages of an article list: each request asks the counts of one page's 50 articles.
COUNTS_SCRIPT = """
local paths = {%(paths)s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
"""
COUNT_ARTICLES = 200
POOL = 40_000  # bodies: more than two loads of 15 s post at ~700 req/s
READERS = 5_000
WARM_BODIES = 4_000  # the warm-up's own bodies (the pool's last), never posted again


def comment_texts() -> list[str]:
    """Real comments (civil-comments-spans and Wikipedia talk), cut to the API's limit."""
    import pandas as pd

    from service.config import load_settings

    data = Path(load_settings()["TOXICITY_DATA_DIR"])
    texts = pd.concat(
        [
            pd.read_csv(data / "civil-comments-spans" / "comments.csv.gz")["comment_text"],
            pd.read_csv(data / "wikipedia-cat-large" / "gc.csv.gz")["text"],
        ]
    )
    return [t.strip()[:4000] for t in texts.dropna().astype(str).drop_duplicates() if len(t.strip()) >= 20]


def post_bodies(site_id: int, sso_secret: str | None, legacy: bool) -> list[tuple[str, str]]:
    """(X-Forwarded-For, JSON body) for each POST: distinct texts (a suffix keeps repeats apart),
    each from its own /24, half of them from signed-in readers."""
    texts = comment_texts()
    render, readers = None, []
    if not legacy:  # an older service has neither module
        from service.identity.tokens import reader_token
        from service.spam.bots import issue_render_token

        render = issue_render_token(b"bench", site_id, "bench-article", time.time() - 60)
        readers = [reader_token(sso_secret, f"r{n}", f"Reader {n}", lifetime=86400) for n in range(READERS)]
    bodies = []
    for n in range(POOL):
        body: dict = {
            "article": {"id": "bench-article", "url": f"{ORIGIN}/a", "title": "Bench"},
            "author": {"name": f"Reader {n}"},
            "text": f"{texts[n % len(texts)]} ({n // len(texts)})" if n >= len(texts) else texts[n],
        }
        if not legacy:
            body["render_token"] = render
            if n % 2:
                body["reader_token"] = readers[n % READERS]
        bodies.append((f"10.{n // 256 % 256}.{n % 256}.7", json.dumps(body)))
    return bodies


def body_lines(bodies: list[tuple[str, str]]) -> str:
    """One "address<TAB>body" per line (JSON escapes tabs and newlines inside strings)."""
    return "".join(f"{address}\t{body}\n" for address, body in bodies)


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


def seed(
    url: str, *, thread: bool, legacy: bool, counts: bool = False, posts: bool = True
) -> tuple[str, list[tuple[str, str]]]:
    """The site, its embed key, the thread's 50 approved comments (when GET is measured), the
    articles whose counts are read (when counts are measured) and the POST bodies (when POST is)."""
    from flask_migrate import upgrade

    from service import create_app
    from service.sites import create_site, issue_key

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        site = create_site({"slug": "bench", "name": "Bench", "allowed_origins": [ORIGIN], "policy": {}})
        key = issue_key(None, "embed", "bench")[1]
        sso_secret = None
        if not legacy:
            from service.sites import rotate_sso

            sso_secret = rotate_sso(site, 0)
        if thread:
            seed_thread(app, site.id)
        if counts:
            seed_counted_articles(site.id)
        bodies = post_bodies(site.id, sso_secret, legacy) if posts else []
    return key, bodies


def seed_thread(app, site_id: int) -> None:
    from service.comments import post_comment
    from service.spam.bots import issue_render_token

    engine = app.extensions["scoring"]
    engine.load()
    # Friendly comments that differ in most words: texts alike but for a number are a duplicate
    # wave to the spam rules, held after the second.
    words = (  # noqa: SIM905 - a paragraph of words reads better than a column
        "council budget school library park election housing river bridge bakery train station "
        "museum garden harbour festival teacher nurse mayor market bicycle theatre village "
        "orchestra stadium hospital bus ferry clinic forest"
    ).split()
    rng = random.Random(7)
    for i in range(50):
        topic = " and the ".join(rng.sample(words, 4))
        body = {
            "article": {"id": "bench-article", "url": f"{ORIGIN}/a", "title": "Bench"},
            "author": {"name": f"Reader {i}"},
            "text": f"Thoughtful reporting on the {topic}; thank you for explaining it.",
            "render_token": issue_render_token(b"bench", site_id, "bench-article", time.time() - 60),
        }
        result = post_comment(
            site_id, body, engine=engine, deadline=5, network=f"seed-{i}", render_secret=b"bench"
        )
        assert result.body["status"] == "approved", result.body
    engine.close()


def seed_counted_articles(site_id: int) -> None:
    """COUNT_ARTICLES articles with their approved comments already counted (articles.approved_count,
    which is what the counts read: posting 200 threads' comments through the scorer would only
    make the seed slow)."""
    from service.db import Article
    from service.extensions import db

    rng = random.Random(11)
    db.session.execute(
        sa.insert(Article),
        [
            {
                "site_id": site_id,
                "external_id": f"news-{n:04d}",
                "url": f"{ORIGIN}/news/{n}",
                "title": f"News {n}",
                "approved_count": rng.randrange(0, 400),
                "thread_version": 1,
            }
            for n in range(COUNT_ARTICLES)
        ],
    )
    db.session.commit()


def counts_paths() -> list[str]:
    ids = [f"news-{n:04d}" for n in range(COUNT_ARTICLES)]
    return [
        "/v1/articles/counts?" + "&".join(f"ids={i}" for i in ids[p : p + 50]) for p in range(0, len(ids), 50)
    ]


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


def server_cpu_seconds(pid: int) -> float:
    """CPU time of a gunicorn master and its workers so far (Linux /proc)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # a process that ended meanwhile
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent's pid
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def run_wrk(
    url: str,
    seconds: int,
    connections: int,
    headers: dict[str, str],
    script: str | None = None,
    server_pid: int | None = None,
) -> dict:
    """wrk's figures; with server_pid, also the server's CPU time per request, which on a machine
    other loads share compares two servers more steadily than their req/s."""
    time.sleep(1)  # let the workers finish closing the last load's connections
    cpu_before = server_cpu_seconds(server_pid) if server_pid else 0.0
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
    result = {
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "rps": rps,
        "p50": percentiles.get("50"),
        "p99": percentiles.get("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }
    if server_pid:
        result["cpu_us"] = (server_cpu_seconds(server_pid) - cpu_before) / max(result["requests"], 1) * 1e6
    return result


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
    parser.add_argument(
        "--database",
        default="bench_api",
        help="the PostgreSQL database it (re)creates: one per concurrent run",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--only", choices=["get", "post", "counts"], help="run one of the loads")
    parser.add_argument(
        "--warmup",
        type=int,
        default=5,
        help="seconds of posting (8 connections, bodies kept apart) then ANALYZE, before POST is "
        "measured: a site that has been taking comments has its planner statistics; a new "
        "database has none until autovacuum's first analyze (0: measure that cold start)",
    )
    parser.add_argument(
        "--legacy-bodies",
        action="store_true",
        help="POST without reader and render tokens (a service from before issue 12; with --only post)",
    )
    parser.add_argument(
        "--embedded-webhooks",
        action="store_true",
        help="deliver webhooks from the API workers (the no-broker default) instead of elsewhere",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    url = prepare_database(args.database)
    key, bodies = seed(
        url,
        thread=args.only in (None, "get"),
        legacy=args.legacy_bodies,
        counts=args.only in (None, "counts"),
        posts=args.only in (None, "post"),
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RATELIMIT_ENABLED": "false",
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
        # wrk plays the proxy in front: each POST comes from its reader's own network.
        "PROXY_COUNT": "1",
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
        thread = "/v1/articles/bench-article/comments?limit=50"
        for connections in loads if args.only in (None, "get") else []:
            results[f"GET comments (50) ({connections} connections)"] = run_wrk(
                f"{base}{thread}", args.seconds, connections, headers, server_pid=server.pid
            )
        if args.only in (None, "get"):
            results.update(run_bare(base, thread, headers, args, loads))
        for connections in loads if args.only in (None, "counts") else []:
            results[f"GET counts (50 articles) ({connections} connections)"] = run_counts(
                base, headers, args.seconds, connections, server.pid
            )
        posts, warm = bodies[:-WARM_BODIES], bodies[-WARM_BODIES:]
        if args.warmup and args.only in (None, "post"):
            run_post(base, key, warm, args.warmup, 8)
            analyze(url)
        for connections in loads if args.only in (None, "post") else []:
            name = f"POST comment ({connections} connections)"
            results[name] = run_post(
                base, key, posts, args.seconds, connections, server_pid=server.pid, url=url
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    report(args, results)


def run_bare(base: str, thread: str, headers: dict[str, str], args, loads: list[int]) -> dict:
    """The same GET from a bare Flask app under gunicorn (bench/bare_flask.py) serving the bytes
    the service answered: the floor the service's GET is compared with."""
    request = urllib.request.Request(f"{base}{thread}", headers=headers)
    with urllib.request.urlopen(request) as response:  # noqa: S310 - loopback
        body, etag = response.read(), response.headers["ETag"]
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "body.json"
        path.write_bytes(body)
        port = free_port()
        bare = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "--threads", str(args.threads)]
            + ["-b", f"127.0.0.1:{port}", "--log-level", "warning", "bench.bare_flask:app"],
            cwd=ROOT,
            env={**os.environ, "BARE_BODY": str(path), "BARE_ETAG": etag},
        )
        try:
            end = time.time() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{thread}", timeout=2) as r:  # noqa: S310
                        assert r.read() == body
                    break
                except OSError:
                    if time.time() > end:
                        raise
                    time.sleep(0.3)
            for connections in loads:
                results[f"GET bare Flask ({connections} connections)"] = run_wrk(
                    f"http://127.0.0.1:{port}{thread}",
                    args.seconds,
                    connections,
                    headers,
                    server_pid=bare.pid,
                )
        finally:
            bare.send_signal(signal.SIGTERM)
            bare.wait(timeout=30)
    return results


def database_cpu_seconds(url: str) -> float:
    """CPU time so far of the PostgreSQL backends serving `url`'s database (Linux /proc): the
    pool's connections live through a load, so the difference over it is the database's share."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        pids = conn.execute(
            sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            )
        ).scalars()
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a backend that ended meanwhile
                continue
            ticks += int(fields[11]) + int(fields[12])
    engine.dispose()
    return ticks / os.sysconf("SC_CLK_TCK")


def run_counts(base: str, headers: dict[str, str], seconds: int, connections: int, server_pid: int) -> dict:
    paths = counts_paths()
    request = urllib.request.Request(f"{base}{paths[0]}", headers=headers)
    with urllib.request.urlopen(request) as response:  # noqa: S310 - loopback
        assert len(json.load(response)["counts"]) == 50
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "counts.lua"
        script.write_text(COUNTS_SCRIPT % {"paths": ", ".join(json.dumps(p) for p in paths)})
        return run_wrk(f"{base}{paths[0]}", seconds, connections, headers, str(script), server_pid=server_pid)


def analyze(url: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()


def run_post(
    base: str,
    key: str,
    bodies: list[tuple[str, str]],
    seconds: int,
    connections: int,
    server_pid: int | None = None,
    url: str | None = None,
) -> dict:
    """wrk's figures for POST; with server_pid and url, also the service's and the database's CPU
    time per POST, steadier than req/s when other loads share the machine."""
    with tempfile.TemporaryDirectory() as folder:
        pool, script = Path(folder) / "bodies.tsv", Path(folder) / "post.lua"
        pool.write_text(body_lines(bodies))
        script.write_text(POST_SCRIPT % {"key": key, "origin": ORIGIN, "bodies": pool})
        database_before = database_cpu_seconds(url) if url else 0.0
        result = run_wrk(f"{base}/v1/comments", seconds, connections, {}, str(script), server_pid)
        if url:
            spent = database_cpu_seconds(url) - database_before
            result["db_cpu_us"] = spent / max(result["requests"], 1) * 1e6
        return result


def report(args, results: dict) -> None:
    webhooks = "delivered by the API workers" if args.embedded_webhooks else "delivered elsewhere"
    print(
        f"\nAPI benchmark: gunicorn {args.workers} workers x {args.threads} threads, PostgreSQL, "
        f"wrk {args.seconds}s per load, {os.cpu_count()} cores, "
        f"webhooks {webhooks}, POST after {args.warmup}s of warm-up posts and ANALYZE\n"
    )
    print(f"{'request':<36} {'req/s':>8} {'p50':>9} {'p99':>9} {'non-2xx':>8}")
    for name, r in results.items():
        print(f"{name:<36} {r['rps']:>8.0f} {r['p50']:>9} {r['p99']:>9} {r['non_2xx']:>8}")
    for name, r in results.items():
        if name.startswith("POST") and "db_cpu_us" in r:
            print(
                f"{name}: CPU per POST {r['cpu_us']:.0f} us in the service, "
                f"{r['db_cpu_us']:.0f} us in PostgreSQL"
            )
    for name, r in results.items():
        bare = results.get(name.replace("GET comments (50)", "GET bare Flask"))
        if name.startswith("GET comments") and bare:
            print(
                f"{name}: {r['rps'] / bare['rps']:.0%} of the bare Flask app's req/s; server CPU per "
                f"request {r['cpu_us']:.0f} us against {bare['cpu_us']:.0f} us "
                f"({bare['cpu_us'] / r['cpu_us']:.0%})"
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
