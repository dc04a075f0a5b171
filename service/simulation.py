"""Policy simulation: how decisions on a site's recent comments would change under other thresholds.
It reads stored scores and writes nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from flask import current_app

from .db import Article, Comment, Site
from .extensions import db
from .moderation.policy import CompiledLists, Policy, decide, match_words, merge_policy
from .scoring import heldout
from .sites import checked_policy

MAX_EXAMPLES = 20


def simulate(site: Site, proposed_changes: dict[str, Any], last: int) -> dict[str, Any]:
    current = Policy.from_dict(site.policy)
    # Merged as a PATCH would merge them, so the simulation shows what saving them would do.
    proposed = Policy.from_dict(
        checked_policy(merge_policy(site.policy, proposed_changes), proposed_changes, "policy.")
    )
    lists_now, lists_new = CompiledLists.from_policy(current), CompiledLists.from_policy(proposed)
    rows = db.session.execute(
        sa.select(Comment, Article.premoderated)
        .join(Article, Article.id == Comment.article_id)
        .where(Comment.site_id == site.id, Comment.status != "deleted", Comment.scores.is_not(None))
        .order_by(Comment.id.desc())
        .limit(last)
    ).all()
    before_counts: Counter[str] = Counter()
    after_counts: Counter[str] = Counter()
    changes: Counter[str] = Counter()
    examples = []
    for comment, premoderated in rows:
        banned, suspect = match_words(comment.text, lists_now)
        before = decide(
            comment.scores, current, banned=banned, suspect=suspect, article_premoderated=premoderated
        )
        banned, suspect = match_words(comment.text, lists_new)
        after = decide(
            comment.scores, proposed, banned=banned, suspect=suspect, article_premoderated=premoderated
        )
        before_counts[before.status] += 1
        after_counts[after.status] += 1
        if before.status != after.status:
            changes[f"{before.status}->{after.status}"] += 1
            if len(examples) < MAX_EXAMPLES:
                examples.append(
                    {
                        "id": comment.id,
                        "current": before.status,
                        "proposed": after.status,
                        "reasons": [r.to_dict() for r in after.reasons],
                    }
                )
    return {
        "compared": len(rows),
        "changed": sum(changes.values()),
        "current": dict(before_counts),
        "proposed": dict(after_counts),
        "changes": dict(changes),
        "examples": examples,
        "estimates": estimates(current, proposed),
    }


ESTIMATE_BASIS = (
    "Estimated from the embedded model's evaluation data (held-out comments of public labelled "
    "sources, models/embedded/heldout.json), not from this site's comments: toxic = the "
    "source's toxicity label >= 0.5. Thresholds only: word lists and other rules are left out."
)


def estimates(current: Policy, proposed: Policy) -> dict[str, Any] | None:
    """Share of clean comments held and of toxic comments published under each policy,
    pooled and per source; None when the model ships no held-out figures."""
    held = heldout.load(current_app.config["EMBEDDED_MODEL_PATH"])
    if held is None:
        return None

    def shares(policy: Policy) -> dict[str, Any]:
        per_source = held.shares(policy.thresholds)
        pooled = per_source.pop(heldout.POOLED)
        return {
            "clean_held": pooled["clean_held"],
            "clean_rejected": pooled["clean_rejected"],
            "toxic_published": pooled["toxic_published"],
            "per_source": per_source,
        }

    return {
        "basis": ESTIMATE_BASIS,
        "model_version": held.version,
        "current": shares(current),
        "proposed": shares(proposed),
    }
