"""Our own export format, JSON lines: a header line, then one line per comment (with its
scores, reasons and, if asked, its moderation events). export.py writes it; parse() reads it back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, BinaryIO

from ..db import COMMENT_STATUSES
from .records import ImportFormatError, SourceArticle, SourceComment, author_name, parse_datetime

SOURCE = "jsonl"
FORMAT = "comment-service-export"
VERSION = 1


def header(kind: str, site: str, exported_at: datetime, **extra: Any) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "kind": kind, "site": site,
            "exported_at": exported_at.isoformat(), **extra}  # fmt: skip


def dumps(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def json_objects(lines: BinaryIO) -> Iterator[tuple[int, dict]]:
    """Each non-blank line's JSON object with its line number; anything else stops the import
    naming the line."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ImportFormatError(f"line {number}: not JSON ({error})") from None
        if not isinstance(record, dict):
            raise ImportFormatError(f"line {number}: a JSON {type(record).__name__}, not an object")
        yield number, record


def parse(lines: BinaryIO) -> Iterator[SourceComment]:
    first = True
    for number, record in json_objects(lines):
        if first:
            first = False
            if record.get("format") != FORMAT:
                raise ImportFormatError(f"line {number}: not a {FORMAT} file (no header line)")
            if record.get("version") != VERSION:
                raise ImportFormatError(
                    f"line {number}: version {record.get('version')!r}, expected {VERSION}"
                )
            continue
        if record.get("type") == "comment":
            yield _comment(record, number)
    if first:
        raise ImportFormatError("the file is empty")


def _comment(record: dict[str, Any], number: int) -> SourceComment:
    where = f"line {number}"
    try:
        article = record["article"]
        author = record["author"]
        status = record["status"]
        source = SourceComment(
            source_id=str(record["id"]),
            parent_source_id=str(record["parent_id"]) if record.get("parent_id") is not None else None,
            article=SourceArticle(
                identifier=str(article["id"]), url=str(article["url"]), title=str(article.get("title") or "")
            ),
            text=str(record["text"]),
            created_at=parse_datetime(str(record["created_at"]), f"{where}: created_at"),
            updated_at=parse_datetime(str(record["updated_at"]), f"{where}: updated_at")
            if record.get("updated_at")
            else None,
            status=status,
            spam=bool(record.get("spam")),
            author_name=author_name(author.get("name")),
            author_email=author.get("email") or None,
            author_user_id=author.get("user_id") or None,
            author_key=author.get("key") or None,
            author_verified=bool(author.get("verified")),
            scores=record.get("scores") or None,
            model_name=(record.get("model") or {}).get("name"),
            model_version=(record.get("model") or {}).get("version"),
            reasons=list(record.get("reasons") or []),
            language=record.get("language") or None,
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise ImportFormatError(f"{where}: the comment has no valid {error} field") from None
    if status not in COMMENT_STATUSES:
        raise ImportFormatError(f"{where}: status {status!r} is not one of {', '.join(COMMENT_STATUSES)}")
    return source
