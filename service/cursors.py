"""Opaque keyset-pagination cursors: the last row's sort values, tied to the list's sort order."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .errors import ValidationFailed


def encode_cursor(values: list[Any], sort: str) -> str:
    raw = json.dumps({"k": values, "s": sort}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> list[Any]:
    """The values encode_cursor was given; a 422 naming `cursor` for anything else."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values = data["k"]
        if data["s"] != sort or not isinstance(values, list):
            raise ValueError
        return values
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "cursor", "is not a cursor of this list (sort must not change)", "query"
        ) from None


def decode_id_cursor(cursor: str, sort: str) -> int:
    """For lists paged by id alone."""
    values = decode_cursor(cursor, sort)
    if len(values) != 1 or not isinstance(values[0], int) or isinstance(values[0], bool):
        raise ValidationFailed("cursor", "is not a cursor of this list", "query")
    return values[0]
