"""Moderation statistics: queue sizes, decisions per day, time in queue, model-moderator agreement."""

from __future__ import annotations

import statistics
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from .db import ModerationEvent, utcnow
from .engagement.rules import EDITORIAL_REASONS
from .extensions import db
from .scoring.base import LABELS
from .transitions import SYSTEM

REVIEWED_FROM = ("held", "pending")


def decisions_per_day(site_id: int, days: int) -> list[dict[str, Any]]:
    since = utcnow() - timedelta(days=days)
    day = sa.func.date(ModerationEvent.created_at)
    by_system = ModerationEvent.actor == SYSTEM
    rows = db.session.execute(
        sa.select(day, by_system, ModerationEvent.to_status, sa.func.count())
        .where(
            ModerationEvent.site_id == site_id,
            ModerationEvent.created_at >= since,
            ModerationEvent.reason.notin_(EDITORIAL_REASONS),
        )
        .group_by(day, by_system, ModerationEvent.to_status)
        .order_by(day)
    ).all()
    out: dict[str, dict[str, Any]] = {}
    for date, system, status, n in rows:
        entry = out.setdefault(str(date), {"date": str(date), "automatic": {}, "moderators": {}})
        entry["automatic" if system else "moderators"][status] = n
    return list(out.values())


def _moderator_reviews(
    site_id: int, days: int
) -> tuple[list[ModerationEvent], dict[int, list[ModerationEvent]]]:
    """Moderator decisions on queued comments in the window, with the full trail of those comments."""
    since = utcnow() - timedelta(days=days)
    reviews = list(
        db.session.execute(
            sa.select(ModerationEvent).where(
                ModerationEvent.site_id == site_id,
                ModerationEvent.created_at >= since,
                ModerationEvent.actor != SYSTEM,
                ModerationEvent.from_status.in_(REVIEWED_FROM),
                ModerationEvent.to_status.in_(("approved", "rejected")),
            )
        ).scalars()
    )
    trails: dict[int, list[ModerationEvent]] = {}
    ids = list({e.comment_id for e in reviews})
    for start in range(0, len(ids), 500):
        for event in db.session.execute(
            sa.select(ModerationEvent)
            .where(ModerationEvent.comment_id.in_(ids[start : start + 500]))
            .order_by(ModerationEvent.id)
        ).scalars():
            trails.setdefault(event.comment_id, []).append(event)
    return reviews, trails


def _entered_queue(review: ModerationEvent, trail: list[ModerationEvent]) -> ModerationEvent | None:
    earlier = [e for e in trail if e.id < review.id and e.to_status == review.from_status]
    return earlier[-1] if earlier else None


def agreement(reviews: list[ModerationEvent], trails: dict[int, list[ModerationEvent]]) -> dict[str, Any]:
    """Per label: of the comments the model held for it, how many moderators rejected (precision),
    and of the comments moderators rejected, how many the model had held for it (recall)."""
    held_for: dict[int, set[str]] = {}
    final: dict[int, str] = {}
    for review in reviews:
        entry = _entered_queue(review, trails.get(review.comment_id, []))
        labels = set()
        if entry is not None and entry.actor == SYSTEM:
            labels = {r.get("label") for r in entry.reasons or [] if r.get("code") == "label_above_hold"}
        held_for[review.comment_id] = labels
        final[review.comment_id] = review.to_status
    rejected = {c for c, s in final.items() if s == "rejected"}
    out = {}
    for label in LABELS:
        flagged = {c for c, labels in held_for.items() if label in labels}
        true_positive = len(flagged & rejected)
        out[label] = {
            "held_by_model": len(flagged),
            "precision": round(true_positive / len(flagged), 4) if flagged else None,
            "recall": round(true_positive / len(rejected), 4) if rejected else None,
        }
    return out


def site_stats(site_id: int, days: int, queue_sizes: dict[str, int]) -> dict[str, Any]:
    reviews, trails = _moderator_reviews(site_id, days)
    waits = []
    for review in reviews:
        entry = _entered_queue(review, trails.get(review.comment_id, []))
        if entry is not None:
            waits.append((review.created_at - entry.created_at).total_seconds())
    return {
        "days": days,
        "queues": queue_sizes,
        "decisions_per_day": decisions_per_day(site_id, days),
        "median_seconds_in_queue": statistics.median(waits) if waits else None,
        "reviewed": len(reviews),
        "agreement": agreement(reviews, trails),
    }
