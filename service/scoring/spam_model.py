"""The embedded spam model: one logistic output on hashed word, character and link features.

Runtime needs numpy and the standard library only. Unlike the toxicity featuriser (which drops
links and @mentions as noise), spam lives in exactly those cues, so this featuriser keeps
them: a link becomes a link marker, its domain (a unit with its own character n-grams, so an
unseen shop or shortener still resembles the ones seen) and its top-level domain; numbers,
money, runs of "!!!", shouting and symbols become markers too.

A document is a bag of *units* (words, domains and markers) plus its adjacent unit pairs.
Each unit has a unit-length feature vector (a word or domain: itself plus its character
3-5-grams; a marker: one hashed feature); a pair is one feature hashed from its two units'
hashes. The document vector is the sum of its units' and pairs' vectors, each weighted by
(1 + log count), divided by its norm. The score is linear in the units, so the model caches
each unit's contribution to the logit; the pairs of a whole batch are hashed and counted
with numpy. Training (service.scoring.training.spam) featurises with these same functions.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import math
import re
import threading
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from itertools import chain
from pathlib import Path

import numpy as np

from .base import ScorerError

HASH_BITS = 18
N_FEATURES = 1 << HASH_BITS
NGRAM_RANGE = (3, 5)
MAX_NGRAM_WORD = 30
FEATURISER = "spam-v2"  # the shipped model's meta must name this featuriser
WEIGHTS_FILE = "spam.npz"
META_FILE = "spam.json"

# One pass of the regular expression finds every token; what a token is (a link, a word, a
# number, ...) is decided once per distinct token (cached), not once per occurrence.
_TOKEN_RE = re.compile(
    r"\w+(?:(?:[.,'’/-]|://)\w+)*"  # words, numbers and links; bit.ly/xyz stays whole
    r"|[$€£]\s?\d[\d,.]*"  # money
    r"|[@+][^\W\d_]\w*"  # @mentions (and Google+ style +mentions)
    r"|[!?]{2,}|\.{3,}"
    r"|[^\w\s.,;:!?'\"()\[\]/\\&*#%=+<>‘’“”«»–—…-]"  # emoji and other symbols
)
# A bare "name.tld" is a link with a top-level domain from this list, or any top-level domain
# followed by a path ("trojmiasto.pl/x", "youtu.be/x"); so "end.The" with a missing space is
# not a link, nor "went.to".
_TLDS_ALONE = "com|net|org|info|biz|ly|gl|tv|io|xyz|site|online|shop|store|club|top|link"
_BARE_LINK = re.compile(
    rf"[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:(?:{_TLDS_ALONE})(?:/.*)?|[a-z]{{2,6}}/..+)"
)
_PIECE_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+(?:[.,]\d+)*")
_TAG = re.compile(r"<[^<>]{1,40}>")  # <br /> and the like, in pasted or scraped text
_REPEATS = re.compile(r"(.)\1{2,}")
_MARK = "\x01"  # marker units: one hashed feature each, no character n-grams
_DOMAIN = "\x02"  # domain units: character n-grams of the host
# Requests aimed at the reader, the core of comment spam (like-farming, self-promotion,
# follow-for-follow), matched on the casefolded text; each adds one "ask" marker. They let the
# model carry what it learnt from one phrasing ("thumbs up if") to another ("like this
# comment") that a single video's spam may not show. An expression runs only when the text has
# one of its words (and, if given, one of its second words) or one of its raw substrings.
_ASKS = {
    "like": (
        {"like", "likes", "thumb", "thumbs"},
        None,
        ("l4l",),
        r"\blike (?:this|my) (?:comment|post)|\blike if\b"
        r"|\bthumbs? up (?:if|for)\b|\bgive (?:it|this|me) a (?:like|thumbs? up)\b"
        r"|\blikes? (?:4|for) likes?\b|\bl4l\b",
    ),
    "sub": (
        {"subscribe", "sub", "subs"},
        None,
        ("sub4sub",),
        r"\bsub(?:scribe|s)? (?:4|for|to) (?:me|my|sub|us|our)\b|\bsub4sub\b"
        r"|\bsubscribe (?:me|back|please|now)\b|\bplease subscribe\b|\bsubscribe ?!",
    ),
    "promo": (
        {
            "channel",
            "video",
            "videos",
            "page",
            "blog",
            "profile",
            "music",
            "song",
            "songs",
            "track",
            "playlist",
            "cover",
            "covers",
            "website",
            "site",
            "shop",
            "store",
        },
        {"my", "our", "check"},
        (),
        r"\b(?:check|look at|visit|watch|listen to|see|go to) (?:out )?(?:my|our) (?:new )?"
        r"(?:channel|videos?|page|blog|profile|music|songs?|track|playlist|covers?|website"
        r"|site|shop|store)\b|\bcheck (?:out )?(?:this|my) (?:video|channel|playlist)\b"
        r"|\bmy (?:new )?(?:youtube )?channel\b",
    ),
    "follow": ({"follow"}, None, ("f4f",), r"\bfollow (?:me|us|4|for)\b|\bf4f\b"),
}
_ASK_RES = tuple(
    (_MARK + "ask:" + name, frozenset(words), frozenset(second or ()), raw, re.compile(rx))
    for name, (words, second, raw, rx) in _ASKS.items()
)
# An ask marker's feature value (other units have 1): a larger scale lets the L2-penalised
# fit give it a large weight, so a request outweighs the words around it.
ASK_SCALE = 4.0


def clean_text(text: str) -> str:
    """Undo HTML escaping and tags, and drop the byte-order marks scraped comments carry."""
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    return text.replace("\ufeff", "")


def _url_units(url: str) -> list[str]:
    """A link -> link marker, its domain, its top-level domain and whether it has a path."""
    url = url.rstrip(".,;:!?)")
    rest = url.split("://", 1)[-1]
    host, _, path = rest.partition("/")
    host = host.split("@")[-1].split(":")[0].casefold().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    units = [_MARK + "url"]
    if host:
        units += [_DOMAIN + host, _MARK + "tld:" + host.rsplit(".", 1)[-1]]
    if path.strip("/"):
        units.append(_MARK + "path")
    return units


def _word_units(token: str) -> list[str]:
    out = []
    for piece in _PIECE_RE.findall(token):
        if piece[0].isdigit():
            out.append(_MARK + "num" + str(min(sum(c.isdigit() for c in piece), 5)))
            continue
        out.append(_REPEATS.sub(r"\1\1", unicodedata.normalize("NFKC", piece).casefold()))
        if len(piece) >= 3 and piece.isupper():
            out.append(_MARK + "caps")
    return out


@functools.lru_cache(maxsize=1 << 17)
def _token_units(token: str) -> tuple[str, ...]:
    """The units of one token found by _TOKEN_RE (cached: tokens repeat across comments)."""
    first = token[0]
    if first in "hHwW" and token[:8].lower().startswith(("http://", "https://", "www.")):
        return tuple(_url_units(token))
    if first in "$€£":
        return (_MARK + "money",)
    if first in "@+":
        return (_MARK + "mention",)
    if first in "!?" or token.startswith(".."):
        return (_MARK + first * 2,)
    if first.isalnum() or first == "_":
        if ("." in token or "/" in token) and _BARE_LINK.fullmatch(token.casefold()):
            return tuple(_url_units(token))
        return tuple(_word_units(token))
    return (_MARK + "sym:" + token,)


def doc_units(text: str) -> list[str]:
    """A text's units, in order: its ask markers first, then its tokens' units."""
    text = clean_text(text)
    units = list(chain.from_iterable(map(_token_units, _TOKEN_RE.findall(text))))
    present = set(units)
    asks = []
    low = None
    for mark, words, second, raw, rx in _ASK_RES:
        if (words.isdisjoint(present) or (second and second.isdisjoint(present))) and not (
            raw and any(r in text.casefold() for r in raw)
        ):
            continue
        low = text.casefold() if low is None else low
        if rx.search(low):
            asks.append(mark)
    return asks + units if asks else units


def _hash(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8", "surrogatepass")) & (N_FEATURES - 1)


def unit_hash(unit: str) -> int:
    """A unit's 32-bit hash, from which its pairs' features are computed."""
    return zlib.crc32(unit.encode("utf-8", "surrogatepass"))


_PAIR_A = np.uint64(0x9E3779B1)
_PAIR_B = np.uint64(0x85EBCA77)


def pair_features(hashes: np.ndarray, lengths: Sequence[int]) -> tuple[np.ndarray, ...]:
    """Adjacent unit pairs of many documents at once.

    hashes: the unit_hash of every unit of every document, concatenated; lengths: units per
    document. Returns (doc, feature, weight, square) per distinct (document, pair feature):
    weight 1 + log(count), and per document the sum of the squared weights (for its norm).
    """
    h = np.asarray(hashes, dtype=np.uint64)
    lengths = np.asarray(lengths, dtype=np.int64)
    doc = np.repeat(np.arange(len(lengths)), lengths)
    if len(h) < 2:
        empty = np.zeros(0)
        return empty.astype(np.int64), empty.astype(np.int64), empty, np.zeros(len(lengths))
    same_doc = doc[:-1] == doc[1:]
    mixed = (h[:-1] * _PAIR_A + h[1:] * _PAIR_B) >> np.uint64(20)  # wraps mod 2^64: fine
    feature = (mixed & np.uint64(N_FEATURES - 1)).astype(np.int64)[same_doc]
    key, count = np.unique(doc[:-1][same_doc] * N_FEATURES + feature, return_counts=True)
    weight = 1.0 + np.log(count)
    pair_doc = key // N_FEATURES
    square = np.bincount(pair_doc, weights=weight * weight, minlength=len(lengths))
    return pair_doc, key % N_FEATURES, weight, square


def unit_features(unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Feature indices and values of one unit: unit length, except an ask marker's
    ASK_SCALE."""
    if unit.startswith(_MARK):
        value = ASK_SCALE if unit.startswith(_MARK + "ask:") else 1.0
        return np.array([_hash("m:" + unit[1:])]), np.array([value])
    space = "d:" if unit.startswith(_DOMAIN) else "c:"
    body = unit.lstrip(_DOMAIN)
    padded = "<" + body[:MAX_NGRAM_WORD] + ">"
    grams = [
        padded[i : i + n]
        for n in range(NGRAM_RANGE[0], NGRAM_RANGE[1] + 1)
        for i in range(len(padded) - n + 1)
    ]
    feats = Counter(_hash(space + g) for g in grams)
    feats[_hash("w:" + unit)] += math.sqrt(max(len(grams), 1))  # the whole unit weighs as much
    idx = np.fromiter(feats.keys(), dtype=np.int64, count=len(feats))
    val = np.fromiter(feats.values(), dtype=np.float64, count=len(feats))
    return idx, val / np.linalg.norm(val)


def unit_tf(units: Sequence[str]) -> dict[str, float]:
    """A document's distinct units with weight 1 + log(count) (not yet normalised)."""
    return {u: 1.0 + math.log(c) for u, c in Counter(units).items()}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


_CACHE_LIMIT = 200_000  # units; cleared when full (a unit's row is cheap to recompute)


class SpamModel:
    """P(spam) per text, from spam.npz (weights, bias) + spam.json (meta, default_hold)."""

    label = "spam"

    def __init__(self, weights: np.ndarray, bias: float, meta: dict | None = None) -> None:
        if weights.shape != (N_FEATURES,):
            raise ScorerError(f"spam weights of shape {weights.shape} do not fit this featuriser")
        self.weights = np.ascontiguousarray(weights, dtype=np.float64)
        self.bias = float(bias)
        self.meta = meta or {}
        self.version = str(self.meta.get("version", "0"))
        # unit -> (its contribution to the logit, unit_hash)
        self._units: dict[str, tuple[float, int]] = {}
        self._shipped: dict[str, tuple[float, int]] = {}  # the saved vocabulary's entries
        self._lock = threading.Lock()  # the cache may be cleared during a call

    @property
    def default_hold(self) -> float | None:
        """The hold threshold chosen when the model was trained (see MODEL_CARD.md)."""
        value = self.meta.get("default_hold")
        return None if value is None else float(value)

    def fingerprint(self) -> str:
        """A short digest of the weights, for the scorer's version string."""
        data = self.weights.astype(np.float32).tobytes() + np.float64(self.bias).tobytes()
        return hashlib.sha256(data).hexdigest()[:8]

    @classmethod
    def files_exist(cls, path: Path) -> bool:
        return (Path(path) / WEIGHTS_FILE).is_file() and (Path(path) / META_FILE).is_file()

    @classmethod
    def load(cls, path: Path) -> SpamModel:
        """Load spam.npz and spam.json from directory `path`."""
        path = Path(path)
        try:
            with np.load(path / WEIGHTS_FILE, allow_pickle=False) as npz:
                weights, bias = npz["weights"], float(npz["bias"])
                vocab = bytes(npz["vocab"]).decode("utf-8", "surrogatepass") if "vocab" in npz else ""
                rows = npz["vocab_rows"] if "vocab_rows" in npz else np.zeros(0)
            meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        except (OSError, KeyError, ValueError) as exc:
            raise ScorerError(f"cannot load the spam model from {path}: {exc}") from exc
        if meta.get("featuriser") != FEATURISER or meta.get("hash_bits") != HASH_BITS:
            raise ScorerError(f"{path / META_FILE} was trained for another featuriser")
        model = cls(weights, bias, meta)
        units = vocab.split("\n") if vocab else []
        if len(units) == len(rows):
            model._shipped = {u: (float(r), unit_hash(u)) for u, r in zip(units, rows.tolist())}  # noqa: B905
            model._units = dict(model._shipped)
        return model

    def save(self, path: Path, vocabulary: Sequence[str] = ()) -> None:
        """Write spam.npz + spam.json into directory `path`; spam.npz also holds the
        contributions of `vocabulary`'s units (a warm cache for a new process)."""
        path = Path(path)
        weights = self.weights.astype(np.float32)
        shipped = SpamModel(weights.astype(np.float64), self.bias)  # rows as loading will see
        units = sorted({u for u in vocabulary if u and "\n" not in u})
        np.savez_compressed(
            path / WEIGHTS_FILE,
            weights=weights,
            bias=np.float64(self.bias),
            vocab=np.frombuffer("\n".join(units).encode("utf-8", "surrogatepass"), np.uint8),
            vocab_rows=np.array([shipped.unit_row(u) for u in units], dtype=np.float64),
        )
        meta = {**self.meta, "featuriser": FEATURISER, "hash_bits": HASH_BITS}
        (path / META_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")

    def _add_unit(self, unit: str) -> tuple[float, int]:
        idx, val = unit_features(unit)
        entry = self._units[unit] = (float(val @ self.weights[idx]), unit_hash(unit))
        return entry

    def unit_row(self, unit: str) -> float:
        """A unit's contribution to the logit at weight 1."""
        return (self._units.get(unit) or self._add_unit(unit))[0]

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Raw logits, shape (len(texts),): the training featuriser's dot product.

        Per text in Python: its units (cached per token), their counts and cached
        contributions. For the whole batch in numpy: the pairs, hashed from the units' hashes.
        """
        n = len(texts)
        unit_z = [0.0] * n  # sum of (1 + log count) * contribution over distinct units
        unit_sq = [0.0] * n  # sum of (1 + log count) ** 2
        lengths = [0] * n
        hashes: list[int] = []
        log = math.log
        with self._lock:
            if len(self._units) > _CACHE_LIMIT:
                self._units = dict(self._shipped)
            get, add = self._units.get, self._add_unit
            for i, text in enumerate(texts):
                units = doc_units(text)
                if not units:
                    continue
                counts = Counter(units)
                entries = {u: get(u) or add(u) for u in counts}
                if len(counts) == len(units):  # every unit once: weight 1
                    unit_z[i] = sum([e[0] for e in entries.values()])
                    unit_sq[i] = float(len(units))
                else:
                    tf = [1.0 + log(c) for c in counts.values()]
                    unit_z[i] = sum([t * e[0] for t, e in zip(tf, entries.values())])  # noqa: B905
                    unit_sq[i] = sum([t * t for t in tf])
                hashes += [entries[u][1] for u in units]
                lengths[i] = len(units)
        pair_doc, feature, weight, pair_sq = pair_features(hashes, lengths)
        pair_z = np.bincount(pair_doc, weights=weight * self.weights[feature], minlength=n)
        norm = np.sqrt(np.asarray(unit_sq) + pair_sq)
        norm[norm == 0] = 1.0
        return self.bias + (np.asarray(unit_z) + pair_z) / norm

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """P(spam) per text, shape (len(texts),)."""
        return _sigmoid(self.logits(texts))

    def policy_score(self, texts: Sequence[str]) -> np.ndarray:
        """The score the service stores and policies compare: P(spam) moved on the logit scale so
        that the default hold (`default_hold`) lands on 0.5, the hold every label has by default.
        The order of comments, and so every AUC, is unchanged."""
        hold = self.default_hold
        shift = 0.0 if hold is None else float(np.log(hold / (1.0 - hold)))
        return _sigmoid(self.logits(texts) - shift)
