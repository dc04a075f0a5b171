"""Live threads: comments approved on an article reach its open pages as Server-Sent Events.

hub.py holds the per-process rules (streams per article, the bounds, the frames); fanout.py
carries an approval from the process that committed it to every process (Redis pub/sub with
REDIS_URL, else in-process); this module opens one reader's stream. Event ids are comment ids:
a browser reconnecting with Last-Event-ID gets the approved comments after it from the database."""

from __future__ import annotations

import time
from collections.abc import Iterator

import sqlalchemy as sa
from flask import Flask, current_app

from ..db import Article, Comment
from ..extensions import db
from .fanout import CHANNEL, Fanout, announce_approved, public_comment
from .hub import Full, Hub, stream

__all__ = ["Full", "announce_approved", "init_app", "open_stream"]

# How long a browser waits before reconnecting after a stream ends.
RETRY_MS = 3000


def init_app(app: Flask) -> None:
    hub = Hub(int(app.config["LIVE_MAX_CONNECTIONS"]), int(app.config["LIVE_MAX_PER_NETWORK"]))
    # LIVE_CHANNEL (not a documented setting) keeps test runs sharing one Redis apart.
    app.extensions["live"] = Fanout(hub, app.config["REDIS_URL"], app.config.get("LIVE_CHANNEL", CHANNEL))


def open_stream(site_id: int, article_id: str, network: str, after: int | None) -> Iterator[str]:
    """One reader's stream of an article's newly approved comments, with those approved after
    comment `after` first. Raises Full past the process's or the network's bound."""
    fanout: Fanout = current_app.extensions["live"]
    config = current_app.config
    subscription = fanout.hub.subscribe((site_id, article_id), network)
    try:
        fanout.ensure_listening()
        # Subscribed before reading: a comment approved in between comes twice, and goes out once.
        backlog = _approved_after(site_id, article_id, after, int(config["LIVE_BACKLOG"])) if after else []
    except BaseException:
        fanout.hub.unsubscribe(subscription)
        raise
    finally:
        db.session.remove()  # a stream holds no database connection while it waits

    def frames() -> Iterator[str]:
        try:
            yield from stream(
                subscription,
                backlog,
                heartbeat=float(config["LIVE_HEARTBEAT_SECONDS"]),
                lifetime=float(config["LIVE_STREAM_SECONDS"]),
                retry_ms=RETRY_MS,
                clock=time.monotonic,
            )
        finally:
            fanout.hub.unsubscribe(subscription)

    return frames()


def _approved_after(site_id: int, article_id: str, after: int, limit: int) -> list[dict]:
    """What the browser missed since comment `after`: the approved comments after it, and older
    ones approved since it was posted (a held comment a moderator approved later has a lower id
    than the events already sent). Comments changed since for other reasons come too; the embed
    skips what it shows already."""
    in_thread = sa.and_(
        Article.site_id == site_id, Article.external_id == article_id, Comment.status == "approved"
    )
    since = db.session.scalar(
        sa.select(Comment.created_at)
        .join(Article, Article.id == Comment.article_id)
        .where(Article.site_id == site_id, Article.external_id == article_id, Comment.id == after)
    )
    missed = Comment.id > after
    if since is not None:  # an id of this thread (else a forged one: only what comes after it)
        missed = sa.or_(missed, sa.and_(Comment.id < after, Comment.updated_at > since))
    rows = db.session.scalars(
        sa.select(Comment)
        .join(Article, Article.id == Comment.article_id)
        .where(in_thread, missed)
        .order_by(Comment.id)
        .limit(limit)
    )
    return [public_comment(row) for row in rows]
