"""A cascade of two scorers: the fast one scores every comment, the slow one only the comments
the fast one is unsure about.

A comment is unsure when one of its scores lies within `band` of that label's hold threshold:
there a small error flips the policy's decision, while a comment far from every threshold gets
the same decision whatever the second opinion says. An escalated comment gets, per label both
stages score, a weighted average of the two stages (the second stage's scores must be on the
first's scale: see embedding_stage.MiniLMScorer's calibration), so its scores stay comparable
with those of comments that were not escalated.

Scores come back as StagedScores: a plain {label: probability} dict that also says which
stages ran, so each stored comment records the models behind its scores.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from .base import Scorer, Scores, covered_languages

log = logging.getLogger(__name__)

# Between stage tags in a stored model_version: "embedded:<version> > minilm:<version>".
STAGE_SEPARATOR = " > "
MAX_VERSION_CHARS = 100  # the comments.model_version column


def stage_tag(scorer: Scorer) -> str:
    return f"{scorer.name}:{scorer.version}"


class StagedScores(dict):
    """{label: probability}, plus the tags of the stages that produced it, first to last."""

    __slots__ = ("stages",)

    def __init__(self, scores: Mapping[str, float], stages: tuple[str, ...]) -> None:
        super().__init__(scores)
        self.stages = stages

    @property
    def model_version(self) -> str:
        """What a stored comment records as its model version."""
        return STAGE_SEPARATOR.join(self.stages)[:MAX_VERSION_CHARS]


class CascadeScorer:
    """Scores with `first`; texts with any watched score within `band` of its hold threshold
    are scored by `second` too and get (1 - weight) * first + weight * second on the labels
    both stages have. A second stage that fails leaves the first stage's scores (and says so
    in their stages)."""

    name = "cascade"

    def __init__(
        self,
        first: Scorer,
        second: Scorer,
        band: float,
        hold_thresholds: Mapping[str, float],
        weight: float = 0.5,
    ) -> None:
        if band < 0 or not 0 <= weight <= 1:
            raise ValueError("band must be >= 0 and weight within [0, 1]")
        self.first = first
        self.second = second
        self.band = band
        self.weight = weight
        self.labels = first.labels
        # Every comment gets the first stage: a language it does not read is not covered.
        second_languages = covered_languages(second)
        self.languages = tuple(lang for lang in covered_languages(first) if lang in second_languages)
        shared = set(first.labels) & set(second.labels)
        self.blended = tuple(label for label in first.labels if label in shared)
        self.hold_thresholds = {
            label: float(hold) for label, hold in hold_thresholds.items() if label in shared
        }
        self.first_stage = (stage_tag(first),)
        self.both_stages = (stage_tag(first), stage_tag(second))
        self.version = STAGE_SEPARATOR.join(self.both_stages)[:MAX_VERSION_CHARS]

    def uncertain(self, scores: Scores) -> bool:
        """Whether any watched label's score is within the band of its hold threshold."""
        return any(
            abs(scores[label] - hold) <= self.band
            for label, hold in self.hold_thresholds.items()
            if label in scores
        )

    def score(self, texts: Sequence[str]) -> list[Scores]:
        first = self.first.score(texts)
        out: list[Scores] = [StagedScores(s, self.first_stage) for s in first]
        todo = [i for i, s in enumerate(first) if self.uncertain(s)]
        if not todo:
            return out
        try:
            second = self.second.score([texts[i] for i in todo])
        except Exception:  # the comments keep the first stage's scores, and say so
            log.exception(
                "the cascade's second stage (%s) failed on %d comments", self.second.name, len(todo)
            )
            return out
        w = self.weight
        for i, extra in zip(todo, second, strict=True):
            merged = dict(first[i])
            for label in self.blended:
                merged[label] = (1.0 - w) * first[i][label] + w * extra[label]
            out[i] = StagedScores(merged, self.both_stages)
        return out
