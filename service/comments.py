"""The public comment workflow: post a comment, read the approved thread, score late comments."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

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
from .moderation.policy import AuthorStanding, Decision, Policy, Reason, decide, match_words
from .notifications import check_opt_in, subscribe_replies
from .scoring.base import SPAM_LABEL, Scorer, Scores
from .scoring.engine import ScoringEngine
from .self_service.rules import editable_until
from .self_service.tokens import format_author_token, hash_author_token, new_author_token
from .sites import SiteSettings, check_article_url, site_settings
from .spam.checks import (
    HOLD_CODES,
    POSTER_CODES,
    REJECT_CODES,
    SpamFindings,
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
# Replies shown under one top-level comment in the thread; the rest come from list_replies.
MAX_REPLIES_PER_ROOT = 200
# Deleted top-level comments shown (as tombstones over their replies) on one page at most.
MAX_TOMBSTONES_PER_PAGE = 100


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
class Assessment:
    """What the checks, the scorer and the policy make of a text: posting and editing share it."""

    spam: SpamFindings
    language: str | None
    decision: Decision
    score_columns: dict[str, Any]


def assess(
    site: SiteSettings,
    engine: ScoringEngine,
    deadline: float,
    *,
    text: str,
    article: Article | ArticleSnapshot,
    reader_key: str | None,
    network: str | None,
    now: datetime,
    connection: sa.Connection,
    render_token: str | None = None,
    honeypot: str | None = None,
    render_secret: bytes = b"",
    edit_of: Comment | None = None,
) -> Assessment:
    """Spam rules, word lists, language, scores (with a deadline) and the policy's decision for
    a new comment's text, or for the new text of `edit_of` (its poster's rules, bots and
    velocity, are not judged again: what they found at posting still holds)."""
    policy = site.policy
    spam = check_comment(
        site.id,
        replace(policy, bot_checks=False) if edit_of else policy,
        text=text,
        article_id=article.external_id,
        article_pk=article.id,
        reader_key=reader_key,
        network=network,
        own_origins=site.allowed_origins,
        render_token=render_token,
        honeypot=honeypot,
        render_secret=render_secret,
        now=now,
        connection=connection,
        velocity=edit_of is None,
    )
    if edit_of is not None:
        holds, _ = carried_reasons(edit_of.reasons)
        spam.holds.extend(r for r in holds if r.code in POSTER_CODES)
    banned, suspect = match_words(text, site.lists)
    language = detect_language(text)
    route = _language_route(language, policy, engine)
    scoring = engine.multilingual if route == "multilingual" and engine.multilingual else engine
    if scoring is not engine:
        scoring.start_loading()  # loaded on first use; until then comments wait as pending
    # A banned word rejects whatever the model says, so the model is not asked.
    scores: Scores | None = None if banned else scoring.score(spam.scoring_text, timeout=deadline)
    if scores is not None:  # the site's own model, if its moderators taught it (service/adaptation/)
        scores = adapt_scores(site.id, text, scores, scoring.scorer)
    decision = _decide(
        scores,
        policy,
        (banned, suspect),
        article,
        standing_of(spam.author, policy),
        reader_key is not None,
        ([*spam.holds, *language_reasons(route, language)], spam.rejects),
        known_reader=spam.poster.known(policy),
    )
    columns = score_columns(scores, (engine if scores is None else scoring).scorer)
    return Assessment(spam, language, decision, columns)


@dataclass
class PostResult:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def _replay(site_id: int, key: str, fingerprint: str, author_token: str) -> PostResult | None:
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
    body["author_token"] = format_author_token(body["id"], author_token)
    body["editable_until"] = editable_until(
        body["created_at"], site_settings(site_id).policy.edit_window_minutes
    )
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
    # The author's proof for editing and deleting: a retry with the same Idempotency-Key gets the
    # same one back (derived, never stored), any other post a random one.
    author_token = new_author_token(render_secret, site_id, idempotency_key, fingerprint)
    if idempotency_key:
        replay = _replay(site_id, idempotency_key, fingerprint, author_token)
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
        judged = assess(
            site,
            engine,
            deadline,
            text=data["text"],
            article=article,
            reader_key=reader.key if reader else None,
            network=network,
            render_token=data.get("render_token"),
            honeypot=data.get("honeypot"),
            render_secret=render_secret,
            now=now,
            connection=connection,
        )
        spam, decision, language = judged.spam, judged.decision, judged.language
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
            "author_token_hash": hash_author_token(author_token),
            **judged.score_columns,
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
            body["author_token"] = format_author_token(body["id"], author_token)
            body["editable_until"] = editable_until(now, site.policy.edit_window_minutes)
        except IntegrityError:
            # A concurrent request with the same Idempotency-Key committed first: answer as it did.
            db.session.rollback()
            if idempotency_key:
                replay = _replay(site_id, idempotency_key, fingerprint, author_token)
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


# Statuses the public thread shows: a deleted comment stands as a tombstone (no author, no text)
# while published replies hang under it, so a thread keeps its shape.
SHOWN = ("approved", "deleted")
REPLIES_SORT = "replies"


def public_view(comment: Any) -> dict[str, Any]:
    """A comment as readers see it (a Comment or a row of its columns)."""
    if comment.status == "deleted":
        return {
            "id": comment.id,
            "parent_id": comment.parent_id,
            "author": {"name": ""},
            "text": "",
            "created_at": comment.created_at,
            "likes": 0,
            "featured": False,
            "edited_at": None,
            "deleted": True,
            "replies": [],
        }
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "author": {"name": comment.author_name},
        "text": comment.text,
        "created_at": comment.created_at,
        "likes": comment.reaction_count,
        "featured": comment.featured_at is not None,
        "edited_at": comment.edited_at,
        "deleted": False,
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
    return [public_view(c) for c in rows]


_REPLY_COLUMNS = (
    Comment.id,
    Comment.parent_id,
    Comment.root_id,
    Comment.status,
    Comment.author_name,
    Comment.text,
    Comment.created_at,
    Comment.edited_at,
    Comment.reaction_count,
    Comment.featured_at,
)


def _first_replies(root_ids: list[int], per_root: int) -> list[sa.Row]:
    """The first `per_root` shown replies of each root, oldest first, each row with `shown` (its
    root's replies, tombstones included) and `published` (its root's approved replies): one query,
    however long the threads."""
    ranked = (
        sa.select(
            *_REPLY_COLUMNS,
            sa.func.row_number().over(partition_by=Comment.root_id, order_by=Comment.id).label("rank"),
            sa.func.count().over(partition_by=Comment.root_id).label("shown"),
            sa.func.sum(sa.case((Comment.status == "approved", 1), else_=0))
            .over(partition_by=Comment.root_id)
            .label("published"),
        )
        .where(Comment.root_id.in_(root_ids), Comment.status.in_(SHOWN))
        .subquery()
    )
    return list(db.session.execute(sa.select(ranked).where(ranked.c.rank <= per_root).order_by(ranked.c.id)))


def _attach(nodes: dict[int, dict[str, Any]], replies, loose: list[dict[str, Any]] | None = None) -> None:
    """Hang replies (in id order) under their parents in `nodes`. A reply whose parent is not
    public (held after reports) is hidden with it; with `loose`, a reply whose parent came on an
    earlier page goes there (it names its parent_id)."""
    for reply in replies:
        node = public_view(reply)
        parent = nodes.get(reply.parent_id)
        if parent is not None:
            parent["replies"].append(node)
        elif loose is not None:
            loose.append(node)
        else:
            continue
        nodes[reply.id] = node


def _prune_tombstones(nodes: dict[int, dict[str, Any]], top: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tombstones with no reply under them go (children before parents: ids grow down a thread)."""
    gone = set()
    for ident in sorted(nodes, reverse=True):
        node = nodes[ident]
        node["replies"] = [r for r in node["replies"] if r["id"] not in gone]
        if node["deleted"] and not node["replies"]:
            gone.add(ident)
    return [n for n in top if n["id"] not in gone]


def list_thread(
    article: ArticleSnapshot | None,
    state: ThreadState | None,
    *,
    sort: str = "newest",
    limit: int = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    """A page of approved top-level comments, newest, oldest or top first, each with its first
    MAX_REPLIES_PER_ROOT replies (oldest first), how many replies it has, and a cursor for the
    rest (list_replies); the first page also lists the article's featured comments."""
    if article is None or state is None:
        return {"article": None, "total": 0, "featured": [], "comments": [], "next_cursor": None}
    query = sa.select(Comment).where(
        Comment.article_id == article.id, Comment.status == "approved", Comment.depth == 0
    )
    roots = list(db.session.execute(_page_order(query, sort, cursor).limit(limit + 1)).scalars())
    has_more = len(roots) > limit
    roots = roots[:limit]
    last = roots[-1] if has_more else None
    if sort != "top":  # deleted roots stand where their ids put them; a top page has no such place
        after = decode_id_cursor(cursor, sort) if cursor else None
        roots = _with_tombstones(article.id, roots, sort, after, last.id if last else None)

    nodes = {c.id: public_view(c) for c in roots}
    if roots:
        replies = _first_replies(list(nodes), MAX_REPLIES_PER_ROOT)
        _attach(nodes, replies)
        counts = {r.root_id: r for r in replies}
        for root in roots:
            node = nodes[root.id]
            count = counts.get(root.id)
            node["reply_count"] = int(count.published) if count else 0
            shown = [r.id for r in replies if r.root_id == root.id]
            more = count is not None and count.shown > len(shown)
            node["more_replies"] = encode_cursor([shown[-1]], REPLIES_SORT) if more else None
    shown_roots = _prune_tombstones(nodes, [nodes[c.id] for c in roots])
    return {
        "article": {
            "id": article.external_id,
            "title": article.title,
            "url": article.url,
            "closed": article.closed,
        },
        "total": state.approved_count,
        "featured": [] if cursor else _featured(article),
        "comments": shown_roots,
        "next_cursor": _next_cursor(last, sort) if last is not None else None,
    }


def _next_cursor(last: Comment, sort: str) -> str:
    return encode_cursor([last.reaction_count, last.id] if sort == "top" else [last.id], sort)


def _with_tombstones(
    article_id: int, roots: list[Comment], sort: str, after: int | None, last: int | None
) -> list[Comment]:
    """The page's published roots with the deleted roots between them that still have published
    replies (a separate lookup, so that the page itself reads published roots only)."""
    reply = aliased(Comment)
    query = sa.select(Comment).where(
        Comment.article_id == article_id,
        Comment.status == "deleted",
        Comment.depth == 0,
        sa.exists().where(reply.root_id == Comment.id, reply.status == "approved"),
    )
    low, high = (last, after) if sort == "newest" else (after, last)
    if low is not None:
        query = query.where(Comment.id > low)
    if high is not None:
        query = query.where(Comment.id < high)
    tombstones = list(db.session.execute(query.limit(MAX_TOMBSTONES_PER_PAGE)).scalars())
    if not tombstones:
        return roots
    return sorted([*roots, *tombstones], key=lambda c: c.id, reverse=sort == "newest")


def list_replies(
    article: ArticleSnapshot, root_id: int, *, limit: int = 100, cursor: str | None = None
) -> dict[str, Any]:
    """The next shown replies of one top-level comment, oldest first, after `cursor`: a reply whose
    parent is on this page hangs under it, the others (their parents came before) are listed at
    the top with their parent_id."""
    root = db.session.get(Comment, root_id)
    if root is None or root.article_id != article.id or root.depth != 0 or root.status not in SHOWN:
        raise NotFound("no published comment with this id")
    after = decode_id_cursor(cursor, REPLIES_SORT) if cursor else 0
    parent = aliased(Comment)
    rows = list(
        db.session.execute(
            sa.select(*_REPLY_COLUMNS)
            .join(parent, parent.id == Comment.parent_id)
            .where(
                Comment.root_id == root_id,
                Comment.status.in_(SHOWN),
                Comment.id > after,
                parent.status.in_(SHOWN),
            )
            .order_by(Comment.id)
            .limit(limit + 1)
        )
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    nodes: dict[int, dict[str, Any]] = {}
    loose: list[dict[str, Any]] = []
    _attach(nodes, rows, loose)
    return {
        "root_id": root_id,
        "replies": _prune_tombstones(nodes, loose),
        "next_cursor": encode_cursor([rows[-1].id], REPLIES_SORT) if has_more else None,
    }


def personal_etag(etag: str, own: list[Comment]) -> str:
    """The public page's ETag with the sender's own comments awaiting review (their versions)."""
    mine = ",".join(f"{c.id}.{c.version}" for c in own)
    return hashlib.sha256(f"{etag}|{mine}".encode()).hexdigest()[:32]


def article_of_comment(site_id: int, comment_id: int) -> str | None:
    """The public id of the article a comment of this site is on."""
    return db.session.execute(
        sa.select(Article.external_id)
        .join(Comment, Comment.article_id == Article.id)
        .where(Comment.id == comment_id, Comment.site_id == site_id)
    ).scalar_one_or_none()


def replies_etag(article: ArticleSnapshot, state: ThreadState, root_id: int, query: dict[str, Any]) -> str:
    return thread_etag(article, state, {"sort": f"replies:{root_id}", **query})


def get_public_comment(site_id: int, comment_id: int) -> dict[str, Any]:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.site_id != site_id or comment.status != "approved":
        raise NotFound("no approved comment with this id")
    return public_view(comment)


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
