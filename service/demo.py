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
    """Create the demo site and its keys once; the keys go to instance/demo-keys.json (mode 600),
    with the SSO secret the demo page signs its reader tokens and article claim with."""
    from .sites import create_site, issue_key, rotate_sso

    keys_file = os.path.join(app.instance_path, "demo-keys.json")
    site = db.session.execute(sa.select(Site).where(Site.slug == DEMO_SLUG)).scalar_one_or_none()
    if site is not None:
        _add_sso_secret(site, keys_file)
        click.echo(f"demo site exists; its keys are in {keys_file}", err=True)
        return
    origins = sorted({origin, origin.replace("localhost", "127.0.0.1")})
    site = create_site(
        {"slug": DEMO_SLUG, "name": "Demo News", "allowed_origins": origins, "policy": DEMO_POLICY}
    )
    keys = {role: issue_key(None, role, DEMO_SLUG, "demo")[1] for role in ("embed", "moderator", "admin")}
    _write_keys(keys_file, {"site": DEMO_SLUG, "origin": origin, **keys, "sso_secret": rotate_sso(site, 0)})
    click.echo(f"demo site created; keys (shown once, also in {keys_file}):", err=True)
    for role, key in keys.items():
        click.echo(f"  {role:9} {key}", err=True)


def _add_sso_secret(site: Site, keys_file: str) -> None:
    """A demo made before sites had SSO secrets gets one, so its page can sign readers in."""
    from .sites import rotate_sso

    try:
        with open(keys_file) as handle:
            keys = json.load(handle)
    except (OSError, ValueError):
        return  # no keys file to keep the secret in: the page stays anonymous
    if not isinstance(keys, dict) or keys.get("sso_secret"):
        return
    # The secret is only ever shown once, so a site secret not in the file is replaced.
    keys["sso_secret"] = rotate_sso(site, 0)
    _write_keys(keys_file, keys)
    click.echo(f"demo site: SSO secret added to {keys_file}", err=True)


def _write_keys(keys_file: str, keys: dict) -> None:
    os.makedirs(os.path.dirname(keys_file), exist_ok=True)
    descriptor = os.open(keys_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(keys, handle, indent=2)
