"""The language policy as pure rules: which scorer a comment goes to and when it is held, and the
languages each backend declares."""

from __future__ import annotations

import pytest

from service.languages import language_reasons, language_route
from service.scoring.base import LABELS, covered_languages
from service.scoring.cascade import CascadeScorer
from service.scoring.detoxify_backend import detoxify_languages
from service.scoring.loader import declared_languages, multilingual_settings

ENGLISH = ("en",)
MULTILINGUAL = ("en", "fr", "es", "it", "pt", "tr", "ru")


@pytest.mark.parametrize(
    ("language", "policy", "multilingual", "route"),
    [
        # Covered, or not told apart: the site's model, whatever the policy.
        ("en", "hold", None, "model"),
        ("en", "score", MULTILINGUAL, "model"),
        (None, "hold", None, "model"),
        (None, "score", MULTILINGUAL, "model"),
        # Not covered: the policy decides.
        ("de", "hold", None, "hold"),
        ("fr", "hold", MULTILINGUAL, "hold"),
        ("de", "publish", None, "model"),
        ("fr", "score", MULTILINGUAL, "multilingual"),
        # "score" with no multilingual backend, or one that does not read the language either.
        ("fr", "score", None, "hold"),
        ("de", "score", MULTILINGUAL, "hold"),
    ],
)
def test_language_route(language, policy, multilingual, route):
    assert language_route(language, ENGLISH, policy, multilingual) == route


def test_a_held_route_names_the_language_for_moderators():
    assert [r.to_dict() for r in language_reasons("hold", "de")] == [
        {"code": "language_unsupported", "language": "de"}
    ]
    assert language_reasons("model", "de") == []
    assert language_reasons("multilingual", "fr") == []


class Stage:
    labels = LABELS
    version = "1"

    def __init__(self, name, languages=None):
        self.name = name
        if languages is not None:
            self.languages = languages

    def score(self, texts):
        return [dict.fromkeys(LABELS, 0.0) for _ in texts]


def test_backends_declare_their_languages():
    assert detoxify_languages("original") == ENGLISH
    assert detoxify_languages("unbiased") == ENGLISH
    assert detoxify_languages("multilingual") == MULTILINGUAL
    # A scorer that declares nothing was trained on English.
    assert covered_languages(Stage("plain")) == ENGLISH
    # A cascade covers what both stages read: every comment gets the first.
    cascade = CascadeScorer(Stage("fast"), Stage("multi", MULTILINGUAL), band=0.1, hold_thresholds={})
    assert cascade.languages == ENGLISH


def test_languages_are_known_from_the_settings_before_the_model_loads(embedded_scorer):
    assert embedded_scorer.languages == ENGLISH
    assert declared_languages({"SCORER": "embedded"}) == ENGLISH
    assert declared_languages({"SCORER": "detoxify", "DETOXIFY_MODEL": "multilingual"}) == MULTILINGUAL
    assert declared_languages({"SCORER": "embedded+detoxify", "DETOXIFY_MODEL": "multilingual"}) == ENGLISH


def test_the_multilingual_backend_has_settings_of_its_own():
    assert multilingual_settings({"MULTILINGUAL_SCORER": ""}) is None
    inner = multilingual_settings(
        {
            "SCORER": "embedded",
            "DETOXIFY_MODEL": "original",
            "MULTILINGUAL_SCORER": "detoxify",
            "MULTILINGUAL_DETOXIFY_MODEL": "multilingual",
            "MULTILINGUAL_DETOXIFY_CHECKPOINT": "/srv/models/multilingual.ckpt",
        }
    )
    assert inner["SCORER"] == "detoxify"
    assert inner["DETOXIFY_MODEL"] == "multilingual"
    assert inner["DETOXIFY_CHECKPOINT"] == "/srv/models/multilingual.ckpt"
    assert declared_languages(inner) == MULTILINGUAL
