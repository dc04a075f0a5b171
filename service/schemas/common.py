"""Fields and schemas shared by every resource."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from ..moderation.text import is_invisible, normalise_line, normalise_text

# The largest id the databases store (BIGINT): a larger one would overflow the driver (500).
MAX_ID = 2**63 - 1

# JSON may escape half a surrogate pair ("\ud800"), which no database (nor UTF-8) can store.
NOT_UNICODE = "must be valid Unicode text (a lone surrogate is not)"
_SURROGATE = re.compile("[\ud800-\udfff]")
_DIGITS = re.compile(r"-?[0-9]+")


def lone_surrogate_at(value: Any, path: str = "") -> str | None:
    """The dotted path (as marshmallow names fields) of the first string in parsed JSON that holds
    half a surrogate pair, or None. A bad key is reported at the object holding it."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                return path or "(body)"
            found = lone_surrogate_at(item, f"{path}.{key}" if path else key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = lone_surrogate_at(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


class CleanString(fields.String):
    """A string NFKC-normalised and cleaned before its length is validated."""

    def __init__(self, *, max_length: int, min_length: int = 1, one_line: bool = True, **kwargs):
        kwargs.setdefault("validate", validate.Length(min=min_length, max=max_length))
        super().__init__(**kwargs)
        self.one_line = one_line
        self.required_text = min_length > 0
        self.metadata.setdefault("maxLength", max_length)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if _SURROGATE.search(text):  # the API refuses these at parse; other callers land here
            raise ValidationError(NOT_UNICODE)
        text = normalise_line(text) if self.one_line else normalise_text(text)
        if self.required_text and is_invisible(text):
            raise ValidationError("must not be empty (nothing is left once invisible characters are removed)")
        return text


class StrictInteger(fields.Integer):
    """An integer in a JSON body: 1.5, true and "1" are refused rather than read as 1."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)


class QueryInteger(fields.Integer):
    """An integer in a query string: ASCII digits only (not 1.5, 1_0, " 1" or other scripts' digits)."""

    def _validated(self, value):
        if isinstance(value, str) and not _DIGITS.fullmatch(value):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


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
    limit = QueryInteger(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(validate=validate.Length(max=200))
