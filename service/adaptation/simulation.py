"""The learning curve of the model card: a labelled source the base model was not trained on,
played as one site's traffic.

The source's comments come in a random order; the first N are the site's decided comments
(the source's label as the moderator's reject or approve), a fixed set of others are the
site's unseen comments. After N = 250, 500, ... decisions, a head is adapted exactly as the
admin API does it (oldest 80% trained on, newest 20% judged by the gate) and both models are
scored on the unseen comments.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..moderation.policy import Policy
from ..scoring.base import Scorer
from .gate import policy_shares, roc_auc
from .model import TARGET_LABEL
from .pipeline import adapt

SIZES = (250, 500, 1000, 2000, 5000)
BATCH = 256


def score_all(scorer: Scorer, texts: Sequence[str]) -> list[dict[str, float]]:
    out: list[dict[str, float]] = []
    for i in range(0, len(texts), BATCH):
        out += scorer.score(texts[i : i + BATCH])
    return out


def learning_curve(
    scorer: Scorer,
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    sizes: Sequence[int] = SIZES,
    unseen: int = 4000,
    seeds: Sequence[int] = (0, 1, 2),
    policy: Policy | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Per number of decisions and per random order (seed): the base model's and the adapted
    head's ROC-AUC on the unseen comments, the gate's verdict, and the policy's shares."""
    policy = policy or Policy()
    y = np.asarray(labels, dtype=np.float64)
    started = time.time()
    say(f"scoring {len(texts)} comments with {scorer.name} {scorer.version}")
    scores = score_all(scorer, list(texts))
    runs = []
    for seed in seeds:
        order = np.random.default_rng(seed).permutation(len(texts))
        test, pool = order[-unseen:], order[:-unseen]
        test_texts = [texts[i] for i in test]
        test_scores = [scores[i] for i in test]
        base_auc = roc_auc(y[test], [s[TARGET_LABEL] for s in test_scores])
        for n in sizes:
            if n > len(pool):
                continue
            decided = pool[:n]
            decided_scores = [scores[i] for i in decided]
            cut = n - max(1, int(round(n * 0.2)))
            t0 = time.time()
            result = adapt(
                [texts[i] for i in decided],
                y[decided],
                decided_scores,
                decided_scores[cut:],
                policy,
                tag=f"site-simulation-{n}",
                base_version=scorer.version,
            )
            p = result.adapter.toxicity(test_texts, test_scores)
            adapted_scores = [{**s, TARGET_LABEL: float(v)} for s, v in zip(test_scores, p, strict=True)]
            run = {
                "seed": seed,
                "decisions": n,
                "base_auc": round(base_auc, 4),
                "adapted_auc": round(roc_auc(y[test], p), 4),
                "deployed": result.evaluation["deploy"],
                "verdict": result.evaluation["verdict"],
                "gate_current_auc": result.evaluation["current_auc"],
                "gate_adapted_auc": result.evaluation["adapted_auc"],
                "c": result.fit.c,
                "weights": result.fit.weights,
                "base_shares": policy_shares(test_scores, y[test], policy),
                "adapted_shares": policy_shares(adapted_scores, y[test], policy),
                "seconds": round(time.time() - t0, 1),
            }
            runs.append(run)
            say(
                f"seed {seed}, {n} decisions: ROC-AUC {run['base_auc']:.3f} -> {run['adapted_auc']:.3f}, "
                f"{run['verdict']} ({run['seconds']} s)"
            )
    return {
        "scorer": {"name": scorer.name, "version": scorer.version},
        "comments": len(texts),
        "rejected_share": round(float(y.mean()), 4),
        "unseen": unseen,
        "seeds": list(seeds),
        "runs": runs,
        "summary": summarise(runs),
        "seconds": round(time.time() - started, 1),
    }


def summarise(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per number of decisions: means over the random orders, and how often the gate deployed."""
    out = []
    for n in sorted({r["decisions"] for r in runs}):
        group = [r for r in runs if r["decisions"] == n]
        base = np.array([r["base_auc"] for r in group])
        adapted = np.array([r["adapted_auc"] for r in group])
        out.append(
            {
                "decisions": n,
                "base_auc": round(float(base.mean()), 4),
                "adapted_auc": round(float(adapted.mean()), 4),
                "gain": round(float((adapted - base).mean()), 4),
                "gain_min": round(float((adapted - base).min()), 4),
                "deployed": sum(r["deployed"] for r in group),
                "orders": len(group),
                "base_rejected_published": round(
                    float(np.mean([r["base_shares"]["rejected_published"] for r in group])), 4
                ),
                "adapted_rejected_published": round(
                    float(np.mean([r["adapted_shares"]["rejected_published"] for r in group])), 4
                ),
                "base_approved_held": round(
                    float(np.mean([r["base_shares"]["approved_held"] for r in group])), 4
                ),
                "adapted_approved_held": round(
                    float(np.mean([r["adapted_shares"]["approved_held"] for r in group])), 4
                ),
            }
        )
    return out


def render(report: dict[str, Any], source: str, base_model: str) -> str:
    """The model card's learning-curve section (Markdown)."""
    lines = [
        f"Simulated site: **{source}** ({report['comments']} comments, {report['rejected_share']:.0%} "
        f"rejected: label >= 0.5), played in a random order as one site's traffic, its labels as the "
        f"moderators' decisions. Base model: {base_model} (`{report['scorer']['version']}`). "
        f"ROC-AUC (toxicity) on {report['unseen']} of the site's comments never decided, mean over "
        f"{len(report['seeds'])} random orders; the head is adapted exactly as "
        "`flask scoring adapt` does (oldest 80% of the decisions trained on, newest 20% judged by the "
        "gate). Gate deployed: in how many of the random orders the head passed every rule. Shares "
        "at the default policy (hold at 0.5) on the unseen comments, with the base model's scores "
        "and with the head's toxicity in their place.",
        "",
        "| decisions | base ROC-AUC | adapted ROC-AUC | gain (worst order) | gate deployed | "
        "rejected published: base / adapted | approved held: base / adapted |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["summary"]:
        lines.append(
            f"| {row['decisions']} | {row['base_auc']:.3f} | **{row['adapted_auc']:.3f}** | "
            f"{row['gain']:+.3f} ({row['gain_min']:+.3f}) | {row['deployed']} of {row['orders']} | "
            f"{row['base_rejected_published']:.1%} / {row['adapted_rejected_published']:.1%} | "
            f"{row['base_approved_held']:.1%} / {row['adapted_approved_held']:.1%} |"
        )
    lines += ["", *_reading(report)]
    return "\n".join(lines) + "\n"


def render_all(reports: dict[str, dict[str, Any]]) -> str:
    """The card's whole section from adaptation_report.json ({source: report}), so a command that
    regenerates the card can keep it without running the simulation again."""
    return "\n".join(
        render(r, source, f"the embedded model trained without {source}") for source, r in reports.items()
    )


def _reading(report: dict[str, Any]) -> list[str]:
    """What the table says against the target, in words."""
    rows = {row["decisions"]: row for row in report["summary"]}
    out = []
    if 2000 in rows:
        gain = rows[2000]["gain"]
        verdict = "met" if gain >= 0.05 else "not met"
        out.append(
            f"After 2,000 decisions the head gains **{gain:+.3f}** ROC-AUC over the base model "
            f"(worst order {rows[2000]['gain_min']:+.3f}; target +0.05: {verdict})."
        )
    last = rows[max(rows)] if rows else None
    if last and last["adapted_approved_held"] > 0.5:
        out.append(
            f"Its toxicity is the probability of a rejection, and {report['rejected_share']:.0%} of this "
            f"site's decisions are rejections: at the default hold of 0.5 the head would hold "
            f"{last['adapted_approved_held']:.0%} of the approved comments, so the gate refuses it "
            "(approved_not_more_held). Such a site needs a higher toxicity threshold before a head helps."
        )
    return out
