"""The built-in English lists: on by default, caught through obfuscations, silent on innocent words."""

from __future__ import annotations

import pytest

from service.moderation.policy import CompiledLists, Policy, decide, match_words

DEFAULT = CompiledLists.from_policy(Policy())
CLEAN_SCORES = {"toxicity": 0.01, "insult": 0.01}


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("go kill yourself", "rejected"),
        ("k y s", "rejected"),
        ("you n1gg3r", "rejected"),
        ("what a c u n t", "held"),
        ("d1ckhead", "held"),
        ("sluuuuut", "held"),
        ("motherfuuucker", "held"),
        ("you deserve to die", "held"),
    ],
)
def test_default_lists_catch_obfuscated_abuse_the_model_scored_clean(text, status):
    banned, suspect = match_words(text, DEFAULT)
    assert decide(CLEAN_SCORES, Policy(), banned=banned, suspect=suspect).status == status


@pytest.mark.parametrize(
    "text",
    [
        "The tilt of the silt beds is in the title of the class.",
        "Shiite clerics and shiitake mushrooms in Scunthorpe",
        "A chink in the armour; the fire retardant failed",
        "Dick Cheney read Moby Dick in the cockpit",
        "How to skateboard and not kill time",
        "That was fucking brilliant, shit happens",  # profanity is the model's to score
        "Gobbledygook about the tranny of my old car",
    ],
)
def test_default_lists_stay_silent_on_innocent_text(text):
    assert match_words(text, DEFAULT) == ([], [])


def test_a_site_can_turn_the_built_in_lists_off_and_keep_its_own():
    lists = CompiledLists.from_policy(Policy(builtin_word_lists=False, suspect_words=("paywall",)))
    banned, suspect = match_words("go kill yourself over the p@ywall", lists)
    assert banned == []
    assert [m.entry for m in suspect] == ["paywall"]
