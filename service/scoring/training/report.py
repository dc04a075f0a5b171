"""The whole evaluation: random split, leave-one-source-out, bias, span F1 -> model card.

Every fit in here starts from one feature matrix of all the data; the fits run in worker
processes (fork) that share it.
"""

from __future__ import annotations

import json
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from ..base import LABELS
from ..embedded import EmbeddedScorer
from . import baseline, data, metrics
from .train import (
    DEFAULT_CONFIG,
    MODEL_VERSION,
    TrainConfig,
    featurise,
    scorer_for,
    train_frame,
)

TEST_FRACTION = 0.2
SPAN_TOP_K = 3
_SHARED: dict = {}  # frame and features, inherited by forked workers


def _fit(train_mask: np.ndarray, config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    df, x = _SHARED["df"], _SHARED["x"]
    return train_frame(df[train_mask].reset_index(drop=True), config, x=x[train_mask], progress=False)


def _fit_baseline(train_mask: np.ndarray, test_mask: np.ndarray) -> np.ndarray:
    """The reference baseline's toxicity logits on the test rows (trained on real rows)."""
    df = _SHARED["df"]
    train_mask = train_mask & (df["source"] != data.AUGMENT_SOURCE).to_numpy()
    texts = df["text"].to_numpy()
    return baseline.fit_predict(
        texts[train_mask], df["toxicity"].to_numpy()[train_mask] >= 0.5, texts[test_mask]
    )


def _toxicity_auc(df: pd.DataFrame, scores: np.ndarray) -> float:
    return metrics.roc_auc(df["toxicity"].to_numpy(dtype=float) >= 0.5, scores)


def _scores(texts: list[str], model: tuple[np.ndarray, np.ndarray], config: TrainConfig) -> np.ndarray:
    """Logits of the run-time scorer of a fit (AUCs need only the order). The scorer, not
    x @ w, so the post-training neutral-term setting is evaluated as it ships."""
    scorer = scorer_for(*model, config)
    return np.vstack(
        [scorer.logits(texts[i : i + 4096]) for i in range(0, len(texts), 4096)]
        or [np.zeros((0, len(LABELS)))]
    )


def run_report(data_dir: Path, model_dir: Path, config: TrainConfig = DEFAULT_CONFIG, jobs: int = 2) -> dict:
    """Compute every figure of the model card; returns them as a dict."""
    data_dir = Path(data_dir)
    df = pd.concat([data.load_sources(data_dir), data.identity_sentences()], ignore_index=True)
    x = featurise(df["text"].tolist())
    _SHARED.update(df=df, x=x)
    real = (df["source"] != data.AUGMENT_SOURCE).to_numpy()
    sources = [s for s in data.TRAIN_SOURCES if (df["source"] == s).any()]
    train_mask, test_mask = data.split_random(df, TEST_FRACTION, config.seed)
    test_mask &= real

    tasks = {"random": train_mask}
    tasks.update({f"loso:{s}": (df["source"] != s).to_numpy() for s in sources})
    reference = {"random": (train_mask, test_mask)}
    reference.update({s: ((df["source"] != s).to_numpy(), (df["source"] == s).to_numpy()) for s in sources})
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = {name: pool.submit(_fit, mask, config) for name, mask in tasks.items()}
        base_futures = {name: pool.submit(_fit_baseline, *masks) for name, masks in reference.items()}
        models = {name: f.result() for name, f in futures.items()}
        base_scores = {name: f.result() for name, f in base_futures.items()}

    report: dict = {
        "version": MODEL_VERSION,
        "config": config.__dict__,
        "test_fraction": TEST_FRACTION,
        "data": _support(df),
    }
    report["random_split"] = {}
    for s in sources:
        m = test_mask & (df["source"] == s).to_numpy()
        report["random_split"][s] = metrics.label_metrics(
            df[m], _scores(df.loc[m, "text"].tolist(), models["random"], config)
        )
    pooled = _scores(df.loc[test_mask, "text"].tolist(), models["random"], config)
    report["random_split_pooled"] = metrics.label_metrics(df[test_mask], pooled)
    report["loso"] = {}
    for s in sources:
        m = (df["source"] == s).to_numpy()
        report["loso"][s] = metrics.label_metrics(
            df[m], _scores(df.loc[m, "text"].tolist(), models[f"loso:{s}"], config)
        )
    held = df[test_mask]
    report["baseline"] = {
        "random_split": {
            s: _toxicity_auc(
                held[held["source"] == s], base_scores["random"][(held["source"] == s).to_numpy()]
            )
            for s in sources
        },
        "random_split_pooled": _toxicity_auc(held, base_scores["random"]),
        "loso": {s: _toxicity_auc(df[(df["source"] == s).to_numpy()], base_scores[s]) for s in sources},
    }

    shipped = EmbeddedScorer.load(model_dir)
    report["bias"] = _bias(data_dir, shipped)
    if "civil-comments-spans" in sources:
        w, b = models["random"]
        held_out = scorer_for(w, b, config, "random-split")
        civil = (df["source"] == "civil-comments-spans").to_numpy()
        test_ids = set(df.loc[test_mask & civil, "id"])
        report["spans"] = _spans(data_dir, held_out, test_ids)
    return report


def _support(df: pd.DataFrame) -> dict:
    """Per source: rows, and per label the rows with a target and how many are >= 0.5."""
    out = {}
    for s, g in df.groupby("source"):
        t = g[list(LABELS)]
        out[s] = {
            "rows": len(g),
            "labels": {
                lab: {"rows": int(t[lab].notna().sum()), "positives": int((t[lab] >= 0.5).sum())}
                for lab in LABELS
            },
        }
    return out


def _bias(data_dir: Path, scorer: EmbeddedScorer) -> dict:
    bias = data.load_bias_madlibs(data_dir)
    logits = scorer.logits(bias["text"].tolist())[:, 0]
    table = metrics.bias_metrics(bias["label"].to_numpy(), logits, bias["term"].tolist())
    worst = table.loc[table["subgroup_auc"].idxmin()]
    return {
        "rows": len(bias),
        "overall_auc": metrics.roc_auc(bias["label"].to_numpy(), logits),
        "mean_subgroup_auc": float(table["subgroup_auc"].mean()),
        "mean_bpsn_auc": float(table["bpsn_auc"].mean()),
        "mean_bnsp_auc": float(table["bnsp_auc"].mean()),
        "worst_term": str(worst["term"]),
        "worst_subgroup_auc": float(worst["subgroup_auc"]),
        "terms": table.to_dict(orient="records"),
    }


def _spans(data_dir: Path, scorer: EmbeddedScorer, ids: set) -> dict:
    """Span F1 on held-out civil comments: the toxicity spans that `explain` returns for a
    comment the model finds toxic (p >= 0.5), against the characters most annotators marked."""
    gold = data.load_span_gold(data_dir / "civil-comments-spans")
    gold = gold[gold["id"].isin(ids)]
    texts = gold["text"].tolist()
    toxic = [s["toxicity"] >= 0.5 for s in scorer.score(texts)]
    pred = [
        metrics.span_chars(scorer.explain(t, SPAN_TOP_K)["toxicity"]) if tox else set()
        for t, tox in zip(texts, toxic, strict=True)
    ]
    gold_sets = [set(g) for g in gold["gold"]]
    return {
        "comments": len(texts),
        "top_k": SPAN_TOP_K,
        "f1": metrics.span_f1(pred, gold_sets),
        "f1_gold_nonempty": metrics.span_f1(
            [p for p, g in zip(pred, gold_sets, strict=True) if g], [g for g in gold_sets if g]
        ),
    }


# ---------------------------------------------------------------- model card


def _fmt(v: float) -> str:
    return "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"


def _label_table(per_source: dict) -> list[str]:
    lines = [
        "| source | label | rows | positives | ROC-AUC | PR-AUC |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for s, per_label in per_source.items():
        for lab, m in per_label.items():
            lines.append(
                f"| {s} | {lab} | {m['rows']} | {m['positives']} | "
                f"{_fmt(m['roc_auc'])} | {_fmt(m['pr_auc'])} |"
            )
        if per_label:
            lines.append(
                f"| {s} | **mean** | | | **{_fmt(metrics.mean_of(per_label, 'roc_auc'))}**"
                f" | **{_fmt(metrics.mean_of(per_label, 'pr_auc'))}** |"
            )
    return lines


def _baseline_table(report: dict) -> list[str]:
    """Toxicity ROC-AUC of this model's fits next to the reference baseline's."""
    base = report["baseline"]

    def auc(per_label: dict) -> float:
        return per_label.get("toxicity", {}).get("roc_auc", float("nan"))

    def cell(ours: float, theirs: float) -> str:
        better = not np.isnan(ours) and not np.isnan(theirs) and ours > theirs
        return f"**{_fmt(ours)}**" if better else _fmt(ours)

    lines = [
        "### Against the reference baseline (toxicity ROC-AUC)",
        "",
        "Baseline (issue 13, `training/baseline.py`, scikit-learn, evaluation only): TF-IDF "
        "of words (1-2-grams, sublinear tf, min_df 2) and of characters (char_wb 2-5, "
        "min_df 3), stacked into one logistic regression (C=4, balanced classes), trained "
        "on the same rows (real sources only). Bold: this model is ahead. "
        'wikipedia-cat-large\'s held-out part stands in for "unseen Wikipedia comments".',
        "",
        "| source | held-out: this model | held-out: baseline | LOSO: this model | LOSO: baseline |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for s, theirs in base["random_split"].items():
        ours_r = auc(report["random_split"].get(s, {}))
        ours_l = auc(report["loso"].get(s, {}))
        lines.append(
            f"| {s} | {cell(ours_r, theirs)} | {_fmt(theirs)} | "
            f"{cell(ours_l, base['loso'][s])} | {_fmt(base['loso'][s])} |"
        )
    ours_p = auc(report["random_split_pooled"])
    lines.append(
        f"| **pooled** (every source's held-out rows together) | "
        f"{cell(ours_p, base['random_split_pooled'])} | "
        f"{_fmt(base['random_split_pooled'])} | | |"
    )
    return lines


def render(report: dict) -> str:
    """The model card's generated section (markdown)."""
    out = [
        "### Data support (rows with a target / rows with target >= 0.5)",
        "",
        "| source | rows | " + " | ".join(LABELS) + " |",
        "| --- | ---: |" + " ---: |" * len(LABELS),
    ]
    for s, d in report["data"].items():
        cells = [f"{v['rows']} / {v['positives']}" if v["rows"] else "masked" for v in d["labels"].values()]
        out.append(f"| {s} | {d['rows']} | " + " | ".join(cells) + " |")
    out += [
        "",
        f"### Random held-out split ({report['test_fraction']:.0%} of each source, "
        f"seed {report['config']['seed']})",
        "",
        *_label_table(report["random_split"]),
        "",
        "### Leave one source out (trained on the other sources, tested on all of it)",
        "",
        *_label_table(report["loso"]),
    ]
    if "baseline" in report:
        out += ["", *_baseline_table(report)]
    b = report["bias"]
    out += [
        "",
        f"### Identity-term bias on bias-madlibs ({b['rows']} sentences, toxicity)",
        "",
        f"Overall AUC {_fmt(b['overall_auc'])}; mean subgroup AUC "
        f"**{_fmt(b['mean_subgroup_auc'])}**, mean BPSN AUC {_fmt(b['mean_bpsn_auc'])}, mean "
        f"BNSP AUC {_fmt(b['mean_bnsp_auc'])}; worst term **{b['worst_term']}** (subgroup "
        f"AUC {_fmt(b['worst_subgroup_auc'])}).",
        "",
        "| term | rows | subgroup AUC | BPSN AUC | BNSP AUC |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for t in sorted(b["terms"], key=lambda r: r["subgroup_auc"]):
        out.append(
            f"| {t['term']} | {t['rows']} | {_fmt(t['subgroup_auc'])} | "
            f"{_fmt(t['bpsn_auc'])} | {_fmt(t['bnsp_auc'])} |"
        )
    if "spans" in report:
        s = report["spans"]
        out += [
            "",
            "### Toxic span F1 (SemEval-2021 Task 5)",
            "",
            f"On the {s['comments']} held-out civil-comments-spans comments: F1 "
            f"**{_fmt(s['f1'])}** (all comments), {_fmt(s['f1_gold_nonempty'])} (comments "
            f"with a majority span). Gold: characters marked by more than half of a "
            f"comment's annotators. Predicted: the top {s['top_k']} `explain` toxicity "
            f"words of comments scored toxic (p >= 0.5), none otherwise.",
        ]
    return "\n".join(out) + "\n"


def update_card(card: Path, name: str, body: str) -> None:
    """Replace the text between <!-- name:start --> and <!-- name:end --> in the card."""
    text = card.read_text(encoding="utf-8")
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise ValueError(f"{card} has no <!-- {name}:start/end --> markers")
    card.write_text(pattern.sub(lambda m: m.group(1) + body + m.group(2), text), encoding="utf-8")


def write_report(report: dict, model_dir: Path) -> None:
    """report.json beside the model, and the generated section of MODEL_CARD.md."""
    (model_dir / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    update_card(model_dir / "MODEL_CARD.md", "report", render(report))
