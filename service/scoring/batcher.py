"""Micro-batching: many request threads, one model call per batch.

A transformer on CPU scores 32 texts in one call far faster than 32 texts one by one, but each
web request brings one comment. MicroBatcher sits between them: request threads enqueue their
text and wait; one worker thread takes up to `max_batch` texts (waiting at most `max_wait`
seconds after the first one arrived), calls `scorer.score(batch)` once and hands every caller
its own result.

Every call has a deadline. A caller that passes it gets ScoringTimeout, and its text is dropped
from the queue if the worker has not started on it, so the app can store the comment as
"pending" and score it later instead of holding the request open.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .base import Scorer, ScorerError, Scores

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0


class ScoringTimeout(ScorerError, TimeoutError):
    """The text was not scored before the caller's deadline."""


class BatcherOverloaded(ScorerError):
    """The queue is full: shed load now rather than queue past every deadline."""


class BatcherClosed(ScorerError):
    """The batcher was closed before (or while) the text waited."""


@dataclass(frozen=True)
class BatcherStats:
    """Counters since the batcher started (a snapshot; see MicroBatcher.stats)."""

    batches: int = 0
    texts: int = 0  # texts scored (or attempted) in batches
    largest_batch: int = 0
    failed_batches: int = 0
    timeouts: int = 0  # callers that got ScoringTimeout
    dropped: int = 0  # texts taken out of the queue unscored because their caller gave up
    rejected: int = 0  # calls refused because the queue was full
    busy_seconds: float = 0.0  # time spent inside scorer.score
    queued: int = 0  # texts waiting right now

    @property
    def mean_batch(self) -> float:
        return self.texts / self.batches if self.batches else 0.0


# Lifecycle of one queued text. Transitions happen under MicroBatcher._cond.
_QUEUED, _RUNNING, _DONE, _EXPIRED = range(4)


class _Job:
    __slots__ = ("text", "arrived", "deadline", "state", "result", "error", "done")

    def __init__(self, text: str, arrived: float, deadline: float) -> None:
        self.text = text
        self.arrived = arrived
        self.deadline = deadline
        self.state = _QUEUED
        self.result: Scores | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()


class MicroBatcher:
    """Gathers concurrent single-text calls into batched `scorer.score` calls.

    Args:
        scorer: any Scorer; it is only ever called from the worker thread.
        max_batch: most texts per scorer call.
        max_wait: longest the worker waits for more texts after the first one arrived (s).
        max_queue: most texts waiting; beyond it calls fail at once with BatcherOverloaded.
        default_timeout: deadline (s) for calls that do not give one.
        on_batch: called as on_batch(size, seconds) after every scorer call, from the worker
            thread (keep it cheap: e.g. a Prometheus histogram observe).
    """

    def __init__(
        self,
        scorer: Scorer,
        *,
        max_batch: int = 32,
        max_wait: float = 0.01,
        max_queue: int = 1024,
        default_timeout: float = DEFAULT_TIMEOUT,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        if max_batch < 1 or max_queue < 1 or max_wait < 0 or default_timeout <= 0:
            raise ValueError("max_batch, max_queue and default_timeout must be positive")
        self.scorer = scorer
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.max_queue = max_queue
        self.default_timeout = default_timeout
        self.on_batch = on_batch
        self._queue: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._drain = True
        self._stats = BatcherStats()
        self._worker = threading.Thread(target=self._run, name="scoring-batcher", daemon=True)
        self._worker.start()

    # The wrapped scorer's identity, so code that records "scored by" can use the batcher.
    @property
    def name(self) -> str:
        return self.scorer.name

    @property
    def version(self) -> str:
        return self.scorer.version

    @property
    def labels(self) -> tuple[str, ...]:
        return self.scorer.labels

    # --- callers -----------------------------------------------------------------------------

    def score(self, text: str, timeout: float | None = None) -> Scores:
        """Score one text, waiting at most `timeout` seconds (default: default_timeout).

        Raises ScoringTimeout, BatcherOverloaded, BatcherClosed, or ScorerError (scorer failed).
        """
        return self.score_many([text], timeout)[0]

    def score_many(self, texts: Sequence[str], timeout: float | None = None) -> list[Scores]:
        """Score several texts under one deadline; they may share batches with other callers."""
        if isinstance(texts, str):
            raise TypeError("score_many() takes a sequence of texts, not a single string")
        if not texts:
            return []
        now = time.monotonic()
        deadline = now + (self.default_timeout if timeout is None else timeout)
        jobs = [_Job(text, now, deadline) for text in texts]
        with self._cond:
            if self._closing:
                raise BatcherClosed("the scoring batcher is closed")
            if len(self._queue) + len(jobs) > self.max_queue:
                self._bump(rejected=1)
                raise BatcherOverloaded(
                    f"scoring queue full ({len(self._queue)} of {self.max_queue} waiting)"
                )
            self._queue.extend(jobs)
            # The worker only needs waking for a first text or a full batch; other arrivals
            # would just wake it to go back to sleep.
            if len(self._queue) == len(jobs) or len(self._queue) >= self.max_batch:
                self._cond.notify()
        for job in jobs:
            # Event.wait blocks in the OS; a non-positive timeout just checks the flag.
            # (The worker may also expire a job whose deadline passed while it was queued.)
            if not job.done.wait(deadline - time.monotonic()) or job.state == _EXPIRED:
                self._give_up(jobs)
                raise ScoringTimeout(f"scoring took longer than {deadline - now:.3f}s")
        return [self._outcome(job) for job in jobs]

    def _give_up(self, jobs: list[_Job]) -> None:
        """Take the caller's unstarted texts out of the queue and count the timeout."""
        with self._cond:
            dropped = 0
            for job in jobs:
                if job.state == _QUEUED:
                    self._queue.remove(job)
                    job.state = _EXPIRED
                    dropped += 1
            self._bump(timeouts=1, dropped=dropped)

    @staticmethod
    def _outcome(job: _Job) -> Scores:
        if job.error is not None:
            if isinstance(job.error, BatcherClosed):
                raise BatcherClosed(str(job.error))
            # A fresh exception per caller: one instance raised in many threads would share
            # (and keep rewriting) a single traceback.
            raise ScorerError(f"scoring failed: {job.error}") from job.error
        assert job.result is not None
        return job.result

    # --- lifecycle ---------------------------------------------------------------------------

    def close(self, drain: bool = True, timeout: float | None = None) -> None:
        """Stop accepting texts and stop the worker.

        drain=True scores what is already queued first; drain=False fails those callers with
        BatcherClosed at once. Waits up to `timeout` seconds for the worker (None: until done).
        Safe to call more than once.
        """
        with self._cond:
            self._closing = True
            self._drain = self._drain and drain
            self._cond.notify_all()
        if threading.current_thread() is not self._worker:
            self._worker.join(timeout)

    @property
    def closed(self) -> bool:
        return self._closing

    def __enter__(self) -> MicroBatcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def stats(self) -> BatcherStats:
        """A consistent snapshot of the counters."""
        with self._cond:
            return replace(self._stats, queued=len(self._queue))

    # --- worker ------------------------------------------------------------------------------

    def _bump(self, **increments: float) -> None:
        # Caller holds self._cond.
        self._stats = replace(
            self._stats,
            **{k: getattr(self._stats, k) + v for k, v in increments.items()},
        )

    def _next_batch(self) -> list[_Job] | None:
        """Block until a batch is due; None when the worker should exit."""
        ready = time.monotonic()
        with self._cond:
            while True:
                if self._closing and (not self._drain or not self._queue):
                    for job in self._queue:
                        job.error = BatcherClosed("the scoring batcher closed before scoring")
                        job.state = _DONE
                        job.done.set()
                    self._queue.clear()
                    return None
                if not self._queue:
                    self._cond.wait()
                    continue
                # Wait for a full batch, but no longer than max_wait after the oldest text came
                # or, if the worker was busy then, after it became free: the callers it just
                # answered often come straight back, and without this pause they would always
                # miss the next batch (callers split into two half-size cohorts). A closing
                # batcher does not wait at all.
                start = max(self._queue[0].arrived, ready)
                remaining = start + self.max_wait - time.monotonic()
                if len(self._queue) < self.max_batch and remaining > 0 and not self._closing:
                    self._cond.wait(remaining)
                    continue
                now = time.monotonic()
                batch: list[_Job] = []
                while self._queue and len(batch) < self.max_batch:
                    job = self._queue.popleft()
                    if job.deadline <= now:
                        # Its caller is about to time out: don't spend model time on it.
                        job.state = _EXPIRED
                        job.done.set()
                        self._bump(dropped=1)
                        continue
                    job.state = _RUNNING
                    batch.append(job)
                if batch:
                    return batch

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            started = time.monotonic()
            results: list[Scores] | None = None
            error: BaseException | None = None
            try:
                results = list(self.scorer.score([job.text for job in batch]))
                if len(results) != len(batch):
                    raise ScorerError(f"scorer returned {len(results)} results for {len(batch)} texts")
            except Exception as exc:  # delivered to the callers; the worker carries on
                error = exc
            seconds = time.monotonic() - started
            with self._cond:
                for i, job in enumerate(batch):
                    if error is None:
                        job.result = results[i]  # type: ignore[index]
                    else:
                        job.error = error
                    job.state = _DONE
                    job.done.set()
                self._bump(
                    batches=1,
                    texts=len(batch),
                    failed_batches=int(error is not None),
                    busy_seconds=seconds,
                )
                if len(batch) > self._stats.largest_batch:
                    self._stats = replace(self._stats, largest_batch=len(batch))
            if error is not None:
                log.warning("scoring batch of %d failed: %r", len(batch), error)
            if self.on_batch is not None:
                try:
                    self.on_batch(len(batch), seconds)
                except Exception:  # a broken metrics hook must not stop scoring
                    log.exception("on_batch callback failed")
