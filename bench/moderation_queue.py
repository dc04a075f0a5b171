"""Moderation queue at scale: 1,000,000 comments in PostgreSQL.

Seeds one site with 1,000 articles and a million comments (90% approved, 5% held, 3% rejected,
1% pending, 1% reported), then measures server-side latency (Flask in-process, real
PostgreSQL) of queue pages of 50: first page and deep pages by cursor, in each sort, with
filters; the queue counts; and moderators' decisions. Prints p50/p95/p99 and the plans of the
queries a page runs.

It measures twice: first with no planner statistics at all (the tables as a bulk load leaves
them before autovacuum has run: autovacuum is off for them during the run), then after
VACUUM ANALYZE. Production meets stale statistics, so a page must be fast in both.

    .venv/bin/python bench/moderation_queue.py [--rows 1000000] [--repeat 40] [--keep]
                                               [--stats stale,analyzed]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DB_NAME = "bench_queue"
TABLES = ("comments", "authors", "articles")

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
            seeded = conn.execute(sa.text("SELECT count(*) FROM comments")).scalar()
        engine.dispose()  # a migration that alters the table would wait for this connection
        if seeded == rows:
            print(f"reusing {DB_NAME} with {rows:,} comments", file=sys.stderr)
            migrate(url)
            return url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DB_NAME}"'))
    from service import create_app
    from service.sites import create_site

    migrate(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        # Statistics are the run's to take (or not): autovacuum would analyze mid-run.
        for table in TABLES:
            conn.execute(sa.text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        create_site(
            {"slug": "bench", "name": "Bench", "allowed_origins": ["https://bench.example"], "policy": {}}
        )
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
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE comments"))  # for recount's plan; the runs set statistics their way
    with app.app_context():
        from service.authors import recount

        recount()  # the seed wrote comments around the transitions that count authors
    print(f"\nseeded in {time.time() - started:.0f}s", file=sys.stderr)
    return url


def forget_statistics(url: str) -> None:
    """Put the tables back as a bulk load leaves them: never analyzed, never vacuumed (as far as
    the planner can tell). Needs a superuser, as the benchmark's PostgreSQL user is."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in TABLES:
            conn.execute(sa.text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
            forget = "DELETE FROM pg_statistic WHERE starelid = CAST(:t AS regclass)"
            conn.execute(sa.text(forget), {"t": table})
            conn.execute(
                sa.text(
                    "UPDATE pg_class SET reltuples = -1, relpages = 0, relallvisible = 0 "
                    "WHERE oid = CAST(:t AS regclass) "
                    "OR oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = CAST(:t AS regclass))"
                ),
                {"t": table},
            )
    engine.dispose()


def analyze(url: str) -> None:
    """What autovacuum does soon after a bulk load: statistics, and the visibility map that lets
    index-only scans (author histories) skip the table."""
    engine = sa.create_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in TABLES:
            conn.execute(sa.text(f"VACUUM ANALYZE {table}"))
    engine.dispose()


def estimates(url: str) -> str:
    """What the planner believes of each table's size, next to the truth."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        lines = []
        for table in TABLES:
            reltuples = conn.execute(
                sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table}
            ).scalar()
            rows = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
            lines.append(f"{table}: {rows:,} rows, pg_class.reltuples {reltuples:,.0f}")
    engine.dispose()
    return "; ".join(lines)


CASES = {
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
# Pages whose queries are explained (the statements the service runs, with their parameters):
# every case's first page, and a page of the toxic sort past the first (a keyset condition).
PLANNED = {**CASES, "held, most toxic (page 2)": {"queue": "held", "sort": "toxic", "pages": 2}}


def measure(client, headers: dict, repeat: int) -> dict[str, dict]:
    def timed(path: str, params: dict | None = None) -> tuple[float, dict]:
        started = time.perf_counter()
        response = client.get(path, query_string=params or {}, headers=headers)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.get_json()
        return elapsed, response.get_json()

    results: dict[str, dict] = {}
    for name, params in CASES.items():
        params = {"limit": 50, **params}
        for _ in range(3):  # warm caches
            timed("/v1/moderation/comments", params)
        first = [timed("/v1/moderation/comments", params)[0] for _ in range(repeat)]
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
            for _ in range(repeat):
                elapsed, page = timed("/v1/moderation/comments", {**params, "cursor": cursor})
                deep.append(elapsed)
            results[name + " (page 21)"] = percentiles(deep)

    counts = [timed("/v1/moderation/queues")[0] for _ in range(10)]
    results["queue counts (5 queues)"] = percentiles(counts)

    _, page = timed("/v1/moderation/comments", {"queue": "held", "limit": 100})
    decisions = []
    for item in page["items"][:repeat]:
        started = time.perf_counter()
        response = client.post(
            f"/v1/moderation/comments/{item['id']}/decision",
            json={"status": "approved"},
            headers={**headers, "If-Match": f'"{item["version"]}"'},
        )
        decisions.append(time.perf_counter() - started)
        assert response.status_code == 200, response.get_json()
    results["decision (approve)"] = percentiles(decisions)
    return results


def plans(app, client, headers: dict) -> dict[str, tuple[float, str]]:
    """EXPLAIN ANALYZE of each statement a page runs on the comments, articles and authors: the
    database's time for the page (planning and execution, summed) and the plans."""
    from service.extensions import db

    statements: list[tuple[str, object]] = []

    requests_thread = threading.get_ident()

    def record(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() != requests_thread or not statement.lstrip().startswith(("SELECT", "WITH")):
            return  # the page's reads only (EXPLAIN ANALYZE runs what it explains)
        planner = "set_config(" in statement  # settings the service gives the planner
        if planner or any(f" {t}" in statement for t in TABLES) and "api_keys" not in statement:
            statements.append((statement, parameters))

    out = {}
    with app.app_context():
        engine = db.engine
    for name, params in PLANNED.items():
        params = {"limit": 50, **params}
        pages = params.pop("pages", 1)
        cursor = None
        for _ in range(pages - 1):
            page = client.get("/v1/moderation/comments", query_string=params, headers=headers).get_json()
            cursor = page["next_cursor"]
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            response = client.get("/v1/moderation/comments", query_string=query, headers=headers)
            assert response.status_code == 200, response.get_json()
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        texts, milliseconds = [], 0.0
        with engine.connect() as conn:  # one transaction, as the request's: settings hold in it
            for statement, parameters in statements:
                if "set_config(" in statement:
                    conn.exec_driver_sql(statement, parameters)
                    texts.append(" ".join(statement.split()) + f" {parameters}")
                    continue
                lines = [row[0] for row in conn.exec_driver_sql("EXPLAIN ANALYZE " + statement, parameters)]
                milliseconds += sum(
                    float(line.split(":")[1].split()[0]) for line in lines if line.endswith(" ms")
                )
                texts.append(" ".join(statement.split()) + "\n" + "\n".join(lines))
        out[name] = (milliseconds, "\n\n".join(texts))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="reuse a seeded database of the same size")
    parser.add_argument(
        "--stats",
        default="stale,analyzed",
        help="comma-separated, in order: stale (no statistics, as after a bulk load), analyzed",
    )
    parser.add_argument("--no-plans", action="store_true", help="skip EXPLAIN ANALYZE of the pages")
    args = parser.parse_args()
    modes = args.stats.split(",")
    if set(modes) - {"stale", "analyzed"}:
        sys.exit("--stats takes stale and analyzed")

    url = prepare(args.rows, args.keep)
    from service import create_app
    from service.sites import issue_key

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            # The queue measured alone: no thread scoring the pending comments or sending webhooks.
            "JOBS_EMBEDDED_WORKER": False,
            "WEBHOOK_EMBEDDED_WORKER": False,
        }
    )
    app.extensions["scoring"].load()
    with app.app_context():
        key = issue_key(None, "moderator", "bench")[1]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}

    results: dict[str, dict[str, dict]] = {}
    plan_text: dict[str, dict[str, str]] = {}
    beliefs: dict[str, str] = {}
    for mode in modes:
        if mode == "stale":
            forget_statistics(url)
        else:
            analyze(url)
        with app.app_context():
            from service.extensions import db

            db.engine.dispose()  # no plan cached by a connection from before
        beliefs[mode] = estimates(url)
        results[mode] = measure(client, headers, args.repeat)
        if not args.no_plans:
            plan_text[mode] = plans(app, client, headers)

    print(f"\nQueue benchmark: {args.rows:,} comments in PostgreSQL, pages of 50, server-side latency (ms)")
    for mode in modes:
        print(f"\n{mode} statistics ({beliefs[mode]})")
        print(f"{'case':<40} {'p50':>7} {'p95':>7} {'p99':>7}")
        for name, r in results[mode].items():
            print(f"{name:<40} {r['p50']:>7.1f} {r['p95']:>7.1f} {r['p99']:>7.1f}")
    for mode, texts in plan_text.items():
        for name, (_, text) in texts.items():
            print(f"\nplan ({mode} statistics): {name}\n{text}")
    if plan_text:
        print("\nDatabase time per page (EXPLAIN ANALYZE, planning + execution of its statements, ms)")
        print(f"{'case':<40}" + "".join(f" {mode:>9}" for mode in plan_text))
        for name in PLANNED:
            print(f"{name:<40}" + "".join(f" {texts[name][0]:>9.2f}" for texts in plan_text.values()))
    print(json.dumps({"benchmark": "queue", "rows": args.rows, "results": results}))


if __name__ == "__main__":
    main()
