"""Schemas of live threads (Server-Sent Events)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class LiveQuerySchema(Schema):
    key = fields.String(
        validate=validate.Length(max=200),
        metadata={
            "description": "the site's embed key, for browsers' EventSource, which cannot send an"
            " Authorization header (the header wins when both are given)"
        },
    )
    last_event_id = fields.String(
        validate=validate.Length(max=40),
        metadata={
            "description": "the newest comment id the page shows: comments approved after it come"
            " first (the Last-Event-ID header of a reconnect wins)"
        },
    )
