"""Unsubscribing from reply notices: the signed link of every notice e-mail (RFC 8058)."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from markupsafe import escape

from .. import notifications
from ..schemas.common import ProblemSchema
from . import Blueprint

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/v1",
    description="E-mail notifications: the one-click unsubscribe link of reply notices",
)

HTML = "text/html"
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem">
<h1 style="font-size: 1.4rem">{title}</h1>{body}</body></html>"""


def _page(title: str, body: str):
    return current_app.response_class(
        PAGE.format(title=escape(title), body=body),
        mimetype=HTML,
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            # No script at all; the form posts back here only; no page may frame it.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self';"
            " frame-ancestors 'none'; base-uri 'none'",
        },
    )


def _html(description: str) -> dict:
    return {"200": {"description": description, "content": {HTML: {"schema": {"type": "string"}}}}}


@blp.route("/unsubscribe/<string:token>")
class Unsubscribe(MethodView):
    @blp.response(200, content_type=HTML)
    @blp.alt_response(404, schema=ProblemSchema, description="Not a link this service signed")
    @blp.doc(
        responses=_html("A page asking to confirm (mail scanners open links: opening one changes nothing)")
    )
    def get(self, token):
        """The unsubscribe link opened in a browser: a page with one button to confirm"""
        site = notifications.unsubscribe(token, confirm=False)
        return _page(
            "Stop e-mails about replies?",
            f"<p>You will no longer get e-mails about replies to your comments on {escape(site)}.</p>"
            '<form method="post"><button type="submit" style="font-size: 1rem; padding: .5rem 1rem">'
            "Unsubscribe</button></form>",
        )

    @blp.response(200, content_type=HTML)
    @blp.alt_response(404, schema=ProblemSchema, description="Not a link this service signed")
    @blp.doc(responses=_html("Unsubscribed (again, if already)"))
    def post(self, token):
        """Unsubscribe from reply notices (the RFC 8058 one-click POST, or the page's button)"""
        site = notifications.unsubscribe(token, confirm=True)
        return _page(
            "Unsubscribed",
            f"<p>You will get no more e-mails about replies to your comments on {escape(site)}.</p>",
        )
