"""Authors' edits and deletions of their own comments, and their own comments awaiting review,
through the same checks, scorer, policy and transitions as posting and moderation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from ..db import Comment, CommentEdit, utcnow
from ..errors import (
    ArticleClosed,
    AuthorProofRequired,
    Conflict,
    EditRefused,
    NotCommentAuthor,
    NotFound,
)
from ..extensions import db
from ..identity.tokens import Reader
from ..scoring.engine import ScoringEngine
from ..sites import site_settings
from ..spam.checks import hold_published_copies, is_spam
from ..transitions import comment_payload, emit, outbox_row, record_transition, thread_changed
from .rules import edit_refusal, editable_until, status_after_edit
from .tokens import proves

# The actor of an author's own edits and deletions in the audit trail.
AUTHOR_ACTOR = "author"
AWAITING_REVIEW = ("pending", "held")


@dataclass(frozen=True)
class AuthorProof:
    """What a request shows of its sender: author tokens by comment id, and a verified reader."""

    tokens: dict[int, str] = field(default_factory=dict)
    reader: Reader | None = None

    def owns(self, comment: Comment) -> bool:
        secret = self.tokens.get(comment.id)
        if secret is not None and proves(secret, comment.author_token_hash):
            return True
        return (
            self.reader is not None
            and comment.author_verified
            and comment.author_key is not None
            and comment.author_key == self.reader.key
        )


def own_comment(site_id: int, comment_id: int, proof: AuthorProof | None) -> Comment:
    """The comment, if the proof shows its author: 404 (no such comment on the site), 401 (no
    proof at all) or 403 (a proof of someone else) otherwise."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.site_id != site_id:
        raise NotFound(f"no comment {comment_id}")
    if proof is None:
        raise AuthorProofRequired(
            "send the Author-Token the comment was posted with, or the author's Reader-Token"
        )
    if not proof.owns(comment):
        raise NotCommentAuthor(
            f"the Author-Token or Reader-Token sent is not the author's of comment {comment_id}"
        )
    return comment


def edit_comment(
    site_id: int,
    comment_id: int,
    text: str,
    proof: AuthorProof | None,
    *,
    engine: ScoringEngine,
    deadline: float,
) -> Comment:
    """Replace the text of the author's comment within the site's window: the new text is checked,
    scored and decided as a new comment's would be (service/comments.assess), the old one kept
    for moderators. One transaction."""
    from ..comments import assess  # the posting path imports this package

    comment = own_comment(site_id, comment_id, proof)
    site = site_settings(site_id)
    now = utcnow()
    refusal = edit_refusal(comment.status, comment.created_at, site.policy.edit_window_minutes, now)
    if refusal is not None:
        until = editable_until(comment.created_at, site.policy.edit_window_minutes)
        raise EditRefused(
            refusal,
            _refusal_detail(refusal, comment.status, until),
            editable_until=until and until.isoformat(),
        )
    article = comment.article
    if article.closed:
        raise ArticleClosed("this article no longer takes comments, nor edits")
    if text == comment.text:
        return comment
    judged = assess(
        site,
        engine,
        deadline,
        text=text,
        article=article,
        reader_key=comment.author_key if comment.author_verified else None,
        network=comment.network_key,
        now=now,
        connection=db.session.connection(),
        edit_of=comment,
    )
    previous = comment.status
    status = status_after_edit(previous, judged.decision.status)
    reasons = [r.to_dict() for r in judged.decision.reasons]
    if status != judged.decision.status:
        # Still awaiting review: what held it (reports included) holds it still.
        kept = [r for r in comment.reasons or [] if r.get("code") == "reported"]
        reasons = [*reasons, *kept, {"code": "edited_while_held"}]
    db.session.add(
        CommentEdit(
            comment_id=comment.id, site_id=site_id, text=comment.text, status=previous, replaced_at=now
        )
    )
    comment.text = text
    for column, value in {**judged.spam.fingerprint, **judged.score_columns}.items():
        setattr(comment, column, value)
    comment.language = judged.language
    comment.spam = is_spam(reasons)
    comment.edit_count = (comment.edit_count or 0) + 1
    comment.edited_at = now
    try:
        record_transition(
            comment, article, status, actor=AUTHOR_ACTOR, reason="edited by author", reasons=reasons
        )
        if previous == status == "approved":
            thread_changed(article)  # the published text changed
        emit(outbox_row(site_id, "comment.edited", comment_payload(comment, article), comment.id))
        hold_published_copies(reasons, comment.id)
        db.session.commit()
    except StaleDataError:  # a moderator decided (or another edit landed) in between
        db.session.rollback()
        raise Conflict(f"comment {comment_id} changed while it was being edited; try again") from None
    return comment


def _refusal_detail(code: str, status: str, until: datetime | None) -> str:
    if code == "edit-window-closed":
        if until is None:
            return "this site does not let authors edit their comments"
        return f"this comment could be edited until {until.isoformat()}"
    if code == "comment-deleted":
        return "this comment was deleted"
    return f"a {status} comment can no longer be edited"


def delete_comment(site_id: int, comment_id: int, proof: AuthorProof | None) -> None:
    """The author takes their comment down: its text and their data go (as an erasure), the audit
    row stays, and replies keep their place under a tombstone."""
    from ..decisions import erase_comment

    comment = own_comment(site_id, comment_id, proof)
    if comment.status == "deleted":
        return
    erase_comment(comment, AUTHOR_ACTOR, reason="deleted by author", statement=False)
    thread_changed(comment.article)  # a tombstone may now stand where the comment was
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(f"comment {comment_id} changed while it was being deleted; try again") from None


def awaiting_review(site_id: int, article_id: int, proof: AuthorProof) -> list[Comment]:
    """The sender's own comments on an article that are not published yet (pending or held)."""
    found: dict[int, Comment] = {}
    if proof.tokens:
        for comment in db.session.execute(
            sa.select(Comment).where(
                Comment.id.in_(list(proof.tokens)),
                Comment.article_id == article_id,
                Comment.status.in_(AWAITING_REVIEW),
            )
        ).scalars():
            if proof.owns(comment):
                found[comment.id] = comment
    if proof.reader is not None:
        for comment in db.session.execute(
            sa.select(Comment).where(
                Comment.site_id == site_id,
                Comment.author_key == proof.reader.key,
                Comment.author_verified.is_(True),
                Comment.article_id == article_id,
                Comment.status.in_(AWAITING_REVIEW),
            )
        ).scalars():
            found[comment.id] = comment
    return [found[i] for i in sorted(found)]


def own_pending(site_id: int, comment_id: int, proof: AuthorProof) -> Comment | None:
    """The sender's own comment if it awaits review, else None."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.site_id != site_id or comment.status not in AWAITING_REVIEW:
        return None
    return comment if proof.owns(comment) else None


def edit_history(comment_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The earlier texts of comments, oldest first (moderators' view)."""
    history: dict[int, list[dict[str, Any]]] = {}
    if not comment_ids:
        return history
    for edit in db.session.execute(
        sa.select(CommentEdit).where(CommentEdit.comment_id.in_(comment_ids)).order_by(CommentEdit.id)
    ).scalars():
        history.setdefault(edit.comment_id, []).append(
            {"text": edit.text, "status": edit.status, "replaced_at": edit.replaced_at}
        )
    return history


def own_view(comment: Comment, window_minutes: float) -> dict[str, Any]:
    """The author's view of their comment (OwnCommentSchema)."""
    return {
        "id": comment.id,
        "status": comment.status,
        "published": comment.status == "approved",
        "article_id": comment.article.external_id,
        "parent_id": comment.parent_id,
        "text": comment.text,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
        "editable_until": editable_until(comment.created_at, window_minutes),
    }
