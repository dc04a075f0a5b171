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

    # --- per batch ------------------------------------------------------------------------

    def load(self, batch: list[SourceComment]) -> None:
        self.result.read += len(batch)
        fresh: dict[str, SourceComment] = {}
        for record in batch:
            if record.source_id not in self.waiting_ids:
                fresh.setdefault(record.source_id, record)
        known = self._known(list(fresh))
        new = [r for source_id, r in fresh.items() if source_id not in known]
        self.result.already_imported += len(batch) - len(new)
        wanted = {r.parent_source_id for r in new if r.parent_source_id} - fresh.keys()
        self.stored_parents = self._stored(wanted)
        out: list[tuple[SourceComment, bool]] = []
        available = set(self.stored_parents)
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
        """Parents written by earlier batches or imports: source id -> (id, depth, root id)."""
        imported, comments = ImportedComment.__table__, Comment.__table__
        found: dict[str, tuple[int, int, int | None]] = {}
        ids = list(source_ids)
        for start in range(0, len(ids), 500):
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

    def _known(self, source_ids: list[str]) -> set[str]:
        table = ImportedComment.__table__
        known: set[str] = set()
        for start in range(0, len(source_ids), 500):  # SQLite's limit on bound parameters
            chunk = source_ids[start : start + 500]
            known.update(
                self.connection.scalars(
                    sa.select(table.c.source_id).where(
                        table.c.site_id == self.site_id,
                        table.c.source == self.source,
                        table.c.source_id.in_(chunk),
                    )
                )
            )
        return known

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
            "author_name": record.author_name,
            "author_email": (record.author_email or "")[:320] or None,
            "author_user_id": (record.author_user_id or "")[:200] or None,
            "author_key": (record.author_key or "")[:128] or None,
            "author_verified": record.author_verified,
            "network_key": None,
            "text": record.text,
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
        """COPY FROM STDIN on the session's own connection, so in its transaction."""
        from psycopg.types.json import Jsonb

        columns = list(rows[0])
        json_columns = {name for name in columns if isinstance(table.c[name].type, sa.JSON)}
        cursor = self.connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        Jsonb(row[name]) if name in json_columns and row[name] is not None else row[name]
                        for name in columns
                    ]
                )

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
        for batch in batched(records, batch_size):
            loader.load(batch)
            if progress:
                progress(len(batch))
        return loader.finish()
    except BaseException:
        db.session.rollback()
        raise
