"""Webhook endpoints as the admin API sees them: create, change, rotate, and the delivery log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..auth import Principal
from ..cursors import decode_id_cursor, encode_cursor
from ..db import OutboxEvent, Site, WebhookAttempt, WebhookDelivery, WebhookEndpoint, utcnow
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..settings_audit import fingerprint, record, record_changes
from .signing import generate_secret
from .ssrf import AllowList, UnsafeURL, check_url

EVENT_TYPES = (
    "comment.created",
    "comment.held",
    "comment.approved",
    "comment.rejected",
    "comment.reported",
    "comment.deleted",
    # The author edited their comment (the new text; a changed status comes as its own event too).
    "comment.edited",
    # A comment waited in a queue past its site's target (service/queue_targets.py).
    "queue.target_missed",
    # DSA: a notice of illegal content arrived, was decided; a restriction's statement of reasons.
    "notice.received",
    "notice.decided",
    "statement.created",
    # DSA Art. 20: an author appealed a restriction; a second moderator decided the appeal.
    "appeal.received",
    "appeal.decided",
)
ATTEMPTS_SHOWN = 20  # per delivery in the log, newest first


def _check_url(url: str) -> None:
    try:
        check_url(url, AllowList.parse(current_app.config.get("WEBHOOK_ALLOW_PRIVATE")))
    except UnsafeURL as error:
        raise ValidationFailed("url", str(error)) from None


def endpoint_view(endpoint: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    view = {
        "id": endpoint.id,
        "site": endpoint.site.slug,
        "url": endpoint.url,
        "event_types": endpoint.event_types,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": endpoint.failing_since,
        "previous_secret_expires_at": endpoint.previous_secret_expires_at,
        "created_at": endpoint.created_at,
    }
    if secret:
        view["secret"] = secret
    return view


def list_endpoints(site: Site) -> list[WebhookEndpoint]:
    return list(
        db.session.scalars(
            sa.select(WebhookEndpoint).where(WebhookEndpoint.site_id == site.id).order_by(WebhookEndpoint.id)
        )
    )


def get_endpoint(endpoint_id: int, principal: Principal) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not principal.may_act_on(endpoint.site_id):
        raise NotFound(f"no webhook endpoint {endpoint_id}")  # another site's: nothing to learn
    return endpoint


def create_endpoint(site: Site, data: dict[str, Any]) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; return it with its secret, which the API shows this once."""
    _check_url(data["url"])
    secret = generate_secret()
    endpoint = WebhookEndpoint(
        site_id=site.id,
        url=data["url"],
        event_types=list(data["event_types"]),
        secret=secret,
        enabled=True,
    )
    db.session.add(endpoint)
    db.session.flush()
    record("webhook.created", f"webhook:{endpoint.id}", site.id, None, _audited(endpoint))
    db.session.commit()
    return endpoint, secret


def _audited(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """An endpoint's settings as the history keeps them: its secret only as a fingerprint."""
    return {
        "url": endpoint.url,  # the SSRF guard refuses URLs with credentials
        "event_types": list(endpoint.event_types),
        "enabled": endpoint.enabled,
        "secret_fingerprint": fingerprint(endpoint.secret),
    }


def update_endpoint(endpoint: WebhookEndpoint, data: dict[str, Any]) -> WebhookEndpoint:
    before = _audited(endpoint)
    if "url" in data:
        _check_url(data["url"])
        endpoint.url = data["url"]
    if "event_types" in data:
        endpoint.event_types = list(data["event_types"])
    if "enabled" in data and data["enabled"] != endpoint.enabled:
        endpoint.enabled = data["enabled"]
        # Re-enabling starts afresh; pending deliveries resume.
        endpoint.disabled_reason = None if data["enabled"] else "disabled by an admin"
        endpoint.failing_since = None
    record_changes("webhook.updated", f"webhook:{endpoint.id}", endpoint.site_id, before, _audited(endpoint))
    db.session.commit()
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    record("webhook.deleted", f"webhook:{endpoint.id}", endpoint.site_id, _audited(endpoint), None)
    db.session.delete(endpoint)
    db.session.commit()


def rotate_secret(endpoint: WebhookEndpoint, grace: timedelta) -> str:
    """A new secret; the old one keeps signing alongside it for `grace`."""
    secret = generate_secret()
    before = {"secret_fingerprint": fingerprint(endpoint.secret)}
    endpoint.previous_secret = endpoint.secret if grace > timedelta(0) else None
    endpoint.previous_secret_expires_at = utcnow() + grace if grace > timedelta(0) else None
    endpoint.secret = secret
    after = {
        "secret_fingerprint": fingerprint(secret),
        "previous_secret_expires_at": endpoint.previous_secret_expires_at,
    }
    record("webhook.secret_rotated", f"webhook:{endpoint.id}", endpoint.site_id, before, after)
    db.session.commit()
    return secret


# --- the delivery log, redelivery and replay ------------------------------------------------


def list_deliveries(endpoint: WebhookEndpoint, limit: int, cursor: str | None) -> dict[str, Any]:
    """Deliveries newest first, each with its latest attempts; keyset-paginated on the id."""
    query = (
        sa.select(WebhookDelivery, OutboxEvent.event_id, OutboxEvent.type)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_event_id)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit + 1)
    )
    if cursor:
        query = query.where(WebhookDelivery.id < decode_id_cursor(cursor, "deliveries"))
    rows = db.session.execute(query).all()
    page = rows[:limit]
    attempts = _attempts_of([row.WebhookDelivery.id for row in page])
    items = [
        {
            "id": row.WebhookDelivery.id,
            "event_id": row.event_id,
            "event_type": row.type,
            "status": row.WebhookDelivery.status,
            "attempts": row.WebhookDelivery.attempts,
            "next_attempt_at": row.WebhookDelivery.next_attempt_at,
            "last_status_code": row.WebhookDelivery.last_status_code,
            "created_at": row.WebhookDelivery.created_at,
            "delivered_at": row.WebhookDelivery.delivered_at,
            "log": attempts.get(row.WebhookDelivery.id, []),
        }
        for row in page
    ]
    next_cursor = encode_cursor([page[-1].WebhookDelivery.id], "deliveries") if len(rows) > limit else None
    return {"deliveries": items, "next_cursor": next_cursor}


def _attempts_of(delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    if not delivery_ids:
        return {}
    found: dict[int, list[WebhookAttempt]] = {}
    for attempt in db.session.scalars(
        sa.select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.id.desc())
    ):
        shown = found.setdefault(attempt.delivery_id, [])
        if len(shown) < ATTEMPTS_SHOWN:
            shown.append(attempt)
    return found


def _require_enabled(endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        raise Conflict("the endpoint is disabled; enable it first")


def redeliver(endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    """Send one delivery again now, with the same webhook-id and a fresh retry schedule."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound(f"no delivery {delivery_id} for this endpoint")
    _require_enabled(endpoint)
    _reset(delivery, utcnow())
    db.session.commit()
    return delivery


def replay(endpoint: WebhookEndpoint, since: datetime) -> int:
    """Queue every event of the endpoint's site and types since `since` again (same webhook-ids,
    so receivers de-duplicate). Returns how many deliveries were queued."""
    _require_enabled(endpoint)
    now = utcnow()
    events = db.session.scalars(
        sa.select(OutboxEvent.id).where(
            OutboxEvent.site_id == endpoint.site_id,
            OutboxEvent.created_at >= since,
            OutboxEvent.type.in_(endpoint.event_types),
            OutboxEvent.dispatched_at.is_not(None),  # the others are on their way anyway
        )
    ).all()
    existing = {
        d.outbox_event_id: d
        for d in db.session.scalars(
            sa.select(WebhookDelivery).where(
                WebhookDelivery.endpoint_id == endpoint.id,
                WebhookDelivery.outbox_event_id.in_(events),
            )
        )
    }
    for event_id in events:
        delivery = existing.get(event_id)
        if delivery is None:
            db.session.add(
                WebhookDelivery(
                    outbox_event_id=event_id,
                    endpoint_id=endpoint.id,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                )
            )
        else:
            _reset(delivery, now)
    db.session.commit()
    return len(events)


def _reset(delivery: WebhookDelivery, now: datetime) -> None:
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.delivered_at = None
