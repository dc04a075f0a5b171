"""Train and evaluate the spam model (service/scoring/spam_model.py).

Data: the labelled YouTube comment spam (shared/data/spam: three videos) plus non-spam news
and talk-page comments (civil-comments-spans, wikipedia-cat-large from shared/data/toxicity)
as extra negatives, so that the model learns what ordinary long, link-citing, sometimes rude
news comments look like. The news comments are split once (seeded) into a training part, a
part that sets the hold threshold, and a part that only measures it.

Evaluation leaves one video out: the model trained on the other two videos (and the news
training part) scores the held-out video. The shipped model is trained on all three.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from ..spam_model import (
    N_FEATURES,
    SpamModel,
    doc_units,
    pair_features,
    unit_features,
    unit_hash,
    unit_tf,
)
from . import data, metrics

MODEL_VERSION = "2026.11.1"
VIDEOS = ("psy", "katyperry", "lmfao")
NEWS_SOURCES = ("civil-comments-spans", "wikipedia-cat-large")
NEWS_PARTS = {"train": 0.5, "threshold": 0.25, "test": 0.25}
MAX_HELD_RATE = 0.01  # of news comments held at the default threshold, per source


@dataclass(frozen=True)
class SpamConfig:
    c: float = 4.0  # inverse L2 strength of the logistic regression
    news_weight: float = 0.3  # all news training comments together weigh this x the videos
    news_link_weight: float = 10.0  # a news comment with a link weighs this x another
    seed: int = 0  # of the news split; the fit itself is deterministic


DEFAULT_CONFIG = SpamConfig()
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


# ---------------------------------------------------------------- data


def load_videos(spam_dir: Path) -> pd.DataFrame:
    """text, spam (0/1), video: the YouTube Spam Collection's three videos."""
    frames = []
    for video in VIDEOS:
        df = pd.read_csv(Path(spam_dir) / "youtube-spam-collection" / f"{video}.csv.gz")
        frames.append(
            pd.DataFrame(
                {"text": df["text"].fillna("").astype(str), "spam": df["spam"].astype(int), "video": video}
            )
        )
    return pd.concat(frames, ignore_index=True)


def load_news(toxicity_dir: Path, seed: int) -> pd.DataFrame:
    """text, source, toxic (bool), part (train / threshold / test): ordinary comments, none
    labelled spam, split per source at random."""
    civil = data.load_civil(Path(toxicity_dir) / "civil-comments-spans")
    wiki = data.load_wikipedia(Path(toxicity_dir) / "wikipedia-cat-large")
    df = pd.concat([civil, wiki], ignore_index=True)[["text", "source", "toxicity"]]
    df["toxic"] = df["toxicity"] >= 0.5
    rng = np.random.default_rng(seed)
    df["part"] = ""
    bounds = np.cumsum(list(NEWS_PARTS.values()))
    for _, idx in df.groupby("source").indices.items():
        order = rng.permutation(idx)
        cuts = np.round(bounds * len(order)).astype(int)
        for part, lo, hi in zip(NEWS_PARTS, np.r_[0, cuts[:-1]], cuts, strict=True):
            df.loc[order[lo:hi], "part"] = part
    return df.drop(columns="toxicity")


# ---------------------------------------------------------------- features and fit


def featurise(texts: Sequence[str]) -> sp.csr_matrix:
    """The (len(texts) x N_FEATURES) matrix SpamModel computes implicitly at run time."""
    units: dict[str, int] = {}
    rows, cols, vals = [], [], []
    unit_sq = np.zeros(len(texts))
    hashes: list[int] = []
    lengths = []
    for i, text in enumerate(texts):
        doc = doc_units(text)
        for unit, tf in unit_tf(doc).items():
            rows.append(i)
            cols.append(units.setdefault(unit, len(units)))
            vals.append(tf)
            unit_sq[i] += tf * tf
        hashes += [unit_hash(u) for u in doc]
        lengths.append(len(doc))
    pair_doc, feature, weight, pair_sq = pair_features(hashes, lengths)
    norm = np.sqrt(unit_sq + pair_sq)
    norm[norm == 0] = 1.0
    doc_unit = sp.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(units)))
    feats = [unit_features(u) for u in units]
    indptr = np.cumsum([0] + [len(idx) for idx, _ in feats])
    idx = np.concatenate([i for i, _ in feats]) if feats else np.zeros(0, dtype=np.int64)
    val = np.concatenate([v for _, v in feats]) if feats else np.zeros(0)
    unit_feat = sp.csr_matrix((val, idx, indptr), shape=(len(units), N_FEATURES))
    pairs = sp.csr_matrix((weight, (pair_doc, feature)), shape=(len(texts), N_FEATURES))
    x = sp.diags(1.0 / norm) @ (doc_unit @ unit_feat + pairs)
    x = x.tocsr()
    x.sum_duplicates()
    return x


def fit(
    x: sp.csr_matrix,
    y: np.ndarray,
    is_news: np.ndarray,
    config: SpamConfig,
    has_link: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Logistic regression; spam and non-spam videos' comments weigh half each, the news
    comments (all non-spam) news_weight x the videos' total on top, those with a link
    news_link_weight x more each (few, and the ones a link-happy model gets wrong)."""
    y = np.asarray(y, dtype=int)
    video = ~is_news
    weight = np.zeros(len(y))
    n_spam, n_ham = int((y[video] == 1).sum()), int((y[video] == 0).sum())
    weight[video & (y == 1)] = 0.5 / n_spam
    weight[video & (y == 0)] = 0.5 / n_ham
    if is_news.any():
        weight[is_news] = config.news_weight / is_news.sum()
        if has_link is not None:
            weight[is_news & has_link] *= config.news_link_weight
    weight *= len(y) / weight.sum()  # mean 1: C keeps its usual scale
    model = LogisticRegression(C=config.c, solver="liblinear", max_iter=1000, tol=1e-6)
    model.fit(x, y, sample_weight=weight)
    return model.coef_.ravel().astype(np.float64), float(model.intercept_[0])


# ---------------------------------------------------------------- evaluation


def _rates(scores: np.ndarray, threshold: float) -> float:
    return float((scores >= threshold).mean()) if len(scores) else float("nan")


def choose_threshold(news_scores: dict[str, np.ndarray]) -> float:
    """The lowest threshold that holds at most MAX_HELD_RATE of every source's comments."""
    return float(
        max(np.quantile(s, 1.0 - MAX_HELD_RATE, method="higher") for s in news_scores.values()) + 1e-6
    )


def vocabulary(texts: Sequence[str], min_docs: int = 1) -> list[str]:
    """The units found in at least min_docs of the texts: the shipped warm cache."""
    docs = Counter(chain.from_iterable(set(doc_units(t)) for t in texts))
    return sorted(u for u, n in docs.items() if n >= min_docs)


def run(
    spam_dir: Path, toxicity_dir: Path, config: SpamConfig = DEFAULT_CONFIG, progress: Progress = _quiet
) -> tuple[SpamModel, dict, list[str]]:
    """Leave-one-video-out evaluation, the shipped fit and its threshold; returns the model
    (not yet written), the report (every figure of the model card's spam section) and the
    vocabulary of its training texts (for its warm cache)."""
    started = time.perf_counter()
    videos = load_videos(spam_dir)
    news = load_news(toxicity_dir, config.seed)
    progress(f"loaded {len(videos)} video comments, {len(news)} news comments")
    texts = videos["text"].tolist() + news["text"].tolist()
    x = featurise(texts)
    progress(f"featurised {x.shape[0]} texts, {x.nnz} non-zeros")
    y = np.r_[videos["spam"].to_numpy(), np.zeros(len(news), dtype=int)]
    is_news = np.r_[np.zeros(len(videos), bool), np.ones(len(news), bool)]
    video_of = np.r_[videos["video"].to_numpy(), np.full(len(news), "")]
    part = np.r_[np.full(len(videos), ""), news["part"].to_numpy()]
    source = np.r_[np.full(len(videos), ""), news["source"].to_numpy()]
    toxic = np.r_[np.zeros(len(videos), bool), news["toxic"].to_numpy()]
    news_train = is_news & (part == "train")
    has_link = np.array(["\x01url" in doc_units(t) for t in texts])

    def model_for(train: np.ndarray) -> SpamModel:
        w, b = fit(x[train], y[train], is_news[train], config, has_link[train])
        return SpamModel(w, b)

    def probs(model: SpamModel, mask: np.ndarray) -> np.ndarray:
        return model.score([texts[i] for i in np.flatnonzero(mask)])

    loso: dict[str, dict] = {}
    held_spam: dict[str, np.ndarray] = {}
    for video in VIDEOS:
        model = model_for((video_of != video) & (~is_news | news_train))
        mask = video_of == video
        s, t = probs(model, mask), y[mask] == 1
        held_spam[video] = s[t]
        loso[video] = {
            "rows": int(mask.sum()),
            "spam": int(t.sum()),
            "roc_auc": metrics.roc_auc(t, s),
            "pr_auc": metrics.pr_auc(t, s),
        }
        # how the held-out spam ranks against held-out news comments, not only its own video
        news_test = is_news & (part == "test")
        s_news = probs(model, news_test)
        both = np.r_[s[t], s_news]
        lab = np.r_[np.ones(int(t.sum()), bool), np.zeros(len(s_news), bool)]
        loso[video]["roc_auc_vs_news"] = metrics.roc_auc(lab, both)
        progress(f"left out {video}: ROC-AUC {loso[video]['roc_auc']:.4f} PR-AUC {loso[video]['pr_auc']:.4f}")

    shipped = model_for(~is_news | news_train)
    progress("fitted the shipped model on all three videos")
    threshold_scores = {
        s: probs(shipped, is_news & (part == "threshold") & (source == s)) for s in NEWS_SOURCES
    }
    hold = choose_threshold(threshold_scores)

    held_news = {}
    for s in NEWS_SOURCES:
        for name, sel in (
            ("all", np.ones_like(toxic)),
            ("toxic", toxic),
            ("non-toxic", ~toxic),
            ("with a link", has_link),
        ):
            mask = is_news & (part == "test") & (source == s) & sel
            held_news[f"{s} ({name})"] = {"rows": int(mask.sum()), "held": _rates(probs(shipped, mask), hold)}
    for video in VIDEOS:
        loso[video]["spam_held"] = _rates(held_spam[video], hold)
    report = {
        "version": MODEL_VERSION,
        "config": asdict(config),
        "data": {
            "videos": {v: int((video_of == v).sum()) for v in VIDEOS},
            "news": {
                f"{s} ({p})": int(((source == s) & (part == p)).sum())
                for s in NEWS_SOURCES
                for p in NEWS_PARTS
            },
        },
        "leave_one_video_out": loso,
        "mean_roc_auc": float(np.mean([m["roc_auc"] for m in loso.values()])),
        "mean_pr_auc": float(np.mean([m["pr_auc"] for m in loso.values()])),
        "default_hold": hold,
        "max_held_rate": MAX_HELD_RATE,
        "news_held": held_news,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    shipped.meta = {
        "version": MODEL_VERSION,
        "label": "spam",
        "default_hold": hold,
        "config": asdict(config),
        "rows": int((~is_news | news_train).sum()),
        "mean_loso_roc_auc": report["mean_roc_auc"],
    }
    shipped.version = MODEL_VERSION
    train_texts = [texts[i] for i in np.flatnonzero(~is_news | news_train)]
    return shipped, report, vocabulary(train_texts)


def write(model: SpamModel, report: dict, model_dir: Path, vocabulary: Sequence[str] = ()) -> None:
    """spam.npz + spam.json (the model, with the contributions of `vocabulary`'s units) and
    spam_report.json (its figures) into model_dir."""
    model.save(model_dir, vocabulary)
    (Path(model_dir) / "spam_report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def render(report: dict) -> str:
    """The model card's generated spam section (between <!-- spam:start/end --> markers)."""
    cfg = report["config"]
    lines = [
        f"Version {report['version']}; logistic regression, C = {cfg['c']}, news comments "
        f"weigh {cfg['news_weight']} x the videos' comments (one with a link "
        f"{cfg['news_link_weight']} x another), seed {cfg['seed']}. Generated by "
        "`flask scoring train-spam` (writes `spam.npz`, `spam.json`, `spam_report.json`).",
        "",
        "Leave one video out: trained on the other two videos (and the news training part), "
        "scored on every comment of the held-out video. *vs news*: the held-out video's spam "
        "ranked against the news test part instead of its own video's comments. *held*: the "
        "held-out video's spam at or above the default hold threshold.",
        "",
        "| held-out video | comments | spam | ROC-AUC | PR-AUC | ROC-AUC vs news | held |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for video, m in report["leave_one_video_out"].items():
        lines.append(
            f"| {video} | {m['rows']} | {m['spam']} | {m['roc_auc']:.4f} | "
            f"{m['pr_auc']:.4f} | {m['roc_auc_vs_news']:.4f} | "
            f"{m['spam_held']:.1%} |"
        )
    lines += [
        f"| **mean** | | | **{report['mean_roc_auc']:.4f}** | **{report['mean_pr_auc']:.4f}** | | |",
        "",
        f"**Default hold threshold: {report['default_hold']:.3f}** (`default_hold` in "
        '`spam.json`; `EmbeddedScorer.default_thresholds["spam"]`): the lowest threshold at '
        f"which at most {report['max_held_rate']:.0%} of each news source's *threshold* part "
        "scores as high (shipped model). Share of the *test* part (never trained on, not used "
        "for the threshold) held at it:",
        "",
        "| news comments (test part) | comments | held |",
        "| --- | ---: | ---: |",
    ]
    for name, m in report["news_held"].items():
        lines.append(f"| {name} | {m['rows']} | {m['held']:.2%} |")
    data = report["data"]
    sizes = ", ".join(f"{k}: {v}" for k, v in data["news"].items())
    lines += ["", f"News comment parts (seeded split): {sizes}.", ""]
    return "\n".join(lines)
