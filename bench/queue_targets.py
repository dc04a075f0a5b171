"""Queue time targets at scale in PostgreSQL: the cost of a /metrics scrape (the age of each site's
oldest held and reported comment) and of the queue-targets job.

Seeds SITES sites with ROWS comments in all (90% approved, 5% held, 1% reported with an open
report each), every site with targets, and ANALYZE. Prints the scrape's latency and plan, then the
job's first run (announcing every late comment, batch after batch) and a second run, which finds
nothing new but walks the late comments again (the steady state while a backlog waits).

    .venv/bin/python bench/queue_targets.py [--rows 500000] [--sites 20] [--repeat 30] [--keep]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DB_NAME = "bench_queue_targets"

SITES = """
INSERT INTO sites (slug, name, allowed_origins, policy, created_at, updated_at)
SELECT 'site' || s, 'Site ' || s, '[]'::jsonb,
       '{"queue_targets": {"held": 60, "reported": 30}}'::jsonb, now(), now()
FROM generate_series(1, :sites) AS s
"""
ARTICLES = """
INSERT INTO articles (site_id, external_id, url, title, closed, premoderated, verified,
                      approved_count, thread_version, created_at)
SELECT s, 'a1', 'https://news.example/a1', 'Article', false, false, true, 0, 0, now()
FROM generate_series(1, :sites) AS s
"""
COMMENTS = """
INSERT INTO comments (site_id, article_id, depth, status, author_name, author_key, text, reasons,
                      max_score, report_count, reports_open, version, created_at, updated_at)
SELECT 1 + (g / 100) % :sites, 1 + (g / 100) % :sites, 0,
       CASE WHEN g % 100 < 90 THEN 'approved' WHEN g % 100 < 95 THEN 'held'
            WHEN g % 100 < 99 THEN 'rejected' ELSE 'approved' END,
       'Reader', 'user:' || (g % 20000), 'Comment number ' || g, '[]'::jsonb, 0.1,
       CASE WHEN g % 100 = 99 THEN 1 ELSE 0 END, CASE WHEN g % 100 = 99 THEN 1 ELSE 0 END,
       1, now() - (:rows - g) * interval '2 second', now()
FROM generate_series(1, :rows) AS g
"""
REPORTS = """
INSERT INTO reports (comment_id, site_id, reporter_key, weight, flood, reason, note, created_at)
SELECT id, site_id, 'net:bench', 1, false, 'abuse', '', created_at + interval '1 minute'
FROM comments WHERE reports_open > 0
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DB_NAME}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{DB_NAME}"

    from flask_migrate import upgrade

    from service import create_app
    from service.extensions import db
    from service.jobs.maintenance import StepContext
    from service.queue_targets import _held_since, _reported_since, missed_targets_step, oldest_waiting

    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        started = time.perf_counter()
        params = {"rows": args.rows, "sites": args.sites}
        for statement in (SITES, ARTICLES, COMMENTS, REPORTS):
            db.session.execute(sa.text(statement), params)
        db.session.commit()
        print(f"seeded {args.rows:,} comments on {args.sites} sites in {time.perf_counter() - started:.1f} s")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))

        oldest_waiting()  # warm-up
        samples = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            ages = oldest_waiting()
            samples.append(time.perf_counter() - started)
        db.session.rollback()
        print(
            f"scrape (oldest held and reported per site, {len(ages)} series): "
            f"p50 {statistics.median(samples) * 1000:.2f} ms, max {max(samples) * 1000:.2f} ms"
        )
        print("oldest ages (s):", sorted({round(a["age_seconds"]) for a in ages})[:4], "...")

        from service.db import Site

        statement = sa.select(Site.slug, _held_since().label("held"), _reported_since().label("reported"))
        sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
        plan = db.session.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)).scalars().all()
        db.session.rollback()
        print("plan of the scrape:\n  " + "\n  ".join(plan))

        for label in ("first run (announces every late comment)", "second run (nothing new)"):
            started, counts, batches = time.perf_counter(), {}, 0
            while True:
                step = missed_targets_step(StepContext(app, _now() + timedelta(hours=1), batch_size=500))
                batches += 1
                for key, value in step.counts.items():
                    counts[key] = counts.get(key, 0) + value
                if not step.more:
                    break
            print(f"job {label}: {counts} in {batches} batches, {time.perf_counter() - started:.2f} s")
        db.session.remove()
        db.engine.dispose()

    if not args.keep:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))


def _now():
    from service.db import utcnow

    return utcnow()


if __name__ == "__main__":
    main()
