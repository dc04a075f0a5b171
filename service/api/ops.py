"""Operations: liveness and readiness for the load balancer and the orchestrator."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from marshmallow import Schema, fields

from ..extensions import db
from . import Blueprint

blp = Blueprint("ops", __name__, description="Health and readiness")


class HealthSchema(Schema):
    status = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String())


@blp.route("/healthz")
@blp.response(200, HealthSchema)
def healthz():
    """The process is alive"""
    return {"status": "ok"}


@blp.route("/readyz")
@blp.response(200, HealthSchema)
@blp.alt_response(
    503, schema=HealthSchema, description="Not ready: the database or the scorer is not available"
)
def readyz():
    """The database answers and the scorer is loaded"""
    checks = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any failure means not ready
        db.session.rollback()
        checks["database"] = f"error: {type(error).__name__}"
    engine = current_app.extensions["scoring"]
    checks["scorer"] = "ok" if engine.ready else ("error" if engine.load_error else "loading")
    ok = all(v == "ok" for v in checks.values())
    return {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
