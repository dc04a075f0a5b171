"""Which language a comment is in: py3langid (a naive Bayes model over byte n-grams that ships
inside its wheel, so nothing is downloaded), restricted to the languages below, with an answer
only when it is clear.

Chosen over lingua-language-detector after measuring both on short comments (bench/language.py,
3,000 real English news comments): lingua's low-accuracy mode took 4.4% of them for another
language (short insults: "Classic sociopath.") at a p50 of 0.25 ms; its high-accuracy mode 1.4%,
at 0.56 ms and 285 MB a process. py3langid with the threshold below: 0.03%, at a p50 of 0.07 ms
(mean 0.17 ms on a busy machine) and about 70 MB (mostly its byte-n-gram automaton).

The costly mistake is calling an English comment foreign: under the default policy it is held for
a moderator. So a comment gets a language only when the detector is confident (MIN_CONFIDENCE),
and texts too short to tell (a word, an emoji, a link) get None: they are scored as usual.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

# ISO 639-1 codes the detector chooses among: the common languages of European and American news
# sites, and the major languages written in scripts of their own (cheap to tell apart, and
# otherwise taken for one of the others). Every other language gets the nearest of these, or None.
LANGUAGES: tuple[str, ...] = (
    *("en", "de", "fr", "es", "it", "pt", "nl", "pl", "sv", "da", "tr", "ru"),
    *("uk", "el", "ar", "he", "fa", "hi", "ja", "zh", "ko", "th"),
)
# The least probability (among LANGUAGES) the detector must give a language to name it. Chosen
# on the benchmark: at 0.7, 1 of 3,000 real English news comments is called foreign (at 0.5, 4;
# with none, 21) while 93% of the written foreign comments are still recognised (73% of those of
# 20 characters or fewer; the others get None) and none is given a wrong language.
MIN_CONFIDENCE = 0.7
# The first characters say the language as well as the whole text, at a bounded cost (the
# detector walks the text byte by byte in Python: 120 characters cost about two thirds of 200,
# with the same accuracy on the benchmark).
MAX_CHARS = 120

# Links and @handles say nothing about the language of the words around them.
_NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+")
_WORD = re.compile(r"[^\W\d_]{2,}")
# Scripts written without spaces between words: one run of letters can be a whole sentence.
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]{4,}")


def _too_short(text: str) -> bool:
    """Fewer than two words (of two letters or more), unless in a script without spaces."""
    words = _WORD.finditer(text)
    first, second = next(words, None), next(words, None)
    return second is None and not (first is not None and _UNSPACED.search(first.group()))


class LanguageDetector:
    """Detects the language of a text, or says None when it cannot tell.

    Building one loads the model (about 2 s): build it once per process (`detector()`).
    """

    def __init__(self, languages: tuple[str, ...] = LANGUAGES, min_confidence: float = MIN_CONFIDENCE):
        import numpy as np
        from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
        from py3langid.modelio import load_model

        ptc, pc, classes, nextmove, row, output = load_model(MODEL_DIR / MODEL_FILE)
        # Only the columns of our languages are kept (the whole table of 142 is 28 MB more).
        keep = [i for i, code in enumerate(classes) if code in languages]
        self._identifier: Any = LanguageIdentifier(
            np.ascontiguousarray(np.asarray(ptc)[:, keep]),
            np.asarray(pc)[keep],
            [classes[i] for i in keep],
            nextmove,
            output,
            norm_probs=True,
            tk_row=row,
        )
        self.languages = languages
        self.min_confidence = min_confidence

    def detect(self, text: str) -> str | None:
        """The text's language (ISO 639-1), or None when too short or not clearly one language."""
        text = _NOISE.sub(" ", text[: MAX_CHARS * 2])
        if _too_short(text):
            return None
        # Lower case: the model takes words in capitals ("UTTER GARBAGE") for other languages.
        language, confidence = self._identifier.classify(text[:MAX_CHARS].lower())
        return language if confidence >= self.min_confidence else None


_detector: LanguageDetector | None = None
_lock = threading.Lock()


def detector() -> LanguageDetector:
    """This process's detector, built on first use (not at import: it costs 2 s and 70 MB); the
    web workers build it in the background with the scorer (ScoringEngine.load_in_background)."""
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                started = time.perf_counter()
                _detector = LanguageDetector()
                log.info("language detector loaded in %.1f s", time.perf_counter() - started)
    return _detector


def detect_language(text: str) -> str | None:
    """The comment's language (ISO 639-1), or None when it cannot be told."""
    return detector().detect(text)
