"""The settings history: one immutable event per change of a site's policy (word lists included),
its SSO secret, its webhook endpoints, or a key. Each event keeps who, when, and the changed fields
before and after; a secret appears only as a fingerprint, never itself.

Events are added to the session of the change they record, so they exist only if it commits."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context

from .auth import Principal
from .db import SettingsEvent
from .extensions import db

KINDS = (
    "site.created",
    "site.updated",
    "policy.updated",
    "policy.replaced",
    "sso_secret.created",
    "sso_secret.rotated",
    "webhook.created",
    "webhook.updated",
    "webhook.deleted",
    "webhook.secret_rotated",
    "key.issued",
    "key.revoked",
)
# Who changes settings outside a request: an operator's `flask` command.
COMMAND_ACTOR = "cli"


def fingerprint(secret: str | None) -> str | None:
    """Enough of a secret's SHA-256 to tell two secrets apart and to check one you hold, and
    nothing that gives the secret back (they are long random strings)."""
    if secret is None:
        return None
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:16]


def current_actor() -> str:
    """The actor the rest of the audit trail uses: the calling key's, or "cli" for a command."""
    principal: Principal | None = g.get("principal") if has_request_context() else None
    return principal.actor if principal is not None else COMMAND_ACTOR


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that differ, each side's value. Thresholds (a mapping per label) are compared
    per label, so raising one label's limit shows that label only."""
    old, new = {}, {}
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        if key == "thresholds" and isinstance(a, Mapping) and isinstance(b, Mapping):
            labels = sorted(label for label in set(a) | set(b) if a.get(label) != b.get(label))
            old[key] = {label: a.get(label) for label in labels}
            new[key] = {label: b.get(label) for label in labels}
        else:
            old[key], new[key] = a, b
    return old, new


def _plain(value: Any) -> Any:
    """JSON for the history: datetimes as ISO 8601, the rest as it is."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def record(
    kind: str,
    subject: str,
    site_id: int | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> SettingsEvent:
    """Add one event to the current transaction."""
    assert kind in KINDS, kind
    event = SettingsEvent(
        site_id=site_id,
        actor=current_actor(),
        kind=kind,
        subject=subject,
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
    )
    db.session.add(event)
    return event


def record_changes(
    kind: str, subject: str, site_id: int | None, before: Mapping[str, Any], after: Mapping[str, Any]
) -> bool:
    """Record the fields that differ; nothing when none does (a PATCH that changes nothing)."""
    old, new = changes(before, after)
    if not new and not old:
        return False
    record(kind, subject, site_id, old, new)
    return True


def _reach(principal: Principal) -> sa.ColumnElement[bool] | None:
    """Events of the sites the caller reaches (None: every site, events with no site included)."""
    return principal.site_clause(SettingsEvent.site_id)


def event_view(event: SettingsEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "site_id": event.site_id,
        "actor": event.actor,
        "kind": event.kind,
        "subject": event.subject,
        "before": event.before,
        "after": event.after,
        "created_at": event.created_at,
    }


def list_settings_events(principal: Principal, params: dict[str, Any], site_id: int | None) -> dict[str, Any]:
    """Newest first, paged by id. A site's key sees its site's events; a key of every site sees
    every event (keys of every site have events with no site), or one site's when it names one."""
    query = sa.select(SettingsEvent)
    if site_id is not None:
        query = query.where(SettingsEvent.site_id == site_id)
    elif (clause := _reach(principal)) is not None:
        query = query.where(clause)
    for field in ("kind", "actor"):
        if params.get(field) is not None:
            query = query.where(getattr(SettingsEvent, field) == params[field])
    if params.get("since"):
        query = query.where(SettingsEvent.created_at >= params["since"])
    if params.get("until"):
        query = query.where(SettingsEvent.created_at < params["until"])
    if params.get("cursor"):
        query = query.where(SettingsEvent.id < params["cursor"])
    limit = params["limit"]
    rows = list(db.session.scalars(query.order_by(SettingsEvent.id.desc()).limit(limit + 1)))
    return {
        "items": [event_view(e) for e in rows[:limit]],
        "next_cursor": rows[limit - 1].id if len(rows) > limit else None,
    }
