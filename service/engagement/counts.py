"""Comment counts of many articles in one request (an article list page), read from the same
per-process caches as the threads (service/articles.py): a process's own changes show at once,
another process's within THREAD_CACHE_SECONDS, and a warm request makes no query."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from ..articles import ArticleSnapshot, ThreadState
from ..db import Article
from ..extensions import db


def comment_counts(site_id: int, external_ids: list[str]) -> dict[str, int]:
    """Approved comments (replies included) of each article, 0 for an article with none yet."""
    articles = current_app.extensions["articles"].get_many(
        [(site_id, external_id) for external_id in external_ids], _load_articles
    )
    known = [article for article in articles.values() if article is not None]
    states = current_app.extensions["thread_states"].get_many([a.id for a in known], _load_states)
    counts = {}
    for external_id in external_ids:
        article = articles[(site_id, external_id)]
        state = states.get(article.id) if article is not None else None
        counts[external_id] = state.approved_count if state is not None else 0
    return counts


def _load_articles(keys: list[tuple[int, str]]) -> dict[tuple[int, str], ArticleSnapshot]:
    site_id = keys[0][0]
    rows = db.session.execute(
        sa.select(Article).where(Article.site_id == site_id, Article.external_id.in_([k[1] for k in keys]))
    ).scalars()
    return {(site_id, row.external_id): ArticleSnapshot.of(row) for row in rows}


def _load_states(ids: list[int]) -> dict[int, ThreadState]:
    rows = db.session.execute(
        sa.select(Article.id, Article.approved_count, Article.thread_version).where(Article.id.in_(ids))
    )
    return {row.id: ThreadState(row.approved_count, row.thread_version) for row in rows}
