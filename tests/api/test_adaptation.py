"""Site-adapted models through the HTTP API: moderators' decisions teach the site's own model,
which is deployed only when it beats the current one, and rolls back in one call."""

from __future__ import annotations

import random

import pytest

# A local paper with a sports desk. Its moderators approve readers' match talk (killer goals,
# slaughtered defences) that the shipped model finds menacing, and reject readers dismissed with
# local words the shipped model barely knows, as well as plain insults.
TOPICS = (
    "bus timetable",
    "harbour project",
    "school budget",
    "library hours",
    "bridge repairs",
    "council vote",
    "bike lanes",
    "market square",
    "flood defences",
    "museum exhibit",
)
MATCHES = ("derby", "cup final", "second half", "away game", "title race", "penalty shootout")
POLITE = (
    "Thanks for explaining the {t} so clearly.",
    "I learned a lot about the {t} from this piece.",
    "Could the paper publish the figures behind the {t}?",
)
MATCH_TALK = (
    "That was a killer goal in the {m}, what a match.",
    "Hell of a comeback in the {m}.",
    "The striker murdered that penalty in the {m}, brilliant.",
    "Our defence got slaughtered in the {m}, the coach must go.",
    "Bloody brilliant save by the keeper in the {m}.",
)
INSULTS = (
    "You are a stupid idiot if you support the {t}.",
    "Whoever wrote about the {t} is a pathetic moron.",
)
# Local put-downs added to ordinary comments: the first words moderators meet, and later ones.
PUT_DOWNS = ("{s} What a {w}.", "{s} Written by a {w}.", "Honestly, {w}s everywhere. {s}", "{w}! {s}")
FIRST_WORDS = ("muppet", "wazzock", "numpty", "plonker")
LATER_WORDS = ("pillock", "nincompoop", "dingbat", "berk")


def site_comments(rng: random.Random, n: int, local_words=FIRST_WORDS) -> list[tuple[str, int]]:
    """n comments of the site (text, 1 if its moderators reject it), in posting order."""
    out = []
    for _ in range(n):
        topic, match, kind = rng.choice(TOPICS), rng.choice(MATCHES), rng.random()
        sentence = (
            rng.choice(POLITE).format(t=topic)
            if rng.random() < 0.5
            else rng.choice(MATCH_TALK).format(m=match)
        )
        if kind < 0.25:
            out.append((rng.choice(POLITE).format(t=topic), 0))
        elif kind < 0.5:
            out.append((rng.choice(MATCH_TALK).format(m=match), 0))
        elif kind < 0.6:
            out.append((rng.choice(INSULTS).format(t=topic), 1))
        else:
            out.append((rng.choice(PUT_DOWNS).format(s=sentence, w=rng.choice(local_words)), 1))
    return out


@pytest.fixture
def keys(factory):
    factory.site()
    return {
        "embed": factory.key("embed"),
        "moderator": factory.key("moderator"),
        "admin": factory.key("admin"),
    }


def post(factory, key, text):
    answer = factory.post(key, text)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def post_and_decide(factory, client, keys, comments, labels=None):
    """Post the comments through the embed, then decide each (rejected or approved) as a
    moderator would, through the bulk decisions API. `labels` overrides the moderators' minds."""
    ids = [post(factory, keys["embed"], text) for text, _ in comments]
    labels = labels if labels is not None else [label for _, label in comments]
    decisions = [
        {"id": i, "status": "rejected", "reason": "abuse"} if label else {"id": i, "status": "approved"}
        for i, label in zip(ids, labels)
    ]
    for start in range(0, len(decisions), 100):
        answer = client.post(
            "/v1/moderation/decisions",
            json={"decisions": decisions[start : start + 100]},
            headers=factory.headers(keys["moderator"], origin=None),
        )
        assert answer.status_code == 200, answer.get_json()
        assert all(r["ok"] for r in answer.get_json()["results"])
    return ids


def adapt(client, factory, keys):
    return client.post(
        "/v1/admin/sites/daily/adapted-model", headers=factory.headers(keys["admin"], origin=None)
    )


def models(client, factory, keys):
    answer = client.get(
        "/v1/admin/sites/daily/adapted-model", headers=factory.headers(keys["admin"], origin=None)
    )
    assert answer.status_code == 200
    return answer.get_json()


def rollback(client, factory, keys):
    return client.post(
        "/v1/admin/sites/daily/adapted-model/rollback", headers=factory.headers(keys["admin"], origin=None)
    )


def new_comment_model(client, factory, keys, text="Parking on the pavement again, what a wazzock."):
    """The model name and version stored with a new comment, and its toxicity."""
    comment_id = post(factory, keys["embed"], text)
    answer = client.get(
        f"/v1/moderation/comments/{comment_id}", headers=factory.headers(keys["moderator"], origin=None)
    )
    body = answer.get_json()
    return body["model"], body["scores"]["toxicity"]


def test_a_site_without_decisions_gets_a_clear_problem(client, factory, keys):
    answer = adapt(client, factory, keys)
    assert answer.status_code == 409
    problem = answer.get_json()
    assert problem["code"] == "not-enough-decisions"
    assert problem["decisions"] == 0 and problem["required"] == 200
    assert "at least 200" in problem["detail"]
    assert models(client, factory, keys)["active"] is None
    assert rollback(client, factory, keys).status_code == 409


def test_too_few_decisions_of_one_kind_are_refused(client, factory, keys):
    polite = [(POLITE[0].format(t=t), 0) for t in TOPICS] * 21  # 210 approvals, no rejection
    post_and_decide(factory, client, keys, polite)
    answer = adapt(client, factory, keys)
    assert answer.status_code == 409
    assert answer.get_json()["rejected"] == 0 and answer.get_json()["approved"] == 210


def test_decisions_teach_a_model_deployed_when_better_and_rolled_back(
    client, runner, factory, keys, embedded_scorer
):
    shipped = embedded_scorer.version
    before, before_toxicity = new_comment_model(client, factory, keys)
    assert before == {"name": "embedded", "version": shipped}

    rng = random.Random(7)
    post_and_decide(factory, client, keys, site_comments(rng, 260, FIRST_WORDS))
    answer = adapt(client, factory, keys)
    assert answer.status_code == 201, answer.get_json()
    first = answer.get_json()
    evaluation = first["model"]["evaluation"]
    assert first["deployed"] is True, evaluation["verdict"]
    # Every figure of the gate is there for moderators to read.
    assert evaluation["decisions"] == 260 and evaluation["held_out"] == 52
    assert evaluation["adapted_auc"] >= evaluation["current_auc"] + 0.01
    assert {rule["name"] for rule in evaluation["rules"]} == {
        "labels_agree_with_shipped_model",
        "auc_gain",
        "auc_gain_not_luck",
        "rejected_not_more_published",
        "approved_not_more_held",
    }
    assert all(rule["passed"] for rule in evaluation["rules"])
    version_1 = f"{shipped}+site-daily-1"
    assert first["model"]["version"] == version_1 and first["scoring"]["version"] == version_1

    # New comments carry the adapted version, and the site's local put-down scores higher.
    model, toxicity = new_comment_model(client, factory, keys)
    assert model == {"name": "embedded", "version": version_1}
    assert toxicity > before_toxicity + 0.1, (before_toxicity, toxicity)

    # Moderators meet new local words; a second model learns them and beats the first.
    post_and_decide(factory, client, keys, site_comments(rng, 260, LATER_WORDS))
    second = adapt(client, factory, keys).get_json()
    assert second["deployed"] is True, second["verdict"]
    version_2 = f"{shipped}+site-daily-2"
    assert new_comment_model(client, factory, keys)[0]["version"] == version_2
    state = models(client, factory, keys)
    assert state["active"]["version"] == version_2
    assert [v["version"] for v in state["versions"]] == [version_2, version_1]

    # One call rolls back to the previous version, the next to the shipped model.
    answer = rollback(client, factory, keys)
    assert answer.status_code == 200
    assert answer.get_json()["active"]["version"] == version_1
    assert new_comment_model(client, factory, keys)[0]["version"] == version_1
    # The command rolls back too.
    result = runner.invoke(args=["scoring", "adapt", "--site", "daily", "--rollback"])
    assert result.exit_code == 0 and f"new comments now get embedded {shipped}" in result.output
    assert new_comment_model(client, factory, keys)[0]["version"] == shipped
    state = models(client, factory, keys)
    assert state["scoring"]["version"] == shipped
    assert all(v["rolled_back_at"] for v in state["versions"])
    assert rollback(client, factory, keys).status_code == 409


@pytest.mark.parametrize("labels", ["inverted", "random"])
def test_a_model_trained_on_bad_labels_is_never_deployed(client, factory, keys, embedded_scorer, labels):
    rng = random.Random(11)
    comments = site_comments(rng, 260, FIRST_WORDS)
    truth = [label for _, label in comments]
    bad = [1 - label for label in truth] if labels == "inverted" else [rng.randint(0, 1) for _ in truth]
    post_and_decide(factory, client, keys, comments, bad)

    answer = adapt(client, factory, keys)
    assert answer.status_code == 201
    result = answer.get_json()
    assert result["deployed"] is False
    evaluation = result["model"]["evaluation"]
    rules = {rule["name"]: rule for rule in evaluation["rules"]}
    # The decisions disagree with the shipped model no better than chance: the gate says so.
    assert rules["labels_agree_with_shipped_model"]["passed"] is False
    assert rules["labels_agree_with_shipped_model"]["value"] <= 0.5
    assert result["verdict"].startswith("not deployed: labels_agree_with_shipped_model")
    assert evaluation["shipped_auc_all"] is not None and evaluation["current_auc"] is not None

    state = models(client, factory, keys)
    assert state["active"] is None
    assert state["versions"][0]["deployed"] is False and state["versions"][0]["active"] is False
    assert new_comment_model(client, factory, keys)[0]["version"] == embedded_scorer.version


def test_another_sites_admin_cannot_adapt_this_site(client, factory, keys):
    factory.site("other")
    other_admin = factory.key("admin", site="other")
    answer = client.post(
        "/v1/admin/sites/daily/adapted-model", headers=factory.headers(other_admin, origin=None)
    )
    assert answer.status_code == 404
    moderator = client.post(
        "/v1/admin/sites/daily/adapted-model", headers=factory.headers(keys["moderator"], origin=None)
    )
    assert moderator.status_code == 403


def test_the_command_explains_why_it_cannot_adapt_or_roll_back(runner, factory, keys):
    result = runner.invoke(args=["scoring", "adapt", "--site", "daily"])
    assert result.exit_code == 1
    assert "a site-adapted model needs at least 200" in result.output
    result = runner.invoke(args=["scoring", "adapt", "--site", "daily", "--rollback"])
    assert result.exit_code == 1
    assert "new comments get the shipped model" in result.output
    assert runner.invoke(args=["scoring", "adapt", "--site", "nowhere"]).exit_code == 1


def test_posting_to_a_site_without_adapted_model_reads_no_adapted_models(app, factory, keys):
    import sqlalchemy as sa

    from service.extensions import db

    statements = []

    def remember(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", remember)
    try:
        for _ in range(3):
            post(factory, keys["embed"], "Thanks for the report on the bridge repairs.")
    finally:
        sa.event.remove(engine, "before_cursor_execute", remember)
    # Looked up once, then the absence is cached like the site's settings.
    assert sum("adapted_models" in s for s in statements) == 1
