"""Scheduled jobs, run as the embedded thread, `flask jobs run` and Celery beat run them: what each
does to the data, that each run is bounded, and that several runners at once do the work once.
Time moves by passing `now` to the job."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.db import Comment, IdempotencyRecord, ModerationEvent, ScheduledJob, utcnow
from service.extensions import db
from service.jobs.schedule import run_job
from tests.fakes import FailingScorer, SlowScorer


def rows(app, query):
    with app.app_context():
        found = db.session.execute(query).all()
        db.session.remove()
        return found


def statuses(app) -> dict[int, str]:
    return dict(rows(app, sa.select(Comment.id, Comment.status).order_by(Comment.id)))


def late_events(app) -> list[int]:
    return [
        r.comment_id
        for r in rows(
            app, sa.select(ModerationEvent.comment_id).where(ModerationEvent.from_status == "pending")
        )
    ]


def job_row(app, name) -> ScheduledJob:
    with app.app_context():
        row = db.session.get(ScheduledJob, name)
        db.session.expunge(row)
        db.session.remove()
        return row


def counter(app, client, line_start: str) -> float:
    """A sample of /metrics, 0 when absent."""
    text = client.get("/metrics").get_data(as_text=True)
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


# --- score-pending ------------------------------------------------------------------------------


class TestScorePending:
    @pytest.fixture
    def app_config(self):
        # The scorer misses the deadline: comments are stored pending.
        return {"SCORER_INSTANCE": SlowScorer(delay=0.5), "SCORING_DEADLINE_MS": 50, "SCORING_MAX_BATCH": 2}

    @pytest.fixture
    def pending(self, app, factory, embed_key, insult_text, embedded_scorer):
        ids = [
            factory.post(embed_key, text=t).get_json()["id"] for t in ("Thanks, well explained.", insult_text)
        ]
        ids.append(factory.post(embed_key, text="A calm and useful summary.").get_json()["id"])
        assert set(statuses(app).values()) == {"pending"}
        # The model is back: the job decides what waited.
        app.extensions["scoring"] = type(app.extensions["scoring"])(app.config, scorer=embedded_scorer)
        return ids

    def test_comments_left_pending_are_scored_and_decided(self, app, client, pending):
        before = counter(app, client, 'scheduled_job_items_total{item="comments",job="score-pending"}')
        run = run_job(app, "score-pending", force=True)
        assert run.outcome == "done" and run.counts == {"comments": 3}
        assert list(statuses(app).values()) == ["approved", "held", "approved"]
        assert sorted(late_events(app)) == sorted(pending)
        row = job_row(app, "score-pending")
        assert (row.last_outcome, row.last_processed, row.holder, row.lease_until) == ("done", 3, None, None)
        after = counter(app, client, 'scheduled_job_items_total{item="comments",job="score-pending"}')
        assert after - before == 3
        assert counter(app, client, 'scheduled_job_last_success_timestamp_seconds{job="score-pending"}') > 0
        assert counter(app, client, 'scheduled_job_processed_rows{job="score-pending"}') == 3

    def test_a_run_is_bounded_and_the_next_run_goes_on(self, app, pending):
        app.config["JOBS_RUN_SECONDS"] = 0  # one batch per run: SCORING_MAX_BATCH = 2 comments
        assert run_job(app, "score-pending", force=True).counts == {"comments": 2}
        assert list(statuses(app).values()) == ["approved", "held", "pending"]
        assert run_job(app, "score-pending", force=True).counts == {"comments": 1}
        assert run_job(app, "score-pending", force=True).counts == {"comments": 0}
        assert sorted(late_events(app)) == sorted(pending)  # each decided once

    def test_runners_at_once_decide_each_comment_once(self, app, pending):
        barrier = threading.Barrier(3)
        runs = []

        def run():
            barrier.wait()
            runs.append(run_job(app, "score-pending", force=True))

        threads = [threading.Thread(target=run) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sum(r.processed for r in runs) == 3
        assert {r.outcome for r in runs} <= {"done", "busy"}
        assert sorted(late_events(app)) == sorted(pending)
        assert set(statuses(app).values()) == {"approved", "held"}

    def test_a_run_is_not_due_again_within_its_interval(self, app, pending):
        assert run_job(app, "score-pending").outcome == "done"
        assert run_job(app, "score-pending").outcome == "not-due"
        assert run_job(app, "score-pending", force=True).outcome == "done"  # `flask jobs run` forces

    def test_a_lease_held_elsewhere_is_respected_until_it_runs_out(self, app, pending):
        with app.app_context():
            db.session.add(
                ScheduledJob(
                    name="score-pending", holder="web-2:77:1", lease_until=utcnow() + timedelta(minutes=5)
                )
            )
            db.session.commit()
        assert run_job(app, "score-pending", force=True).outcome == "busy"
        assert set(statuses(app).values()) == {"pending"}
        with app.app_context():  # that runner died: its lease runs out
            db.session.get(ScheduledJob, "score-pending").lease_until = utcnow() - timedelta(seconds=1)
            db.session.commit()
        assert run_job(app, "score-pending", force=True).counts == {"comments": 3}

    def test_the_command_runs_a_job_once(self, app, pending):
        result = app.test_cli_runner().invoke(args=["jobs", "run", "score-pending"])
        assert result.exit_code == 0, result.output
        assert "score-pending: 3 comments" in result.output
        status = app.test_cli_runner().invoke(args=["jobs", "status"])
        assert "score-pending: last done at" in status.output and "3 rows" in status.output
        assert "erase-emails: never run" in status.output


class TestFailingJob:
    @pytest.fixture
    def app_config(self):
        return {"SCORER_INSTANCE": FailingScorer()}

    def test_a_failed_run_frees_its_lease_and_says_why(self, app, factory, embed_key):
        factory.post(embed_key)
        assert set(statuses(app).values()) == {"pending"}
        result = app.test_cli_runner().invoke(args=["jobs", "run", "score-pending"])
        assert result.exit_code == 1 and "score-pending: failed: ScorerError: model crashed" in result.output
        row = job_row(app, "score-pending")
        assert (row.last_outcome, row.holder, row.lease_until) == ("failed", None, None)
        assert row.last_error == "ScorerError: model crashed"
        assert set(statuses(app).values()) == {"pending"}  # kept for the next run


def test_the_command_refuses_an_unknown_job(runner):
    result = runner.invoke(args=["jobs", "run", "vacuum"])
    assert result.exit_code == 2 and "unknown: vacuum" in result.output
    assert runner.invoke(args=["jobs", "run"]).exit_code == 2


# --- expire-idempotency -------------------------------------------------------------------------


def test_idempotency_keys_expire_after_a_day(app, factory, embed_key):
    first = factory.post(embed_key, headers={"Idempotency-Key": "retry-1"})
    assert first.status_code == 201
    assert run_job(app, "expire-idempotency", force=True).counts == {"idempotency_records": 0}
    replay = factory.post(embed_key, headers={"Idempotency-Key": "retry-1"})
    assert (
        replay.headers.get("Idempotent-Replayed") == "true"
        and replay.get_json()["id"] == first.get_json()["id"]
    )

    later = utcnow() + timedelta(hours=24, minutes=1)
    assert run_job(app, "expire-idempotency", now=later, force=True).counts == {"idempotency_records": 1}
    assert rows(app, sa.select(IdempotencyRecord.id)) == []
    # The key is free again: the same key now stores a new comment.
    again = factory.post(embed_key, headers={"Idempotency-Key": "retry-1"})
    assert again.status_code == 201 and again.get_json()["id"] != first.get_json()["id"]


def test_expiry_works_in_batches(app, factory, embed_key):
    app.config.update(JOBS_BATCH_SIZE=2, JOBS_RUN_SECONDS=0)
    for n in range(5):
        factory.post(embed_key, text=f"Comment {n} with a key.", headers={"Idempotency-Key": f"k{n}"})
    later = utcnow() + timedelta(days=2)
    counts = [run_job(app, "expire-idempotency", now=later, force=True).processed for _ in range(4)]
    assert counts == [2, 2, 1, 0]


def test_expiry_skips_rows_another_transaction_holds(app, db_kind, factory, embed_key):
    """PostgreSQL: FOR UPDATE SKIP LOCKED takes other rows instead of waiting for a locked one."""
    if db_kind != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    for n in range(3):
        factory.post(embed_key, text=f"Comment {n} with a key.", headers={"Idempotency-Key": f"k{n}"})
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
    with engine.connect() as other:
        held = other.execute(
            sa.text("SELECT id FROM idempotency_records ORDER BY id LIMIT 1 FOR UPDATE")
        ).scalar_one()
        run = run_job(app, "expire-idempotency", now=utcnow() + timedelta(days=2), force=True)
        assert run.counts == {"idempotency_records": 2}
        other.rollback()
    engine.dispose()
    assert [r.id for r in rows(app, sa.select(IdempotencyRecord.id))] == [held]


# --- erase-emails -------------------------------------------------------------------------------


class TestEraseEmails:
    @pytest.fixture
    def app_config(self):
        return {"AUTHOR_EMAIL_RETENTION_DAYS": 30}

    def test_emails_are_erased_after_the_sites_retention_and_the_author_stays_known(
        self, app, factory, embed_key
    ):
        ids = [factory.post(embed_key, text=f"Comment number {n}.").get_json()["id"] for n in range(3)]
        with app.app_context():  # the first two were posted 40 days ago
            db.session.execute(
                sa.update(Comment)
                .where(Comment.id.in_(ids[:2]))
                .values(created_at=utcnow() - timedelta(days=40))
            )
            db.session.commit()
        keys_before = dict(rows(app, sa.select(Comment.id, Comment.author_key)))
        versions_before = dict(rows(app, sa.select(Comment.id, Comment.version)))

        assert run_job(app, "erase-emails", force=True).counts == {"emails": 2}
        emails = dict(rows(app, sa.select(Comment.id, Comment.author_email)))
        assert emails == {ids[0]: None, ids[1]: None, ids[2]: "ada@example.org"}
        assert dict(rows(app, sa.select(Comment.id, Comment.author_key))) == keys_before
        # A moderator's If-Match still holds: the erasure is no new version of the comment.
        assert dict(rows(app, sa.select(Comment.id, Comment.version))) == versions_before
        assert job_row(app, "erase-emails").position == ids[1]  # the next run starts after these

        assert run_job(app, "erase-emails", now=utcnow() + timedelta(days=31), force=True).counts == {
            "emails": 1
        }
        assert {e for (e,) in rows(app, sa.select(Comment.author_email))} == {None}


def test_emails_are_kept_when_no_retention_is_set(app, factory, embed_key):
    factory.post(embed_key)
    assert run_job(app, "erase-emails", now=utcnow() + timedelta(days=3650), force=True).counts == {
        "emails": 0
    }
    assert rows(app, sa.select(Comment.author_email)) == [("ada@example.org",)]


# --- the embedded thread ------------------------------------------------------------------------


class TestEmbeddedScheduler:
    @pytest.fixture
    def app_config(self):
        return {
            "SCORER_INSTANCE": SlowScorer(delay=0.3),
            "SCORING_DEADLINE_MS": 50,
            "JOBS_EMBEDDED_WORKER": "true",
            "SCORE_PENDING_EVERY_SECONDS": 0.2,
        }

    def test_the_web_process_scores_pending_comments_without_a_broker(self, app, factory, embed_key):
        comment = factory.post(embed_key).get_json()  # the first request starts the thread
        assert comment["status"] == "pending"
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and statuses(app)[comment["id"]] == "pending":
                time.sleep(0.1)
            assert statuses(app)[comment["id"]] == "approved"
            assert late_events(app) == [comment["id"]]
        finally:
            app.extensions["job_scheduler"].stop()
