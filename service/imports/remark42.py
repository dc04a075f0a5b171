"""Remark42's backup file (gzipped or not): JSON lines, the first one the site's metadata
(version, users, posts), then one comment per line with its parent's id in `pid`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from .jsonl import json_objects
from .records import ImportFormatError, SourceArticle, SourceComment, author_name, parse_datetime
from .text import plain_text

SOURCE = "remark42"


def parse(lines: BinaryIO) -> Iterator[SourceComment]:
    first = True
    for number, record in json_objects(lines):
        if first:
            first = False
            if "version" in record and "id" not in record:
                continue  # the metadata line
        yield _comment(record, number)
    if first:
        raise ImportFormatError("the file is empty")


def _comment(record: dict, number: int) -> SourceComment:
    where = f"line {number}"
    try:
        comment_id = str(record["id"])
        locator = record["locator"]
        url = str(locator["url"])
        user = record.get("user") or {}
        created = str(record["time"])
    except (KeyError, TypeError) as error:
        raise ImportFormatError(f"{where}: no {error} field in the comment") from None
    user_id = str(user.get("id") or "") or None
    # `orig` is what the reader typed (Markdown); `text` its rendering in HTML.
    text = record.get("orig") or plain_text(str(record.get("text") or ""))
    return SourceComment(
        source_id=comment_id,
        parent_source_id=str(record.get("pid") or "") or None,
        article=SourceArticle(identifier=url, url=url, title=str(record.get("title") or "")),
        text=str(text).strip(),
        created_at=parse_datetime(created, f"{where}: time"),
        status="deleted" if record.get("delete") else "approved",
        author_name=author_name(user.get("name")),
        author_email=user.get("email") or None,
        author_user_id=user_id,
        author_key=f"remark42:{user_id}" if user_id else None,
    )
