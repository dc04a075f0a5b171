"""Word-list matching that sees through common obfuscations.

Both the text and the list entries are reduced to a canonical form: casefolded, accents and
invisible characters dropped, digits and symbols that stand for a letter read as that letter
("1d10t", "$tupid"), Cyrillic and Greek look-alikes read as Latin, runs of one letter collapsed
("stuuupid" -> "stupid"), and letters spelled out with spaces or dots joined ("i d i o t").
Real letters are never read as other letters: "tilt" is not "tit" and "silt" is not "slit".
A symbol that could stand for either of two letters ("1", "!" and "|" for "i" or "l") is read
both ways, so "k1ll" and "1d1ot" both match.
Matching is by whole tokens (word boundaries), so "class" never matches "ass".
An entry ending in "*" matches any word starting with it ("idiot*" matches "idiots").
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

# Digits and symbols that stand for one letter, and look-alike letters of other scripts.
_SUBSTITUTES = str.maketrans(
    {
        "0": "o",
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
# Symbols that stand for either of two letters: each reading is tried.
_AMBIGUOUS = {"1": "il", "!": "il", "|": "il"}
# A token with more ambiguous symbols than this is read only as all-"i" and as all-"l", which
# keeps the number of readings small whatever a writer sends.
_MAX_AMBIGUOUS = 4
_OBFUSCATION_CHARS = "01!|3@45$7+89"
# Characters that do not show: dropped inside a word ("id\u200biot").
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_DROP_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE))
_TOKEN = re.compile(r"[\w" + re.escape(_OBFUSCATION_CHARS) + _INVISIBLE + r"]+")
_EDGE_PUNCTUATION = "!|+" + _INVISIBLE
_REPEATS = re.compile(r"(.)\1*")
# Separators allowed between spelled-out letters: "i d i o t", "i.d.i.o.t", "i-d-i-o-t".
_SPELLED_GAP = re.compile(r"[\s.\-_*]{1,2}")

Form = tuple[str, tuple[int, ...]]
_UNSEEN: Any = object()
_INERT, _PHRASE_START, _ENTRY = 0, 1, 2
_MAX_SEEN = 50_000


def _collapse(word: str) -> Form:
    runs = [m.group() for m in _REPEATS.finditer(word)]
    return "".join(r[0] for r in runs), tuple(len(r) for r in runs)


@lru_cache(maxsize=65536)
def readings(word: str) -> tuple[Form, ...]:
    """The forms a word is compared in: its letters with runs collapsed, and each run's length
    (so "asss" matches "ass" while "as" does not). Usually one; one per reading of an
    ambiguous symbol otherwise."""
    word = unicodedata.normalize("NFKD", word.casefold()).translate(_DROP_INVISIBLE)
    word = "".join(c for c in word if not unicodedata.combining(c))
    # Whole numbers ("2024", "101") are not l33t.
    if word.isdigit():
        return (_collapse(word),)
    word = word.translate(_SUBSTITUTES)
    slots = [i for i, c in enumerate(word) if c in _AMBIGUOUS]
    if not slots:
        return (_collapse(word),)
    if len(slots) > _MAX_AMBIGUOUS:
        choices: Iterable[tuple[str, ...]] = [("i",) * len(slots), ("l",) * len(slots)]
    else:
        choices = itertools.product(*(_AMBIGUOUS[word[i]] for i in slots))
    forms: dict[Form, None] = {}
    chars = list(word)
    for choice in choices:
        for slot, letter in zip(slots, choice, strict=True):
            chars[slot] = letter
        forms[_collapse("".join(chars))] = None
    return tuple(forms)


class Token(NamedTuple):
    forms: tuple[Form, ...]
    start: int
    end: int
    text: str
    # One character followed by a short gap and another lone character: maybe a spelled-out word.
    spelled_on: bool = False


@dataclass(frozen=True)
class WordMatch:
    entry: str
    start: int
    end: int
    matched: str


def words_of(text: str) -> list[str]:
    """The raw words of a text, for `WordList.may_match`."""
    return _TOKEN.findall(text)


def tokenize(text: str) -> list[Token]:
    """Canonical tokens with their offsets in the text."""
    raw = [t for m in _TOKEN.finditer(text) if (t := _trim(m.group(), m.start()))]
    tokens = []
    last = len(raw) - 1
    for i, (word, start, end) in enumerate(raw):
        spelled_on = (
            len(word) == 1
            and i < last
            and len(raw[i + 1][0]) == 1
            and _SPELLED_GAP.fullmatch(text[end : raw[i + 1][1]]) is not None
        )
        tokens.append(Token(readings(word), start, end, word, spelled_on))
    return tokens


def _trim(word: str, start: int) -> tuple[str, int, int] | None:
    """Drop punctuation that only stands for a letter inside a word ("idiot!" is "idiot")."""
    if word[0] not in _EDGE_PUNCTUATION and word[-1] not in _EDGE_PUNCTUATION:
        return word, start, start + len(word)
    stripped = word.lstrip(_EDGE_PUNCTUATION)
    start += len(word) - len(stripped)
    stripped = stripped.rstrip(_EDGE_PUNCTUATION)
    return (stripped, start, start + len(stripped)) if stripped else None


class WordList:
    """A compiled list of words and phrases, indexed so a comment costs a few dictionary
    look-ups per word whatever the length of the list."""

    def __init__(self, entries: Iterable[str]):
        # Entries of one word (the common case, looked up by string) and of several (by tuple):
        # forms -> [(their run lengths, entry)]. "word*" entries are keyed by the prefix's form.
        self._exact1: dict[str, list[tuple[tuple[int, ...], str]]] = {}
        self._prefix1: dict[str, list[tuple[tuple[int, ...], str]]] = {}
        self._prefix1_lengths: list[int] = []
        self._exact: dict[tuple[str, ...], list[tuple[tuple[tuple[int, ...], ...], str]]] = {}
        self._prefixes: dict[tuple[tuple[str, ...], str], list[tuple[tuple[tuple[int, ...], ...], str]]] = {}
        self._prefix_lengths: dict[int, list[int]] = {}  # words in the entry -> prefix lengths
        self._first_words: set[str] = set()  # of entries with two words or more
        # Words of comments repeat ("the", "and"): each one's answer is remembered, a bounded number.
        self._seen: dict[Form, str | None] = {}
        self._kinds: dict[str, int] = {}  # raw word -> _INERT, _PHRASE_START or _ENTRY
        self._pairs: set[tuple[str, str]] = set()  # the first two words of each phrase
        self.max_words = 1
        for entry in entries:
            entry = entry.strip()
            if entry and entry.rstrip("*"):
                self._add(entry)
        self._prefix1_lengths = sorted(self._prefix_lengths.pop(1, ()), reverse=True)

    def _add(self, entry: str) -> None:
        is_prefix = entry.endswith("*")
        words = [t.text for t in tokenize(entry.rstrip("*"))]
        if len(words) > 1 and all(len(w) == 1 for w in words):
            words = ["".join(words)]  # an entry written spelled out
        if not words:
            return
        self.max_words = max(self.max_words, len(words))
        if len(words) > 1:
            # A phrase also matches run together: "#killyourself", "k i l l y o u r s e l f".
            self._add_words(["".join(words)], is_prefix, entry)
        self._add_words(words, is_prefix, entry)

    def _add_words(self, words: list[str], is_prefix: bool, entry: str) -> None:
        for reading in itertools.product(*(readings(w) for w in words)):
            forms = tuple(f for f, _ in reading)
            runs = tuple(r for _, r in reading)
            lengths = self._prefix_lengths.setdefault(len(forms), [])
            if len(forms) == 1:
                index = self._prefix1 if is_prefix else self._exact1
                index.setdefault(forms[0], []).append((runs[0], entry))
            elif is_prefix:
                self._prefixes.setdefault((forms[:-1], forms[-1]), []).append((runs, entry))
            else:
                self._exact.setdefault(forms, []).append((runs, entry))
            if len(forms) > 1:
                self._first_words.add(forms[0])
                self._pairs.add((forms[0], forms[1]))
            if is_prefix and len(forms[-1]) not in lengths:
                lengths.append(len(forms[-1]))
                lengths.sort(reverse=True)

    def __bool__(self) -> bool:
        return bool(self._exact1 or self._prefix1 or self._exact or self._prefixes)

    def find(self, text: str) -> list[WordMatch]:
        """Every match in the text, in order, not overlapping."""
        if not self or not self.may_match(words_of(text)):
            return []
        return self.find_in(text, tokenize(text))

    def may_match(self, words: list[str]) -> bool:
        """False when no match can start in these words (`words_of` a text): no word is an entry
        or the first two words of a phrase, and no three lone letters in a row could spell one.
        Most comments stop here, at a dictionary look-up or two per word, without being tokenised."""
        lone_letters = 0
        for i, word in enumerate(words):
            lone_letters = lone_letters + 1 if len(word) == 1 else 0
            if lone_letters >= 3:
                return True
            kind = self._kinds.get(word)
            if kind is None:
                kind = self._kind(word)
                if len(self._kinds) >= _MAX_SEEN:
                    self._kinds.clear()
                self._kinds[word] = kind
            if kind == _ENTRY:
                return True
            if kind == _PHRASE_START and i + 1 < len(words) and self._continues(word, words[i + 1]):
                return True
        return False

    def _kind(self, word: str) -> int:
        forms = readings(stripped) if (stripped := word.strip(_EDGE_PUNCTUATION)) else ()
        if any(self._lookup_word(form, runs) is not None for form, runs in forms):
            return _ENTRY
        return _PHRASE_START if any(form in self._first_words for form, _ in forms) else _INERT

    def _continues(self, word: str, following: str) -> bool:
        first, second = (readings(w) if (w := x.strip(_EDGE_PUNCTUATION)) else () for x in (word, following))
        # The second word may be a prefix entry's ("fucking retard*" before "retarded").
        return any(
            (a, b[:n]) in self._pairs for a, _ in first for b, _ in second for n in range(1, len(b) + 1)
        )

    def find_in(self, text: str, tokens: list[Token]) -> list[WordMatch]:
        """`find` on a text already tokenised (several lists, one tokenisation)."""
        if not self:
            return []
        matches: list[WordMatch] = []
        i = 0
        while i < len(tokens):
            found = None
            if tokens[i].spelled_on:
                found = self._match_spelled(tokens, i)
            if found is None:
                found = self._match_at(tokens, i)
            if found is None:
                i += 1
                continue
            length, entry = found
            start, end = tokens[i].start, tokens[i + length - 1].end
            matches.append(WordMatch(entry, start, end, text[start:end]))
            i += length
        return matches

    def _match_at(self, tokens: list[Token], i: int) -> tuple[int, str] | None:
        forms = tokens[i].forms
        if len(forms) == 1:
            seen = self._seen.get(forms[0], _UNSEEN)
            if seen is None and forms[0][0] not in self._first_words:
                return None
        if self.max_words > 1 and any(f in self._first_words for f, _ in forms):
            for length in range(min(self.max_words, len(tokens) - i), 1, -1):
                for reading in _window_readings(tokens[i : i + length]):
                    entry = self._lookup(reading)
                    if entry is not None:
                        return length, entry
        for form in forms:
            entry = self._seen.get(form, _UNSEEN)
            if entry is _UNSEEN:
                entry = self._lookup_word(*form)
                if len(self._seen) >= _MAX_SEEN:
                    self._seen.clear()
                self._seen[form] = entry
            if entry is not None:
                return 1, entry
        return None

    def _lookup_word(self, form: str, runs: tuple[int, ...]) -> str | None:
        """One word against the one-word entries."""
        for entry_runs, entry in self._exact1.get(form, ()):
            if _covers(runs, entry_runs):
                return entry
        for n in self._prefix1_lengths:
            if n <= len(form):
                for entry_runs, entry in self._prefix1.get(form[:n], ()):
                    if _covers(runs[:n], entry_runs):
                        return entry
        return None

    def _lookup(self, reading: tuple[Form, ...]) -> str | None:
        """Several words against the entries of as many words."""
        forms = tuple(f for f, _ in reading)
        for runs, entry in self._exact.get(forms, ()):
            if all(_covers(t, e) for (_, t), e in zip(reading, runs, strict=True)):
                return entry
        *whole, (last, last_runs) = reading
        for n in self._prefix_lengths.get(len(forms), ()):
            if n > len(last):
                continue
            for runs, entry in self._prefixes.get((forms[:-1], last[:n]), ()):
                if all(_covers(t, e) for (_, t), e in zip(whole, runs, strict=False)) and _covers(
                    last_runs[:n], runs[-1]
                ):
                    return entry
        return None

    def _match_spelled(self, tokens: list[Token], i: int) -> tuple[int, str] | None:
        """Letters spelled out one by one ("a s c u m b a g", "k.i.l.l yourself"): try each run
        of three or more, longest first, from this letter on, as one word, alone or followed by
        the next words."""
        last = i
        while last < len(tokens) and tokens[last].spelled_on:
            last += 1
        for j in range(last, i + 1, -1):
            joined = "".join(t.text for t in tokens[i : j + 1])
            word = Token(readings(joined), tokens[i].start, tokens[j].end, joined)
            found = self._match_at([word, *tokens[j + 1 : j + self.max_words]], 0)
            if found is not None:
                return j - i + found[0], found[1]
        return None


def _window_readings(window: list[Token]) -> Iterator[tuple[Form, ...]]:
    if all(len(t.forms) == 1 for t in window):
        yield tuple(t.forms[0] for t in window)
    else:
        yield from itertools.product(*(t.forms for t in window))


def _covers(text_runs: tuple[int, ...], entry_runs: tuple[int, ...]) -> bool:
    """Each letter run of the text is as long as the entry's, or stretched to three or more:
    letters repeated, none dropped. A letter doubled where the entry has one is another word
    ("Shiite" is not "shite", "shiitake" not "shit"): English doubles letters, it never triples them."""
    return all(t == e or (t > e and t >= 3) for t, e in zip(text_runs, entry_runs, strict=False))
