"""WordPress's export (WXR, an RSS file): each <item> is a post or page, its <wp:comment>
elements its comments, linked by <wp:comment_parent> (0: none). Read as a stream: a comment is
dropped once read, and an item once its comments are."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import BinaryIO

from .records import ImportFormatError, SourceArticle, SourceComment, author_name, parse_datetime
from .text import plain_text

SOURCE = "wordpress"
# comment_approved: 1, 0 (awaiting moderation), spam, trash, post-trashed (its post was trashed).
_STATUSES = {
    "1": "approved",
    "0": "pending",
    "spam": "rejected",
    "trash": "deleted",
    "post-trashed": "deleted",
}
# Not comments readers wrote: links from other blogs.
_NOT_COMMENTS = ("pingback", "trackback")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class Skipped:
    """Counts what the file holds that is not a comment (pingbacks, trackbacks)."""

    count = 0


def parse(stream: BinaryIO, skipped: Skipped | None = None) -> Iterator[SourceComment]:
    skipped = skipped or Skipped()
    depth = 0
    channel = None
    item: dict[str, str] = {}
    seen_root = False
    try:
        # Expat (>= 2.4) caps entity amplification and ElementTree loads no external entity.
        for event, elem in ET.iterparse(stream, events=("start", "end")):  # noqa: S314
            if event == "start":
                depth += 1
                if not seen_root:
                    seen_root = True
                    if _local(elem.tag) != "rss":
                        raise ImportFormatError(
                            f"line 1: the root element is <{_local(elem.tag)}>, not <rss>:"
                            " not a WordPress export"
                        )
                elif depth == 2 and _local(elem.tag) == "channel":
                    channel = elem
                elif depth == 3 and _local(elem.tag) == "item":
                    item = {}
                continue
            depth -= 1
            if depth == 3:  # a field of the item, or one of its comments
                tag = _local(elem.tag)
                if tag == "comment":
                    fields = {_local(child.tag): (child.text or "").strip() for child in elem}
                    if fields.get("comment_type") in _NOT_COMMENTS:
                        skipped.count += 1
                    else:
                        yield _comment(fields, item)
                    elem.clear()
                elif tag in ("title", "link", "post_id"):
                    item[tag] = (elem.text or "").strip()
            elif depth == 2 and _local(elem.tag) == "item" and channel is not None:
                channel.clear()  # the item and its comments are done with
    except ET.ParseError as error:
        line, column = error.position
        raise ImportFormatError(f"line {line}, column {column}: not well-formed XML ({error.msg})") from None
    if not seen_root:
        raise ImportFormatError("the file is empty")


def _comment(fields: dict[str, str], item: dict[str, str]) -> SourceComment:
    comment_id = fields.get("comment_id")
    if not comment_id:
        raise ImportFormatError(
            f"a <wp:comment> of the item {item.get('title', '')!r} has no <wp:comment_id>"
        )
    where = f"<wp:comment> {comment_id}"
    post_id = item.get("post_id") or item.get("link")
    if not post_id:
        raise ImportFormatError(f"{where}: its <item> has no <wp:post_id> or <link> before its comments")
    approved = fields.get("comment_approved", "1")
    if approved not in _STATUSES:
        raise ImportFormatError(f"{where}: <wp:comment_approved> is {approved!r}")
    # The GMT time when WordPress knew it; older exports leave it zero and give the blog's local time.
    date = fields.get("comment_date_gmt", "")
    if not date or date.startswith("0000"):
        date = fields.get("comment_date", "")
    if not date:
        raise ImportFormatError(f"{where}: no <wp:comment_date_gmt> or <wp:comment_date>")
    parent = fields.get("comment_parent", "0")
    user_id = fields.get("comment_user_id", "0")
    return SourceComment(
        source_id=comment_id,
        parent_source_id=parent if parent not in ("", "0") else None,
        article=SourceArticle(identifier=post_id, url=item.get("link", ""), title=item.get("title", "")),
        text=plain_text(fields.get("comment_content", "")),
        created_at=parse_datetime(date.replace(" ", "T"), f"{where} <wp:comment_date_gmt>"),
        status=_STATUSES[approved],
        spam=approved == "spam",
        author_name=author_name(fields.get("comment_author")),
        author_email=fields.get("comment_author_email") or None,
        author_user_id=user_id if user_id not in ("", "0") else None,
        author_key=f"wordpress:{user_id}" if user_id not in ("", "0") else None,
    )
