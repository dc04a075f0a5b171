"""Fields and schemas shared by every resource."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from ..moderation.text import normalise_line, normalise_text

# The largest id the databases store (BIGINT): a larger one would overflow the driver (500).
MAX_ID = 2**63 - 1


class CleanString(fields.String):
    """A string NFKC-normalised and cleaned before its length is validated."""

    def __init__(self, *, max_length: int, min_length: int = 1, one_line: bool = True, **kwargs):
        kwargs.setdefault("validate", validate.Length(min=min_length, max=max_length))
        super().__init__(**kwargs)
        self.one_line = one_line
        self.metadata.setdefault("maxLength", max_length)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        # JSON may escape half a surrogate pair ("\ud800"): no database can store it.
        if any("\ud800" <= char <= "\udfff" for char in text):
            raise ValidationError("must be valid Unicode text (a lone surrogate is not)")
        return normalise_line(text) if self.one_line else normalise_text(text)


class ProblemFieldSchema(Schema):
    field = fields.String(metadata={"description": "dotted path of the field, e.g. author.name"})
    location = fields.String(metadata={"description": "json, query, headers or path"})
    message = fields.String()


class ProblemSchema(Schema):
    """RFC 9457 problem details, the body of every error."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    code = fields.String(metadata={"description": "machine-readable error code"})
    detail = fields.String()
    errors = fields.List(fields.Nested(ProblemFieldSchema), metadata={"description": "one per invalid field"})
    field = fields.String(metadata={"description": "the request field at fault (e.g. reader_token on a 401)"})
    reasons = fields.List(
        fields.Dict(),
        metadata={"description": "on a 429 from the spam rules: which limit, its window and count"},
    )


class CursorQuerySchema(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(validate=validate.Length(max=200))
