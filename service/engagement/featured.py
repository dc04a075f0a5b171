"""Editors' picks: moderators feature approved comments of an article (shown above its thread)
and unfeature them; each change is an event of the comment's audit trail."""

from __future__ import annotations

from ..auth import Principal
from ..db import Comment, utcnow
from ..decisions import load_for_principal
from ..errors import Conflict
from ..extensions import db
from ..transitions import record_event, thread_changed
from .rules import FEATURED, UNFEATURED


class NotPublished(Conflict):
    code, title = "not-published", "Only a published comment can be featured"


def set_featured(principal: Principal, comment_id: int, featured: bool, note: str = "") -> Comment:
    """Feature or unfeature one comment; asking for what already holds changes nothing."""
    comment = load_for_principal(principal, comment_id)
    if featured and comment.status != "approved":
        raise NotPublished(f"comment {comment_id} is {comment.status}: only approved comments are featured")
    if (comment.featured_at is not None) == featured:
        return comment
    # The article's row first, then the comment's (at commit), as decisions and likes lock them:
    # in the other order a like at the same moment deadlocks with this.
    thread_changed(comment.article)
    comment.featured_at = utcnow() if featured else None
    record_event(comment, actor=principal.actor, reason=FEATURED if featured else UNFEATURED, note=note)
    db.session.commit()
    return comment
