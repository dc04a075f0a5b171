"""Language detection: the language of real-looking comments, None for texts too short to tell,
and English comments never taken for another language (they would be held on a default site)."""

from __future__ import annotations

import pytest

from service.languages import LANGUAGES, detect_language

from .samples import AMBIGUOUS, SAMPLES

ENGLISH = [
    "Thanks for explaining the council's budget so clearly, the chart helped a lot.",
    "You're an idiot and so is everyone who voted for this.",
    "Does anyone know when the bridge reopens? My commute has doubled.",
    "UTTER GARBAGE, the editor should be ashamed",
    "What a load of nonsense.",
    "I grew up on that street and the bakery was always the heart of it. Sad to see it go.",
    "Check the source: https://example.org/report.pdf before you repeat this @newsdesk",
]


@pytest.mark.parametrize("text", ENGLISH)
def test_english_comments_are_english(text):
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Du bist so ein erbärmlicher Vollidiot, geh doch zurück in dein Loch.", "de"),
        ("Der Autor hat keine Ahnung vom Thema.", "de"),
        ("Vous êtes tous des abrutis finis, allez donc vivre ailleurs.", "fr"),
        ("Je ne comprends pas cette décision.", "fr"),
        ("Eres un imbécil y un cobarde, escondido detrás de tu pantalla.", "es"),
        ("El gobierno no sabe lo que está haciendo.", "es"),
        ("Ты жалкий трус, который прячется за экраном компьютера.", "ru"),
        ("これは本当にひどい記事だと思います。", "ja"),
    ],
)
def test_other_languages_are_told_apart(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize("text", AMBIGUOUS)
def test_texts_too_short_or_ambiguous_have_no_language(text):
    assert detect_language(text) is None


def test_short_comments_in_eleven_languages_are_mostly_recognised_and_never_mislabelled():
    """The written samples (16 per language, a quarter of them 20 characters or fewer): a comment
    the detector is unsure of gets None (scored as usual), never another language's code."""
    results = [(language, detect_language(text)) for language, texts in SAMPLES.items() for text in texts]
    recognised = sum(expected == found for expected, found in results) / len(results)
    mislabelled = [(expected, found) for expected, found in results if found not in (None, expected)]
    assert recognised >= 0.9
    assert mislabelled == []


def test_every_sample_language_is_one_the_detector_knows():
    assert set(SAMPLES) <= set(LANGUAGES)
