"""The one interface every toxicity backend implements, and the label names they share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# detoxify's label names; every backend answers with exactly these (plus
# `sexual_explicit` where a model has it), so a site's policy works with any backend.
LABELS: tuple[str, ...] = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "threat",
    "insult",
    "identity_attack",
)
OPTIONAL_LABELS: tuple[str, ...] = ("sexual_explicit",)
# Not a detoxify label: the embedded model's comment-spam score (models/embedded/spam.*).
SPAM_LABEL = "spam"

Scores = dict[str, float]


@dataclass(frozen=True)
class Span:
    """A stretch of the text (character offsets, end exclusive) that raised a label."""

    start: int
    end: int
    weight: float


@runtime_checkable
class Scorer(Protocol):
    """Anything that turns texts into one {label: probability} per text.

    A scorer also declares the languages it was trained for (ISO 639-1), as an attribute
    `languages`; one that does not is taken to cover English only (`covered_languages`)."""

    name: str
    version: str
    labels: tuple[str, ...]

    def score(self, texts: Sequence[str]) -> list[Scores]: ...


def covered_languages(scorer: object) -> tuple[str, ...]:
    """The languages a scorer covers: its `languages`, else English (what every model here was
    trained on)."""
    return tuple(getattr(scorer, "languages", ("en",)))


@runtime_checkable
class Explainer(Protocol):
    """A scorer that can also say which spans of a text raised each label."""

    def explain(self, text: str, top_k: int = 3) -> dict[str, list[Span]]: ...


class ScorerError(Exception):
    """The scorer could not be loaded or could not score."""
