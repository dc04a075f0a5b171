"""The app's scorer: loaded once per process (in the background, so start-up stays fast) and
called through the micro-batcher with a deadline."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..observability import SCORER_TIMEOUTS, observe_batch
from .base import Explainer, Scorer, ScorerError, Scores, covered_languages
from .loader import declared_languages, load_scorer, multilingual_settings

if TYPE_CHECKING:
    from .batcher import MicroBatcher

log = logging.getLogger(__name__)


class ExplanationCache:
    """The scorer's explanations as the moderators' queue shows them (per label, the spans with
    rounded weights), remembered per text: moderators load the same pages again and again, and
    explaining 50 comments costs more than the rest of the page."""

    def __init__(self, explainer: Explainer, size: int = 20_000):
        self._explainer = explainer
        self._size = size
        self._entries: OrderedDict[tuple[str, int], dict[str, list[dict[str, Any]]]] = OrderedDict()
        self._lock = threading.Lock()

    def highlights(self, text: str, top_k: int = 3) -> dict[str, list[dict[str, Any]]]:
        key = (text, top_k)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        found = {
            label: [{"start": s.start, "end": s.end, "weight": round(s.weight, 4)} for s in spans]
            for label, spans in self._explainer.explain(text, top_k=top_k).items()
            if spans
        }
        with self._lock:
            self._entries[key] = found
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return found


class ScoringEngine:
    def __init__(self, settings: Mapping[str, Any], scorer: Scorer | None = None):
        self._settings = settings
        self._scorer = scorer
        self._batcher: MicroBatcher | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self.load_error: Exception | None = None
        self._explanations: ExplanationCache | None = None
        self._loading = False
        if scorer is not None:
            self._start(scorer)
        # The backend for comments in languages the scorer does not cover, where a site's policy
        # asks for it (Policy.unsupported_language = "score"); loaded with the scorer or on first use.
        inner = multilingual_settings(settings)
        instance = settings.get("MULTILINGUAL_SCORER_INSTANCE")
        self.multilingual = None if inner is None else ScoringEngine(inner, scorer=instance)

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

    def load_in_background(self, then: Callable[[], None] | None = None) -> None:
        """Load in a thread (with the multilingual backend and the language detector); `then` runs
        after a successful load."""
        self._loading = True
        threading.Thread(target=self._load_quietly, args=(then,), name="scorer-loader", daemon=True).start()

    def start_loading(self) -> None:
        """Start loading in the background unless loaded or loading (a backend loaded on first use)."""
        with self._lock:
            if self._ready.is_set() or self._loading:
                return
            self._loading = True
        self.load_in_background()

    def _load_quietly(self, then: Callable[[], None] | None) -> None:
        from ..languages import detector

        if self.multilingual is not None:
            self.multilingual.start_loading()
        try:  # the detector first (2 s): once /readyz says ready, no comment waits for it
            detector()
        except Exception:
            log.exception("the language detector failed to load")
        # A failure is already logged and kept in load_error (reported by /readyz).
        with contextlib.suppress(Exception):
            self.load()
            if then is not None:
                then()

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the scorer covers; while it loads, those its settings name."""
        if self._ready.is_set():
            return covered_languages(self._scorer)
        return declared_languages(self._settings)

    @property
    def explainer(self) -> ExplanationCache | None:
        """The scorer's explanations (cached), or None for a backend that cannot explain."""
        scorer = self.scorer
        if not isinstance(scorer, Explainer):
            return None
        if self._explanations is None:
            self._explanations = ExplanationCache(scorer)
        return self._explanations

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
        if self.multilingual is not None:
            self.multilingual.close()
