"""Accounts in the database: creating people, signing in and out, sessions, second factor,
reset links, and the names the audit trail shows. The rules come from the modules beside this one."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..auth import Principal, hash_key
from ..db import Account, AccountRole, ApiKey, ConsoleSession, SignInThrottle, Site, utcnow
from ..errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceError,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from ..extensions import db
from . import lockout, passwords, reset, sessions, totp


class SignInFailed(ServiceError):
    status, code, title = 401, "sign-in-failed", "The e-mail or password is wrong"

    def __init__(self, detail: str = "the e-mail, password or code is wrong"):
        super().__init__(detail)


class SecondFactorRequired(ServiceError):
    status, code, title = 401, "second-factor-required", "This account needs its authenticator code"


class LockedOut(TooManyRequests):
    code, title = "sign-in-locked", "Too many failed sign-ins"


class SessionExpired(Unauthorized):
    code, title = "session-expired", "The console session has ended"


class CsrfRefused(ServiceError):
    status, code, title = 403, "csrf-token-missing", "The request lacks the session's CSRF token"


def email_key(email: str) -> str:
    return email.strip().lower()


# --- people and their roles -----------------------------------------------------------------


def create_account(
    name: str, email: str, password: str | None, roles: Iterable[tuple[int | None, str]]
) -> Account:
    if password is not None and (problem := passwords.password_problem(password)):
        raise ValidationFailed("password", problem)
    account = Account(
        name=name.strip(),
        email=email.strip(),
        email_key=email_key(email),
        password_hash=passwords.hash_password(password) if password is not None else None,
    )
    account.roles = [AccountRole(site_id=site_id, role=role) for site_id, role in dict(roles).items()]
    db.session.add(account)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"an account with the e-mail {email.strip()!r} exists already") from None
    return account


def roles_from_request(
    principal: Principal | None, roles: list[dict[str, Any]]
) -> list[tuple[int | None, str]]:
    """Roles named by slug, checked against what the granting admin reaches: an admin gives only
    roles on sites they administer; a role on every site takes an admin of every site."""
    from ..sites import site_by_slug

    granted = []
    for index, entry in enumerate(roles):
        site_id = None
        if entry.get("site"):
            site_id = site_by_slug(entry["site"], principal).id
        elif principal is not None and not principal.every_site:
            raise Forbidden(f"roles[{index}]: only an admin of every site gives a role on every site")
        granted.append((site_id, entry["role"]))
    return granted


def visible_accounts(principal: Principal) -> list[Account]:
    query = sa.select(Account).order_by(Account.id)
    if principal.sites is not None:
        query = query.where(
            Account.id.in_(
                sa.select(AccountRole.account_id).where(AccountRole.site_id.in_(sorted(principal.sites)))
            )
        )
    return list(db.session.execute(query).scalars())


def account_for(principal: Principal, account_id: int) -> Account:
    account = db.session.get(Account, account_id)
    if account is None or not (
        principal.every_site or any(r.site_id in (principal.sites or ()) for r in account.roles)
    ):
        raise NotFound(f"no account {account_id}")
    return account


def set_roles(principal: Principal, account: Account, roles: list[tuple[int | None, str]]) -> Account:
    """Replace the person's roles on the sites the admin reaches (roles elsewhere stay)."""
    kept = [r for r in account.roles if not (principal.every_site or r.site_id in (principal.sites or ()))]
    account.roles = kept
    db.session.flush()  # the replaced rows go first: a new role on the same site is unique with them
    account.roles = kept + [AccountRole(site_id=s, role=r) for s, r in dict(roles).items()]
    db.session.commit()
    from ..sites import announce_settings_change

    # The person's keys act within their roles (auth._load_principal): a change reaches them now.
    current_app.extensions["key_cache"].clear()
    announce_settings_change()
    return account


def set_disabled(principal: Principal, account: Account, disabled: bool) -> Account:
    """A disabled person cannot sign in; their sessions end and their keys stop (see auth.py)."""
    if not principal.every_site:
        raise Forbidden("only an admin of every site disables accounts")
    if principal.account_id == account.id and disabled:
        raise Conflict("you cannot disable your own account")
    account.disabled_at = utcnow() if disabled else None
    if disabled:
        db.session.execute(sa.delete(ConsoleSession).where(ConsoleSession.account_id == account.id))
    db.session.commit()
    from ..sites import announce_settings_change

    current_app.extensions["key_cache"].clear()
    announce_settings_change()
    return account


def check_key_owner(owner_id: int, role: str, site_id: int | None) -> None:
    """A key made for a person may do no more than the person may."""
    account = db.session.get(Account, owner_id)
    if account is None or account.disabled_at is not None:
        raise ValidationFailed("owner_id", "no such account (or it is disabled)")
    person = principal_of(account)
    allowed = person.narrowed((role,))
    if allowed is None or not (allowed.every_site or (site_id is not None and allowed.may_act_on(site_id))):
        raise ValidationFailed("owner_id", f"this person does not hold the {role} role on that site")


def account_view(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "email": account.email,
        "roles": [
            {"site": r.site.slug if r.site else None, "role": r.role}
            for r in sorted(account.roles, key=lambda r: r.site_id or 0)
        ],
        "totp_enabled": account.totp_secret is not None,
        "disabled": account.disabled_at is not None,
        "created_at": account.created_at,
    }


def principal_of(account: Account, csrf_token: str | None = None) -> Principal:
    grants = tuple((r.site_id, r.role) for r in account.roles)
    sites = None if any(s is None for s, _ in grants) else frozenset(s for s, _ in grants)
    role = "admin" if any(r == "admin" for _, r in grants) else "moderator"
    return Principal(
        key_id=None,
        role=role,
        grants=grants,
        account_id=account.id,
        name=account.name,
        sites=sites,
        csrf_token=csrf_token,
    )


# --- signing in ---------------------------------------------------------------------------------


def _throttle_key(kind: str, value: str) -> str:
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), value.encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:64]}"


def _counter(key: str) -> tuple[SignInThrottle | None, lockout.Counter | None]:
    row = db.session.get(SignInThrottle, key)
    if row is None:
        return None, None
    return row, lockout.Counter(row.failures, row.window_started_at, row.locked_until)


def _check_locks(keys: dict[str, str], now: datetime) -> None:
    for kind, key in keys.items():
        _row, counter = _counter(key)
        if wait := lockout.locked_for(counter, now):
            minutes = (wait + 59) // 60
            who = "this account" if kind == "account" else "your network"
            plural = "s" if minutes > 1 else ""
            raise LockedOut(
                f"too many failed sign-ins for {who}: try again in {minutes} minute{plural}",
                wait,
                locked_for_seconds=wait,
            )


def _record_failure(keys: dict[str, str], now: datetime) -> None:
    """Count one failure on each counter. The rows are locked while counted (PostgreSQL; SQLite
    writes one at a time anyway), so parallel guesses cannot slip past the limit."""
    limits = {"account": lockout.ACCOUNT_FAILURES, "network": lockout.NETWORK_FAILURES}
    for attempt in range(3):
        try:
            for kind, key in keys.items():
                # The next key's SELECT flushes this key's new row: a parallel failure that made
                # the same row first shows up there as much as at the commit.
                row = db.session.execute(
                    sa.select(SignInThrottle)
                    .where(SignInThrottle.key == key)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                ).scalar_one_or_none()
                counter = row and lockout.Counter(row.failures, row.window_started_at, row.locked_until)
                after = lockout.after_failure(counter, now, limits[kind])
                if row is None:
                    row = SignInThrottle(key=key)
                    db.session.add(row)
                row.failures, row.window_started_at, row.locked_until = (
                    after.failures,
                    after.window_started_at,
                    after.locked_until,
                )
            db.session.commit()
            return
        except IntegrityError:  # a parallel failure made the row first: count on it
            db.session.rollback()
            if attempt == 2:
                raise


def sign_in(email: str, password: str, code: str | None, network: str) -> tuple[Account, str, str]:
    """Check the password (and the TOTP code when the person has one); on success a new session:
    the account, the cookie's token and the CSRF token. Every failure counts towards a lock."""
    now = utcnow()
    keys = {
        "account": _throttle_key("account", email_key(email)),
        "network": _throttle_key("network", network),
    }
    _check_locks(keys, now)
    account = db.session.execute(
        sa.select(Account).where(Account.email_key == email_key(email))
    ).scalar_one_or_none()
    ok = passwords.verify_password(account.password_hash if account else None, password)
    if not ok or account is None or account.disabled_at is not None:
        _record_failure(keys, now)
        raise SignInFailed()
    if account.totp_secret:
        if not code:
            # The password was right: no failure is counted for asking the code.
            raise SecondFactorRequired("send the code from your authenticator app as totp_code")
        step = totp.accepted_step(account.totp_secret, code, time.time(), account.totp_last_step)
        if step is None:
            _record_failure(keys, now)
            raise SignInFailed("the authenticator code is wrong, expired or used already")
        account.totp_last_step = step
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    db.session.execute(sa.delete(SignInThrottle).where(SignInThrottle.key == keys["account"]))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    db.session.add(
        ConsoleSession(
            token_hash=hash_key(token),
            account_id=account.id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
        )
    )
    db.session.commit()
    return account, token, csrf


def session_principal(token: str, method: str, csrf_header: str | None) -> Principal:
    """The person behind a console session cookie, for one request."""
    now = utcnow()
    row = db.session.execute(
        sa.select(ConsoleSession, Account)
        .join(Account, Account.id == ConsoleSession.account_id)
        .where(ConsoleSession.token_hash == hash_key(token))
    ).first()
    if row is None:
        raise SessionExpired("the session has ended (signed out, or unknown): sign in again")
    session, account = row
    why = sessions.expired(session.created_at, session.last_seen_at, now)
    if why or account.disabled_at is not None:
        db.session.delete(session)
        db.session.commit()
        detail = {
            "idle": "the session ended after an idle hour: sign in again",
            "absolute": "the session reached its 12-hour limit: sign in again",
        }.get(why or "", "the account is disabled")
        raise SessionExpired(detail)
    if method not in ("GET", "HEAD", "OPTIONS") and not (
        csrf_header and hmac.compare_digest(csrf_header.encode(), session.csrf_token.encode())
    ):
        raise CsrfRefused("send the session's CSRF token in the X-CSRF-Token header")
    if sessions.needs_touch(session.last_seen_at, now):
        session.last_seen_at = now
        db.session.commit()
    return principal_of(account, session.csrf_token)


def sign_out(token: str) -> None:
    db.session.execute(sa.delete(ConsoleSession).where(ConsoleSession.token_hash == hash_key(token)))
    db.session.commit()


# --- second factor -------------------------------------------------------------------------------


def begin_totp(account_id: int) -> dict[str, str]:
    account = db.session.get(Account, account_id)
    account.totp_pending_secret = totp.new_secret()
    db.session.commit()
    return {
        "secret": account.totp_pending_secret,
        "otpauth_uri": totp.provisioning_uri(account.totp_pending_secret, account.email),
    }


def confirm_totp(account_id: int, code: str) -> Account:
    account = db.session.get(Account, account_id)
    if not account.totp_pending_secret:
        raise Conflict("start the set-up first (POST /v1/account/totp)")
    step = totp.accepted_step(account.totp_pending_secret, code, time.time(), None)
    if step is None:
        raise ValidationFailed("code", "is not the code the authenticator app shows now")
    account.totp_secret, account.totp_pending_secret, account.totp_last_step = (
        account.totp_pending_secret,
        None,
        step,
    )
    db.session.commit()
    return account


def disable_totp(account_id: int, password: str) -> Account:
    account = db.session.get(Account, account_id)
    if not passwords.verify_password(account.password_hash, password):
        raise ValidationFailed("password", "is not your password")
    account.totp_secret = account.totp_pending_secret = account.totp_last_step = None
    db.session.commit()
    return account


# --- password reset -------------------------------------------------------------------------------


def reset_token(account: Account) -> str:
    return reset.make_token(current_app.config["SECRET_KEY"], account.id, account.password_hash)


def reset_link(account: Account, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/console#reset={reset_token(account)}"


def reset_password(token: str, password: str, max_age: int = reset.LIFETIME_SECONDS) -> Account:
    """Set a new password through a reset link; the link then stops working, and every session of
    the person ends (whoever had the old password is signed out)."""
    try:
        account_id, fingerprint = reset.read_token(current_app.config["SECRET_KEY"], token, max_age)
    except reset.ResetLinkInvalid as error:
        raise ValidationFailed("token", error.reason) from None
    account = db.session.get(Account, account_id)
    if account is None or not hmac.compare_digest(fingerprint, reset.fingerprint(account.password_hash)):
        raise ValidationFailed("token", "the link was used already (or a newer one was)")
    if problem := passwords.password_problem(password):
        raise ValidationFailed("password", problem)
    account.password_hash = passwords.hash_password(password)
    account.password_changed_at = utcnow()
    db.session.execute(sa.delete(ConsoleSession).where(ConsoleSession.account_id == account.id))
    db.session.commit()
    return account


def account_by_email(email: str) -> Account:
    account = db.session.execute(
        sa.select(Account).where(Account.email_key == email_key(email))
    ).scalar_one_or_none()
    if account is None:
        raise NotFound(f"no account with the e-mail {email!r}")
    return account


# --- the audit trail's names ----------------------------------------------------------------------


def actor_names(actors: Iterable[str]) -> dict[str, str]:
    """Display names for audit actors: `user:<id>` -> the person's name, `integration:<id>` (and
    the older `key:<id>`) -> the key's name, or its owner's when a person owns it."""
    users, keys = set(), set()
    for actor in actors:
        kind, _, ident = actor.partition(":")
        if ident.isdigit():
            (users if kind == "user" else keys if kind in ("integration", "key") else set()).add(int(ident))
    names: dict[str, str] = {}
    if users:
        for account_id, name in db.session.execute(
            sa.select(Account.id, Account.name).where(Account.id.in_(users))
        ):
            names[f"user:{account_id}"] = name
    if keys:
        rows = db.session.execute(
            sa.select(ApiKey.id, ApiKey.name, ApiKey.prefix, Account.name.label("owner"))
            .outerjoin(Account, Account.id == ApiKey.owner_id)
            .where(ApiKey.id.in_(keys))
        )
        for key_id, name, prefix, owner in rows:
            label = owner or name or f"unnamed key {prefix}…"
            names[f"integration:{key_id}"] = names[f"key:{key_id}"] = label
    return names


def site_slugs(site_ids: Iterable[int]) -> dict[int, str]:
    return dict(db.session.execute(sa.select(Site.id, Site.slug).where(Site.id.in_(list(site_ids)))).all())


def account_for_session(principal: Principal) -> Account:
    return db.session.get(Account, principal.account_id)
