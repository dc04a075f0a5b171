"""The audit trail: moderation events, filtered and paged, never editable."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .accounts.store import actor_names
from .auth import Principal
from .db import ModerationEvent
from .extensions import db


def list_events(principal: Principal, params: dict[str, Any], site_id: int | None) -> dict[str, Any]:
    query = sa.select(ModerationEvent)
    if site_id is not None:
        query = query.where(ModerationEvent.site_id == site_id)
    elif (clause := principal.site_clause(ModerationEvent.site_id)) is not None:
        query = query.where(clause)
    for field in ("comment_id", "actor", "to_status", "from_status"):
        if params.get(field) is not None:
            query = query.where(getattr(ModerationEvent, field) == params[field])
    if params.get("since"):
        query = query.where(ModerationEvent.created_at >= params["since"])
    if params.get("until"):
        query = query.where(ModerationEvent.created_at < params["until"])
    if params.get("cursor"):
        query = query.where(ModerationEvent.id < params["cursor"])
    limit = params["limit"]
    rows = list(db.session.execute(query.order_by(ModerationEvent.id.desc()).limit(limit + 1)).scalars())
    names = actor_names({row.actor for row in rows})
    for row in rows:
        row.actor_name = names.get(row.actor)  # read now: the trail names who acted, not a key id
    return {"items": rows[:limit], "next_cursor": rows[limit - 1].id if len(rows) > limit else None}
