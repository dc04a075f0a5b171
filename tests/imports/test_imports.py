"""Importing Disqus, WordPress, Isso and Remark42 files and our own export, through the CLI:
threads, dates, statuses and authors kept; importing again adds nothing; a bad file adds nothing."""

from __future__ import annotations

import gzip
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.db import Article, Author, Comment, ImportedComment, ModerationEvent
from service.extensions import db

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def isso_db(tmp_path):
    path = tmp_path / "isso.db"
    connection = sqlite3.connect(path)
    connection.executescript((FIXTURES / "isso.sql").read_text())
    connection.commit()
    connection.close()
    return path


@pytest.fixture
def gazette(factory):
    factory.site("gazette", origins=("https://news.example",))
    return "gazette"


def run_import(runner, path, format_, *extra, site="gazette"):
    return runner.invoke(args=["imports", "run", "--site", site, "--format", format_, str(path), *extra])


def snapshot(app):
    """What a reader or moderator could notice: every comment with its thread position."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(
                Comment.id,
                Comment.parent_id,
                Comment.root_id,
                Comment.depth,
                Comment.status,
                Comment.spam,
                Comment.author_name,
                Comment.author_email,
                Comment.author_key,
                Comment.text,
                Comment.created_at,
                Article.external_id,
                Article.url,
                Article.title,
            )
            .join(Article, Article.id == Comment.article_id)
            .order_by(Comment.created_at, Comment.id)
        ).all()
        return [row._asdict() for row in rows]


def by_text(rows, start):
    (row,) = [r for r in rows if r["text"].startswith(start) and (start or not r["text"])]
    return row


def counts(app):
    with app.app_context():
        return {
            table.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in (Comment, Article, ImportedComment, ModerationEvent, Author)
        }


def article_counter(app, external_id):
    with app.app_context():
        return db.session.execute(
            sa.select(Article.approved_count, Article.thread_version).where(
                Article.external_id == external_id
            )
        ).one()


def test_disqus_export_keeps_threads_dates_statuses_and_authors(app, runner, gazette, client):
    result = run_import(runner, FIXTURES / "disqus.xml", "disqus")
    assert result.exit_code == 0, result.output
    assert "6 comments imported from disqus" in result.output

    rows = snapshot(app)
    root = by_text(rows, "Clear explanation")
    reply = by_text(rows, "I disagree")
    # Listed before its parent in the file, still linked to it.
    reply_to_reply = by_text(rows, "Agreed")
    assert root["text"] == "Clear explanation of the budget.\n\nThanks & well done."
    assert (reply["parent_id"], reply["root_id"], reply["depth"]) == (root["id"], root["id"], 1)
    assert (reply_to_reply["parent_id"], reply_to_reply["root_id"], reply_to_reply["depth"]) == (
        reply["id"],
        root["id"],
        2,
    )
    # +01:00 in the file is 09:15 UTC.
    assert reply["created_at"] == datetime(2021, 3, 1, 9, 15, tzinfo=UTC)
    assert root["external_id"] == "budget-2027" and root["url"] == "https://news.example/budget-2027"
    # A thread without an identifier is known by its link.
    assert by_text(rows, "Is the strike")["external_id"] == "https://news.example/rail-strike"
    assert by_text(rows, "Is the strike")["title"] == "Rail strike & what it means"

    spam = by_text(rows, "Cheap watches")
    assert (spam["status"], spam["spam"]) == ("rejected", True)
    assert by_text(rows, "")["status"] == "deleted"
    # Awaiting a moderator at Disqus: held for ours (no --score).
    assert by_text(rows, "Is the strike")["status"] == "held"
    assert root["author_email"] == "ada@reader.example" and root["author_key"] == "disqus:ada_l"
    assert reply_to_reply["author_key"] is None  # anonymous at Disqus

    # The public thread shows the approved ones, nested, and its counter agrees.
    assert article_counter(app, "budget-2027")[0] == 3
    with app.app_context():
        ada = db.session.execute(sa.select(Author).where(Author.author_key == "disqus:ada_l")).scalar_one()
        assert (ada.approved_count, ada.rejected_count, ada.held_count) == (1, 0, 0)


def test_public_thread_shows_imported_comments_without_emails(app, runner, gazette, factory, client):
    assert run_import(runner, FIXTURES / "disqus.xml", "disqus").exit_code == 0
    key = factory.key("embed", site="gazette")
    response = client.get("/v1/articles/budget-2027/comments", headers=factory.headers(key))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Clear explanation" in body and "I disagree" in body and "Agreed" in body
    assert "Cheap watches" not in body and "@reader.example" not in body


@pytest.mark.parametrize(
    "format_,path",
    [
        ("disqus", FIXTURES / "disqus.xml"),
        ("wordpress", FIXTURES / "wordpress.xml"),
        ("remark42", FIXTURES / "remark42.jsonl"),
        ("isso", None),
    ],
)
def test_importing_the_same_file_again_adds_nothing(app, runner, gazette, isso_db, format_, path):
    path = path or isso_db
    assert run_import(runner, path, format_).exit_code == 0
    before = counts(app)
    thread = article_counter(app, snapshot(app)[0]["external_id"])
    again = run_import(runner, path, format_)
    assert again.exit_code == 0, again.output
    assert f"0 comments imported from {format_} ({before['comments']} already there" in again.output
    assert counts(app) == before
    assert article_counter(app, snapshot(app)[0]["external_id"])[0] == thread[0]


def test_wordpress_export_keeps_threads_and_maps_statuses(app, runner, gazette):
    result = run_import(runner, FIXTURES / "wordpress.xml", "wordpress")
    assert result.exit_code == 0, result.output
    rows = snapshot(app)
    assert len(rows) == 5  # the pingback is not a comment
    root, reply, held = by_text(rows, "Clear"), by_text(rows, "I disagree"), by_text(rows, "Agreed")
    assert reply["parent_id"] == root["id"] and held["parent_id"] == reply["id"] and held["depth"] == 2
    assert root["created_at"] == datetime(2021, 3, 1, 9, 0, tzinfo=UTC)  # the GMT time, not the local one
    assert held["status"] == "held"
    assert by_text(rows, "Cheap")["status"] == "rejected" and by_text(rows, "Cheap")["spam"]
    assert by_text(rows, "Removed")["status"] == "deleted"
    assert root["external_id"] == "42" and root["url"] == "https://news.example/budget-2027/"
    assert article_counter(app, "42")[0] == 2


def test_wordpress_articles_by_url(app, runner, gazette):
    assert run_import(runner, FIXTURES / "wordpress.xml", "wordpress", "--article-id", "url").exit_code == 0
    assert {r["external_id"] for r in snapshot(app)} == {
        "https://news.example/budget-2027/",
        "https://news.example/rail-strike/",
    }


def test_isso_database_keeps_threads_and_puts_the_site_url_before_paths(app, runner, gazette, isso_db):
    result = run_import(runner, isso_db, "isso")
    assert result.exit_code == 0, result.output
    rows = snapshot(app)
    root, reply, held, gone = (by_text(rows, t) for t in ("Clear", "I disagree", "Agreed", ""))
    assert root["url"] == "https://news.example/budget-2027" and root["external_id"] == "/budget-2027"
    assert reply["parent_id"] == root["id"] and held["parent_id"] == reply["id"]
    assert (held["status"], gone["status"], held["author_name"]) == ("held", "deleted", "Anonymous")
    assert root["created_at"] == datetime(2021, 3, 1, 9, 0, tzinfo=UTC)


def test_remark42_backup_gzipped_keeps_the_thread(app, runner, gazette, tmp_path):
    packed = tmp_path / "backup-gazette-20210302.gz"
    packed.write_bytes(gzip.compress((FIXTURES / "remark42.jsonl").read_bytes()))
    result = run_import(runner, packed, "remark42")
    assert result.exit_code == 0, result.output
    rows = snapshot(app)
    root, reply, gone = by_text(rows, "Clear"), by_text(rows, "I disagree"), by_text(rows, "")
    assert reply["parent_id"] == root["id"] and gone["parent_id"] == reply["id"]
    assert reply["text"] == "I disagree with the second part."  # the HTML rendering, as text
    assert gone["status"] == "deleted" and root["author_key"] == "remark42:github_ada"
    assert root["created_at"] == datetime(2021, 3, 1, 9, 0, tzinfo=UTC)


def test_score_option_leaves_awaiting_comments_pending_for_the_scoring_job(app, runner, gazette):
    result = run_import(runner, FIXTURES / "disqus.xml", "disqus", "--score")
    assert result.exit_code == 0, result.output
    assert "1 left pending for scoring" in result.output
    assert by_text(snapshot(app), "Is the strike")["status"] == "pending"
    scored = runner.invoke(args=["comments", "score-pending"])
    assert scored.exit_code == 0, scored.output
    assert by_text(snapshot(app), "Is the strike")["status"] == "approved"


BROKEN = {
    # Cut off in the middle of a post: the error names the line.
    "disqus": (
        lambda text: text[: text.index('<post dsq:id="1006">') + 40],
        "line",
    ),
    "disqus-date": (lambda text: text.replace("2021-04-01T10:00:00Z", "yesterday"), 'dsq:id="1006"'),
    "wordpress": (
        lambda text: text.replace("<wp:comment_approved>trash", "<wp:comment_approved>maybe"),
        "<wp:comment> 12",
    ),
    "remark42": (lambda text: text + '{"id": "x", "locator": \n', "line 5"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_corrupt_file_names_the_problem_and_leaves_the_database_as_it_was(
    app, runner, gazette, tmp_path, case
):
    format_ = case.split("-")[0]
    source = {"disqus": "disqus.xml", "wordpress": "wordpress.xml", "remark42": "remark42.jsonl"}[format_]
    # An earlier, good import stays exactly as it was.
    assert run_import(runner, FIXTURES / "remark42.jsonl", "remark42", "--article-id", "url").exit_code == 0
    before, rows_before = counts(app), snapshot(app)
    breaker, named = BROKEN[case]
    broken = tmp_path / source
    broken.write_text(breaker((FIXTURES / source).read_text()))
    # Batches of one: the bad record comes after others were written, and they go too.
    result = run_import(runner, broken, format_, "--batch-size", "1")
    assert result.exit_code != 0
    assert named in result.output and "nothing was imported" in result.output
    assert counts(app) == before and snapshot(app) == rows_before


def test_a_file_of_another_format_is_refused(app, runner, gazette, isso_db):
    result = run_import(runner, FIXTURES / "wordpress.xml", "disqus")
    assert result.exit_code != 0 and "not a Disqus export" in result.output
    result = run_import(runner, FIXTURES / "disqus.xml", "isso")
    assert result.exit_code != 0 and "not an Isso database" in result.output
    assert counts(app)["comments"] == 0


def test_export_then_import_gives_the_same_thread(app, runner, gazette, factory, tmp_path):
    assert run_import(runner, FIXTURES / "disqus.xml", "disqus").exit_code == 0
    exported = tmp_path / "gazette.jsonl"
    result = runner.invoke(args=["export", "site", "gazette", "--events", "--emails", "-o", str(exported)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert lines[0]["format"] == "comment-service-export" and len(lines) == 7
    assert all(line["events"][0]["reason"] == "import:disqus" for line in lines[1:])

    factory.site("copy", origins=("https://news.example",))
    result = run_import(runner, exported, "jsonl", site="copy")
    assert result.exit_code == 0, result.output

    def thread(slug):
        with app.app_context():
            rows = db.session.execute(
                sa.select(
                    Comment.id,
                    Comment.parent_id,
                    Comment.status,
                    Comment.text,
                    Comment.created_at,
                    Comment.author_name,
                    Comment.author_email,
                    Comment.spam,
                    Article.external_id,
                )
                .join(Article, Article.id == Comment.article_id)
                .where(Article.site.has(slug=slug))
                .order_by(Comment.id)
            ).all()
        ids = {row.id: n for n, row in enumerate(rows)}
        return [(ids.get(row.parent_id), *row[2:]) for row in rows]

    assert thread("copy") == thread("gazette")
    assert (
        "0 comments imported from jsonl (6 already there"
        in run_import(runner, exported, "jsonl", site="copy").output
    )


def test_author_export_holds_their_comments_and_emails_only(app, runner, gazette, tmp_path):
    assert run_import(runner, FIXTURES / "disqus.xml", "disqus").exit_code == 0
    result = runner.invoke(args=["export", "author", "gazette", "--email", "ADA@reader.example"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    comments = [line for line in lines if line.get("type") == "comment"]
    # The deleted comment carried no e-mail: the key of her comment with the e-mail finds it.
    assert [(c["author"]["email"], c["status"]) for c in comments] == [
        ("ada@reader.example", "approved"),
        (None, "deleted"),
    ]
    by_key = runner.invoke(args=["export", "author", "gazette", "--key", "disqus:ada_l"])
    lines = [json.loads(line) for line in by_key.stdout.splitlines()]
    assert [line.get("type") for line in lines] == [None, "author", "comment", "comment"]
    assert lines[1]["history"] == {"approved": 1, "rejected": 0, "held": 0}
    assert {c["text"] for c in lines[2:]} == {"Clear explanation of the budget.\n\nThanks & well done.", ""}
    assert runner.invoke(args=["export", "author", "gazette"]).exit_code != 0


def test_http_exports_stream_json_lines_to_admins_only(app, runner, gazette, factory, client):
    assert run_import(runner, FIXTURES / "disqus.xml", "disqus").exit_code == 0
    admin = factory.headers(factory.key("admin", site="gazette"))
    response = client.get("/v1/admin/sites/gazette/export?events=true", headers=admin)
    assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
    assert response.is_streamed
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert lines[0]["kind"] == "site" and len(lines) == 7
    assert {line["status"] for line in lines[1:]} == {"approved", "rejected", "deleted", "held"}
    assert all(line["author"]["email"] is None for line in lines[1:])  # private unless asked
    assert all(len(line["events"]) == 1 for line in lines[1:])
    with_emails = client.get("/v1/admin/sites/gazette/export?emails=true", headers=admin)
    assert "ada@reader.example" in with_emails.get_data(as_text=True)

    mine = client.get("/v1/admin/sites/gazette/author-export?key=disqus:bob", headers=admin)
    lines = [json.loads(line) for line in mine.get_data(as_text=True).splitlines()]
    assert [line.get("type") for line in lines] == [None, "author", "comment"]
    assert lines[2]["author"]["email"] == "bob@reader.example"

    nobody = client.get("/v1/admin/sites/gazette/author-export", headers=admin)
    assert nobody.status_code == 422 and nobody.get_json()["errors"][0]["field"] == "key"
    moderator = factory.headers(factory.key("moderator", site="gazette"))
    assert client.get("/v1/admin/sites/gazette/export", headers=moderator).status_code == 403
    assert client.get("/v1/admin/sites/missing/export", headers=admin).status_code in (403, 404)


def test_a_nul_character_in_a_json_line_is_dropped_not_a_crash(app, runner, gazette, tmp_path):
    lines = (FIXTURES / "remark42.jsonl").read_text().replace("Clear explanation", "Clear\\u0000 explanation")
    path = tmp_path / "backup.jsonl"
    path.write_text(lines)
    result = run_import(runner, path, "remark42")
    assert result.exit_code == 0, result.output
    assert by_text(snapshot(app), "Clear")["text"] == "Clear explanation of the budget."


def test_a_reply_before_its_already_imported_parent_is_linked_to_it(app, runner, gazette, tmp_path):
    meta, root, reply, _ = (FIXTURES / "remark42.jsonl").read_text().splitlines()
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text(f"{meta}\n{root}\n")
    second.write_text(f"{meta}\n{reply}\n{root}\n")  # the reply first, then its parent again
    assert run_import(runner, first, "remark42").exit_code == 0
    result = run_import(runner, second, "remark42", "--batch-size", "1")
    assert result.exit_code == 0, result.output
    assert "0 replies without their parent" in result.output
    rows = snapshot(app)
    assert by_text(rows, "I disagree")["parent_id"] == by_text(rows, "Clear")["id"]
