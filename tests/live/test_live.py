"""Live threads through the HTTP API: an approved comment reaches an open stream, a held one does
not, a reconnect with Last-Event-ID catches up from the database, and the bounds hold."""

from __future__ import annotations

import json
import secrets

import pytest

from service.extensions import db
from tests.conftest import ORIGIN, _make_app

EVENTS = "/v1/articles/a1/events"


class Stream:
    """An open SSE response read frame by frame (a frame ends with a blank line)."""

    def __init__(self, response):
        self.response = response
        self.chunks = response.iter_encoded()
        self.buffer = ""

    def frame(self) -> str:
        while "\n\n" not in self.buffer:
            self.buffer += next(self.chunks).decode()
        frame, self.buffer = self.buffer.split("\n\n", 1)
        return frame

    def comment(self) -> dict:
        """The next comment event (heartbeats and the retry line are skipped)."""
        while True:
            lines = dict(
                line.split(": ", 1) for line in self.frame().splitlines() if not line.startswith(":")
            )
            if lines.get("event") == "comment":
                data = json.loads(lines["data"])
                assert lines["id"] == str(data["id"])
                return data

    def close(self):
        self.response.close()


def open_stream(client, key, headers=None, path=EVENTS, **query):
    response = client.get(
        path,
        query_string={"key": key, **query},
        headers={"Origin": ORIGIN, **(headers or {})},
        buffered=False,
    )
    assert response.status_code == 200, response.get_data()
    assert response.mimetype == "text/event-stream"
    stream = Stream(response)
    assert stream.frame() == "retry: 3000"  # subscribed by now
    return stream


@pytest.fixture
def mod(factory, embed_key):
    return factory.headers(factory.key("moderator"), origin=None)


@pytest.fixture(autouse=True)
def quiet_heartbeats(app):
    app.config["LIVE_HEARTBEAT_SECONDS"] = 30.0


def test_an_approved_comment_reaches_an_open_stream_and_a_held_one_does_not(
    client, factory, embed_key, mod, insult_text
):
    stream = open_stream(client, embed_key)
    try:
        held = factory.post(embed_key, text=insult_text).get_json()
        assert held["status"] != "approved"
        posted = factory.post(embed_key, text="A clear account of the budget, thank you.").get_json()
        assert posted["status"] == "approved"
        event = stream.comment()
        assert event["id"] == posted["id"]
        assert event["text"] == "A clear account of the budget, thank you."
        assert event["author"] == {"name": "Ada"}
        assert "email" not in json.dumps(event)
        # A moderator's approval of the held comment reaches the stream too.
        answer = client.post(
            f"/v1/moderation/comments/{held['id']}/decision", json={"status": "approved"}, headers=mod
        )
        assert answer.status_code == 200, answer.get_json()
        assert stream.comment()["id"] == held["id"]
    finally:
        stream.close()


def test_another_articles_comments_are_not_sent(client, factory, embed_key):
    stream = open_stream(client, embed_key)
    try:
        factory.post(embed_key, text="On the other story: well put.", article="a2")
        mine = factory.post(embed_key, text="On this story: well put.").get_json()
        assert stream.comment()["id"] == mine["id"]
    finally:
        stream.close()


def test_a_reconnect_with_last_event_id_gets_what_it_missed(client, factory, embed_key, insult_text):
    stream = open_stream(client, embed_key)
    first = factory.post(embed_key, text="First thoughts on the plan.").get_json()
    assert stream.comment()["id"] == first["id"]
    stream.close()  # the page lost its connection
    missed = [
        factory.post(embed_key, text=f"Missed while away, number {i}.").get_json()["id"] for i in range(2)
    ]
    factory.post(embed_key, text=insult_text)  # held: never sent
    again = open_stream(client, embed_key, headers={"Last-Event-ID": str(first["id"])})
    try:
        assert [again.comment()["id"], again.comment()["id"]] == missed
        latest = factory.post(embed_key, text="And now live again.").get_json()
        assert again.comment()["id"] == latest["id"]
    finally:
        again.close()


def test_a_reconnect_gets_an_older_comment_a_moderator_approved_while_away(
    client, factory, embed_key, mod, insult_text
):
    held = factory.post(embed_key, text=insult_text).get_json()
    assert held["status"] != "approved"
    stream = open_stream(client, embed_key)
    shown = factory.post(embed_key, text="Posted and shown live.").get_json()
    assert stream.comment()["id"] == shown["id"]
    stream.close()  # the page lost its connection; meanwhile the held comment is approved
    answer = client.post(
        f"/v1/moderation/comments/{held['id']}/decision", json={"status": "approved"}, headers=mod
    )
    assert answer.status_code == 200, answer.get_json()
    newer = factory.post(embed_key, text="Posted while the page was away.").get_json()
    again = open_stream(client, embed_key, headers={"Last-Event-ID": str(shown["id"])})
    try:
        # The approved comment's id is lower than the last event's, and it still arrives, in id
        # order with the newer one (the shown comment is not sent again).
        assert again.comment()["id"] == held["id"]
        assert again.comment()["id"] == newer["id"]
    finally:
        again.close()


def test_the_header_wins_over_the_query_and_a_forged_id_starts_from_now(client, factory, embed_key):
    ids = [
        factory.post(embed_key, text=f"Comment number {i} on the plan.").get_json()["id"] for i in range(3)
    ]
    stream = open_stream(client, embed_key, headers={"Last-Event-ID": str(ids[1])}, last_event_id=str(ids[0]))
    try:
        assert stream.comment()["id"] == ids[2]
    finally:
        stream.close()
    forged = open_stream(client, embed_key, headers={"Last-Event-ID": "1; DROP TABLE comments"})
    try:
        latest = factory.post(embed_key, text="Only this one is new.").get_json()
        assert forged.comment()["id"] == latest["id"]
    finally:
        forged.close()


def test_the_first_connection_catches_up_from_the_newest_comment_the_page_shows(client, factory, embed_key):
    shown = factory.post(embed_key, text="Shown when the page loaded.").get_json()
    later = factory.post(embed_key, text="Approved before the stream opened.").get_json()
    stream = open_stream(client, embed_key, last_event_id=str(shown["id"]))
    try:
        assert stream.comment()["id"] == later["id"]
    finally:
        stream.close()


@pytest.mark.parametrize("app_config", [{"LIVE_MAX_CONNECTIONS": 2, "LIVE_MAX_PER_NETWORK": 5}])
def test_past_the_process_bound_a_stream_is_refused_with_retry_after(client, factory, embed_key):
    streams = [open_stream(client, embed_key) for _ in range(2)]
    refused = client.get(EVENTS, query_string={"key": embed_key}, headers={"Origin": ORIGIN})
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "30"
    assert refused.get_json()["code"] == "unavailable"
    streams[0].close()  # a slot frees when a page goes
    streams.append(open_stream(client, embed_key))
    for stream in streams[1:]:
        stream.close()


@pytest.mark.parametrize("app_config", [{"LIVE_MAX_CONNECTIONS": 10, "LIVE_MAX_PER_NETWORK": 1}])
def test_one_network_cannot_take_every_slot(client, factory, embed_key):
    stream = open_stream(client, embed_key)
    refused = client.get(EVENTS, query_string={"key": embed_key}, headers={"Origin": ORIGIN})
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "30"
    other = client.get(
        EVENTS,
        query_string={"key": embed_key},
        headers={"Origin": ORIGIN},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
        buffered=False,
    )
    assert other.status_code == 200
    other.close()
    stream.close()


@pytest.mark.parametrize("app_config", [{"LIVE_MAX_CONNECTIONS": 0}])
def test_live_threads_off_answer_503(client, embed_key):
    assert client.get(EVENTS, query_string={"key": embed_key}, headers={"Origin": ORIGIN}).status_code == 503


def test_a_stream_needs_an_embed_key_of_an_allowed_origin(client, factory, embed_key):
    assert client.get(EVENTS).status_code == 401
    assert client.get(EVENTS, query_string={"key": "nope"}).status_code == 401
    foreign = client.get(EVENTS, query_string={"key": embed_key}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    moderator = client.get(EVENTS, query_string={"key": factory.key("moderator")}, headers={"Origin": ORIGIN})
    assert moderator.status_code == 403
    with_header = client.get(EVENTS, headers=factory.headers(embed_key), buffered=False)
    assert with_header.status_code == 200
    with_header.close()


def test_an_idle_stream_sends_heartbeats(app, client, embed_key):
    app.config["LIVE_HEARTBEAT_SECONDS"] = 0.01
    stream = open_stream(client, embed_key)
    try:
        assert stream.frame() == ": heartbeat"
    finally:
        stream.close()


def test_a_stream_ends_after_its_lifetime(app, client, embed_key):
    app.config["LIVE_STREAM_SECONDS"] = 0.05
    stream = open_stream(client, embed_key)
    with pytest.raises(StopIteration):
        while True:
            stream.frame()
    stream.close()
    assert app.extensions["live"].hub.open == 0


def test_several_instances_share_comments_through_redis(
    database_url, embedded_scorer, factory, embed_key, tmp_path
):
    """Two app instances (two web processes) on one database and one Redis: a comment posted
    through one reaches a stream open on the other."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    config = {"REDIS_URL": "redis://127.0.0.1:6379/0", "LIVE_CHANNEL": f"test-live-{secrets.token_hex(4)}"}
    poster = _make_app(database_url, embedded_scorer, config, tmp_path / "a")
    reader = _make_app(database_url, embedded_scorer, config, tmp_path / "b")
    reader.config["LIVE_HEARTBEAT_SECONDS"] = 30.0
    try:
        stream = open_stream(reader.test_client(), embed_key)
        posted = poster.test_client().post(
            "/v1/comments",
            json=factory.comment_body("Heard across instances."),
            headers=factory.headers(embed_key),
        )
        assert posted.status_code == 201
        assert stream.comment()["id"] == posted.get_json()["id"]
        stream.close()
    finally:
        for one in (poster, reader):
            one.extensions["live"].stop()
            one.extensions["scoring"].close()
            with one.app_context():
                db.engine.dispose()
