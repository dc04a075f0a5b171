"""Browser fixtures: the real app in a live server thread, and Debian's chromium through Playwright.

Pinned to SQLite: these tests exercise the pages (embed, console) in a real browser, not the
storage, which the API suite already runs on both databases; the live server owns one SQLite
file for the whole session so the suite stays within a few minutes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from service import create_app
from service.extensions import db
from service.identity.tokens import reader_token
from service.sites import site_by_slug, update_site
from service.spam.bots import issue_render_token
from tests.conftest import missing, reset_caches

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Tables emptied between tests; the demo site and its keys stay for the whole session.
KEPT_TABLES = {"sites", "api_keys"}
# The tests post many comments from one address within seconds; the velocity rule's own tests
# are in tests/api/test_spam.py.
LIFTED_VELOCITY = {"velocity_per_minute": 1000, "velocity_per_hour": 100000}
DEMO_ARTICLE = "demo-lighthouse-restoration"


def _email(name: str) -> str:
    """A distinct address per author name, whatever characters the name holds."""
    return f"reader-{hashlib.sha256(name.encode()).hexdigest()[:10]}@example.org"


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # one line per request drowns the test output
        pass


@dataclass
class LiveServer:
    app: object
    url: str
    keys: dict[str, str]

    def post(
        self,
        text: str,
        *,
        name: str = "Reader",
        article: str = DEMO_ARTICLE,
        title: str = "Harbour lighthouse lit again after a two-year restoration",
        parent_id: int | None = None,
        reader: str | None = None,
        **extra,
    ) -> dict:
        """Post a comment through the public API as the embed does: with a render token from a
        form shown 30 s ago, and signed in as `reader` (a user id) if given, named `name`."""
        body = {"article": {"id": article, "url": f"{self.url}/demo", "title": title}, "text": text}
        if reader:
            body["reader_token"] = self.reader_token(reader, name)
        else:
            body["author"] = {"name": name, "email": _email(name)}
        body["render_token"] = self.render_token(article)
        if parent_id:
            body["parent_id"] = parent_id
        body.update(extra)
        client = self.app.test_client()
        response = client.post(
            "/v1/comments",
            json=body,
            headers={"Authorization": f"Bearer {self.keys['embed']}", "Origin": self.url},
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def reader_token(self, sub: str, name: str, **kwargs) -> str:
        """What the demo site's backend signs for its signed-in reader `sub`."""
        return reader_token(self.keys["sso_secret"], sub, name, **kwargs)

    def render_token(self, article: str = DEMO_ARTICLE, age: float = 30.0) -> str:
        with self.app.app_context():
            site_id = site_by_slug("demo").id
        return issue_render_token(self.app.config["SECRET_KEY"], site_id, article, time.time() - age)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, embedded_scorer):
    from flask_migrate import upgrade

    from service.demo import ensure_demo

    root = tmp_path_factory.mktemp("live")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{root / 'live.db'}",
            "SCORER_INSTANCE": embedded_scorer,
            "SECRET_KEY": "browser-tests",
            "RATELIMIT_ENABLED": False,
            "SCORING_DEADLINE_MS": 10_000,
            "WEBHOOK_ALLOW_PRIVATE": "127.0.0.1",  # the webhooks page test targets a closed local port
        }
    )
    app.instance_path = str(root / "instance")
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    url = f"http://127.0.0.1:{server.server_port}"
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        ensure_demo(app, url)
        update_site(site_by_slug("demo"), {"policy": LIFTED_VELOCITY})
    keys = json.loads((Path(app.instance_path) / "demo-keys.json").read_text())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(app, url, keys)
    server.shutdown()
    thread.join(5)
    app.extensions["scoring"].close()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def server(live_server):
    """The live server with no comments, reports or events left by an earlier test."""
    with live_server.app.app_context():
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in KEPT_TABLES:
                    conn.execute(table.delete())
        db.session.remove()
    reset_caches(live_server.app)
    return live_server


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        missing("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class PageErrors:
    """Everything that must not happen on a page: dialogs and uncaught errors."""

    def __init__(self):
        self.dialogs: list[str] = []
        self.errors: list[str] = []

    def watch(self, page):
        def on_dialog(dialog):
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page


@pytest.fixture
def page_errors():
    return PageErrors()


@pytest.fixture
def new_page(browser, page_errors):
    """Pages in fresh browser contexts (separate session storage), closed after the test."""
    contexts = []

    def make(viewport=None, **options):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return page_errors.watch(context.new_page())

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def console(server, new_page):
    """A console page signed in with the demo moderator key."""

    def open_console(key: str | None = None):
        page = new_page()
        page.goto(f"{server.url}/console")
        page.fill("#key-input", key or server.keys["moderator"])
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#queue-view:not([hidden])")
        return page

    return open_console
