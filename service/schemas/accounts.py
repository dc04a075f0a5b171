"""Schemas of moderator accounts: signing in, the session, the second factor, and the admin API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..db import ACCOUNT_ROLES
from .common import CleanString, ProblemSchema, StrictInteger


class SignInSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    totp_code = fields.String(
        validate=validate.Length(max=20),
        metadata={"description": "the authenticator app's 6-digit code, for accounts with a second factor"},
    )


class RoleSchema(Schema):
    site = fields.String(allow_none=True, metadata={"description": "site slug; null: every site"})
    role = fields.String(required=True, validate=validate.OneOf(ACCOUNT_ROLES))


class AccountSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    roles = fields.List(fields.Nested(RoleSchema), required=True)
    totp_enabled = fields.Boolean(required=True)
    disabled = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class SessionSchema(Schema):
    account = fields.Nested(AccountSchema, required=True)
    csrf_token = fields.String(
        required=True, metadata={"description": "send it in X-CSRF-Token on every state-changing request"}
    )
    idle_timeout_seconds = fields.Integer(required=True)
    absolute_timeout_seconds = fields.Integer(required=True)


class PasswordResetSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=500))
    password = fields.String(required=True, validate=validate.Length(max=1000))


class TotpSetupSchema(Schema):
    secret = fields.String(required=True, metadata={"description": "base32, for typing into the app"})
    otpauth_uri = fields.String(required=True, metadata={"description": "for a QR code"})


class TotpCodeSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))


class PasswordConfirmSchema(Schema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class AccountCreateSchema(Schema):
    name = CleanString(max_length=200, required=True)
    email = fields.Email(required=True, validate=validate.Length(max=320))
    roles = fields.List(fields.Nested(RoleSchema), required=True, validate=validate.Length(min=1, max=100))


class AccountUpdateSchema(Schema):
    roles = fields.List(fields.Nested(RoleSchema), validate=validate.Length(max=100))
    disabled = fields.Boolean()


class ResetLinkSchema(Schema):
    link = fields.String(required=True, metadata={"description": "opens the console's set-password form"})
    token = fields.String(required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})
    account_id = StrictInteger(required=True)


class AccountCreatedSchema(AccountSchema):
    reset_link = fields.Nested(
        ResetLinkSchema, required=True, metadata={"description": "for the person to set a password"}
    )


class SignInLockedProblemSchema(ProblemSchema):
    """The 429 of a locked sign-in: how long the lock still holds (also in Retry-After)."""

    locked_for_seconds = fields.Integer(required=True)
