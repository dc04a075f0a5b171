"""Evaluation metrics: ROC-AUC / PR-AUC per label, identity-term bias AUCs, span F1.

Plain numpy so `evaluate` needs nothing beyond the runtime's dependencies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..base import LABELS, Span


def _ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse]


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    y = np.asarray(y, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    r = _ranks(np.asarray(score, dtype=float))
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def pr_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Average precision: precision at each distinct threshold, weighted by recall gained."""
    y = np.asarray(y, dtype=bool)
    if not y.any():
        return float("nan")
    order = np.argsort(-np.asarray(score, dtype=float), kind="mergesort")
    s, t = np.asarray(score, dtype=float)[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last index of each tie group
    tp = np.cumsum(t)[last]
    precision = tp / (last + 1)
    recall_gain = np.diff(np.r_[0, tp]) / t.sum()
    return float((precision * recall_gain).sum())


def label_metrics(targets: pd.DataFrame, scores: np.ndarray,
                  labels: Sequence[str] = LABELS) -> dict[str, dict[str, float]]:
    """Per label with both classes present: ROC-AUC, PR-AUC, rows and positives.

    A target >= 0.5 counts as toxic; NaN targets (label unknown for that row) are skipped.
    """
    out = {}
    for j, label in enumerate(LABELS):
        if label not in labels or label not in targets:
            continue
        t = targets[label].to_numpy(dtype=float)
        known = ~np.isnan(t)
        y = t[known] >= 0.5
        if y.all() or not y.any():
            continue
        s = scores[known, j]
        out[label] = {"roc_auc": roc_auc(y, s), "pr_auc": pr_auc(y, s),
                      "rows": int(known.sum()), "positives": int(y.sum())}
    return out


def mean_of(metrics: dict[str, dict[str, float]], key: str) -> float:
    """Mean of one metric over the labels present."""
    vals = [m[key] for m in metrics.values()]
    return float(np.mean(vals)) if vals else float("nan")


def bias_metrics(labels: np.ndarray, scores: np.ndarray, terms: Sequence[str]) -> pd.DataFrame:
    """Per identity term: subgroup AUC, BPSN AUC and BNSP AUC (Borkan et al., 2019).

    BPSN mixes the term's non-toxic rows with the other terms' toxic rows (low = the term
    pulls non-toxic text up); BNSP mixes the term's toxic rows with the others' non-toxic rows.
    """
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    terms = np.asarray(terms)
    rows = []
    for term in sorted(set(terms.tolist())):
        sub = terms == term
        bpsn = (sub & ~y) | (~sub & y)
        bnsp = (sub & y) | (~sub & ~y)
        rows.append({"term": term, "rows": int(sub.sum()),
                     "subgroup_auc": roc_auc(y[sub], s[sub]),
                     "bpsn_auc": roc_auc(y[bpsn], s[bpsn]),
                     "bnsp_auc": roc_auc(y[bnsp], s[bnsp])})
    return pd.DataFrame(rows)


def span_f1(predicted: Iterable[set[int]], gold: Iterable[set[int]]) -> float:
    """SemEval-2021 Task 5: mean over posts of the character-offset F1; two empty sets
    score 1 and one empty set scores 0."""
    scores = []
    for p, g in zip(predicted, gold, strict=True):
        if not p and not g:
            scores.append(1.0)
        elif not p or not g:
            scores.append(0.0)
        else:
            tp = len(p & g)
            scores.append(2 * tp / (len(p) + len(g)))
    return float(np.mean(scores)) if scores else float("nan")


def span_chars(spans: Iterable[Span]) -> set[int]:
    """The character offsets a list of spans covers."""
    return {c for s in spans for c in range(s.start, s.end)}
