"""Articles as the hot paths see them: created with their first comment, read through a
per-process cache so that posting and reading a thread need no query for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from .caches import TTLCache
from .db import Article
from .extensions import db
from .identity.tokens import ArticleClaim
from .transitions import article_changed, thread_changed


@dataclass(frozen=True)
class ArticleSnapshot:
    """An article detached from the session, so it can be cached and shared between threads."""

    id: int
    site_id: int
    external_id: str
    url: str
    title: str
    closed: bool
    premoderated: bool
    created_at: datetime
    verified: bool = False

    @classmethod
    def of(cls, article: Article) -> ArticleSnapshot:
        return cls(
            article.id,
            article.site_id,
            article.external_id,
            article.url,
            article.title,
            article.closed,
            article.premoderated,
            article.created_at,
            article.verified,
        )


@dataclass(frozen=True)
class ThreadState:
    """The public thread's counters, which change with every approval: cached apart from the
    article, so that a process's own approvals do not make it reload the article to post."""

    approved_count: int
    version: int


def article_cache(ttl: float) -> TTLCache[ArticleSnapshot]:
    return TTLCache(ttl)


def thread_state_cache(ttl: float) -> TTLCache[ThreadState]:
    return TTLCache(ttl)


def find_article(site_id: int, external_id: str) -> Article | None:
    return db.session.execute(
        sa.select(Article).where(Article.site_id == site_id, Article.external_id == external_id)
    ).scalar_one_or_none()


def cached_article(site_id: int, external_id: str) -> ArticleSnapshot | None:
    """The article from this process's cache: its own commits show at once, other processes'
    within THREAD_CACHE_SECONDS."""

    def load() -> ArticleSnapshot | None:
        article = find_article(site_id, external_id)
        return ArticleSnapshot.of(article) if article else None

    return current_app.extensions["articles"].get((site_id, external_id), load)


def thread_state(article: ArticleSnapshot) -> ThreadState:
    """The thread's counters from this process's cache (same rules as cached_article)."""

    def load() -> ThreadState:
        row = db.session.execute(
            sa.select(Article.approved_count, Article.thread_version).where(Article.id == article.id)
        ).one()
        return ThreadState(row.approved_count, row.thread_version)

    return current_app.extensions["thread_states"].get(article.id, load)


def article_for_comment(
    site_id: int, ref: dict[str, str], claim: ArticleClaim | None = None
) -> ArticleSnapshot:
    """The article a comment is posted on. A new one is made from the embed's id, URL and title
    (unverified: moderators see that the site did not vouch for them). Once made, only the site
    changes its URL and title: the admin API, or a signed article `claim`, applied here."""
    cached = cached_article(site_id, ref["id"])
    if cached is not None and (claim is None or _claimed(cached, claim)):
        return cached
    article = find_article(site_id, ref["id"])
    if article is None:
        values = (
            {"url": claim.url, "title": claim.title, "verified": True}
            if claim
            else {"url": ref["url"], "title": ref["title"]}
        )
        try:
            with db.session.begin_nested():
                article = Article(site_id=site_id, external_id=ref["id"], **values)
                db.session.add(article)
        except IntegrityError:  # another request created it first
            article = find_article(site_id, ref["id"])
            assert article is not None
    if claim is not None and not _claimed(article, claim):
        article.url, article.title, article.verified = claim.url, claim.title, True
        db.session.flush()
        thread_changed(article)
    article_changed(site_id, ref["id"])  # this process cached it as missing, or as it was
    return ArticleSnapshot.of(article)


def _claimed(article: Article | ArticleSnapshot, claim: ArticleClaim) -> bool:
    return article.verified and (article.url, article.title) == (claim.url, claim.title)
