"""The embedded toxicity model: hashed word + character n-gram features, one linear layer.

Runtime needs numpy and the standard library only. The featuriser below is the single
definition of the features: training (service.scoring.training) imports it, so a text is
turned into the same vector when the model learns and when it scores.

A document is a bag of *units*: its normalised words and adjacent word pairs. Each unit has a
unit-length feature vector (a word: the word itself plus its character 3-5-grams; a pair: one
hashed feature); the document vector is the sum of its units' vectors weighted by
(1 + log count) / norm. Because that sum is linear in the units, the scorer caches each unit's
contribution to the six logits and a document's score is a weighted sum of cached rows.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import threading
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .base import LABELS, SPAM_LABEL, ScorerError, Scores, Span
from .spam_model import SpamModel

# ---------------------------------------------------------------- featuriser (shared)

HASH_BITS = 18
N_FEATURES = 1 << HASH_BITS
NGRAM_RANGE = (3, 5)
MAX_NGRAM_WORD = 30  # longer "words" (URLs gone, so mostly spam or unspaced scripts) are cut

# URLs, HTML entities and @mentions are matched so they can be skipped; a word may carry
# *, @, $ or an apostrophe inside it ("f*ck", "a$$", "don't").
TOKEN_RE = re.compile(r"https?://\S+|www\.\S+|&#?\w+;|@\w+|#?\w+(?:[*@$'’]+\w+)*")
# Placeholders the tweet corpora put in place of links and retweets: source artefacts.
_ARTEFACTS = frozenset({"URL", "RT"})
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                       "@": "a", "$": "s"})
_REPEATS = re.compile(r"(.)\1{2,}")
_HAS_ALPHA = re.compile(r"[^\W\d_]")


@functools.lru_cache(maxsize=1 << 17)
def normalise_token(token: str) -> str | None:
    """One raw token -> the word the model sees, or None for tokens it ignores."""
    if token in _ARTEFACTS or token[0] in "@&" or token.startswith(("http", "www.")):
        return None
    word = unicodedata.normalize("NFKC", token.lstrip("#")).casefold()
    if not word:
        return None
    # De-obfuscation: "1d10t" -> "idiot", "stuuuupid" -> "stuupid". Digits alone stay digits.
    if _HAS_ALPHA.search(word):
        word = word.translate(_LEET)
    return _REPEATS.sub(r"\1\1", word)


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """(normalised word, start, end) for every kept token; offsets index the original text."""
    out = []
    for m in TOKEN_RE.finditer(text):
        word = normalise_token(m.group())
        if word:
            out.append((word, m.start(), m.end()))
    return out


def doc_words(text: str) -> list[str]:
    """The normalised words of a text, in order (tokenize without the offsets)."""
    return [w for w in map(normalise_token, TOKEN_RE.findall(text)) if w]


def doc_units(words: Sequence[str]) -> Counter[str]:
    """Count a document's units: its words and its adjacent word pairs ("w1 w2")."""
    units = Counter(words)
    units.update(a + " " + b for a, b in zip(words, words[1:], strict=False))
    return units


def unit_weights(counts: Counter[str]) -> dict[str, float]:
    """Sublinear term frequency, scaled so the document vector has (about) unit length."""
    tf = {u: 1.0 + math.log(c) for u, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in tf.values())) or 1.0
    return {u: v / norm for u, v in tf.items()}


def _hash(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8", "surrogatepass")) & (N_FEATURES - 1)


def unit_features(unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Feature indices and unit-length values of one unit (word or word pair)."""
    if " " in unit:
        return np.array([_hash("b:" + unit)]), np.array([1.0])
    padded = "<" + unit[:MAX_NGRAM_WORD] + ">"
    grams = [padded[i : i + n] for n in range(NGRAM_RANGE[0], NGRAM_RANGE[1] + 1)
             for i in range(len(padded) - n + 1)]
    feats = Counter(_hash("c:" + g) for g in grams)
    # The whole word weighs as much as all its n-grams together.
    feats[_hash("w:" + unit)] += math.sqrt(max(len(grams), 1))
    idx = np.fromiter(feats.keys(), dtype=np.int64, count=len(feats))
    val = np.fromiter(feats.values(), dtype=np.float64, count=len(feats))
    return idx, val / np.linalg.norm(val)


_PAIR_SEED = zlib.crc32(b"b:")
_MASK = N_FEATURES - 1


def pair_index(pair: str) -> int:
    """The hashed feature of a word pair ("w1 w2"): same as _hash("b:" + pair)."""
    return zlib.crc32(pair.encode("utf-8", "surrogatepass"), _PAIR_SEED) & _MASK


# ---------------------------------------------------------------- scorer

_N_TF = 64
_TF = [0.0] + [1.0 + math.log(c) for c in range(1, _N_TF)]  # 1 + log(count), small counts
_CACHE_LIMIT = 500_000  # words; the cache is cut back to the shipped vocabulary when full
VOCAB_FILE = "vocab.npz"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


def _neutral_config(meta: dict) -> tuple[frozenset[str], list[int]]:
    """meta["neutral_terms"] = {"terms": [...], "labels": [...]}: words whose contribution
    (and that of any word pair holding them) to those labels is zeroed."""
    cfg = meta.get("neutral_terms") or {}
    terms = frozenset(cfg.get("terms", ()))
    cols = [LABELS.index(lab) for lab in cfg.get("labels", ()) if lab in LABELS]
    return (terms, cols) if terms and cols else (frozenset(), [])


def _one_at_a_time(method):
    """Serialise calls that use the scorer's word cache (request threads explain while the
    batcher scores)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class EmbeddedScorer:
    """Scores texts with the linear model in models/embedded (weights.npz + meta.json, and
    optionally vocab.npz: the precomputed logit rows of the training vocabulary)."""

    name = "embedded"
    labels = LABELS
    # Trained on English comments only (models/embedded/MODEL_CARD.md, Languages).
    languages: tuple[str, ...] = ("en",)

    def __init__(self, weights: np.ndarray, bias: np.ndarray, version: str,
                 meta: dict | None = None) -> None:
        if weights.shape != (N_FEATURES, len(LABELS)) or bias.shape != (len(LABELS),):
            raise ScorerError(f"weights of shape {weights.shape} do not fit this featuriser")
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)
        self.bias = bias.astype(np.float64)
        self.version = version
        self.meta = meta or {}
        self._neutral, self._neutral_cols = _neutral_config(self.meta)
        # word -> row of self._table: the word's (unit-length) contribution to the 6 logits
        self._rows: dict[str, int] = {}
        self._table = np.zeros((1024, len(LABELS)), dtype=np.float64)
        self._shipped = 0  # rows [0, _shipped) come from vocab.npz and are never dropped
        self.stage = None  # optional second stage (embedding_stage.EmbeddingStage)
        self.spam: SpamModel | None = None  # the spam label, when spam.npz/spam.json ship
        self.default_thresholds: dict[str, float] = {}  # label -> hold threshold the model suggests
        # The word cache grows and is trimmed during calls: one call at a time uses it.
        self._lock = threading.RLock()

    # -- files

    def fingerprint(self) -> str:
        """What the cached rows depend on: the weights and the neutral-term setting."""
        cfg = json.dumps(self.meta.get("neutral_terms"), sort_keys=True).encode()
        return hashlib.sha256(self.weights.tobytes() + cfg).hexdigest()[:16]

    @classmethod
    def load(cls, path: Path, embedding_stage: bool | None = None) -> EmbeddedScorer:
        """Load weights.npz and meta.json (and vocab.npz if it fits) from directory `path`.

        embedding_stage: also load the optional sentence-embedding stage
        (embedding_stage.py); None = as the EMBEDDED_EMBEDDING_STAGE environment variable says.
        """
        path = Path(path)
        try:
            with np.load(path / "weights.npz", allow_pickle=False) as npz:
                weights, bias = npz["weights"], npz["bias"]
            meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        except (OSError, KeyError, ValueError) as exc:
            raise ScorerError(f"cannot load the embedded model from {path}: {exc}") from exc
        if tuple(meta.get("labels", ())) != LABELS or meta.get("hash_bits") != HASH_BITS:
            raise ScorerError(f"{path} was trained for other labels or another featuriser")
        cfg = json.dumps(meta.get("neutral_terms"), sort_keys=True).encode()
        digest = hashlib.sha256(weights.tobytes() + bias.tobytes() + cfg).hexdigest()[:12]
        scorer = cls(weights, bias, f"{meta.get('version', '0')}+{digest}", meta)
        scorer._load_vocab(path / VOCAB_FILE)
        if SpamModel.files_exist(path):
            scorer.add_spam(SpamModel.load(path))
        from . import embedding_stage as stage  # numpy only; torch waits until first use

        if embedding_stage is None:
            embedding_stage = stage.enabled_by_environment()
        if embedding_stage:
            scorer.stage = stage.EmbeddingStage.load(path)
            scorer.version += "+emb"
        return scorer

    def add_spam(self, model: SpamModel) -> None:
        """Answer the spam label too (service/scoring/spam_model.py), with its default hold."""
        self.spam = model
        self.labels = (*LABELS, SPAM_LABEL)
        if model.default_hold is not None:
            # Its scores are moved so that the model's suggested hold is the policies' 0.5.
            self.default_thresholds = {SPAM_LABEL: 0.5}
        self.version += f"+spam.{model.fingerprint()}"

    def _load_vocab(self, file: Path) -> None:
        """Preload the word cache; a vocabulary computed for other weights is ignored."""
        if not file.is_file():
            return
        try:
            with np.load(file, allow_pickle=False) as npz:
                if bytes(npz["fingerprint"]).decode() != self.fingerprint():
                    return
                words = bytes(npz["words"]).decode("utf-8", "surrogatepass").split("\n")
                rows = npz["rows"].astype(np.float64)
        except (OSError, KeyError, ValueError):
            return
        if len(words) != len(rows):
            return
        self._rows = dict(zip(words, range(len(words)), strict=True))
        self._table = np.concatenate([rows, np.zeros((1024, len(LABELS)))])
        self._shipped = len(words)

    def save_vocab(self, path: Path, words: Sequence[str]) -> None:
        """Write vocab.npz: the rows of `words` for these weights (read back by load)."""
        words = sorted({w for w in words if w and "\n" not in w and " " not in w})
        rows = np.array([self._word_row(w) for w in words]).reshape(-1, len(LABELS))
        np.savez_compressed(
            Path(path) / VOCAB_FILE,
            words=np.frombuffer("\n".join(words).encode("utf-8", "surrogatepass"), np.uint8),
            rows=rows, fingerprint=np.frombuffer(self.fingerprint().encode(), np.uint8))

    # -- unit contributions

    def _trim_cache(self) -> None:
        # Only between calls: rows handed out during a call must stay valid until it ends.
        if len(self._rows) >= _CACHE_LIMIT:
            keep = self._shipped
            self._rows = {w: r for w, r in self._rows.items() if r < keep}

    def _word_row(self, word: str) -> np.ndarray:
        idx, val = unit_features(word)
        row = val @ self.weights[idx]
        if word in self._neutral:
            row[self._neutral_cols] = 0.0
        return row

    def _pair_row(self, pair: str) -> np.ndarray:
        row = self.weights[pair_index(pair)].astype(np.float64)
        if self._neutral and not self._neutral.isdisjoint(pair.split(" ")):
            row[self._neutral_cols] = 0.0
        return row

    def _add_word(self, word: str) -> int:
        row = len(self._rows)  # rows are 0..n-1: _trim_cache keeps only the first _shipped
        if row >= len(self._table):
            self._table = np.resize(self._table, (2 * len(self._table), len(LABELS)))
        self._table[row] = self._word_row(word)
        self._rows[word] = row
        return row

    def unit_row(self, unit: str) -> np.ndarray:
        """A unit's contribution to the six logits (unit weight 1)."""
        if " " in unit:
            return self._pair_row(unit)
        row = self._rows.get(unit)
        if row is None:
            row = self._add_word(unit)  # may grow the table: index it only afterwards
        return self._table[row]

    # -- Scorer

    @_one_at_a_time
    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Raw logits, shape (len(texts), 6).

        Per text: count its words and pairs, weight them 1 + log(count) and normalise, exactly
        as the training featuriser does; a word's row comes from the cache, a pair's straight
        from the weights. One numpy gather and one bincount per label for the whole batch.
        """
        self._trim_cache()
        rows_get = self._rows.get
        neutral = self._neutral
        crc, seed, mask = zlib.crc32, _PAIR_SEED, _MASK
        log, sqrt = math.log, math.sqrt
        w_rows: list[int] = []
        w_vals: list[float] = []
        p_idx: list[int] = []
        p_vals: list[float] = []
        n_w = [0] * len(texts)  # units per text, to build the doc index with np.repeat
        n_p = [0] * len(texts)
        p_zero: list[int] = []  # positions in p_idx of pairs holding a neutral term
        for i, text in enumerate(texts):
            words = doc_words(text)
            if not words:
                continue
            cw = Counter(words)
            pairs = [a + " " + b for a, b in zip(words, words[1:])]  # noqa: B905
            cp = Counter(pairs)
            nw, npair = len(cw), len(cp)
            if nw == len(words) and npair == len(pairs):  # every unit once: tf = 1
                v = 1.0 / sqrt(nw + npair)
                w_vals += [v] * nw
                p_vals += [v] * npair
            else:
                tw = [_TF[c] if c < _N_TF else 1.0 + log(c) for c in cw.values()]
                tp = [_TF[c] if c < _N_TF else 1.0 + log(c) for c in cp.values()]
                norm = sqrt(sum([t * t for t in tw] + [t * t for t in tp]))
                w_vals += [t / norm for t in tw]
                p_vals += [t / norm for t in tp]
            rows = list(map(rows_get, cw))
            if None in rows:  # words not seen before: compute and cache their rows
                rows = [self._add_word(w) if r is None else r
                        for r, w in zip(rows, cw)]  # noqa: B905
            w_rows += rows
            if neutral and not neutral.isdisjoint(cw):
                base = len(p_idx)
                p_zero += [base + k for k, p in enumerate(cp)
                           if not neutral.isdisjoint(p.split(" "))]
            p_idx += [crc(p.encode("utf-8", "surrogatepass"), seed) & mask for p in cp]
            n_w[i] = nw
            n_p[i] = npair
        out = np.tile(self.bias, (len(texts), 1))
        if w_rows or p_idx:
            contrib = np.concatenate([self._table[w_rows], self.weights[p_idx]])
            if p_zero:
                contrib[np.asarray(p_zero, dtype=np.intp)[:, None] + len(w_rows),
                        self._neutral_cols] = 0.0
            if len(texts) == 1:  # one comment: a vector-matrix product, no doc index
                out[0] += np.asarray(w_vals + p_vals) @ contrib
                return out
            contrib *= np.asarray(w_vals + p_vals)[:, None]
            at = np.arange(len(texts))
            doc = np.concatenate([np.repeat(at, n_w), np.repeat(at, n_p)])
            for j in range(len(LABELS)):
                out[:, j] += np.bincount(doc, weights=contrib[:, j], minlength=len(texts))
        return out

    def score(self, texts: Sequence[str]) -> list[Scores]:
        probs = _sigmoid(self.logits(texts))
        if self.stage is not None:
            probs = self.stage.refine(texts, probs)
        if self.spam is None:
            return [dict(zip(LABELS, p)) for p in probs.tolist()]  # noqa: B905
        spam = self.spam.policy_score(texts).tolist()
        return [dict(zip(LABELS, p)) | {SPAM_LABEL: s}  # noqa: B905
                for p, s in zip(probs.tolist(), spam)]  # noqa: B905

    # -- Explainer

    @_one_at_a_time
    def explain(self, text: str, top_k: int = 3) -> dict[str, list[Span]]:
        """Per label, the top_k words that raised its logit most (positive contributions only).

        A word occurrence gets its word's contribution divided among the word's occurrences,
        plus half of each adjacent pair's contribution, so spans never overlap.
        """
        self._trim_cache()
        tokens = tokenize(text)
        words = [w for w, _, _ in tokens]
        counts = doc_units(words)
        weights = unit_weights(counts)
        contrib = {u: w * self.unit_row(u) for u, w in weights.items()}
        per_token = [contrib[w] / counts[w] for w in words]
        for i in range(len(words) - 1):
            pair = words[i] + " " + words[i + 1]
            share = contrib[pair] / counts[pair] / 2.0
            per_token[i] = per_token[i] + share
            per_token[i + 1] = per_token[i + 1] + share
        out: dict[str, list[Span]] = {}
        for j, label in enumerate(LABELS):
            ranked = sorted(((c[j], i) for i, c in enumerate(per_token) if c[j] > 0),
                            reverse=True)[:top_k]
            out[label] = [Span(tokens[i][1], tokens[i][2], float(c)) for c, i in ranked]
        return out
