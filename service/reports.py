"""Readers' reports: one per reader per comment (a verified reader, else a network), weighed by
who sent them; past the site's threshold the comment is held again. Moderators dismiss or uphold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .authors import author_standing
from .db import Comment, Report, utcnow
from .errors import Conflict, NotFound
from .extensions import db
from .identity.tokens import Reader
from .moderation.reports import ReporterRecord, report_weight
from .sites import site_settings
from .transitions import comment_payload, emit, outbox_row, record_transition

REPORT_REASONS = ("spam", "abuse", "off-topic", "other")


class AlreadyReported(Conflict):
    code, title = "already-reported", "This reader has reported this comment already"


def reporter_key(reader: Reader | None, network: str) -> str:
    """Who a report is from: the reader the site vouched for, else the reader's network (a keyed
    hash of it): readers are told apart, never identified, and made-up ids count for nothing."""
    return reader.key if reader is not None else f"net:{network}"


def _record(site_id: int, key: str) -> ReporterRecord:
    row = db.session.execute(
        sa.select(
            sa.func.count().filter(Report.outcome == "upheld"),
            sa.func.count().filter(Report.outcome == "dismissed"),
        ).where(Report.site_id == site_id, Report.reporter_key == key)
    ).one()
    return ReporterRecord(upheld=row[0], dismissed=row[1])


def _network_reports_last_hour(site_id: int, network: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Report.site_id == site_id,
            Report.network_key == network,
            Report.created_at >= utcnow() - timedelta(hours=1),
        )
    )


def file_report(
    site_id: int, comment_id: int, data: dict[str, Any], *, reader: Reader | None, network: str
) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.site_id != site_id or comment.status != "approved":
        raise NotFound("no published comment with this id")
    policy = site_settings(site_id).policy
    key = reporter_key(reader, network)
    flooded = _network_reports_last_hour(site_id, network) >= policy.report_flood_per_hour
    weight = report_weight(
        verified=reader is not None,
        standing=author_standing(site_id, key, policy) if reader is not None else "regular",
        record=_record(site_id, key),
        flooded=flooded,
    )
    report = Report(
        comment_id=comment.id,
        site_id=site_id,
        reporter_key=key,
        network_key=network,
        weight=weight,
        flood=flooded,
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
    comment.report_weight = round((comment.report_weight or 0) + weight, 4)
    emit(outbox_row(site_id, "comment.reported", comment_payload(comment, comment.article), comment.id))
    if comment.report_weight >= policy.report_threshold:
        record_transition(
            comment,
            comment.article,
            "held",
            reason="reported",
            reasons=[
                *comment.reasons,
                {
                    "code": "reported",
                    "count": comment.reports_open,
                    "score": comment.report_weight,
                    "threshold": policy.report_threshold,
                },
            ],
        )
    db.session.commit()
    return comment


def resolve_reports(comment: Comment, outcome: str | None) -> None:
    """A moderator answered the comment's open reports: upheld (rejected), dismissed (kept), or
    neither (held). A dismissed report stays on record, so its reporter cannot send it back."""
    if not comment.reports_open:
        return
    comment.reports_open = 0
    comment.report_weight = 0.0
    db.session.execute(
        sa.update(Report)
        .where(Report.comment_id == comment.id, Report.resolved_at.is_(None))
        .values(resolved_at=utcnow(), outcome=outcome)
    )
