"""The built-in word lists: false hits on clean comments, catches of obfuscated words, speed.

    .venv/bin/python bench/wordlists.py [--show 20] [--compare-ref HEAD~1] [--repeat 3]

False hits: comments each source's own labels call clean (civil-comments-spans: no annotator
found it toxic; davidson-2017: class "neither"; olid-2019: NOT; wikipedia-cat-large: label 0;
jigsaw-2018-samples: all six labels 0; bias-madlibs: NOT_BAD) that the banned or the suspect
list matches. The target is under 0.1% of them, over all sources and over the real comments
alone (bias-madlibs is templated sentences). Catches: an obfuscation set written here, each text
hiding a listed word, and a set of innocent words the matcher must not confuse with a listed
one. Speed: both lists matched on every clean comment, one thread, as on the comment path.
--compare-ref runs the matcher of an older commit on the same lists and comments.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.moderation.builtin_words import BUILTIN_BANNED, BUILTIN_SUSPECT  # noqa: E402
from service.moderation.policy import CompiledLists, Policy, match_words  # noqa: E402

DATA_DIR = ROOT.parent / "shared" / "data" / "toxicity"
TARGET = 0.001


def _rows(path: str) -> list[dict[str, str]]:
    with gzip.open(DATA_DIR / path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _civil() -> tuple[list[str], list[str]]:
    """Civil Comments: clean when no annotator marked a span or called it toxic (as
    service/scoring/training/data.py counts an annotator)."""
    comments = _rows("civil-comments-spans/comments.csv.gz")
    spans = {row["annotation"] for row in _rows("civil-comments-spans/spans.csv.gz")}
    toxic_votes: Counter[str] = Counter()
    for row in _rows("civil-comments-spans/annotations.csv.gz"):
        flagged = row["all toxic"] == "True" and row["not toxic"] != "True"
        toxic_votes[row["comment_id"]] += row["annotation"] in spans or flagged
    clean = [r["comment_text"] for r in comments if toxic_votes[r["comment_id"]] == 0]
    toxic = [r["comment_text"] for r in comments if toxic_votes[r["comment_id"]] > 0]
    return clean, toxic


def load() -> dict[str, tuple[list[str], list[str]]]:
    """Per source: (clean texts, toxic texts)."""
    out = {"civil-comments-spans": _civil()}
    rows = _rows("davidson-2017/labeled_data.csv.gz")
    out["davidson-2017"] = (
        [r["tweet"] for r in rows if r["class"] == "2"],
        [r["tweet"] for r in rows if r["class"] != "2"],
    )
    rows = _rows("olid-2019/olid-training.csv.gz")
    out["olid-2019"] = (
        [r["tweet"] for r in rows if r["subtask_a"] == "NOT"],
        [r["tweet"] for r in rows if r["subtask_a"] == "OFF"],
    )
    rows = _rows("wikipedia-cat-large/gc.csv.gz")
    out["wikipedia-cat-large"] = (
        [r["text"] for r in rows if r["label"] == "0"],
        [r["text"] for r in rows if r["label"] != "0"],
    )
    labels = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
    rows = _rows("jigsaw-2018-samples/train.csv.gz")
    out["jigsaw-2018-samples"] = (
        [r["comment_text"] for r in rows if all(r[k] == "0" for k in labels)],
        [r["comment_text"] for r in rows if any(r[k] != "0" for k in labels)],
    )
    rows = _rows("bias-madlibs/bias_madlibs_77k.csv.gz")
    out["bias-madlibs"] = (
        [r["Text"] for r in rows if r["Label"] == "NOT_BAD"],
        [r["Text"] for r in rows if r["Label"] == "BAD"],
    )
    return out


# Each text hides one listed word (the entry it must match).
OBFUSCATIONS: list[tuple[str, str | None]] = [
    # spaced and dotted
    ("you c u n t", "cunt*"),
    ("c.u.n.t", "cunt*"),
    ("c-u-n-t", "cunt*"),
    ("n i g g e r", "nigger*"),
    ("k y s", "kys"),
    ("k.i.l.l yourself", "kill yourself"),
    ("go kill   yourself", "go kill yourself"),
    ("d i c k h e a d", "dickhead*"),
    ("w a n k e r", "wanker*"),
    ("s l u t", "slut"),
    ("what a s h i t h e a d", "shithead*"),
    # digits and symbols for letters
    ("n1gger", "nigger*"),
    ("n!gger", "nigger*"),
    ("k1ke", "kike"),
    ("f@ggot", "faggot*"),
    ("f4gg0t", "faggot*"),
    ("k1ll y0urself", "kill yourself"),
    ("ki11 yourse1f", "kill yourself"),
    ("$lut", "slut"),
    ("s1ut", "slut"),
    ("d1ckhead", "dickhead*"),
    ("wank3r", "wanker*"),
    ("$h1thead", "shithead*"),
    ("m0therfucker", "motherfuck*"),
    ("motherf|_|cker", None),  # "|_|" for "u" is not read: a known miss
    ("c0cksucker", "cocksucker*"),
    ("sk@nk", "skank*"),
    ("you piece of sh1t", "piece of shit"),
    ("i will k1ll you", "i will kill you"),
    ("5ubhuman", "subhuman*"),
    ("f a 6 6 o t", None),  # 6 for g is not read (6 is also b): a known miss
    # repeated letters
    ("cuuuunt", "cunt*"),
    ("niiiiigger", "nigger*"),
    ("faaaggot", "faggot*"),
    ("sluuuuut", "slut"),
    ("wankerrrr", "wanker*"),
    ("motherfuuuucker", "motherfuck*"),
    ("kill yoursellllf", "kill yourself"),
    # case, width, accents, other scripts, invisible characters
    ("CUNT", "cunt*"),
    ("ｃｕｎｔ", "cunt*"),
    ("cünt", "cunt*"),
    ("cunт", "cunt*"),  # Cyrillic te
    ("ѕlut", "slut"),  # Cyrillic dze
    ("c\u200bunt", "cunt*"),
    ("dick\u00adhead", "dickhead*"),
    # several at once
    ("k 1 l l  y o u r s e l f", "kill yourself"),
    ("#killyourself", "kill yourself"),
    ("n 1 g g 3 r", "nigger*"),
    ("$1uuuut", "slut"),
    ("D1CKH3AAAD", "dickhead*"),
]

# Innocent words a careless de-obfuscation confuses with a listed word ("l" read as "i", doubled
# letters read as stretched ones, words inside words), and quoted or everyday uses.
CONFUSABLES: list[str] = [
    "tilt",
    "silt",
    "title",
    "titles",
    "class",
    "classic",
    "passage",
    "assessment",
    "bass",
    "Shiite",
    "shiitake mushrooms",
    "Scunthorpe",
    "cocktail",
    "cockpit",
    "Dick Cheney",
    "Moby Dick",
    "a chink in the armour",
    "fire retardant",
    "bastardized version",
    "Fukushima",
    "grass",
    "assassin",
    "embarrass",
    "document",
    "Sussex",
    "therapist",
    "analytics",
    "cucumber",
    "Penistone",
    "spicy food",
    "spice",
    "Niger",
    "snigger",
    "niggle",
    "Nigeria",
    "titanic",
    "kitsch",
    "cunning",
    "wankel engine",
    "hancock",
    "shuttlecock",
    "peacock",
    "pussycat",
    "stitch",
    "sluice",
    "skill yourself up",
    "kill time",
    "I'll find you a seat",
    "kiss my aunt",
    "hello",
    "shell",
    "hill",
    "ill",
    "spill",
    "skunk",
    "kyiv",
    "keys",
    "slot",
    "slit",
]


def _load_matcher(ref: str):
    """service/moderation/wordlists.py as it was at a git commit."""
    source = subprocess.run(
        ["git", "show", f"{ref}:service/moderation/wordlists.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "wordlists_ref.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("wordlists_ref", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def service_matcher():
    """Both lists as the comment path matches them (one pass over the words for both)."""
    lists = CompiledLists.from_policy(Policy())

    def hits(text: str) -> list:
        banned, suspect = match_words(text, lists)
        return banned + suspect

    return hits


def old_matcher(module):
    banned, suspect = module.WordList(BUILTIN_BANNED), module.WordList(BUILTIN_SUSPECT)

    def hits(text: str) -> list:
        return banned.find(text) + suspect.find(text)

    return hits


def measure(hits, sources, repeat: int, show: int) -> dict:
    per_source, offenders, examples = {}, Counter(), {}
    for source, (clean, toxic) in sources.items():
        false_hits = 0
        for text in clean:
            found = hits(text)
            if found:
                false_hits += 1
                for m in found:
                    offenders[m.entry] += 1
                    examples.setdefault(m.entry, []).append(m.matched)
        caught = sum(1 for text in toxic if hits(text))
        per_source[source] = {
            "clean": len(clean),
            "false_hits": false_hits,
            "toxic": len(toxic),
            "toxic_matched": caught,
        }
    all_clean = sum(s["clean"] for s in per_source.values())
    all_false = sum(s["false_hits"] for s in per_source.values())
    real = {k: v for k, v in per_source.items() if k != "bias-madlibs"}
    real_clean = sum(s["clean"] for s in real.values())
    real_false = sum(s["false_hits"] for s in real.values())

    caught = [(text, entry, [m.entry for m in hits(text)]) for text, entry in OBFUSCATIONS]
    expected = [c for c in caught if c[1] is not None]
    obfuscations_caught = sum(1 for text, entry, got in expected if entry in got)
    confused = [(text, [m.entry for m in hits(text)]) for text in CONFUSABLES]
    confused = [c for c in confused if c[1]]

    texts = [t for clean, _ in sources.values() for t in clean]
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for text in texts:
            hits(text)
        best = min(best, time.perf_counter() - started)
    return {
        "per_source": per_source,
        "clean": all_clean,
        "false_hits": all_false,
        "false_hit_rate": all_false / all_clean,
        "real_clean": real_clean,
        "real_false_hits": real_false,
        "real_false_hit_rate": real_false / real_clean,
        "obfuscations": len(expected),
        "obfuscations_caught": obfuscations_caught,
        "missed": [(t, e) for t, e, got in expected if e not in got],
        "known_misses": [t for t, e, got in caught if e is None and not got],
        "confusables": len(CONFUSABLES),
        "confused": confused,
        "microseconds_per_comment": best / len(texts) * 1e6,
        "mean_chars": sum(map(len, texts)) / len(texts),
        "offenders": [(e, n, examples[e][:5]) for e, n in offenders.most_common(show)],
    }


def report(name: str, r: dict) -> None:
    print(f"\n== {name}")
    print(f"{'source':24} {'clean':>7} {'false hits':>10} {'rate':>8}   {'toxic':>6} {'matched':>8}")
    for source, s in r["per_source"].items():
        rate = s["false_hits"] / s["clean"] if s["clean"] else 0.0
        matched = s["toxic_matched"] / s["toxic"] if s["toxic"] else 0.0
        print(
            f"{source:24} {s['clean']:7d} {s['false_hits']:10d} {rate:8.3%}   {s['toxic']:6d} {matched:8.1%}"
        )
    met = lambda rate: "met" if rate < TARGET else "NOT met"  # noqa: E731
    print(
        f"false-hit rate, all clean comments: {r['false_hits']}/{r['clean']} = {r['false_hit_rate']:.3%}"
        f" (target < {TARGET:.1%}: {met(r['false_hit_rate'])})"
    )
    print(
        f"false-hit rate, real comments (no bias-madlibs): {r['real_false_hits']}/{r['real_clean']}"
        f" = {r['real_false_hit_rate']:.3%} ({met(r['real_false_hit_rate'])})"
    )
    print(f"obfuscations caught: {r['obfuscations_caught']}/{r['obfuscations']}")
    for text, entry in r["missed"]:
        print(f"  missed: {text!r} (should match {entry})")
    if r["known_misses"]:
        print(f"known misses, not counted: {r['known_misses']}")
    print(f"confusable words matched: {len(r['confused'])}/{r['confusables']}")
    for text, entries in r["confused"]:
        print(f"  confused: {text!r} -> {entries}")
    print(
        f"speed: {r['microseconds_per_comment']:.1f} us per comment (mean {r['mean_chars']:.0f} chars,"
        f" both lists, one thread, caches warm) = {1e6 / r['microseconds_per_comment']:,.0f} comments/s"
    )
    if r["offenders"]:
        print("entries with false hits:")
        for entry, n, examples in r["offenders"]:
            print(f"  {n:4d} {entry!r}: {examples}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--show", type=int, default=20, help="entries with the most false hits to list")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs (the best is kept)")
    parser.add_argument("--compare-ref", help="also run the matcher of this git commit")
    args = parser.parse_args()
    sources = load()
    result = measure(service_matcher(), sources, args.repeat, args.show)
    report(f"built-in lists ({len(BUILTIN_BANNED)} banned, {len(BUILTIN_SUSPECT)} suspect entries)", result)
    summary = {k: result[k] for k in ("false_hit_rate", "real_false_hit_rate", "microseconds_per_comment")}
    summary.update(caught=result["obfuscations_caught"], obfuscations=result["obfuscations"])
    if args.compare_ref:
        before = measure(old_matcher(_load_matcher(args.compare_ref)), sources, args.repeat, args.show)
        report(f"the same lists with the matcher of {args.compare_ref}", before)
    print(json.dumps({"benchmark": "wordlists", **summary}))


if __name__ == "__main__":
    main()
