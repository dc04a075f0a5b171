"""Clients that post comments until each gets an answer, retrying with the same Idempotency-Key."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import requests
import sqlalchemy as sa

from .conftest import comment_body


@dataclass
class Post:
    key: str
    body: dict
    id: int | None = None  # set by the first 2xx
    statuses: list[int | str] = field(default_factory=list)


@dataclass
class PostingClients:
    """`threads` clients post `per_thread` comments each; every request is retried (same key, same
    body) until it gets a 2xx or `deadline` passes. Statuses seen are kept for the checks."""

    base_url: callable  # returns the current base URL (a restarted server may keep its port)
    headers: dict[str, str]
    threads: int = 4
    per_thread: int = 30
    deadline: float = 120.0
    timeout: float = 10.0
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    posts: list[Post] = field(default_factory=list)
    acknowledged: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self):
        for t in range(self.threads):
            for i in range(self.per_thread):
                text = f"Reliability comment {self.tag}-{t}-{i}: thanks for the thorough reporting."
                self.posts.append(Post(f"rel-{self.tag}-{t}-{i}", comment_body(text, article=f"art-{t % 2}")))

    def _run(self, mine: list[Post], end: float) -> None:
        session = requests.Session()
        for post in mine:
            while post.id is None and time.monotonic() < end:
                try:
                    response = session.post(
                        f"{self.base_url()}/v1/comments",
                        json=post.body,
                        headers={**self.headers, "Idempotency-Key": post.key},
                        timeout=self.timeout,
                    )
                except requests.RequestException as error:
                    post.statuses.append(type(error).__name__)
                    session = requests.Session()
                    time.sleep(0.2)
                    continue
                post.statuses.append(response.status_code)
                if 200 <= response.status_code < 300:
                    post.id = response.json()["id"]
                    with self._lock:
                        self.acknowledged += 1
                else:
                    time.sleep(0.2)

    def start(self) -> PostingClients:
        end = time.monotonic() + self.deadline
        for t in range(self.threads):
            mine = self.posts[t * self.per_thread : (t + 1) * self.per_thread]
            worker = threading.Thread(target=self._run, args=(mine, end), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def wait_acknowledged(self, count: int, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while self.acknowledged < count:
            assert time.monotonic() < end, f"only {self.acknowledged} comments acknowledged"
            time.sleep(0.05)

    def join(self) -> None:
        for worker in self._workers:
            worker.join(self.deadline + self.timeout + 5)


def check_stored_once_and_whole(database_url: str, posts: list[Post]) -> None:
    """Every acknowledged comment is stored exactly once, with its moderation event and outbox
    events; no event without its comment; no comment without its events."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    texts = {p.body["text"]: p for p in posts}
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, text, status FROM comments")).all()
        ids = {row.id for row in rows}
        stored: dict[str, list[int]] = {}
        for row in rows:
            stored.setdefault(row.text, []).append(row.id)
        events = conn.execute(
            sa.text("SELECT comment_id, from_status, to_status FROM moderation_events")
        ).all()
        outbox = conn.execute(sa.text("SELECT comment_id, type FROM outbox_events")).all()
        keys = conn.execute(sa.text("SELECT key, response FROM idempotency_records")).all()
    engine.dispose()

    for post in posts:
        assert post.id is not None, f"{post.key} never got an answer: {post.statuses}"
        assert stored.get(post.body["text"]) == [post.id], (
            f"{post.key} was answered with id {post.id} but stored as {stored.get(post.body['text'])}"
        )
    duplicates = {text: found for text, found in stored.items() if len(found) > 1}
    assert not duplicates, f"stored more than once: {duplicates}"
    unexpected = set(stored) - set(texts)
    assert not unexpected, f"comments nobody posted: {unexpected}"

    created = {e.comment_id for e in events if e.from_status is None}
    assert created == ids, f"comments without their first moderation event: {ids - created}"
    assert {e.comment_id for e in events} <= ids, "moderation events without their comment"
    status_of = {row.id: row.status for row in rows}
    for comment_id, status in status_of.items():
        types = {o.type for o in outbox if o.comment_id == comment_id}
        expected = {"comment.created"} | ({f"comment.{status}"} if status != "pending" else set())
        assert expected <= types, f"comment {comment_id} ({status}) has outbox events {types}"
    assert {o.comment_id for o in outbox} <= ids, "outbox events without their comment"

    by_key = {}
    for record in keys:
        assert record.key not in by_key, f"two idempotency records for {record.key}"
        by_key[record.key] = record.response
    for post in posts:
        response = by_key[post.key]
        if isinstance(response, str):
            import json

            response = json.loads(response)
        assert response["id"] == post.id
