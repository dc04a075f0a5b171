"""The public comment workflow: post a comment, read the approved thread, score late comments."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .adaptation.store import adapt_scores
from .articles import ArticleSnapshot, ThreadState, article_for_comment
from .authors import author_standing, standing_of
from .cursors import decode_cursor, decode_id_cursor, encode_cursor
from .db import Article, Comment, IdempotencyRecord, utcnow
from .engagement.rules import MAX_FEATURED
from .errors import (
    ArticleClosed,
    IdempotencyConflict,
    InvalidArticleClaim,
    InvalidReaderToken,
    NotFound,
    ReaderTokenRequired,
    ValidationFailed,
)
from .extensions import db
from .identity.tokens import ArticleClaim, InvalidToken, Reader, verify_article, verify_reader
from .languages import Route, detect_language, language_reasons, language_route
from .moderation.policy import AuthorStanding, Policy, Reason, decide, match_words
from .notifications import check_opt_in, subscribe_replies
from .scoring.base import SPAM_LABEL, Scorer, Scores
from .scoring.engine import ScoringEngine
from .sites import check_article_url, site_settings
from .spam.checks import (
    HOLD_CODES,
    REJECT_CODES,
    check_comment,
    hold_published_copies,
    is_spam,
    scoring_text,
)
from .spam.reasons import SpamReason
from .transitions import insert_comment, posting_connection, record_transition

log = logging.getLogger(__name__)

# Replies nest at most this deep; deeper threads are unreadable in an embed.
MAX_DEPTH = 5
# Approved replies shown under one top-level comment.
MAX_REPLIES_PER_ROOT = 200


# Fields that prove or check things about a request rather than say what to post: a retry with
# a fresh token (the old one expired) is the same request.
PROOF_FIELDS = ("reader_token", "article_token", "render_token", "honeypot")


def request_fingerprint(body: dict[str, Any]) -> str:
    content = {k: v for k, v in body.items() if k not in PROOF_FIELDS}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def verified_reader(token: str | None, secrets: list[str]) -> Reader | None:
    """The reader the site vouched for, None for an anonymous reader; a bad token is refused."""
    if token is None:
        return None
    try:
        return verify_reader(token, secrets)
    except InvalidToken as error:
        raise InvalidReaderToken(f"reader_token {error.reason}", field="reader_token") from None


def article_claim(token: str | None, secrets: list[str], article_id: str) -> ArticleClaim | None:
    if token is None:
        return None
    try:
        claim = verify_article(token, secrets)
    except InvalidToken as error:
        raise InvalidArticleClaim(f"article_token {error.reason}", field="article_token") from None
    if claim.id != article_id:
        raise ValidationFailed("article_token", "claims another article than article.id")
    return claim


def _check_parent(article: ArticleSnapshot, parent_id: int) -> Comment:
    parent = db.session.get(Comment, parent_id)
    if parent is None or parent.article_id != article.id or parent.status != "approved":
        raise ValidationFailed("parent_id", "must be an approved comment of the same article")
    if parent.depth + 1 > MAX_DEPTH:
        raise ValidationFailed("parent_id", f"replies nest at most {MAX_DEPTH} deep")
    return parent


def score_columns(scores: Scores | None, scorer: Scorer) -> dict[str, Any]:
    """A comment's score columns, with the model that gave them (none for an unscored comment)."""
    if scores is None:
        return {"scores": None, "max_score": -1.0, "model_name": None, "model_version": None}
    stored = {label: float(value) for label, value in scores.items()}
    return {
        "scores": stored,
        "max_score": max(stored.values(), default=-1.0),
        "model_name": scorer.name,
        # A cascade's scores say which of its stages ran for this comment (cascade.StagedScores).
        "model_version": getattr(scores, "model_version", scorer.version),
    }


def apply_scores(comment: Comment, scores: Scores, scorer: Scorer) -> None:
    for column, value in score_columns(scores, scorer).items():
        setattr(comment, column, value)


_warned_no_multilingual = False


def _language_route(language: str | None, policy: Policy, engine: ScoringEngine) -> Route:
    """Where the site's policy sends a comment in `language` (service/languages/routing.py)."""
    global _warned_no_multilingual
    multilingual = engine.multilingual
    route = language_route(
        language,
        engine.languages,
        policy.unsupported_language,
        None if multilingual is None else multilingual.languages,
    )
    if policy.unsupported_language == "score" and multilingual is None and not _warned_no_multilingual:
        _warned_no_multilingual = True  # once per process, not once per comment
        log.warning(
            "a site's policy scores comments in other languages (unsupported_language=score) but "
            "no MULTILINGUAL_SCORER is configured: they are held for review"
        )
    return route


def _scoring_text(comment: Comment) -> str:
    site = site_settings(comment.site_id)
    return scoring_text(comment.text, site.policy, site.allowed_origins)


def _score_by_route(
    engine: ScoringEngine, texts: list[str], routes: list[Route]
) -> list[tuple[Scores, Scorer]]:
    """Each text's scores and the scorer that gave them: the multilingual backend for the texts
    routed to it, the site's model for the others (commands: no deadline, loads what it needs)."""
    scored: list[tuple[Scores, Scorer] | None] = [None] * len(texts)
    for scoring, multilingual in ((engine, False), (engine.multilingual, True)):
        todo = [i for i, route in enumerate(routes) if (route == "multilingual") == multilingual]
        if not todo or scoring is None:
            continue
        scorer = scoring.scorer
        for i, scores in zip(todo, scorer.score([texts[i] for i in todo]), strict=True):
            scored[i] = (scores, scorer)
    return scored  # type: ignore[return-value] - every route is one of the two


def _decide(
    scores: Scores | None,
    policy: Policy,
    matches: tuple[list, list],
    article: Article | ArticleSnapshot,
    standing: AuthorStanding,
    verified: bool,
    found: tuple[list[Reason], list[Reason]] = ([], []),
    known_reader: bool = False,
):
    """The policy's decision for a comment, with its article's and author's standing (only a
    verified author has one: an id the site did not vouch for is a claim anyone can make) and what
    the other rules `found` (holds, rejects: anonymity, spam)."""
    banned, suspect = matches
    holds, rejects = found
    if not verified:
        holds = [*holds, *_anonymous_holds(policy)]
    return decide(
        scores,
        policy,
        banned=banned,
        suspect=suspect,
        article_premoderated=article.premoderated,
        author=standing if verified else "regular",
        holds=holds,
        rejects=rejects,
        # The spam label's false alarms are mostly links to sources: readers with a record of
        # approved comments are spared it (their links pass the link rule too).
        exempt_labels=(SPAM_LABEL,) if known_reader else (),
    )


def _anonymous_holds(policy: Policy) -> list[Reason]:
    return [Reason("anonymous_author")] if policy.anonymous_posting == "hold" else []


def carried_reasons(stored: list[dict[str, Any]] | None) -> tuple[list[Reason], list[Reason]]:
    """The spam rules' reasons stored with a comment (holds, rejects), for deciding it again."""
    holds = [SpamReason(**r) for r in stored or [] if r.get("code") in HOLD_CODES]
    rejects = [SpamReason(**r) for r in stored or [] if r.get("code") in REJECT_CODES]
    return holds, rejects


def _author_columns(claimed: dict[str, Any], reader: Reader | None) -> dict[str, Any]:
    """The author as stored: what the site vouched for, else what the reader claimed (kept for
    moderators, but never an identity: no key, so no history and no standing)."""
    if reader is not None:
        return {
            "author_name": reader.name,
            "author_email": reader.email,
            "author_user_id": reader.sub,
            "author_key": reader.key,
            "author_verified": True,
        }
    return {
        "author_name": claimed["name"],
        "author_email": claimed.get("email"),
        "author_user_id": claimed.get("user_id"),
        "author_key": None,
        "author_verified": False,
    }


@dataclass
class PostResult:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def _replay(site_id: int, key: str, fingerprint: str) -> PostResult | None:
    record = db.session.execute(
        sa.select(IdempotencyRecord).where(IdempotencyRecord.site_id == site_id, IdempotencyRecord.key == key)
    ).scalar_one_or_none()
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyConflict(
            "this Idempotency-Key was already used with a different request body; use a new key"
        )
    body = dict(record.response)
    body["created_at"] = datetime.fromisoformat(body["created_at"])
    return PostResult(record.status_code, body, replayed=True)


def post_comment(
    site_id: int,
    data: dict[str, Any],
    *,
    engine: ScoringEngine,
    deadline: float,
    idempotency_key: str | None = None,
    network: str | None = None,
    render_secret: bytes = b"",
) -> PostResult:
    """Validate, check, score, decide and store one comment, all in one transaction. `network` is
    the keyed hash of the poster's network (service/spam/velocity.network_key); `render_secret`
    signs the embed's render tokens (service/spam/bots.py)."""
    fingerprint = request_fingerprint(data)
    if idempotency_key:
        replay = _replay(site_id, idempotency_key, fingerprint)
        if replay:
            return replay

    site = site_settings(site_id)
    secrets = site.sso.valid()
    reader = verified_reader(data.get("reader_token"), secrets)
    if reader is None and site.policy.anonymous_posting == "deny":
        raise ReaderTokenRequired("sign in to comment: this site takes comments with a reader_token only")
    claim = article_claim(data.get("article_token"), secrets, data["article"]["id"])
    if claim is None:
        check_article_url(data["article"]["url"], site.allowed_origins, "article.url")
    article = article_for_comment(site_id, data["article"], claim)
    if article.closed:
        raise ArticleClosed("this article no longer takes comments")
    parent = _check_parent(article, data["parent_id"]) if data.get("parent_id") else None

    author = _author_columns(data.get("author") or {}, reader)
    check_opt_in(data, author)
    # On PostgreSQL the reads and the one INSERT share a connection in autocommit mode.
    with posting_connection() as connection:
        now = utcnow()
        spam = check_comment(
            site_id,
            site.policy,
            text=data["text"],
            article_id=article.external_id,
            article_pk=article.id,
            reader_key=reader.key if reader else None,
            network=network,
            own_origins=site.allowed_origins,
            render_token=data.get("render_token"),
            honeypot=data.get("honeypot"),
            render_secret=render_secret,
            now=now,
            connection=connection,
        )
        banned, suspect = match_words(data["text"], site.lists)
        language = detect_language(data["text"])
        route = _language_route(language, site.policy, engine)
        scoring = engine.multilingual if route == "multilingual" and engine.multilingual else engine
        if scoring is not engine:
            scoring.start_loading()  # loaded on first use; until then comments wait as pending
        # A banned word rejects whatever the model says, so the model is not asked.
        scores: Scores | None = None if banned else scoring.score(spam.scoring_text, timeout=deadline)
        if scores is not None:  # the site's own model, if its moderators taught it (service/adaptation/)
            scores = adapt_scores(site_id, data["text"], scores, scoring.scorer)
        decision = _decide(
            scores,
            site.policy,
            (banned, suspect),
            article,
            standing_of(spam.author, site.policy),
            reader is not None,
            ([*spam.holds, *language_reasons(route, language)], spam.rejects),
            known_reader=spam.poster.known(site.policy),
        )
        reasons = [r.to_dict() for r in decision.reasons]
        values = {
            "site_id": site_id,
            "article_id": article.id,
            "parent_id": parent.id if parent else None,
            "root_id": (parent.root_id or parent.id) if parent else None,
            "depth": parent.depth + 1 if parent else 0,
            **author,
            "network_key": network,
            "text": data["text"],
            **spam.fingerprint,
            "spam": is_spam(reasons),
            "status": decision.status,
            "reasons": reasons,
            "created_at": now,
            "language": language,
            **score_columns(scores, (engine if scores is None else scoring).scorer),
        }
        body = {
            "id": None,  # known once stored
            "status": decision.status,
            "published": decision.status == "approved",
            "article_id": article.external_id,
            "parent_id": values["parent_id"],
            "created_at": now,
        }
        answer = None
        if idempotency_key:
            response = {**body, "created_at": now.isoformat()}
            answer = {"key": idempotency_key, "request_hash": fingerprint, "response": response}
        try:
            body["id"] = insert_comment(values, article, answer, connection).id
            hold_published_copies(reasons, body["id"])
            if data.get("notify_replies"):
                subscribe_replies(values, body["id"])
            db.session.commit()
        except IntegrityError:
            # A concurrent request with the same Idempotency-Key committed first: answer as it did.
            db.session.rollback()
            if idempotency_key:
                replay = _replay(site_id, idempotency_key, fingerprint)
                if replay:
                    return replay
            raise
    return PostResult(201, body)


# --- reading the public thread ---------------------------------------------------------


class PageCache:
    """Serialised thread pages by ETag, per process. An ETag names one version of one page, so an
    entry never goes stale: a changed thread has a new ETag. Old entries fall out by age."""

    def __init__(self, size: int = 2000):
        self.size = size
        self._pages: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, etag: str) -> bytes | None:
        with self._lock:
            page = self._pages.get(etag)
            if page is not None:
                self._pages.move_to_end(etag)
            return page

    def put(self, etag: str, page: bytes) -> None:
        with self._lock:
            self._pages[etag] = page
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


def thread_etag(article: ArticleSnapshot | None, state: ThreadState | None, query: dict[str, Any]) -> str:
    """Changes whenever the public thread (or the page asked for) changes."""
    # created_at tells apart rows that reuse an id (a restored or re-created database).
    version = (
        f"{article.id}:{article.created_at.timestamp()}:{state.version}:{int(article.closed)}"
        if article and state
        else "none"
    )
    key = f"{version}|{query.get('sort')}|{query.get('limit')}|{query.get('cursor')}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _public(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "author": {"name": comment.author_name},
        "text": comment.text,
        "created_at": comment.created_at,
        "likes": comment.reaction_count,
        "featured": comment.featured_at is not None,
        "replies": [],
    }


def _page_order(query, sort: str, cursor: str | None):
    """A page's roots in `sort` order after `cursor`: newest or oldest by id, or top (most liked
    first, newest first on ties: service/engagement/rules.top_score says why likes alone)."""
    if sort == "top":
        if cursor:
            likes, after = _top_cursor(cursor)
            query = query.where(sa.tuple_(Comment.reaction_count, Comment.id) < (likes, after))
        return query.order_by(Comment.reaction_count.desc(), Comment.id.desc())
    if cursor:
        after = decode_id_cursor(cursor, sort)
        query = query.where(Comment.id < after if sort == "newest" else Comment.id > after)
    return query.order_by(Comment.id.desc() if sort == "newest" else Comment.id.asc())


def _top_cursor(cursor: str) -> tuple[int, int]:
    values = decode_cursor(cursor, "top")
    if len(values) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValidationFailed("cursor", "is not a cursor of this list", "query")
    return values[0], values[1]


def _featured(article: ArticleSnapshot) -> list[dict[str, Any]]:
    """The article's featured comments, the newest pick first (without their replies)."""
    rows = db.session.execute(
        sa.select(Comment)
        .where(
            Comment.article_id == article.id, Comment.featured_at.is_not(None), Comment.status == "approved"
        )
        .order_by(Comment.featured_at.desc(), Comment.id.desc())
        .limit(MAX_FEATURED)
    ).scalars()
    return [_public(c) for c in rows]


def list_thread(
    article: ArticleSnapshot | None,
    state: ThreadState | None,
    *,
    sort: str = "newest",
    limit: int = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    """A page of approved top-level comments, newest, oldest or top first, each with its approved
    replies; the first page also lists the article's featured comments."""
    if article is None or state is None:
        return {"article": None, "total": 0, "featured": [], "comments": [], "next_cursor": None}
    query = sa.select(Comment).where(
        Comment.article_id == article.id, Comment.status == "approved", Comment.depth == 0
    )
    roots = list(db.session.execute(_page_order(query, sort, cursor).limit(limit + 1)).scalars())
    has_more = len(roots) > limit
    roots = roots[:limit]

    nodes = {c.id: _public(c) for c in roots}
    if roots:
        replies = db.session.execute(
            sa.select(Comment)
            .where(Comment.root_id.in_(list(nodes)), Comment.status == "approved")
            .order_by(Comment.id)
        ).scalars()
        shown_per_root: dict[int, int] = {}
        for reply in replies:
            parent = nodes.get(reply.parent_id)
            # A reply whose parent is not public (held after reports) is hidden with it.
            if parent is None or shown_per_root.get(reply.root_id, 0) >= MAX_REPLIES_PER_ROOT:
                continue
            shown_per_root[reply.root_id] = shown_per_root.get(reply.root_id, 0) + 1
            node = _public(reply)
            nodes[reply.id] = node
            parent["replies"].append(node)
    return {
        "article": {
            "id": article.external_id,
            "title": article.title,
            "url": article.url,
            "closed": article.closed,
        },
        "total": state.approved_count,
        "featured": [] if cursor else _featured(article),
        "comments": [nodes[c.id] for c in roots],
        "next_cursor": _next_cursor(roots[-1], sort) if has_more else None,
    }


def _next_cursor(last: Comment, sort: str) -> str:
    return encode_cursor([last.reaction_count, last.id] if sort == "top" else [last.id], sort)


def get_public_comment(site_id: int, comment_id: int) -> dict[str, Any]:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.site_id != site_id or comment.status != "approved":
        raise NotFound("no approved comment with this id")
    return _public(comment)


# --- late scoring ------------------------------------------------------------------------


def score_pending(
    engine: ScoringEngine, *, batch_size: int = 256, limit: int | None = None, progress=None
) -> int:
    """Score comments stored as pending and decide them; returns how many were decided."""
    done = 0
    last_id = 0
    while limit is None or done < limit:
        size = batch_size if limit is None else min(batch_size, limit - done)
        batch = list(
            db.session.execute(
                sa.select(Comment)
                .where(Comment.status == "pending", Comment.id > last_id)
                .order_by(Comment.id)
                .limit(size)
            ).scalars()
        )
        if not batch:
            break
        routes = [_language_route(c.language, site_settings(c.site_id).policy, engine) for c in batch]
        all_scores = _score_by_route(engine, [_scoring_text(c) for c in batch], routes)
        for comment, route, (scores, scorer) in zip(batch, routes, all_scores, strict=True):
            scores = adapt_scores(comment.site_id, comment.text, scores, scorer)
            site = site_settings(comment.site_id)
            article = comment.article
            holds, rejects = carried_reasons(comment.reasons)
            decision = _decide(
                scores,
                site.policy,
                match_words(comment.text, site.lists),
                article,
                author_standing(comment.site_id, comment.author_key, site.policy),
                comment.author_verified,
                # What the other rules found when it was posted still holds.
                ([*holds, *language_reasons(route, comment.language)], rejects),
            )
            apply_scores(comment, scores, scorer)
            reasons = [r.to_dict() for r in decision.reasons]
            comment.spam = is_spam(reasons)
            record_transition(comment, article, decision.status, reason="late scoring", reasons=reasons)
        db.session.commit()
        done += len(batch)
        last_id = batch[-1].id
        if progress:
            progress(len(batch))
    return done


def rescore(engine: ScoringEngine, *, since: datetime, batch_size: int = 256, progress=None) -> int:
    """Score again every comment since a date (after a model change), recording the new model
    version. Decisions stand: moderators and the policy decided on what they saw. Pending
    comments are left to score_pending, which also decides them."""
    done = 0
    last_id = 0
    while True:
        batch = list(
            db.session.execute(
                sa.select(Comment)
                .where(
                    Comment.created_at >= since,
                    Comment.id > last_id,
                    Comment.status.notin_(("pending", "deleted")),
                )
                .order_by(Comment.id)
                .limit(batch_size)
            ).scalars()
        )
        if not batch:
            return done
        routes = [_language_route(c.language, site_settings(c.site_id).policy, engine) for c in batch]
        for comment, (scores, scorer) in zip(
            batch, _score_by_route(engine, [_scoring_text(c) for c in batch], routes), strict=True
        ):
            apply_scores(comment, scores, scorer)
        db.session.commit()
        done += len(batch)
        last_id = batch[-1].id
        if progress:
            progress(len(batch))
