"""CORS for the embed's endpoints: any page may call them (each key checks its own origins), so
the browser is told yes for the page's origin; the rest of the API answers no CORS at all.

Our own few lines instead of flask-cors: the same headers, at a tenth of its cost per request
(it matched every request against its resource patterns and formatted a debug line it never
wrote), which showed on the public thread's GET, the hottest path."""

from __future__ import annotations

from flask import Flask, Response, request

# The embed's public endpoints: these prefixes and what lies under them.
PUBLIC_PREFIXES = ("/v1/comments", "/v1/articles")
ALLOWED_HEADERS = frozenset(
    # Author-Token and Reader-Token: an author's own comments (service/self_service/).
    {"authorization", "content-type", "idempotency-key", "if-none-match", "author-token", "reader-token"}
)
EXPOSED_HEADERS = "ETag, Idempotent-Replayed, Retry-After, X-Request-Id"
METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
MAX_AGE = "86400"


def public(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PUBLIC_PREFIXES)


def add_cors_headers(response: Response) -> Response:
    if not public(request.path):
        return response
    origin = request.headers.get("Origin")
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = origin or "*"
    headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if origin:
        headers.add("Vary", "Origin")  # the answer names the asking origin: caches must key on it
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        # A preflight: the methods, and the asked-for headers when every one is allowed.
        headers["Access-Control-Allow-Methods"] = METHODS
        headers["Access-Control-Max-Age"] = MAX_AGE
        asked = request.headers.get("Access-Control-Request-Headers", "")
        names = [name.strip() for name in asked.split(",") if name.strip()]
        if names and all(name.lower() in ALLOWED_HEADERS for name in names):
            headers["Access-Control-Allow-Headers"] = ", ".join(names)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_cors_headers)
