"""Comments in other languages through the HTTP API: detected and stored, shown and filtered in
the queues, and routed by the site's policy (hold for review, publish, or a multilingual model)."""

from __future__ import annotations

import logging

import pytest

import service.comments
from service.db import Comment
from service.extensions import db
from service.scoring.base import LABELS

GERMAN_INSULT = "Du bist so ein erbärmlicher Vollidiot, geh doch zurück in dein Loch."
GERMAN_CIVIL = "Danke für die gute Zusammenfassung, das hat mir sehr geholfen."
FRENCH_CIVIL = "Merci pour cet article, on aimerait en voir plus souvent sur ce sujet."
POLISH_CIVIL = "Dziękuję za ten rzetelny tekst, czekam na więcej takich artykułów."
ENGLISH_CIVIL = "Thanks for explaining the council's budget so clearly, the chart helped a lot."


class MultilingualFake:
    """Stands in for detoxify's multilingual model (whose weights cannot be downloaded here): it
    reads German and French, and finds the German insult toxic."""

    name = "fake-multilingual"
    version = "7"
    labels = LABELS
    languages = ("en", "de", "fr")

    def __init__(self):
        self.texts: list[str] = []

    def score(self, texts):
        self.texts.extend(texts)
        return [dict.fromkeys(LABELS, 0.97 if "Vollidiot" in text else 0.02) for text in texts]


def stored(app, comment_id):
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        return {
            "status": comment.status,
            "language": comment.language,
            "model_name": comment.model_name,
            "scores": comment.scores,
            "reasons": comment.reasons,
        }


def codes(row):
    return [r["code"] for r in row["reasons"]]


def posted(factory, key, text):
    answer = factory.post(key, text=text)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


@pytest.fixture
def site_with(factory):
    """The daily site with unsupported_language set as given; its embed key."""

    def make(choice=None):
        factory.site(policy={"unsupported_language": choice} if choice else None)
        return factory.key("embed")

    return make


def test_a_german_insult_on_a_default_site_is_held_naming_its_language(factory, app, site_with):
    key = site_with()
    answer = posted(factory, key, GERMAN_INSULT)
    assert answer["status"] == "held" and answer["published"] is False
    row = stored(app, answer["id"])
    assert row["language"] == "de"
    assert {"code": "language_unsupported", "language": "de"} in row["reasons"]
    # The English model still scored it: moderators see its scores, it just cannot clear it.
    assert row["model_name"] == "embedded" and row["scores"]


def test_english_comments_are_stored_as_english_and_published(factory, app, site_with):
    key = site_with()
    answer = posted(factory, key, ENGLISH_CIVIL)
    assert answer["status"] == "approved"
    assert stored(app, answer["id"])["language"] == "en"


def test_a_comment_too_short_to_tell_is_scored_as_usual(factory, app, site_with):
    key = site_with()
    answer = posted(factory, key, "Bravo!")
    assert answer["status"] == "approved"
    row = stored(app, answer["id"])
    assert row["language"] is None and "language_unsupported" not in codes(row)


def test_publish_scores_other_languages_with_the_sites_model(factory, app, site_with):
    key = site_with("publish")
    answer = posted(factory, key, GERMAN_INSULT)
    row = stored(app, answer["id"])
    assert row["language"] == "de"
    assert "language_unsupported" not in codes(row)
    assert row["model_name"] == "embedded" and set(LABELS) <= set(row["scores"])
    # What the English model makes of it decides, as before languages were detected.
    assert answer["status"] == ("held" if codes(row) else "approved")


@pytest.fixture
def multilingual():
    return MultilingualFake()


@pytest.fixture
def app_config(request):
    if "multilingual" in request.fixturenames:
        return {"MULTILINGUAL_SCORER_INSTANCE": request.getfixturevalue("multilingual")}
    return {}


def test_score_sends_other_languages_to_the_multilingual_model(factory, app, site_with, multilingual):
    key = site_with("score")
    insult = posted(factory, key, GERMAN_INSULT)
    assert insult["status"] == "held"
    row = stored(app, insult["id"])
    assert row["language"] == "de"
    assert row["model_name"] == "fake-multilingual"
    assert row["scores"]["toxicity"] == pytest.approx(0.97)
    assert "label_above_hold" in codes(row) and "language_unsupported" not in codes(row)

    civil = posted(factory, key, FRENCH_CIVIL)
    assert civil["status"] == "approved"
    assert stored(app, civil["id"])["model_name"] == "fake-multilingual"
    assert multilingual.texts == [GERMAN_INSULT, FRENCH_CIVIL]

    # English stays with the site's model; a language neither model reads is held.
    english = posted(factory, key, ENGLISH_CIVIL)
    assert stored(app, english["id"])["model_name"] == "embedded"
    polish = posted(factory, key, POLISH_CIVIL)
    assert polish["status"] == "held"
    assert {"code": "language_unsupported", "language": "pl"} in stored(app, polish["id"])["reasons"]
    assert multilingual.texts == [GERMAN_INSULT, FRENCH_CIVIL]


def test_score_without_a_multilingual_model_holds_and_says_why_in_the_log(
    factory, app, site_with, caplog, monkeypatch
):
    monkeypatch.setattr(service.comments, "_warned_no_multilingual", False)
    # Alembic's logging set-up (the test databases are migrated in this process) disables the
    # loggers that exist by then.
    monkeypatch.setattr(logging.getLogger("service.comments"), "disabled", False)
    key = site_with("score")
    with caplog.at_level(logging.WARNING, logger="service.comments"):
        answer = posted(factory, key, GERMAN_CIVIL)
    assert answer["status"] == "held"
    assert "language_unsupported" in codes(stored(app, answer["id"]))
    assert "no MULTILINGUAL_SCORER is configured" in caplog.text


def test_the_policy_setting_is_validated_and_kept(factory, client):
    factory.site()
    admin = factory.headers(factory.key("admin"), origin=None)
    answer = client.patch(
        "/v1/admin/sites/daily", json={"policy": {"unsupported_language": "score"}}, headers=admin
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["policy"]["unsupported_language"] == "score"
    wrong = client.patch(
        "/v1/admin/sites/daily", json={"policy": {"unsupported_language": "translate"}}, headers=admin
    )
    assert wrong.status_code == 422


# --- moderators ---------------------------------------------------------------------------------


def queue(client, mod, **params):
    response = client.get("/v1/moderation/comments", query_string=params, headers=mod)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_moderators_see_the_language_and_filter_queues_by_it(factory, client, site_with, insult_text):
    key = site_with()
    mod = factory.headers(factory.key("moderator"), origin=None)
    german = posted(factory, key, GERMAN_INSULT)["id"]
    polish = posted(factory, key, POLISH_CIVIL)["id"]
    english = posted(factory, key, insult_text)["id"]
    short = posted(factory, key, "Bravo!")["id"]

    held = queue(client, mod, site="daily", queue="held")
    assert {item["id"]: item["language"] for item in held} == {german: "de", polish: "pl", english: "en"}
    assert [item["id"] for item in queue(client, mod, site="daily", queue="held", language="de")] == [german]
    assert [item["id"] for item in queue(client, mod, site="daily", queue="held", language="pl")] == [polish]
    assert [item["id"] for item in queue(client, mod, site="daily", queue="held", language="en")] == [english]
    assert queue(client, mod, site="daily", queue="held", language="fr") == []
    unknown = queue(client, mod, site="daily", queue="approved", language="unknown")
    assert [item["id"] for item in unknown] == [short]

    wrong = client.get("/v1/moderation/comments", query_string={"language": "german"}, headers=mod)
    assert wrong.status_code == 422


# --- late scoring -------------------------------------------------------------------------------


class TestLateScoring:
    """A comment stored as pending (the scorer missed the deadline) is routed by its stored
    language when the command scores it."""

    @pytest.fixture
    def app_config(self):
        from tests.fakes import SlowScorer

        slow = MultilingualFake()
        slow.score = SlowScorer(delay=0.5).score
        return {
            "SCORER_INSTANCE": SlowScorer(delay=0.5),
            "MULTILINGUAL_SCORER_INSTANCE": slow,
            "SCORING_DEADLINE_MS": 50,
        }

    def test_pending_comments_follow_the_language_policy_when_scored(self, factory, app, embedded_scorer):
        from service.scoring.engine import ScoringEngine

        factory.site("daily")
        factory.site("multi", policy={"unsupported_language": "score"})
        daily, multi = factory.key("embed", "daily"), factory.key("embed", "multi")
        held_for_language = posted(factory, daily, GERMAN_INSULT)
        english = posted(factory, daily, ENGLISH_CIVIL)
        multilingual_insult = posted(factory, multi, GERMAN_INSULT)
        assert {held_for_language["status"], english["status"], multilingual_insult["status"]} == {"pending"}

        # The models are back: the command scores and decides the pending comments.
        multilingual = MultilingualFake()
        config = {**app.config, "MULTILINGUAL_SCORER_INSTANCE": multilingual}
        app.extensions["scoring"].close()
        app.extensions["scoring"] = ScoringEngine(config, scorer=embedded_scorer)
        result = app.test_cli_runner().invoke(args=["comments", "score-pending"])
        assert result.exit_code == 0, result.output

        row = stored(app, held_for_language["id"])
        assert row["status"] == "held" and row["model_name"] == "embedded"
        assert {"code": "language_unsupported", "language": "de"} in row["reasons"]
        assert stored(app, english["id"])["status"] == "approved"
        row = stored(app, multilingual_insult["id"])
        assert row["status"] == "held" and row["model_name"] == "fake-multilingual"
        assert "label_above_hold" in codes(row) and "language_unsupported" not in codes(row)
        assert multilingual.texts == [GERMAN_INSULT]
