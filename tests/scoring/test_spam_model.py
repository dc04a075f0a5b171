"""The embedded model's spam label: what it says about clear cases at its default threshold,
that its featuriser keeps links, and how it plugs into the scorer and `flask scoring`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from service.scoring.base import LABELS, SPAM_LABEL
from service.scoring.embedded import EmbeddedScorer, doc_words
from service.scoring.spam_model import SpamModel, doc_units

MODEL = Path(__file__).resolve().parents[2] / "models" / "embedded"

SPAM = [
    "Check out my channel http://bit.ly/xyz and subscribe!!!",
    "Subscribe to my channel please, I subscribe back! sub4sub",
    "Make money from home!!! Earn $500 a day, join here www.fast-cash-now.com/join",
    "Like this comment if you agree",
    "Follow me on Instagram for daily free giveaways!!!",
]
FRIENDLY = [
    "Thanks for the article, very informative.",
    "The council meets again on Tuesday to vote on the budget; I hope they fund the library.",
    "Good reporting. The full council minutes are here: https://www.bbc.co.uk/news/uk-politics-12345678",
    "Great interview! Please do a follow-up with the school board.",
    "I have read this paper for twenty years and this is one of the best pieces you have run.",
    "This idiot mayor should resign, and the council with him.",  # rude, but not spam
    # a long comment pasted from elsewhere, with a number and an (unlinked) source
    " ".join(
        [
            "I grew up in this neighbourhood and I remember when the old mill closed in 1987.",
            "Hundreds of families lost their income overnight, and the town never really recovered.",
            "The plan described in the article would turn the site into housing and a small park,",
            "which seems sensible to me, but I would like to know who pays for cleaning the soil.",
            "The environmental report from 2019 said the ground was badly contaminated,",
            "and the developer's estimate in the article does not mention it at all.",
            "Could the reporter ask the planning office about this before Thursday's meeting?",
        ]
        * 3
    ),
]


@pytest.fixture(scope="module")
def scorer() -> EmbeddedScorer:
    return EmbeddedScorer.load(MODEL)


def spam_scores(scorer: EmbeddedScorer, texts: list[str]) -> list[float]:
    return [s[SPAM_LABEL] for s in scorer.score(texts)]


def test_the_scorer_answers_spam_with_its_default_threshold(scorer: EmbeddedScorer) -> None:
    assert scorer.labels == (*LABELS, SPAM_LABEL)
    meta = json.loads((MODEL / "spam.json").read_text())
    # Scores are moved so that the model's suggested hold is the policies' default 0.5.
    assert scorer.default_thresholds == {SPAM_LABEL: 0.5}
    assert 0.0 < meta["default_hold"] < 1.0
    at_the_hold = scorer.spam.score(["Subscribe to my channel for free gift cards"])[0]
    shifted = scorer.score(["Subscribe to my channel for free gift cards"])[0][SPAM_LABEL]
    assert (at_the_hold >= meta["default_hold"]) == (shifted >= 0.5)
    assert set(scorer.score(["hello"])[0]) == {*LABELS, SPAM_LABEL}


@pytest.mark.parametrize("text", SPAM)
def test_obvious_spam_is_held(scorer: EmbeddedScorer, text: str) -> None:
    assert spam_scores(scorer, [text])[0] >= scorer.default_thresholds[SPAM_LABEL]


@pytest.mark.parametrize("text", FRIENDLY)
def test_friendly_news_comments_are_not_held(scorer: EmbeddedScorer, text: str) -> None:
    assert spam_scores(scorer, [text])[0] < scorer.default_thresholds[SPAM_LABEL]


def test_a_batch_scores_as_its_comments_alone(scorer: EmbeddedScorer) -> None:
    texts = SPAM + FRIENDLY + ["", "x" * 50_000, "这是一个非常好的评论", "🔥🔥🔥 😂"]
    batch = spam_scores(scorer, texts)
    alone = [spam_scores(scorer, [t])[0] for t in texts]
    assert np.allclose(batch, alone) and all(0.0 <= s <= 1.0 for s in batch)


def test_the_featuriser_keeps_links_and_spam_cues() -> None:
    text = "Check out my channel http://bit.ly/xyz and subscribe!!! Win $500 at cheap-shop.com"
    units = doc_units(text)
    assert "\x02bit.ly" in units and "\x02cheap-shop.com" in units  # the domains
    assert units.count("\x01url") == 2 and "\x01money" in units and "\x01!!" in units
    assert not any("bit" in w for w in doc_words(text))  # the toxicity featuriser drops links
    # a sentence with a missing space is not a link
    assert "\x01url" not in doc_units("He left early.The meeting went on")


def test_run_time_scores_equal_the_training_features() -> None:
    from service.scoring.training.spam import featurise

    model = SpamModel.load(MODEL)
    texts = SPAM + FRIENDLY + ["", "spam spam spam http://x.com http://x.com !!! !!!"]
    expected = featurise(texts) @ model.weights + model.bias
    assert np.allclose(model.logits(texts), expected)


def test_the_model_loads_without_spam_files(tmp_path: Path) -> None:
    for name in ("weights.npz", "meta.json", "vocab.npz"):
        shutil.copy(MODEL / name, tmp_path / name)
    plain = EmbeddedScorer.load(tmp_path)
    assert plain.labels == LABELS and plain.spam is None and plain.default_thresholds == {}
    assert set(plain.score(["Check out my channel http://bit.ly/xyz"])[0]) == set(LABELS)


def evaluate(tmp_path: Path, frame: pd.DataFrame) -> dict:
    from flask import Flask

    from service.scoring.commands import scoring_cli

    csv = tmp_path / "labelled.csv"
    frame.to_csv(csv, index=False)
    app = Flask(__name__)
    app.config.update(SCORER="embedded", EMBEDDED_MODEL_PATH=str(MODEL))
    app.cli.add_command(scoring_cli)
    result = app.test_cli_runner().invoke(args=["scoring", "evaluate", "--data", str(csv), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_evaluate_reports_spam_like_any_label(tmp_path: Path) -> None:
    figures = evaluate(
        tmp_path, pd.DataFrame({"text": SPAM + FRIENDLY, "spam": [1] * len(SPAM) + [0] * len(FRIENDLY)})
    )
    assert set(figures["labels"]) == {SPAM_LABEL}
    assert figures["labels"][SPAM_LABEL] == {
        "roc_auc": 1.0,
        "pr_auc": 1.0,
        "rows": len(SPAM) + len(FRIENDLY),
        "positives": len(SPAM),
    }
    assert figures["mean_roc_auc"] == 1.0


def test_evaluate_reports_spam_beside_toxicity(tmp_path: Path) -> None:
    figures = evaluate(
        tmp_path,
        pd.DataFrame(
            {
                "text": [
                    "you stupid idiot",
                    "thanks, informative",
                    "subscribe to my channel!!!",
                    "nice photo",
                ],
                "toxicity": [1.0, 0.0, 0.0, 0.0],
                "spam": [0, 0, 1, None],  # unknown: left out, as for the other labels
            }
        ),
    )
    assert set(figures["labels"]) == {"toxicity", SPAM_LABEL}
    assert set(figures["labels"][SPAM_LABEL]) == set(figures["labels"]["toxicity"])
    assert figures["labels"][SPAM_LABEL]["rows"] == 3
    assert figures["labels"][SPAM_LABEL]["roc_auc"] == 1.0


def test_the_default_threshold_holds_at_most_one_percent_per_source() -> None:
    from service.scoring.training.spam import choose_threshold

    rng = np.random.default_rng(0)
    news = {"a": rng.random(1000), "b": rng.random(500) ** 3}
    threshold = choose_threshold(news)
    assert all((s >= threshold).mean() <= 0.01 for s in news.values())
    assert (news["a"] >= threshold).mean() >= 0.009  # and no higher than it needs to be
