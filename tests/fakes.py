"""Stand-in scorers for behaviour the real model cannot show on demand: slowness and failure."""

from __future__ import annotations

import threading
import time

from service.scoring.base import LABELS, ScorerError


class SlowScorer:
    """Answers after `delay` seconds (until released), like an overloaded model."""

    name = "slow"
    version = "1"
    labels = LABELS

    def __init__(self, delay: float):
        self.delay = delay
        self.calls = 0
        self._lock = threading.Lock()

    def score(self, texts):
        with self._lock:
            self.calls += 1
        time.sleep(self.delay)
        return [{label: 0.01 for label in LABELS} for _ in texts]


class FailingScorer:
    name = "failing"
    version = "1"
    labels = LABELS

    def score(self, texts):
        raise ScorerError("model crashed")


class FixedScorer:
    """Gives every text the same scores: a policy's effect on a known score, with no model in the way."""

    name = "fixed"
    version = "1"
    labels = LABELS

    def __init__(self, **scores: float):
        self.scores = {label: scores.get(label, 0.01) for label in LABELS}

    def score(self, texts):
        return [dict(self.scores) for _ in texts]
