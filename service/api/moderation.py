"""The moderators' API: queues, decisions, authors, audit, stats and policy simulation."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView

from .. import audit, authors, decisions, notes, queue, settings_audit, simulation, stats
from ..auth import current_principal
from ..db import Site
from ..engagement.featured import set_featured
from ..errors import ValidationFailed
from ..extensions import db
from ..moderation.policy import Policy
from ..schemas.common import ProblemSchema
from ..schemas.moderation import (
    AuthorQuerySchema,
    AuthorSchema,
    AuthorStandingSchema,
    BulkDecisionSchema,
    BulkResultsSchema,
    DecisionSchema,
    EraseSchema,
    EventPageSchema,
    EventQuerySchema,
    FeaturedSchema,
    FeatureSchema,
    IdentitySchema,
    NoteCreateSchema,
    NoteListSchema,
    NoteSchema,
    QueueCountsSchema,
    QueueItemSchema,
    QueuePageSchema,
    QueueQuerySchema,
    SimulationRequestSchema,
    SimulationSchema,
    SiteQuerySchema,
    StatsQuerySchema,
    StatsSchema,
)
from ..schemas.settings_audit import SettingsEventPageSchema, SettingsEventQuerySchema
from ..sites import list_sites, site_by_slug
from . import Blueprint, authorized, json_response

blp = Blueprint(
    "moderation", __name__, url_prefix="/v1/moderation", description="Moderators' queues and decisions"
)
CONFLICT = {
    "schema": ProblemSchema,
    "description": "Another moderator decided first; `current` holds the comment's state",
}


def _site_id(slug: str | None) -> int | None:
    """The site asked for, or the key's own site (no query); None for a key of every site that
    names none."""
    if slug:
        return site_by_slug(slug, current_principal()).id
    principal = current_principal()
    # A person with roles on several sites sees them all, as a key of every site does.
    return principal.site_id if principal.sites is not None and len(principal.sites) == 1 else None


def _required_site(slug: str | None) -> Site:
    site_id = _site_id(slug)
    if site_id is None:
        raise ValidationFailed("site", "name the site (this key reaches every site)", "query")
    return db.session.get(Site, site_id)  # already in the session when named by slug


def _explainer():
    return current_app.extensions["scoring"].explainer


def _if_match() -> int | None:
    """The version the moderator saw, from If-Match ("3" or W/"3")."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise ValidationFailed("If-Match", 'must be the comment\'s version, e.g. "3"', "headers")
    return int(value)


def _detail(comment, headers: dict[str, str] | None = None):
    return json_response(queue.item(comment.id, _explainer()), headers=headers)


@blp.route("/me")
@authorized(blp, "moderator")
@blp.response(200, IdentitySchema)
def whoami():
    """The key's role and the sites it reaches, with each site's rejection reasons and report threshold"""
    principal = current_principal()
    policies = [(site, Policy.from_dict(site.policy)) for site in list_sites(principal)]
    return {
        "role": principal.role,
        "all_sites": principal.every_site,
        "actor": principal.actor,
        "name": principal.name,
        "sites": [
            {
                "id": site.id,
                "slug": site.slug,
                "name": site.name,
                "rejection_reasons": list(policy.rejection_reasons),
                "report_threshold": policy.report_threshold,
                "role": principal.role_on(site.id),
            }
            for site, policy in policies
        ],
    }


@blp.route("/queues")
@authorized(blp, "moderator")
@blp.arguments(SiteQuerySchema(), location="query")
@blp.response(200, QueueCountsSchema)
def queue_counts(args):
    """Count the comments in each queue"""
    return queue.queue_counts(current_principal(), _site_id(args.get("site")))


@blp.route("/comments")
@authorized(blp, "moderator")
@blp.arguments(QueueQuerySchema(), location="query")
@blp.response(200, QueuePageSchema)
def list_queue(args):
    """List a queue's comments with everything needed to decide"""
    page = queue.list_queue(current_principal(), args, _site_id(args.get("site")), _explainer())
    return json_response(page)


@blp.route("/comments/<int:comment_id>")
class ModeratedComment(MethodView):
    @authorized(blp, "moderator")
    @blp.response(200, QueueItemSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such comment on this key's sites")
    def get(self, comment_id):
        """Read one comment as moderators see it (its ETag is its version)"""
        comment = decisions.load_for_principal(current_principal(), comment_id)
        return _detail(comment, {"ETag": f'"{comment.version}"'})

    @authorized(blp, "moderator")
    @blp.arguments(EraseSchema())
    @blp.response(200, QueueItemSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such comment on this key's sites")
    def delete(self, data, comment_id):
        """Erase a comment on request: text and personal data go, the audit trail stays"""
        return _detail(decisions.erase(current_principal(), comment_id, data["note"]))


@blp.route("/comments/<int:comment_id>/decision", methods=["POST"])
@authorized(blp, "moderator")
@blp.arguments(DecisionSchema())
@blp.response(200, QueueItemSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such comment on this key's sites")
@blp.alt_response(409, **CONFLICT)
def decide(data, comment_id):
    """Approve, reject or hold a comment; send If-Match with the version you saw"""
    comment = decisions.decide_one(current_principal(), comment_id, data, _if_match())
    return _detail(comment, {"ETag": f'"{comment.version}"'})


@blp.route("/comments/<int:comment_id>/reports/dismiss", methods=["POST"])
@authorized(blp, "moderator")
@blp.arguments(EraseSchema())
@blp.response(200, QueueItemSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such comment on this key's sites")
@blp.alt_response(409, schema=ProblemSchema, description="The comment has no open reports")
def dismiss_reports(data, comment_id):
    """Dismiss a comment's open reports: a comment they held is published again, and the same
    readers cannot report it again"""
    comment = decisions.dismiss_reports(current_principal(), comment_id, data["note"])
    return _detail(comment, {"ETag": f'"{comment.version}"'})


@blp.route("/comments/<int:comment_id>/featured", methods=["PUT"])
@authorized(blp, "moderator")
@blp.arguments(FeatureSchema())
@blp.response(200, FeaturedSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such comment on this key's sites")
@blp.alt_response(409, schema=ProblemSchema, description="The comment is not published")
def feature(data, comment_id):
    """Feature an approved comment above its article's thread, or unfeature it (audited)"""
    comment = set_featured(current_principal(), comment_id, data["featured"], data["note"])
    return {
        "id": comment.id,
        "featured": comment.featured_at is not None,
        "featured_at": comment.featured_at,
        "version": comment.version,
    }


@blp.route("/decisions", methods=["POST"])
@authorized(blp, "moderator")
@blp.arguments(BulkDecisionSchema())
@blp.response(200, BulkResultsSchema)
def decide_many(data):
    """Decide up to 100 comments; each gets its own result"""
    return {"results": decisions.decide_many(current_principal(), data["decisions"])}


@blp.route("/comments/<int:comment_id>/events")
@authorized(blp, "moderator")
@blp.response(200, EventPageSchema)
def comment_events(comment_id):
    """The audit trail of one comment, newest first"""
    comment = decisions.load_for_principal(current_principal(), comment_id)
    return audit.list_events(current_principal(), {"comment_id": comment.id, "limit": 200}, comment.site_id)


@blp.route("/comments/<int:comment_id>/notes")
class CommentNotes(MethodView):
    @authorized(blp, "moderator")
    @blp.response(200, NoteListSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such comment on this key's sites")
    def get(self, comment_id):
        """Moderators' notes on a comment, oldest first, each with who wrote it"""
        return {"notes": notes.list_notes(current_principal(), comment_id)}

    @authorized(blp, "moderator")
    @blp.arguments(NoteCreateSchema())
    @blp.response(201, NoteSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such comment on this key's sites")
    def post(self, data, comment_id):
        """Add a note for the other moderators (notes are kept: never edited or deleted)"""
        return notes.add_note(current_principal(), comment_id, data["text"])


@blp.route("/events")
@authorized(blp, "moderator")
@blp.arguments(EventQuerySchema(), location="query")
@blp.response(200, EventPageSchema)
def events(args):
    """The audit trail: who moved which comment from what to what, and why"""
    return audit.list_events(current_principal(), args, _site_id(args.get("site")))


@blp.route("/settings-events")
@authorized(blp, "admin")
@blp.arguments(SettingsEventQuerySchema(), location="query")
@blp.response(200, SettingsEventPageSchema)
def settings_events(args):
    """The settings history: who changed which policy, word list, SSO secret, webhook or key, with
    the fields before and after, newest first (admins)"""
    return settings_audit.list_settings_events(current_principal(), args, _site_id(args.get("site")))


@blp.route("/authors")
class Authors(MethodView):
    @authorized(blp, "moderator")
    @blp.arguments(SiteQuerySchema(), location="query")
    @blp.arguments(AuthorQuerySchema(), location="query")
    @blp.response(200, AuthorSchema)
    def get(self, site_args, args):
        """An author's standing and history"""
        site = _required_site(site_args.get("site"))
        return authors.author_view(site.id, args["key"], Policy.from_dict(site.policy))

    @authorized(blp, "moderator")
    @blp.arguments(SiteQuerySchema(), location="query")
    @blp.arguments(AuthorQuerySchema(), location="query")
    @blp.arguments(AuthorStandingSchema())
    @blp.response(200, AuthorSchema)
    def put(self, site_args, args, data):
        """Ban, suspend, trust or reset an author"""
        site = _required_site(site_args.get("site"))
        authors.set_standing(site.id, args["key"], data, current_principal().actor)
        return authors.author_view(site.id, args["key"], Policy.from_dict(site.policy))


@blp.route("/stats")
@authorized(blp, "moderator")
@blp.arguments(StatsQuerySchema(), location="query")
@blp.response(200, StatsSchema)
def site_stats(args):
    """Queue sizes, decisions per day, time in queue, and model-moderator agreement"""
    site = _required_site(args["site"])
    return stats.site_stats(site.id, args["days"], queue.queue_counts(current_principal(), site.id))


@blp.route("/sites/<string:slug>/simulate", methods=["POST"])
@authorized(blp, "moderator")
@blp.arguments(SimulationRequestSchema())
@blp.response(200, SimulationSchema)
def simulate(data, slug):
    """How decisions on recent comments would change under a proposed policy (changes nothing)"""
    return simulation.simulate(site_by_slug(slug, current_principal()), data["policy"], data["last"])
