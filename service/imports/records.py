"""What every format's parser yields: plain records, no Flask, no SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class ImportFormatError(ValueError):
    """The file is not what its format says; the message names the line or the element."""


@dataclass(frozen=True)
class SourceArticle:
    # The source's own identifier of the thread (Disqus <id>, WordPress post id, Isso's uri,
    # Remark42's URL), and its URL and title.
    identifier: str
    url: str
    title: str = ""


@dataclass
class SourceComment:
    source_id: str
    parent_source_id: str | None
    article: SourceArticle
    text: str
    created_at: datetime
    # One of our statuses (approved, held, rejected, deleted, pending): each parser maps its own.
    status: str
    author_name: str
    author_email: str | None = None
    author_user_id: str | None = None
    # Who the author is for history (never standing: that binds to verified "sso:" keys only).
    author_key: str | None = None
    author_verified: bool = False
    spam: bool = False
    # Only our own export carries these.
    scores: dict[str, float] | None = None
    model_name: str | None = None
    model_version: str | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    language: str | None = None
    updated_at: datetime | None = None


def parse_datetime(value: str, where: str) -> datetime:
    """An ISO 8601 time (a trailing Z, or none for UTC); naive times are taken as UTC."""
    text = (value or "").strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise ImportFormatError(f"{where}: {text!r} is not a date and time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def author_name(name: str | None, fallback: str = "Anonymous") -> str:
    # Our column holds 100 characters; a longer name is cut rather than refused.
    return ((name or "").strip() or fallback)[:100]
