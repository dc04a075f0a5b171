"""Language detection on short comments: accuracy per language and length, speed, memory.

    .venv/bin/python bench/language.py [--english 3000] [--repeat 5] [--compare]

English: real news comments (civil-comments-spans) and Wikipedia talk comments from the shared
data; the share detected as English, as unknown (None: scored as usual) and as another language
(the costly mistake: a default site holds them). Other languages: the comments written for the
tests (tests/languages/samples.py, 16 per language in four length buckets; a small set, so one
comment is 6 points of a language's row and 25 of a bucket's cell). Speed is one thread, one
comment at a time, as on the comment path; memory is the resident size the detector adds to a
fresh process. --compare runs lingua-language-detector's two modes on the same texts (when it is
installed: it is not a dependency of the service).
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.languages.samples import BUCKETS, SAMPLES, bucket_of  # noqa: E402

DATA_DIR = ROOT.parent / "shared" / "data" / "toxicity"
ENGLISH_SOURCES = {
    "civil-comments-spans": ("civil-comments-spans/comments.csv.gz", "comment_text"),
    "wikipedia-cat-large": ("wikipedia-cat-large/gc.csv.gz", "text"),
}


def english_comments(n: int, seed: int = 0) -> dict[str, list[str]]:
    """n real comments of each English source, shuffled."""
    import csv

    out = {}
    for source, (path, column) in ENGLISH_SOURCES.items():
        with gzip.open(DATA_DIR / path, "rt", encoding="utf-8") as handle:
            texts = [row[column] for row in csv.DictReader(handle) if row[column].strip()]
        random.Random(seed).shuffle(texts)
        out[source] = texts[:n]
    return out


def rss_mb() -> float:
    """Resident set size now, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- detectors (each built in its own process, so its memory is its own) ------------------------


def build(name: str) -> Callable[[str], str | None]:
    if name == "py3langid (service)":
        from service.languages.detect import LanguageDetector

        return LanguageDetector().detect
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [
        Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in ("en", *SAMPLES)
    ]
    builder = LanguageDetectorBuilder.from_languages(*languages)
    if name == "lingua low-accuracy":
        builder = builder.with_low_accuracy_mode()
    lingua = builder.build()

    def detect(text: str) -> str | None:
        found = lingua.detect_language_of(text)
        return None if found is None else found.iso_code_639_1.name.lower()

    detect("warm up the models of every language before timing")
    return detect


def measure(name: str, english: dict[str, list[str]], repeat: int) -> dict:
    import numpy as np

    before = rss_mb()
    started = time.perf_counter()
    detect = build(name)
    load_s = time.perf_counter() - started
    added_mb = rss_mb() - before

    results: dict = {"detector": name, "load_s": round(load_s, 2), "memory_mb": round(added_mb, 1)}
    english_rows = {}
    for source, texts in english.items():
        found = [detect(t) for t in texts]
        english_rows[source] = {
            "comments": len(texts),
            "english": sum(f == "en" for f in found) / len(found),
            "unknown": sum(f is None for f in found) / len(found),
            "foreign": sum(f not in (None, "en") for f in found) / len(found),
            "foreign_examples": [t[:60] for t, f in zip(texts, found, strict=True) if f not in (None, "en")][
                :5
            ],
        }
    results["english"] = english_rows

    cells: dict[str, dict[str, list[bool]]] = {}
    wrong = 0
    for language, texts in SAMPLES.items():
        for text in texts:
            found = detect(text)
            wrong += found not in (None, language)
            cells.setdefault(language, {}).setdefault(bucket_of(text), []).append(found == language)
    results["samples"] = {
        language: {bucket: sum(hits) / len(hits) for bucket, hits in by_bucket.items()}
        for language, by_bucket in cells.items()
    }
    every = [hit for by_bucket in cells.values() for hits in by_bucket.values() for hit in hits]
    results["samples_recognised"] = sum(every) / len(every)
    results["samples_mislabelled"] = wrong
    results["samples_count"] = len(every)

    # Speed: the English news comments (real lengths) and the samples, one at a time.
    texts = english["civil-comments-spans"] + [t for ts in SAMPLES.values() for t in ts]
    timings = []
    for _ in range(repeat):
        for text in texts:
            start = time.perf_counter_ns()
            detect(text)
            timings.append(time.perf_counter_ns() - start)
    array = np.array(timings) / 1e6
    results["speed"] = {
        "mean_ms": float(array.mean()),
        "p50_ms": float(np.percentile(array, 50)),
        "p99_ms": float(np.percentile(array, 99)),
        "comments_per_s": float(1000 / array.mean()),
        "mean_chars": statistics.mean(len(t) for t in texts),
    }
    return results


def post_cost(texts: list[str]) -> dict:
    """CPU time of an in-process POST /v1/comments (SQLite, the embedded model), with the
    language detected as the service does and with detection replaced by "unknown", alternating
    post by post so that the machine's load and the growing database fall on both alike."""
    import tempfile

    from flask_migrate import upgrade

    import service.comments
    from service import create_app
    from service.languages import detect_language
    from service.sites import create_site, issue_key

    folder = tempfile.mkdtemp(prefix="bench-language-")
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{folder}/bench.db", "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench"}
    )
    origin = "https://news.example"
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        # Only the language differs between the two runs: no bot, duplicate or velocity rules.
        policy = {"bot_checks": False, "duplicate_window_minutes": 0}
        policy |= {"velocity_per_minute": 10**6, "velocity_per_hour": 10**6}
        create_site({"slug": "bench", "name": "Bench", "allowed_origins": [origin], "policy": policy})
        key = issue_key(None, "embed", "bench")[1]
    app.extensions["scoring"].load()
    detect_language("warm up the detector before timing")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}", "Origin": origin}

    def post(i: int, text: str) -> None:
        article = f"a{i % 50}"
        body = {
            "article": {"id": article, "url": f"{origin}/news/{article}", "title": article},
            "author": {"name": "Reader"},
            "text": text,
        }
        answer = client.post("/v1/comments", json=body, headers=headers)
        assert answer.status_code == 201, answer.get_json()

    for i, text in enumerate(texts[:100]):  # warm the caches and the model's word cache
        post(i, text)
    variants = (("with", detect_language), ("without", lambda text: None))
    # CPU of the whole process (the scoring thread too) and of the request's own thread (where
    # detection runs: less noise from the other threads).
    cpu: dict[str, list[float]] = {"with": [], "without": []}
    own: dict[str, list[float]] = {"with": [], "without": []}
    for i, text in enumerate(texts):
        for name, detect in variants if i % 2 else variants[::-1]:  # each text posted both ways
            service.comments.detect_language = detect
            started, started_own = time.process_time(), time.thread_time()
            post(i, text)
            own[name].append((time.thread_time() - started_own) * 1000)
            cpu[name].append((time.process_time() - started) * 1000)
    service.comments.detect_language = detect_language
    return {
        "posts": len(texts),
        "with_ms": statistics.mean(cpu["with"]),
        "without_ms": statistics.mean(cpu["without"]),
        "with_p50_ms": statistics.median(cpu["with"]),
        "without_p50_ms": statistics.median(cpu["without"]),
        "thread_with_ms": statistics.mean(own["with"]),
        "thread_without_ms": statistics.mean(own["without"]),
        # The same text posted both ways: the median of the differences is robust to the outliers
        # a busy machine adds to either.
        "paired_median_ms": statistics.median(
            a - b for a, b in zip(own["with"], own["without"], strict=True)
        ),
    }


def _run(args: tuple[str, dict[str, list[str]], int]) -> dict:
    return measure(*args)


def print_report(result: dict) -> None:
    print(f"\n## {result['detector']}\n")
    speed = result["speed"]
    print(
        f"load {result['load_s']} s, +{result['memory_mb']} MB resident; "
        f"{speed['comments_per_s']:,.0f} comments/s, mean {speed['mean_ms']:.3f} ms, "
        f"p50 {speed['p50_ms']:.3f} ms, p99 {speed['p99_ms']:.3f} ms (mean {speed['mean_chars']:.0f} chars)\n"
    )
    print("| English source | comments | English | unknown | taken for another language |")
    print("| --- | --- | --- | --- | --- |")
    for source, row in result["english"].items():
        shares = f"{row['english']:.1%} | {row['unknown']:.1%} | {row['foreign']:.2%}"
        print(f"| {source} | {row['comments']} | {shares} |")
    names = [name for name, _, _ in BUCKETS]
    print(f"\n| language | {' | '.join(names)} | all |")
    print(f"| --- | {' | '.join('---' for _ in names)} | --- |")
    for language, by_bucket in result["samples"].items():
        cells = " | ".join(f"{by_bucket.get(name, float('nan')):.0%}" for name in names)
        print(f"| {language} | {cells} | {statistics.mean(by_bucket.values()):.0%} |")
    print(
        f"\nwritten samples: {result['samples_recognised']:.1%} of {result['samples_count']} recognised, "
        f"{result['samples_mislabelled']} given another language's code (the rest: unknown)"
    )
    for source, row in result["english"].items():
        for example in row["foreign_examples"]:
            print(f"  {source} taken for another language: {example!r}")


def render_card(result: dict, post: dict | None) -> str:
    """The model card's Languages section (between its languages markers)."""
    from service.languages import LANGUAGES
    from service.languages.detect import MIN_CONFIDENCE
    from service.scoring.detoxify_backend import detoxify_languages
    from service.scoring.embedded import EmbeddedScorer
    from service.scoring.embedding_stage import MiniLMScorer

    speed = result["speed"]
    lines = [
        "## Languages",
        "",
        "The languages each backend was trained for (the `languages` each scorer declares). A comment in",
        "another language gets that backend's English reading of it: under a site's default policy",
        "(`unsupported_language: hold`) it is held for a moderator with the reason `language_unsupported`",
        "and its language; `publish` scores it as usual; `score` sends it to `MULTILINGUAL_SCORER`",
        "(detoxify's multilingual model, with its own checkpoint settings) when that covers the language.",
        "",
        "| backend | languages |",
        "| --- | --- |",
        f"| embedded (this model) | {', '.join(EmbeddedScorer.languages)} |",
        f"| minilm (the cascade's second stage) | {', '.join(MiniLMScorer.languages)} |",
        f"| detoxify original, unbiased (and -small) | {', '.join(detoxify_languages('original'))} |",
        f"| detoxify multilingual | {', '.join(detoxify_languages('multilingual'))} |",
        "| a cascade first+second | those both stages cover |",
        "",
        f"**Detector** (`service/languages/`): py3langid, choosing among {len(LANGUAGES)} languages "
        f"({', '.join(LANGUAGES)}), naming one only at a probability of {MIN_CONFIDENCE} or more and",
        "none for texts of fewer than two words; a comment with no language is scored as usual.",
        "Generated by `.venv/bin/python bench/language.py --post 1000 --update-card` "
        f"({speed['mean_chars']:.0f} characters on average).",
        "",
        "Speed, one comment at a time on one thread: "
        f"mean {speed['mean_ms']:.3f} ms, p50 {speed['p50_ms']:.3f} ms, p99 {speed['p99_ms']:.3f} ms "
        f"({speed['comments_per_s']:,.0f} comments/s); load {result['load_s']} s "
        f"and +{result['memory_mb']} MB resident per process.",
    ]
    if post:
        extra = post["with_ms"] - post["without_ms"]
        lines.append(
            f"An in-process POST /v1/comments (SQLite, {post['posts']} comments each posted with and without "
            f"detection, alternately) took {post['with_ms']:.2f} ms of CPU with detection and "
            f"{post['without_ms']:.2f} ms without ({extra:+.2f} ms, {extra / post['without_ms']:+.1%}); "
            f"the median difference between the two posts of a comment, in the request's thread: "
            f"{post['paired_median_ms']:+.3f} ms."
        )
    lines += [
        "",
        "English comments (real, from the shared data) detected as English, as unknown, and as another",
        "language (held on a default site):",
        "",
        "| source | comments | English | unknown | another language |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for source, row in result["english"].items():
        shares = f"{row['english']:.1%} | {row['unknown']:.1%} | {row['foreign']:.2%}"
        lines.append(f"| {source} | {row['comments']} | {shares} |")
    names = [name for name, _, _ in BUCKETS]
    lines += [
        "",
        f"Other languages: {result['samples_count']} short comments written for the tests "
        "(`tests/languages/samples.py`, 4 per language and length bucket, so one comment is 25 points of a "
        f"cell): share recognised; {result['samples_mislabelled']} given another language's code, "
        "the rest unknown.",
        "",
        f"| language | {' | '.join(names)} chars | all |",
        f"| --- | {' | '.join('---:' for _ in names)} | ---: |",
    ]
    for language, by_bucket in result["samples"].items():
        cells = " | ".join(f"{by_bucket.get(name, float('nan')):.0%}" for name in names)
        lines.append(f"| {language} | {cells} | {statistics.mean(by_bucket.values()):.0%} |")
    lines.append(f"| **all** | | | | | **{result['samples_recognised']:.1%}** |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--english", type=int, default=3000, help="English comments per source")
    parser.add_argument("--repeat", type=int, default=5, help="timing passes over the texts")
    parser.add_argument("--compare", action="store_true", help="lingua's modes too (if installed)")
    parser.add_argument("--post", type=int, default=0, metavar="N", help="also time N POSTs with and without")
    parser.add_argument("--update-card", action="store_true", help="write the model card's Languages section")
    args = parser.parse_args()

    english = english_comments(args.english)
    cost = None
    if args.post:
        print(f"timing {args.post} POSTs with and without detection ...", file=sys.stderr, flush=True)
        texts = (english["civil-comments-spans"] * (1 + args.post // len(english["civil-comments-spans"])))[
            : args.post
        ]
        cost = post_cost(texts)
        extra = cost["with_ms"] - cost["without_ms"]
        print(
            f"POST /v1/comments in-process CPU: mean {cost['with_ms']:.2f} ms with detection, "
            f"{cost['without_ms']:.2f} ms without ({extra:+.2f} ms, {extra / cost['without_ms']:+.1%}); "
            f"p50 {cost['with_p50_ms']:.2f} / {cost['without_p50_ms']:.2f} ms "
            f"({args.post} texts, each both ways)"
        )
        print(
            f"  the request's thread: mean {cost['thread_with_ms']:.2f} ms with, "
            f"{cost['thread_without_ms']:.2f} ms without; "
            f"median paired difference {cost['paired_median_ms']:+.3f} ms"
        )
    names = ["py3langid (service)"]
    if args.compare:
        try:
            import lingua  # noqa: F401
        except ImportError:
            print("lingua-language-detector is not installed: no comparison", file=sys.stderr)
        else:
            names += ["lingua low-accuracy", "lingua high-accuracy"]
    results = []
    context = multiprocessing.get_context("spawn")
    for name in names:
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        with context.Pool(1) as pool:  # a fresh process each: memory and load time are its own
            results.append(pool.apply(_run, ((name, english, args.repeat),)))
    for result in results:
        print_report(result)
    summary = {
        r["detector"]: {
            "comments_per_s": round(r["speed"]["comments_per_s"]),
            "mean_ms": round(r["speed"]["mean_ms"], 4),
            "p99_ms": round(r["speed"]["p99_ms"], 4),
            "memory_mb": r["memory_mb"],
            "load_s": r["load_s"],
            "english_taken_for_foreign": {s: round(row["foreign"], 5) for s, row in r["english"].items()},
            "samples_recognised": round(r["samples_recognised"], 4),
            "samples_mislabelled": r["samples_mislabelled"],
        }
        for r in results
    }
    print(json.dumps({"benchmark": "language", "results": summary}))
    if args.update_card:
        from service.scoring.training.report import update_card

        card = ROOT / "models" / "embedded" / "MODEL_CARD.md"
        update_card(card, "languages", render_card(results[0], cost))
        print(f"wrote the Languages section of {card}", file=sys.stderr)


if __name__ == "__main__":
    main()
