"""Import speed: a generated Disqus export of N comments into PostgreSQL.

Writes a Disqus XML file (threads first, then posts: 30% replies, a few listed before their
parent, 1% spam, 1% deleted), creates a fresh database, then imports the file in this process the
way `flask imports run` does, and prints comments per second and the process's peak memory (the
maximum resident set size, which includes the app itself: its figure before the import is
printed too). A second run of the same file measures the idempotency check (it adds nothing).

    .venv/bin/python bench/import.py [--comments 1000000] [--keep-file] [--no-again]

Target: >= 5,000 comments/s and < 300 MB for 1,000,000 comments.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from pathlib import Path
from xml.sax.saxutils import escape

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DB_NAME = "bench_import"
WORDS = [
    "the",
    "council",
    "budget",
    "school",
    "closures",
    "rail",
    "strike",
    "housing",
    "plan",
    "weather",
    "river",
    "flood",
    "mayor",
    "vote",
    "clear",
    "thanks",
    "disagree",
    "agree",
    "point",
    "article",
    "reader",
    "question",
    "answer",
    "figures",
    "tax",
]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: Path, comments: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    threads = max(1, comments // 25)
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
            'xmlns:dsq="http://disqus.com/disqus-internals">\n'
        )
        for t in range(threads):
            out.write(
                f'<thread dsq:id="t{t}"><id>article-{t}</id><forum>bench</forum>'
                f"<link>https://news.example/articles/{t}</link><title>Article {t}</title>"
                "<createdAt>2020-01-01T00:00:00Z</createdAt><isClosed>false</isClosed>"
                "<isDeleted>false</isDeleted></thread>\n"
            )
        held_back: list[str] = []
        for n in range(comments):
            thread = rng.randrange(threads)
            parent = ""
            if n > 10 and rng.random() < 0.3:
                parent = f'<parent dsq:id="p{rng.randrange(max(0, n - 50), n)}"/>'
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
            user = rng.randrange(comments // 10 + 1)
            anonymous = rng.random() < 0.2
            author = (
                "<author><name>Guest</name><isAnonymous>true</isAnonymous></author>"
                if anonymous
                else f"<author><email>reader{user}@mail.example</email><name>Reader {user}</name>"
                f"<isAnonymous>false</isAnonymous><username>reader{user}</username></author>"
            )
            post = (
                f'<post dsq:id="p{n}"><id/><message><![CDATA[<p>{escape(words)}</p>]]></message>'
                f"<createdAt>2021-01-01T00:00:00Z</createdAt>"
                f"<isDeleted>{'true' if n % 100 == 7 else 'false'}</isDeleted>"
                f"<isSpam>{'true' if n % 100 == 3 else 'false'}</isSpam>{author}"
                f'<ipAddress>192.0.2.1</ipAddress><thread dsq:id="t{thread}"/>{parent}</post>\n'
            )
            # Now and then a reply is listed before its parent.
            if n % 1000 == 500:
                held_back.append(post)
                continue
            out.write(post)
            if held_back and n % 1000 == 501:
                out.write(held_back.pop())
        out.writelines(held_back)
        out.write("</disqus>\n")


def fresh_database() -> str:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DB_NAME}"'))
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{DB_NAME}"


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of this process, or of another one on this machine (the
    PostgreSQL backend) from /proc: steadier than wall time on a shared machine."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_import(app, path: Path, site_id: int) -> tuple[float, object, float, float]:
    from service.extensions import db
    from service.imports import Source
    from service.imports.loader import import_comments

    with app.app_context():
        backend = db.session.connection().connection.driver_connection.info.backend_pid
        source = Source("disqus", path)
        client, server = cpu_seconds(), cpu_seconds(backend)
        started = time.perf_counter()
        result = import_comments(site_id, "disqus", source.comments())
        seconds = time.perf_counter() - started
        return seconds, result, cpu_seconds() - client, cpu_seconds(backend) - server


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, default=Path("/tmp/bench-disqus.xml"))
    parser.add_argument("--keep-file", action="store_true", help="reuse the file if it exists")
    parser.add_argument("--no-again", action="store_true", help="skip the second (idempotent) import")
    args = parser.parse_args()

    if not (args.keep_file and args.file.exists()):
        started = time.perf_counter()
        generate(args.file, args.comments)
        print(f"wrote {args.file} ({args.file.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - started:.0f}s", file=sys.stderr)  # fmt: skip

    from flask_migrate import upgrade

    from service import create_app
    from service.sites import create_site

    url = fresh_database()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "JOBS_EMBEDDED_WORKER": "false"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        site_id = create_site({"slug": "bench", "name": "bench", "allowed_origins": []}).id
    before = peak_mb()

    seconds, result, client_cpu, server_cpu = run_import(app, args.file, site_id)
    figures = {
        "comments": result.added,
        "seconds": round(seconds, 1),
        "comments_per_s": round(result.added / seconds),
        # What the import cost each side in CPU: on an idle machine with a core each, the
        # busier side bounds the rate (client parsing overlaps the server's writing).
        "client_cpu_s": round(client_cpu, 1),
        "server_cpu_s": round(server_cpu, 1),
        "comments_per_cpu_s_busier_side": round(result.added / max(client_cpu, server_cpu)),
        "peak_rss_mb": round(peak_mb()),
        "rss_before_import_mb": round(before),
        "orphans": result.orphans,
    }
    print(f"first import: {figures}", file=sys.stderr, flush=True)
    if not args.no_again:
        again_seconds, again, _, _ = run_import(app, args.file, site_id)
        assert again.added == 0, again.summary()
        figures["again_seconds"] = round(again_seconds, 1)
        figures["again_comments_per_s"] = round(again.read / again_seconds)
        figures["peak_rss_mb"] = round(peak_mb())
    print(f"{result.summary()}", file=sys.stderr)
    for name, value in figures.items():
        print(f"{name:>24}: {value}")
    print(json.dumps({"import": figures}))


if __name__ == "__main__":
    main()
