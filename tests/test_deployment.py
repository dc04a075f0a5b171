"""Production settings, the Dockerfile and compose.yaml: what an operator meets on a first deployment."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from service.cli import main
from service.config import PROJECT_ROOT, ConfigurationError, load_settings

GOOD_KEY = "9f2c" * 16
PG = "postgresql+psycopg://app@db/comments"


# --- production settings ------------------------------------------------------------------------


def test_development_runs_on_embedded_defaults_with_nothing_set():
    settings = load_settings(environ={})
    assert settings["SERVICE_ENV"] == "development"
    assert settings["DATABASE_URL"] == f"sqlite:///{PROJECT_ROOT / 'instance' / 'comments.db'}"
    assert settings["SECRET_KEY"] == ""  # made on first start and kept in the instance folder


def test_production_without_a_secret_key_or_database_names_both_and_how_to_set_them():
    with pytest.raises(ConfigurationError) as raised:
        load_settings(environ={"SERVICE_ENV": "production"})
    message = str(raised.value)
    assert "SECRET_KEY is not set" in message and "secrets.token_hex(32)" in message
    assert "DATABASE_URL is not set" in message and "postgresql+psycopg://" in message


def test_production_refuses_a_short_secret_key():
    with pytest.raises(ConfigurationError) as raised:
        load_settings(environ={"SERVICE_ENV": "production", "SECRET_KEY": "changeme", "DATABASE_URL": PG})
    assert raised.value.problems == [
        "SECRET_KEY is too short (8 characters; at least 32): make one with"
        " `python3 -c 'import secrets; print(secrets.token_hex(32))'`"
    ]


def test_production_starts_with_a_real_key_and_an_explicit_database():
    settings = load_settings(
        environ={"SERVICE_ENV": "production", "SECRET_KEY": GOOD_KEY, "DATABASE_URL": PG}
    )
    assert settings["DATABASE_URL"] == PG and settings["SECRET_KEY"] == GOOD_KEY


def test_an_unknown_environment_is_refused_rather_than_taken_for_development():
    with pytest.raises(
        ConfigurationError, match="SERVICE_ENV is 'prod': set it to development or production"
    ):
        load_settings(environ={"SERVICE_ENV": "prod"})


def test_the_default_sqlite_file_lives_in_the_instance_folder(tmp_path):
    settings = load_settings(environ={"INSTANCE_PATH": str(tmp_path / "data")})
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'data' / 'comments.db'}"


def test_the_app_refuses_to_build_in_production_without_its_settings():
    from service import create_app

    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"SERVICE_ENV": "production", "DATABASE_URL": "sqlite://"})


# --- the Dockerfile -----------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    text = (PROJECT_ROOT / "Dockerfile").read_text()
    instructions, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            keyword, _, rest = pending.strip().partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
            pending = ""
    return instructions


def dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, rest in dockerfile_instructions():
        if keyword == "ENV":
            env.update(part.split("=", 1) for part in shlex.split(rest))
    return env


def test_the_image_writes_only_to_a_data_folder_owned_by_its_user():
    instructions = dockerfile_instructions()
    env = dockerfile_env()
    data = env["INSTANCE_PATH"]
    settings = load_settings(environ={**env, "SERVICE_ENV": "development"})
    # The instance folder and the default SQLite file are that folder, which the image makes and
    # hands to the user the processes run as.
    assert settings["INSTANCE_PATH"] == data
    assert settings["DATABASE_URL"] == f"sqlite:///{data}/comments.db"
    runs = " && ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert f"mkdir -p {data}" in runs and f"chown app:app {data}" in runs
    user = [rest for keyword, rest in instructions if keyword == "USER"]
    assert user == ["app"]
    assert env["SERVICE_ENV"] == "production"
    assert Path(env["EMBEDDED_MODEL_PATH"]) == Path("/app/models/embedded")
    assert ("COPY", "models ./models") in instructions and ("WORKDIR", "/app") in instructions


def test_the_image_commands_are_commands_of_the_service():
    instructions = dict(dockerfile_instructions())
    assert json.loads(instructions["ENTRYPOINT"]) == ["comment-service"]
    (default,) = json.loads(instructions["CMD"])
    for command in (default, "release", "worker", "beat"):
        assert command in main.commands, command


def test_compose_runs_web_worker_beat_on_postgresql_and_redis_after_the_release_step():
    compose = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "release", "proxy"} <= set(services)
    assert services["release"]["command"] == ["release"]
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["command"][0] == name and name in main.commands
        assert service["depends_on"]["release"] == {"condition": "service_completed_successfully"}
        env = service["environment"]
        assert env["SERVICE_ENV"] == "production"
        assert (
            env["DATABASE_URL"].startswith("postgresql+psycopg://")
            and "@postgres:5432/" in env["DATABASE_URL"]
        )
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379")
        assert env["RATELIMIT_STORAGE_URI"].startswith("redis://redis:6379")
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # compose refuses to start without it
    assert services["release"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert "deploy/haproxy.cfg" in services["proxy"]["volumes"][0]


# --- the container's commands, run here as the image runs them -----------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def container_dirs(tmp_path_factory):
    """A read-only working directory (like /app) and a data folder (like /data). Root writes
    anywhere, so the tests also check that nothing was written outside the data folder."""
    root = Path(tmp_path_factory.mktemp("container"))
    workdir, data = root / "app", root / "data"
    workdir.mkdir()
    data.mkdir()
    workdir.chmod(0o555)
    yield workdir, data
    workdir.chmod(0o755)


def _service_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from service.cli import main; main()", *args]


def test_production_commands_without_settings_fail_with_one_clear_message(container_dirs):
    workdir, data = container_dirs
    env = {**os.environ, "SERVICE_ENV": "production", "INSTANCE_PATH": str(data)}
    for name in ("SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    for command in ("release", "web", "worker", "beat"):
        done = subprocess.run(
            _service_command(command),
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, (command, done.stderr)
        assert "SECRET_KEY is not set" in done.stderr and "DATABASE_URL is not set" in done.stderr
        assert "Traceback" not in done.stderr
    assert list(data.iterdir()) == []  # nothing written: no key file made up


@pytest.mark.slow
def test_release_then_web_serve_from_a_read_only_working_directory(container_dirs):
    workdir, data = container_dirs
    port = _free_port()
    env = {
        **os.environ,
        "SERVICE_ENV": "production",
        "INSTANCE_PATH": str(data),
        "SECRET_KEY": GOOD_KEY,
        "DATABASE_URL": f"sqlite:///{data}/comments.db",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    release = subprocess.run(
        _service_command("release"),
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert release.returncode == 0, release.stderr
    assert "database migrated to revision" in release.stdout
    assert (data / "comments.db").exists()

    web = subprocess.Popen(
        _service_command("web", "--bind", f"127.0.0.1:{port}", "--workers", "1"),
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        status = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and web.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
                    status = answer.status
                    break
            except OSError:  # not listening yet, or still loading
                time.sleep(0.3)
        assert status == 200, web.stderr.read().decode() if web.poll() is not None else "not ready in 60 s"
    finally:
        os.killpg(web.pid, 15)
        web.wait(30)
    assert list(workdir.iterdir()) == []
    assert not (data / "secret_key").exists()  # production uses SECRET_KEY, never a key of its own
