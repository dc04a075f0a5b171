"""Import jobs through the admin API: the upload is imported in the background, its progress and
outcome readable; a bad file fails naming the problem and leaves the database as it was."""

from __future__ import annotations

import gzip
import time

import pytest

from .test_imports import FIXTURES, counts, snapshot


@pytest.fixture
def gazette(factory):
    factory.site("gazette", origins=("https://news.example",))
    return factory.headers(factory.key("admin", site="gazette"))


def upload(client, headers, body, **query):
    query = {"format": "disqus", **query}
    return client.post(
        "/v1/admin/sites/gazette/imports",
        query_string=query,
        data=body,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )


def finished(client, headers, location, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(location, headers=headers).get_json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"the job did not end: {job}")


def test_an_uploaded_disqus_file_is_imported_in_the_background(app, client, gazette, factory):
    body = (FIXTURES / "disqus.xml").read_bytes()
    response = upload(client, gazette, gzip.compress(body))
    assert response.status_code == 202, response.get_json()
    started = response.get_json()
    assert started["status"] in ("queued", "running", "succeeded")
    assert started["format"] == "disqus" and started["file_bytes"] > 0

    job = finished(client, gazette, response.headers["Location"])
    assert job["status"] == "succeeded", job
    assert job["result"]["added"] == 6 and job["result"]["already_imported"] == 0
    assert job["progress"]["done"] == job["progress"]["total"] and job["progress"]["fraction"] == 1.0
    assert job["comments_read"] == 6 and job["error"] is None and job["finished_at"]

    # The thread is there for readers, as after `flask imports run`.
    key = factory.key("embed", site="gazette")
    thread = client.get("/v1/articles/budget-2027/comments", headers=factory.headers(key))
    assert "Clear explanation" in thread.get_data(as_text=True)

    # Importing the same file again adds nothing; the list shows both jobs, newest first.
    again = finished(client, gazette, upload(client, gazette, body).headers["Location"])
    assert again["result"]["added"] == 0 and again["result"]["already_imported"] == 6
    listed = client.get("/v1/admin/sites/gazette/imports", headers=gazette).get_json()["items"]
    assert [j["id"] for j in listed] == [again["id"], job["id"]]


def test_a_corrupt_file_fails_naming_the_problem_and_imports_nothing(app, client, gazette):
    good = finished(
        client,
        gazette,
        upload(client, gazette, (FIXTURES / "remark42.jsonl").read_bytes(), format="remark42").headers[
            "Location"
        ],
    )
    assert good["status"] == "succeeded"
    before, rows = counts(app), snapshot(app)
    broken = (FIXTURES / "disqus.xml").read_text().replace("2021-04-01T10:00:00Z", "yesterday")
    assert "yesterday" in broken
    job = finished(client, gazette, upload(client, gazette, broken.encode()).headers["Location"])
    assert job["status"] == "failed" and job["result"] is None
    assert "'yesterday' is not a date" in job["error"] and "nothing was imported" in job["error"]
    assert 'dsq:id="1006"' in job["error"]
    assert counts(app) == before and snapshot(app) == rows


def test_bad_requests_are_refused_before_anything_is_stored(app, client, gazette, factory):
    body = (FIXTURES / "disqus.xml").read_bytes()
    wrong = upload(client, gazette, body, format="mbox")
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "format"
    empty = upload(client, gazette, b"")
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["field"] == "body"
    # Moderators and other sites' admins may not import.
    moderator = factory.headers(factory.key("moderator", site="gazette"))
    assert upload(client, moderator, body).status_code == 403
    factory.site("other")
    other = factory.headers(factory.key("admin", site="other"))
    assert upload(client, other, body).status_code == 404
    app.config["IMPORT_MAX_BYTES"] = 100
    too_big = upload(client, gazette, body)
    assert too_big.status_code == 413 and too_big.get_json()["code"] == "body-too-large"
    assert client.get("/v1/admin/sites/gazette/imports", headers=gazette).get_json()["items"] == []
    assert counts(app)["comments"] == 0


def test_a_job_whose_process_stopped_is_reported_failed(app, client, gazette):
    from datetime import timedelta

    from service.db import Site, utcnow
    from service.extensions import db
    from service.imports.jobs import ImportJob

    with app.app_context():
        site_id = db.session.query(Site.id).filter_by(slug="gazette").scalar()
        long_ago = utcnow() - timedelta(minutes=10)
        job = ImportJob(
            site_id=site_id,
            format="disqus",
            options={},
            status="running",
            file_bytes=10,
            total=10,
            done=4,
            created_by="admin",
            created_at=long_ago,
            heartbeat_at=long_ago,
        )
        db.session.add(job)
        db.session.commit()
        location = f"/v1/admin/sites/gazette/imports/{job.id}"
    shown = client.get(location, headers=gazette).get_json()
    assert shown["status"] == "failed" and shown["error"].startswith("interrupted")
    # It no longer blocks a new import of the site.
    response = upload(client, gazette, (FIXTURES / "disqus.xml").read_bytes())
    assert response.status_code == 202
    assert finished(client, gazette, response.headers["Location"])["status"] == "succeeded"
