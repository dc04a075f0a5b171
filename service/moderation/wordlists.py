"""Word-list matching that sees through common obfuscations.

Both the text and the list entries are reduced to a canonical form: casefolded, look-alike
letters and l33t digits mapped to one letter, accents dropped, runs of one letter collapsed
("stuuupid" -> "stupid"), and letters spelled out with spaces or dots joined ("i d i o t").
Matching is by whole tokens (word boundaries), so "class" never matches "ass".
An entry ending in "*" matches any word starting with it ("idiot*" matches "idiots").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Look-alikes mapped onto one canonical letter. "l", "1", "|" and "!" all become "i" (both
# in the text and in the lists), since writers swap them to dodge filters.
_CANONICAL = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "!": "i",
        "|": "i",
        "l": "i",
        "3": "e",
        "4": "a",
        "@": "a",
        "5": "s",
        "$": "s",
        "7": "t",
        "+": "t",
        "8": "b",
        "9": "g",
        # Cyrillic and Greek look-alikes of Latin letters.
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "к": "k",
        "м": "m",
        "т": "t",
        "в": "b",
        "н": "h",
        "α": "a",
        "ο": "o",
        "ε": "e",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ρ": "p",
        "τ": "t",
    }
)
_OBFUSCATION_CHARS = "01!|3@45$7+89"
_TOKEN = re.compile(r"[\w" + re.escape(_OBFUSCATION_CHARS) + r"]+")
_EDGE_PUNCTUATION = "!|+"
_REPEATS = re.compile(r"(.)\1*")
# Separators allowed between spelled-out letters: "i d i o t", "i.d.i.o.t", "i-d-i-o-t".
_SPELLED_GAP = re.compile(r"[\s.\-_*]{1,2}")


def canonical(word: str) -> tuple[str, tuple[int, ...]]:
    """The form a word is compared in: its letters with runs collapsed, and each run's length.

    Keeping the run lengths lets "asss" match "ass" while "as" does not.
    """
    word = unicodedata.normalize("NFKD", word.casefold())
    word = "".join(c for c in word if not unicodedata.combining(c))
    # Whole numbers ("2024") are not l33t.
    if not word.isdigit():
        word = word.translate(_CANONICAL)
    runs = [m.group() for m in _REPEATS.finditer(word)]
    return "".join(r[0] for r in runs), tuple(len(r) for r in runs)


@dataclass(frozen=True)
class Token:
    form: str
    runs: tuple[int, ...]
    start: int
    end: int
    # One character followed by a short gap and another lone character: maybe a spelled-out word.
    spelled_on: bool = False


@dataclass(frozen=True)
class WordMatch:
    entry: str
    start: int
    end: int
    matched: str


def tokenize(text: str) -> list[Token]:
    """Canonical tokens with their offsets in the text."""
    raw = [t for m in _TOKEN.finditer(text) if (t := _trim(m.group(), m.start()))]
    tokens = []
    for i, (word, start, end) in enumerate(raw):
        spelled_on = (
            len(word) == 1
            and i + 1 < len(raw)
            and len(raw[i + 1][0]) == 1
            and _SPELLED_GAP.fullmatch(text[end : raw[i + 1][1]]) is not None
        )
        tokens.append(Token(*canonical(word), start, end, spelled_on))
    return tokens


def _trim(word: str, start: int) -> tuple[str, int, int] | None:
    """Drop punctuation that only stands for a letter inside a word ("idiot!" is "idiot")."""
    stripped = word.lstrip(_EDGE_PUNCTUATION)
    start += len(word) - len(stripped)
    stripped = stripped.rstrip(_EDGE_PUNCTUATION)
    return (stripped, start, start + len(stripped)) if stripped else None


class WordList:
    """A compiled list of words and phrases."""

    def __init__(self, entries: list[str] | tuple[str, ...]):
        self._exact: dict[tuple[str, ...], list[tuple[tuple[tuple[int, ...], ...], str]]] = {}
        self._prefixes: list[tuple[tuple[Token, ...], str]] = []
        self.max_words = 1
        for entry in entries:
            entry = entry.strip()
            if not entry:
                continue
            is_prefix = entry.endswith("*")
            words = tuple(tokenize(entry.rstrip("*")))
            if all(len(w.form) == 1 for w in words) and len(words) > 1:
                words = (Token(*canonical("".join(w.form for w in words)), 0, 0),)
            if not words:
                continue
            self.max_words = max(self.max_words, len(words))
            if is_prefix:
                self._prefixes.append((words, entry))
            else:
                forms = tuple(w.form for w in words)
                self._exact.setdefault(forms, []).append((tuple(w.runs for w in words), entry))

    def __bool__(self) -> bool:
        return bool(self._exact or self._prefixes)

    def find(self, text: str) -> list[WordMatch]:
        """Every match in the text, in order, not overlapping."""
        if not self:
            return []
        tokens = tokenize(text)
        matches: list[WordMatch] = []
        i = 0
        while i < len(tokens):
            found = self._match_spelled(tokens, i) or self._match_at(tokens, i)
            if found is None:
                i += 1
                continue
            length, entry = found
            start, end = tokens[i].start, tokens[i + length - 1].end
            matches.append(WordMatch(entry, start, end, text[start:end]))
            i += length
        return matches

    def _match_at(self, tokens: list[Token], i: int) -> tuple[int, str] | None:
        for length in range(min(self.max_words, len(tokens) - i), 0, -1):
            window = tokens[i : i + length]
            forms = tuple(t.form for t in window)
            for runs, entry in self._exact.get(forms, ()):
                if all(_covers(t.runs, r) for t, r in zip(window, runs, strict=True)):
                    return length, entry
            for prefix, entry in self._prefixes:
                if len(prefix) == length and _starts_like(window, prefix):
                    return length, entry
        return None

    def _match_spelled(self, tokens: list[Token], i: int) -> tuple[int, str] | None:
        """Letters spelled out one by one ("a s c u m b a g"): try each run of three or more,
        longest first, from this letter on, as one word."""
        last = i
        while last < len(tokens) and tokens[last].spelled_on:
            last += 1
        for j in range(last, i + 1, -1):
            joined = Token(*canonical("".join(t.form for t in tokens[i : j + 1])), 0, 0)
            found = self._match_at([joined], 0)
            if found is not None:
                return j - i + 1, found[1]
        return None


def _covers(text_runs: tuple[int, ...], entry_runs: tuple[int, ...]) -> bool:
    """Each letter run of the text is at least as long as the entry's: letters repeated, none dropped."""
    return all(t >= e for t, e in zip(text_runs, entry_runs, strict=True))


def _starts_like(window: list[Token], prefix: tuple[Token, ...]) -> bool:
    *whole, last = prefix
    for token, word in zip(window, whole, strict=False):
        if token.form != word.form or not _covers(token.runs, word.runs):
            return False
    token = window[-1]
    n = len(last.form)
    return token.form[:n] == last.form and _covers(token.runs[:n], last.runs)
