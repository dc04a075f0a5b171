"""Moderator accounts over HTTP: the console's sign-in, session and second factor, password reset
links, and the admin API for people and their roles."""

from __future__ import annotations

import contextlib

from flask import current_app, request
from flask.views import MethodView

from ..accounts import reset, sessions
from ..accounts import store as accounts
from ..auth import SESSION_COOKIE, Principal, authenticate, current_principal
from ..db import Account
from ..errors import Unauthorized
from ..schemas.accounts import (
    AccountCreatedSchema,
    AccountCreateSchema,
    AccountSchema,
    AccountUpdateSchema,
    PasswordConfirmSchema,
    PasswordResetSchema,
    ResetLinkSchema,
    SessionSchema,
    SignInLockedProblemSchema,
    SignInSchema,
    TotpCodeSchema,
    TotpSetupSchema,
)
from ..schemas.common import ProblemSchema
from ..spam.velocity import network_of
from . import Blueprint, authorized

blp = Blueprint("accounts", __name__, url_prefix="/v1", description="People: console sign-in and accounts")


def _cookie_secure() -> bool:
    """Secure in production; development (a developer's http://localhost, and the tests) serves
    plain http, where a browser would drop a Secure cookie."""
    return current_app.config.get("SERVICE_ENV") == "production"


def _session_view(account: Account, csrf_token: str) -> dict:
    return {
        "account": accounts.account_view(account),
        "csrf_token": csrf_token,
        "idle_timeout_seconds": int(sessions.IDLE.total_seconds()),
        "absolute_timeout_seconds": int(sessions.ABSOLUTE.total_seconds()),
    }


def _signed_in() -> Principal:
    """The person signed in to the console (a key is not a session)."""
    principal = authenticate()
    if principal.csrf_token is None:
        raise Unauthorized("sign in to the console: this needs a console session, not a key")
    return principal


def _reset_view(account: Account) -> dict:
    return {
        "link": accounts.reset_link(account, request.host_url),
        "token": accounts.reset_token(account),
        "expires_in": reset.LIFETIME_SECONDS,
        "account_id": account.id,
    }


@blp.route("/session")
class Session(MethodView):
    @blp.arguments(SignInSchema())
    @blp.response(200, SessionSchema)
    @blp.alt_response(
        401, schema=ProblemSchema, description="Wrong e-mail, password or code; or a code is needed"
    )
    @blp.alt_response(
        429, schema=SignInLockedProblemSchema, description="Locked after repeated failures (Retry-After)"
    )
    def post(self, data):
        """Sign in to the console: sets the session cookie; the answer holds the CSRF token"""
        account, token, csrf = accounts.sign_in(
            data["email"], data["password"], data.get("totp_code"), network_of(request.remote_addr or "")
        )
        response = current_app.response_class()
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(sessions.ABSOLUTE.total_seconds()),
            secure=_cookie_secure(),
            httponly=True,
            samesite="Strict",
            path="/",
        )
        body = SessionSchema().dump(_session_view(account, csrf))
        response.set_data(current_app.json.dumps(body))
        response.mimetype = "application/json"
        response.headers["Cache-Control"] = "no-store"
        return response

    @blp.response(200, SessionSchema)
    @blp.alt_response(401, schema=ProblemSchema, description="No session, or it has ended")
    def get(self):
        """The signed-in person, and the session's CSRF token (for a reloaded console)"""
        principal = _signed_in()
        account = accounts.account_for_session(principal)
        return _session_view(account, principal.csrf_token)

    @blp.response(204)
    @blp.alt_response(403, schema=ProblemSchema, description="Without the session's CSRF token")
    def delete(self):
        """Sign out: the session ends on the server and the cookie is cleared"""
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            # The CSRF token is checked, so another site cannot sign a moderator out.
            with contextlib.suppress(accounts.SessionExpired):
                _signed_in()
            accounts.sign_out(token)
        response = current_app.response_class(status=204)
        response.delete_cookie(
            SESSION_COOKIE, path="/", secure=_cookie_secure(), httponly=True, samesite="Strict"
        )
        return response


@blp.route("/password-reset", methods=["POST"])
@blp.arguments(PasswordResetSchema())
@blp.response(204)
@blp.alt_response(
    422, schema=ProblemSchema, description="The link is forged, expired or used; or the password is too short"
)
def reset_password(data):
    """Set a new password through a reset link (good once, for an hour); every session of the person ends"""
    accounts.reset_password(data["token"], data["password"])
    return ""


@blp.route("/account/totp", methods=["POST"])
@blp.response(200, TotpSetupSchema)
@blp.alt_response(401, schema=ProblemSchema, description="Not signed in")
def begin_totp():
    """Start setting up the second factor: a secret for the authenticator app (confirmed by a code)"""
    return accounts.begin_totp(_signed_in().account_id)


@blp.route("/account/totp/confirm", methods=["POST"])
@blp.arguments(TotpCodeSchema())
@blp.response(200, AccountSchema)
@blp.alt_response(401, schema=ProblemSchema, description="Not signed in")
def confirm_totp(data):
    """Turn the second factor on with a code the app shows"""
    return accounts.account_view(accounts.confirm_totp(_signed_in().account_id, data["code"]))


@blp.route("/account/totp/disable", methods=["POST"])
@blp.arguments(PasswordConfirmSchema())
@blp.response(200, AccountSchema)
@blp.alt_response(401, schema=ProblemSchema, description="Not signed in")
def disable_totp(data):
    """Turn the second factor off (the password confirms it)"""
    return accounts.account_view(accounts.disable_totp(_signed_in().account_id, data["password"]))


@blp.route("/admin/accounts")
class Accounts(MethodView):
    @authorized(blp, "admin")
    @blp.response(200, AccountSchema(many=True))
    def get(self):
        """List people with a role on the sites the admin reaches"""
        return [accounts.account_view(a) for a in accounts.visible_accounts(current_principal())]

    @authorized(blp, "admin")
    @blp.arguments(AccountCreateSchema())
    @blp.response(201, AccountCreatedSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="The e-mail has an account")
    def post(self, data):
        """Add a person with roles; the answer holds a link for them to set their password"""
        principal = current_principal()
        roles = accounts.roles_from_request(principal, data["roles"])
        account = accounts.create_account(data["name"], data["email"], None, roles)
        return {**accounts.account_view(account), "reset_link": _reset_view(account)}


@blp.route("/admin/accounts/<int:account_id>")
class OneAccount(MethodView):
    @authorized(blp, "admin")
    @blp.arguments(AccountUpdateSchema())
    @blp.response(200, AccountSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such account on the admin's sites")
    def patch(self, data, account_id):
        """Change a person's roles (on the admin's sites) or disable them (admins of every site)"""
        principal = current_principal()
        account = accounts.account_for(principal, account_id)
        if "roles" in data:
            account = accounts.set_roles(
                principal, account, accounts.roles_from_request(principal, data["roles"])
            )
        if "disabled" in data:
            account = accounts.set_disabled(principal, account, data["disabled"])
        return accounts.account_view(account)


@blp.route("/admin/accounts/<int:account_id>/reset-link", methods=["POST"])
@authorized(blp, "admin")
@blp.response(200, ResetLinkSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such account on the admin's sites")
def reset_link(account_id):
    """A password reset link for a person, to hand to them (good once, for an hour)"""
    return _reset_view(accounts.account_for(current_principal(), account_id))
