"""A person's data (issue 15 item 7), on both databases: one request erases everything about
them (the test reads every text and JSON column of every table) while the moderation events
stay; their export holds their comments, reports and notices; author keys derived from e-mails
are keyed with the instance's secret, and the migration re-keys the old plain digests."""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from flask_migrate import stamp, upgrade

from service.db import Author, Comment, ModerationEvent, OutboxEvent, Reaction, Report
from service.extensions import db
from service.privacy import email_author_key

NAME = "Zebulon Quixwright"
EMAIL = "Zebulon.Q@person.example"
SUB = "zq-7"
TEXTS = (
    "Zebulon thinks the harbour budget forgot the ferry timetable entirely.",
    "Zebulon adds that the ferry pier lights were broken all winter long.",
    "Zebulon posted this one without signing in, about the harbour tolls.",
)
REPORT_NOTE = "Zebulon says this comment copies his harbour essay word for word."
APPEAL_TEXT = "Zebulon appeals: the budget comment was on topic, the article is about the ferry."
NOTICE_TEXT = "Zebulon notifies that this comment defames the harbour master by name."
OTHER_TEXT = "Olga disagrees: the ferry timetable was published in March."


def _post(factory, sso, text, **extra):
    answer = factory.client.post(
        "/v1/comments", json=factory.comment_body(text, **extra), headers=factory.headers(sso.embed)
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def _leave_traces(factory, sso):
    """The person comments (signed in, and once not), reports and notifies; a moderator rejects
    one of their comments and suspends them. Olga comments too."""
    client = factory.client
    token = sso.token(SUB, NAME, email=EMAIL)
    mine = [_post(factory, sso, text, reader_token=token) for text in TEXTS[:2]]
    mine.append(
        _post(
            factory,
            sso,
            TEXTS[2],
            author={"name": NAME, "email": EMAIL.lower()},
        )
    )
    # A post retried with an Idempotency-Key.
    retried = client.post(
        "/v1/comments",
        json=factory.comment_body(TEXTS[0] + " Again.", reader_token=token),
        headers=factory.headers(sso.embed, **{"Idempotency-Key": "zq-retry-1"}),
    )
    assert retried.status_code == 201, retried.get_json()
    mine.append(retried.get_json()["id"])
    olga = _post(factory, sso, OTHER_TEXT, author={"name": "Olga Other", "email": "olga@other.example"})
    reported = client.post(
        f"/v1/comments/{olga}/reports",
        json={"reason": "other", "note": REPORT_NOTE, "reader_token": token},
        headers=factory.headers(sso.embed),
    )
    assert reported.status_code == 201, reported.get_json()
    liked = client.post(
        f"/v1/comments/{olga}/reactions", json={"reader_token": token}, headers=factory.headers(sso.embed)
    )
    assert liked.status_code == 201, liked.get_json()
    notice = client.post(
        f"/v1/comments/{olga}/notices",
        json={
            "category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            "explanation": NOTICE_TEXT,
            "name": NAME,
            "email": EMAIL,
            "good_faith": True,
        },
        headers=factory.headers(sso.embed),
    )
    assert notice.status_code == 201, notice.get_json()
    moderator = factory.headers(sso.moderator, origin=None)
    rejected = client.post(
        f"/v1/moderation/comments/{mine[0]}/decision",
        json={"status": "rejected", "reason": "off-topic", "note": "off topic"},
        headers=moderator,
    )
    assert rejected.status_code == 200, rejected.get_json()
    [statement] = [
        e.payload["data"]
        for e in _outbox(factory.app, "statement.created")
        if e.payload["data"]["comment_id"] == mine[0]
    ]
    appealed = client.post(f"{statement['statement_path']}/appeal", json={"text": APPEAL_TEXT})
    assert appealed.status_code == 201, appealed.get_json()
    suspended = client.put(
        f"/v1/moderation/authors?site=daily&key=sso:{SUB}",
        json={"standing": "banned", "note": "repeated spam"},
        headers=moderator,
    )
    assert suspended.status_code == 200, suspended.get_json()
    return mine, olga


def _outbox(app, event_type):
    with app.app_context():
        return (
            db.session.execute(sa.select(OutboxEvent).where(OutboxEvent.type == event_type)).scalars().all()
        )


def _traces(app, needles):
    """Every (table, column) whose text or JSON holds one of the needles, read through the
    database's own metadata (so tables added later are searched too)."""
    found = []
    lowered = [n.lower() for n in needles]
    with app.app_context():
        metadata = sa.MetaData()
        metadata.reflect(bind=db.engine)
        for table in metadata.sorted_tables:
            # Text types are Strings; PostgreSQL's JSONB is a JSON.
            columns = [c for c in table.columns if isinstance(c.type, (sa.String, sa.JSON))]
            if not columns:
                continue
            for row in db.session.execute(sa.select(*columns)).all():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    text = value if isinstance(value, str) else json.dumps(value, default=str)
                    text = text.lower()
                    found += [(table.name, column.name, n) for n in lowered if n in text]
    return found


def test_one_request_erases_everything_about_a_person_and_keeps_the_events(app, client, factory, sso):
    mine, olga = _leave_traces(factory, sso)
    needles = [NAME, EMAIL, *TEXTS, REPORT_NOTE, NOTICE_TEXT, APPEAL_TEXT]
    before = _traces(app, needles)
    assert {t[2] for t in before} == {n.lower() for n in needles}
    # JSON columns are read too: webhook payloads kept for replay hold the name and texts.
    assert ("outbox_events", "payload", NAME.lower()) in before
    with app.app_context():
        events_before = db.session.scalar(sa.select(sa.func.count()).select_from(ModerationEvent))

    admin = factory.headers(sso.admin, origin=None)
    answer = client.post(
        "/v1/admin/sites/daily/author-erasure",
        json={"key": f"sso:{SUB}", "email": EMAIL, "note": "erasure request of 28 Nov"},
        headers=admin,
    )
    assert answer.status_code == 200, answer.get_json()
    done = answer.get_json()
    assert (done["comments"], done["authors"], done["reports"], done["notices"], done["appeals"]) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert done["reactions"] == 1

    assert _traces(app, needles) == []
    with app.app_context():
        # The audit trail stays: every earlier event, and one "deleted" event per comment.
        events = db.session.execute(sa.select(ModerationEvent)).scalars().all()
        assert len(events) == events_before + 4
        assert sorted(e.comment_id for e in events if e.to_status == "deleted") == sorted(mine)
        assert any(e.comment_id == mine[0] and e.to_status == "rejected" for e in events)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Author)) == 0
        # Olga's comment keeps its report (counted, anonymous) and her own data.
        report = db.session.execute(sa.select(Report)).scalar_one()
        assert report.comment_id == olga and report.note == "" and not report.reporter_key.startswith("sso:")
        assert db.session.get(Comment, olga).text == OTHER_TEXT
        # Her comment keeps the like too, no longer the person's.
        reaction = db.session.execute(sa.select(Reaction)).scalar_one()
        assert reaction.comment_id == olga and reaction.reactor_key.startswith("erased:")
        assert db.session.get(Comment, olga).reaction_count == 1
    # Asked again: nothing left to erase, nothing fails.
    again = client.post("/v1/admin/sites/daily/author-erasure", json={"email": EMAIL}, headers=admin)
    assert again.status_code == 200 and again.get_json()["comments"] == 0


def test_an_erasure_names_the_person_and_needs_an_admin(client, factory, sso):
    admin = factory.headers(sso.admin, origin=None)
    nobody = client.post("/v1/admin/sites/daily/author-erasure", json={"note": "x"}, headers=admin)
    assert nobody.status_code == 422 and nobody.get_json()["errors"][0]["field"] == "key"
    bad = client.post("/v1/admin/sites/daily/author-erasure", json={"email": 7}, headers=admin)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "email"
    moderator = factory.headers(sso.moderator, origin=None)
    refused = client.post("/v1/admin/sites/daily/author-erasure", json={"email": EMAIL}, headers=moderator)
    assert refused.status_code == 403


def test_the_export_holds_their_comments_reports_and_notices(app, client, factory, sso):
    mine, olga = _leave_traces(factory, sso)
    admin = factory.headers(sso.admin, origin=None)
    answer = client.get(f"/v1/admin/sites/daily/author-export?email={EMAIL}", headers=admin)
    assert answer.status_code == 200
    lines = [json.loads(line) for line in answer.get_data(as_text=True).splitlines()]
    kinds = [line.get("type") for line in lines]
    assert kinds == [None, "author", "report", "notice", "appeal", "comment", "comment", "comment", "comment"]
    assert lines[2]["note"] == REPORT_NOTE and lines[2]["comment_id"] == olga
    assert lines[3]["explanation"] == NOTICE_TEXT and lines[3]["reporter"]["email"] == EMAIL
    assert lines[4]["text"] == APPEAL_TEXT and lines[4]["comment_id"] == mine[0]
    assert sorted(line["id"] for line in lines[5:]) == sorted(mine)
    assert {line["author"]["email"].lower() for line in lines[5:]} == {EMAIL.lower()}
    # By key alone: the signed-in reader's comments, report and notices sent signed out by e-mail not.
    by_key = client.get(f"/v1/admin/sites/daily/author-export?key=sso:{SUB}", headers=admin)
    kinds = [json.loads(line).get("type") for line in by_key.get_data(as_text=True).splitlines()]
    assert kinds == [None, "author", "report", "appeal", "comment", "comment", "comment"]


def test_keys_from_e_mails_are_keyed_and_the_migration_re_keys_old_digests(app, client, factory, sso):
    secret = app.config["SECRET_KEY"]
    keyed = email_author_key(EMAIL, secret)
    assert keyed == email_author_key(" zebulon.q@PERSON.example ", secret)
    plain = hashlib.sha256(EMAIL.casefold().encode()).hexdigest()
    assert plain not in keyed and keyed != email_author_key(EMAIL, secret + "-another-instance")

    # Rows written before verified readers carried the plain digest as the author key.
    legacy = f"email:{plain}"
    comment_id = _post(factory, sso, TEXTS[2], author={"name": NAME, "email": EMAIL})
    other = _post(factory, sso, OTHER_TEXT, author={"name": "Olga Other", "email": "olga@other.example"})
    with app.app_context():
        db.session.execute(sa.update(Comment).where(Comment.id == comment_id).values(author_key=legacy))
        site_id = db.session.get(Comment, comment_id).site_id
        db.session.add(Author(site_id=site_id, author_key=legacy, approved_count=1))
        db.session.execute(
            sa.insert(Report).values(
                site_id=site_id, comment_id=other, reporter_key=legacy, reason="spam", weight=1.0
            )
        )
        db.session.commit()
        directory = app.extensions["migrate"].directory
        stamp(directory=directory, revision="0017")
        upgrade(directory=directory, revision="0018")
        stamp(directory=directory, revision="heads")
        db.session.expire_all()
        assert db.session.get(Comment, comment_id).author_key == keyed
        assert db.session.execute(sa.select(Author.author_key)).scalar_one() == keyed
        assert db.session.execute(sa.select(Report.reporter_key)).scalar_one() == keyed
        assert db.session.get(Comment, other).author_key is None

    # Named by e-mail, the erasure finds the re-keyed rows: the author row and report go too.
    answer = client.post(
        "/v1/admin/sites/daily/author-erasure",
        json={"email": EMAIL},
        headers=factory.headers(sso.admin, origin=None),
    )
    assert answer.status_code == 200, answer.get_json()
    done = answer.get_json()
    assert (done["comments"], done["authors"], done["reports"]) == (1, 1, 1)
