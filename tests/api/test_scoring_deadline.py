"""A scorer past its deadline: the comment is kept pending and scored later by a command."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.db import Comment, ModerationEvent
from service.extensions import db
from tests.fakes import FailingScorer, SlowScorer


@pytest.fixture
def app_config():
    return {"SCORER_INSTANCE": SlowScorer(delay=0.5), "SCORING_DEADLINE_MS": 50}


def test_slow_scorer_leaves_comment_pending_then_command_decides_it(
    factory, embed_key, app, client, embedded_scorer, insult_text
):
    friendly = factory.post(embed_key).get_json()
    insult = factory.post(embed_key, text=insult_text).get_json()
    assert friendly["status"] == insult["status"] == "pending"
    assert friendly["published"] is False
    thread = client.get("/v1/articles/a1/comments", headers=factory.headers(embed_key)).get_json()
    assert thread["total"] == 0

    # The model is back (a restart with a working scorer): the command decides the pending comments.
    app.extensions["scoring"] = type(app.extensions["scoring"])(app.config, scorer=embedded_scorer)
    result = app.test_cli_runner().invoke(args=["comments", "score-pending"])
    assert result.exit_code == 0, result.output
    assert "2 comments scored" in result.output

    with app.app_context():
        statuses = {c.id: c.status for c in db.session.execute(sa.select(Comment)).scalars()}
        assert statuses == {friendly["id"]: "approved", insult["id"]: "held"}
        late = (
            db.session.execute(sa.select(ModerationEvent).where(ModerationEvent.from_status == "pending"))
            .scalars()
            .all()
        )
        assert {e.reason for e in late} == {"late scoring"} and all(e.model_name == "embedded" for e in late)
    thread = client.get("/v1/articles/a1/comments", headers=factory.headers(embed_key)).get_json()
    assert thread["total"] == 1


def test_banned_word_rejects_without_waiting_for_the_scorer(factory, client):
    factory.site("lists", policy={"banned_words": ["scumbag"]})
    key = factory.key("embed", "lists")
    assert factory.post(key, text="you scumbag").get_json()["status"] == "rejected"


class TestFailingScorer:
    @pytest.fixture
    def app_config(self):
        return {"SCORER_INSTANCE": FailingScorer()}

    def test_scorer_error_keeps_the_comment_pending(self, factory, embed_key):
        response = factory.post(embed_key)
        assert response.status_code == 201
        assert response.get_json()["status"] == "pending"


class TestRescore:
    @pytest.fixture
    def app_config(self):
        return {"SCORER_INSTANCE": SlowScorer(delay=0)}

    def test_rescore_records_the_new_model_and_keeps_decisions(
        self, factory, embed_key, app, embedded_scorer, insult_text
    ):
        ids = [factory.post(embed_key, text=t).get_json()["id"] for t in ("Nice piece.", insult_text)]
        with app.app_context():
            assert {db.session.get(Comment, i).model_name for i in ids} == {"slow"}
        app.extensions["scoring"] = type(app.extensions["scoring"])(app.config, scorer=embedded_scorer)
        result = app.test_cli_runner().invoke(args=["comments", "rescore", "--since", "2000-01-01"])
        assert result.exit_code == 0, result.output
        assert "2 comments rescored with embedded" in result.output
        with app.app_context():
            comments = [db.session.get(Comment, i) for i in ids]
            assert [c.model_name for c in comments] == ["embedded", "embedded"]
            assert [c.status for c in comments] == ["approved", "approved"]  # decisions stand
            assert comments[1].scores["insult"] > 0.5
