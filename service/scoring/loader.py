"""Build the configured scorer from settings: the one place that knows every backend.

SCORER names one backend (embedded, minilm, detoxify) or a cascade of two, first+second
(embedded+minilm, embedded+detoxify; see cascade.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .base import Scorer, ScorerError

log = logging.getLogger(__name__)

BACKENDS = ("embedded", "minilm", "detoxify")
DEFAULT_CASCADE_BAND = 0.1


def load_scorer(settings: Mapping[str, Any]) -> Scorer:
    """Load the scorer named by settings["SCORER"] (default: the embedded model).

    Heavy imports (torch, sentence-transformers, detoxify) happen here, never at module import.
    A cascade whose second stage cannot load (no torch, no model files) scores with its first
    stage alone, and says so in the log.
    """
    backend = str(settings.get("SCORER", "embedded")).replace(" ", "")
    stages = backend.split("+")
    if len(stages) == 1:
        return _load_backend(backend, settings)
    if len(stages) != 2:
        raise ScorerError(f"a cascade has two stages (first+second), not {backend!r}")
    first = _load_backend(stages[0], settings)
    try:
        second = _load_backend(stages[1], settings)
    except (ImportError, ScorerError, OSError) as error:
        log.warning(
            "SCORER=%s: the second stage cannot load (%s); scoring with %s alone",
            backend,
            error,
            stages[0],
        )
        return first
    from .cascade import CascadeScorer

    calibrated_for = getattr(second, "calibrated_for", None)
    if calibrated_for and calibrated_for != first.version:
        log.warning(
            "SCORER=%s: %s's calibration was fitted for %s %s, not %s; rerun "
            "`python -m service.scoring.training.embedding_head --calibrate-only`",
            backend,
            stages[1],
            stages[0],
            calibrated_for,
            first.version,
        )
    band = settings.get("SCORING_CASCADE_BAND")
    return CascadeScorer(
        first,
        second,
        band=DEFAULT_CASCADE_BAND if band is None else float(band),
        hold_thresholds=default_hold_thresholds(),
    )


def declared_languages(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The languages the configured scorer covers, known before it loads (a cascade: those both
    stages cover)."""
    from .detoxify_backend import detoxify_languages

    covered: tuple[str, ...] | None = None
    for stage in str(settings.get("SCORER", "embedded")).replace(" ", "").split("+"):
        stage_languages = (
            detoxify_languages(settings.get("DETOXIFY_MODEL", "original")) if stage == "detoxify" else ("en",)
        )
        covered = stage_languages if covered is None else tuple(x for x in covered if x in stage_languages)
    return covered or ()


def multilingual_settings(settings: Mapping[str, Any]) -> dict[str, Any] | None:
    """The settings of the multilingual backend (MULTILINGUAL_SCORER, with its own DETOXIFY_*
    settings), or None when none is configured."""
    backend = str(settings.get("MULTILINGUAL_SCORER") or "").strip()
    if not backend and settings.get("MULTILINGUAL_SCORER_INSTANCE") is None:
        return None
    if backend not in ("", "detoxify"):
        raise ScorerError(f"MULTILINGUAL_SCORER={backend!r}: the multilingual backend is detoxify")
    return {
        **settings,
        "SCORER": "detoxify",
        "DETOXIFY_MODEL": settings.get("MULTILINGUAL_DETOXIFY_MODEL") or "multilingual",
        "DETOXIFY_CHECKPOINT": settings.get("MULTILINGUAL_DETOXIFY_CHECKPOINT") or "",
        "DETOXIFY_CONFIG_PATH": settings.get("MULTILINGUAL_DETOXIFY_CONFIG_PATH") or "",
        "MULTILINGUAL_SCORER": "",
        "MULTILINGUAL_SCORER_INSTANCE": None,
    }


def default_hold_thresholds() -> dict[str, float]:
    """The default policy's hold threshold per label: where the cascade is most careful."""
    from ..moderation.policy import Policy

    return {label: t.hold for label, t in Policy().thresholds.items() if t.hold is not None}


def _load_backend(backend: str, settings: Mapping[str, Any]) -> Scorer:
    if backend == "embedded":
        from .embedded import EmbeddedScorer

        return EmbeddedScorer.load(Path(settings["EMBEDDED_MODEL_PATH"]), embedding_stage=False)
    if backend == "minilm":
        from .embedding_stage import MiniLMScorer

        return MiniLMScorer.load(Path(settings["EMBEDDED_MODEL_PATH"]))
    if backend == "detoxify":
        from .detoxify_backend import DetoxifyScorer

        return DetoxifyScorer(
            model_type=settings.get("DETOXIFY_MODEL", "original"),
            checkpoint=settings.get("DETOXIFY_CHECKPOINT") or None,
            huggingface_config_path=settings.get("DETOXIFY_CONFIG_PATH") or None,
        )
    raise ScorerError(
        f"unknown scorer backend {backend!r}; choose one of {', '.join(BACKENDS)} "
        "or a cascade of two (first+second)"
    )
