"""A real SMTP server (aiosmtpd) on a free local port, keeping what it receives."""

from __future__ import annotations

import email
import email.policy
import socket
import threading

import pytest

from tests.conftest import missing


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"  # answered once the message is kept: no waiting in the tests

    def to(self, address):
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        missing("aiosmtpd is not installed (pip install aiosmtpd)")
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def inbox(smtp_server):
    _controller, inbox = smtp_server
    with inbox.lock:
        inbox.messages.clear()
    return inbox


@pytest.fixture
def app_config(smtp_server):
    controller, _inbox = smtp_server
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": controller.port,
        "TEST_SMTP_PORT": controller.port,
        "SMTP_TLS": "none",
        "SMTP_FROM": "comments@news.example",
        "PUBLIC_URL": "https://comments.news.example",
    }
