"""Fixtures: an app on a fresh database per test (SQLite and PostgreSQL), clients, factories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

from service import create_app
from service.config import PROJECT_ROOT
from service.extensions import db

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ORIGIN = "https://news.example"

# A loaded CI machine must not turn a slow example into a failure: properties, not timings.
settings.register_profile("suite", deadline=None, max_examples=200)
settings.load_profile("suite")


def missing(reason: str) -> None:
    """A tool the suite needs is absent: skipped on a developer's machine, a failure in CI
    (scripts/test installs and starts everything, so there it means the set-up broke)."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql", "both"],
        default=os.environ.get("TEST_DB", "both"),
        help="database(s) the app tests run against",
    )


def pytest_generate_tests(metafunc):
    if "db_kind" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--db")
        kinds = ["sqlite", "postgresql"] if choice == "both" else [choice]
        metafunc.parametrize("db_kind", kinds, scope="session")


@pytest.fixture(scope="session")
def embedded_scorer():
    """The real embedded model, loaded once for the whole run."""
    from service.scoring.embedded import EmbeddedScorer

    return EmbeddedScorer.load(PROJECT_ROOT / "models" / "embedded")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _upgrade(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()


class Databases:
    """The run's databases, made on first use and kept to the end of the run: a migrated SQLite file
    and a migrated PostgreSQL database of this test process's own."""

    def __init__(self, root: Path):
        self.root = root
        self.urls: dict[str, str] = {}
        self.pg_name: str | None = None

    def url(self, kind: str) -> str:
        if kind not in self.urls:
            self.urls[kind] = self._make_sqlite() if kind == "sqlite" else self._make_postgresql()
        return self.urls[kind]

    def _make_sqlite(self) -> str:
        url = f"sqlite:///{self.root / 'test.db'}"
        _upgrade(url)
        return url

    def _make_postgresql(self) -> str:
        # One database per test process, so parallel workers and parallel runs never share one.
        self.pg_name = f"cms_test_{_worker()}_{os.getpid()}"
        with self._admin() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{self.pg_name}"'))
        url = PG_URL.rsplit("/", 1)[0] + f"/{self.pg_name}"
        _upgrade(url)
        return url

    def _admin(self):
        return sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool).connect()

    def drop(self) -> None:
        if self.pg_name:
            with self._admin() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    made = Databases(tmp_path_factory.mktemp("databases"))
    yield made
    made.drop()


@pytest.fixture
def database_url(db_kind, databases):
    return databases.url(db_kind)


@pytest.fixture
def clean_database(database_url):
    """Every test starts on empty tables (DELETE: far faster than re-creating on a few rows)."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            if table.name == "settings_events" and conn.dialect.name == "postgresql":
                # The history refuses DELETE (a trigger); TRUNCATE is the operator's way past it.
                conn.execute(sa.text("TRUNCATE settings_events"))
            else:
                conn.execute(table.delete())
    engine.dispose()
    return database_url


@pytest.fixture
def app_config():
    """Tests override settings by returning a dict from this fixture; they then get an app of their own."""
    return {}


def _make_app(database_url, scorer, overrides, instance_path):
    config = {
        "DATABASE_URL": database_url,
        "SCORER_INSTANCE": scorer,
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "RATELIMIT_ENABLED": False,
        # Never the shared Redis, even with REDIS_URL exported: every test resets the limiter.
        "RATELIMIT_STORAGE_URI": "memory://",
        # Under a loaded CI machine a real scorer can miss 250 ms; only deadline tests shorten this.
        "SCORING_DEADLINE_MS": 10_000,
        **overrides,
    }
    app = create_app(config)
    app.instance_path = str(instance_path)
    return app


@pytest.fixture(scope="session")
def shared_apps(databases):
    """Building an app costs about half a second (the OpenAPI spec), so tests share one per database."""
    apps = {}
    yield apps
    for app in apps.values():
        app.extensions["scoring"].close()
        with app.app_context():
            db.engine.dispose()


def reset_caches(app) -> None:
    """A shared app outlives each test's rows: its per-process caches must not."""
    for cache in ("key_cache", "sites", "adapted_models", "articles", "thread_states"):
        app.extensions[cache].clear()
    app.extensions["thread_pages"] = type(app.extensions["thread_pages"])()


@pytest.fixture
def app(clean_database, embedded_scorer, app_config, shared_apps, tmp_path):
    from service.extensions import limiter

    if app_config:
        app = _make_app(clean_database, embedded_scorer, app_config, tmp_path / "instance")
    else:
        app = shared_apps.get(clean_database)
        if app is None:
            app = shared_apps[clean_database] = _make_app(
                clean_database, embedded_scorer, {}, tmp_path / "instance"
            )
        app.instance_path = str(tmp_path / "instance")
    reset_caches(app)
    # Tests may change a setting for themselves (a batch of 2, a run of one batch): on the shared
    # app it would hold for every later test of the process, so it is put back afterwards.
    settings = dict(app.config)
    with app.app_context():
        limiter.reset()
    yield app
    with app.app_context():
        db.session.remove()
    if app_config:
        app.extensions["scoring"].close()
        with app.app_context():
            db.engine.dispose()
    else:
        app.config.clear()
        app.config.update(settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


LIFTED_VELOCITY = {"velocity_per_minute": 1000, "velocity_per_hour": 100000}


class Factory:
    """Sites, keys and comments, made through the same code the API and commands use."""

    def __init__(self, app, client):
        self.app = app
        self.client = client

    def site(self, slug="daily", origins=(ORIGIN,), policy=None):
        """A site; its velocity limits are lifted unless the policy sets them, since most tests
        post many comments from one address in a second (tests/api/test_spam.py checks them)."""
        from service.sites import create_site

        policy = {**LIFTED_VELOCITY, **(policy or {})}
        with self.app.app_context():
            site = create_site(
                {"slug": slug, "name": slug.title(), "allowed_origins": list(origins), "policy": policy}
            )
            return site.id

    def key(self, role, site="daily"):
        from service.sites import issue_key

        with self.app.app_context():
            return issue_key(None, role, site)[1]

    def reader_token(self, sub, name=None, site="daily", **claims):
        """A token the site's backend would sign for its signed-in reader `sub` (the site's SSO
        secret is made on first use)."""
        from service.identity.tokens import reader_token
        from service.sites import rotate_sso, site_by_slug

        secrets = self.__dict__.setdefault("sso_secrets", {})
        if site not in secrets:
            with self.app.app_context():
                secrets[site] = rotate_sso(site_by_slug(site), 0)
        return reader_token(secrets[site], sub, name or sub, **claims)

    def headers(self, key, origin=ORIGIN, **extra):
        headers = {"Authorization": f"Bearer {key}", **extra}
        if origin:
            headers["Origin"] = origin
        return headers

    def render_token(self, article="a1", site="daily", age=30.0):
        """The token the embed gets when it shows the form, as if shown `age` seconds ago."""
        import time

        from service.sites import site_by_slug
        from service.spam.bots import issue_render_token

        with self.app.app_context():
            site_id = site_by_slug(site).id
        return issue_render_token(self.app.config["SECRET_KEY"].encode(), site_id, article, time.time() - age)

    def comment_body(
        self, text="Thanks for this well-researched article.", article="a1", name="Ada", site="daily", **extra
    ):
        """A comment as the embed sends it (with a render token when the site exists)."""
        body = {
            "article": {"id": article, "url": f"{ORIGIN}/news/{article}", "title": f"Article {article}"},
            "author": {"name": name, "email": "ada@example.org"},
            "text": text,
        }
        if self._site_exists(site):
            body["render_token"] = self.render_token(article, site)
        body.update(extra)
        return body

    def _site_of(self, key):
        from service.auth import hash_key
        from service.db import ApiKey, Site

        with self.app.app_context():
            return db.session.scalar(
                sa.select(Site.slug)
                .join(ApiKey, ApiKey.site_id == Site.id)
                .where(ApiKey.key_hash == hash_key(key))
            )

    def _site_exists(self, slug):
        from service.db import Site

        with self.app.app_context():
            return db.session.scalar(sa.select(Site.id).where(Site.slug == slug)) is not None

    def post(
        self,
        key,
        text="Thanks for this well-researched article.",
        article="a1",
        headers=None,
        site=None,
        **extra,
    ):
        return self.client.post(
            "/v1/comments",
            json=self.comment_body(text, article, site=site or self._site_of(key), **extra),
            headers={**self.headers(key), **(headers or {})},
        )


@pytest.fixture
def factory(app, client):
    return Factory(app, client)


@pytest.fixture
def embed_key(factory):
    factory.site()
    return factory.key("embed")


@pytest.fixture
def friendly_text():
    return "Thanks for this well-researched article, I learned a lot."


@pytest.fixture
def insult_text():
    return "You are a stupid idiot and a pathetic loser."


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT
