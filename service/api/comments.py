"""The public comments API, called by the embed with the site's embed key."""

from __future__ import annotations

import hashlib
import json
import time

from flask import current_app, request
from flask.views import MethodView

from .. import comments as workflow
from .. import reports
from ..articles import cached_article, thread_state
from ..auth import current_principal
from ..engagement import reactions
from ..engagement.counts import comment_counts
from ..errors import NotFound, ValidationFailed
from ..extensions import limiter
from ..schemas.comments import (
    CommentCreatedSchema,
    CommentCreateSchema,
    CommentEditSchema,
    CountsQuerySchema,
    CountsSchema,
    OwnCommentSchema,
    PublicCommentSchema,
    ReactionResultSchema,
    ReactionSchema,
    RenderTokenRequestSchema,
    RenderTokenSchema,
    RepliesQuerySchema,
    RepliesSchema,
    ThreadQuerySchema,
    ThreadSchema,
)
from ..schemas.common import ProblemSchema
from ..schemas.moderation import ReportCreatedSchema, ReportCreateSchema
from ..self_service import store as self_service
from ..self_service.store import AuthorProof
from ..self_service.tokens import parse_header
from ..sites import site_settings
from ..spam.bots import issue_render_token
from ..spam.velocity import network_key
from . import Blueprint, authorized

blp = Blueprint("comments", __name__, url_prefix="/v1", description="Public comments, for the embed")

MAX_IDEMPOTENCY_KEY = 255
RATE_LIMITED = {
    "schema": ProblemSchema,
    "description": "Too many requests; Retry-After says when to try again",
}


def _site_key() -> str:
    return request.headers.get("Authorization", "")[-16:]


def post_limit() -> str:
    return current_app.config["RATELIMIT_POST"]


def post_site_limit() -> str:
    return current_app.config["RATELIMIT_POST_PER_SITE"]


def report_limit() -> str:
    return current_app.config["RATELIMIT_REPORT"]


def reaction_limit() -> str:
    return current_app.config["RATELIMIT_REACTION"]


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY and key.isprintable()):
        raise ValidationFailed(
            "Idempotency-Key", f"must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters", "headers"
        )
    return key


@blp.route("/comments")
class Comments(MethodView):
    @authorized(blp, "embed")
    @limiter.limit(post_limit)
    @limiter.limit(post_site_limit, key_func=_site_key)
    @blp.arguments(CommentCreateSchema())
    @blp.response(201, CommentCreatedSchema)
    @blp.alt_response(
        409,
        schema=ProblemSchema,
        description="Closed article, or an Idempotency-Key reused with another body",
    )
    @blp.alt_response(
        401,
        schema=ProblemSchema,
        description="A reader_token or article_token that is not valid (expired, forged, another"
        " site's), or none on a site that takes signed-in readers only",
    )
    @blp.alt_response(422, schema=ProblemSchema, description="Invalid fields")
    @blp.alt_response(429, **RATE_LIMITED)
    def post(self, data):
        """Post a comment (an Idempotency-Key header makes retries safe)"""
        result = workflow.post_comment(
            current_principal().site_id,
            data,
            engine=current_app.extensions["scoring"],
            deadline=current_app.config["SCORING_DEADLINE_MS"] / 1000,
            idempotency_key=_idempotency_key(),
            network=_network(),
            render_secret=_render_secret(),
        )
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return result.body, result.status_code, headers


# The author's proofs, for their own comments (service/self_service/).
AUTHOR_HEADERS = [
    {
        "in": "header",
        "name": "Author-Token",
        "required": False,
        "schema": {"type": "string"},
        "description": "author tokens the comments were posted with (comma-separated, at most 50)",
    },
    {
        "in": "header",
        "name": "Reader-Token",
        "required": False,
        "schema": {"type": "string"},
        "description": "a reader token: the signed-in reader's own comments",
    },
]
NOT_AUTHOR = {"schema": ProblemSchema, "description": "Not the author's token (not-comment-author)"}
# Personalised answers (the author's own pending comments) must not be shared by caches.
VARY = "Author-Token, Reader-Token"


def _author_proof(site_id: int) -> AuthorProof | None:
    """The Author-Token and Reader-Token headers; None when the request sends neither."""
    tokens, reader_token = request.headers.get("Author-Token"), request.headers.get("Reader-Token")
    if tokens is None and reader_token is None:
        return None
    try:
        parsed = parse_header(tokens)
    except ValueError as error:
        raise ValidationFailed("Author-Token", str(error), "headers") from None
    reader = None
    if reader_token is not None:
        reader = workflow.verified_reader(reader_token, site_settings(site_id).sso.valid())
    return AuthorProof(dict(parsed or []), reader)


def _cached_page(etag: str, build) -> bytes:
    """The hot path of the service: a page already built for this ETag is served as it is."""
    pages: workflow.PageCache = current_app.extensions["thread_pages"]
    page = pages.get(etag)
    if page is None:
        page = json.dumps(build()).encode()
        pages.put(etag, page)
    return page


@blp.route("/articles/<string:article_id>/comments")
class Thread(MethodView):
    @authorized(blp, "embed")
    @blp.arguments(ThreadQuerySchema(), location="query")
    @blp.response(200, ThreadSchema)
    @blp.alt_response(304, description="Not modified since the ETag sent in If-None-Match")
    @blp.doc(parameters=AUTHOR_HEADERS)
    def get(self, query, article_id):
        """List an article's approved comments, threaded, a page of top-level comments at a time
        (with an Author-Token or Reader-Token, the sender's own comments awaiting review too)"""
        site_id = current_principal().site_id
        article = cached_article(site_id, article_id)
        state = thread_state(article) if article else None
        etag = public_etag = workflow.thread_etag(article, state, query)
        proof = _author_proof(site_id)
        own = []
        if proof is not None and article is not None and not query.get("cursor"):
            own = self_service.awaiting_review(site_id, article.id, proof)
            if own:
                etag = workflow.personal_etag(etag, own)
        cache = "private, no-cache" if proof is not None else "no-cache"
        headers = {"ETag": f'"{etag}"', "Cache-Control": cache, "Vary": VARY}
        if request.if_none_match.contains(etag):
            return current_app.response_class(status=304, headers=headers)
        page = _cached_page(
            public_etag, lambda: ThreadSchema().dump(workflow.list_thread(article, state, **query))
        )
        if own:
            data = json.loads(page)
            data["awaiting_review"] = PublicCommentSchema(many=True).dump(
                [{**workflow.public_view(c), "pending": True} for c in own]
            )
            page = json.dumps(data).encode()
        return current_app.response_class(page, mimetype="application/json", headers=headers)


@blp.route("/comments/<int:comment_id>")
class OneComment(MethodView):
    @authorized(blp, "embed")
    @blp.response(200, PublicCommentSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No approved comment with this id")
    @blp.alt_response(422, schema=ProblemSchema, description="A malformed Author-Token header")
    @blp.doc(parameters=AUTHOR_HEADERS)
    def get(self, comment_id):
        """Read one approved comment (or, with its author's token, the author's comment awaiting
        review, marked pending)"""
        site_id = current_principal().site_id
        proof = _author_proof(site_id)
        if proof is not None:
            own = self_service.own_pending(site_id, comment_id, proof)
            if own is not None:
                return {**workflow.public_view(own), "pending": True}
        return workflow.get_public_comment(site_id, comment_id)

    @authorized(blp, "embed")
    @limiter.limit(post_limit)
    @blp.arguments(CommentEditSchema())
    @blp.response(200, OwnCommentSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No comment with this id on the site")
    @blp.alt_response(
        409,
        schema=ProblemSchema,
        description="edit-window-closed, comment-not-editable,"
        " comment-deleted, article-closed, or a moderator's decision came first",
    )
    @blp.alt_response(422, schema=ProblemSchema, description="Invalid fields")
    @blp.alt_response(429, **RATE_LIMITED)
    @blp.doc(parameters=AUTHOR_HEADERS)
    def patch(self, data, comment_id):
        """Edit one's own comment within the site's edit window: checked, scored and decided again
        like a new comment (a 401 without Author-Token or Reader-Token, a 403 with another's)"""
        site_id = current_principal().site_id
        comment = self_service.edit_comment(
            site_id,
            comment_id,
            data["text"],
            _author_proof(site_id),
            engine=current_app.extensions["scoring"],
            deadline=current_app.config["SCORING_DEADLINE_MS"] / 1000,
        )
        return self_service.own_view(comment, site_settings(site_id).policy.edit_window_minutes)

    @authorized(blp, "embed")
    @limiter.limit(post_limit)
    @blp.response(204)
    @blp.alt_response(404, schema=ProblemSchema, description="No comment with this id on the site")
    @blp.alt_response(409, schema=ProblemSchema, description="A moderator's decision came first")
    @blp.alt_response(422, schema=ProblemSchema, description="A malformed Author-Token header")
    @blp.alt_response(429, **RATE_LIMITED)
    @blp.doc(parameters=AUTHOR_HEADERS)
    def delete(self, comment_id):
        """Delete one's own comment: its text and author go from public view (a reply keeps its
        place under a tombstone); the audit trail stays"""
        site_id = current_principal().site_id
        self_service.delete_comment(site_id, comment_id, _author_proof(site_id))


@blp.route("/comments/<int:comment_id>/replies")
class Replies(MethodView):
    @authorized(blp, "embed")
    @blp.arguments(RepliesQuerySchema(), location="query")
    @blp.response(200, RepliesSchema)
    @blp.alt_response(304, description="Not modified since the ETag sent in If-None-Match")
    @blp.alt_response(404, schema=ProblemSchema, description="No published top-level comment with this id")
    def get(self, query, comment_id):
        """More replies of a top-level comment, oldest first, from the thread's more_replies cursor"""
        site_id = current_principal().site_id
        external_id = workflow.article_of_comment(site_id, comment_id)
        article = cached_article(site_id, external_id) if external_id else None
        if article is None:
            raise NotFound("no published comment with this id")
        state = thread_state(article)
        etag = workflow.replies_etag(article, state, comment_id, query)
        headers = {"ETag": f'"{etag}"', "Cache-Control": "no-cache"}
        if request.if_none_match.contains(etag):
            return current_app.response_class(status=304, headers=headers)
        page = _cached_page(
            etag, lambda: RepliesSchema().dump(workflow.list_replies(article, comment_id, **query))
        )
        return current_app.response_class(page, mimetype="application/json", headers=headers)


@blp.route("/comments/<int:comment_id>/reports", methods=["POST"])
@authorized(blp, "embed")
@limiter.limit(report_limit, key_func=lambda: _network())
@blp.arguments(ReportCreateSchema())
@blp.response(201, ReportCreatedSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No published comment with this id")
@blp.alt_response(401, schema=ProblemSchema, description="A reader_token that is not valid")
@blp.alt_response(409, schema=ProblemSchema, description="This reader reported this comment already")
@blp.alt_response(429, **RATE_LIMITED)
def report(data, comment_id):
    """Report a published comment to the moderators (once per signed-in reader, else per network)"""
    site_id = current_principal().site_id
    reader = workflow.verified_reader(data.get("reader_token"), site_settings(site_id).sso.valid())
    reports.file_report(site_id, comment_id, data, reader=reader, network=_network())
    return {"comment_id": comment_id, "received": True}


@blp.route("/comments/<int:comment_id>/reactions")
class Reactions(MethodView):
    @authorized(blp, "embed")
    @limiter.limit(reaction_limit, key_func=lambda: _network())
    @blp.arguments(ReactionSchema())
    @blp.response(201, ReactionResultSchema, description="Liked")
    @blp.alt_response(200, schema=ReactionResultSchema, description="This reader liked it already: unchanged")
    @blp.alt_response(404, schema=ProblemSchema, description="No published comment with this id")
    @blp.alt_response(401, schema=ProblemSchema, description="A reader_token that is not valid")
    @blp.alt_response(429, **RATE_LIMITED)
    def post(self, data, comment_id):
        """Like a published comment (once per signed-in reader, else per network)"""
        result, added = reactions.react(
            current_principal().site_id, comment_id, reader=_reader(data), network=_network()
        )
        return result, 201 if added else 200

    @authorized(blp, "embed")
    @limiter.limit(reaction_limit, key_func=lambda: _network())
    @blp.arguments(ReactionSchema())
    @blp.response(200, ReactionResultSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No published comment with this id")
    @blp.alt_response(401, schema=ProblemSchema, description="A reader_token that is not valid")
    @blp.alt_response(429, **RATE_LIMITED)
    def delete(self, data, comment_id):
        """Take back this reader's like"""
        return reactions.unreact(
            current_principal().site_id, comment_id, reader=_reader(data), network=_network()
        )


@blp.route("/articles/counts")
class Counts(MethodView):
    @authorized(blp, "embed")
    @blp.arguments(CountsQuerySchema(), location="query")
    @blp.response(200, CountsSchema)
    @blp.alt_response(304, description="Not modified since the ETag sent in If-None-Match")
    @blp.alt_response(422, schema=ProblemSchema, description="No ids, more than 50, or one too long")
    def get(self, query):
        """Comment counts of up to 50 articles at once (an article list)"""
        counts = comment_counts(current_principal().site_id, list(dict.fromkeys(query["ids"])))
        body = json.dumps({"counts": counts}, ensure_ascii=False).encode()
        etag = hashlib.blake2b(body, digest_size=16).hexdigest()
        headers = {"ETag": f'"{etag}"', "Cache-Control": "no-cache"}
        if request.if_none_match.contains(etag):
            return current_app.response_class(status=304, headers=headers)
        return current_app.response_class(body, mimetype="application/json", headers=headers)


def _reader(data):
    return workflow.verified_reader(
        data.get("reader_token"), site_settings(current_principal().site_id).sso.valid()
    )


@blp.route("/render-tokens", methods=["POST"])
@authorized(blp, "embed")
@limiter.limit(post_limit)
@blp.arguments(RenderTokenRequestSchema())
@blp.response(201, RenderTokenSchema)
@blp.alt_response(429, **RATE_LIMITED)
def render_token(data):
    """A signed token dating when the comment form was shown (send it back with the comment)"""
    site_id = current_principal().site_id
    token = issue_render_token(_render_secret(), site_id, data["article_id"], time.time())
    return {"render_token": token, "min_seconds": site_settings(site_id).policy.bot_min_seconds}


def _render_secret() -> bytes:
    return current_app.config["SECRET_KEY"].encode()


def _network() -> str:
    """The keyed hash of the client's network (/24, /64): what anonymous readers are known by."""
    return network_key(request.remote_addr or "", current_app.config["SECRET_KEY"])
