"""Authors on a site: their history (counted from their comments) and a moderator's word on them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .db import Author, utcnow
from .errors import ValidationFailed
from .extensions import db
from .governance.statements import issue_for_standing
from .identity.tokens import VERIFIED_PREFIX
from .moderation.authors import AuthorHistory, standing
from .moderation.policy import AuthorStanding, Policy


def history(author: Author | sa.Row | None) -> AuthorHistory:
    if author is None:
        return AuthorHistory()
    return AuthorHistory(
        approved=author.approved_count,
        rejected=author.rejected_count,
        held=author.held_count,
        last_rejected_at=author.last_rejected_at,
    )


# Recounting from the comments themselves, for rows written around the transitions (bulk imports).
_ADD_MISSING_AUTHORS = sa.text(
    "INSERT INTO authors (site_id, author_key, standing, note, updated_by, updated_at) "
    "SELECT c.site_id, c.author_key, 'regular', '', '', MIN(c.created_at) FROM comments c "
    "WHERE c.author_key IS NOT NULL AND (:site IS NULL OR c.site_id = :site) AND NOT EXISTS ("
    "SELECT 1 FROM authors a WHERE a.site_id = c.site_id AND a.author_key = c.author_key) "
    "GROUP BY c.site_id, c.author_key"
)
_RECOUNT_AUTHORS = sa.text(
    "UPDATE authors SET "
    "approved_count = (SELECT COUNT(*) FROM comments c WHERE c.site_id = authors.site_id "
    "AND c.author_key = authors.author_key AND c.status = 'approved'), "
    "rejected_count = (SELECT COUNT(*) FROM comments c WHERE c.site_id = authors.site_id "
    "AND c.author_key = authors.author_key AND c.status = 'rejected'), "
    "held_count = (SELECT COUNT(*) FROM comments c WHERE c.site_id = authors.site_id "
    "AND c.author_key = authors.author_key AND c.status = 'held'), "
    "last_rejected_at = (SELECT MAX(c.updated_at) FROM comments c WHERE c.site_id = authors.site_id "
    "AND c.author_key = authors.author_key AND c.status = 'rejected') "
    "WHERE :site IS NULL OR site_id = :site"
)


def recount(site_id: int | None = None) -> None:
    """Count every author's comments again (all sites, or one); authors without a row get one."""
    site = sa.bindparam("site", site_id, type_=sa.Integer)
    db.session.execute(_ADD_MISSING_AUTHORS.bindparams(site))
    db.session.execute(_RECOUNT_AUTHORS.bindparams(site))
    db.session.commit()


def get_author(site_id: int, author_key: str) -> Author | None:
    return db.session.execute(
        sa.select(Author).where(Author.site_id == site_id, Author.author_key == author_key)
    ).scalar_one_or_none()


_AUTHOR_ROW = sa.select(
    *(
        Author.__table__.c[name]
        for name in (
            "standing",
            "suspended_until",
            "approved_count",
            "rejected_count",
            "held_count",
            "last_rejected_at",
        )
    )
).where(
    Author.__table__.c.site_id == sa.bindparam("site"), Author.__table__.c.author_key == sa.bindparam("key")
)


def author_row(site_id: int, author_key: str, connection: sa.Connection | None = None) -> sa.Row | None:
    """What standing needs of an author, as a plain row: posting reads it for every verified reader."""
    connection = connection or db.session.connection()
    return connection.execute(_AUTHOR_ROW, {"site": site_id, "key": author_key}).first()


def author_standing(site_id: int, author_key: str | None, policy: Policy) -> AuthorStanding:
    if not author_key or not author_key.startswith(VERIFIED_PREFIX):
        return "regular"
    return standing_of(author_row(site_id, author_key), policy)


def standing_of(author: Author | sa.Row | None, policy: Policy) -> AuthorStanding:
    return standing(
        author.standing if author else None,
        author.suspended_until if author else None,
        history(author),
        policy,
        utcnow(),
    )


def set_standing(site_id: int, author_key: str, data: dict[str, Any], actor: str) -> Author:
    """A moderator bans, suspends (until a time), trusts or resets an author: a verified one, since
    any other id is a claim anyone can make (or drop) in the next comment."""
    if not author_key.startswith(VERIFIED_PREFIX):
        raise ValidationFailed(
            "key", "standing binds only to verified readers (sso:<the site's user id>)", "query"
        )
    author = get_author(site_id, author_key)
    if author is None:
        author = Author(site_id=site_id, author_key=author_key)
        db.session.add(author)
    author.standing = data["standing"]
    author.suspended_until = data.get("suspended_until") if data["standing"] == "suspended" else None
    author.note = data.get("note", "")
    author.updated_by = actor
    issue_for_standing(site_id, author_key, author.standing, author.suspended_until, actor, author.note)
    db.session.commit()
    return author


def author_view(site_id: int, author_key: str, policy: Policy) -> dict[str, Any]:
    author = get_author(site_id, author_key)
    past = history(author)
    return {
        "key": author_key,
        "standing": standing_of(author, policy),
        # Rows made by counting carry no moderator's word (updated_by is empty).
        "explicit_standing": author.standing if author and author.updated_by else None,
        "suspended_until": author.suspended_until if author else None,
        "note": author.note if author else "",
        "history": {"approved": past.approved, "rejected": past.rejected, "held": past.held},
    }
