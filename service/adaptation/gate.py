"""The deployment gate: pure rules, with every figure kept so moderators can read why.

A head is deployed only when all of these hold:
- enough decisions: at least `min_decisions`, with `min_per_class` of each (checked before
  training: below it there is nothing to learn from);
- the decisions agree with the shipped model better than chance (the lower end of the 95%
  interval of its ROC-AUC on all of them is above 0.5): random or inverted labels fail here,
  and a head must never learn to publish what the shipped model finds toxic;
- on the newest decisions (held out, never trained on) the head's ROC-AUC beats the current
  model's by at least `min_auc_gain`, and a paired bootstrap's 5th percentile of that gain is
  above 0 (the gain is not luck of the draw);
- at the site's policy, the head publishes no larger a share of the held-out rejected
  comments, and holds no larger a share of the approved ones, than the current model does
  (each within `share_tolerance`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..moderation.policy import Policy, decide


@dataclass(frozen=True)
class GateRules:
    min_decisions: int = 200
    min_per_class: int = 30
    holdout_share: float = 0.2  # the newest decisions, held out
    min_auc_gain: float = 0.01
    bootstrap_resamples: int = 1000
    share_tolerance: float = 0.02


DEFAULT_RULES = GateRules()


def roc_auc(labels: Sequence[float] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """ROC-AUC (ties count half); NaN when one class is missing."""
    y = np.asarray(labels) > 0.5
    s = np.asarray(scores, dtype=np.float64)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    _, inverse, counts = np.unique(s[order], return_inverse=True, return_counts=True)
    mid_ranks = np.cumsum(counts) - (counts - 1) / 2.0
    ranks = np.empty(len(s))
    ranks[order] = mid_ranks[inverse]
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def auc_interval(auc: float, n_pos: int, n_neg: int) -> tuple[float, float]:
    """The 95% interval of an ROC-AUC (Hanley and McNeil, 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (
        n_pos * n_neg
    )
    half = 1.96 * math.sqrt(max(var, 0.0))
    return auc - half, auc + half


def bootstrap_gain(
    labels: np.ndarray, current: np.ndarray, adapted: np.ndarray, resamples: int, seed: int = 0
) -> float:
    """The 5th percentile of the AUC gain over paired resamples of the held-out decisions."""
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(resamples):
        pick = rng.integers(0, len(labels), len(labels))
        y = labels[pick]
        if y.min() == y.max():
            continue
        gains.append(roc_auc(y, adapted[pick]) - roc_auc(y, current[pick]))
    return float(np.percentile(gains, 5)) if gains else float("nan")


def policy_shares(
    scores: Sequence[Mapping[str, float]], labels: np.ndarray, policy: Policy
) -> dict[str, float]:
    """At the site's policy (its thresholds on these scores alone): the share of rejected
    comments it would publish, and of approved comments it would hold or reject."""
    published = np.array([decide(s, policy).status == "approved" for s in scores])
    rejected = labels > 0.5
    return {
        "rejected_published": _share(published[rejected]),
        "approved_held": _share(~published[~rejected]),
    }


def _share(flags: np.ndarray) -> float:
    return round(float(flags.mean()), 4) if len(flags) else float("nan")


def count_problem(rejected: int, approved: int, rules: GateRules = DEFAULT_RULES) -> str | None:
    """Why there is not enough to train on, or None."""
    if rejected + approved < rules.min_decisions or min(rejected, approved) < rules.min_per_class:
        return (
            f"the site has {rejected + approved} moderator decisions ({rejected} rejected, {approved} "
            f"approved); a site-adapted model needs at least {rules.min_decisions}, with at least "
            f"{rules.min_per_class} of each"
        )
    return None


@dataclass(frozen=True)
class Rule:
    name: str
    passed: bool
    value: float
    required: str
    text: str


def evaluate(
    *,
    all_labels: np.ndarray,
    shipped_all: np.ndarray,
    held_labels: np.ndarray,
    current_held: np.ndarray,
    adapted_held: np.ndarray,
    current_shares: Mapping[str, float],
    adapted_shares: Mapping[str, float],
    rules: GateRules = DEFAULT_RULES,
) -> dict[str, Any]:
    """The gate's figures, each rule with its verdict, and whether to deploy.

    all_labels/shipped_all: every decision and the shipped model's toxicity on it;
    held_labels/current_held/adapted_held: the held-out decisions with the current model's and
    the head's toxicity; *_shares: policy_shares on the held-out decisions."""
    n_pos = int((all_labels > 0.5).sum())
    shipped_auc = roc_auc(all_labels, shipped_all)
    low, _ = auc_interval(shipped_auc, n_pos, len(all_labels) - n_pos)
    current_auc = roc_auc(held_labels, current_held)
    adapted_auc = roc_auc(held_labels, adapted_held)
    gain = adapted_auc - current_auc
    gain_p5 = bootstrap_gain(held_labels, current_held, adapted_held, rules.bootstrap_resamples)
    published_now, published_then = current_shares["rejected_published"], adapted_shares["rejected_published"]
    held_now, held_then = current_shares["approved_held"], adapted_shares["approved_held"]
    tolerance = rules.share_tolerance
    checks = [
        Rule(
            "labels_agree_with_shipped_model",
            low > 0.5,
            round(low, 4),
            "> 0.5",
            f"the shipped model's ROC-AUC on all {len(all_labels)} decisions is {shipped_auc:.3f} "
            f"(95% interval from {low:.3f}); at or below 0.5 the decisions look random or inverted",
        ),
        Rule(
            "auc_gain",
            gain >= rules.min_auc_gain,
            round(gain, 4),
            f">= {rules.min_auc_gain}",
            f"ROC-AUC on the {len(held_labels)} newest decisions: {current_auc:.3f} now, "
            f"{adapted_auc:.3f} adapted ({gain:+.3f})",
        ),
        Rule(
            "auc_gain_not_luck",
            gain_p5 > 0,
            round(gain_p5, 4),
            "> 0",
            f"5th percentile of the gain over {rules.bootstrap_resamples} resamples: {gain_p5:+.3f}",
        ),
        Rule(
            "rejected_not_more_published",
            published_then <= published_now + tolerance,
            round(published_then, 4),
            f"<= {published_now + tolerance:.4f}",
            f"held-out rejected comments the policy would publish: {published_now:.1%} now, "
            f"{published_then:.1%} adapted",
        ),
        Rule(
            "approved_not_more_held",
            held_then <= held_now + tolerance,
            round(held_then, 4),
            f"<= {held_now + tolerance:.4f}",
            f"held-out approved comments the policy would hold: {held_now:.1%} now, {held_then:.1%} adapted",
        ),
    ]
    deploy = all(rule.passed for rule in checks)
    failed = [rule.name for rule in checks if not rule.passed]
    verdict = (
        f"deployed: ROC-AUC {current_auc:.3f} -> {adapted_auc:.3f} on the newest decisions"
        if deploy
        else "not deployed: " + ", ".join(failed)
    )
    return _finite(
        {
            "deploy": deploy,
            "verdict": verdict,
            "decisions": len(all_labels),
            "rejected": n_pos,
            "approved": len(all_labels) - n_pos,
            "held_out": len(held_labels),
            "shipped_auc_all": round(shipped_auc, 4),
            "current_auc": round(current_auc, 4),
            "adapted_auc": round(adapted_auc, 4),
            "auc_gain": round(gain, 4),
            "current": dict(current_shares),
            "adapted": dict(adapted_shares),
            "rules": [asdict(rule) for rule in checks],
            "thresholds": asdict(rules),
        }
    )


def _finite(value: Any) -> Any:
    """NaN (a class missing from the held-out decisions) as null: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
