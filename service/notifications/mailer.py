"""Sending through SMTP (smtplib) with the SMTP_* settings."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from typing import Any

TLS_MODES = ("starttls", "ssl", "none")


def configured(config: Mapping[str, Any]) -> bool:
    """E-mail goes out only with an SMTP server and a public address for the links."""
    return bool(config["SMTP_HOST"]) and bool(config["PUBLIC_URL"])


def connect(config: Mapping[str, Any]) -> smtplib.SMTP:
    """An SMTP connection, TLS and login done; use it as a context manager (QUIT on exit).
    Raises smtplib.SMTPException or OSError."""
    host, port = config["SMTP_HOST"], int(config["SMTP_PORT"])
    timeout = float(config["SMTP_TIMEOUT_SECONDS"])
    mode = str(config["SMTP_TLS"]).strip().lower()
    if mode not in TLS_MODES:
        raise ValueError(f"SMTP_TLS is {mode!r}: one of {', '.join(TLS_MODES)}")
    context = ssl.create_default_context()
    if mode == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if mode == "starttls":
            client.starttls(context=context)
        if config["SMTP_USERNAME"]:
            client.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
    except BaseException:
        client.close()
        raise
    return client
