"""The moderators' daily digest: what waits in their sites' queues, to each person by e-mail."""

from __future__ import annotations

from service.accounts.store import create_account
from service.jobs.schedule import run_job
from service.sites import site_by_slug


def test_each_moderator_gets_their_sites_queue_sizes(app, factory, embed_key, inbox, insult_text):
    factory.site("weekly")
    weekly_key = factory.key("embed", site="weekly")
    with app.app_context():
        daily = site_by_slug("daily").id
        create_account("Mo Daily", "mo@news.example", None, [(daily, "moderator")])
        create_account("Ann Everywhere", "ann@news.example", None, [(None, "admin")])
        create_account("Idle Weekly", "idle@news.example", None, [(site_by_slug("weekly").id, "moderator")])
    for i in range(2):
        factory.post(embed_key, text=f"{insult_text} #{i}")
    factory.post(embed_key, text="A friendly comment that is published.")
    assert run_job(app, "moderator-digest", force=True).counts == {"digests": 2}

    [mo] = inbox.to("mo@news.example")
    assert mo["Subject"] == "2 comments waiting for moderation"
    assert "Daily: 2 held, 0 pending, 0 reported" in mo.get_content()
    assert "https://comments.news.example/console" in mo.get_content()
    [ann] = inbox.to("ann@news.example")
    assert "Daily: 2 held" in ann.get_content() and "Weekly" not in ann.get_content()
    assert inbox.to("idle@news.example") == []  # nothing waits on their site: no e-mail
    assert weekly_key
