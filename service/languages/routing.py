"""What a site's policy does with a comment in a language its model does not cover: pure rules,
apart from Flask and SQL, so every case is a unit test."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from ..moderation.policy import Reason

# The policy's choices (Policy.unsupported_language): hold the comment for a moderator, publish
# it as the model scores it, or score it with the multilingual backend (MULTILINGUAL_SCORER).
UnsupportedLanguage = Literal["hold", "publish", "score"]
UNSUPPORTED_LANGUAGE_CHOICES: tuple[str, ...] = ("hold", "publish", "score")

# Where a comment goes: the site's model (as before), the multilingual backend, or the site's
# model with a hold for review (its scores are shown, but a model that does not read the language
# cannot clear it).
Route = Literal["model", "multilingual", "hold"]


def language_route(
    language: str | None,
    model_languages: Collection[str],
    policy: UnsupportedLanguage,
    multilingual_languages: Collection[str] | None = None,
) -> Route:
    """The route of a comment in `language` (None: could not be told) on a site whose model covers
    `model_languages`; `multilingual_languages` is what the multilingual backend covers (None when
    none is configured). A comment the multilingual backend does not cover either is held."""
    if language is None or language in model_languages or policy == "publish":
        return "model"
    if policy == "score" and multilingual_languages is not None and language in multilingual_languages:
        return "multilingual"
    return "hold"


def language_reasons(route: Route, language: str | None) -> list[Reason]:
    """The hold reason a route adds, naming the language so moderators see it."""
    return [Reason("language_unsupported", language=language)] if route == "hold" else []
