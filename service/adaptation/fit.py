"""Train a site's head on its moderators' decisions: numpy only, so the admin API trains in
the service process without the training extra.

The head starts as the current scorer (coefficient 1 on its toxicity logit, 0 elsewhere) and
learns, with L2 penalties, how far this site's decisions depart from it: reweighted base
logits, an intercept (the site's reject rate), and a sparse residual on the hashed features of
the words the site's comments use. Its strength is chosen on the newest fifth of the training
decisions, so the held-out decisions of the gate are never looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..scoring.base import LABELS
from ..scoring.embedded import unit_features
from .gate import roc_auc
from .model import TARGET_LABEL, Adapter, base_logits, document_units

# progress(stage, done, total)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class FitConfig:
    # The residual's inverse strength, as in scikit-learn (l2 = 1 / (C * decisions)); the best
    # on the inner validation decisions is kept.
    c_grid: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0)
    # How firmly the base logits' coefficients stay at the scorer's (1 on toxicity, 0 elsewhere).
    dense_l2: float = 1e-3
    max_iter: int = 200
    # The newest share of the training decisions that chooses C.
    validation_share: float = 0.2
    # Residual weights smaller than this are dropped from the stored head.
    min_weight: float = 1e-5


DEFAULT_FIT = FitConfig()


class SparseRows:
    """Documents as rows of hashed features, renumbered to the columns that occur (CSR arrays)."""

    def __init__(self, indptr: np.ndarray, cols: np.ndarray, vals: np.ndarray, keys: np.ndarray):
        self.indptr, self.cols, self.vals, self.keys = indptr, cols, vals, keys
        self.rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))

    @property
    def n_docs(self) -> int:
        return len(self.indptr) - 1

    def take(self, docs: np.ndarray) -> SparseRows:
        starts, ends = self.indptr[docs], self.indptr[docs + 1]
        picked = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)] or [[]])
        picked = picked.astype(np.int64)
        indptr = np.concatenate([[0], np.cumsum(ends - starts)])
        return SparseRows(indptr, self.cols[picked], self.vals[picked], self.keys)

    def dot(self, v: np.ndarray) -> np.ndarray:
        return np.bincount(self.rows, weights=self.vals * v[self.cols], minlength=self.n_docs)

    def tdot(self, g: np.ndarray) -> np.ndarray:
        return np.bincount(self.cols, weights=self.vals * g[self.rows], minlength=len(self.keys))


def featurise(texts: Sequence[str], progress: Progress | None = None) -> SparseRows:
    """The shipped featuriser's document vectors, with each unit's features computed once."""
    known: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    idx_parts: list[np.ndarray] = []
    val_parts: list[np.ndarray] = []
    lengths = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        for unit, weight in document_units(text).items():
            feats = known.get(unit)
            if feats is None:
                feats = known[unit] = unit_features(unit)
            idx_parts.append(feats[0])
            val_parts.append(feats[1] * weight)
            lengths[i] += len(feats[0])
        if progress and (i + 1) % 500 == 0:
            progress("featurise", i + 1, len(texts))
    if progress:
        progress("featurise", len(texts), len(texts))
    hashed = np.concatenate(idx_parts) if idx_parts else np.zeros(0, dtype=np.int64)
    vals = np.concatenate(val_parts) if val_parts else np.zeros(0)
    keys, cols = np.unique(hashed, return_inverse=True)
    return SparseRows(np.concatenate([[0], np.cumsum(lengths)]), cols.ravel(), vals, keys)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    # einsum, not BLAS: OpenBLAS's threaded dot costs ~10x more on a busy 2-core machine.
    return float(np.einsum("i,i", a, b))


def minimise(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    max_iter: int,
    memory: int = 10,
    tol: float = 1e-7,
    on_step: Callable[[int], None] | None = None,
) -> np.ndarray:
    """L-BFGS with a backtracking (Armijo) line search: enough for a smooth convex loss."""
    x = x0.copy()
    f, g = objective(x)
    steps: list[tuple[np.ndarray, np.ndarray, float]] = []
    for it in range(max_iter):
        d = -g
        alphas = []
        for s, y, rho in reversed(steps):
            a = rho * _dot(s, d)
            d = d - a * y
            alphas.append(a)
        if steps:
            s, y, _ = steps[-1]
            d = d * (_dot(s, y) / _dot(y, y))
        else:
            d = d / max(1.0, float(np.abs(g).max()))
        for (s, y, rho), a in zip(steps, reversed(alphas), strict=True):
            d = d + s * (a - rho * _dot(y, d))
        slope = _dot(g, d)
        if slope >= 0:  # not a descent direction: start again from the gradient
            steps.clear()
            d, slope = -g, -_dot(g, g)
        t = 1.0
        while True:
            x_new = x + t * d
            f_new, g_new = objective(x_new)
            if f_new <= f + 1e-4 * t * slope or t < 1e-10:
                break
            t *= 0.5
        s, y = x_new - x, g_new - g
        if _dot(s, y) > 1e-12:
            steps.append((s, y, 1.0 / _dot(s, y)))
            del steps[:-memory]
        converged = f - f_new <= tol * max(1.0, abs(f)) or float(np.abs(g_new).max()) < tol
        x, f, g = x_new, f_new, g_new
        if on_step:
            on_step(it + 1)
        if converged:
            break
    return x


def _fit(
    x: SparseRows,
    logits: np.ndarray,
    labels: np.ndarray,
    l2: float,
    config: FitConfig,
    on_step: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Minimise mean log loss + l2/2 |residual|^2 + dense_l2/2 |coef - start|^2."""
    n_dense = logits.shape[1]
    start = np.zeros(n_dense)
    start[LABELS.index(TARGET_LABEL)] = 1.0
    n = len(labels)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        coef, intercept, v = theta[:n_dense], theta[n_dense], theta[n_dense + 1 :]
        z = logits @ coef + intercept + x.dot(v)
        loss = float(np.mean(np.logaddexp(0.0, z) - labels * z))
        dz = (1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))) - labels) / n
        loss += 0.5 * l2 * _dot(v, v) + 0.5 * config.dense_l2 * _dot(coef - start, coef - start)
        grad = np.concatenate(
            [
                logits.T @ dz + config.dense_l2 * (coef - start),
                [dz.sum()],
                x.tdot(dz) + l2 * v,
            ]
        )
        return loss, grad

    theta0 = np.concatenate([start, [0.0], np.zeros(len(x.keys))])
    theta = minimise(objective, theta0, config.max_iter, on_step=on_step)
    return theta[:n_dense], float(theta[n_dense]), theta[n_dense + 1 :]


@dataclass(frozen=True)
class FitReport:
    c: float  # the residual strength kept
    validation_auc: dict[str, float]  # per C tried, on the newest training decisions
    decisions: int
    weights: int  # residual weights kept


def train_adapter(
    texts: Sequence[str],
    scores: Sequence[Mapping[str, float]],
    labels: Sequence[int],
    *,
    tag: str,
    base_version: str,
    config: FitConfig = DEFAULT_FIT,
    progress: Progress | None = None,
) -> tuple[Adapter, FitReport]:
    """A head trained on decisions in time order (oldest first): 1 = rejected, 0 = approved.
    `scores` are the current scorer's scores of the same texts."""
    y = np.asarray(labels, dtype=np.float64)
    logits = base_logits(scores)
    x = featurise(texts, progress)
    n_val = int(round(len(y) * config.validation_share))
    fit_docs, val_docs = np.arange(len(y) - n_val), np.arange(len(y) - n_val, len(y))
    tried: dict[str, float] = {}
    total_fits = len(config.c_grid) + 1
    if n_val and len(set(y[val_docs])) == 2 and len(set(y[fit_docs])) == 2 and len(config.c_grid) > 1:
        part = x.take(fit_docs)
        for k, c in enumerate(config.c_grid):
            coef, intercept, v = _fit(
                part,
                logits[fit_docs],
                y[fit_docs],
                1.0 / (c * len(fit_docs)),
                config,
                _step_progress(progress, k, total_fits, config.max_iter),
            )
            z = logits[val_docs] @ coef + intercept + x.take(val_docs).dot(v)
            tried[str(c)] = round(roc_auc(y[val_docs], z), 4)
        best = max(config.c_grid, key=lambda c: (tried[str(c)], -c))
    else:
        best = config.c_grid[len(config.c_grid) // 2]
    coef, intercept, v = _fit(
        x,
        logits,
        y,
        1.0 / (best * len(y)),
        config,
        _step_progress(progress, total_fits - 1, total_fits, config.max_iter),
    )
    keep = np.abs(v) >= config.min_weight
    adapter = Adapter(
        tag, base_version, coef, intercept, x.keys[keep].astype(np.int64), v[keep].astype(np.float32)
    )
    return adapter, FitReport(best, tried, len(y), int(keep.sum()))


def _step_progress(progress: Progress | None, fit_no: int, fits: int, max_iter: int):
    if progress is None:
        return None
    return lambda step: progress("fit", fit_no * max_iter + step, fits * max_iter)
