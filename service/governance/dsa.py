"""The DSA's rules as plain values: what a notice may claim, what a decision on it means, and how a
restriction becomes a statement of reasons (Art. 17) and a DSA Transparency Database record.

Field names and allowed values follow the Transparency Database's statement API (schema v2, in
force since July 2025); schema/statement_of_reasons.schema.json checks the export against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The Transparency Database's statement categories (API v2): the legal grounds a notice names,
# and every statement's category.
CATEGORIES: dict[str, str] = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": "Animal welfare",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION": "Consumer information infringements",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": "Cyber violence",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN": "Cyber violence against women",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS": "Data protection and privacy violations",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": "Illegal or harmful speech",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": "Intellectual property infringements",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS": (
        "Negative effects on civic discourse or elections"
    ),
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE": (
        "Type of alleged illegal content not specified by the notifier"
    ),
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC": "Other violation of the site's terms and conditions",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": "Protection of minors",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY": "Risk for public security",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": "Scams and/or fraud",
    "STATEMENT_CATEGORY_SELF_HARM": "Self-harm",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS": "Unsafe, non-compliant or prohibited products",
    "STATEMENT_CATEGORY_VIOLENCE": "Violence",
}
# A notice says the content is illegal: "breaks the site's rules only" is not a notice's category.
NOTICE_CATEGORIES = tuple(c for c in CATEGORIES if c != "STATEMENT_CATEGORY_OTHER_VIOLATION_TC")
SITE_RULES_CATEGORY = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"

# A moderator's answer to a notice.
NOTICE_DECISIONS = ("illegal", "not_illegal", "site_rules")
NOTICE_STATUSES = ("open", "decided")

# What a statement restricts, and on which ground (Art. 17(3)(d) and (e)).
# held: a comment kept from publication for review longer than the site's set time.
RESTRICTIONS = ("rejected", "deleted", "banned", "suspended", "held")
GROUNDS = ("illegal", "site_rules")
# Whether and how automated means took the decision (Art. 17(3)(c)).
AUTOMATED_DECISIONS = ("fully", "partially", "not_automated")
SOURCES = ("notice", "voluntary")

# Reason codes the service's own checks raise (the model, the word lists, the spam rules):
# a comment they flagged was detected by automated means, whoever decided it.
_HUMAN_REASON_CODES = {"reported", "premoderation", "scoring_pending"}

# The model's labels and the site's usual rejection reasons, as Transparency Database categories.
_LABEL_CATEGORIES = {
    "threat": "STATEMENT_CATEGORY_VIOLENCE",
    "identity_attack": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "insult": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "toxicity": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "severe_toxicity": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "obscene": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "spam": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
}
_REASON_CATEGORIES = {
    "abuse": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "hate": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "threat": "STATEMENT_CATEGORY_VIOLENCE",
    "personal-data": "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "spam": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
}
_SPAM_CODES = {"links", "blocked_domain", "duplicate", "velocity", "bot", "honeypot", "too_fast"}

REDRESS = (
    "You may ask the site to review this decision by replying to the site's message or through "
    "its appeal process, within six months (DSA Art. 20). You may also turn to a certified "
    "out-of-court dispute settlement body (Art. 21) or to a court."
)


@dataclass(frozen=True)
class Restriction:
    """What happened, as the trail recorded it: a comment's transition or an author's standing."""

    restriction: str  # one of RESTRICTIONS
    actor: str  # "system" or "key:<id>" (a person)
    reason: str = ""  # the moderator's reason (a site rule), or the system's
    reasons: tuple[dict[str, Any], ...] = ()  # the comment's reason codes when decided
    model_version: str | None = None
    until: datetime | None = None  # a suspension's end


@dataclass(frozen=True)
class NoticeFacts:
    """A notice behind a decision (never its reporter's name or e-mail)."""

    id: int
    category: str
    decision: str  # one of NOTICE_DECISIONS
    legal_ground: str = ""
    explanation: str = ""


@dataclass(frozen=True)
class StatementFacts:
    """What a statement says, before it is stored: every Art. 17(3) element."""

    restriction: str
    ground: str
    category: str
    ground_reference: str  # the law (illegal) or the site's rule (site_rules)
    explanation: str
    facts: str
    automated_detection: bool
    automated_decision: str
    source: str
    end_date: datetime | None = None
    notice_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def automated_detection(reasons: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> bool:
    """Whether the model, the word lists or the spam rules flagged the content."""
    return any(r.get("code") not in _HUMAN_REASON_CODES for r in reasons or ())


def category_for(reason: str, reasons: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> str:
    """The category of a restriction on the site's own rules: from the moderator's reason when it
    names one, else from what the automated checks found, else a breach of the site's terms."""
    if reason in _REASON_CATEGORIES:
        return _REASON_CATEGORIES[reason]
    for found in reasons or ():
        code = found.get("code", "")
        if code.startswith("label_above") and found.get("label") in _LABEL_CATEGORIES:
            return _LABEL_CATEGORIES[found["label"]]
        if code in _SPAM_CODES:
            return "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
    return SITE_RULES_CATEGORY


def _describe(reasons: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> list[str]:
    """The reason codes in words, without the comment's text or anyone's data."""
    said = []
    for found in reasons or ():
        code = found.get("code", "")
        if code.startswith("label_above"):
            said.append(
                f"the classifier scored {found.get('label')} at {found.get('score')}"
                f" (the site's limit: {found.get('threshold')})"
            )
        elif code in ("banned_word", "suspect_word"):
            said.append(f"a word on the site's {code.split('_')[0]} list")
        elif code == "reported":
            said.append(f"readers' reports (weight {found.get('score')})")
        elif code.startswith("author_"):
            said.append(f"the author is {code.removeprefix('author_')} on this site")
        elif code:
            said.append(f"the {code.replace('_', ' ')} rule")
    return said


def statement_for(restriction: Restriction, notice: NoticeFacts | None = None) -> StatementFacts:
    """The statement of reasons of one restriction (Art. 17(3)): decision, facts, ground, use of
    automated means, and (at display time) redress."""
    automated = restriction.actor == "system"
    detected = automated_detection(restriction.reasons)
    found = _describe(restriction.reasons)
    verb = {
        "rejected": "The comment was not published (or was withdrawn from publication)",
        "deleted": "The comment was removed, its text and the author's details erased",
        "banned": "The account may no longer comment on this site",
        "suspended": "The account may not comment on this site until the date given",
        "held": "The comment is not published yet: it has waited for a moderator's review longer than"
        f" the site's set time ({restriction.reason})",
    }[restriction.restriction]
    if notice is not None:
        illegal = notice.decision == "illegal"
        ground = "illegal" if illegal else "site_rules"
        category = notice.category if illegal else category_for(restriction.reason, restriction.reasons)
        reference = notice.legal_ground if illegal else (restriction.reason or "the site's comment rules")
        facts = (
            f"{verb} after a notice of illegal content (notice {notice.id}) was assessed by a "
            f"moderator, who found the content "
            + ("illegal." if illegal else "in breach of the site's rules.")
        )
        return StatementFacts(
            restriction=restriction.restriction,
            ground=ground,
            category=category,
            ground_reference=reference or "the law named in the notice",
            explanation=notice.explanation or CATEGORIES[category],
            facts=facts,
            automated_detection=False,
            automated_decision="not_automated",
            source="notice",
            end_date=restriction.until,
            notice_id=notice.id,
        )
    category = category_for(restriction.reason, restriction.reasons)
    who = "automatically, by the site's policy" if automated else "by a moderator"
    facts = f"{verb}, decided {who}."
    if found:
        facts += " What was found: " + "; ".join(found) + "."
    if restriction.model_version and detected:
        facts += f" Classifier version: {restriction.model_version}."
    reference = restriction.reason if restriction.reason and not automated else "the site's comment policy"
    if restriction.restriction == "held":
        reference = "the site's comment policy (review before publication)"
    return StatementFacts(
        restriction=restriction.restriction,
        ground="site_rules",
        category=category,
        ground_reference=reference,
        explanation=f"The content is incompatible with the site's rules ({CATEGORIES[category].lower()}).",
        facts=facts,
        automated_detection=detected,
        # A moderator deciding what the model flagged is a human decision helped by automated
        # means; the Transparency Database calls that partially automated.
        automated_decision="fully" if automated else ("partially" if detected else "not_automated"),
        source="voluntary",
        end_date=restriction.until,
    )


def notice_restricts(decision: str, restrict: bool | None) -> bool:
    """Illegal content is always restricted; the other answers restrict only when the moderator says."""
    return True if decision == "illegal" else bool(restrict)


# --- the DSA Transparency Database record -----------------------------------------------------

_TDB_AUTOMATED = {
    "fully": "AUTOMATED_DECISION_FULLY",
    "partially": "AUTOMATED_DECISION_PARTIALLY",
    "not_automated": "AUTOMATED_DECISION_NOT_AUTOMATED",
}


def _day(value: datetime) -> str:
    return value.date().isoformat()


def transparency_record(
    *,
    puid: str,
    restriction: str,
    ground: str,
    category: str,
    ground_reference: str,
    explanation: str,
    facts: str,
    automated_detection: bool,
    automated_decision: str,
    source: str,
    content_date: datetime,
    application_date: datetime,
    end_date: datetime | None,
    territorial_scope: list[str],
    content_language: str | None = None,
    ground_reference_url: str | None = None,
) -> dict[str, Any]:
    """One statement as the Transparency Database's API takes it. It carries no personal data
    (Art. 24(5)): the facts are written from reason codes, never from the comment or a name."""
    record: dict[str, Any] = {
        "puid": puid,
        "decision_ground": (
            "DECISION_GROUND_ILLEGAL_CONTENT"
            if ground == "illegal"
            else "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        ),
        "category": category,
        "content_type": ["CONTENT_TYPE_TEXT"],
        "decision_facts": facts[:5000],
        "source_type": "SOURCE_ARTICLE_16" if source == "notice" else "SOURCE_VOLUNTARY",
        "automated_detection": "Yes" if automated_detection else "No",
        "automated_decision": _TDB_AUTOMATED[automated_decision],
        "content_date": _day(content_date),
        "application_date": _day(application_date),
        "territorial_scope": sorted(territorial_scope),
    }
    if restriction == "held":
        record["decision_visibility"] = ["DECISION_VISIBILITY_OTHER"]
        record["decision_visibility_other"] = "Publication withheld pending a moderator's review"
        record["end_date_visibility_restriction"] = None
    elif restriction in ("rejected", "deleted"):
        record["decision_visibility"] = [
            "DECISION_VISIBILITY_CONTENT_REMOVED"
            if restriction == "deleted"
            else "DECISION_VISIBILITY_CONTENT_DISABLED"
        ]
        record["end_date_visibility_restriction"] = None
    else:
        record["decision_account"] = (
            "DECISION_ACCOUNT_SUSPENDED" if restriction == "suspended" else "DECISION_ACCOUNT_TERMINATED"
        )
        record["account_type"] = "ACCOUNT_TYPE_PRIVATE"
        record["end_date_account_restriction"] = _day(end_date) if end_date else None
    if ground == "illegal":
        record["illegal_content_legal_ground"] = ground_reference[:500]
        record["illegal_content_explanation"] = explanation[:2000]
    else:
        record["incompatible_content_ground"] = ground_reference[:500]
        record["incompatible_content_explanation"] = explanation[:2000]
        record["incompatible_content_illegal"] = "No"
    if content_language and content_language.upper() in EU_LANGUAGES:
        record["content_language"] = content_language.upper()
    if ground_reference_url:
        record["decision_ground_reference_url"] = ground_reference_url
    return record


# The languages the Transparency Database takes in content_language (the EU's official ones).
EU_LANGUAGES = (
    "BG", "CS", "DA", "DE", "EL", "EN", "ES", "ET", "FI", "FR", "GA", "HR", "HU", "IT", "LT", "LV",
    "MT", "NL", "PL", "PT", "RO", "SK", "SL", "SV",
)  # fmt: skip
# EU and EEA countries, for territorial_scope.
EEA_COUNTRIES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip
EU_COUNTRIES = tuple(c for c in EEA_COUNTRIES if c not in ("IS", "LI", "NO"))
