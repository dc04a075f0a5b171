"""The decision policy, as pure functions: examples and properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.moderation.policy import (
    POLICY_LABELS,
    SEVERITY,
    CompiledLists,
    Policy,
    Thresholds,
    decide,
    match_words,
    merge_policy,
    threshold_errors,
)
from service.scoring.base import LABELS

scores_strategy = st.fixed_dictionaries({label: st.floats(0, 1) for label in LABELS})
threshold_strategy = st.tuples(
    st.one_of(st.none(), st.floats(0, 1)), st.one_of(st.none(), st.floats(0, 1))
).map(lambda t: Thresholds(t[0], None if t[1] is None or (t[0] is not None and t[1] < t[0]) else t[1]))
policy_strategy = st.builds(
    Policy,
    thresholds=st.fixed_dictionaries({label: threshold_strategy for label in LABELS}),
    premoderation=st.booleans(),
)
standing = st.sampled_from(["regular", "trusted", "suspended", "banned"])
LOW = {label: 0.01 for label in LABELS}


def test_low_scores_publish_and_high_scores_hold():
    policy = Policy()
    assert decide(LOW, policy).status == "approved"
    decision = decide(LOW | {"insult": 0.93}, policy)
    assert decision.status == "held"
    assert decision.reasons[0].to_dict() == {
        "code": "label_above_hold",
        "label": "insult",
        "score": 0.93,
        "threshold": 0.5,
    }


def test_reject_threshold_rejects():
    policy = Policy.from_dict({"thresholds": {"threat": {"hold": 0.4, "reject": 0.9}}})
    decision = decide(LOW | {"threat": 0.95}, policy)
    assert decision.status == "rejected"
    assert decision.reasons[0].code == "label_above_reject"


def test_banned_word_rejects_and_suspect_word_holds_with_reasons():
    policy = Policy(banned_words=("scum*",), suspect_words=("moron",))
    lists = CompiledLists.from_policy(policy)
    banned, suspect = match_words("you m0r0n", lists)
    decision = decide(LOW, policy, banned=banned, suspect=suspect)
    assert decision.status == "held"
    assert decision.reasons[0].to_dict() == {"code": "suspect_word", "word": "moron", "start": 4, "end": 9}
    assert decision.reasons[0].matched == "m0r0n"
    banned, suspect = match_words("scumbags", lists)
    assert decide(LOW, policy, banned=banned, suspect=suspect).status == "rejected"


def test_missing_scores_leave_the_comment_pending_unless_a_word_rejects():
    policy = Policy(banned_words=("scum",))
    assert decide(None, policy).status == "pending"
    banned, _ = match_words("scum", CompiledLists.from_policy(policy))
    assert decide(None, policy, banned=banned).status == "rejected"


def test_trusted_authors_skip_premoderation_but_not_scores():
    policy = Policy(premoderation=True)
    assert decide(LOW, policy, author="trusted").status == "approved"
    assert decide(LOW, policy, author="regular").status == "held"
    assert decide(LOW | {"toxicity": 0.9}, policy, author="trusted").status == "held"


def test_banned_authors_follow_the_site_setting():
    assert decide(LOW, Policy(), author="banned").status == "rejected"
    assert decide(LOW, Policy(banned_author_status="held"), author="suspended").status == "held"


def test_policy_round_trips_through_json():
    policy = Policy.from_dict(
        {"thresholds": {"insult": {"hold": 0.3, "reject": 0.8}}, "suspect_words": ["x"], "unknown": 1}
    )
    assert Policy.from_dict(policy.to_dict()) == policy


@given(scores_strategy, policy_strategy, standing, st.sampled_from(LABELS), st.floats(0, 1))
def test_raising_a_score_never_makes_the_decision_more_lenient(scores, policy, author, label, bump):
    before = decide(scores, policy, author=author)
    after = decide(scores | {label: max(scores[label], bump)}, policy, author=author)
    assert SEVERITY[after.status] >= SEVERITY[before.status]


@given(scores_strategy, policy_strategy, standing)
def test_every_decision_but_approval_has_a_reason(scores, policy, author):
    decision = decide(scores, policy, author=author)
    assert (decision.status == "approved") == (not decision.reasons)


@given(scores_strategy, policy_strategy)
def test_decision_follows_the_thresholds(scores, policy):
    decision = decide(scores, policy)
    over_reject = any(
        t.reject is not None and scores[label] >= t.reject for label, t in policy.thresholds.items()
    )
    over_hold = any(t.hold is not None and scores[label] >= t.hold for label, t in policy.thresholds.items())
    if over_reject:
        assert decision.status == "rejected"
    elif over_hold or policy.premoderation:
        assert decision.status == "held"
    else:
        assert decision.status == "approved"


@given(scores_strategy, policy_strategy, standing)
def test_adding_a_premoderation_or_suspect_reason_never_publishes(scores, policy, author):
    from service.moderation.wordlists import WordMatch

    plain = decide(scores, policy, author=author)
    flagged = decide(
        scores, policy, author=author, article_premoderated=True, suspect=[WordMatch("x", 0, 1, "x")]
    )
    assert SEVERITY[flagged.status] >= SEVERITY[plain.status]


# --- changing a policy (PATCH and PUT) ---------------------------------------------------------

value_strategy = st.one_of(st.none(), st.floats(0, 1))
label_change = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional={"hold": value_strategy, "reject": value_strategy}),
)
thresholds_change = st.dictionaries(st.sampled_from(POLICY_LABELS), label_change, max_size=4)


@given(thresholds_change, thresholds_change)
def test_a_patch_changes_only_the_values_it_sends(first, second):
    """After two PATCHes, each label's effective values are the last ones sent for it, value by
    value, and the defaults where nothing was sent (or the label was reset with null)."""
    stored = merge_policy(merge_policy({}, {"thresholds": first}), {"thresholds": second})
    effective = Policy.from_dict(stored).thresholds
    for label in POLICY_LABELS:
        for value in ("hold", "reject"):
            expected = getattr(Thresholds(), value)
            for change in (first, second):
                if label in change:
                    if change[label] is None:
                        expected = getattr(Thresholds(), value)
                    elif value in change[label]:
                        expected = change[label][value]
            assert getattr(effective[label], value) == expected, (label, value)


def test_sending_only_reject_keeps_hold_and_other_keys_stay():
    stored = merge_policy(
        {"premoderation": True, "thresholds": {"insult": {"hold": 0.6}, "toxicity": {"hold": 0.8}}},
        {"thresholds": {"insult": {"reject": 0.95}}},
    )
    policy = Policy.from_dict(stored)
    assert policy.premoderation is True
    assert policy.thresholds["insult"] == Thresholds(0.6, 0.95)
    assert policy.thresholds["toxicity"] == Thresholds(0.8, None)
    assert policy.thresholds["threat"] == Thresholds(0.5, None)
    assert decide(LOW | {"insult": 0.9}, policy).status == "held"


def test_hold_above_reject_names_the_value_the_request_sent():
    stored = merge_policy(
        {"thresholds": {"insult": {"reject": 0.8}}}, {"thresholds": {"insult": {"hold": 0.9}}}
    )
    assert [f for f, _ in threshold_errors(stored, {"thresholds": {"insult": {"hold": 0.9}}})] == [
        "thresholds.insult.hold"
    ]
    sent = {"thresholds": {"threat": {"reject": 0.2}}}
    assert [f for f, _ in threshold_errors(merge_policy({}, sent), sent)] == ["thresholds.threat.reject"]
    assert (
        threshold_errors(merge_policy({}, {"thresholds": {"threat": {"hold": None, "reject": 0.2}}}), {})
        == []
    )
