"""Readers' reports: one per reader per comment; past the site's threshold the comment is held again."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy.exc import IntegrityError

from .db import Comment, Report, Site
from .errors import Conflict, NotFound
from .extensions import db
from .moderation.policy import Policy
from .transitions import comment_payload, emit, outbox_row, record_transition

REPORT_REASONS = ("spam", "abuse", "off-topic", "other")


class AlreadyReported(Conflict):
    code, title = "already-reported", "This reader has reported this comment already"


def reporter_key(user_id: str | None, client_address: str, secret: str) -> str:
    """The site's user id, else a keyed hash of the address: readers are told apart, not identified."""
    if user_id:
        return f"user:{user_id}"
    digest = hmac.new(secret.encode(), client_address.encode(), hashlib.sha256).hexdigest()
    return f"addr:{digest}"


def file_report(site_id: int, comment_id: int, data: dict[str, Any], reporter: str) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.site_id != site_id or comment.status != "approved":
        raise NotFound("no published comment with this id")
    report = Report(
        comment_id=comment.id,
        site_id=site_id,
        reporter_key=reporter,
        reason=data["reason"],
        note=data.get("note", ""),
    )
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        raise AlreadyReported("you have reported this comment already") from None
    comment.report_count += 1
    comment.reports_open += 1
    policy = Policy.from_dict(db.session.get(Site, site_id).policy)
    emit(outbox_row(site_id, "comment.reported", comment_payload(comment, comment.article), comment.id))
    if comment.reports_open >= policy.report_threshold:
        record_transition(
            comment,
            comment.article,
            "held",
            reason="reported",
            reasons=[
                *comment.reasons,
                {"code": "reported", "count": comment.reports_open, "threshold": policy.report_threshold},
            ],
        )
    db.session.commit()
    return comment
