"""Readers' reactions: one like per reader per published comment (a verified reader, else the
keyed hash of the reader's network, as reports count readers), counted on the comment so the
thread and its top sort read the count, and the thread's version bumped so its ETag changes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..db import Comment, Reaction
from ..errors import NotFound
from ..extensions import db
from ..identity.tokens import Reader
from ..reports import reporter_key
from ..transitions import thread_changed

_comments = Comment.__table__


def _published(site_id: int, comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.site_id != site_id or comment.status != "approved":
        raise NotFound("no published comment with this id")
    return comment


def _count(comment: Comment, delta: int) -> int:
    """Add `delta` to the comment's count in the database itself (concurrent likes lose nothing),
    leaving its moderation `version` alone; the thread changes with it. The article's row first,
    as a moderator's decision locks it, so the two never wait on each other crosswise."""
    thread_changed(comment.article)
    return db.session.execute(
        sa.update(_comments)
        .where(_comments.c.id == comment.id)
        .values(reaction_count=_comments.c.reaction_count + delta)
        .returning(_comments.c.reaction_count)
    ).scalar_one()


def _likes(comment: Comment) -> int:
    return db.session.scalar(sa.select(_comments.c.reaction_count).where(_comments.c.id == comment.id))


def react(
    site_id: int, comment_id: int, *, reader: Reader | None, network: str
) -> tuple[dict[str, Any], bool]:
    """Like a published comment; the same reader again changes nothing. Returns the answer and
    whether this like was new."""
    comment = _published(site_id, comment_id)
    try:
        with db.session.begin_nested():
            db.session.add(
                Reaction(comment_id=comment.id, site_id=site_id, reactor_key=reporter_key(reader, network))
            )
        likes, added = _count(comment, +1), True
    except IntegrityError:  # this reader's like is there already
        likes, added = _likes(comment), False
    db.session.commit()
    return {"comment_id": comment.id, "likes": likes, "reacted": True}, added


def unreact(site_id: int, comment_id: int, *, reader: Reader | None, network: str) -> dict[str, Any]:
    """Take back this reader's like (none there: nothing changes)."""
    comment = _published(site_id, comment_id)
    removed = db.session.execute(
        sa.delete(Reaction).where(
            Reaction.comment_id == comment.id, Reaction.reactor_key == reporter_key(reader, network)
        )
    ).rowcount
    likes = _count(comment, -1) if removed else _likes(comment)
    db.session.commit()
    return {"comment_id": comment.id, "likes": likes, "reacted": False}
