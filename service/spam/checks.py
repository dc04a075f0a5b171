"""The spam checks of a new comment: the pure rules of this package, fed from the database.

Two reads at most per comment, both on indexes: the poster's recent comments (velocity) and the
comments sharing a SimHash band with the text (duplicates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from ..db import Article, Comment
from ..errors import TooManyRequests
from ..extensions import db
from ..moderation.policy import Policy, Reason
from ..transitions import record_transition
from .bots import judge_honeypot, judge_render_token
from .duplicates import DuplicateCopy, bands, duplicate_hash, hamming, judge_duplicates
from .links import find_links, judge_links
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


@dataclass(frozen=True)
class Poster:
    """Who posts, as the spam rules see them."""

    author_key: str | None  # a verified reader's key, else None
    network: str | None  # keyed hash of the network
    approved: int = 0  # the verified reader's approved comments on the site

    @property
    def anonymous(self) -> bool:
        return self.author_key is None

    @property
    def velocity_key(self) -> tuple[Any, str | None]:
        return (
            (Comment.author_key, self.author_key) if self.author_key else (Comment.network_key, self.network)
        )


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
    poster: Poster,
    own_origins: tuple[str, ...] = (),
    render_token: str | None,
    honeypot: str | None,
    render_secret: bytes,
    now: datetime,
) -> SpamFindings:
    """Every spam rule on a new comment. Velocity past the limit with the `throttle` action
    raises TooManyRequests (nothing is stored)."""
    found = SpamFindings(fingerprint=fingerprint(text))
    new_reader = poster.anonymous or poster.approved < policy.new_reader_approved
    for reason in judge_links(
        find_links(text),
        # Links to the site's own pages always pass.
        allowed_domains=(*policy.allowed_domains, *_hosts(own_origins)),
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

    found.holds.extend(_velocity(site_id, policy, poster, now))
    if found.fingerprint["text_hash"] is not None and policy.duplicate_window_minutes > 0:
        duplicate = _duplicates(site_id, policy, found.fingerprint, article_id, poster, now)
        if duplicate is not None:
            found.holds.append(duplicate)
    return found


def _hosts(origins: tuple[str, ...]) -> list[str]:
    return [host for host in (urlsplit(origin).hostname for origin in origins) if host]


def _velocity(site_id: int, policy: Policy, poster: Poster, now: datetime) -> list[Reason]:
    column, who = poster.velocity_key
    if who is None:
        return []
    limits = VelocityLimits(policy.velocity_per_minute, policy.velocity_per_hour)
    keep = max(policy.velocity_per_minute, policy.velocity_per_hour)
    times = list(
        db.session.execute(
            sa.select(Comment.created_at)
            .where(Comment.site_id == site_id, column == who, Comment.created_at >= now - timedelta(hours=1))
            .order_by(Comment.created_at.desc())
            .limit(keep)
        ).scalars()
    )
    in_minute = [t for t in times if t >= now - timedelta(minutes=1)]
    verdict = judge_velocity(
        len(in_minute),
        len(times),
        limits,
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


def _duplicates(
    site_id: int,
    policy: Policy,
    print_: dict[str, int | None],
    article_id: str,
    poster: Poster,
    now: datetime,
) -> Reason | None:
    window = timedelta(minutes=policy.duplicate_window_minutes)
    band_match = sa.or_(*(getattr(Comment, f"text_band{i}") == print_[f"text_band{i}"] for i in range(4)))
    rows = db.session.execute(
        sa.select(
            Comment.id,
            Article.external_id,
            sa.func.coalesce(Comment.author_key, Comment.network_key),
            Comment.created_at,
            Comment.text_hash,
        )
        .join(Article, Article.id == Comment.article_id)
        .where(
            Comment.site_id == site_id,
            band_match,
            Comment.created_at >= now - window,
            Comment.status != "deleted",
        )
        .order_by(Comment.id.desc())
        .limit(MAX_COPIES)
    ).all()
    copies = [
        DuplicateCopy(row[0], row[1], row[2] or "", row[3], hamming(row[4], print_["text_hash"]))
        for row in rows
        if row[4] is not None
    ]
    return judge_duplicates(
        copies,
        article_id=article_id,
        author_key=poster.author_key or poster.network or "",
        window=window,
        now=now,
        min_articles=DUPLICATE_MIN_ARTICLES,
        min_authors=DUPLICATE_MIN_AUTHORS,
    )


def hold_published_copies(reasons: list[dict[str, Any]], comment_id: int) -> None:
    """A wave found by its latest copy: the earlier copies still published go back to the queue too,
    each naming the others (in the caller's transaction)."""
    copies = next((r.get("copies") for r in reasons if r.get("code") == "duplicate"), None)
    if not copies:
        return
    for copy in db.session.execute(
        sa.select(Comment).where(Comment.id.in_(copies), Comment.status == "approved")
    ).scalars():
        others = [c for c in copies if c != copy.id] + [comment_id]
        reason = {"code": "duplicate", "copies": sorted(others), "count": len(others)}
        copy.spam = True
        record_transition(copy, copy.article, "held", reason="duplicate", reasons=[*copy.reasons, reason])


def is_spam(reasons: list[dict[str, Any]]) -> bool:
    """Whether a spam rule or the spam label raised one of a decision's reasons."""
    return any(r.get("code") in SPAM_CODES or r.get("label") == "spam" for r in reasons)
