"""The TOTP second factor (RFC 6238 through pyotp: 6 digits, 30-second steps, SHA-1, as every
authenticator app expects). A code is accepted once: the step it was used for is remembered."""

from __future__ import annotations

import pyotp

STEP_SECONDS = 30
# One step either side: a phone's clock a little off, or a code typed as it rolls over.
DRIFT_STEPS = 1
ISSUER = "Comment moderation"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def code_at(secret: str, when: float) -> str:
    return pyotp.TOTP(secret).at(when)


def accepted_step(secret: str, code: str, now: float, last_step: int | None) -> int | None:
    """The time step `code` belongs to if it is valid now and newer than the last one used;
    None for a wrong, stale or replayed code."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if totp.verify(code, for_time=step * STEP_SECONDS, valid_window=0):
            if last_step is not None and step <= last_step:
                return None
            return step
    return None
