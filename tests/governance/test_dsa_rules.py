"""The DSA rules as plain values: statements say what Art. 17 asks, records fit the schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from service.governance import dsa

SCHEMA = json.loads((Path(dsa.__file__).parent / "schema" / "statement_of_reasons.schema.json").read_text())
WHEN = datetime(2026, 11, 28, 12, tzinfo=UTC)


def _record(facts: dsa.StatementFacts, **extra) -> dict:
    return dsa.transparency_record(
        puid="sor_1",
        restriction=facts.restriction,
        ground=facts.ground,
        category=facts.category,
        ground_reference=facts.ground_reference,
        explanation=facts.explanation,
        facts=facts.facts,
        automated_detection=facts.automated_detection,
        automated_decision=facts.automated_decision,
        source=facts.source,
        content_date=WHEN,
        application_date=WHEN,
        end_date=facts.end_date,
        territorial_scope=list(dsa.EU_COUNTRIES),
        **extra,
    )


INSULT = ({"code": "label_above_reject", "label": "insult", "score": 0.93, "threshold": 0.5},)


def test_a_policy_rejection_is_fully_automated_and_detected_by_the_model():
    facts = dsa.statement_for(
        dsa.Restriction("rejected", "system", reasons=INSULT, model_version="embedded-3")
    )
    assert (facts.automated_detection, facts.automated_decision) == (True, "fully")
    assert facts.ground == "site_rules"
    assert facts.category == "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    assert "insult at 0.93" in facts.facts and "embedded-3" in facts.facts


def test_a_moderator_deciding_what_the_model_flagged_is_partially_automated():
    facts = dsa.statement_for(dsa.Restriction("rejected", "key:7", reason="abuse", reasons=INSULT))
    assert (facts.automated_detection, facts.automated_decision) == (True, "partially")
    assert facts.ground_reference == "abuse"


def test_a_moderator_deciding_a_reported_comment_is_a_human_decision():
    reasons = ({"code": "reported", "count": 3, "score": 3.0, "threshold": 3.0},)
    facts = dsa.statement_for(dsa.Restriction("rejected", "key:7", reason="spam", reasons=reasons))
    assert (facts.automated_detection, facts.automated_decision) == (False, "not_automated")
    assert facts.category == "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"


def test_a_notice_found_illegal_names_the_law_and_the_notice():
    notice = dsa.NoticeFacts(7, "STATEMENT_CATEGORY_VIOLENCE", "illegal", "§ 241 StGB", "A threat to kill.")
    facts = dsa.statement_for(dsa.Restriction("rejected", "key:7", reason="illegal content"), notice)
    assert (facts.ground, facts.category, facts.ground_reference) == (
        "illegal",
        notice.category,
        "§ 241 StGB",
    )
    assert (facts.source, facts.notice_id, facts.automated_decision) == ("notice", 7, "not_automated")


def test_illegal_content_always_restricts_the_other_answers_only_when_asked():
    assert dsa.notice_restricts("illegal", False) is True
    assert dsa.notice_restricts("not_illegal", None) is False
    assert dsa.notice_restricts("site_rules", True) is True


@pytest.mark.parametrize(
    ("restriction", "notice"),
    [
        (dsa.Restriction("rejected", "system", reasons=INSULT), None),
        (dsa.Restriction("deleted", "key:1", reason="erasure request"), None),
        (dsa.Restriction("banned", "key:1"), None),
        (dsa.Restriction("held", "system", reason="30 minutes", reasons=INSULT), None),
        (dsa.Restriction("suspended", "key:1", until=datetime(2027, 1, 1, tzinfo=UTC)), None),
        (
            dsa.Restriction("rejected", "key:1"),
            dsa.NoticeFacts(1, "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "illegal", "Art. 5 law", "x"),
        ),
    ],
    ids=["policy", "deleted", "banned", "held", "suspended", "notice"],
)
def test_every_kind_of_statement_makes_a_valid_transparency_record(restriction, notice):
    record = _record(dsa.statement_for(restriction, notice), content_language="en")
    jsonschema.validate(record, SCHEMA)
    assert record["content_language"] == "EN"


def test_the_schema_refuses_what_the_database_would():
    good = _record(dsa.statement_for(dsa.Restriction("rejected", "system", reasons=INSULT)))
    for broken in (
        {k: v for k, v in good.items() if k != "decision_visibility"},  # no decision at all
        {**good, "category": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"},  # gone in v2
        {**good, "puid": "has spaces"},
        {**good, "reporter_email": "someone@example.org"},  # no field outside the format
        {k: v for k, v in good.items() if k != "incompatible_content_ground"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, SCHEMA)


def test_facts_carry_no_words_of_the_comment():
    reasons = ({"code": "banned_word", "word": "secretslur", "start": 0, "end": 10},)
    facts = dsa.statement_for(dsa.Restriction("rejected", "system", reasons=reasons))
    assert "secretslur" not in json.dumps(_record(facts))
