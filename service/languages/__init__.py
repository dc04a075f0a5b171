"""Comment languages: which language a comment is in (detect.py) and what a site's policy does
with languages its model does not cover (routing.py)."""

from .detect import LANGUAGES, LanguageDetector, detect_language, detector
from .routing import UNSUPPORTED_LANGUAGE_CHOICES, Route, language_reasons, language_route

__all__ = [
    "LANGUAGES",
    "UNSUPPORTED_LANGUAGE_CHOICES",
    "LanguageDetector",
    "Route",
    "detect_language",
    "detector",
    "language_reasons",
    "language_route",
]
