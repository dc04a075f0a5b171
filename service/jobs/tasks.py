"""The jobs as Celery tasks, with beat's schedule: added to the webhooks' Celery app, so the one
worker (`celery -A service.webhooks.tasks worker`) and beat serve both."""

from __future__ import annotations

from celery import Celery
from flask import Flask

from .schedule import JOBS, every, run_job


def register_jobs(celery: Celery, flask_app: Flask) -> None:
    @celery.task(name="jobs.run")
    def run(name: str) -> dict:
        """Run one job if it is due and nobody else runs it (several beats are harmless)."""
        done = run_job(flask_app, name)
        return {"outcome": done.outcome, "counts": done.counts}

    for job in JOBS.values():
        seconds = every(flask_app, job)
        celery.conf.beat_schedule[f"job-{job.name}"] = {
            "task": "jobs.run",
            "schedule": seconds,
            "args": (job.name,),
            "options": {"expires": max(seconds, 5.0)},  # a kick still queued by the next is dropped
        }
