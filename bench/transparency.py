"""Transparency reports at scale in PostgreSQL: the cost of one site's report over a month and
over a year, with the plan of its largest query (the moderation events by actor and status).

Seeds SITES sites with ROWS comments over a year, each with its posting event (the policy's
decision; 4% rejected, half of those on a model label) and, for 10%, a moderator's later decision;
a statement for every rejection; a notice for 1 comment in 200 (of site1), decided an hour later. ANALYZE.

    .venv/bin/python bench/transparency.py [--rows 500000] [--sites 20] [--repeat 10] [--keep]
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
DB_NAME = "bench_transparency"
YEAR = ":rows - g) * (interval '1 year' / :rows)"

SEED = [
    """
    INSERT INTO sites (slug, name, allowed_origins, policy, created_at, updated_at)
    SELECT 'site' || s, 'Site ' || s, '[]'::jsonb, '{}'::jsonb, now(), now()
    FROM generate_series(1, :sites) AS s
    """,
    """
    INSERT INTO articles (site_id, external_id, url, title, closed, premoderated, verified,
                          approved_count, thread_version, created_at)
    SELECT s, 'a1', 'https://news.example/a1', 'Article', false, false, true, 0, 0, now()
    FROM generate_series(1, :sites) AS s
    """,
    f"""
    INSERT INTO comments (site_id, article_id, depth, status, author_name, author_key, text, reasons,
                          max_score, report_count, reports_open, version, created_at, updated_at)
    SELECT 1 + g % :sites, 1 + g % :sites, 0,
           CASE WHEN g % 100 < 4 THEN 'rejected' ELSE 'approved' END,
           'Reader', 'user:' || (g % 20000), 'Comment number ' || g, '[]'::jsonb, 0.1,
           0, 0, 1, now() - ({YEAR}, now()
    FROM generate_series(1, :rows) AS g
    """,
    """
    INSERT INTO moderation_events (comment_id, site_id, actor, from_status, to_status, reason, note,
                                   reasons, created_at)
    SELECT id, site_id, 'system', NULL, status, '', '',
           CASE WHEN status = 'rejected' AND id % 2 = 0
                THEN '[{"code": "label_above_reject", "label": "insult", "score": 0.9}]'::jsonb
                WHEN status = 'rejected' THEN '[{"code": "banned_word"}]'::jsonb
                ELSE '[]'::jsonb END,
           created_at
    FROM comments
    """,
    """
    INSERT INTO moderation_events (comment_id, site_id, actor, from_status, to_status, reason, note,
                                   reasons, created_at)
    SELECT id, site_id, CASE WHEN id % 3 = 0 THEN 'integration:1' ELSE 'user:' || (id % 7) END,
           'approved', CASE WHEN id % 2 = 0 THEN 'rejected' ELSE 'deleted' END, 'abuse', '',
           '[{"code": "reported", "score": 2}]'::jsonb, created_at + interval '2 hours'
    FROM comments WHERE id % 10 = 5
    """,
    """
    INSERT INTO statements (public_id, site_id, comment_id, moderation_event_id, author_key,
                            restriction, ground, category, ground_reference, explanation, facts,
                            automated_detection, automated_decision, source, decided_by,
                            content_date, created_at)
    SELECT 'sor_' || e.id, e.site_id, e.comment_id, e.id, 'user:1', e.to_status, 'site_rules',
           'STATEMENT_CATEGORY_OTHER_VIOLATION_TC', 'rules', 'x', 'x',
           e.actor = 'system', CASE WHEN e.actor = 'system' THEN 'fully' ELSE 'not_automated' END,
           'voluntary', CASE WHEN e.actor = 'system' THEN 'system' ELSE 'moderator' END,
           e.created_at, e.created_at + interval '3 minutes'
    FROM moderation_events e WHERE e.to_status IN ('rejected', 'deleted')
    """,
    """
    INSERT INTO notices (public_id, site_id, comment_id, category, explanation, reporter_name,
                         reporter_email, good_faith, status, decision, restricted, legal_ground,
                         decision_explanation, decided_by, decided_at, created_at)
    SELECT 'ntc_' || id, site_id, id,
           CASE WHEN id % 3 = 0 THEN 'STATEMENT_CATEGORY_VIOLENCE'
                ELSE 'STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH' END,
           'explanation', 'Rita', 'rita@example.org', true, 'decided',
           CASE WHEN id % 2 = 0 THEN 'illegal' ELSE 'not_illegal' END, id % 2 = 0, '', '', 'user:1',
           created_at + interval '1 hour', created_at
    FROM comments WHERE id % 200 = 20
    """,
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DB_NAME}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{DB_NAME}"

    from flask_migrate import upgrade

    from service import create_app
    from service.db import utcnow
    from service.extensions import db
    from service.governance import transparency

    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        started = time.perf_counter()
        for statement in SEED:
            db.session.execute(sa.text(statement), {"rows": args.rows, "sites": args.sites})
        db.session.commit()
        events = db.session.scalar(sa.text("SELECT count(*) FROM moderation_events"))
        print(
            f"seeded {args.rows:,} comments, {events:,} events on {args.sites} sites in "
            f"{time.perf_counter() - started:.1f} s"
        )
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))

        until = utcnow()
        for label, days in (("a month", 30), ("a year", 366)):
            since = until - timedelta(days=days)
            transparency.report(1, "site1", since, until)  # warm-up
            samples = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                report = transparency.report(1, "site1", since, until)
                samples.append(time.perf_counter() - started)
            db.session.rollback()
            print(
                f"report of one site over {label} ({report['decisions']['total']:,} decisions, "
                f"{report['restrictions']['total']:,} restrictions, "
                f"{report['notices']['received']:,} notices): "
                f"p50 {statistics.median(samples) * 1000:.1f} ms, max {max(samples) * 1000:.1f} ms"
            )
        plan = (
            db.session.execute(
                sa.text(
                    "EXPLAIN (ANALYZE, COSTS OFF) SELECT actor LIKE 'user:%', to_status, count(*) "
                    "FROM moderation_events WHERE site_id = 1 AND created_at >= now() - interval '30 days' "
                    "AND created_at < now() GROUP BY 1, 2"
                )
            )
            .scalars()
            .all()
        )
        print("plan of the decisions' count (a month):\n  " + "\n  ".join(plan))
        db.session.remove()
        db.engine.dispose()

    if not args.keep:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
