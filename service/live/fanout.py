"""How a comment approved in one process reaches the streams open in every process: after its
transaction commits, it is published on a Redis channel (REDIS_URL) that one listener thread per
process hands to that process's Hub; without Redis, straight to this process's Hub.

Pub/sub loses what is sent while a listener is disconnected, so a listener that lost Redis closes
its process's streams when it is back: each browser reconnects with Last-Event-ID and reads what
it missed from the database. The database stays the truth; Redis only says "now"."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from .hub import Hub, Topic

log = logging.getLogger(__name__)

CHANNEL = "comment-service:live"
# Session info key: comments this transaction approved, announced when it commits.
APPROVED = "live_approved"
PUBLISH_TIMEOUT_SECONDS = 0.25
RECONNECT_SECONDS = 1.0


def public_comment(comment: Any) -> dict[str, Any]:
    """What a live event carries: the comment as the thread shows it (no e-mail, user id or
    scores), ready for JSON (it crosses Redis)."""
    from ..comments import public_view  # here: comments imports transitions, which imports this

    view = public_view(comment)
    return {**view, "created_at": view["created_at"].isoformat()}


def announce_approved(comment: Any, external_article_id: str) -> None:
    """`comment` is approved by this transaction: open pages hear of it once it commits."""
    db.session.info.setdefault(APPROVED, []).append(
        ((comment.site_id, external_article_id), public_comment(comment))
    )


@event.listens_for(Session, "after_commit")
def _publish_committed(session: Session) -> None:
    approved = session.info.pop(APPROVED, None)
    if approved and has_app_context() and "live" in current_app.extensions:
        current_app.extensions["live"].publish(approved)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(APPROVED, None)


class Fanout:
    """This process's Hub, fed from Redis when `redis_url` is set, else directly."""

    def __init__(self, hub: Hub, redis_url: str = "", channel: str = CHANNEL):
        self.hub = hub
        self.redis_url = redis_url
        self.channel = channel
        self._publisher = None
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._listener_pid: int | None = None
        self._ready = threading.Event()
        self._stopping = threading.Event()

    # --- publishing ------------------------------------------------------------------------

    def publish(self, approved: list[tuple[Topic, dict[str, Any]]]) -> None:
        by_topic: dict[Topic, list[dict[str, Any]]] = {}
        for topic, comment in approved:
            by_topic.setdefault(topic, []).append(comment)
        if self.redis_url:
            import redis

            message = json.dumps(
                [[site, article, comments] for (site, article), comments in by_topic.items()]
            )
            try:
                self._redis_publisher().publish(self.channel, message)
                return
            except redis.RedisError as error:
                # This process's readers still hear it; the others' see it on their next reconnect.
                log.warning("live comments not published to Redis: %s", error)
        self._deliver(by_topic)

    def _deliver(self, by_topic: dict[Topic, list[dict[str, Any]]]) -> None:
        for topic, comments in by_topic.items():
            self.hub.deliver(topic, comments)

    def _redis_publisher(self):
        if self._publisher is None:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            self._publisher = redis.Redis.from_url(
                self.redis_url,
                socket_timeout=PUBLISH_TIMEOUT_SECONDS,
                socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 1),
                client_name="comment-service-live",
            )
        return self._publisher

    # --- listening -------------------------------------------------------------------------

    def ensure_listening(self, wait: float = 2.0) -> bool:
        """Start this process's listener if it is not running (after a fork, on the first stream)
        and wait up to `wait` seconds for its subscription; True when it listens."""
        if not self.redis_url:
            return True
        with self._lock:
            if self._listener is None or self._listener_pid != os.getpid() or not self._listener.is_alive():
                self._ready.clear()
                self._listener_pid = os.getpid()
                self._listener = threading.Thread(target=self._listen, name="live-listener", daemon=True)
                self._listener.start()
        return self._ready.wait(wait)

    def stop(self) -> None:
        self._stopping.set()
        self.hub.close_all()

    def _listen(self) -> None:
        import redis

        client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2, health_check_interval=10)
        lost = False
        while not self._stopping.is_set():
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                pubsub.get_message(timeout=1.0)  # the subscription's confirmation
                if lost:  # what was published meanwhile is gone: let the browsers catch up
                    self.hub.close_all()
                    lost = False
                self._ready.set()
                while not self._stopping.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        self._receive(message["data"])
            except redis.RedisError as error:
                log.warning("live listener lost Redis (%s); retrying", error)
                self._ready.clear()
                lost = True
                time.sleep(RECONNECT_SECONDS)
            finally:
                with contextlib.suppress(redis.RedisError):
                    pubsub.close()

    def _receive(self, data: bytes) -> None:
        try:
            items = json.loads(data)
            by_topic = {(int(site), str(article)): list(comments) for site, article, comments in items}
        except (ValueError, TypeError):
            log.warning("live listener: a message it cannot read was dropped")
            return
        self._deliver(by_topic)
