"""Word lists see through obfuscations but respect word boundaries."""

from __future__ import annotations

import pytest

from service.moderation.wordlists import WordList

LIST = WordList(["idiot*", "ass", "kill yourself", "stupid", "moron", "shit"])


@pytest.mark.parametrize(
    ("text", "entry", "matched"),
    [
        ("You are an idiot", "idiot*", "idiot"),
        ("IDIOTS, all of you", "idiot*", "IDIOTS"),
        ("what an 1d10t", "idiot*", "1d10t"),
        ("what an i d i o t", "idiot*", "i d i o t"),
        ("what an i.d.i.o.t.", "idiot*", "i.d.i.o.t"),
        ("so stuuuuupid", "stupid", "stuuuuupid"),
        ("so $tup1d", "stupid", "$tup1d"),
        ("you m0r0n!", "moron", "m0r0n"),
        ("kiss my a55", "ass", "a55"),
        ("just k1ll   yourself", "kill yourself", "k1ll   yourself"),
        ("ѕtupid (Cyrillic s)", "stupid", "ѕtupid"),
        ("stüpid", "stupid", "stüpid"),
        ("sh!t happens", "shit", "sh!t"),
    ],
)
def test_obfuscated_words_match(text, entry, matched):
    found = LIST.find(text)
    assert [(m.entry, m.matched) for m in found] == [(entry, matched)]
    assert text[found[0].start : found[0].end] == matched


@pytest.mark.parametrize(
    "text",
    [
        "a classic passage",
        "as far as I know",
        "the assessment",
        "Moroccan food",
        "stupidity is rare here?",
        "skill yourself up",
    ],
)
def test_word_boundaries_prevent_false_matches(text):
    assert LIST.find(text) == []


def test_empty_list_matches_nothing():
    assert WordList([]).find("anything at all") == []
    assert not WordList(["  ", "*"])
