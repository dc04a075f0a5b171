"""Live threads for the embed: an article's newly approved comments as Server-Sent Events."""

from __future__ import annotations

from functools import wraps

from flask import Response, request
from flask.views import MethodView

from .. import live
from ..auth import current_principal
from ..errors import ServiceUnavailable, TooManyRequests
from ..live.hub import last_event_id
from ..schemas.common import ProblemSchema
from ..schemas.live import LiveQuerySchema
from . import Blueprint, authorized
from .comments import _network

blp = Blueprint(
    "live", __name__, url_prefix="/v1", description="Live threads (Server-Sent Events), for the embed"
)

EVENT_STREAM = "text/event-stream"
# How long a turned-away browser waits before asking again (the embed polls meanwhile).
FULL_RETRY_AFTER = 30


def _key_from_query(view):
    """EventSource sends no headers of its own: the embed key may come as ?key= (it is public)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.args.get("key")
        if key and "HTTP_AUTHORIZATION" not in request.environ:
            request.environ["HTTP_AUTHORIZATION"] = f"Bearer {key}"  # the headers read the environ
        return view(*args, **kwargs)

    return wrapper


@blp.route("/articles/<string:article_id>/events")
class Events(MethodView):
    @_key_from_query
    @authorized(blp, "embed")
    @blp.arguments(LiveQuerySchema(), location="query")
    @blp.response(200, content_type=EVENT_STREAM)
    @blp.alt_response(
        429, schema=ProblemSchema, description="This network has as many live streams open as it may"
    )
    @blp.alt_response(
        503,
        schema=ProblemSchema,
        description="This process has as many live streams open as it may (or live threads are off):"
        " poll the thread (with its ETag) and try again after Retry-After",
    )
    @blp.doc(
        responses={
            "200": {
                "description": "Server-Sent Events: `retry`, then an event `comment` (id: the comment's"
                " id, data: the comment as in the thread) for each newly approved comment, comments"
                " approved after Last-Event-ID first, and a heartbeat comment line when idle",
                "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
            }
        }
    )
    def get(self, query, article_id):
        """Follow an article's newly approved comments live (EventSource; resumes after Last-Event-ID)"""
        after = last_event_id(request.headers.get("Last-Event-ID"), query.get("last_event_id"))
        try:
            frames = live.open_stream(current_principal().site_id, article_id, _network(), after)
        except live.Full as full:
            if full.scope == "network":
                raise TooManyRequests(
                    "too many live streams from this network; poll the thread instead", FULL_RETRY_AFTER
                ) from None
            raise ServiceUnavailable(
                "no room for another live stream here; poll the thread instead", FULL_RETRY_AFTER
            ) from None
        return Response(
            frames,
            mimetype=EVENT_STREAM,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
