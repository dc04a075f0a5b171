"""Build the configured scorer from settings: the one place that knows every backend."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .base import Scorer, ScorerError

BACKENDS = ("embedded", "detoxify")


def load_scorer(settings: Mapping[str, Any]) -> Scorer:
    """Load the backend named by settings["SCORER"] (default: the embedded model).

    Heavy imports (torch, detoxify) happen here, never at module import.
    """
    backend = settings.get("SCORER", "embedded")
    if backend == "embedded":
        from .embedded import EmbeddedScorer

        return EmbeddedScorer.load(
            Path(settings["EMBEDDED_MODEL_PATH"]),
            embedding_stage=bool(settings.get("EMBEDDED_EMBEDDING_STAGE", False)),
        )
    if backend == "detoxify":
        from .detoxify_backend import DetoxifyScorer

        return DetoxifyScorer(
            model_type=settings.get("DETOXIFY_MODEL", "original"),
            checkpoint=settings.get("DETOXIFY_CHECKPOINT") or None,
            huggingface_config_path=settings.get("DETOXIFY_CONFIG_PATH") or None,
        )
    raise ScorerError(f"unknown scorer backend {backend!r}; choose one of {', '.join(BACKENDS)}")
