"""Appeals against restrictions (DSA Art. 20) over HTTP: the author appeals through their
statement's signed link (no key: the link is the credential); moderators read the appeals queue
and decide, never on their own decision."""

from __future__ import annotations

from flask import current_app, request

from ..auth import current_principal
from ..cursors import decode_id_cursor, encode_cursor
from ..extensions import limiter
from ..governance import appeals, statements
from ..schemas.appeals import (
    AppealCreateSchema,
    AppealDecisionSchema,
    AppealPageSchema,
    AppealQuerySchema,
    AppealReceiptSchema,
    AppealSchema,
)
from ..schemas.common import ProblemSchema
from ..spam.velocity import network_key
from . import Blueprint, authorized
from .comments import RATE_LIMITED, report_limit
from .governance import _site_id

blp = Blueprint(
    "appeals", __name__, url_prefix="/v1", description="EU DSA: appeals against restrictions (Art. 20)"
)
CURSOR_SORT = "appeal-id"


def _network() -> str:
    return network_key(request.remote_addr or "", current_app.config["SECRET_KEY"])


@blp.route("/statements/<string:token>/appeal", methods=["POST"])
@limiter.limit(report_limit, key_func=_network)
@blp.arguments(AppealCreateSchema())
@blp.response(201, AppealReceiptSchema)
@blp.alt_response(404, schema=ProblemSchema, description="The link is not one the service signed")
@blp.alt_response(
    409,
    schema=ProblemSchema,
    description="appeal-window-closed (six months passed), appeal-exists, or appeal-not-appealable",
)
@blp.alt_response(422, schema=ProblemSchema, description="Invalid fields (text: 10 to 4,000 characters)")
@blp.alt_response(429, **RATE_LIMITED)
def submit_appeal(data, token):
    """Appeal against the restriction of a statement of reasons, within six months (the author's link)"""
    statement = statements.by_token(token)
    appeal = appeals.submit(statement, data["text"])
    return {
        "id": appeal.id,
        "status": appeal.status,
        "statement_path": statements.statement_path(statement.public_id),
        "created_at": appeal.created_at,
    }


@blp.route("/moderation/appeals")
@authorized(blp, "moderator")
@blp.arguments(AppealQuerySchema(), location="query")
@blp.response(200, AppealPageSchema)
@blp.alt_response(422, schema=ProblemSchema, description="A cursor that is not one of this list")
def appeal_queue(args):
    """The queue of appeals, oldest first"""
    after = decode_id_cursor(args["cursor"], CURSOR_SORT) if args.get("cursor") else None
    limit = args["limit"]
    found = appeals.queue(current_principal(), _site_id(args.get("site")), args["status"], limit + 1, after)
    page = found[:limit]
    more = len(found) > limit
    return {
        "appeals": [appeals.moderator_view(a) for a in page],
        "next_cursor": encode_cursor([page[-1].id], CURSOR_SORT) if more else None,
    }


@blp.route("/moderation/appeals/<int:appeal_id>")
@authorized(blp, "moderator")
@blp.response(200, AppealSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such appeal on this key's sites")
def appeal_detail(appeal_id):
    """One appeal with the statement and the comment it contests"""
    return appeals.moderator_view(appeals.load(current_principal(), appeal_id))


@blp.route("/moderation/appeals/<int:appeal_id>/decision", methods=["POST"])
@authorized(blp, "moderator")
@blp.arguments(AppealDecisionSchema())
@blp.response(200, AppealSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such appeal on this key's sites")
@blp.alt_response(
    409,
    schema=ProblemSchema,
    description=(
        "appeal-same-decider (the caller made the decision appealed), appeal-decided, or the comment"
        " was erased since"
    ),
)
def decide_appeal(data, appeal_id):
    """Decide an appeal: upheld, or reversed (the comment is published again); not by the original decider"""
    appeal = appeals.decide(current_principal(), appeal_id, data["outcome"], data["reason"])
    return appeals.moderator_view(appeal)
