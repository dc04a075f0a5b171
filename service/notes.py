"""Moderators' notes on a comment: context for the next moderator ("asked the author to rephrase",
"same person as #123"). Added, never edited; listed oldest first with who wrote each."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .accounts.store import actor_names
from .auth import Principal
from .db import ModeratorNote
from .decisions import load_for_principal
from .extensions import db

MAX_NOTES = 200


def view(note: ModeratorNote, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": note.id,
        "comment_id": note.comment_id,
        "actor": note.actor,
        "actor_name": names.get(note.actor),
        "text": note.text,
        "created_at": note.created_at,
    }


def list_notes(principal: Principal, comment_id: int) -> list[dict[str, Any]]:
    comment = load_for_principal(principal, comment_id)  # 404 off the caller's sites
    notes = list(
        db.session.execute(
            sa.select(ModeratorNote)
            .where(ModeratorNote.comment_id == comment.id)
            .order_by(ModeratorNote.id)
            .limit(MAX_NOTES)
        ).scalars()
    )
    names = actor_names({n.actor for n in notes})
    return [view(n, names) for n in notes]


def add_note(principal: Principal, comment_id: int, text: str) -> dict[str, Any]:
    comment = load_for_principal(principal, comment_id)
    note = ModeratorNote(comment_id=comment.id, site_id=comment.site_id, actor=principal.actor, text=text)
    db.session.add(note)
    db.session.commit()
    return view(note, actor_names({note.actor}))
