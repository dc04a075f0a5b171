"""Writes parsed comments into the database in batches, all of one file in ONE transaction: a
bad record anywhere (or any failure) rolls the whole file back, so nothing is half-imported.

Each batch: drop comments an earlier import already wrote (imported_comments), make the
articles it names, then insert the comments, their source ids and one moderation event each
(COPY with ids taken from the sequence on PostgreSQL, multi-row INSERTs elsewhere). Replies are
linked at the end, by SQL, from the parents' source ids: a file may list a reply before its
parent, and no map of a million ids is kept in memory. Then the articles' thread counters and
the authors' history counts are recounted. No webhook events: an import is not news.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import sqlalchemy as sa

from ..authors import recount
from ..db import Article, Comment, ImportedComment, ModerationEvent, utcnow
from ..extensions import db
from ..transitions import CHANGED_ARTICLES, CHANGED_THREADS, SYSTEM
from .records import SourceArticle, SourceComment

_EXTERNAL_ID_LENGTH = 200
# One index probe per id (LATERAL ... LIMIT 1): right after a bulk load the planner's statistics
# still say the table is empty, and a plain join then compares every id with every row.
_STORED_PG = sa.text(
    "SELECT i.source_id, c.id, c.depth, c.root_id FROM unnest(CAST(:ids AS varchar[])) AS wanted(id) "
    "CROSS JOIN LATERAL (SELECT source_id, comment_id FROM imported_comments WHERE site_id = :site "
    "AND source = :source AND source_id = wanted.id LIMIT 1) AS i JOIN comments c ON c.id = i.comment_id"
)


@dataclass
class ImportResult:
    source: str
    read: int = 0
    added: int = 0
    # Already written by an earlier import of this site (or earlier in this file).
    already_imported: int = 0
    articles_added: int = 0
    # Replies whose parent is not in the file: kept, as top-level comments.
    orphans: int = 0
    # Left "pending" for the scheduled scoring job (score=True), which scores and decides them.
    pending_scoring: int = 0

    def summary(self) -> str:
        return (
            f"{self.added} comments imported from {self.source} ({self.already_imported} already there, "
            f"{self.articles_added} new articles, {self.orphans} replies without their parent kept "
            f"as top-level comments, {self.pending_scoring} left pending for scoring)"
        )


def batched(records: Iterable[SourceComment], size: int) -> Iterator[list[SourceComment]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def read_ahead(batches: Iterator[list[SourceComment]], depth: int = 2) -> Iterator[list[SourceComment]]:
    """Parse the next batches in a thread while this one is written: the database's time and the
    parser's overlap. At most `depth` batches wait, so memory stays bounded; a parse error is
    raised here, in the caller's thread."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in batches:
                if not offer(batch):
                    return
            offer(done)
        except BaseException as error:  # handed to the caller's thread
            offer(error)

    thread = threading.Thread(target=produce, name="import-parser", daemon=True)
    thread.start()
    try:
        while (item := handoff.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def article_key(article: SourceArticle, by: str) -> str:
    """The article's id on our side: the source's identifier, or its URL. Ours hold 200
    characters; a longer one keeps its start and a hash of the whole, so it stays unique."""
    key = article.url if by == "url" and article.url else article.identifier
    if len(key) <= _EXTERNAL_ID_LENGTH:
        return key
    return key[:150] + "~" + hashlib.sha256(key.encode()).hexdigest()[:40]


class Loader:
    def __init__(self, site_id: int, source: str, *, score: bool = False, article_ids: str = "source"):
        self.site_id = site_id
        self.source = source
        self.score = score
        self.article_ids = article_ids
        self.result = ImportResult(source)
        self.connection = db.session.connection()
        self.postgresql = self.connection.dialect.name == "postgresql"
        # External id -> row id of every article this import touched: one per thread, far fewer
        # than comments.
        self.articles: dict[str, int] = {}
        self.now = utcnow()
        # Replies read before their parent, by the parent's source id: written once it is.
        self.waiting: dict[str, list[SourceComment]] = {}
        self.waiting_ids: set[str] = set()
        self.stored_parents: dict[str, tuple[int, int, int | None]] = {}
        self.column_types: dict[str, dict[str, str]] = {}

    # --- per batch ------------------------------------------------------------------------

    def load(self, batch: list[SourceComment]) -> None:
        self.result.read += len(batch)
        fresh: dict[str, SourceComment] = {}
        for record in batch:
            if record.source_id not in self.waiting_ids:
                fresh.setdefault(record.source_id, record)
        # One look-up for the batch's comments (written before?) and their parents (where?).
        parents = {r.parent_source_id for r in fresh.values() if r.parent_source_id}
        self.stored_parents = self._stored(fresh.keys() | parents)
        new = [r for source_id, r in fresh.items() if source_id not in self.stored_parents]
        self.result.already_imported += len(batch) - len(new)
        out: list[tuple[SourceComment, bool]] = []
        available = set(self.stored_parents)
        # Replies waiting for a parent an earlier import wrote (it is in this batch, as "already
        # there"): their parent is known now.
        for source_id in [sid for sid in fresh if sid in self.waiting and sid in self.stored_parents]:
            for child in self.waiting.pop(source_id):
                self.waiting_ids.discard(child.source_id)
                self._place(child, out, available)
        for record in new:
            self._place(record, out, available)
        self._write(out)

    def _place(
        self, record: SourceComment, out: list[tuple[SourceComment, bool]], available: set[str], orphan=False
    ) -> None:
        """Queue a comment for writing once its parent is written (so a parent's id is always
        lower than its replies', the order threads are shown in), with the replies waiting for it."""
        stack = [(record, orphan)]
        while stack:
            record, orphan = stack.pop()
            parent = record.parent_source_id
            if parent and not orphan and parent not in available:
                self.waiting.setdefault(parent, []).append(record)
                self.waiting_ids.add(record.source_id)
                continue
            out.append((record, orphan))
            available.add(record.source_id)
            for child in reversed(self.waiting.pop(record.source_id, [])):
                self.waiting_ids.discard(child.source_id)
                stack.append((child, False))

    def _stored(self, source_ids: set[str]) -> dict[str, tuple[int, int, int | None]]:
        """Comments of these source ids already written (by an earlier batch or import):
        source id -> (id, depth, root id)."""
        imported, comments = ImportedComment.__table__, Comment.__table__
        found: dict[str, tuple[int, int, int | None]] = {}
        ids = list(source_ids)
        if self.postgresql:
            rows = self.connection.execute(
                _STORED_PG, {"site": self.site_id, "source": self.source, "ids": ids}
            )
            return {source_id: (comment_id, depth, root_id) for source_id, comment_id, depth, root_id in rows}
        for start in range(0, len(ids), 500):  # SQLite's limit on bound parameters
            for source_id, *values in self.connection.execute(
                sa.select(imported.c.source_id, comments.c.id, comments.c.depth, comments.c.root_id)
                .join(comments, comments.c.id == imported.c.comment_id)
                .where(
                    imported.c.site_id == self.site_id,
                    imported.c.source == self.source,
                    imported.c.source_id.in_(ids[start : start + 500]),
                )
            ):
                found[source_id] = tuple(values)
        return found

    def _write(self, out: list[tuple[SourceComment, bool]]) -> None:
        if not out:
            return
        self._make_articles([record for record, _ in out])
        ids = self._allocate_ids(len(out))
        placed: dict[str, tuple[int, int, int | None]] = {}
        rows = []
        for (record, orphan), comment_id in zip(out, ids, strict=True):
            row = self._row(record)
            parent = None if orphan or not record.parent_source_id else record.parent_source_id
            if parent is not None:
                parent_id, depth, root_id = placed.get(parent) or self.stored_parents[parent]
                row.update(parent_id=parent_id, root_id=root_id or parent_id, depth=depth + 1)
            row["id"] = comment_id
            placed[record.source_id] = (comment_id, row["depth"], row["root_id"])
            rows.append(row)
        self._insert_many(Comment.__table__, rows)
        self._insert_many(
            ImportedComment.__table__,
            [
                {
                    "site_id": self.site_id,
                    "source": self.source,
                    "source_id": record.source_id,
                    "comment_id": comment_id,
                    "parent_source_id": record.parent_source_id,
                }
                for (record, _), comment_id in zip(out, ids, strict=True)
            ],
        )
        self._insert_many(
            ModerationEvent.__table__,
            [
                {
                    "comment_id": row["id"],
                    "site_id": self.site_id,
                    "actor": SYSTEM,
                    "from_status": None,
                    "to_status": row["status"],
                    "reason": f"import:{self.source}",
                    "note": "",
                    "reasons": row["reasons"],
                    "scores": row["scores"],
                    "model_name": row["model_name"],
                    "model_version": row["model_version"],
                    "created_at": self.now,
                }
                for row in rows
            ],
        )
        self.result.added += len(rows)
        self.result.pending_scoring += sum(1 for row in rows if row["status"] == "pending")

    def _allocate_ids(self, count: int) -> list[int]:
        """Ids for a batch, in the order written: PostgreSQL's sequence; on SQLite (one writer at a
        time) the next ones after the highest."""
        if self.postgresql:
            return list(
                self.connection.scalars(
                    sa.text(
                        "SELECT nextval(pg_get_serial_sequence('comments', 'id')) FROM generate_series(1, :n)"
                    ),
                    {"n": count},
                )
            )
        highest = self.connection.scalar(sa.select(sa.func.coalesce(sa.func.max(Comment.__table__.c.id), 0)))
        return list(range(highest + 1, highest + 1 + count))

    def _make_articles(self, records: list[SourceComment]) -> None:
        wanted: dict[str, SourceArticle] = {}
        for record in records:
            key = article_key(record.article, self.article_ids)
            if key not in self.articles:
                wanted.setdefault(key, record.article)
        if not wanted:
            return
        table = Article.__table__
        keys = list(wanted)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            self.articles.update(
                self.connection.execute(
                    sa.select(table.c.external_id, table.c.id).where(
                        table.c.site_id == self.site_id, table.c.external_id.in_(chunk)
                    )
                ).all()
            )
        missing = [key for key in keys if key not in self.articles]
        if not missing:
            return
        rows = [
            {
                "site_id": self.site_id,
                "external_id": key,
                "url": wanted[key].url[:2000],
                "title": wanted[key].title[:500],
                "closed": False,
                "premoderated": False,
                # The site's own export: the site vouches for its URLs and titles.
                "verified": True,
                "approved_count": 0,
                "thread_version": 0,
                "created_at": self.now,
            }
            for key in missing
        ]
        ids = self.connection.scalars(
            sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        ).all()
        self.articles.update(zip(missing, ids, strict=True))
        self.result.articles_added += len(missing)
        changed = db.session.info.setdefault(CHANGED_ARTICLES, set())
        changed.update((self.site_id, key) for key in missing)

    def _row(self, record: SourceComment) -> dict[str, Any]:
        status = record.status
        if status == "pending" and not self.score:
            # Awaiting a decision at the source: a moderator's to decide, unless asked to leave
            # it pending for the scoring job, which scores and decides it by the site's policy.
            status = "held"
        scores = record.scores
        return {
            "site_id": self.site_id,
            "article_id": self.articles[article_key(record.article, self.article_ids)],
            "parent_id": None,
            "root_id": None,
            "depth": 0,
            "status": status,
            # PostgreSQL's text holds no NUL (JSON may escape one); a reader never meant it.
            "author_name": record.author_name.replace("\x00", ""),
            "author_email": (record.author_email or "")[:320] or None,
            "author_user_id": (record.author_user_id or "")[:200] or None,
            "author_key": (record.author_key or "")[:128] or None,
            "author_verified": record.author_verified,
            "network_key": None,
            "text": record.text.replace("\x00", ""),
            "text_hash": None,
            "text_band0": None,
            "text_band1": None,
            "text_band2": None,
            "text_band3": None,
            "spam": record.spam,
            "language": record.language,
            "scores": scores,
            "model_name": record.model_name,
            "model_version": record.model_version,
            "reasons": record.reasons,
            "max_score": max(scores.values()) if scores else -1.0,
            "report_count": 0,
            "reports_open": 0,
            "report_weight": 0.0,
            "version": 1,
            "created_at": record.created_at,
            "updated_at": record.updated_at or record.created_at,
        }

    def _insert_many(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        if self.postgresql:
            self._copy(table, rows)
        else:
            self.connection.execute(sa.insert(table), rows)

    def _copy(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """COPY FROM STDIN in binary (the server parses no text) on the session's own
        connection, so in its transaction."""
        from psycopg.types.json import Jsonb

        columns = list(rows[0])
        json_columns = {name for name in columns if isinstance(table.c[name].type, sa.JSON)}
        types = self._column_types(table.name)
        cursor = self.connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([types[name] for name in columns])
            for row in rows:
                copy.write_row(
                    [
                        Jsonb(row[name]) if name in json_columns and row[name] is not None else row[name]
                        for name in columns
                    ]
                )

    def _column_types(self, table: str) -> dict[str, str]:
        """The database's own type of each column (binary COPY must name them)."""
        if table not in self.column_types:
            self.column_types[table] = dict(
                self.connection.execute(
                    sa.text(
                        "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
                        "WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped"
                    ),
                    {"table": table},
                ).all()
            )
        return self.column_types[table]

    # --- once the file is read ----------------------------------------------------------------

    def finish(self) -> ImportResult:
        """Write the replies whose parent never came (as top-level comments), recount threads
        and authors, and commit."""
        while self.waiting:
            _, records = self.waiting.popitem()
            out: list[tuple[SourceComment, bool]] = []
            available: set[str] = set()
            for record in records:
                self.waiting_ids.discard(record.source_id)
                self.result.orphans += 1
                self._place(record, out, available, orphan=True)
            self.stored_parents = {}
            self._write(out)
        self._count_threads()
        # Authors' history counts from their comments (rows written around the transitions);
        # this commits the whole import.
        recount(self.site_id)
        return self.result

    def _count_threads(self) -> None:
        articles = Article.__table__
        comments = Comment.__table__
        ids = sorted(set(self.articles.values()))
        approved = (
            sa.select(sa.func.count())
            .where(comments.c.article_id == articles.c.id, comments.c.status == "approved")
            .scalar_subquery()
        )
        for start in range(0, len(ids), 500):
            self.connection.execute(
                sa.update(articles)
                .where(articles.c.id.in_(ids[start : start + 500]))
                .values(approved_count=approved, thread_version=articles.c.thread_version + 1)
            )
        db.session.info.setdefault(CHANGED_THREADS, set()).update(ids)


def import_comments(
    site_id: int,
    source: str,
    records: Iterable[SourceComment],
    *,
    score: bool = False,
    article_ids: str = "source",
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import one file's comments into a site, all or nothing (one transaction)."""
    loader = Loader(site_id, source, score=score, article_ids=article_ids)
    try:
        for batch in read_ahead(batched(records, batch_size)):
            loader.load(batch)
            if progress:
                progress(len(batch))
        return loader.finish()
    except BaseException:
        db.session.rollback()
        raise
