"""The held-out shares the simulation and the model card show: counted as `decide` would."""

from __future__ import annotations

import numpy as np

from service.moderation.policy import Policy, Thresholds
from service.scoring.heldout import HeldOut, encode

LABELS = ("toxicity", "insult")


def held_out() -> HeldOut:
    # news: 4 clean (toxicity .10 .30 .55 .70, insult low except one at .60), 2 toxic (.45, .90)
    news = encode(
        np.array([[0.10, 0.0], [0.30, 0.60], [0.55, 0.0], [0.70, 0.0], [0.45, 0.0], [0.90, 0.2]]),
        np.array([False, False, False, False, True, True]),
    )
    tweets = encode(np.array([[0.2, 0.0], [0.999, 0.0]]), np.array([False, True]))
    return HeldOut.from_dict({"labels": LABELS, "sources": {"news": news, "tweets": tweets}})


def test_a_comment_is_held_when_any_label_reaches_its_hold():
    shares = held_out().shares({"toxicity": Thresholds(0.5), "insult": Thresholds(0.5)})
    # clean held: .55, .70 and the insult at .60 -> 3 of 4; toxic published: the .45 one
    assert shares["news"] == {
        "clean": 4,
        "toxic": 2,
        "clean_held": 0.75,
        "clean_rejected": 0.0,
        "toxic_published": 0.5,
    }
    assert shares["tweets"]["clean_held"] == 0.0 and shares["tweets"]["toxic_published"] == 0.0
    assert shares["pooled"]["clean"] == 5 and shares["pooled"]["clean_held"] == 0.6
    assert shares["pooled"]["toxic_published"] == round(1 / 3, 4)
    # without insult's threshold only toxicity decides
    assert held_out().shares({"toxicity": Thresholds(0.5)})["news"]["clean_held"] == 0.5


def test_thresholds_on_the_grid_are_exact_and_reject_counts_as_held():
    shares = held_out().shares({"toxicity": {"hold": 0.45, "reject": 0.7}})["news"]
    assert shares["toxic_published"] == 0.0  # 0.45 >= 0.45
    assert shares["clean_rejected"] == 0.25 and shares["clean_held"] == 0.5


def test_raising_the_hold_holds_fewer_clean_and_publishes_more_toxic():
    data = held_out()
    figures = [
        data.shares(Policy.from_dict({"thresholds": {"toxicity": {"hold": t}}}).thresholds)["pooled"]
        for t in (0.2, 0.5, 0.8, 0.95)
    ]
    held = [f["clean_held"] for f in figures]
    published = [f["toxic_published"] for f in figures]
    assert held == sorted(held, reverse=True) and held[0] > held[-1]
    assert published == sorted(published) and published[0] < published[-1]


def test_thresholds_command_writes_the_card_section_from_the_shipped_file(app, tmp_path):
    import json

    labels = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack", "spam")
    rows = encode(
        np.array([[0.9] + [0.0] * 6, [0.2] * 7, [0.6] + [0.0] * 6, [0.1] * 7]), np.array([1, 0, 0, 1]) > 0
    )
    (tmp_path / "heldout.json").write_text(
        json.dumps({"labels": labels, "version": "test", "sources": {"news": rows}}), encoding="utf-8"
    )
    (tmp_path / "MODEL_CARD.md").write_text(
        "# card\n<!-- thresholds:start -->\nSTALE\n<!-- thresholds:end -->\nkept\n", encoding="utf-8"
    )
    result = app.test_cli_runner().invoke(args=["scoring", "thresholds", "--model-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    card = (tmp_path / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "STALE" not in card and card.endswith("<!-- thresholds:end -->\nkept\n")
    # 2 clean (one at 0.6 held), 2 toxic (one at 0.1 published), at the default hold 0.5
    assert "| news | 2 | 2 | 50.0% | 0.0% | 50.0% |" in card
    assert "Both targets met: **no**" in card
