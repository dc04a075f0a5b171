"""How much a reader's report counts towards sending a comment back to the queue. Pure.

A report counts once per verified reader, and once per network for anonymous readers (the API
makes the reporter's key so). Its weight then follows who sent it:
- a verified reader counts 1, a trusted one 1.5; an anonymous network counts ANONYMOUS_WEIGHT;
- banned or suspended readers count nothing;
- a reporter whose reports moderators keep dismissing counts less: the weight is multiplied by
  (1 + upheld) / (1 + upheld + dismissed), so ten dismissed reports and none upheld leave 1/11;
- past the flood limit (reports from one network in the last hour, across the site) a report
  counts nothing; it is still kept, so moderators see the flood.
"""

from __future__ import annotations

from dataclasses import dataclass

from .policy import AuthorStanding

ANONYMOUS_WEIGHT = 0.5
TRUSTED_WEIGHT = 1.5


@dataclass(frozen=True)
class ReporterRecord:
    upheld: int = 0
    dismissed: int = 0


def report_weight(
    *, verified: bool, standing: AuthorStanding, record: ReporterRecord, flooded: bool
) -> float:
    if flooded or standing in ("banned", "suspended"):
        return 0.0
    base = ANONYMOUS_WEIGHT if not verified else TRUSTED_WEIGHT if standing == "trusted" else 1.0
    trust_in_record = (1 + record.upheld) / (1 + record.upheld + record.dismissed)
    return round(base * trust_in_record, 4)
