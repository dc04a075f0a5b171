"""Normalising comment text before it is stored, scored and matched."""

from __future__ import annotations

import functools
import re
import unicodedata

# Bidirectional overrides and isolates re-order what a reader sees (spoofing); legitimate
# right-to-left text does not need them, so they are dropped. Marks (LRM/RLM) are kept.
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)], None)
# C0/C1 control characters except tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
# Zalgo text stacks combining marks; three per letter is more than any script needs.
MAX_COMBINING_RUN = 3


@functools.cache
def _long_mark_run() -> re.Pattern[str]:
    """More than MAX_COMBINING_RUN combining marks in a row, so most texts are checked by one
    regex search instead of letter by letter. Built on first use (30 ms); Unicode assigns
    combining classes in planes 0 and 1 only."""
    ranges: list[list[int]] = []
    for code in range(0x20000):
        if unicodedata.combining(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    marks = "".join(f"{re.escape(chr(first))}-{re.escape(chr(last))}" for first, last in ranges)
    return re.compile(f"[{marks}]{{{MAX_COMBINING_RUN + 1},}}")


def _cap_combining_marks(text: str) -> str:
    if text.isascii() or not _long_mark_run().search(text):
        return text
    out: list[str] = []
    run = 0
    for char in text:
        if unicodedata.combining(char):
            run += 1
            if run > MAX_COMBINING_RUN:
                continue
        else:
            run = 0
        out.append(char)
    return "".join(out)


def normalise_text(text: str) -> str:
    """NFKC, newlines unified, control and bidi-override characters dropped, zalgo capped, trimmed."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text).translate(_BIDI_CONTROLS)
    text = _cap_combining_marks(text)
    text = _MANY_BLANK_LINES.sub("\n\n", text)
    return text.strip()


def normalise_line(text: str) -> str:
    """For one-line fields (names, titles): the same, with every run of white space made one space."""
    return " ".join(normalise_text(text).split())


# Characters that draw nothing: white space, format and control characters, and Unicode's
# default-ignorable code points that are not (Hangul fillers, variation selectors, the
# grapheme joiner), plus the blank braille pattern, a favourite of "empty" posts.
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def _invisible(char: str) -> bool:
    return char.isspace() or bool(_IGNORABLE.match(char)) or unicodedata.category(char) in ("Cf", "Cc")


def is_invisible(text: str) -> bool:
    """True when nothing of `text` would show: a comment of zero-width characters is empty."""
    return all(_invisible(char) for char in text)
