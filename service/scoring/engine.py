"""The app's scorer: loaded once per process (in the background, so start-up stays fast) and
called through the micro-batcher with a deadline."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..observability import SCORER_TIMEOUTS, observe_batch
from .base import Scorer, ScorerError, Scores
from .loader import load_scorer

if TYPE_CHECKING:
    from .batcher import MicroBatcher

log = logging.getLogger(__name__)


class ScoringEngine:
    def __init__(self, settings: Mapping[str, Any], scorer: Scorer | None = None):
        self._settings = settings
        self._scorer = scorer
        self._batcher: MicroBatcher | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self.load_error: Exception | None = None
        if scorer is not None:
            self._start(scorer)

    def _start(self, scorer: Scorer) -> None:
        from .batcher import MicroBatcher

        self._scorer = scorer
        self._batcher = MicroBatcher(
            scorer,
            max_batch=int(self._settings.get("SCORING_MAX_BATCH", 64)),
            max_wait=int(self._settings.get("SCORING_MAX_WAIT_MS", 0)) / 1000,
            on_batch=observe_batch,
        )
        self._ready.set()

    def load(self) -> None:
        """Load the configured scorer unless it is loaded; safe to call from many threads."""
        with self._lock:
            if self._ready.is_set():
                return
            try:
                self._start(load_scorer(self._settings))
            except Exception as error:  # reported by /readyz and the log; requests keep comments pending
                self.load_error = error
                log.exception("the scorer failed to load")
                raise

    def load_in_background(self) -> None:
        threading.Thread(target=self._load_quietly, name="scorer-loader", daemon=True).start()

    def _load_quietly(self) -> None:
        # A failure is already logged and kept in load_error (reported by /readyz).
        with contextlib.suppress(Exception):
            self.load()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    @property
    def scorer(self) -> Scorer:
        self.load()
        assert self._scorer is not None
        return self._scorer

    def score(self, text: str, timeout: float) -> Scores | None:
        """Scores, or None when the scorer is not ready or misses the deadline (the comment stays pending)."""
        if not self._ready.wait(timeout):
            return None
        from .batcher import ScoringTimeout

        assert self._batcher is not None
        try:
            return self._batcher.score(text, timeout=timeout)
        except ScoringTimeout:
            SCORER_TIMEOUTS.inc()
            return None
        except ScorerError:
            log.exception("scoring failed; the comment is kept pending")
            return None

    def score_many(self, texts: list[str]) -> list[Scores]:
        """Direct batch scoring for commands (no deadline)."""
        return self.scorer.score(texts)

    def close(self) -> None:
        if self._batcher is not None:
            self._batcher.close()
