"""Policy edits do what they say: PATCH merges, PUT replaces with defaults, hold <= reject is
checked on the result, and what the API shows is the policy that applies."""

from __future__ import annotations

import pytest

from tests.fakes import FixedScorer

LABELS = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack", "spam")


@pytest.fixture
def admin(factory):
    factory.site()
    return factory.headers(factory.key("admin", site=None), origin=None)


def policy_of(client, admin):
    answer = client.get("/v1/admin/sites/daily/policy", headers=admin)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def patch(client, admin, body, path="/v1/admin/sites/daily/policy"):
    return client.patch(path, json=body, headers=admin)


def test_changing_one_label_keeps_the_others(client, admin):
    assert patch(client, admin, {"thresholds": {"toxicity": {"hold": 0.8}}}).status_code == 200
    answer = patch(client, admin, {"thresholds": {"insult": {"hold": 0.7}}})
    assert answer.status_code == 200
    thresholds = answer.get_json()["thresholds"]
    assert thresholds["toxicity"] == {"hold": 0.8, "reject": None}
    assert thresholds["insult"] == {"hold": 0.7, "reject": None}
    assert all(thresholds[label] == {"hold": 0.5, "reject": None} for label in LABELS[1:4])
    assert policy_of(client, admin)["thresholds"] == thresholds


def test_the_site_patch_merges_policies_the_same_way(client, admin):
    patch(client, admin, {"policy": {"thresholds": {"toxicity": {"hold": 0.8}}}}, "/v1/admin/sites/daily")
    site = patch(
        client, admin, {"policy": {"thresholds": {"insult": {"reject": 0.95}}}}, "/v1/admin/sites/daily"
    ).get_json()
    assert site["policy"]["thresholds"]["toxicity"] == {"hold": 0.8, "reject": None}
    assert site["policy"]["thresholds"]["insult"] == {"hold": 0.5, "reject": 0.95}


@pytest.fixture
def app_config():
    return {"SCORER_INSTANCE": FixedScorer(insult=0.9)}


@pytest.mark.parametrize("path", ["/v1/admin/sites/daily/policy", "/v1/admin/sites/daily"])
def test_sending_only_reject_keeps_holding(client, factory, admin, path):
    """A 0.9 insult is still held after a PATCH that only sets the label's reject to 0.95."""
    body = {"thresholds": {"insult": {"reject": 0.95}}}
    answer = patch(client, admin, body if path.endswith("policy") else {"policy": body}, path)
    assert answer.status_code == 200, answer.get_json()
    assert policy_of(client, admin)["thresholds"]["insult"] == {"hold": 0.5, "reject": 0.95}
    posted = factory.post(factory.key("embed"), "Thanks for the update on the bridge works.")
    assert posted.status_code == 201
    assert posted.get_json()["status"] == "held"


def test_null_turns_one_value_off_and_a_null_label_goes_back_to_defaults(client, factory, admin):
    thresholds = patch(client, admin, {"thresholds": {"insult": {"hold": None}}}).get_json()["thresholds"]
    assert thresholds["insult"] == {"hold": None, "reject": None}
    assert factory.post(factory.key("embed"), "Thanks for the update.").get_json()["status"] == "approved"
    thresholds = patch(client, admin, {"thresholds": {"insult": None}}).get_json()["thresholds"]
    assert thresholds["insult"] == {"hold": 0.5, "reject": None}


@pytest.mark.parametrize(
    ("current", "sent", "field"),
    [
        ({"insult": {"reject": 0.8}}, {"insult": {"hold": 0.9}}, "thresholds.insult.hold"),
        ({}, {"insult": {"reject": 0.3}}, "thresholds.insult.reject"),  # below the default hold 0.5
        ({"threat": {"hold": 0.2}}, {"threat": {"hold": 0.9, "reject": 0.6}}, "thresholds.threat.hold"),
    ],
)
def test_hold_above_reject_in_the_result_is_422_naming_the_field(client, admin, current, sent, field):
    if current:
        assert patch(client, admin, {"thresholds": current}).status_code == 200
    before = policy_of(client, admin)
    answer = patch(client, admin, {"thresholds": sent})
    assert answer.status_code == 422
    problem = answer.get_json()
    assert problem["code"] == "validation-error"
    assert [e["field"] for e in problem["errors"]] == [field]
    assert field in problem["detail"]
    assert policy_of(client, admin) == before  # nothing stored

    site_answer = patch(client, admin, {"policy": {"thresholds": sent}}, "/v1/admin/sites/daily")
    assert site_answer.status_code == 422
    assert [e["field"] for e in site_answer.get_json()["errors"]] == [f"policy.{field}"]


def test_put_replaces_the_policy_and_fills_in_the_defaults(client, admin):
    patch(client, admin, {"thresholds": {"toxicity": {"hold": 0.9}}, "banned_words": ["paywall"]})
    answer = client.put(
        "/v1/admin/sites/daily/policy",
        json={"premoderation": True, "thresholds": {"insult": {"reject": 0.9}}},
        headers=admin,
    )
    assert answer.status_code == 200, answer.get_json()
    policy = answer.get_json()
    assert policy["premoderation"] is True
    assert policy["thresholds"]["toxicity"] == {"hold": 0.5, "reject": None}
    assert policy["thresholds"]["insult"] == {"hold": 0.5, "reject": 0.9}
    assert policy["banned_words"] == []
    assert policy["velocity_per_minute"] == 5  # the default, no longer the factory's lifted limit
    assert policy_of(client, admin) == policy


def test_the_effective_policy_round_trips_through_put(client, admin):
    """Every key GET shows is one PUT takes back, so an edited copy can be saved whole."""
    policy = policy_of(client, admin)
    assert set(policy) >= {"thresholds", "builtin_word_lists", "trust_after_approved", "unsupported_language"}
    assert set(policy["thresholds"]) >= set(LABELS)
    answer = client.put("/v1/admin/sites/daily/policy", json=policy, headers=admin)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == policy


def test_moderators_read_the_policy_but_only_admins_change_it(client, factory, admin):
    moderator = factory.headers(factory.key("moderator"), origin=None)
    assert client.get("/v1/admin/sites/daily/policy", headers=moderator).status_code == 200
    assert patch(client, moderator, {"premoderation": True}).status_code == 403
    assert client.put("/v1/admin/sites/daily/policy", json={}, headers=moderator).status_code == 403


def test_simulation_merges_proposed_thresholds_like_a_patch(client, factory, admin):
    moderator = factory.headers(factory.key("moderator"), origin=None)
    factory.post(factory.key("embed"), "Thanks for the update on the bridge works.")
    result = client.post(
        "/v1/moderation/sites/daily/simulate",
        json={"policy": {"thresholds": {"insult": {"reject": 0.95}}}, "last": 10},
        headers=moderator,
    )
    assert result.status_code == 200, result.get_json()
    assert result.get_json()["changed"] == 0  # still held, not published
    bad = client.post(
        "/v1/moderation/sites/daily/simulate",
        json={"policy": {"thresholds": {"insult": {"reject": 0.2}}}},
        headers=moderator,
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.get_json()["errors"]] == ["policy.thresholds.insult.reject"]
