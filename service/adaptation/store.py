"""Site-adapted models in the database and on the comment path: the site's decisions, training
and deploying through the gate, rollback, and the per-process cache of each site's active head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..caches import SETTINGS_CACHE_SECONDS, TTLCache
from ..db import AdaptedModel, Comment, ModerationEvent, Site, utcnow
from ..errors import Conflict
from ..extensions import db
from ..moderation.policy import Policy
from ..scoring.base import Scorer, Scores
from ..scoring.engine import ScoringEngine
from .fit import Progress
from .gate import DEFAULT_RULES, GateRules, count_problem
from .model import Adapter, adapted_tag
from .pipeline import adapt, split_by_time

# The newest decisions a head learns from: enough for any site, and training stays seconds.
MAX_DECISIONS = 20_000
SCORE_BATCH = 256
# A moderator's rejection as spam is about spam (the spam label's own model), not toxicity.
NOT_TOXICITY_REASONS = ("spam",)


class NotEnoughDecisions(Conflict):
    code, title = "not-enough-decisions", "Not enough moderator decisions to adapt the model"


class NothingToRollBack(Conflict):
    code, title = "no-adapted-model", "The site has no adapted model to roll back"


# --- the comment path ---------------------------------------------------------------------


def adapter_cache() -> TTLCache[Adapter]:
    return TTLCache(SETTINGS_CACHE_SECONDS, max_entries=10_000)


def _cache() -> TTLCache[Adapter]:
    return current_app.extensions["adapted_models"]


def active_adapter(site_id: int) -> Adapter | None:
    """The site's active head from this process's cache; a site without one is cached too, so
    posting to it reads nothing (a deployment elsewhere applies within SETTINGS_CACHE_SECONDS)."""
    return _cache().get(site_id, lambda: _load_active(site_id))


def _load_active(site_id: int) -> Adapter | None:
    weights = db.session.scalar(
        sa.select(AdaptedModel.weights).where(AdaptedModel.site_id == site_id, AdaptedModel.active)
    )
    return Adapter.from_bytes(weights) if weights is not None else None


def adapt_scores(site_id: int, text: str, scores: Scores | None, scorer: Scorer) -> Scores | None:
    """The comment's scores with the site's active head applied (scores as they were when the
    site has none, or its head was trained on another scorer than the one running now)."""
    if scores is None:
        return None
    adapter = active_adapter(site_id)
    if adapter is None or adapter.base_version != scorer.version:
        return scores
    return adapter.apply(text, scores, getattr(scores, "model_version", scorer.version))


# --- training -----------------------------------------------------------------------------


def site_decisions(site_id: int, limit: int = MAX_DECISIONS) -> list[tuple[str, int]]:
    """(text, 1 rejected / 0 approved) of the site's comments whose latest decision by a
    moderator (not the system) approved or rejected them; oldest comment first."""
    latest = (
        sa.select(ModerationEvent.comment_id, sa.func.max(ModerationEvent.id).label("event_id"))
        .where(ModerationEvent.site_id == site_id, ModerationEvent.actor != "system")
        .group_by(ModerationEvent.comment_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Comment.text, ModerationEvent.to_status)
        .join(latest, latest.c.comment_id == Comment.id)
        .join(ModerationEvent, ModerationEvent.id == latest.c.event_id)
        .where(
            ModerationEvent.to_status.in_(("approved", "rejected")),
            ModerationEvent.reason.notin_(NOT_TOXICITY_REASONS),
            Comment.status != "deleted",
        )
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    ).all()
    return [(text, int(status == "rejected")) for text, status in reversed(rows)]


def _score_all(scorer: Scorer, texts: Sequence[str], progress: Progress | None) -> list[Scores]:
    out: list[Scores] = []
    for start in range(0, len(texts), SCORE_BATCH):
        out += scorer.score(list(texts[start : start + SCORE_BATCH]))
        if progress:
            progress("score", len(out), len(texts))
    return out


def train_site_model(
    site: Site,
    engine: ScoringEngine,
    actor: str,
    *,
    rules: GateRules = DEFAULT_RULES,
    progress: Progress | None = None,
) -> AdaptedModel:
    """Train a head on the site's decisions, judge it against the current model on the newest
    decisions, store it with the gate's figures and make it active if the gate says so."""
    decisions = site_decisions(site.id)
    rejected = sum(label for _, label in decisions)
    problem = count_problem(rejected, len(decisions) - rejected, rules)
    if problem:
        raise NotEnoughDecisions(
            problem,
            decisions=len(decisions),
            rejected=rejected,
            approved=len(decisions) - rejected,
            required=rules.min_decisions,
            required_per_class=rules.min_per_class,
        )
    scorer = engine.scorer
    texts = [text for text, _ in decisions]
    shipped = _score_all(scorer, texts, progress)
    cut = split_by_time(len(texts), rules)
    current = _current_scores(site.id, texts[cut:], shipped[cut:], scorer)
    number = (
        db.session.scalar(sa.select(sa.func.max(AdaptedModel.number)).where(AdaptedModel.site_id == site.id))
        or 0
    ) + 1
    result = adapt(
        texts,
        [label for _, label in decisions],
        shipped,
        current,
        Policy.from_dict(site.policy),
        tag=adapted_tag(site.slug, number),
        base_version=scorer.version,
        rules=rules,
        progress=progress,
    )
    deploy = bool(result.evaluation["deploy"])
    if deploy:
        db.session.execute(
            sa.update(AdaptedModel)
            .where(AdaptedModel.site_id == site.id, AdaptedModel.active)
            .values(active=False)
        )
    model = AdaptedModel(
        site_id=site.id,
        number=number,
        name=scorer.name,
        version=result.adapter.version,
        base_version=scorer.version,
        deployed=deploy,
        active=deploy,
        evaluation=result.evaluation,
        weights=result.adapter.to_bytes(),
        created_by=actor,
    )
    db.session.add(model)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("another adaptation of this site finished first; read it, or adapt again") from None
    _cache().invalidate([site.id])
    current_app.extensions["settings_version"].announce()
    return model


def _current_scores(
    site_id: int, texts: Sequence[str], shipped: Sequence[Scores], scorer: Scorer
) -> list[Scores]:
    """What new comments get today: the scorer's scores, through the site's active head if any."""
    return [
        adapt_scores(site_id, text, scores, scorer) or scores
        for text, scores in zip(texts, shipped, strict=True)
    ]


# --- rollback and reading -------------------------------------------------------------------


def rollback(site: Site) -> AdaptedModel | None:
    """Retire the active head; the one deployed before it (not itself rolled back) becomes
    active again, else the shipped model scores alone. Returns the newly active head or None."""
    active = db.session.scalar(
        sa.select(AdaptedModel).where(AdaptedModel.site_id == site.id, AdaptedModel.active)
    )
    if active is None:
        raise NothingToRollBack(
            f"no adapted model is active on {site.slug!r}: new comments get the shipped model"
        )
    active.active = False
    active.rolled_back_at = utcnow()
    previous = db.session.scalar(
        sa.select(AdaptedModel)
        .where(
            AdaptedModel.site_id == site.id,
            AdaptedModel.deployed,
            AdaptedModel.rolled_back_at.is_(None),
            AdaptedModel.number < active.number,
        )
        .order_by(AdaptedModel.number.desc())
        .limit(1)
    )
    if previous is not None:
        previous.active = True
    db.session.commit()
    _cache().invalidate([site.id])
    current_app.extensions["settings_version"].announce()
    return previous


def model_view(model: AdaptedModel) -> dict[str, Any]:
    return {
        "number": model.number,
        "name": model.name,
        "version": model.version,
        "base_version": model.base_version,
        "deployed": model.deployed,
        "active": model.active,
        "rolled_back_at": model.rolled_back_at,
        "created_by": model.created_by,
        "created_at": model.created_at,
        "evaluation": model.evaluation,
    }


def site_models(site: Site, scorer: Scorer, limit: int = 20) -> dict[str, Any]:
    """What scores the site's new comments now, and its adapted models, newest first."""
    models = list(
        db.session.execute(
            sa.select(AdaptedModel)
            .where(AdaptedModel.site_id == site.id)
            .order_by(AdaptedModel.number.desc())
            .limit(limit)
        ).scalars()
    )
    active = next((m for m in models if m.active), None)
    if active is None:
        active = db.session.scalar(
            sa.select(AdaptedModel).where(AdaptedModel.site_id == site.id, AdaptedModel.active)
        )
    applies = active is not None and active.base_version == scorer.version
    return {
        "site": site.slug,
        "shipped": {"name": scorer.name, "version": scorer.version},
        "scoring": {"name": scorer.name, "version": active.version if applies else scorer.version},
        "active": model_view(active) if active else None,
        "versions": [model_view(m) for m in models],
    }
