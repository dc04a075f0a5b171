"""The spam checks of a new comment: the pure rules of this package, fed from the database.

One read per comment, index lookups side by side in one statement: the verified poster's author
row (standing and record, which posting needs anyway), the poster's recent comments (velocity)
and the comments sharing a SimHash band with the text (duplicates). Each round trip costs a
posting request about as much as the lookups themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from ..db import Author, Comment
from ..errors import TooManyRequests
from ..extensions import db
from ..moderation.policy import Policy, Reason
from ..transitions import record_transition
from .bots import judge_honeypot, judge_render_token
from .duplicates import DuplicateCopy, bands, duplicate_hash, hamming, judge_duplicates
from .links import find_links, judge_links, without_allowed_links
from .velocity import VelocityLimits, judge_velocity

# Reasons of the spam rules; the blocked-domain one rejects (the site listed the domain), the
# others hold. A comment with any of them (or a spam label over its threshold) is flagged spam.
REJECT_CODES = frozenset({"link_blocked_domain"})
HOLD_CODES = frozenset(
    {
        "link_shortener",
        "link_from_new_reader",
        "duplicate",
        "velocity",
        "bot_honeypot",
        "bot_too_fast",
        "bot_token_invalid",
        "bot_token_expired",
    }
)
SPAM_CODES = REJECT_CODES | HOLD_CODES
# What the rules found about the poster rather than the text: an edit keeps them.
POSTER_CODES = frozenset(
    {"velocity", "bot_honeypot", "bot_too_fast", "bot_token_invalid", "bot_token_expired"}
)
# One reader thanking two articles the same way, or two readers agreeing in the same words, is
# not a wave; three copies are.
DUPLICATE_MIN_ARTICLES = 3
DUPLICATE_MIN_AUTHORS = 3
# Candidate copies read per comment: a wave of the same text needs only a few to be caught.
MAX_COPIES = 50


@dataclass
class SpamFindings:
    holds: list[Reason] = field(default_factory=list)
    rejects: list[Reason] = field(default_factory=list)
    # The comment's text fingerprint columns (text_hash, text_band0..3).
    fingerprint: dict[str, int | None] = field(default_factory=dict)
    # What the scorer should read: the text without links to allowed domains or the site's own
    # pages (the toxicity model ignores links; the spam model would count them against it).
    scoring_text: str = ""
    # The verified poster's author row (standing_of reads it), None for anyone else or a first
    # comment; and the poster as the rules saw them.
    author: sa.Row | None = None
    poster: Poster | None = None


@dataclass(frozen=True)
class Poster:
    """Who posts, as the spam rules see them."""

    author_key: str | None  # a verified reader's key, else None
    network: str | None  # keyed hash of the network
    approved: int = 0  # the verified reader's approved comments on the site

    @property
    def anonymous(self) -> bool:
        return self.author_key is None

    def known(self, policy: Policy) -> bool:
        """A verified reader with enough approved comments not to count as new."""
        return not self.anonymous and self.approved >= policy.new_reader_approved


def fingerprint(text: str) -> dict[str, int | None]:
    """The text's SimHash (signed, as BIGINT holds it) and bands; NULLs for a text too short to compare."""
    value = duplicate_hash(text)
    if value is None:
        return {"text_hash": None, **{f"text_band{i}": None for i in range(4)}}
    return {"text_hash": value, **{f"text_band{i}": band for i, band in enumerate(bands(value))}}


def check_comment(
    site_id: int,
    policy: Policy,
    *,
    text: str,
    article_id: str,
    article_pk: int,
    reader_key: str | None,
    network: str | None,
    own_origins: tuple[str, ...] = (),
    render_token: str | None,
    honeypot: str | None,
    render_secret: bytes,
    now: datetime,
    connection: sa.Connection | None = None,
    velocity: bool = True,
) -> SpamFindings:
    """Every spam rule on a new comment, after one read (see the module). Velocity past the limit
    with the `throttle` action raises TooManyRequests (nothing is stored). `article_id` is the
    article's public id (render tokens name it), `article_pk` its row id (copies are told apart
    by it); `reader_key` a verified reader's key, `network` the keyed hash of the network.
    `velocity` False: an edit, which posts nothing new."""
    links = find_links(text)
    allowed = allowed_domains(policy, own_origins)
    found = SpamFindings(fingerprint=fingerprint(text), scoring_text=_scoring_text(text, links, allowed))
    author, recent, copies = _read(
        connection or db.session.connection(), site_id, policy, reader_key, network, found.fingerprint, now
    )
    poster = Poster(reader_key, network, author.approved_count if author else 0)
    found.author, found.poster = author, poster
    new_reader = not poster.known(policy)
    for reason in judge_links(
        links,
        allowed_domains=allowed,
        blocked_domains=policy.blocked_domains,
        reader_is_new=new_reader,
        anonymous=poster.anonymous,
    ):
        (found.rejects if reason.code in REJECT_CODES else found.holds).append(reason)

    if policy.bot_checks:
        for reason in (
            judge_honeypot(honeypot),
            judge_render_token(
                render_token,
                render_secret,
                site_id,
                article_id,
                now.timestamp(),
                min_seconds=policy.bot_min_seconds,
            ),
        ):
            if reason is not None:
                found.holds.append(reason)

    if velocity:
        found.holds.extend(_velocity(policy, recent, now))
    if copies is not None:
        duplicate = judge_duplicates(
            copies,
            article_id=str(article_pk),
            author_key=poster.author_key or poster.network or "",
            window=timedelta(minutes=policy.duplicate_window_minutes),
            now=now,
            min_articles=DUPLICATE_MIN_ARTICLES,
            min_authors=DUPLICATE_MIN_AUTHORS,
        )
        if duplicate is not None:
            found.holds.append(duplicate)
    return found


def allowed_domains(policy: Policy, own_origins: tuple[str, ...]) -> tuple[str, ...]:
    """The domains links may point to: the policy's list and the site's own pages."""
    return (*policy.allowed_domains, *(h for h in (urlsplit(o).hostname for o in own_origins) if h))


def _scoring_text(text: str, links: list, allowed: tuple[str, ...]) -> str:
    return without_allowed_links(text, links, allowed) if links else text


def scoring_text(text: str, policy: Policy, own_origins: tuple[str, ...]) -> str:
    """What the scorer reads of a comment: the text without links the site allows (the toxicity
    model ignores links; the spam model would count them against it). Posting and late scoring
    both score this."""
    return _scoring_text(text, find_links(text), allowed_domains(policy, own_origins))


def _velocity(policy: Policy, times: list[datetime], now: datetime) -> list[Reason]:
    """`times`: the poster's comments of the last hour, newest first (at most the larger limit)."""
    in_minute = [t for t in times if t >= now - timedelta(minutes=1)]
    verdict = judge_velocity(
        len(in_minute),
        len(times),
        VelocityLimits(policy.velocity_per_minute, policy.velocity_per_hour),
        policy.velocity_action,
        now=now,
        oldest_in_minute=min(in_minute[: policy.velocity_per_minute], default=None),
        oldest_in_hour=min(times[: policy.velocity_per_hour], default=None),
    )
    if verdict.outcome == "throttle":
        raise TooManyRequests(
            "this reader (or network) is posting too fast; try again later",
            verdict.retry_after or 60,
            reasons=[r.to_dict() for r in verdict.reasons],
        )
    return list(verdict.reasons)


def _read(
    connection: sa.Connection,
    site_id: int,
    policy: Policy,
    reader_key: str | None,
    network: str | None,
    print_: dict[str, int | None],
    now: datetime,
) -> tuple[sa.Row | None, list[datetime], list[DuplicateCopy] | None]:
    """In one round trip: the verified reader's author row, the poster's comments of the last
    hour (velocity: by the verified key, else by the network) and the newest comments sharing a
    band with the text within the duplicate window (None when the text is too short). A copy's
    article is its row id, as a string (judge_duplicates compares them)."""
    compare = print_["text_hash"] is not None and policy.duplicate_window_minutes > 0
    rows = connection.execute(
        _READ[(reader_key is not None, compare)],
        {
            "site": site_id,
            "who": reader_key or network,
            "hour_ago": now - timedelta(hours=1),
            "keep": max(policy.velocity_per_minute, policy.velocity_per_hour),
            "since": now - timedelta(minutes=policy.duplicate_window_minutes),
            "copies": MAX_COPIES,
            **{f"b{i}": print_[f"text_band{i}"] for i in range(4)},
        },
    ).all()
    author = next((row for row in rows if row.kind == "a"), None)
    times = [row.created_at for row in rows if row.kind == "v"]
    if not compare:
        return author, times, None
    copies = {  # a copy sharing several bands comes once per band
        row.id: DuplicateCopy(
            row.id, str(row.article), row.author or "", row.created_at, hamming(row.hash, print_["text_hash"])
        )
        for row in rows
        if row.kind == "d" and row.hash is not None
    }
    return author, times, list(copies.values())


# The author row's columns (what standing_of and the link rules read); the other branches leave
# them NULL, as the author branch leaves the comment columns.
_AUTHOR_COLUMNS = (
    "standing",
    "suspended_until",
    "approved_count",
    "rejected_count",
    "held_count",
    "last_rejected_at",
)


def _read_statement(verified: bool, compare: bool) -> sa.Select | sa.CompoundSelect:
    """Built once per shape (and compiled once by SQLAlchemy's cache): for a `verified` reader
    their author row and their last hour by author key (else the network's last hour), and with
    `compare` the band candidates. Index lookups side by side and nothing else: a join and a
    UNION over them took twice the planning, and this runs on every POST."""
    c, a = Comment.__table__.c, Author.__table__.c
    comment_columns = {
        "id": sa.BigInteger,
        "article": sa.Integer,
        "author": sa.String,
        "created_at": c.created_at.type,
        "hash": sa.BigInteger,
    }
    columns = {**comment_columns, **{name: a[name].type for name in _AUTHOR_COLUMNS}}

    def branch(kind: str, table: sa.Table, given: dict[str, Any], where: list, order=None, limit=None):
        # Every branch names every column (NULL where it has none); each in a subquery of its
        # own: SQLite takes no LIMIT on a compound's member.
        inner = sa.select(
            sa.literal(kind).label("kind"),
            *(
                given[name].label(name) if name in given else sa.cast(sa.null(), type_).label(name)
                for name, type_ in columns.items()
            ),
        ).where(table.c.site_id == sa.bindparam("site"), *where)
        if order is not None:
            inner = inner.order_by(order).limit(sa.bindparam(limit))
        return sa.select(inner.subquery())

    velocity_column = "author_key" if verified else "network_key"
    branches = []
    if verified:
        branches.append(
            branch(
                "a",
                Author.__table__,
                {name: a[name] for name in _AUTHOR_COLUMNS},
                [a.author_key == sa.bindparam("who")],
            )
        )
    branches.append(
        branch(
            "v",
            Comment.__table__,
            {"created_at": c.created_at},
            [
                c[velocity_column] == sa.bindparam("who"),
                c.created_at >= sa.bindparam("hour_ago"),
                # Anonymous posting counts by network: the others' comments count by their keys
                # (and the network index holds anonymous comments only).
                *([] if verified else [c.author_key.is_(None)]),
            ],
            c.created_at.desc(),
            "keep",
        )
    )
    # One branch per band, each the newest copies from its own (site_id, band, created_at) index:
    # an OR of the four let the planner scan the whole window by time instead, and without the
    # ORDER BY a table never analysed yet (a new deployment's first minute) ties every index that
    # starts with site_id, and the planner took one that filters all of the site's comments.
    for i in range(4) if compare else ():
        branches.append(
            branch(
                "d",
                Comment.__table__,
                {
                    "id": c.id,
                    "article": c.article_id,
                    "author": sa.func.coalesce(c.author_key, c.network_key),
                    "created_at": c.created_at,
                    "hash": c.text_hash,
                },
                [
                    c[f"text_band{i}"] == sa.bindparam(f"b{i}"),
                    c.created_at >= sa.bindparam("since"),
                    c.status != "deleted",
                ],
                c.created_at.desc(),
                "copies",
            )
        )
    return sa.union_all(*branches) if len(branches) > 1 else branches[0]


_READ = {
    (verified, compare): _read_statement(verified, compare)
    for verified in (False, True)
    for compare in (False, True)
}


def hold_published_copies(reasons: list[dict[str, Any]], comment_id: int) -> None:
    """A wave found by its latest copy: the earlier copies still published go back to the queue too,
    each naming the others (in the caller's transaction)."""
    found = next((r for r in reasons if r.get("code") == "duplicate"), None)
    if not found or not found.get("copies"):
        return
    copies, scope = found["copies"], found.get("scope")
    # Copies another post of the wave (on another process) is holding right now are its to hold:
    # skipped, not waited for and then updated a second time (its version would not match).
    for copy in db.session.execute(
        sa.select(Comment)
        .where(Comment.id.in_(copies), Comment.status == "approved")
        .with_for_update(skip_locked=True)
    ).scalars():
        others = [c for c in copies if c != copy.id] + [comment_id]
        reason = {"code": "duplicate", "copies": sorted(others), "count": len(others), "scope": scope}
        copy.spam = True
        record_transition(copy, copy.article, "held", reason="duplicate", reasons=[*copy.reasons, reason])


def is_spam(reasons: list[dict[str, Any]]) -> bool:
    """Whether a spam rule or the spam label raised one of a decision's reasons."""
    return any(r.get("code") in SPAM_CODES or r.get("label") == "spam" for r in reasons)
