"""The decision policy, as pure functions: examples and properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.moderation.policy import SEVERITY, CompiledLists, Policy, Thresholds, decide, match_words
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
