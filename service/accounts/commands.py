"""`flask accounts ...`: the first admin, and reset links handed over by an operator."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup, with_appcontext

accounts_cli = AppGroup("accounts", help="Moderator accounts.")


def _read_password() -> str:
    """From a prompt on a terminal (typed twice), else the first line of stdin (scripts)."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@accounts_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--site", "site_slug", help="admin of this site only (default: every site)")
@with_appcontext
def create_admin_command(email: str, name: str, site_slug: str | None) -> None:
    """Create an admin (of every site, or of --site). The password is asked for, or read from stdin."""
    from marshmallow import ValidationError, fields

    from ..errors import ServiceError
    from ..sites import site_by_slug
    from .store import create_account

    try:
        fields.Email().deserialize(email)
    except ValidationError as error:
        raise click.BadParameter("not an e-mail address", param_hint="--email") from error
    try:
        site_id = site_by_slug(site_slug).id if site_slug else None
        account = create_account(name, email, _read_password(), [(site_id, "admin")])
    except ServiceError as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"admin {account.email} created (account {account.id}, {site_slug or 'every site'})")


@accounts_cli.command("reset-link")
@click.option("--email", required=True)
@click.option(
    "--base-url", default="http://localhost:8000", show_default=True, help="where the console is served"
)
@with_appcontext
def reset_link_command(email: str, base_url: str) -> None:
    """Print a password reset link for a person (good once, for an hour)."""
    from ..errors import ServiceError
    from .store import account_by_email, reset_link

    try:
        click.echo(reset_link(account_by_email(email), base_url))
    except ServiceError as error:
        raise click.ClickException(error.detail) from error
