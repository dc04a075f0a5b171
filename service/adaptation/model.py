"""A site-adapted head, as the comment path applies it: numpy only, no scikit-learn, no pickle.

The head gives the probability that this site's moderators reject a comment:

    p = sigmoid(coef . logit(scores) + intercept + residual(text))

where `residual` is a sparse linear function of the shipped featuriser's hashed word, character
n-gram and word-pair features (service/scoring/embedded.py: the one definition of the features).
p replaces the comment's `toxicity` score, so the site's toxicity thresholds read "hold when
this site's moderators would reject it with at least this probability"; the other labels keep
the scorer's scores.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..scoring.base import LABELS
from ..scoring.embedded import doc_units, doc_words, pair_index, unit_features, unit_weights

# The label whose score the head replaces: a moderator's reject is a judgement of the whole
# comment, which is what `toxicity` stands for.
TARGET_LABEL = "toxicity"
# Scores are clipped before the logit so a backend's 0 or 1 stays finite.
_EPS = 1e-6
# Units (words, word pairs) whose residual a head remembers; cleared when full.
_UNIT_CACHE_LIMIT = 100_000
MAX_VERSION_CHARS = 100  # the comments.model_version column


def base_logits(scores: Sequence[Mapping[str, float]]) -> np.ndarray:
    """The logits of each comment's scores, shape (len(scores), len(LABELS)); a label a backend
    lacks counts as 0 (p = 0.5)."""
    p = np.array([[s.get(label, 0.5) for label in LABELS] for s in scores], dtype=np.float64)
    p = np.clip(p.reshape(len(scores), len(LABELS)), _EPS, 1.0 - _EPS)
    return np.log(p) - np.log1p(-p)


def document_units(text: str) -> dict[str, float]:
    """A text's units (words and word pairs) with their weights, as the shipped model sees them."""
    return unit_weights(doc_units(doc_words(text)))


def adapted_tag(slug: str, number: int) -> str:
    """The part of a model version that names a site's head: "site-<slug>-<n>"."""
    return f"site-{slug}-{number}"


def adapted_version(base_version: str, tag: str) -> str:
    """What comments scored by a site's head record as their model version (a long base version
    is cut, never the tag: the tag is what a rollback changes)."""
    return f"{base_version[: MAX_VERSION_CHARS - len(tag) - 1]}+{tag}"


class AdaptedScores(dict):
    """{label: probability} with the model version that produced it (read by comments.score_columns)."""

    __slots__ = ("model_version",)

    def __init__(self, scores: Mapping[str, float], model_version: str) -> None:
        super().__init__(scores)
        self.model_version = model_version


@dataclass
class Adapter:
    """A trained head: coefficients of the base logits, an intercept, and the residual's weights
    by hashed feature index (sorted). `base_version` is the scorer it was trained on: a head
    applies to that scorer's scores only."""

    tag: str
    base_version: str
    coef: np.ndarray  # (len(LABELS),)
    intercept: float
    keys: np.ndarray  # int64, sorted hashed feature indices
    values: np.ndarray  # float32, their weights
    _unit_cache: dict[str, float] = field(default_factory=dict, repr=False, compare=False)
    # The residual's weights by hashed feature: a comment reads a few dozen of them, so plain dict
    # lookups beat numpy calls on the comment path.
    _weights: dict[int, float] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._weights = dict(zip(self.keys.tolist(), self.values.tolist(), strict=True))

    # -- scoring

    def unit_residual(self, unit: str) -> float:
        """A unit's contribution to the residual at unit weight 1 (a word's is remembered; a
        word pair is one hashed feature of weight 1)."""
        if " " in unit:
            return self._weights.get(pair_index(unit), 0.0)
        found = self._unit_cache.get(unit)
        if found is not None:
            return found
        idx, val = unit_features(unit)
        weights = self._weights
        found = sum(weights.get(i, 0.0) * v for i, v in zip(idx.tolist(), val.tolist(), strict=True))
        if len(self._unit_cache) >= _UNIT_CACHE_LIMIT:
            self._unit_cache.clear()
        self._unit_cache[unit] = found
        return found

    def residual(self, text: str) -> float:
        return sum(weight * self.unit_residual(unit) for unit, weight in document_units(text).items())

    def logit(self, text: str, scores: Mapping[str, float]) -> float:
        """One comment's logit, in plain Python (numpy's per-call cost dominates one comment)."""
        z = self.intercept + self.residual(text)
        for label, weight in zip(LABELS, self.coef.tolist(), strict=True):
            p = min(max(scores.get(label, 0.5), _EPS), 1.0 - _EPS)
            z += weight * math.log(p / (1.0 - p))
        return z

    def toxicity(self, texts: Sequence[str], scores: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Each text's adapted toxicity: the probability that the site's moderators reject it."""
        z = base_logits(scores) @ self.coef + self.intercept
        z += np.array([self.residual(t) for t in texts], dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))

    def apply(self, text: str, scores: Mapping[str, float], base_version: str) -> AdaptedScores:
        """The comment's scores with the head's toxicity, recording the head's version on top of
        the version that scored it (a cascade's scores name the stages that ran)."""
        adapted = dict(scores)
        z = min(max(self.logit(text, scores), -50.0), 50.0)
        adapted[TARGET_LABEL] = 1.0 / (1.0 + math.exp(-z))
        return AdaptedScores(adapted, adapted_version(base_version, self.tag))

    @property
    def version(self) -> str:
        return adapted_version(self.base_version, self.tag)

    # -- storage: plain arrays in an .npz (never pickle) and the scalars as JSON

    def to_bytes(self) -> bytes:
        meta = {
            "tag": self.tag,
            "base_version": self.base_version,
            "labels": list(LABELS),
            "intercept": self.intercept,
        }
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            coef=self.coef.astype(np.float64),
            keys=self.keys.astype(np.int32),
            values=self.values.astype(np.float32),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Adapter:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta = json.loads(bytes(npz["meta"]).decode())
            coef, keys, values = npz["coef"], npz["keys"].astype(np.int64), npz["values"]
        if tuple(meta["labels"]) != LABELS:
            raise ValueError("this head was trained for other labels")
        return cls(meta["tag"], meta["base_version"], coef, float(meta["intercept"]), keys, values)

    @property
    def size(self) -> int:
        """Residual weights kept."""
        return len(self.keys)
