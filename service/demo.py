"""The demo site created by `comment-service serve`, so a newcomer sees the whole path at once."""

from __future__ import annotations

import json
import os

import click
import sqlalchemy as sa
from flask import Flask

from .db import Site
from .extensions import db

DEMO_SLUG = "demo"
DEMO_POLICY = {"suspect_words": ["idiot*", "moron*"], "banned_words": ["kill yourself"]}


def ensure_demo(app: Flask, origin: str) -> None:
    """Create the demo site and its keys once; the keys go to instance/demo-keys.json (mode 600)."""
    from .sites import create_site, issue_key

    keys_file = os.path.join(app.instance_path, "demo-keys.json")
    if db.session.execute(sa.select(Site).where(Site.slug == DEMO_SLUG)).scalar_one_or_none():
        click.echo(f"demo site exists; its keys are in {keys_file}", err=True)
        return
    origins = sorted({origin, origin.replace("localhost", "127.0.0.1")})
    create_site({"slug": DEMO_SLUG, "name": "Demo News", "allowed_origins": origins, "policy": DEMO_POLICY})
    keys = {role: issue_key(None, role, DEMO_SLUG, "demo")[1] for role in ("embed", "moderator", "admin")}
    os.makedirs(app.instance_path, exist_ok=True)
    descriptor = os.open(keys_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"site": DEMO_SLUG, "origin": origin, **keys}, handle, indent=2)
    click.echo(f"demo site created; keys (shown once, also in {keys_file}):", err=True)
    for role, key in keys.items():
        click.echo(f"  {role:9} {key}", err=True)
