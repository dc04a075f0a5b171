"""The decision policy: pure functions from (scores, word matches, site policy, author) to a decision."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Literal

from ..scoring.base import LABELS, SPAM_LABEL
from .builtin_words import BUILTIN_BANNED, BUILTIN_SUSPECT
from .wordlists import WordList, WordMatch, tokenize, words_of

Status = Literal["pending", "approved", "held", "rejected"]
AuthorStanding = Literal["regular", "trusted", "suspended", "banned"]
# What readers without a token from the site (anonymous) may do.
AnonymousPosting = Literal["post", "hold", "deny"]
# The labels a policy's thresholds apply to: detoxify's, and the spam score where a model has it.
POLICY_LABELS: tuple[str, ...] = (*LABELS, SPAM_LABEL)
# Most lenient to strictest; a decision only ever moves right as evidence is added.
SEVERITY: dict[str, int] = {"approved": 0, "pending": 1, "held": 2, "rejected": 3}


@dataclass(frozen=True)
class Thresholds:
    """A label's score at or above `hold` holds the comment; at or above `reject` rejects it."""

    hold: float | None = 0.5
    reject: float | None = None


DEFAULT_THRESHOLDS = Thresholds()

# The queues a site may set a time target for (service/queue_targets.py).
TARGET_QUEUES = ("held", "reported")

LIST_FIELDS = ("banned_words", "suspect_words", "rejection_reasons", "allowed_domains", "blocked_domains")


@dataclass(frozen=True)
class Policy:
    thresholds: Mapping[str, Thresholds] = field(
        default_factory=lambda: {label: Thresholds() for label in POLICY_LABELS}
    )
    premoderation: bool = False
    banned_words: tuple[str, ...] = ()
    suspect_words: tuple[str, ...] = ()
    # Also match the service's own English lists (service/moderation/builtin_words.py): slurs
    # reject, strong profanity and abuse hold. A site's lists add to them.
    builtin_word_lists: bool = True
    # The weight of open reports that sends an approved comment back to the queue: a verified
    # reader's report weighs 1, an anonymous network's 0.5 (service/moderation/reports.py).
    report_threshold: float = 3
    # Reports one network may send across the site in an hour before the rest weigh nothing.
    report_flood_per_hour: int = 10
    # Whether trusted authors skip pre-moderation and suspect words (never the banned list).
    trusted_skip_premoderation: bool = True
    # What happens to comments of banned authors: "rejected" or "held".
    banned_author_status: Literal["rejected", "held"] = "rejected"
    rejection_reasons: tuple[str, ...] = ("spam", "abuse", "off-topic", "personal-data", "other")
    # Authors become trusted after this many approved comments with no rejection in `trust_clean_days`.
    trust_after_approved: int = 5
    trust_clean_days: int = 30
    # Readers the site did not vouch for (no reader token): publish as usual, hold every
    # comment for review, or refuse (401).
    anonymous_posting: AnonymousPosting = "post"
    # --- spam (service/spam/) ---
    # A verified reader with fewer approved comments than this is new: their links are held.
    new_reader_approved: int = 3
    # Links to these domains (and their subdomains) pass; blocked ones reject the comment.
    allowed_domains: tuple[str, ...] = ()
    blocked_domains: tuple[str, ...] = ()
    # The same or nearly the same text under other articles or by other authors this recently.
    duplicate_window_minutes: int = 24 * 60
    # Comments per reader (verified id, else network) across the site; past either, `velocity_action`:
    # hold the comment, or throttle (429 with Retry-After, nothing stored).
    velocity_per_minute: int = 5
    velocity_per_hour: int = 30
    velocity_action: Literal["hold", "throttle"] = "hold"
    # Bot checks (honeypot, render token): a failed one holds, never rejects.
    bot_checks: bool = True
    bot_min_seconds: float = 2.0
    # --- author self-service (service/self_service/) ---
    # Minutes after posting in which an author may edit their comment (0: no edits).
    edit_window_minutes: float = 15
    # --- languages (service/languages/) ---
    # Comments in a language the site's model does not cover: hold them for review, publish them
    # as the model scores them, or score them with the multilingual backend (MULTILINGUAL_SCORER;
    # held when none is configured or it does not cover the language either).
    unsupported_language: Literal["hold", "publish", "score"] = "hold"
    # --- queue time targets (service/queue_targets.py) ---
    # Minutes a comment may wait in each queue (held: since it was posted; reported: since its
    # oldest open report) before queue.target_missed is sent; None: no target.
    queue_targets: Mapping[str, float | None] = field(default_factory=lambda: dict.fromkeys(TARGET_QUEUES))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Policy:
        """Build from the JSON stored with a site; missing keys take the defaults."""
        data = dict(data or {})
        thresholds = {label: DEFAULT_THRESHOLDS for label in POLICY_LABELS}
        for label, values in (data.pop("thresholds", None) or {}).items():
            # A value left out takes the default: {"reject": 0.95} still holds at 0.5.
            values = values or {}
            thresholds[label] = Thresholds(
                values.get("hold", DEFAULT_THRESHOLDS.hold), values.get("reject", DEFAULT_THRESHOLDS.reject)
            )
        for key in LIST_FIELDS:
            if key in data:
                data[key] = tuple(data[key])
        if "queue_targets" in data:
            targets = data["queue_targets"] or {}
            data["queue_targets"] = {queue: targets.get(queue) for queue in TARGET_QUEUES}
        known = {f for f in cls.__dataclass_fields__ if f != "thresholds"}
        return cls(thresholds=thresholds, **{k: v for k, v in data.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["thresholds"] = {label: asdict(t) for label, t in self.thresholds.items()}
        for key in LIST_FIELDS:
            data[key] = list(data[key])
        return data


def merge_policy(stored: Mapping[str, Any] | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """A stored policy with changes applied the way PATCH means them: a key left out keeps its
    value; thresholds merge per label and within a label (sending only `reject` keeps `hold`);
    a label set to null goes back to the defaults. Queue targets merge per queue (null: none).
    Lists and plain values are replaced."""
    merged = dict(stored or {})
    for key, value in changes.items():
        if key == "queue_targets":
            merged[key] = {**(merged.get(key) or {}), **(value or {})}
            continue
        if key != "thresholds":
            merged[key] = value
            continue
        thresholds = {label: dict(limits or {}) for label, limits in (merged.get("thresholds") or {}).items()}
        for label, limits in (value or {}).items():
            if limits is None:
                thresholds.pop(label, None)
            else:
                thresholds[label] = {**thresholds.get(label, {}), **limits}
        merged["thresholds"] = thresholds
    return merged


def threshold_errors(stored: Mapping[str, Any], sent: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for each label whose effective `hold` is above its `reject`, naming the
    value the request sent (`thresholds.insult.reject`), or `hold` when it sent both or neither."""
    effective = Policy.from_dict(stored)
    sent_thresholds = sent.get("thresholds") or {}
    errors = []
    for label, limits in effective.thresholds.items():
        if limits.hold is None or limits.reject is None or limits.hold <= limits.reject:
            continue
        given = sent_thresholds.get(label) or {}
        if "reject" in given and "hold" not in given:
            message = f"must not be below this label's hold threshold ({limits.hold})"
            errors.append((f"thresholds.{label}.reject", message))
        else:
            message = f"must not be above this label's reject threshold ({limits.reject})"
            errors.append((f"thresholds.{label}.hold", message))
    return errors


@dataclass(frozen=True)
class Reason:
    """Why a decision was taken; stored with the comment and its moderation event."""

    code: str
    label: str | None = None
    score: float | None = None
    threshold: float | None = None
    word: str | None = None
    matched: str | None = None
    start: int | None = None
    end: int | None = None
    scope: str | None = None
    language: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The stored form. The matched text is left out: offsets into the comment recover it while
        the comment exists, and an erased comment then leaves no fragment in its audit trail."""
        # Not asdict(): it deep-copies field by field, and every POST stores its reasons.
        return {
            name: value
            for name in self.__dataclass_fields__
            if name != "matched" and (value := getattr(self, name)) is not None
        }


@dataclass(frozen=True)
class Decision:
    status: Status
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class CompiledLists:
    """A policy's word lists compiled once, since matching runs on every comment."""

    banned: WordList
    suspect: WordList

    @classmethod
    def from_policy(cls, policy: Policy) -> CompiledLists:
        banned, suspect = policy.banned_words, policy.suspect_words
        if policy.builtin_word_lists:
            banned, suspect = (*banned, *BUILTIN_BANNED), (*suspect, *BUILTIN_SUSPECT)
        return cls(compile_words(banned), compile_words(suspect))


@lru_cache(maxsize=256)
def compile_words(entries: tuple[str, ...]) -> WordList:
    """Sites with the same list (most keep the built-in one) share one compiled copy."""
    return WordList(entries)


def match_words(text: str, lists: CompiledLists) -> tuple[list[WordMatch], list[WordMatch]]:
    """The banned and the suspect words found in a text."""
    if not (lists.banned or lists.suspect):
        return [], []
    words = words_of(text)
    banned_may, suspect_may = lists.banned.may_match(words), lists.suspect.may_match(words)
    if not (banned_may or suspect_may):
        return [], []
    tokens = tokenize(text)
    return (
        lists.banned.find_in(text, tokens) if banned_may else [],
        lists.suspect.find_in(text, tokens) if suspect_may else [],
    )


def _word_reasons(code: str, matches: Sequence[WordMatch]) -> list[Reason]:
    return [Reason(code, word=m.entry, matched=m.matched, start=m.start, end=m.end) for m in matches]


def decide(
    scores: Mapping[str, float] | None,
    policy: Policy,
    *,
    banned: Sequence[WordMatch] = (),
    suspect: Sequence[WordMatch] = (),
    article_premoderated: bool = False,
    author: AuthorStanding = "regular",
    holds: Sequence[Reason] = (),
    rejects: Sequence[Reason] = (),
    exempt_labels: Collection[str] = (),
) -> Decision:
    """Decide a new comment's status. `scores` is None when scoring did not finish in time.
    `holds` and `rejects` are what other rules found (identity, links, duplicates, velocity, bots);
    `exempt_labels` are labels whose thresholds do not apply to this author (spam, for readers
    with a record)."""
    rejected: list[Reason] = [*_word_reasons("banned_word", banned), *rejects]
    held: list[Reason] = list(holds)
    trusted = author == "trusted" and policy.trusted_skip_premoderation

    if author in ("banned", "suspended"):
        reason = Reason(f"author_{author}")
        (rejected if policy.banned_author_status == "rejected" else held).append(reason)

    if scores is not None:
        for label in POLICY_LABELS:
            limits = policy.thresholds.get(label)
            score = scores.get(label) if label not in exempt_labels else None
            if limits is None or score is None:
                continue
            if limits.reject is not None and score >= limits.reject:
                rejected.append(Reason("label_above_reject", label, round(score, 4), limits.reject))
            elif limits.hold is not None and score >= limits.hold:
                held.append(Reason("label_above_hold", label, round(score, 4), limits.hold))

    if not trusted:
        held.extend(_word_reasons("suspect_word", suspect))
        if policy.premoderation:
            held.append(Reason("premoderation", scope="site"))
        if article_premoderated:
            held.append(Reason("premoderation", scope="article"))

    if rejected:
        return Decision("rejected", tuple(rejected + held))
    if scores is None:
        return Decision("pending", (Reason("scoring_pending"), *held))
    if held:
        return Decision("held", tuple(held))
    return Decision("approved")
