"""The per-process side of live threads, with no Flask and no SQL: who listens to which article,
how many may, and what goes on the wire (Server-Sent Events frames)."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

Topic = tuple[int, str]  # (site id, the article's external id)

# A listener that falls this far behind (a stalled client) is closed rather than buffered without
# end: its browser reconnects with Last-Event-ID and catches up from the database.
QUEUE_SIZE = 256
# Comment ids a stream remembers having sent, so a comment found both in the catch-up read and
# in the live feed (it was approved in between) goes out once.
REMEMBERED_IDS = 2048
_CLOSED = object()


class Full(Exception):
    """No room for another stream: in this process (`scope` "process") or for this network."""

    def __init__(self, scope: str):
        super().__init__(scope)
        self.scope = scope


@dataclass(eq=False)
class Subscription:
    topic: Topic
    network: str
    _queue: queue.Queue = field(default_factory=lambda: queue.Queue(QUEUE_SIZE))

    def put(self, event: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.close()

    def close(self) -> None:
        # Room is made for the close mark, so a full queue still ends its stream.
        while True:
            try:
                self._queue.put_nowait(_CLOSED)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()

    def next(self, timeout: float) -> dict[str, Any] | None:
        """The next event, None when `timeout` passed without one; raises EOFError once closed."""
        try:
            item = self._queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if item is _CLOSED:
            raise EOFError
        return item


class Hub:
    """Open streams by article, at most `max_connections` in the process and `max_per_network`
    from one network (the embed key is public: one scripted client must not take every slot)."""

    def __init__(self, max_connections: int, max_per_network: int):
        self.max_connections = max_connections
        self.max_per_network = max_per_network
        self._lock = threading.Lock()
        self._topics: dict[Topic, set[Subscription]] = {}
        self._per_network: dict[str, int] = {}
        self.open = 0

    def subscribe(self, topic: Topic, network: str) -> Subscription:
        with self._lock:
            if self.open >= self.max_connections:
                raise Full("process")
            if self._per_network.get(network, 0) >= self.max_per_network:
                raise Full("network")
            subscription = Subscription(topic, network)
            self._topics.setdefault(topic, set()).add(subscription)
            self._per_network[network] = self._per_network.get(network, 0) + 1
            self.open += 1
            return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            listeners = self._topics.get(subscription.topic)
            if listeners is None or subscription not in listeners:
                return
            listeners.discard(subscription)
            if not listeners:
                del self._topics[subscription.topic]
            left = self._per_network[subscription.network] - 1
            if left:
                self._per_network[subscription.network] = left
            else:
                del self._per_network[subscription.network]
            self.open -= 1

    def deliver(self, topic: Topic, comments: Iterable[dict[str, Any]]) -> int:
        """Hand comments to every stream of the article; returns how many streams got them."""
        with self._lock:
            listeners = list(self._topics.get(topic, ()))
        for subscription in listeners:
            for comment in comments:
                subscription.put(comment)
        return len(listeners)

    def close_all(self) -> None:
        with self._lock:
            listeners = [s for subs in self._topics.values() for s in subs]
        for subscription in listeners:
            subscription.close()


def frame(comment: dict[str, Any]) -> str:
    """One comment as an SSE event; its id (the comment's) is what a reconnect sends back."""
    return f"id: {int(comment['id'])}\nevent: comment\ndata: {json.dumps(comment, separators=(',', ':'))}\n\n"


HEARTBEAT = ": heartbeat\n\n"


def retry_frame(milliseconds: int) -> str:
    return f"retry: {int(milliseconds)}\n\n"


def last_event_id(*candidates: str | None) -> int | None:
    """The first candidate that is a comment id (Last-Event-ID header, then the query's), else None.
    Anything else (a forged or foreign value) counts as no id: the stream starts from now."""
    for value in candidates:
        if value is not None and value.strip().isdigit() and len(value.strip()) <= 18:
            return int(value.strip())
    return None


def stream(
    subscription: Subscription,
    backlog: list[dict[str, Any]],
    *,
    heartbeat: float,
    lifetime: float,
    retry_ms: int,
    clock,
) -> Iterator[str]:
    """The frames of one stream: the retry delay, the comments missed since Last-Event-ID, then
    live comments and heartbeats until `lifetime` is up (the browser then reconnects with
    Last-Event-ID; a bounded life lets a deploy drain web processes) or the stream is closed."""
    sent: dict[int, None] = {}

    def fresh(comment: dict[str, Any]) -> bool:
        if comment["id"] in sent:
            return False
        sent[comment["id"]] = None
        if len(sent) > REMEMBERED_IDS:
            del sent[next(iter(sent))]
        return True

    yield retry_frame(retry_ms)
    for comment in backlog:
        if fresh(comment):
            yield frame(comment)
    ends = clock() + lifetime
    while (left := ends - clock()) > 0:
        try:
            comment = subscription.next(min(heartbeat, left))
        except EOFError:
            return
        if comment is None:
            yield HEARTBEAT
        elif fresh(comment):
            yield frame(comment)
