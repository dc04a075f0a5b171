"""One adaptation, from decisions to a head and its gate verdict: the same steps for the admin
API, the command and the learning-curve simulation."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..moderation.policy import Policy
from .fit import DEFAULT_FIT, FitConfig, FitReport, Progress, train_adapter
from .gate import DEFAULT_RULES, GateRules, evaluate, policy_shares
from .model import TARGET_LABEL, Adapter

ScoreMany = Callable[[Sequence[str]], list[Mapping[str, float]]]


@dataclass(frozen=True)
class Adaptation:
    adapter: Adapter
    fit: FitReport
    evaluation: dict[str, Any]


def split_by_time(n: int, rules: GateRules = DEFAULT_RULES) -> int:
    """How many of n decisions (oldest first) are trained on; the newest rest are held out."""
    return n - max(1, int(round(n * rules.holdout_share)))


def adapt(
    texts: Sequence[str],
    labels: Sequence[int],
    shipped_scores: Sequence[Mapping[str, float]],
    current_held_scores: Sequence[Mapping[str, float]],
    policy: Policy,
    *,
    tag: str,
    base_version: str,
    rules: GateRules = DEFAULT_RULES,
    config: FitConfig = DEFAULT_FIT,
    progress: Progress | None = None,
) -> Adaptation:
    """Train a head on the oldest decisions and judge it on the newest.

    texts/labels: the decisions, oldest first (1 = rejected). shipped_scores: the scorer's scores
    of every text (what the head is trained on top of). current_held_scores: what new comments
    get today (the scorer, plus the site's active head if any) for the held-out texts."""
    y = np.asarray(labels, dtype=np.float64)
    cut = split_by_time(len(y), rules)
    adapter, report = train_adapter(
        texts[:cut],
        shipped_scores[:cut],
        y[:cut],
        tag=tag,
        base_version=base_version,
        config=config,
        progress=progress,
    )
    held_texts, held_y = texts[cut:], y[cut:]
    adapted_p = adapter.toxicity(held_texts, shipped_scores[cut:])
    adapted_scores = [
        {**s, TARGET_LABEL: float(p)} for s, p in zip(shipped_scores[cut:], adapted_p, strict=True)
    ]
    current_tox = np.array([s[TARGET_LABEL] for s in current_held_scores])
    evaluation = evaluate(
        all_labels=y,
        shipped_all=np.array([s[TARGET_LABEL] for s in shipped_scores]),
        held_labels=held_y,
        current_held=current_tox,
        adapted_held=adapted_p,
        current_shares=policy_shares(current_held_scores, held_y, policy),
        adapted_shares=policy_shares(adapted_scores, held_y, policy),
        rules=rules,
    )
    evaluation["fit"] = {
        "c": report.c,
        "validation_auc": report.validation_auc,
        "trained_on": cut,
        "weights": report.weights,
    }
    return Adaptation(adapter, report, evaluation)
