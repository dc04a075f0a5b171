"""MicroBatcher with fake scorers: results reach the right caller, batches form, deadlines hold."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.scoring.base import LABELS, Scorer, ScorerError, Scores
from service.scoring.batcher import (
    BatcherClosed,
    BatcherOverloaded,
    MicroBatcher,
    ScoringTimeout,
)


class EchoScorer:
    """Encodes each input in its output (toxicity = len(text) / 1000) and records its batches."""

    name = "echo"
    version = "1"
    labels = LABELS

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.batches: list[list[str]] = []
        self.fail_next = False
        self.gate: threading.Event | None = None  # when set, score() waits for it

    def score(self, texts: Sequence[str]) -> list[Scores]:
        self.batches.append(list(texts))
        if self.gate is not None:
            self.gate.wait(5)
        if self.delay:
            time.sleep(self.delay)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("model exploded")
        return [{label: (len(t) / 1000 if label == "toxicity" else 0.0) for label in LABELS} for t in texts]


def _text(i: int) -> str:
    return "x" * i


def _decode(scores: Scores) -> int:
    return round(scores["toxicity"] * 1000)


@pytest.fixture
def scorer() -> EchoScorer:
    return EchoScorer()


def test_fake_is_a_scorer(scorer):
    assert isinstance(scorer, Scorer)


def test_each_concurrent_caller_gets_its_own_result(scorer):
    sizes: list[int] = []
    with MicroBatcher(scorer, max_batch=8, max_wait=0.02, on_batch=lambda n, s: sizes.append(n)) as batcher:
        with ThreadPoolExecutor(max_workers=24) as pool:
            got = list(pool.map(lambda i: _decode(batcher.score(_text(i), timeout=5)), range(200)))
        stats = batcher.stats()
    assert got == list(range(200))
    assert all(1 <= len(b) <= 8 for b in scorer.batches)
    assert sum(len(b) for b in scorer.batches) == 200
    # With 24 callers waiting, the worker must have combined texts.
    assert max(len(b) for b in scorer.batches) > 1
    assert stats.batches == len(scorer.batches) == len(sizes)
    assert stats.texts == sum(sizes) == 200
    assert stats.largest_batch <= 8 and stats.queued == 0


def test_full_batches_form_while_the_scorer_is_busy(scorer):
    scorer.gate = threading.Event()
    with (
        MicroBatcher(scorer, max_batch=4, max_wait=0.05) as batcher,
        ThreadPoolExecutor(max_workers=9) as pool,
    ):
        first = pool.submit(batcher.score, _text(0), 5)
        _wait_for(lambda: len(scorer.batches) == 1)  # the worker is stuck in batch one
        rest = [pool.submit(batcher.score, _text(i), 5) for i in range(1, 9)]
        _wait_for(lambda: batcher.stats().queued == 8)
        scorer.gate.set()
        results = [first.result(5), *(f.result(5) for f in rest)]
    assert [_decode(r) for r in results] == list(range(9))
    # The 8 texts queued behind the busy scorer go out as two full batches.
    assert [len(b) for b in scorer.batches] == [1, 4, 4]


def test_a_lone_text_waits_at_most_max_wait(scorer):
    with MicroBatcher(scorer, max_batch=64, max_wait=0.05) as batcher:
        started = time.monotonic()
        assert _decode(batcher.score(_text(7), timeout=5)) == 7
        assert time.monotonic() - started < 1.0


def test_score_many_keeps_order(scorer):
    with MicroBatcher(scorer, max_batch=3, max_wait=0.001) as batcher:
        results = batcher.score_many([_text(i) for i in range(10)], timeout=5)
    assert [_decode(r) for r in results] == list(range(10))
    assert all(len(b) <= 3 for b in scorer.batches)


def test_deadline_is_honoured_and_queued_text_dropped():
    slow = EchoScorer(delay=0.6)
    with MicroBatcher(slow, max_batch=1, max_wait=0) as batcher:
        with ThreadPoolExecutor(max_workers=2) as pool:
            busy = pool.submit(batcher.score, _text(1), 5)  # occupies the worker
            _wait_for(lambda: len(slow.batches) == 1)
            started = time.monotonic()
            with pytest.raises(ScoringTimeout) as info:
                batcher.score(_text(2), timeout=0.15)
            waited = time.monotonic() - started
            assert isinstance(info.value, TimeoutError)
            assert isinstance(info.value, ScorerError)
            assert 0.14 <= waited < 0.5
            assert _decode(busy.result(5)) == 1
        stats = batcher.stats()
    # The timed-out text never reached the scorer.
    assert [b for b in slow.batches] == [[_text(1)]]
    assert stats.timeouts == 1 and stats.dropped == 1 and stats.queued == 0


def test_a_running_batch_past_its_deadline_times_out():
    slow = EchoScorer(delay=0.5)
    with MicroBatcher(slow, max_wait=0) as batcher:
        started = time.monotonic()
        with pytest.raises(ScoringTimeout):
            batcher.score(_text(3), timeout=0.1)
        assert time.monotonic() - started < 0.4
        # The batcher is still usable once the slow batch ends.
        slow.delay = 0
        assert _decode(batcher.score(_text(4), timeout=5)) == 4


def test_scorer_error_reaches_every_caller_of_that_batch_only(scorer):
    scorer.gate = threading.Event()
    with MicroBatcher(scorer, max_batch=8, max_wait=0.05) as batcher:
        with ThreadPoolExecutor(max_workers=9) as pool:
            first = pool.submit(batcher.score, _text(0), 5)
            _wait_for(lambda: len(scorer.batches) == 1)
            scorer.fail_next = True  # the first batch (already running) fails
            rest = [pool.submit(batcher.score, _text(i), 5) for i in range(1, 9)]
            _wait_for(lambda: batcher.stats().queued == 8)
            scorer.gate.set()
            with pytest.raises(ScorerError) as info:
                first.result(5)
            assert isinstance(info.value.__cause__, RuntimeError)
            assert "model exploded" in str(info.value)
            assert [_decode(f.result(5)) for f in rest] == list(range(1, 9))
        assert _decode(batcher.score(_text(42), timeout=5)) == 42
        assert batcher.stats().failed_batches == 1


def test_error_is_delivered_to_all_callers_in_the_failing_batch():
    scorer2 = EchoScorer()
    scorer2.fail_next = True
    with MicroBatcher(scorer2, max_batch=4, max_wait=0.2) as batcher:
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(batcher.score, _text(i), 5) for i in range(4)]
            outcomes = []
            for f in futures:
                with pytest.raises(ScorerError) as info:
                    f.result(5)
                outcomes.append(info.value)
        assert len(scorer2.batches) == 1 and len(scorer2.batches[0]) == 4
        # Each caller gets its own exception object carrying the same cause.
        assert len({id(e) for e in outcomes}) == 4
        assert {type(e.__cause__) for e in outcomes} == {RuntimeError}
        assert _decode(batcher.score(_text(5), timeout=5)) == 5


def test_wrong_result_count_is_a_scorer_error():
    class Short(EchoScorer):
        def score(self, texts):
            return super().score(texts)[:-1]

    with (
        MicroBatcher(Short(), max_wait=0) as batcher,
        pytest.raises(ScorerError, match="0 results"),
    ):
        batcher.score("a", timeout=5)


def test_full_queue_is_rejected(scorer):
    scorer.gate = threading.Event()
    batcher = MicroBatcher(scorer, max_batch=1, max_wait=0, max_queue=2)
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            running = pool.submit(batcher.score, "a", 5)
            _wait_for(lambda: len(scorer.batches) == 1)
            queued = [pool.submit(batcher.score, t, 5) for t in ("b", "c")]
            _wait_for(lambda: batcher.stats().queued == 2)
            with pytest.raises(BatcherOverloaded, match="queue full"):
                batcher.score("d", timeout=5)
            with pytest.raises(BatcherOverloaded):
                batcher.score_many(["e"], timeout=5)
            scorer.gate.set()
            assert [_decode(f.result(5)) for f in (running, *queued)] == [1, 1, 1]
        assert batcher.stats().rejected == 2
    finally:
        batcher.close()


def test_close_drains_then_refuses(scorer):
    scorer.gate = threading.Event()
    batcher = MicroBatcher(scorer, max_batch=1, max_wait=0)
    with ThreadPoolExecutor(max_workers=2) as pool:
        running = pool.submit(batcher.score, "a", 5)
        _wait_for(lambda: len(scorer.batches) == 1)
        queued = pool.submit(batcher.score, "bb", 5)
        _wait_for(lambda: batcher.stats().queued == 1)
        closer = threading.Thread(target=batcher.close)
        closer.start()
        scorer.gate.set()
        closer.join(5)
        assert not closer.is_alive()
        assert _decode(running.result(5)) == 1
        assert _decode(queued.result(5)) == 2  # drained, not dropped
    assert not batcher._worker.is_alive()
    assert batcher.closed
    with pytest.raises(BatcherClosed):
        batcher.score("late", timeout=1)
    batcher.close()  # idempotent


def test_close_without_drain_fails_waiting_callers(scorer):
    scorer.gate = threading.Event()
    batcher = MicroBatcher(scorer, max_batch=1, max_wait=0)
    with ThreadPoolExecutor(max_workers=2) as pool:
        running = pool.submit(batcher.score, "a", 5)
        _wait_for(lambda: len(scorer.batches) == 1)
        queued = pool.submit(batcher.score, "bb", 5)
        _wait_for(lambda: batcher.stats().queued == 1)
        closer = threading.Thread(target=batcher.close, kwargs={"drain": False})
        closer.start()
        _wait_for(lambda: batcher.closed)
        scorer.gate.set()
        closer.join(5)
        assert _decode(running.result(5)) == 1
        with pytest.raises(BatcherClosed):
            queued.result(5)
    assert len(scorer.batches) == 1


def test_close_of_an_idle_batcher_is_prompt(scorer):
    batcher = MicroBatcher(scorer)
    started = time.monotonic()
    batcher.close()
    assert time.monotonic() - started < 0.5
    assert not batcher._worker.is_alive()


def test_broken_on_batch_hook_does_not_stop_scoring(scorer):
    def hook(size: int, seconds: float) -> None:
        raise ValueError("metrics down")

    with MicroBatcher(scorer, max_wait=0, on_batch=hook) as batcher:
        assert _decode(batcher.score("abc", timeout=5)) == 3
        assert _decode(batcher.score("abcd", timeout=5)) == 4


def test_passes_through_scorer_identity(scorer):
    with MicroBatcher(scorer) as batcher:
        assert (batcher.name, batcher.version, batcher.labels) == ("echo", "1", LABELS)
        with pytest.raises(TypeError):
            batcher.score_many("not a list")
        assert batcher.score_many([]) == []


def _wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.002)
