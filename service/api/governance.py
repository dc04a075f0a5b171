"""The DSA workflows over HTTP: readers' notices of illegal content (embed key), the signed links
reporters and authors follow (no key: the link is the credential), and the moderators' notice
queue, decisions, statements and Transparency Database export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Response, current_app, request

from ..auth import current_principal
from ..comments import verified_reader
from ..db import Site
from ..errors import ValidationFailed
from ..extensions import db, limiter
from ..governance import dsa, notices, statements, transparency
from ..schemas.common import ProblemSchema
from ..schemas.governance import (
    ExportQuerySchema,
    ExportSchema,
    NoticeCreateSchema,
    NoticeDecisionSchema,
    NoticePageSchema,
    NoticeQuerySchema,
    NoticeReceiptSchema,
    NoticeSchema,
    NoticeStatusSchema,
    StatementPageSchema,
    StatementQuerySchema,
    StatementViewSchema,
)
from ..schemas.transparency import TransparencyQuerySchema, TransparencySchema
from ..sites import site_by_slug, site_settings
from ..spam.velocity import network_key
from . import Blueprint, authorized
from .comments import RATE_LIMITED, report_limit

blp = Blueprint(
    "governance",
    __name__,
    url_prefix="/v1",
    description="EU DSA: notices of illegal content (Art. 16) and statements of reasons (Art. 17)",
)


def _network() -> str:
    return network_key(request.remote_addr or "", current_app.config["SECRET_KEY"])


def _site_id(slug: str | None) -> int | None:
    if slug:
        return site_by_slug(slug, current_principal()).id
    principal = current_principal()
    # A person with roles on several sites sees them all, as a key of every site does.
    return principal.site_id if principal.sites is not None and len(principal.sites) == 1 else None


def _required_site(slug: str | None) -> Site:
    site_id = _site_id(slug)
    if site_id is None:
        raise ValidationFailed("site", "name the site (this key reaches every site)", "query")
    return db.session.get(Site, site_id)


@blp.route("/comments/<int:comment_id>/notices", methods=["POST"])
@authorized(blp, "embed")
@limiter.limit(report_limit, key_func=_network)
@blp.arguments(NoticeCreateSchema())
@blp.response(201, NoticeReceiptSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No comment with this id on the site")
@blp.alt_response(401, schema=ProblemSchema, description="A reader_token that is not valid")
@blp.alt_response(422, schema=ProblemSchema, description="Invalid fields (good_faith must be true)")
@blp.alt_response(429, **RATE_LIMITED)
def submit_notice(data, comment_id):
    """Notify the site that a comment is illegal (DSA Art. 16); answers with the reporter's status link"""
    site_id = current_principal().site_id
    reader = verified_reader(data.get("reader_token"), site_settings(site_id).sso.valid())
    user_id = reader.key.removeprefix("sso:") if reader is not None else None
    notice, path = notices.submit(site_id, comment_id, data, reporter_user_id=user_id, network=_network())
    return {
        "id": notice.id,
        "comment_id": notice.comment_id,
        "status": notice.status,
        "status_path": path,
        "created_at": notice.created_at,
    }


@blp.route("/notices/<string:token>")
@blp.response(200, NoticeStatusSchema)
@blp.alt_response(404, schema=ProblemSchema, description="The link is not one the service signed")
def notice_status(token):
    """A notice's status and decision, for its reporter (the signed link is the credential)"""
    return notices.reporter_view(notices.by_token(token))


@blp.route("/statements/<string:token>")
@blp.response(200, StatementViewSchema)
@blp.alt_response(404, schema=ProblemSchema, description="The link is not one the service signed")
def statement(token):
    """A statement of reasons, for the author of the restricted comment or account (signed link)"""
    return statements.author_view(statements.by_token(token))


@blp.route("/moderation/notices")
@authorized(blp, "moderator")
@blp.arguments(NoticeQuerySchema(), location="query")
@blp.response(200, NoticePageSchema)
def notice_queue(args):
    """The queue of notices of illegal content, oldest first"""
    found = notices.queue(
        current_principal(), _site_id(args.get("site")), args["status"], args["limit"], args.get("after")
    )
    return {"notices": [notices.moderator_view(n) for n in found]}


@blp.route("/moderation/notices/<int:notice_id>")
@authorized(blp, "moderator")
@blp.response(200, NoticeSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such notice on this key's sites")
def notice_detail(notice_id):
    """One notice with its reporter's contact details (for the site to e-mail the decision)"""
    return notices.moderator_view(notices.load(current_principal(), notice_id))


@blp.route("/moderation/notices/<int:notice_id>/decision", methods=["POST"])
@authorized(blp, "moderator")
@blp.arguments(NoticeDecisionSchema())
@blp.response(200, NoticeSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such notice on this key's sites")
@blp.alt_response(409, schema=ProblemSchema, description="The notice was decided already")
def decide_notice(data, notice_id):
    """Decide a notice: illegal (the comment is rejected), not illegal, or against the site's rules"""
    return notices.moderator_view(notices.decide(current_principal(), notice_id, data))


@blp.route("/moderation/statements")
@authorized(blp, "moderator")
@blp.arguments(StatementQuerySchema(), location="query")
@blp.response(200, StatementPageSchema)
def statement_list(args):
    """The site's statements of reasons, newest first"""
    site = _required_site(args.get("site"))
    found = statements.list_statements(
        site.id, comment_id=args.get("comment_id"), limit=args["limit"], before=args.get("before")
    )
    return {"statements": found}


@blp.route("/moderation/statements/export")
@authorized(blp, "moderator")
@blp.arguments(ExportQuerySchema(), location="query")
@blp.response(200, ExportSchema)
def statement_export(args):
    """Statements of reasons made in a period, in the DSA Transparency Database's format"""
    site = _required_site(args.get("site"))
    since, until = (
        value if value.tzinfo else value.replace(tzinfo=UTC) for value in (args["since"], args["until"])
    )
    if until <= since:
        raise ValidationFailed("until", "must be after since", "query")
    scope = list(args.get("territorial_scope") or dsa.EU_COUNTRIES)
    return {"statements": statements.export(site, since, until, scope)}


@blp.route("/moderation/transparency")
@authorized(blp, "moderator")
@blp.arguments(TransparencyQuerySchema(), location="query")
@blp.response(200, TransparencySchema)
@blp.alt_response(422, schema=ProblemSchema, description="A period that ends before it starts")
def transparency_report(args):
    """A site's transparency report for a period (DSA Art. 15 and 24), as JSON or CSV"""
    site = _required_site(args.get("site"))
    until = args.get("until") or datetime.now(UTC)
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    since = args.get("since") or until - timedelta(days=30)
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    if until <= since:
        raise ValidationFailed("until", "must be after since", "query")
    report = transparency.report(site.id, site.slug, since, until)
    wants_csv = args.get("format") == "csv" or (
        "format" not in args
        and request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"
    )
    if wants_csv:
        filename = f"transparency-{site.slug}-{since.date()}-{until.date()}.csv"
        return Response(
            transparency.csv_text(report),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return report
