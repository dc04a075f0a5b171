"""The per-process rules of live threads, with plain values: bounds, frames, resuming, ends."""

from __future__ import annotations

import itertools

import pytest

from service.live.hub import HEARTBEAT, QUEUE_SIZE, Full, Hub, frame, last_event_id, stream

TOPIC = (1, "a1")


def comment(i):
    return {"id": i, "parent_id": None, "author": {"name": "Ada"}, "text": f"c{i}", "replies": []}


def frames(subscription, backlog=(), lifetime=10.0, heartbeat=5.0):
    ticks = itertools.count()
    return stream(
        subscription,
        list(backlog),
        heartbeat=heartbeat,
        lifetime=lifetime,
        retry_ms=3000,
        clock=lambda: next(ticks) * 0.001,
    )


def test_bounds_per_process_and_per_network_and_slots_come_back():
    hub = Hub(max_connections=2, max_per_network=1)
    first = hub.subscribe(TOPIC, "net-a")
    with pytest.raises(Full) as network:
        hub.subscribe(TOPIC, "net-a")
    assert network.value.scope == "network"
    hub.subscribe(TOPIC, "net-b")
    with pytest.raises(Full) as process:
        hub.subscribe(TOPIC, "net-c")
    assert process.value.scope == "process"
    hub.unsubscribe(first)
    hub.unsubscribe(first)  # twice frees one slot, not two
    assert hub.open == 1
    hub.subscribe(TOPIC, "net-a")


def test_comments_go_to_their_articles_streams_only():
    hub = Hub(10, 10)
    mine, other = hub.subscribe(TOPIC, "n"), hub.subscribe((1, "a2"), "n")
    assert hub.deliver(TOPIC, [comment(5)]) == 1
    assert mine.next(0) == comment(5)
    assert other.next(0) is None
    assert hub.deliver((2, "a1"), [comment(6)]) == 0  # another site's article of the same id


def test_the_backlog_comes_first_and_a_comment_goes_out_once():
    hub = Hub(10, 10)
    subscription = hub.subscribe(TOPIC, "n")
    hub.deliver(TOPIC, [comment(7), comment(8)])
    subscription.close()
    out = list(frames(subscription, backlog=[comment(6), comment(7)]))
    assert out[0] == "retry: 3000\n\n"
    assert [f.split("\n")[0] for f in out[1:]] == ["id: 6", "id: 7", "id: 8"]
    assert out[1] == frame(comment(6))


def test_an_idle_stream_beats_and_ends_with_its_lifetime():
    subscription = Hub(10, 10).subscribe(TOPIC, "n")
    out = list(frames(subscription, lifetime=0.005, heartbeat=0.0))
    assert out[0].startswith("retry:")
    assert set(out[1:]) == {HEARTBEAT}


def test_a_stalled_stream_is_closed_rather_than_buffered():
    hub = Hub(10, 10)
    subscription = hub.subscribe(TOPIC, "n")
    hub.deliver(TOPIC, [comment(i) for i in range(1, QUEUE_SIZE + 10)])
    with pytest.raises(EOFError):
        while True:
            subscription.next(0)


@pytest.mark.parametrize(
    ("header", "query", "expected"),
    [
        ("42", "7", 42),
        (None, "7", 7),
        (" 9 ", None, 9),
        ("x", "7", 7),
        ("-1", None, None),
        ("9" * 30, None, None),
    ],
)
def test_last_event_id_takes_the_first_comment_id(header, query, expected):
    assert last_event_id(header, query) == expected
