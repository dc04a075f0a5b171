"""Import jobs: a file uploaded through the admin API, imported in the background by the process
that received it (the file lies on its disk), with its progress readable from any process.

A job is a row (`import_jobs`): queued, running, then succeeded (with the import's counts) or
failed (with the error naming the line or element, and nothing imported: the import is one
transaction). The import holds its transaction for the file's length, so its progress is written
beside it: on PostgreSQL into the job's row through a connection of its own; on SQLite, where the
import holds the database's only write lock, into a small file next to the upload (SQLite
instances share one machine). A job whose progress stops moving for STALE_AFTER was cut off (its
process stopped) and is reported failed; importing the file again is safe (imports are
idempotent)."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, utcnow
from ..extensions import db
from . import ImportFormatError, Source

log = logging.getLogger(__name__)

STATUSES = ("queued", "running", "succeeded", "failed")
# A batch of 2,000 comments takes well under a second; this long without progress means the
# process running the job stopped.
STALE_AFTER = timedelta(minutes=5)
# How often a running job writes its progress (it reports after every batch, at most this often).
PROGRESS_EVERY = 1.0
CHUNK = 1 << 20


class ImportJob(db.Model):
    __tablename__ = "import_jobs"
    __table_args__ = (sa.Index("ix_import_jobs_site", "site_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    format: Mapped[str] = mapped_column(sa.String(16))
    # article_ids, base_url and score, as `flask imports run` takes them.
    options: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(
        sa.Enum(*STATUSES, name="import_job_status", native_enum=False), default="queued"
    )
    file_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    # How far the reading is, out of `total` (bytes of the file; rows of an Isso database).
    done: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    comments_read: Mapped[int] = mapped_column(default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.String(2000))
    created_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Last sign of life of the process running it (progress written).
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UploadTooLarge(Exception):
    pass


class EmptyUpload(Exception):
    pass


def folder(app: Flask) -> Path:
    path = Path(app.config["IMPORT_FOLDER"] or Path(app.instance_path) / "imports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def receive(stream: IO[bytes], destination: Path, limit: int) -> int:
    """Copy the request body to `destination` as it arrives (never whole in memory); past
    `limit` bytes the partial file is removed and UploadTooLarge raised."""
    size = 0
    try:
        with destination.open("wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge
                out.write(chunk)
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    return size


def create_job(
    site_id: int, format_: str, options: dict[str, Any], stream: IO[bytes], actor: str
) -> ImportJob:
    """Store the upload and its job row (queued). The caller starts it with `start`."""
    app = current_app._get_current_object()
    part = folder(app) / f"upload-{os.getpid()}-{threading.get_ident()}-{time.time_ns()}.part"
    size = receive(stream, part, app.config["IMPORT_MAX_BYTES"])
    if size == 0:
        part.unlink()
        raise EmptyUpload
    job = ImportJob(
        site_id=site_id, format=format_, options=options, file_bytes=size, total=size, created_by=actor
    )
    try:
        db.session.add(job)
        db.session.commit()
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    part.rename(upload_path(app, job.id))
    return job


def upload_path(app: Flask, job_id: int) -> Path:
    return folder(app) / f"{job_id}.upload"


def _progress_path(app: Flask, job_id: int) -> Path:
    return folder(app) / f"{job_id}.progress"


def start(app: Flask, job_id: int) -> threading.Thread:
    thread = threading.Thread(target=run_job, args=(app, job_id), name=f"import-{job_id}", daemon=True)
    thread.start()
    return thread


class _Progress:
    """Writes a running job's progress where other processes can read it (see the module)."""

    def __init__(self, app: Flask, job_id: int, source: Source):
        self.app, self.job_id, self.source = app, job_id, source
        self.read = 0
        self.written_at = 0.0
        self.on_postgresql = db.engine.dialect.name == "postgresql"

    def __call__(self, count: int, force: bool = False) -> None:
        self.read += count
        if not force and time.monotonic() - self.written_at < PROGRESS_EVERY:
            return
        self.written_at = time.monotonic()
        figures = {"done": self.source.done, "total": self.source.total, "comments_read": self.read}
        if self.on_postgresql:
            with db.engine.begin() as connection:  # not the import's transaction
                connection.execute(
                    sa.update(ImportJob)
                    .where(ImportJob.id == self.job_id)
                    .values(**figures, heartbeat_at=utcnow())
                )
        else:
            path = _progress_path(self.app, self.job_id)
            part = path.with_suffix(".tmp")
            part.write_text(json.dumps(figures))
            os.replace(part, path)  # readers see the old figures or the new, never half


def run_job(app: Flask, job_id: int) -> None:
    """Import a queued job's file (in this process: it holds the file), then record the outcome."""
    from .loader import import_comments

    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        if job is None or job.status != "queued":
            return
        job.status, job.started_at, job.heartbeat_at = "running", utcnow(), utcnow()
        db.session.commit()
        site_id, format_, options = job.site_id, job.format, dict(job.options)
        path = upload_path(app, job_id)
        outcome: dict[str, Any]
        source = None
        try:
            source = Source(format_, path, base_url=options.get("base_url") or "")
            progress = _Progress(app, job_id, source)
            result = import_comments(
                site_id,
                format_,
                source.comments(),
                score=bool(options.get("score")),
                article_ids=options.get("article_ids", "source"),
                progress=progress,
            )
            progress(0, force=True)
            outcome = {"status": "succeeded", "result": asdict(result), "done": source.total}
        except ImportFormatError as error:
            outcome = {"status": "failed", "error": f"{error} (nothing was imported)"[:2000]}
        except sa.exc.DBAPIError as error:
            db.session.rollback()
            message = str(error.orig).splitlines()[0] if error.orig else str(error)
            outcome = {"status": "failed", "error": f"the database refused a comment: {message}"[:2000]}
        except Exception:  # recorded for the admin, and logged with its trace for the operator
            log.exception("import job %s failed", job_id)
            db.session.rollback()
            outcome = {"status": "failed", "error": "the import stopped on an internal error (logged)"}
        finally:
            if source is not None:
                source.close()
        figures = _file_progress(app, job_id) or {}
        db.session.execute(
            sa.update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(**{**figures, **outcome, "finished_at": utcnow(), "heartbeat_at": utcnow()})
        )
        db.session.commit()
        path.unlink(missing_ok=True)
        _progress_path(app, job_id).unlink(missing_ok=True)
        log.info("import job %s: %s", job_id, outcome["status"])


def _file_progress(app: Flask, job_id: int) -> dict[str, Any] | None:
    try:
        path = _progress_path(app, job_id)
        figures = json.loads(path.read_text())
        figures["heartbeat_at"] = datetime.fromtimestamp(path.stat().st_mtime, tz=utcnow().tzinfo)
        return figures
    except (OSError, ValueError):
        return None


def current_state(job: ImportJob) -> dict[str, Any]:
    """The job as an admin should see it now: with the progress file's figures on SQLite, and a
    job that stopped moving (its process died) marked failed."""
    view = {column.name: getattr(job, column.name) for column in ImportJob.__table__.columns}
    if job.status not in ("queued", "running"):
        return view
    figures = _file_progress(current_app, job.id)
    if figures:
        view.update(figures)
    last = view["heartbeat_at"] or view["created_at"]
    if utcnow() - last > STALE_AFTER:
        error = "interrupted: the process running the import stopped (nothing was imported; import again)"
        changed = db.session.execute(
            sa.update(ImportJob)
            .where(ImportJob.id == job.id, ImportJob.status.in_(("queued", "running")))
            .values(status="failed", error=error, finished_at=utcnow())
        ).rowcount
        db.session.commit()
        if changed:
            upload_path(current_app, job.id).unlink(missing_ok=True)
        view.update(status="failed", error=error, finished_at=utcnow())
    return view


def running_job(site_id: int, any_site: bool = False) -> ImportJob | None:
    """The site's (or with `any_site`, any site's) queued or running job that is still alive, if
    any: one import at a time."""
    query = sa.select(ImportJob).where(ImportJob.status.in_(("queued", "running")))
    jobs = db.session.scalars(query if any_site else query.where(ImportJob.site_id == site_id)).all()
    return next((job for job in jobs if current_state(job)["status"] in ("queued", "running")), None)
