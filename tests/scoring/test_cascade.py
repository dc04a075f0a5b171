"""The cascade: the fast model scores everything, the second stage only the uncertain band, and
every stored score says which stages ran."""

from __future__ import annotations

import json
import logging
import sys

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from service.comments import score_columns
from service.config import PROJECT_ROOT
from service.db import Comment, ModerationEvent
from service.extensions import db
from service.scoring.base import LABELS, SPAM_LABEL
from service.scoring.batcher import MicroBatcher
from service.scoring.cascade import CascadeScorer, StagedScores
from service.scoring.loader import load_scorer

MODEL = PROJECT_ROOT / "models" / "embedded"
HOLD = {label: 0.5 for label in LABELS}


class TableScorer:
    """Answers each text's scores from a table (default: every label `default`), and remembers
    which texts it was asked about."""

    def __init__(self, name, table, default=0.02, labels=LABELS, version="1"):
        self.name = name
        self.version = version
        self.labels = labels
        self.table = table
        self.default = default
        self.seen: list[str] = []

    def score(self, texts):
        self.seen.extend(texts)
        return [
            {label: self.table.get(t, {}).get(label, self.default) for label in self.labels} for t in texts
        ]


class BrokenScorer(TableScorer):
    def score(self, texts):
        raise RuntimeError("out of memory")


def cascade(first_table, second_table=None, band=0.1, **kw):
    first = TableScorer("fast", first_table, labels=(*LABELS, SPAM_LABEL))
    second = TableScorer("slow", second_table or {}, default=0.9)
    return CascadeScorer(first, second, band=band, hold_thresholds=HOLD, **kw), first, second


def test_escalates_exactly_the_scores_within_the_band_of_a_hold_threshold():
    scores = {
        "far below": {"toxicity": 0.39},
        "lower edge": {"toxicity": 0.4},
        "on the threshold": {"toxicity": 0.5},
        "upper edge": {"toxicity": 0.6},
        "far above": {"toxicity": 0.61},
        "sure toxic": {"toxicity": 0.97},
        "unsure insult": {"toxicity": 0.1, "insult": 0.45},
        "unsure spam only": {SPAM_LABEL: 0.5},  # the second stage has no spam score to give
    }
    scorer, _, second = cascade(scores)
    texts = list(scores)
    out = scorer.score(texts)

    escalated = ["lower edge", "on the threshold", "upper edge", "unsure insult"]
    assert second.seen == escalated
    for text, result in zip(texts, out, strict=True):
        assert isinstance(result, StagedScores)
        if text in escalated:
            assert result.stages == ("fast:1", "slow:1")
            assert result.model_version == "fast:1 > slow:1"
            expected = (scores[text].get("toxicity", 0.02) + 0.9) / 2
            assert result["toxicity"] == pytest.approx(expected)
            assert result[SPAM_LABEL] == pytest.approx(0.02)  # only labels both stages score blend
        else:
            assert result.stages == ("fast:1",) and result.model_version == "fast:1"
            assert result["toxicity"] == pytest.approx(scores[text].get("toxicity", 0.02))


@given(
    st.lists(st.lists(st.floats(0, 1), min_size=len(LABELS), max_size=len(LABELS)), max_size=20),
    st.sampled_from([0.0, 0.05, 0.1, 0.15, 0.2, 0.3]),
)
def test_the_escalated_comments_are_those_with_any_score_in_the_band(rows, band):
    table = {f"t{i}": dict(zip(LABELS, row, strict=True)) for i, row in enumerate(rows)}
    scorer, _, second = cascade(table, band=band)
    out = scorer.score(list(table))
    expected = [t for t, s in table.items() if any(abs(v - 0.5) <= band for v in s.values())]
    assert second.seen == expected
    assert [t for t, r in zip(table, out, strict=True) if len(r.stages) == 2] == expected


def test_weight_sets_how_much_the_second_opinion_counts():
    scorer, _, _ = cascade({"x": {"toxicity": 0.5}}, {"x": {"toxicity": 1.0}}, weight=0.25)
    assert scorer.score(["x"])[0]["toxicity"] == pytest.approx(0.625)


def test_a_failing_second_stage_leaves_the_first_stages_scores_and_says_so(caplog):
    first = TableScorer("fast", {"x": {"toxicity": 0.5}})
    scorer = CascadeScorer(first, BrokenScorer("slow", {}), band=0.1, hold_thresholds=HOLD)
    with caplog.at_level(logging.ERROR):
        (result,) = scorer.score(["x"])
    assert result.stages == ("fast:1",) and result["toxicity"] == 0.5
    assert "second stage (slow) failed" in caplog.text


def test_the_batcher_hands_back_staged_scores_unchanged():
    scorer, _, _ = cascade({"unsure": {"toxicity": 0.55}})
    with MicroBatcher(scorer, max_batch=8, max_wait=0.001) as batcher:
        unsure, sure = batcher.score_many(["unsure", "sure"], timeout=5)
    assert isinstance(unsure, StagedScores) and unsure.stages == ("fast:1", "slow:1")
    assert sure.stages == ("fast:1",)
    assert batcher.name == "cascade" and batcher.version == "fast:1 > slow:1"


def test_stored_columns_name_the_stages_and_keep_only_label_floats():
    scorer, _, _ = cascade({"unsure": {"toxicity": 0.55}})
    unsure, sure = scorer.score(["unsure", "sure"])
    columns = score_columns(unsure, scorer)
    assert columns["model_name"] == "cascade" and columns["model_version"] == "fast:1 > slow:1"
    assert type(columns["scores"]) is dict
    assert json.loads(json.dumps(columns["scores"])) == {k: pytest.approx(v) for k, v in unsure.items()}
    assert score_columns(sure, scorer)["model_version"] == "fast:1"


def test_cascade_without_torch_falls_back_to_the_fast_model_with_a_log_line(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails as if absent
    settings = {"SCORER": "embedded+minilm", "EMBEDDED_MODEL_PATH": str(MODEL)}
    with caplog.at_level(logging.WARNING):
        scorer = load_scorer(settings)
    assert scorer.name == "embedded"
    assert "second stage cannot load" in caplog.text and "scoring with embedded alone" in caplog.text


def test_unknown_cascade_stage_is_refused():
    from service.scoring.base import ScorerError

    with pytest.raises(ScorerError):
        load_scorer({"SCORER": "embedded+minilm+detoxify", "EMBEDDED_MODEL_PATH": str(MODEL)})


def test_calibration_keeps_the_order_of_scores_inside_and_outside_its_knots():
    from service.scoring.embedding_stage import calibrate

    z = np.array([-9.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    out = calibrate(z, [-1.0, 0.0, 1.0], [-3.0, 0.0, 5.0])
    assert out.tolist() == pytest.approx([-11.0, -4.0, -3.0, -1.5, 0.0, 2.5, 5.0, 7.0])
    assert (np.diff(out) > 0).all()


@pytest.fixture(scope="module")
def real_cascade():
    pytest.importorskip("sentence_transformers")
    return load_scorer(
        {"SCORER": "embedded+minilm", "EMBEDDED_MODEL_PATH": str(MODEL), "SCORING_CASCADE_BAND": 1.0}
    )


def test_the_real_minilm_stage_gives_a_second_opinion(real_cascade):
    """With a band covering every score, each comment gets both stages; the MiniLM stage's
    calibrated scores are probabilities that tell an insult from a thank-you."""
    assert isinstance(real_cascade, CascadeScorer) and real_cascade.second.name == "minilm"
    texts = [
        "Thanks for this well-researched article, I learned a lot.",
        "You are a stupid idiot and a pathetic loser.",
    ]
    out = real_cascade.score(texts)
    assert all(r.stages[1].startswith("minilm:") for r in out)
    alone = real_cascade.second.score(texts)
    assert all(0 <= v <= 1 for s in alone for v in s.values())
    assert alone[1]["toxicity"] > 0.5 > alone[0]["toxicity"]
    assert alone[1]["insult"] > alone[0]["insult"]


def test_detoxify_is_the_second_stage_when_configured(tmp_path):
    pytest.importorskip("detoxify")
    from tests.scoring.test_detoxify_backend import JIGSAW_CLASSES, _build

    tiny = _build(tmp_path, "tiny", JIGSAW_CLASSES)
    settings = {
        "SCORER": "embedded+detoxify",
        "EMBEDDED_MODEL_PATH": str(MODEL),
        "DETOXIFY_CHECKPOINT": str(tiny["checkpoint"]),
        "DETOXIFY_CONFIG_PATH": str(tiny["config_dir"]),
        "SCORING_CASCADE_BAND": 1.0,
    }
    scorer = load_scorer(settings)
    (result,) = scorer.score(["You are a stupid idiot."])
    assert result.stages[0].startswith("embedded:") and result.stages[1].startswith("detoxify")


# -- through the HTTP API


@pytest.fixture
def app_config():
    first = TableScorer("embedded", {"You might be wrong, fool.": {"toxicity": 0.55}}, version="7")
    second = TableScorer("minilm", {"You might be wrong, fool.": {"toxicity": 0.95}}, version="3")
    return {"SCORER_INSTANCE": CascadeScorer(first, second, band=0.1, hold_thresholds=HOLD)}


def test_a_stored_comment_says_which_stages_scored_it(factory, embed_key, client, app):
    unsure = factory.post(embed_key, text="You might be wrong, fool.").get_json()
    sure = factory.post(embed_key, text="A calm and kind remark.").get_json()
    assert unsure["status"] == "held" and sure["status"] == "approved"

    mod = factory.headers(factory.key("moderator"), origin=None)
    (item,) = client.get("/v1/moderation/comments", headers=mod).get_json()["items"]
    assert item["model"] == {"name": "cascade", "version": "embedded:7 > minilm:3"}
    assert item["scores"]["toxicity"] == pytest.approx(0.75)
    with app.app_context():
        for answer, version in ((unsure, "embedded:7 > minilm:3"), (sure, "embedded:7")):
            comment = db.session.get(Comment, answer["id"])
            assert (comment.model_name, comment.model_version) == ("cascade", version)
            event = db.session.execute(
                sa.select(ModerationEvent).where(ModerationEvent.comment_id == answer["id"])
            ).scalar_one()
            assert (event.model_name, event.model_version) == ("cascade", version)
