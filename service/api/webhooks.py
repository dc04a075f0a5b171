"""The webhooks API: endpoints per site, secret rotation, the delivery log, redelivery, replay."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask.views import MethodView

from .. import sites
from ..auth import current_principal
from ..schemas.common import CursorQuerySchema, ProblemSchema
from ..schemas.webhooks import (
    DeliveryPageSchema,
    DeliveryStateSchema,
    EndpointCreatedSchema,
    EndpointCreateSchema,
    EndpointSchema,
    EndpointUpdateSchema,
    ReplayResultSchema,
    ReplaySchema,
    RotateSecretSchema,
    SecretSchema,
)
from ..webhooks import endpoints
from . import Blueprint, authorized

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/v1/admin",
    description="Webhook endpoints, their delivery log, redelivery and replay (admin keys). "
    "Event bodies are described by the WebhookEvent schema.",
)
NOT_FOUND = {"schema": ProblemSchema, "description": "No such endpoint (or another site's)"}


def _endpoint(endpoint_id: int):
    return endpoints.get_endpoint(endpoint_id, current_principal())


@blp.route("/sites/<string:slug>/webhooks")
class SiteWebhooks(MethodView):
    @authorized(blp, "admin")
    @blp.response(200, EndpointSchema(many=True))
    @blp.alt_response(404, schema=ProblemSchema, description="No such site")
    def get(self, slug):
        """List a site's webhook endpoints"""
        site = sites.site_by_slug(slug, current_principal())
        return [endpoints.endpoint_view(e) for e in endpoints.list_endpoints(site)]

    @authorized(blp, "admin")
    @blp.arguments(EndpointCreateSchema())
    @blp.response(201, EndpointCreatedSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such site")
    def post(self, data, slug):
        """Add an endpoint; its signing secret is in this answer only"""
        site = sites.site_by_slug(slug, current_principal())
        endpoint, secret = endpoints.create_endpoint(site, data)
        return endpoints.endpoint_view(endpoint, secret)


@blp.route("/webhooks/<int:endpoint_id>")
class OneWebhook(MethodView):
    @authorized(blp, "admin")
    @blp.response(200, EndpointSchema)
    @blp.alt_response(404, **NOT_FOUND)
    def get(self, endpoint_id):
        """Read an endpoint (never its secret)"""
        return endpoints.endpoint_view(_endpoint(endpoint_id))

    @authorized(blp, "admin")
    @blp.arguments(EndpointUpdateSchema())
    @blp.response(200, EndpointSchema)
    @blp.alt_response(404, **NOT_FOUND)
    def patch(self, data, endpoint_id):
        """Change an endpoint's URL or events, or enable or disable it"""
        return endpoints.endpoint_view(endpoints.update_endpoint(_endpoint(endpoint_id), data))

    @authorized(blp, "admin")
    @blp.response(204)
    @blp.alt_response(404, **NOT_FOUND)
    def delete(self, endpoint_id):
        """Delete an endpoint and its delivery log"""
        endpoints.delete_endpoint(_endpoint(endpoint_id))


@blp.route("/webhooks/<int:endpoint_id>/rotate-secret", methods=["POST"])
@authorized(blp, "admin")
@blp.arguments(RotateSecretSchema())
@blp.response(200, SecretSchema)
@blp.alt_response(404, **NOT_FOUND)
def rotate_secret(data, endpoint_id):
    """Issue a new secret; the old one keeps signing too for the grace period"""
    endpoint = _endpoint(endpoint_id)
    hours = data.get("grace_hours", current_app.config["WEBHOOK_SECRET_GRACE_HOURS"])
    secret = endpoints.rotate_secret(endpoint, timedelta(hours=hours))
    return {"secret": secret, "previous_secret_expires_at": endpoint.previous_secret_expires_at}


@blp.route("/webhooks/<int:endpoint_id>/deliveries", methods=["GET"])
@authorized(blp, "admin")
@blp.arguments(CursorQuerySchema(), location="query")
@blp.response(200, DeliveryPageSchema)
@blp.alt_response(404, **NOT_FOUND)
def list_deliveries(query, endpoint_id):
    """The delivery log, newest first, with each delivery's latest attempts"""
    return endpoints.list_deliveries(_endpoint(endpoint_id), query["limit"], query.get("cursor"))


@blp.route("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@authorized(blp, "admin")
@blp.response(202, DeliveryStateSchema)
@blp.alt_response(404, **NOT_FOUND)
@blp.alt_response(409, schema=ProblemSchema, description="The endpoint is disabled")
def redeliver(endpoint_id, delivery_id):
    """Send one message again now (same webhook-id)"""
    return endpoints.redeliver(_endpoint(endpoint_id), delivery_id)


@blp.route("/webhooks/<int:endpoint_id>/replay", methods=["POST"])
@authorized(blp, "admin")
@blp.arguments(ReplaySchema())
@blp.response(202, ReplayResultSchema)
@blp.alt_response(404, **NOT_FOUND)
@blp.alt_response(409, schema=ProblemSchema, description="The endpoint is disabled")
def replay(data, endpoint_id):
    """Send every event since a time again (same webhook-ids: receivers de-duplicate)"""
    return {"queued": endpoints.replay(_endpoint(endpoint_id), data["since"])}
