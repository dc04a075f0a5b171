"""Disqus's XML export: <thread> elements (the articles), then <post> elements (the comments),
each naming its thread and its parent by dsq:id. Read as a stream: each top-level element is
dropped once read, so memory holds the threads seen so far, never the posts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import BinaryIO

from .records import ImportFormatError, SourceArticle, SourceComment, author_name, parse_datetime
from .text import plain_text

SOURCE = "disqus"
_DSQ_ID = "{http://disqus.com/disqus-internals}id"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _children(elem: ET.Element) -> dict[str, ET.Element]:
    return {_local(child.tag): child for child in elem}


def _text(children: dict[str, ET.Element], name: str) -> str:
    child = children.get(name)
    return (child.text or "").strip() if child is not None else ""


def _flag(children: dict[str, ET.Element], name: str, where: str) -> bool:
    value = _text(children, name).lower()
    if value in ("", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    raise ImportFormatError(f"{where}: <{name}> is {value!r}, not true or false")


def _dsq_id(elem: ET.Element | None) -> str | None:
    if elem is None:
        return None
    return elem.get(_DSQ_ID) or None


def parse(stream: BinaryIO) -> Iterator[SourceComment]:
    threads: dict[str, SourceArticle] = {}
    root = None
    depth = 0
    try:
        # Expat (>= 2.4) caps entity amplification and ElementTree loads no external entity.
        for event, elem in ET.iterparse(stream, events=("start", "end")):  # noqa: S314
            if event == "start":
                if root is None:
                    root = elem
                    if _local(elem.tag) != "disqus":
                        raise ImportFormatError(
                            f"line 1: the root element is <{_local(elem.tag)}>, not <disqus>:"
                            " not a Disqus export"
                        )
                depth += 1
                continue
            depth -= 1
            if depth != 1:
                continue
            tag = _local(elem.tag)
            if tag == "thread":
                thread_id = _dsq_id(elem)
                if thread_id is None:
                    raise ImportFormatError("a <thread> has no dsq:id attribute")
                children = _children(elem)
                link = _text(children, "link")
                threads[thread_id] = SourceArticle(
                    identifier=_text(children, "id") or link or thread_id,
                    url=link,
                    title=_text(children, "title"),
                )
            elif tag == "post":
                yield _post(elem, threads)
            root.clear()  # what was read is done with: memory stays bounded
    except ET.ParseError as error:
        line, column = error.position
        raise ImportFormatError(f"line {line}, column {column}: not well-formed XML ({error.msg})") from None
    if root is None:
        raise ImportFormatError("the file is empty")


def _post(elem: ET.Element, threads: dict[str, SourceArticle]) -> SourceComment:
    post_id = _dsq_id(elem)
    if post_id is None:
        raise ImportFormatError("a <post> has no dsq:id attribute")
    where = f'<post dsq:id="{post_id}">'
    children = _children(elem)
    thread_id = _dsq_id(children.get("thread"))
    if thread_id is None:
        raise ImportFormatError(f"{where}: no <thread dsq:id=...>")
    article = threads.get(thread_id)
    if article is None:
        raise ImportFormatError(f'{where}: its <thread dsq:id="{thread_id}"> is not in the file before it')
    if not _text(children, "createdAt"):
        raise ImportFormatError(f"{where}: no <createdAt>")
    author = _children(children["author"]) if "author" in children else {}
    anonymous = _flag(author, "isAnonymous", where)
    username = _text(author, "username")
    spam = _flag(children, "isSpam", where)
    if _flag(children, "isDeleted", where):
        status = "deleted"
    elif spam:
        status = "rejected"
    elif "isApproved" in children and not _flag(children, "isApproved", where):
        status = "pending"  # awaiting a moderator at Disqus
    else:
        status = "approved"
    return SourceComment(
        source_id=post_id,
        parent_source_id=_dsq_id(children.get("parent")),
        article=article,
        text=plain_text(_text(children, "message")),
        created_at=parse_datetime(_text(children, "createdAt"), f"{where} <createdAt>"),
        status=status,
        spam=spam,
        author_name=author_name(_text(author, "name") or username),
        author_email=_text(author, "email") or None,
        author_user_id=(username or None) if not anonymous else None,
        author_key=f"disqus:{username}" if username and not anonymous else None,
    )
