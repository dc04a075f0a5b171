"""What a policy's thresholds mean for a site, estimated from the evaluation data.

`heldout.json` (beside the embedded model, written by `flask scoring thresholds`) holds the
scores of the held-out comments of every labelled source (the report's random split: a model
fitted without them scored them), with whether each is toxic (its source's toxicity label >=
0.5) or clean. From it, for any thresholds: the share of clean comments a policy would hold
(or reject) and the share of toxic comments it would publish. Numpy only; no Flask.

Scores are stored as two decimal digits per label (floored to 0.01), so thresholds on the
0.01 grid are counted exactly and others to within 0.01.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

HELDOUT_FILE = "heldout.json"
POOLED = "pooled"


@dataclass(frozen=True)
class HeldOut:
    labels: tuple[str, ...]
    sources: dict[str, tuple[np.ndarray, np.ndarray]]  # source -> (scores x100 (n, labels), toxic)
    about: str
    version: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HeldOut:
        labels = tuple(data["labels"])
        sources = {}
        for source, rows in data["sources"].items():
            scores = np.array(
                [[int(r[1 + 2 * j : 3 + 2 * j]) for j in range(len(labels))] for r in rows], dtype=np.int16
            ).reshape(-1, len(labels))
            toxic = np.array([r[0] == "T" for r in rows], dtype=bool)
            sources[source] = (scores, toxic)
        return cls(labels, sources, data.get("about", ""), data.get("version", ""))

    def shares(self, thresholds: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Per source and pooled: clean comments held (held or rejected), clean rejected, and
        toxic comments published, under per-label thresholds ({label: obj with .hold/.reject}
        or {label: {"hold":, "reject":}}). Labels without thresholds never stop a comment."""
        out = {}
        pooled: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for source, (scores, toxic) in self.sources.items():
            stopped, rejected = self._decide(scores, thresholds)
            pooled.append((stopped, rejected, toxic))
            out[source] = _summary(stopped, rejected, toxic)
        if pooled:
            out[POOLED] = _summary(*(np.concatenate(parts) for parts in zip(*pooled, strict=True)))
        return out

    def _decide(self, scores: np.ndarray, thresholds: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        stopped = np.zeros(len(scores), dtype=bool)
        rejected = np.zeros(len(scores), dtype=bool)
        for j, label in enumerate(self.labels):
            hold, reject = _limits(thresholds.get(label))
            if hold is not None:
                stopped |= scores[:, j] >= _grid(hold)
            if reject is not None:
                rejected |= scores[:, j] >= _grid(reject)
        return stopped | rejected, rejected


def _limits(limits: Any) -> tuple[float | None, float | None]:
    if limits is None:
        return None, None
    if isinstance(limits, Mapping):
        return limits.get("hold"), limits.get("reject")
    return limits.hold, limits.reject


def _grid(threshold: float) -> int:
    # A floored score s/100 reaches t exactly when s >= ceil(100 t) (t on the 0.01 grid).
    return int(np.ceil(round(threshold * 100, 6)))


def _summary(stopped: np.ndarray, rejected: np.ndarray, toxic: np.ndarray) -> dict[str, Any]:
    clean = ~toxic
    n_clean, n_toxic = int(clean.sum()), int(toxic.sum())

    def share(hits: np.ndarray, n: int) -> float | None:
        return round(float(hits.sum()) / n, 4) if n else None

    return {
        "clean": n_clean,
        "toxic": n_toxic,
        "clean_held": share(stopped & clean, n_clean),
        "clean_rejected": share(rejected & clean, n_clean),
        "toxic_published": share(~stopped & toxic, n_toxic),
    }


def encode(scores: np.ndarray, toxic: np.ndarray) -> list[str]:
    """Rows as "T"/"C" then two digits per label (the score floored to 0.01, 1.0 -> 99)."""
    q = np.clip(np.floor(np.asarray(scores, dtype=float) * 100), 0, 99).astype(int)
    return [("T" if t else "C") + "".join(f"{v:02d}" for v in row) for row, t in zip(q, toxic, strict=True)]


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> HeldOut:
    return HeldOut.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def load(model_dir: str | Path) -> HeldOut | None:
    """The held-out figures shipped with a model, or None when it ships none."""
    path = Path(model_dir) / HELDOUT_FILE
    try:
        return _load(str(path), path.stat().st_mtime)
    except (OSError, ValueError, KeyError):
        return None
