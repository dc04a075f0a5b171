"""Moderation queue at scale: 1,000,000 comments in PostgreSQL.

Seeds one site with 1,000 articles and a million comments (90% approved, 5% held, 3% rejected,
1% pending, 1% reported), then measures server-side latency (Flask in-process, real
PostgreSQL) of queue pages of 50: first page and deep pages by cursor, in each sort, with
filters; the queue counts; and moderators' decisions. Prints p50/p95/p99 and the query plans.

    .venv/bin/python bench/moderation_queue.py [--rows 1000000] [--repeat 40] [--keep]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DB_NAME = "bench_queue"

SEED = """
INSERT INTO comments (site_id, article_id, depth, status, author_name, author_key, text, scores,
                      max_score, model_name, model_version, reasons, report_count, reports_open,
                      version, created_at, updated_at)
SELECT 1, 1 + (g % 1000), 0,
       CASE WHEN g % 100 < 90 THEN 'approved' WHEN g % 100 < 95 THEN 'held'
            WHEN g % 100 < 98 THEN 'rejected' WHEN g % 100 < 99 THEN 'pending' ELSE 'approved' END,
       'Reader ' || (g % 20000), 'user:' || (g % 20000),
       'Comment number ' || g || ' on the council budget and the school closures',
       CASE WHEN g % 100 BETWEEN 98 AND 98 THEN NULL ELSE jsonb_build_object(
            'toxicity', r, 'severe_toxicity', r * 0.2, 'obscene', r * 0.5, 'threat', r * 0.1,
            'insult', r * 0.8, 'identity_attack', r * 0.3) END,
       CASE WHEN g % 100 = 98 THEN -1 ELSE r END,
       'embedded', 'bench', '[]'::jsonb,
       CASE WHEN g % 100 = 99 THEN 1 + g % 5 ELSE 0 END,
       CASE WHEN g % 100 = 99 THEN 1 + g % 5 ELSE 0 END,
       1, now() - (:rows - g) * interval '1 second', now() - (:rows - g) * interval '1 second'
FROM (SELECT g, random() AS r FROM generate_series(1, :rows) AS g) AS s
"""


def percentiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]  # noqa: E731
    return {"p50": pick(0.5) * 1000, "p95": pick(0.95) * 1000, "p99": pick(0.99) * 1000}


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    from service import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)


def prepare(rows: int, keep: bool) -> str:
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{DB_NAME}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": DB_NAME}).first()
    if exists and keep:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            if conn.execute(sa.text("SELECT count(*) FROM comments")).scalar() == rows:
                print(f"reusing {DB_NAME} with {rows:,} comments", file=sys.stderr)
                migrate(url)
                return url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DB_NAME}"'))
    from service import create_app
    from service.sites import create_site

    migrate(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        create_site(
            {"slug": "bench", "name": "Bench", "allowed_origins": ["https://bench.example"], "policy": {}}
        )
    engine = sa.create_engine(url)
    started = time.time()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO articles (site_id, external_id, url, title, closed, premoderated, "
                "approved_count, thread_version, created_at) "
                "SELECT 1, 'article-' || g, 'https://bench.example/' || g, "
                "'Article ' || g, false, false, 0, 0, now() FROM generate_series(1, 1000) g"
            )
        )
    step = 100_000
    for start in range(0, rows, step):
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    SEED.replace(
                        "generate_series(1, :rows)",
                        f"generate_series({start + 1}, {min(rows, start + step)})",
                    )
                ),
                {"rows": rows},
            )
        print(f"\rseeded {min(rows, start + step):,}/{rows:,} comments", end="", file=sys.stderr)
    with app.app_context():
        from service.authors import recount

        recount()  # the seed wrote comments around the transitions that count authors
    # What autovacuum does soon after a bulk load: statistics, and the visibility map that lets
    # index-only scans (author histories) skip the table.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE comments"))
    print(f"\nseeded in {time.time() - started:.0f}s", file=sys.stderr)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="reuse a seeded database of the same size")
    args = parser.parse_args()

    url = prepare(args.rows, args.keep)
    from service import create_app
    from service.sites import issue_key

    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING"}
    )
    app.extensions["scoring"].load()
    with app.app_context():
        key = issue_key(None, "moderator", "bench")[1]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}

    def timed(path: str, params: dict | None = None) -> tuple[float, dict]:
        started = time.perf_counter()
        response = client.get(path, query_string=params or {}, headers=headers)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.get_json()
        return elapsed, response.get_json()

    cases = {
        "held, oldest, first page": {"queue": "held"},
        "held, newest, first page": {"queue": "held", "sort": "newest"},
        "held, most toxic, first page": {"queue": "held", "sort": "toxic"},
        "reported, most reported": {"queue": "reported", "sort": "reported"},
        "pending, oldest": {"queue": "pending"},
        "held, insult >= 0.9": {"queue": "held", "label": "insult", "min_score": 0.9},
        "held, words 'budget'": {"queue": "held", "q": "budget"},
        "held, one author": {"queue": "held", "author": "user:123"},
        "held, one article": {"queue": "held", "site": "bench", "article": "article-7"},
        "approved, oldest": {"queue": "approved"},
    }
    results: dict[str, dict] = {}
    for name, params in cases.items():
        params = {"limit": 50, **params}
        for _ in range(3):  # warm caches
            timed("/v1/moderation/comments", params)
        first = [timed("/v1/moderation/comments", params)[0] for _ in range(args.repeat)]
        results[name] = percentiles(first)
        # Deep pages: walk 20 pages by cursor, then time the pages from there on.
        cursor = None
        for _ in range(20):
            _, page = timed("/v1/moderation/comments", {**params, **({"cursor": cursor} if cursor else {})})
            cursor = page["next_cursor"]
            if not cursor:
                break
        if cursor:
            deep = []
            for _ in range(args.repeat):
                elapsed, page = timed("/v1/moderation/comments", {**params, "cursor": cursor})
                deep.append(elapsed)
            results[name + " (page 21)"] = percentiles(deep)

    counts = [timed("/v1/moderation/queues")[0] for _ in range(10)]
    results["queue counts (5 queues)"] = percentiles(counts)

    _, page = timed("/v1/moderation/comments", {"queue": "held", "limit": 100})
    decisions = []
    for item in page["items"][: args.repeat]:
        started = time.perf_counter()
        response = client.post(
            f"/v1/moderation/comments/{item['id']}/decision",
            json={"status": "approved"},
            headers={**headers, "If-Match": f'"{item["version"]}"'},
        )
        decisions.append(time.perf_counter() - started)
        assert response.status_code == 200, response.get_json()
    results["decision (approve)"] = percentiles(decisions)

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        item = (
            "SELECT c.*, a.external_id, a.title, a.url, au.approved_count, au.rejected_count, au.held_count "
            "FROM comments c JOIN articles a ON a.id = c.article_id LEFT JOIN authors au "
            "ON au.site_id = c.site_id AND au.author_key = c.author_key WHERE c.site_id = 1 AND "
        )
        plans = {
            "held, oldest": item + "c.status = 'held' AND c.reports_open = 0 ORDER BY c.id LIMIT 51",
            "held, most toxic (page 21)": item + "c.status = 'held' AND c.reports_open = 0 "
            "AND (c.max_score, c.id) < (0.5, 500000) ORDER BY c.max_score DESC, c.id DESC LIMIT 51",
            "held, insult >= 0.9": item + "c.status = 'held' AND c.reports_open = 0 "
            "AND CAST((c.scores ->> 'insult') AS FLOAT) >= 0.9 ORDER BY c.id LIMIT 51",
            "reported, most reported": item + "c.reports_open > 0 AND c.status IN ('approved', 'held') "
            "ORDER BY c.report_count DESC, c.id DESC LIMIT 51",
        }
        plan_text = {
            name: "\n".join(row[0] for row in conn.execute(sa.text("EXPLAIN ANALYZE " + sql)))
            for name, sql in plans.items()
        }

    print(f"\nQueue benchmark: {args.rows:,} comments in PostgreSQL, pages of 50, server-side latency (ms)\n")
    print(f"{'case':<40} {'p50':>7} {'p95':>7} {'p99':>7}")
    for name, r in results.items():
        print(f"{name:<40} {r['p50']:>7.1f} {r['p95']:>7.1f} {r['p99']:>7.1f}")
    for name, text in plan_text.items():
        print(f"\nplan: {name}\n{text}")
    print(json.dumps({"benchmark": "queue", "rows": args.rows, "results": results}))


if __name__ == "__main__":
    main()
