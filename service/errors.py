"""One error shape for every 4xx and 5xx: RFC 9457 problem details, with per-field errors."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from typing import Any

from flask import Response, current_app, json, request
from werkzeug.exceptions import HTTPException, InternalServerError

PROBLEM_JSON = "application/problem+json"

# Codes of the errors the framework raises (no route, wrong method, body too large, a limit hit),
# in the API's own words and stable across Werkzeug versions; others get one from their name.
HTTP_ERROR_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    411: "length-required",
    412: "precondition-failed",
    413: "body-too-large",
    414: "uri-too-long",
    415: "unsupported-media-type",
    422: "validation-error",
    428: "precondition-required",
    429: "too-many-requests",
    431: "headers-too-large",
    500: "internal-error",
    501: "not-implemented",
    503: "unavailable",
}


class ServiceError(Exception):
    """A domain error the API answers with a problem document."""

    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})
        self.extra = extra


class ValidationFailed(ServiceError):
    status, code, title = 422, "validation-error", "The request has invalid fields"

    def __init__(self, field: str, message: str, location: str = "json"):
        super().__init__(
            f"{field}: {message}",
            errors=[{"field": field, "location": location, "message": message}],
        )


class Unauthorized(ServiceError):
    status, code, title = 401, "unauthorized", "A valid API key is required"

    def __init__(self, detail: str):
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="comments"'})


class InvalidReaderToken(ServiceError):
    """The reader token proves nothing: the embed asks the page for a new one and tries again."""

    status, code, title = 401, "invalid-reader-token", "The reader token is not valid"


class ReaderTokenRequired(ServiceError):
    status, code, title = 401, "reader-token-required", "This site only takes comments from signed-in readers"


class InvalidArticleClaim(ServiceError):
    status, code, title = 401, "invalid-article-claim", "The article claim is not valid"


class TooManyRequests(ServiceError):
    status, code, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, retry_after: int, **extra):
        super().__init__(detail, headers={"Retry-After": str(max(1, int(retry_after)))}, **extra)


class Forbidden(ServiceError):
    status, code, title = 403, "forbidden", "This key may not do that"


class NotFound(ServiceError):
    status, code, title = 404, "not-found", "No such resource"


class Conflict(ServiceError):
    status, code, title = 409, "conflict", "The request conflicts with the current state"


class ArticleClosed(Conflict):
    code, title = "article-closed", "The article is closed to comments"


class IdempotencyConflict(Conflict):
    code, title = "idempotency-key-reused", "The Idempotency-Key was used with another request"


class AuthorProofRequired(ServiceError):
    status, code, title = 401, "author-proof-required", "Only the comment's author may do that"


class NotCommentAuthor(ServiceError):
    status, code, title = 403, "not-comment-author", "The token does not prove this comment's author"


class EditRefused(Conflict):
    """An edit the comment's state refuses; `code` says why (service/self_service/rules.py)."""

    TITLES = {
        "edit-window-closed": "The time to edit this comment is over",
        "comment-not-editable": "This comment can no longer be edited",
        "comment-deleted": "This comment was deleted",
    }

    def __init__(self, code: str, detail: str, **extra: Any):
        super().__init__(detail, **extra)
        self.code, self.title = code, self.TITLES[code]


class PreconditionFailed(ServiceError):
    status, code, title = 412, "precondition-failed", "The resource changed since it was read"


class ServiceUnavailable(ServiceError):
    status, code, title = 503, "unavailable", "The service cannot answer right now"

    def __init__(self, detail: str, retry_after: int = 5):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    code: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": f"/problems/{code}" if code else "about:blank",
        "title": title,
        "status": status,
    }
    if code:
        body["code"] = code
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, location: str = "json", prefix: str = "") -> list[dict[str, str]]:
    """marshmallow's nested {field: [messages]} as a flat list of {field, location, message}."""
    errors: list[dict[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or "(body)"
            errors.extend(flatten_messages(value, location, name))
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        errors.extend({"field": prefix or "(body)", "location": location, "message": m} for m in messages)
    elif isinstance(messages, list | tuple):
        for item in messages:
            errors.extend(flatten_messages(item, location, prefix))
    else:
        errors.append({"field": prefix or "(body)", "location": location, "message": str(messages)})
    return errors


def handle_service_error(error: ServiceError) -> Response:
    return problem(
        error.status,
        error.title,
        error.detail,
        code=error.code,
        errors=error.errors,
        headers=error.headers,
        **error.extra,
    )


def handle_http_exception(error: HTTPException) -> Response:
    """Werkzeug and webargs errors as problem details, keeping their headers (Allow, Retry-After)."""
    data = getattr(error, "data", None) or {}
    errors = None
    code = None
    if "messages" in data:
        errors = []
        for location, messages in data["messages"].items():
            errors.extend(flatten_messages(messages, location))
        code = "validation-error"
    status = error.code or 500
    code = code or HTTP_ERROR_CODES.get(status) or re.sub(r"[^a-z0-9]+", "-", error.name.lower()).strip("-")
    headers = {}
    if error.response is None:
        # Headers such as Allow (405) and Retry-After (429) live on the exception.
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    title = "The request has invalid fields" if errors else error.name
    detail = None if status >= 500 else error.description
    if errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem(status, title, detail, code=code, errors=errors, headers=headers)


def handle_database_error(error: Exception) -> Response:
    """The database unreachable (restarting, failing over, pool exhausted) is an outage the client
    may retry (503 with Retry-After), not a bug (500). Other database errors stay 500."""
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from .extensions import db

    outage = isinstance(error, OperationalError | PoolTimeout) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )
    if not outage:
        return handle_unexpected(error)
    with contextlib.suppress(Exception):  # the connection is gone; the pool replaces it
        db.session.rollback()
    current_app.logger.warning("database unavailable: %s", type(error.__cause__ or error).__name__)
    return handle_service_error(ServiceUnavailable("the database is unavailable; retry shortly"))


def handle_recursion_error(error: RecursionError) -> Response:
    """A JSON body nested thousands deep exhausts the parser's recursion: the client's error."""
    if request.is_json:
        return problem(400, "Bad Request", "the JSON body is nested too deeply", code="bad-request")
    return handle_unexpected(error)


def handle_unexpected(error: Exception) -> Response:
    current_app.logger.exception("unhandled error", exc_info=error)
    return handle_http_exception(InternalServerError())
