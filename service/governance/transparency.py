"""Transparency reports (DSA Art. 15 and 24): a site's notices, restrictions and decisions over a
period, counted by the database (GROUP BY), then put together by the plain rules below.

Where the counts come from:
- notices: the notices received in the period, by the category the reporter named; those decided
  in the period, by decision, and the median time from notice to decision and to restriction;
- restrictions: the statements of reasons (one per restriction, see statements.py), dated by the
  moderation event behind them when there is one, by ground, kind and use of automation; the
  model's share is the restrictions whose event's first reason is one of the model's labels;
- decisions: every moderation event in the period, automated (the site's policy, "system"), by a
  person ("user:<id>"), or by an integration's key ("integration:<id>", older "key:<id>").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..db import ModerationEvent
from ..engagement.rules import EDITORIAL_REASONS
from ..extensions import db
from . import dsa
from .tables import Appeal, Notice, Statement

ACTOR_KINDS = ("automated", "human", "integration")
# The first reason code of a restriction the model detected (service/policy: label_above_*).
MODEL_REASON_PREFIX = "label_above"


def actor_kind(actor: str) -> str:
    """Who took a decision, as the report counts it."""
    if actor.startswith("user:"):
        return "human"
    if actor.startswith(("integration:", "key:")):
        return "integration"
    return "automated"


def median(values: Iterable[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _counts(rows: Iterable[tuple[str, int]], keys: Iterable[str] = ()) -> dict[str, int]:
    """Counts by key, every known key present (0 when none), so reports compare period to period."""
    counts = dict.fromkeys(keys, 0)
    for key, count in rows:
        counts[key] = counts.get(key, 0) + count
    return counts


def assemble(
    *,
    site: str,
    since: datetime,
    until: datetime,
    notices_by_category: Iterable[tuple[str, int]],
    notices_by_decision: Iterable[tuple[str, int]],
    notice_delays: Iterable[tuple[float, bool]],
    restrictions: Iterable[tuple[str, str, str, bool, int]],
    decisions: Iterable[tuple[str, str, int]],
    appeals: dict[str, Any],
) -> dict[str, Any]:
    """The report from grouped counts. restrictions: (ground, kind, automated_decision,
    detected by the model, count); decisions: (actor kind, to_status, count); notice_delays:
    (seconds from notice to decision, restricted) for each notice decided in the period."""
    restrictions = list(restrictions)
    decisions = list(decisions)
    delays = list(notice_delays)
    by_category = _counts(notices_by_category)
    total_restrictions = sum(row[4] for row in restrictions)
    model = sum(row[4] for row in restrictions if row[3])
    return {
        "site": site,
        "since": since,
        "until": until,
        "notices": {
            "received": sum(by_category.values()),
            "by_category": by_category,
            "decided": len(delays),
            "by_decision": _counts(notices_by_decision, dsa.NOTICE_DECISIONS),
            "median_seconds_to_decision": median(seconds for seconds, _ in delays),
            "median_seconds_to_restriction": median(seconds for seconds, restricted in delays if restricted),
        },
        "restrictions": {
            "total": total_restrictions,
            "by_ground": _counts(((g, n) for g, _, _, _, n in restrictions), dsa.GROUNDS),
            "by_kind": _counts(((k, n) for _, k, _, _, n in restrictions), dsa.RESTRICTIONS),
            "by_automation": _counts(((a, n) for _, _, a, _, n in restrictions), dsa.AUTOMATED_DECISIONS),
            "model_detected": model,
            "model_share": share(model, total_restrictions),
        },
        "decisions": {
            "total": sum(n for _, _, n in decisions),
            "by_actor": _counts(((kind, n) for kind, _, n in decisions), ACTOR_KINDS),
            "by_outcome": {
                kind: _counts((status, n) for k, status, n in decisions if k == kind) for kind in ACTOR_KINDS
            },
        },
        "appeals": appeals,
    }


def csv_text(report: dict[str, Any]) -> str:
    """The report as CSV rows: section, key, value (nested counts flattened with dots)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["section", "key", "value"])
    writer.writerow(["report", "site", report["site"]])
    writer.writerow(["report", "since", report["since"].isoformat()])
    writer.writerow(["report", "until", report["until"].isoformat()])

    def flat(section: str, values: dict[str, Any], prefix: str = "") -> None:
        for key, value in values.items():
            if isinstance(value, dict):
                flat(section, value, f"{prefix}{key}.")
            else:
                writer.writerow([section, prefix + key, "" if value is None else value])

    for section in ("notices", "restrictions", "decisions", "appeals"):
        flat(section, report[section])
    return out.getvalue()


# ---- the queries (one GROUP BY each; no row of the trail is read into Python) ----


def _first_reason_is_model() -> sa.ColumnElement[bool]:
    first_code = ModerationEvent.reasons[(0, "code")].as_string()
    return sa.func.coalesce(first_code.like(MODEL_REASON_PREFIX + "%"), sa.false())


def _appeals(site_id: int, since: datetime, until: datetime) -> dict[str, Any]:
    """Appeals (Art. 20) received in the period, and those decided in it, reversals apart."""
    in_period = sa.and_(Appeal.created_at >= since, Appeal.created_at < until)
    decided_in_period = sa.and_(
        Appeal.decided_at.is_not(None), Appeal.decided_at >= since, Appeal.decided_at < until
    )
    received, decided, reversed_ = db.session.execute(
        sa.select(
            sa.func.count().filter(in_period),
            sa.func.count().filter(decided_in_period),
            sa.func.count().filter(decided_in_period, Appeal.outcome == "reversed"),
        ).where(Appeal.site_id == site_id)
    ).one()
    return {"recorded": True, "received": received, "decided": decided, "reversed": reversed_}


def report(site_id: int, slug: str, since: datetime, until: datetime) -> dict[str, Any]:
    session = db.session
    notices_by_category = session.execute(
        sa.select(Notice.category, sa.func.count())
        .where(Notice.site_id == site_id, Notice.created_at >= since, Notice.created_at < until)
        .group_by(Notice.category)
    ).all()
    decided = (
        Notice.site_id == site_id,
        Notice.decided_at.is_not(None),
        Notice.decided_at >= since,
        Notice.decided_at < until,
    )
    notices_by_decision = session.execute(
        sa.select(Notice.decision, sa.func.count()).where(*decided).group_by(Notice.decision)
    ).all()
    # One pair of timestamps per decided notice: notices are few next to the trail's events.
    delays = [
        ((decided_at - created_at).total_seconds(), bool(restricted))
        for created_at, decided_at, restricted in session.execute(
            sa.select(Notice.created_at, Notice.decided_at, Notice.restricted).where(*decided)
        )
    ]
    # A statement the scheduled job wrote later is dated by the decision it states.
    when = sa.func.coalesce(ModerationEvent.created_at, Statement.created_at)
    model = _first_reason_is_model()
    grouped = (Statement.ground, Statement.restriction, Statement.automated_decision, model)
    restrictions = session.execute(
        sa.select(*grouped, sa.func.count())
        .select_from(Statement)
        .outerjoin(ModerationEvent, ModerationEvent.id == Statement.moderation_event_id)
        .where(Statement.site_id == site_id, when >= since, when < until)
        .group_by(*grouped)
    ).all()
    kind = sa.case(
        (ModerationEvent.actor.like("user:%"), "human"),
        (ModerationEvent.actor.like("integration:%"), "integration"),
        (ModerationEvent.actor.like("key:%"), "integration"),
        else_="automated",
    )
    decisions = session.execute(
        sa.select(kind, ModerationEvent.to_status, sa.func.count())
        .where(
            ModerationEvent.site_id == site_id,
            ModerationEvent.created_at >= since,
            ModerationEvent.created_at < until,
            ModerationEvent.reason.notin_(EDITORIAL_REASONS),
        )
        .group_by(kind, ModerationEvent.to_status)
    ).all()
    return assemble(
        site=slug,
        since=since,
        until=until,
        notices_by_category=notices_by_category,
        notices_by_decision=notices_by_decision,
        notice_delays=delays,
        restrictions=[(g, k, a, bool(m), n) for g, k, a, m, n in restrictions],
        decisions=decisions,
        appeals=_appeals(site_id, since, until),
    )
