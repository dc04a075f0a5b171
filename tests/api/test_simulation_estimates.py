"""The policy simulation shows the two shares a site lives with, estimated from the model's
held-out evaluation data (models/embedded/heldout.json)."""

from __future__ import annotations

import pytest

SIX = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack")


@pytest.fixture
def moderator(factory):
    factory.site()
    return factory.headers(factory.key("moderator"), origin=None)


def simulate(client, moderator, hold):
    answer = client.post(
        "/v1/moderation/sites/daily/simulate",
        json={"policy": {"thresholds": {label: {"hold": hold} for label in SIX}}, "last": 10},
        headers=moderator,
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["estimates"]


def test_simulation_estimates_both_shares_and_they_move_with_the_hold(client, factory, moderator):
    factory.post(factory.key("embed"), "Thanks for the update on the bridge works.")
    strict, lenient = simulate(client, moderator, 0.2), simulate(client, moderator, 0.9)
    assert "held-out" in strict["basis"] and "not from this site" in strict["basis"]
    assert strict["current"] == lenient["current"]  # the site's own policy did not change
    for shares in (strict["proposed"], lenient["proposed"], strict["current"]):
        assert 0 <= shares["clean_held"] <= 1 and 0 <= shares["toxic_published"] <= 1
        assert "davidson-2017" in shares["per_source"] and "wikipedia-cat-large" in shares["per_source"]
    # holding at a lower score holds more clean comments and lets fewer toxic ones through
    assert (
        strict["proposed"]["clean_held"] > strict["current"]["clean_held"] > lenient["proposed"]["clean_held"]
    )
    assert (
        strict["proposed"]["toxic_published"]
        < strict["current"]["toxic_published"]
        < lenient["proposed"]["toxic_published"]
    )


def test_without_toxicity_thresholds_most_toxic_comments_are_published(client, factory, moderator):
    estimates = simulate(client, moderator, None)
    # spam keeps its threshold, so a few clean comments may still be held; no toxicity label holds
    assert estimates["proposed"]["toxic_published"] > 0.5
    assert estimates["proposed"]["clean_held"] <= estimates["current"]["clean_held"]
