"""Readers' reports: one per verified reader or per network, weighed; dismissed reports stay dismissed."""

from __future__ import annotations

import pytest

from service.identity.tokens import reader_token

MOD_QUEUE = "/v1/moderation/comments?site=daily&queue=reported"


def _published(factory, sso):
    answer = factory.client.post(
        "/v1/comments",
        json=factory.comment_body("A fair point about the budget."),
        headers=factory.headers(sso.embed),
    ).get_json()
    assert answer["status"] == "approved"
    return answer["id"]


def _report(factory, sso, comment_id, address="203.0.113.7", **body):
    return factory.client.post(
        f"/v1/comments/{comment_id}/reports",
        json={"reason": "abuse", **body},
        headers=factory.headers(sso.embed),
        environ_base={"REMOTE_ADDR": address},
    )


def _status(factory, sso, comment_id):
    return factory.client.get(
        f"/v1/moderation/comments/{comment_id}", headers=factory.headers(sso.moderator, origin=None)
    ).get_json()


def test_made_up_reporter_ids_from_one_address_count_once(factory, sso):
    comment_id = _published(factory, sso)
    answers = [_report(factory, sso, comment_id, reporter_id=f"made-up-{i}").status_code for i in range(10)]
    assert answers[0] == 201 and set(answers[1:]) == {409}
    assert _status(factory, sso, comment_id)["status"] == "approved"


def test_one_network_counts_once_whatever_its_addresses(factory, sso):
    comment_id = _published(factory, sso)
    assert _report(factory, sso, comment_id, address="198.51.100.7").status_code == 201
    assert _report(factory, sso, comment_id, address="198.51.100.200").status_code == 409
    assert _report(factory, sso, comment_id, address="2001:db8:1:2::1").status_code == 201
    assert _report(factory, sso, comment_id, address="2001:db8:1:2:ffff::9").status_code == 409


def test_three_verified_readers_send_a_comment_to_the_reported_queue(factory, sso):
    comment_id = _published(factory, sso)
    for reader in ("r1", "r2", "r3"):
        token = reader_token(sso.secret, reader, reader.upper())
        assert _report(factory, sso, comment_id, reader_token=token).status_code == 201
    item = _status(factory, sso, comment_id)
    assert item["status"] == "held" and item["report_weight"] == 3
    assert {r["reporter"] for r in item["reports"]} == {"verified"}
    queue = factory.client.get(MOD_QUEUE, headers=factory.headers(sso.moderator, origin=None)).get_json()
    assert [i["id"] for i in queue["items"]] == [comment_id]


def test_anonymous_networks_weigh_half_a_verified_reader(factory, sso):
    comment_id = _published(factory, sso)
    for n in range(5):
        _report(factory, sso, comment_id, address=f"192.0.{n}.10")
    assert _status(factory, sso, comment_id)["status"] == "approved"
    _report(factory, sso, comment_id, address="192.0.9.10")
    assert _status(factory, sso, comment_id)["status"] == "held"


def test_a_reporters_own_verified_report_is_refused_with_a_bad_token(factory, sso):
    comment_id = _published(factory, sso)
    answer = _report(factory, sso, comment_id, reader_token="not-a-token")
    assert answer.status_code == 401 and answer.get_json()["code"] == "invalid-reader-token"


def test_dismissed_reports_cannot_send_the_comment_back(factory, sso):
    comment_id = _published(factory, sso)
    tokens = [reader_token(sso.secret, r, r) for r in ("r1", "r2", "r3")]
    for token in tokens:
        _report(factory, sso, comment_id, reader_token=token)
    assert _status(factory, sso, comment_id)["status"] == "held"

    dismissed = factory.client.post(
        f"/v1/moderation/comments/{comment_id}/reports/dismiss",
        json={"note": "fair criticism"},
        headers=factory.headers(sso.moderator, origin=None),
    )
    assert dismissed.status_code == 200
    item = dismissed.get_json()
    assert item["status"] == "approved" and item["report_weight"] == 0
    assert {r["outcome"] for r in item["reports"]} == {"dismissed"}

    for token in tokens:
        assert _report(factory, sso, comment_id, reader_token=token).status_code == 409
    assert _status(factory, sso, comment_id)["status"] == "approved"
    thread = factory.client.get("/v1/articles/a1/comments", headers=factory.headers(sso.embed)).get_json()
    assert [c["id"] for c in thread["comments"]] == [comment_id]


def test_readers_whose_reports_are_dismissed_count_less(factory, sso):
    token = reader_token(sso.secret, "serial-reporter", "S")
    for _ in range(3):
        comment_id = _published(factory, sso)
        _report(factory, sso, comment_id, reader_token=token)
        factory.client.post(
            f"/v1/moderation/comments/{comment_id}/reports/dismiss",
            json={},
            headers=factory.headers(sso.moderator, origin=None),
        )
    comment_id = _published(factory, sso)
    _report(factory, sso, comment_id, reader_token=token)
    assert _status(factory, sso, comment_id)["reports"][0]["weight"] == pytest.approx(0.25)


def test_a_report_flood_from_one_network_weighs_nothing_and_shows(factory, sso, client):
    client.patch(
        "/v1/admin/sites/daily",
        json={"policy": {"report_flood_per_hour": 2}},
        headers=factory.headers(sso.admin, origin=None),
    )
    ids = [_published(factory, sso) for _ in range(3)]
    for comment_id in ids:
        assert _report(factory, sso, comment_id, address="203.0.113.50").status_code == 201
    last = _status(factory, sso, ids[-1])["reports"][0]
    assert last["flood"] is True and last["weight"] == 0
    assert _status(factory, sso, ids[0])["reports"][0]["flood"] is False
