"""The web pages: the embed script, the demo article page and the moderator console.

A plain Flask blueprint (not in the OpenAPI document): static files plus the headers that keep
them safe. The console and the demo page get a strict Content-Security-Policy, so every script
and style lives in a file under service/web/static.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
)

from ..db import Site
from ..extensions import db
from ..identity.tokens import article_token, reader_token

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
STATIC = WEB_ROOT / "static"

bp = Blueprint(
    "web",
    __name__,
    static_folder=str(STATIC),
    static_url_path="/web",
    template_folder=str(WEB_ROOT / "templates"),
)

PAGE_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)
# Static files change with a deploy, not per request; a short lifetime keeps updates visible.
STATIC_MAX_AGE = 300
DEMO_ARTICLE = {
    "id": "demo-lighthouse-restoration",
    "title": "Harbour lighthouse lit again after a two-year restoration",
}
# The reader the demo site has signed in: a news site's backend knows its own.
DEMO_READER = {"sub": "demo-reader-1", "name": "Alex Morgan", "email": "alex.morgan@demo-news.example"}
# Reader tokens live briefly (the embed asks for a new one when one expires); the article claim
# lives as long as a page may stay open.
DEMO_READER_TOKEN_SECONDS = 15 * 60
DEMO_ARTICLE_TOKEN_SECONDS = 24 * 3600


def _page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.after_app_request
def _common_headers(response: Response) -> Response:
    """On every answer of the app, the API's JSON included: no MIME sniffing, no full URLs leaked."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if request.endpoint == "web.static" and response.status_code in (200, 304):
        response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}"
    return response


def _cross_origin_asset(name: str, mimetype: str) -> Response:
    """The embed's files run on the news sites' pages, so any origin may load them."""
    return _cross_origin(send_from_directory(STATIC, name, mimetype=mimetype, max_age=STATIC_MAX_AGE))


def _cross_origin(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}"
    return response


def strip_comments(source: str) -> str:
    """A script without its whole-line comments, blank lines and indentation: what every article
    page downloads, a fifth smaller gzipped, while the file keeps its comments. Safe for the
    embed's ES5 code: without template literals no line starts inside a string, and a line that
    opens a block comment is left out only if nothing follows the comment on its last line."""
    kept = []
    in_comment = False
    for line in source.splitlines():
        text = line.strip()
        if in_comment:
            in_comment = "*/" not in text
            if not in_comment and not text.endswith("*/"):
                kept.append(text.split("*/", 1)[1].strip())
            continue
        if text.startswith("/*") and ("*/" not in text or text.endswith("*/")):
            in_comment = "*/" not in text
            continue
        if text and not text.startswith("//"):
            kept.append(text)
    return "\n".join(kept) + "\n"


@cache
def _embed_script(modified: float) -> tuple[bytes, str]:
    body = strip_comments((STATIC / "embed.js").read_text(encoding="utf-8")).encode()
    return body, hashlib.sha256(body).hexdigest()[:32]


@bp.get("/embed.js")
def embed_script() -> Response:
    body, etag = _embed_script((STATIC / "embed.js").stat().st_mtime)
    response = Response(body, mimetype="text/javascript")
    response.set_etag(etag)
    return _cross_origin(response.make_conditional(request))


@bp.get("/embed.css")
def embed_styles() -> Response:
    """The embed's stylesheet, loaded into its shadow root."""
    return _cross_origin_asset("embed.css", "text/css")


# The embed's texts in the languages other than English (which embed.js holds), fetched by the
# embed when a page asks for one of them.
EMBED_LANGUAGES = frozenset(path.stem for path in (STATIC / "i18n").glob("*.json"))


@bp.get("/embed/i18n/<lang>.json")
def embed_catalog(lang: str) -> Response:
    """The embed's catalog of texts in one language."""
    if lang not in EMBED_LANGUAGES:
        abort(404)
    return _cross_origin_asset(f"i18n/{lang}.json", "application/json")


def _demo_keys() -> dict[str, Any] | None:
    path = os.path.join(current_app.instance_path, "demo-keys.json")
    try:
        with open(path) as handle:
            keys = json.load(handle)
    except (OSError, ValueError):
        return None
    return keys if isinstance(keys, dict) and str(keys.get("embed", "")).startswith("pk_") else None


def _demo_origin_allowed(slug: str) -> bool | None:
    """Whether the demo site accepts posts from the origin this page is served from (None: no site)."""
    site = db.session.execute(sa.select(Site).where(Site.slug == slug)).scalar_one_or_none()
    if site is None:
        return None
    return request.host_url.rstrip("/") in (site.allowed_origins or [])


def _demo_article_url() -> str:
    return request.host_url.rstrip("/") + "/demo"


@bp.get("/demo")
def demo_page() -> Response:
    """A news article with the embed under it, on the demo site's embed key. The page plays the
    news site too: it signs its article claim, and signs its reader in unless ?as=anonymous;
    ?lang=de (or fr, es, ar, he) sets the embed's language."""
    keys = _demo_keys()
    origin_allowed = _demo_origin_allowed(keys.get("site", "demo")) if keys else None
    secret = keys.get("sso_secret") if keys else None
    anonymous = request.args.get("as") == "anonymous"
    # ?lang=de shows the embed in that language, as a site that sets data-lang would.
    embed_lang = request.args.get("lang")
    html = render_template(
        "demo.html",
        keys=keys,
        article=DEMO_ARTICLE,
        article_url=_demo_article_url(),
        article_token=article_token(
            secret,
            DEMO_ARTICLE["id"],
            _demo_article_url(),
            DEMO_ARTICLE["title"],
            lifetime=DEMO_ARTICLE_TOKEN_SECONDS,
        )
        if secret
        else None,
        reader=None if anonymous or not secret else DEMO_READER,
        sso=bool(secret),
        origin=request.host_url.rstrip("/"),
        origin_allowed=origin_allowed,
        embed_lang=embed_lang if embed_lang in EMBED_LANGUAGES else None,
    )
    return _page_headers(Response(html, mimetype="text/html"))


@bp.get("/demo/reader-token")
def demo_reader_token() -> Response:
    """What a news site's backend does for its signed-in reader: a fresh, short-lived token.
    Same-origin only (no CORS headers), never cached."""
    keys = _demo_keys()
    secret = keys.get("sso_secret") if keys else None
    if not secret:
        response = jsonify({"title": "The demo site has no SSO secret", "status": 404})
        response.status_code = 404
    else:
        token = reader_token(
            secret,
            DEMO_READER["sub"],
            DEMO_READER["name"],
            email=DEMO_READER["email"],
            lifetime=DEMO_READER_TOKEN_SECONDS,
        )
        response = jsonify({"reader_token": token, "expires_in": DEMO_READER_TOKEN_SECONDS})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/console")
def console_page() -> Response:
    response = send_from_directory(STATIC, "console.html", mimetype="text/html", max_age=0)
    return _page_headers(response)
