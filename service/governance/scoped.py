"""Reading the governance tables (notices, appeals) as a moderator may: one row of the caller's
sites, or a page of them oldest first."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa

from ..auth import Principal
from ..errors import NotFound
from ..extensions import db

Row = TypeVar("Row")


def load_scoped(model: type[Row], principal: Principal, row_id: int, noun: str) -> Row:
    """The row, when it belongs to a site the caller acts on; 404 otherwise (no hint it exists)."""
    row: Any = db.session.get(model, row_id)
    if row is None or not principal.may_act_on(row.site_id):
        raise NotFound(f"no {noun} {row_id}")
    return row


def page_scoped(
    model: Any, principal: Principal, site_id: int | None, status: str, limit: int, after: int | None
) -> list:
    """Rows of one site (or of every site the caller acts on), oldest first, from the id after
    `after`; `status` "all" or one status."""
    query = sa.select(model).order_by(model.id).limit(limit)
    if status != "all":
        query = query.where(model.status == status)
    if site_id is not None:
        query = query.where(model.site_id == site_id)
    elif (clause := principal.site_clause(model.site_id)) is not None:
        query = query.where(clause)
    if after is not None:
        query = query.where(model.id > after)
    return list(db.session.execute(query).scalars())
