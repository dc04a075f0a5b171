"""Real Celery workers for the tests: each in a process group of its own (its pool children die
with it), with beat and a schedule file in the test's folder, killed at the end of the test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from service.config import PROJECT_ROOT


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def worker_starter(env: dict[str, str], folder: Path) -> Iterator:
    """A fixture body: yields start(), which starts one more worker on env's
    WEBHOOK_CELERY_QUEUE and returns its process; every worker started is killed afterwards."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        n = len(started)
        log = open(folder / f"worker-{n}.log", "wb")  # noqa: SIM115 - kept for the process
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "service.webhooks.tasks", "worker", "--beat"]
            + ["--concurrency", "1", "-Q", env["WEBHOOK_CELERY_QUEUE"], "--loglevel", "WARNING"]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat"]
            + ["--schedule", str(folder / f"beat-{n}")],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        kill(process)
