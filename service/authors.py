"""Authors on a site: their history (counted from their comments) and a moderator's word on them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .db import Author, Comment, utcnow
from .extensions import db
from .moderation.authors import AuthorHistory, standing
from .moderation.policy import AuthorStanding, Policy


def history(site_id: int, author_key: str) -> AuthorHistory:
    rows = db.session.execute(
        sa.select(Comment.status, sa.func.count(), sa.func.max(Comment.updated_at))
        .where(Comment.site_id == site_id, Comment.author_key == author_key)
        .group_by(Comment.status)
    ).all()
    counts = {status: (n, last) for status, n, last in rows}
    return AuthorHistory(
        approved=counts.get("approved", (0, None))[0],
        rejected=counts.get("rejected", (0, None))[0],
        held=counts.get("held", (0, None))[0],
        last_rejected_at=counts.get("rejected", (0, None))[1],
    )


def get_author(site_id: int, author_key: str) -> Author | None:
    return db.session.execute(
        sa.select(Author).where(Author.site_id == site_id, Author.author_key == author_key)
    ).scalar_one_or_none()


def author_standing(site_id: int, author_key: str | None, policy: Policy) -> AuthorStanding:
    if not author_key:
        return "regular"
    author = get_author(site_id, author_key)
    return standing(
        author.standing if author else None,
        author.suspended_until if author else None,
        history(site_id, author_key),
        policy,
        utcnow(),
    )


def set_standing(site_id: int, author_key: str, data: dict[str, Any], actor: str) -> Author:
    """A moderator bans, suspends (until a time), trusts or resets an author."""
    author = get_author(site_id, author_key)
    if author is None:
        author = Author(site_id=site_id, author_key=author_key)
        db.session.add(author)
    author.standing = data["standing"]
    author.suspended_until = data.get("suspended_until") if data["standing"] == "suspended" else None
    author.note = data.get("note", "")
    author.updated_by = actor
    db.session.commit()
    return author


def author_view(site_id: int, author_key: str, policy: Policy) -> dict[str, Any]:
    author = get_author(site_id, author_key)
    past = history(site_id, author_key)
    return {
        "key": author_key,
        "standing": author_standing(site_id, author_key, policy),
        "explicit_standing": author.standing if author else None,
        "suspended_until": author.suspended_until if author else None,
        "note": author.note if author else "",
        "history": {"approved": past.approved, "rejected": past.rejected, "held": past.held},
    }
