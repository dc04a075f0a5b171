"""Isso's SQLite database: `threads` (uri, title) and `comments` (tid, parent, created as Unix
seconds, mode: 1 accepted, 2 awaiting moderation, 4 deleted). Isso keeps paths, not URLs: the
site's base URL is put in front. Rows are read in id order from a cursor, never all at once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from .records import ImportFormatError, SourceArticle, SourceComment, author_name

SOURCE = "isso"
_MODES = {1: "approved", 2: "pending", 4: "deleted"}
_ROWS = (
    "SELECT c.id, c.parent, c.created, c.modified, c.mode, c.text, c.author, c.email, t.uri, t.title "
    "FROM comments c JOIN threads t ON t.id = c.tid ORDER BY c.id"
)


class IssoDatabase:
    def __init__(self, path: Path | str, base_url: str):
        self.base_url = base_url.rstrip("/")
        try:
            # Read by the import's parser thread (loader.read_ahead).
            self.connection = sqlite3.connect(
                f"file:{Path(path).resolve()}?mode=ro", uri=True, check_same_thread=False
            )
            self.total = self.connection.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
            self.connection.execute("SELECT id, uri, title FROM threads LIMIT 0")
        except sqlite3.Error as error:
            raise ImportFormatError(f"not an Isso database: {error}") from None

    def close(self) -> None:
        self.connection.close()

    def comments(self) -> Iterator[SourceComment]:
        try:
            rows = self.connection.execute(_ROWS)
            for row in rows:
                yield self._comment(row)
        except sqlite3.Error as error:
            raise ImportFormatError(f"not an Isso database: {error}") from None

    def _comment(self, row: tuple) -> SourceComment:
        comment_id, parent, created, modified, mode, text, author, email, uri, title = row
        where = f"comments row id {comment_id}"
        if mode not in _MODES:
            raise ImportFormatError(f"{where}: mode is {mode!r}, not 1, 2 or 4")
        try:
            created_at = datetime.fromtimestamp(float(created), UTC)
            updated_at = datetime.fromtimestamp(float(modified), UTC) if modified else None
        except (TypeError, ValueError, OverflowError):
            raise ImportFormatError(f"{where}: created is {created!r}, not Unix seconds") from None
        path = uri or "/"
        return SourceComment(
            source_id=str(comment_id),
            parent_source_id=str(parent) if parent else None,
            article=SourceArticle(identifier=path, url=self.base_url + path, title=title or ""),
            text=(text or "").strip(),
            created_at=created_at,
            updated_at=updated_at,
            status=_MODES[mode],
            author_name=author_name(author),
            author_email=email or None,
        )
