"""Scorer speed: comments/s by backend and batch size, single-comment latency, load time, RSS.

    .venv/bin/python bench/scoring.py [--detoxify-checkpoint FILE] [--update-card]

Runs pinned to one core. Each backend runs in a fresh process (so its peak RSS is its own)
and each measurement uses a fresh scorer, so the embedded model's word cache starts cold and
warms up as it would in a new worker.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.scoring.base import Scorer  # noqa: E402

BATCHES = (1, 32, 256)
DATA_DIR = ROOT.parent / "shared" / "data" / "toxicity"


def sample_texts(data_dir: Path, n: int, seed: int = 0,
                 source: str = "civil-comments-spans") -> list[str]:
    """Real comments of one training source (or of all: source "all"), shuffled."""
    from service.scoring.training import data

    df = data.load_sources(data_dir, data.TRAIN_SOURCES if source == "all" else (source,))
    return df["text"].sample(n=min(n, len(df)), random_state=seed).tolist()


def throughput(make: Callable[[], Scorer], texts: Sequence[str], batch: int
               ) -> tuple[float, float]:
    """Comments per second (wall clock, and per CPU second of this process) scoring `texts`
    once in batches of `batch` with a fresh scorer. On a shared machine the wall-clock rate
    depends on the other load; the CPU-time rate much less."""
    scorer = make()
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(texts), batch):
        scorer.score(texts[i : i + batch])
    return (len(texts) / (time.perf_counter() - started),
            len(texts) / max(time.process_time() - cpu, 1e-9))


def latencies(make: Callable[[], Scorer], texts: Sequence[str]) -> np.ndarray:
    """Milliseconds per single-comment call, fresh scorer."""
    scorer = make()
    out = []
    for text in texts:
        started = time.perf_counter()
        scorer.score([text])
        out.append((time.perf_counter() - started) * 1000)
    return np.asarray(out)


def make_scorer(backend: str, path: Path) -> Scorer:
    if backend in ("embedded", "embedded+embedding-stage"):
        from service.scoring.embedded import EmbeddedScorer

        if backend == "embedded":
            return EmbeddedScorer.load(path, embedding_stage=False)
        import torch

        torch.set_num_threads(1)
        scorer = EmbeddedScorer.load(path, embedding_stage=True)
        scorer.score(["warm up"])  # loads the encoder: its load time is not a scoring rate
        return scorer
    import torch

    torch.set_num_threads(1)
    from service.scoring.detoxify_backend import DetoxifyScorer

    return DetoxifyScorer(checkpoint=str(path))


def bench(backend: str, path: Path, texts: Sequence[str], n_latency: int) -> dict:
    """Every figure for one backend; meant to run in its own process."""
    def make() -> Scorer:
        return make_scorer(backend, path)

    started = time.perf_counter()
    make()
    load = time.perf_counter() - started
    row = {"backend": backend, "load_s": load}
    for b in BATCHES:
        row[f"batch_{b}"], row[f"cpu_batch_{b}"] = throughput(make, texts, b)
    lat = latencies(make, texts[-n_latency:])
    row["p50_ms"], row["p99_ms"] = float(np.percentile(lat, 50)), float(np.percentile(lat, 99))
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def bench_cascade(path: Path, texts: Sequence[str], batch: int = 64) -> dict:
    """The cascade (SCORER=embedded+minilm, the configured band) on one thread: comments/s at the
    share of these comments it escalates; meant to run in its own process."""
    import torch

    torch.set_num_threads(1)
    from service.config import load_settings
    from service.scoring.loader import load_scorer

    settings = load_settings({"SCORER": "embedded+minilm", "EMBEDDED_MODEL_PATH": str(path)})
    scorer = load_scorer(settings)
    scorer.score(["warm up"])  # loads the encoder: its load time is not a scoring rate
    started, cpu = time.perf_counter(), time.process_time()
    escalated = 0
    for i in range(0, len(texts), batch):
        escalated += sum(len(s.stages) > 1 for s in scorer.score(texts[i : i + batch]))
    return {"band": scorer.band, "texts": len(texts), "escalated": escalated / len(texts),
            "per_s": len(texts) / (time.perf_counter() - started),
            "per_cpu_s": len(texts) / max(time.process_time() - cpu, 1e-9), "batch": batch,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def cascade_table(row: dict, source: str) -> str:
    return "\n".join([
        "", f"Cascade (SCORER=embedded+minilm, band {row['band']:g}) on {row['texts']:,} real "
        f"comments from {source} in batches of {row['batch']}, one core:", "",
        "| escalated | comments/s | comments/CPU-s | peak RSS MB |", "| ---: | ---: | ---: | ---: |",
        f"| {row['escalated']:.1%} | {row['per_s']:,.0f} | {row['per_cpu_s']:,.0f} | "
        f"{row['peak_rss_mb']:.0f} |", ""])


def table(rows: list[dict], n: int, mean_chars: float, source: str, load: tuple) -> str:
    head = ["backend", *(f"batch {b} (/s)" for b in BATCHES),
            *(f"batch {b} (/CPU-s)" for b in BATCHES), "p50 ms", "p99 ms", "load s",
            "peak RSS MB"]
    lines = [f"{n} real comments from {source} (mean {mean_chars:.0f} characters), one core "
             f"({platform.processor() or platform.machine()}), Python {platform.python_version()}"
             f"; machine load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 "
             f"min, {os.cpu_count()} cores) at the start. /s = wall clock; /CPU-s = per second "
             f"of CPU time this process got (less sensitive to other load).",
             "", "| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for r in rows:
        cells = [r["backend"], *(f"{r[f'batch_{b}']:,.0f}" for b in BATCHES),
                 *(f"{r[f'cpu_batch_{b}']:,.0f}" for b in BATCHES),
                 f"{r['p50_ms']:.3f}", f"{r['p99_ms']:.3f}", f"{r['load_s']:.3f}",
                 f"{r['peak_rss_mb']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "embedded")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--n", type=int, default=10_000, help="comments per measurement")
    parser.add_argument("--source", default="civil-comments-spans",
                        help="training source to sample comments from, or 'all'")
    parser.add_argument("--latency-n", type=int, default=2_000)
    parser.add_argument("--detoxify-checkpoint", type=Path, default=None,
                        help="also bench detoxify with this checkpoint")
    parser.add_argument("--embedding-stage", action="store_true",
                        help="also bench the embedded model with its embedding stage enabled")
    parser.add_argument("--cascade", type=int, default=0, metavar="N",
                        help="also bench the cascade on the first N comments")
    parser.add_argument("--cascade-source", default="wikipedia-cat-large",
                        help="training source of the cascade's comments (its escalated share "
                        "depends on the traffic: Wikipedia talk is mostly civil, like a news site's)")
    parser.add_argument("--update-card", action="store_true",
                        help="write the table into the model's MODEL_CARD.md")
    args = parser.parse_args()

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    load = os.getloadavg()
    texts = sample_texts(args.data_dir, args.n, source=args.source)
    runs = [("embedded", args.model, texts, args.latency_n)]
    if args.embedding_stage:
        runs.append(("embedded+embedding-stage", args.model, texts[:512], 50))
    if args.detoxify_checkpoint:
        runs.append(("detoxify", args.detoxify_checkpoint, texts[:1_000], 200))
    rows = []
    for run in runs:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            rows.append(pool.submit(bench, *run).result())
    out = table(rows, len(texts), float(np.mean([len(t) for t in texts])), args.source, load)
    if args.cascade:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            sample = sample_texts(args.data_dir, args.cascade, source=args.cascade_source)
            out += cascade_table(pool.submit(bench_cascade, args.model, sample).result(), args.cascade_source)
    print(out)
    if args.update_card:
        from service.scoring.training.report import update_card

        update_card(args.model / "MODEL_CARD.md", "bench", out)


if __name__ == "__main__":
    main()
